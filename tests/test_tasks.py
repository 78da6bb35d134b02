"""Truth-table generators, the name registry and clocked tasks, checked against direct integer arithmetic."""
import numpy as np
import pytest

import btype
from btype import tasks


def bit(value, i):
    return (value >> i) & 1 == 1


def check_inputs(task, n):
    assert task.X_train.shape == (2**n, n) and task.X_train.dtype == bool
    for r in range(2**n):
        assert [bool(v) for v in task.X_train[r]] == [bit(r, i) for i in range(n)]
    # Truth tables use every row for both splits.
    assert np.array_equal(task.X_test, task.X_train) and np.array_equal(task.Y_test, task.Y_train)
    assert task.n_classes is None and task.steps is None and task.description


def check_rows(task, n, expected_outputs):
    check_inputs(task, n)
    for r in range(2**n):
        assert [bool(v) for v in task.Y_train[r]] == expected_outputs(r), (task.name, r)


def operands(r, n):
    return r % 2**n, r // 2**n


@pytest.mark.parametrize("n", range(1, 9))
def test_parity(n):
    check_rows(tasks.parity(n), n, lambda r: [bin(r).count("1") % 2 == 1])
    assert tasks.parity(n).name == f"parity{n}"


@pytest.mark.parametrize("n", range(1, 8))
def test_majority(n):
    check_rows(tasks.majority(n), n, lambda r: [bin(r).count("1") > n / 2])


@pytest.mark.parametrize("k", [1, 2, 3])
def test_multiplexer(k):
    n = k + 2**k
    task = tasks.multiplexer(k)
    assert task.name == f"mux{n}"

    def expected(r):
        address = sum(2**i for i in range(k) if bit(r, i))
        return [bit(r, k + address)]
    check_rows(task, n, expected)


@pytest.mark.parametrize("n", range(1, 5))
def test_adder(n):
    def expected(r):
        a, b = operands(r, n)
        return [bit(a + b, i) for i in range(n + 1)]
    check_rows(tasks.adder(n), 2 * n, expected)


@pytest.mark.parametrize("n", range(1, 5))
def test_multiplier(n):
    def expected(r):
        a, b = operands(r, n)
        return [bit(a * b, i) for i in range(2 * n)]
    check_rows(tasks.multiplier(n), 2 * n, expected)


@pytest.mark.parametrize("n", range(1, 5))
def test_comparator(n):
    def expected(r):
        a, b = operands(r, n)
        return [a < b, a == b, a > b]
    check_rows(tasks.comparator(n), 2 * n, expected)


@pytest.mark.parametrize("n", range(1, 5))
def test_decoder(n):
    check_rows(tasks.decoder(n), n, lambda r: [j == r for j in range(2**n)])


# ---- the General Boolean Function Benchmark Suite's functions, row by row from integers

@pytest.mark.parametrize("n", range(1, 9))
def test_even_parity(n):
    task = tasks.even_parity(n)
    assert task.name == f"epar{n}"
    check_rows(task, n, lambda r: [bin(r).count("1") % 2 == 0])


@pytest.mark.parametrize("n", range(1, 5))
def test_adder_with_carry_in(n):
    def expected(r):
        a, b, carry = r % 2**n, (r >> n) % 2**n, r >> (2 * n)
        return [bit(a + b + carry, i) for i in range(n + 1)]
    task = tasks.adder_carry(n)
    assert task.name == f"addc{n}" and task.n_outputs == n + 1
    check_rows(task, 2 * n + 1, expected)


@pytest.mark.parametrize("n", range(2, 7))
def test_identity_comparator(n):
    def expected(r):
        out = []
        for j in range(n - 1):
            for i in range(j + 1, n):
                x, y = (r >> j) & 1, (r >> i) & 1
                out += [x < y, x == y, x > y]
        return out
    task = tasks.identity_comparator(n)
    assert task.name == f"icomp{n}" and task.n_outputs == 3 * n * (n - 1) // 2
    check_rows(task, n, expected)


@pytest.mark.parametrize("n", range(1, 10))
def test_count_ones(n):
    width = len(bin(n)) - 2
    task = tasks.count_ones(n)
    assert task.name == f"ones{n}" and task.n_outputs == width
    check_rows(task, n, lambda r: [bit(bin(r).count("1"), i) for i in range(width)])


@pytest.mark.parametrize("n", range(1, 5))
def test_alu(n):
    def expected(r):
        sel, a, b = r % 8, (r >> 3) % 2**n, (r >> (3 + n)) % 2**n
        if sel == 0:
            carry, out = 0, a & b
        elif sel == 1:
            carry, out = 0, a | b
        elif sel == 2:
            carry, out = 0, a ^ b
        elif sel == 3:
            carry, out = (a + b) >> n, (a + b) % 2**n
        else:  # a - b in n+1 bits: the top bit is the borrow
            carry, out = int(a < b), (a - b) % 2**n
        return [bool(carry)] + [bit(out, i) for i in range(n)]
    task = tasks.alu(n)
    assert task.name == f"alu{n}" and task.n_inputs == 2 * n + 3 and task.n_outputs == n + 1
    check_rows(task, 2 * n + 3, expected)


def test_suite_sizes_match_its_table():
    # (name, inputs, outputs) as the suite's benchmark table lists them (its alu3/alu4 files
    # add a constant output).
    for name, n_in, n_out in [("addc4", 9, 5), ("addc8", 17, 9), ("alu8", 19, 9), ("alu6", 15, 7),
                              ("epar8", 8, 1), ("icomp6", 6, 45), ("icomp9", 9, 108), ("cmp4", 8, 3),
                              ("mul3", 6, 6)]:
        task = tasks.get(name)
        assert (task.n_inputs, task.n_outputs) == (n_in, n_out), name


@pytest.mark.parametrize("factory, bad", [(tasks.even_parity, 0), (tasks.adder_carry, 10),
                                          (tasks.identity_comparator, 1), (tasks.count_ones, 21),
                                          (tasks.alu, 9), (tasks.alu, 0)])
def test_suite_sizes_out_of_range(factory, bad):
    with pytest.raises(ValueError, match=str(bad)):
        factory(bad)


def test_table_arrays_are_read_only():
    task = tasks.parity(3)
    with pytest.raises(ValueError):
        task.X_train[0, 0] = True
    with pytest.raises(ValueError):
        task.Y_test[0, 0] = True


@pytest.mark.parametrize("factory, bad", [(tasks.parity, 0), (tasks.parity, 21), (tasks.majority, 0),
                                          (tasks.multiplexer, 5), (tasks.adder, 11),
                                          (tasks.decoder, 11), (tasks.truth_table_inputs, -1)])
def test_sizes_out_of_range(factory, bad):
    with pytest.raises(ValueError, match=str(bad)):
        factory(bad)


@pytest.mark.parametrize("bad", [2.0, True, "3", None])
def test_sizes_must_be_integers(bad):
    with pytest.raises(TypeError):
        tasks.parity(bad)


def test_largest_tables():
    assert tasks.parity(20).X_train.shape == (2**20, 20)
    assert tasks.multiplexer(4).name == "mux20"


def test_truth_table_scores_itself_perfectly():
    task = tasks.adder(2)
    score = task.score_outputs(task.Y_train)
    assert score.fitness == 1.0 and score.solved
    flipped = task.Y_train.copy()
    flipped[0, 0] ^= True
    assert not task.score_outputs(flipped).solved


# ---------------------------------------------------------------- registry

@pytest.mark.parametrize("name, factory, arg", [
    ("parity5", tasks.parity, 5), ("majority7", tasks.majority, 7), ("mux3", tasks.multiplexer, 1),
    ("mux6", tasks.multiplexer, 2), ("mux11", tasks.multiplexer, 3), ("add3", tasks.adder, 3),
    ("mul2", tasks.multiplier, 2), ("cmp3", tasks.comparator, 3), ("dec2", tasks.decoder, 2),
    ("stream_parity5", tasks.stream_parity, 5), ("delay_xor2", tasks.delay_xor, 2),
    ("echo3", tasks.echo, 3), ("epar8", tasks.even_parity, 8), ("addc3", tasks.adder_carry, 3),
    ("icomp4", tasks.identity_comparator, 4), ("ones5", tasks.count_ones, 5), ("alu2", tasks.alu, 2)])
def test_get_matches_factory(name, factory, arg):
    by_name, direct = tasks.get(name), factory(arg)
    assert by_name.name == name == direct.name
    for split in ("train", "test"):
        for a, b in zip(by_name.split(split), direct.split(split)):
            assert np.array_equal(a, b)
    assert by_name.steps == direct.steps


def test_every_listed_name_builds_itself():
    listed = tasks.names()
    assert {"parity5", "mux6", "mux11", "add4", "digits", "stream_parity8", "epar8", "addc4"} <= set(listed)
    for name in listed:
        assert tasks.get(name).name == name


@pytest.mark.parametrize("name", ["parity", "xor3", "PARITY3", "parity3 ", "echo-1", ""])
def test_unknown_names(name):
    with pytest.raises(ValueError, match="valid names: parity{n}"):
        tasks.get(name)


@pytest.mark.parametrize("name", ["mux7", "mux12", "parity99", "add0", "dec11", "stream_parity0",
                                  "digits-3v3", "digits-t17", "mnist5", "epar0", "icomp1", "alu9",
                                  "fashion5", "fashion-t0", "fashion3v3"])
def test_names_with_bad_sizes(name):
    with pytest.raises(ValueError, match=f"task '{name}'"):
        tasks.get(name)


def test_unknown_name_lists_valid_patterns():
    with pytest.raises(ValueError) as info:
        tasks.get("nosuchtask")
    message = str(info.value)
    for pattern in ("parity{n}", "majority{n}", "mux{k+2^k}", "add{n}", "mul{n}", "cmp{n}", "dec{n}",
                    "digits", "mnist", "stream_parity{k}", "delay_xor{k}", "echo{k}", "epar{n}",
                    "addc{n}", "icomp{n}", "ones{n}", "alu{n}", "fashion"):
        assert pattern in message
    with pytest.raises(TypeError):
        tasks.get(5)


def test_get_passes_keywords():
    assert tasks.get("echo2", settle=6).steps == tasks.echo(2, settle=6).steps == 5 + 6
    with pytest.raises(TypeError):
        tasks.get("parity3", seed=1)


# ---------------------------------------------------------------- clocked tasks

def frames(r, T):
    return [bit(r, t) for t in range(T)]


def check_sequence(task, T, target):
    S = len(task.X_train)
    assert task.is_clocked and task.X_train.shape == (S, T, 1) and task.Y_train.shape == (S, 1)
    assert task.n_inputs == 1 and task.n_outputs == 1 and task.steps > T
    for X, Y in (task.split("train"), task.split("test")):
        for s in range(len(X)):
            stream = [bool(v) for v in X[s, :, 0]]
            assert bool(Y[s, 0]) == target(stream)


@pytest.mark.parametrize("k", range(1, 7))
def test_stream_parity_exhaustive(k):
    task = tasks.stream_parity(k)
    assert len(task.X_train) == 2**k
    for r in range(2**k):
        assert [bool(v) for v in task.X_train[r, :, 0]] == frames(r, k)
        assert bool(task.Y_train[r, 0]) == (bin(r).count("1") % 2 == 1)
    assert task.steps == k + max(4, 3 * (k - 1).bit_length())


@pytest.mark.parametrize("k, length", [(1, None), (2, None), (3, 7), (4, 5)])
def test_delay_xor(k, length):
    T = k + 3 if length is None else length
    task = tasks.delay_xor(k, length=length)
    assert len(task.X_train) == 2**T and task.steps == T + 4
    for r in range(2**T):
        assert bool(task.Y_train[r, 0]) == (bit(r, T - 1) != bit(r, T - 1 - k))
    check_sequence(task, T, lambda s: s[T - 1] != s[T - 1 - k])


@pytest.mark.parametrize("k", [0, 1, 3])
def test_echo(k):
    T = k + 3
    task = tasks.echo(k)
    for r in range(2**T):
        assert bool(task.Y_train[r, 0]) == bit(r, T - 1 - k)


def test_long_streams_are_seeded_samples():
    task = tasks.stream_parity(20, n_samples=300, seed=4)
    assert task.X_train.shape == (300, 20, 1) and task.X_test.shape == (300, 20, 1)
    check_sequence(task, 20, lambda s: sum(s) % 2 == 1)
    assert not np.array_equal(task.X_train, task.X_test)
    again, other = tasks.stream_parity(20, n_samples=300, seed=4), tasks.stream_parity(20, n_samples=300, seed=5)
    assert np.array_equal(again.X_train, task.X_train) and not np.array_equal(other.X_train, task.X_train)
    check_sequence(tasks.echo(15, length=40), 40, lambda s: s[40 - 1 - 15])


@pytest.mark.parametrize("call", [lambda: tasks.stream_parity(0), lambda: tasks.stream_parity(129),
                                  lambda: tasks.delay_xor(3, length=3), lambda: tasks.echo(-1),
                                  lambda: tasks.echo(2, settle=-1),
                                  lambda: tasks.stream_parity(30, n_samples=0)])
def test_sequence_arguments_checked(call):
    with pytest.raises(ValueError):
        call()


@pytest.mark.parametrize("k", [0, 2, 3])
def test_echo_is_solved_by_a_delay_line(k):
    # A chain of L NOT gates shows the bit presented L steps earlier (inverted L times):
    # echo's target x[T-1-k] read at step T+settle needs L = k+1+settle, even.
    settle = 4 if (k + 1) % 2 == 0 else 3
    task = tasks.echo(k, settle=settle)
    L = k + 1 + settle
    wiring = [[0, 0]] + [[g, g] for g in range(1, L)]
    net = btype.Network(1, wiring, outputs=[L], modifiers=np.zeros((L, 2), bool))
    assert task.score(net).solved and task.score(net, "test").solved
    # One step too early or too late reads the wrong frame.
    wrong = btype.Network(1, wiring[:-2], outputs=[L - 2], modifiers=np.zeros((L - 2, 2), bool))
    assert not task.score(wrong).solved
