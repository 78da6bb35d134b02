"""Espresso PLA reader: round trips, cube expansion, don't-cares and every kind of malformed file."""
import gzip
import itertools
import time

import numpy as np
import pytest

from btype import tasks
from btype.tasks import PLAError, from_pla, read_pla, write_pla


def write(tmp_path, text, name="f.pla"):
    path = tmp_path / name
    path.write_text(text)
    return path


def covers(cube, r):
    """Does input cube (a string over 0 1 -, column i = bit i of r) contain row r?"""
    return all(c == "-" or int(c) == (r >> i) & 1 for i, c in enumerate(cube))


def row_bits(r, n):
    return [bool((r >> i) & 1) for i in range(n)]


def test_fr_round_trip_with_spacing_comments_and_names(tmp_path):
    rng = np.random.default_rng(1)
    X, Y = rng.random((40, 7)) < 0.5, rng.random((40, 3)) < 0.5
    lines = ["# a learning-from-examples file", ".i 7", ".o 3", ".ilb " + " ".join(f"x{i}" for i in range(7)),
             ".ob f g h", ".p 40", ".type fr"]
    for j, (x, y) in enumerate(zip(X, Y)):
        ins, outs = "".join("01"[int(v)] for v in x), "".join("01"[int(v)] for v in y)
        # Espresso ignores white space and '|' inside a product term.
        lines.append(f"{ins} {outs}" if j % 3 else f"  {ins[:3]} {ins[3:]}\t| {outs}  ")
        if j == 5:
            lines.append("# a comment between rows")
    lines += [".e", "trailing text after .e is ignored"]
    path = write(tmp_path, "\r\n".join(lines) + "\n", "ex03.train.pla")
    task = from_pla(path)
    assert task.name == "ex03.train" and task.n_classes is None
    assert np.array_equal(task.X_train, X) and np.array_equal(task.Y_train, Y)
    assert np.array_equal(task.X_test, X) and np.array_equal(task.Y_test, Y)
    assert task.pla.input_names == tuple(f"x{i}" for i in range(7))
    assert task.pla.output_names == ("f", "g", "h") and task.pla.type == "fr"
    assert task.pla.care.all() and task.pla.n_cubes == 40


def test_write_pla_round_trip(tmp_path):
    rng = np.random.default_rng(2)
    X, Y = rng.random((100, 9)) < 0.5, rng.random((100, 2)) < 0.5
    write_pla(tmp_path / "w.pla", X, Y, input_names=[f"i{j}" for j in range(9)])
    pla = read_pla(tmp_path / "w.pla")
    assert np.array_equal(pla.X, X) and np.array_equal(pla.Y, Y) and pla.input_names[3] == "i3"
    table = tasks.multiplier(2)
    write_pla(tmp_path / "mul2.pla", table.X_train, table.Y_train, type="f")
    again = from_pla(tmp_path / "mul2.pla")
    assert np.array_equal(again.X_train, table.X_train) and np.array_equal(again.Y_train, table.Y_train)
    with pytest.raises(ValueError):
        write_pla(tmp_path / "bad.pla", X, Y[:5])


def test_gzipped_file(tmp_path):
    path = tmp_path / "g.pla.gz"
    with gzip.open(path, "wt") as fh:
        fh.write(".i 2\n.o 1\n.type fr\n01 1\n10 0\n.e\n")
    task = from_pla(path)
    assert task.name == "g" and task.X_train.tolist() == [[False, True], [True, False]]
    assert task.Y_train.tolist() == [[True], [False]]


def test_fr_expands_cubes_in_order(tmp_path):
    path = write(tmp_path, ".i 4\n.o 1\n.type fr\n1-0- 1\n0110 0\n--11 1\n")
    pla = read_pla(path)
    # Expansion k of a cube sets its d-th '-' column to bit d of k.
    expected = [[1, 0, 0, 0], [1, 1, 0, 0], [1, 0, 0, 1], [1, 1, 0, 1], [0, 1, 1, 0],
                [0, 0, 1, 1], [1, 0, 1, 1], [0, 1, 1, 1], [1, 1, 1, 1]]
    assert pla.X.astype(int).tolist() == expected
    assert pla.Y[:, 0].astype(int).tolist() == [1, 1, 1, 1, 0, 1, 1, 1, 1]


def test_fr_unspecified_outputs(tmp_path):
    path = write(tmp_path, ".i 2\n.o 2\n.type fr\n00 1-\n01 ~~\n10 -0\n11 01\n")
    pla = read_pla(path)
    assert pla.X.astype(int).tolist() == [[0, 0], [1, 0], [1, 1]]  # row 01 specifies nothing
    assert pla.care.tolist() == [[True, False], [False, True], [True, True]]
    assert pla.Y.tolist() == [[True, False], [False, False], [False, True]]


def cube_table(n, cubes, kind):
    """Direct per-row, per-output computation of Espresso semantics for types f and fd."""
    on, dc = [], []
    for r in range(2**n):
        hits = [out for cube, out in cubes if covers(cube, r)]
        on.append([any(o[j] == "1" for o in hits) for j in range(len(cubes[0][1]))])
        dc.append([kind == "fd" and any(o[j] == "-" for o in hits) for j in range(len(cubes[0][1]))])
    return np.array(on), np.array(dc)


@pytest.mark.parametrize("kind", ["f", "fd", None])
def test_f_and_fd_whole_truth_table(tmp_path, kind):
    cubes = [("1--0", "10-"), ("-11-", "01~"), ("0000", "-01"), ("1111", "0-1"), ("01-1", "--0"),
             ("0-10", "1-0"), ("1-00", "---")]
    n = 4
    header = f".i {n}\n.o 3\n" + (f".type {kind}\n" if kind else "")
    path = write(tmp_path, header + "".join(f"{c} {o}\n" for c, o in cubes) + ".e\n")
    pla = read_pla(path)
    kind = kind or "fd"  # Espresso's default type
    on, dc = cube_table(n, cubes, kind)
    kept = [r for r in range(2**n) if not dc[r].all()]
    assert pla.type == kind
    assert pla.X.tolist() == [row_bits(r, n) for r in kept]
    assert np.array_equal(pla.Y, on[kept]) and np.array_equal(pla.care, ~dc[kept])
    if kind == "fd":
        assert kept == [0, 2] + list(range(4, 16))  # cube 1-00 makes rows 1 and 3 all don't-care
    else:
        assert len(kept) == 2**n


def test_fd_random_cubes_against_direct_computation(tmp_path):
    rng = np.random.default_rng(3)
    n, n_out = 6, 2
    cubes = ["".join(rng.choice(list("01-"), n, p=[0.35, 0.35, 0.3])) for _ in range(25)]
    outs = ["".join(rng.choice(list("01-~"), n_out)) for _ in range(25)]
    path = write(tmp_path, f".i {n}\n.o {n_out}\n.type fd\n.p 25\n"
                 + "".join(f"{c}{o}\n" for c, o in zip(cubes, outs)))
    pla = read_pla(path)
    on, dc = cube_table(n, list(zip(cubes, outs)), "fd")
    kept = [r for r in range(2**n) if not dc[r].all()]
    assert pla.X.tolist() == [row_bits(r, n) for r in kept]
    assert np.array_equal(pla.Y, on[kept]) and np.array_equal(pla.care, ~dc[kept])


def test_test_and_valid_files(tmp_path):
    train = write(tmp_path, ".i 2\n.o 1\n.type fr\n00 0\n01 1\n", "t.train.pla")
    test = write(tmp_path, ".i 2\n.o 1\n.type fr\n10 1\n", "t.test.pla")
    valid = write(tmp_path, ".i 2\n.o 1\n.type fr\n11 0\n", "t.valid.pla")
    task = from_pla(train, test, valid)
    assert task.X_train.tolist() == [[0, 0], [0, 1]] and task.X_test.tolist() == [[1, 0]]
    assert task.X_valid.tolist() == [[1, 1]] and task.Y_valid.tolist() == [[False]]
    merged = from_pla(train, test, valid, merge_valid=True)
    assert merged.X_train.tolist() == [[0, 0], [0, 1], [1, 1]] and merged.Y_train[:, 0].tolist() == [0, 1, 0]
    assert from_pla(train, valid=valid).X_test.tolist() == [[1, 1]]  # valid is the held-out split
    assert from_pla(train).X_test.tolist() == task.X_train.tolist()
    assert from_pla(train, name="other").name == "other" and from_pla(train).X_valid is None
    wide = write(tmp_path, ".i 3\n.o 1\n.type fr\n101 1\n", "wide.pla")
    with pytest.raises(PLAError, match="wide.pla: 3 inputs"):
        from_pla(train, wide)


def test_f_refuses_too_many_inputs(tmp_path):
    path = write(tmp_path, "# big\n.i 30\n.o 1\n.type f\n" + "-" * 30 + " 1\n")
    with pytest.raises(PLAError, match=r"f\.pla:2: .*2\*\*30 rows"):
        read_pla(path)
    small = write(tmp_path, ".i 5\n.o 1\n.type fd\n----- 1\n", "s.pla")
    with pytest.raises(PLAError, match="max_rows=16"):
        read_pla(small, max_rows=16)
    assert read_pla(small, max_rows=32).Y.all()
    wild = write(tmp_path, ".i 30\n.o 1\n.type fr\n" + "-" * 30 + " 1\n", "w.pla")
    with pytest.raises(PLAError, match="expand to more than"):
        read_pla(wild)


MALFORMED = [
    # (file text, line the error must name, words in the message)
    (".i 3\n.o 1\n.type fr\n010 1\n01 1\n", 5, "3 characters, expected 3 inputs + 1 outputs = 4"),
    (".i 3\n.o 1\n.type fr\n010 10\n", 4, "5 characters"),
    (".i 3\n.o 1\n.type fr\n010 1\n0x0 1\n", 5, "unknown input character 'x'"),
    (".i 3\n.o 1\n.type fr\n010 1\n011 ~\n01- 2\n", 6, "unknown output character '2'"),
    (".i 3\n.o 1\n.type fr\n~10 1\n", 4, "unknown input character '~'"),
    (".i 3\n.o 1\n.p 3\n.type fr\n010 1\n011 1\n", 3, ".p says 3 product terms but the file has 2"),
    (".i 3\n.o 1\n.p 1\n.type fr\n010 1\n011 1\n", 6, ".p says 1"),
    ("010 1\n.i 3\n.o 1\n", 1, "before the .i and .o header"),
    (".i 3\n010 1\n", 2, "before the .i and .o header"),
    ("# only a comment\n.o 1\n", 2, "missing .i or .o"),
    ("", 1, "missing .i or .o"),
    (".i three\n.o 1\n", 1, ".i needs one integer"),
    (".i 0\n.o 1\n", 1, ".i needs one integer >= 1"),
    (".i 2\n.o 1\n.i 2\n", 3, ".i given twice"),
    (".i 2\n.o 1\n.ilb a b c\n", 3, ".ilb lists 3 names, expected 2"),
    (".ob y\n.i 2\n.o 1\n", 1, ".ob before .o"),
    (".i 2\n.o 1\n.type fdr\n", 3, "unsupported .type 'fdr'"),
    (".i 2\n.o 1\n.phase 1\n", 3, "unsupported keyword .phase"),
    (".i 2\n.o 1\n.tpye fr\n", 3, "unknown keyword .tpye"),
    (".i 2\n.o 1\n01 1\n.type fr\n", 4, ".type after the first product term"),
]


@pytest.mark.parametrize("text, line, words", MALFORMED)
def test_malformed_files_name_file_and_line(tmp_path, text, line, words):
    path = write(tmp_path, text, "bad.pla")
    with pytest.raises(PLAError) as info:
        read_pla(path)
    message = str(info.value)
    assert message.startswith(f"{path}:{line}: "), message
    assert words in message
    assert isinstance(info.value, ValueError)


def test_arguments_checked(tmp_path):
    with pytest.raises(TypeError):
        read_pla(3)
    path = write(tmp_path, ".i 1\n.o 1\n1 1\n")
    with pytest.raises(ValueError):
        read_pla(path, max_rows=0)
    with pytest.raises(TypeError):
        from_pla(path, merge_valid="yes")
    with pytest.raises(FileNotFoundError):
        read_pla(tmp_path / "absent.pla")


def test_large_fr_file(tmp_path):
    """A file the size of the IWLS 2020 benchmarks (6,400 rows, 512 inputs); prints the read time."""
    rng = np.random.default_rng(0)
    X, Y = rng.random((6400, 512)) < 0.5, rng.random((6400, 1)) < 0.5
    write_pla(tmp_path / "big.pla", X, Y)
    start = time.perf_counter()
    task = from_pla(tmp_path / "big.pla")
    print(f"\nread a 6400 x 512 fr PLA in {1000 * (time.perf_counter() - start):.1f} ms")
    assert np.array_equal(task.X_train, X) and np.array_equal(task.Y_train, Y)


def test_every_small_function_round_trips(tmp_path):
    # All 16 two-input functions, written as minterm lists of type f, read back exactly.
    for outputs in itertools.product([0, 1], repeat=4):
        text = ".i 2\n.o 1\n.type f\n" + "".join(
            f"{r & 1}{r >> 1 & 1} 1\n" for r in range(4) if outputs[r])
        pla = read_pla(write(tmp_path, text))
        assert pla.Y[:, 0].astype(int).tolist() == list(outputs)
