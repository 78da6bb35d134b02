"""Espresso PLA reader: round trips, cube expansion, don't-cares and every kind of malformed file."""
import gzip
import itertools
import json
import os
import subprocess
import sys
import time
from pathlib import Path

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
    # Distinct rows: an fr file must not give one row two different outputs.
    X = (rng.permutation(128)[:40, None] >> np.arange(7)) & 1 == 1
    Y = rng.random((40, 3)) < 0.5
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
    assert task.name == "ex03" and task.n_classes is None
    assert np.array_equal(task.X_train, X) and np.array_equal(task.Y_train, Y)
    assert np.array_equal(task.X_test, X) and np.array_equal(task.Y_test, Y)
    assert task.pla.input_names == tuple(f"x{i}" for i in range(7))
    assert task.pla.output_names == ("f", "g", "h") and task.pla.type == "fr"
    assert task.pla.care.all() and task.pla.n_cubes == 40


def test_write_pla_round_trip(tmp_path):
    rng = np.random.default_rng(2)
    X = (rng.permutation(512)[:100, None] >> np.arange(9)) & 1 == 1
    Y = rng.random((100, 2)) < 0.5
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


def test_contest_layout_as_two_classes(tmp_path):
    """exNN.train/valid/test.pla with one output: a 2-class task scored by group popcount."""
    rng = np.random.default_rng(4)
    rows = rng.permutation(1 << 10)[:300]
    X = (rows[:, None] >> np.arange(10)) & 1 == 1
    y = X[:, 0] ^ X[:, 3]
    paths = {}
    for split, part in (("train", slice(0, 200)), ("valid", slice(200, 250)), ("test", slice(250, 300))):
        paths[split] = tmp_path / f"ex07.{split}.pla"
        write_pla(paths[split], X[part], y[part, None])
    task = from_pla(paths["train"], test=paths["test"], valid=paths["valid"], as_classes=True)
    assert task.name == "ex07" and task.n_classes == 2 and task.n_outputs is None
    for split, part in (("train", slice(0, 200)), ("valid", slice(200, 250)), ("test", slice(250, 300))):
        Xs, ys = task.split(split)
        assert np.array_equal(Xs, X[part]) and ys.dtype == np.int64 and ys.tolist() == y[part].tolist()
    # Three outputs per class: group 0 is outputs 0-2, group 1 outputs 3-5; most ones wins.
    votes = np.zeros((50, 6), bool)
    votes[:, 3:5] = y[250:, None]
    votes[:, 0] = ~y[250:]
    assert task.score_outputs(votes, "test").fitness == 1.0
    assert task.score_outputs(~votes, "test").fitness < 1.0
    boolean = from_pla(paths["train"], test=paths["test"])
    assert boolean.n_classes is None and boolean.Y_test.tolist() == y[250:, None].tolist()
    wide = write(tmp_path, ".i 2\n.o 2\n.type fr\n01 10\n", "wide.pla")
    with pytest.raises(ValueError, match="as_classes needs a single-output file; .*wide.pla has 2 outputs"):
        from_pla(wide, as_classes=True)
    with pytest.raises(TypeError, match="as_classes"):
        from_pla(paths["train"], as_classes=1)


def test_f_refuses_too_many_inputs(tmp_path):
    path = write(tmp_path, "# big\n.i 30\n.o 1\n.type f\n" + "-" * 30 + " 1\n")
    with pytest.raises(PLAError, match=r"f\.pla:2: .*2\*\*30 = 1,073,741,824 rows, over max_rows="):
        read_pla(path)
    small = write(tmp_path, ".i 5\n.o 1\n.type fd\n----- 1\n", "s.pla")
    with pytest.raises(PLAError, match="max_rows=16; pass a larger max_rows="):
        read_pla(small, max_rows=16)
    assert read_pla(small, max_rows=32).Y.all()
    wild = write(tmp_path, ".i 30\n.o 1\n.type fr\n" + "-" * 30 + " 1\n", "w.pla")
    with pytest.raises(PLAError, match="expand to 1,073,741,824 rows"):
        read_pla(wild)


def test_max_cells_counts_rows_times_columns(tmp_path):
    # 2**4 rows x (4 inputs + 3 outputs) = 112 cells.
    path = write(tmp_path, ".i 4\n.o 3\n.type f\n1--- 101\n")
    with pytest.raises(PLAError, match=r"16 rows of 4 inputs \+ 3 outputs = 112 table cells, "
                                       r"over max_cells=111; pass a larger max_cells="):
        read_pla(path, max_cells=111)
    pla = read_pla(path, max_cells=112)
    assert pla.Y.tolist() == [[bool(r & 1), False, bool(r & 1)] for r in range(16)]
    fr = write(tmp_path, ".i 4\n.o 1\n.type fr\n1--- 1\n0000 0\n", "fr.pla")
    with pytest.raises(PLAError, match=r"expand to 9 rows .* = 45 table cells"):
        read_pla(fr, max_cells=44)
    assert len(read_pla(fr, max_cells=45).X) == 9
    with pytest.raises(ValueError, match="max_bytes=10"):
        read_pla(fr, max_bytes=10)


def run_isolated(path, **kwargs):
    """read_pla in a fresh interpreter: a segfault or an abort fails the test instead of pytest."""
    code = ("import json, sys\nfrom btype.tasks import read_pla\n"
            "try:\n    pla = read_pla(sys.argv[1], **json.loads(sys.argv[2]))\n"
            "    print(json.dumps(['ok', len(pla.X)]))\n"
            "except Exception as exc:\n    print(json.dumps([type(exc).__name__, str(exc)]))\n")
    root = Path(__file__).resolve().parents[1]
    env = {**os.environ, "PYTHONPATH": str(root)}
    done = subprocess.run([sys.executable, "-c", code, str(path), json.dumps(kwargs)], env=env,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, f"reader died with code {done.returncode}: {done.stderr[-2000:]}"
    return json.loads(done.stdout)


CRASHES = [
    # 8 cubes of 61 '-': 2**64 rows, which wrapped to 0 in int64 and passed the row check.
    ("fr", 61, 8, "expand to 18,446,744,073,709,551,616 rows, over max_rows="),
    # 2 cubes of 62 '-': 2**63 rows, a negative int64 ("negative dimensions are not allowed").
    ("fr", 62, 2, "expand to 9,223,372,036,854,775,808 rows, over max_rows="),
    ("fr", 20, 1, "expand to 1,048,576 rows of 20 inputs + 1 outputs = 22,020,096 table cells"),
]


@pytest.mark.parametrize("kind, dashes, cubes, words", CRASHES)
def test_row_count_overflow_is_an_error_not_a_crash(tmp_path, kind, dashes, cubes, words):
    path = write(tmp_path, f".i {dashes}\n.o 1\n.type {kind}\n" + ("-" * dashes + " 1\n") * cubes)
    kwargs = {"max_cells": 1 << 24} if dashes == 20 else {}
    status, message = run_isolated(path, **kwargs)
    assert status == "PLAError" and message.startswith(f"{path}:1: ") and words in message, message


@pytest.mark.parametrize("header, words", [
    (".i 1\n.o 4000000000\n", "2 rows of 1 inputs + 4,000,000,000 outputs = 8,000,000,002 table "
                              "cells, over max_cells=1,073,741,824; pass a larger max_cells="),
    (".i 4000000000\n.o 1\n", "needs 2**4,000,000,000 = more than 2**62 rows"),
    (".i 40\n.o 1\n.type f\n", "needs 2**40 = 1,099,511,627,776 rows, over max_rows=1,048,576"),
])
def test_declared_sizes_limited_before_allocating(tmp_path, header, words):
    path = write(tmp_path, header)
    assert len(path.read_bytes()) <= 21
    status, message = run_isolated(path)
    assert status == "PLAError" and words in message, message


def test_fr_row_in_on_and_off_set_names_both_lines(tmp_path):
    text = ".i 3\n.o 2\n.type fr\n010 1~\n# comment\n110 01\n0-0 0~\n"
    path = write(tmp_path, text)
    with pytest.raises(PLAError) as info:
        read_pla(path)
    # 0-0 expands to 000 and 010; row 010 has output 1 = 1 on line 4 and 0 on line 7.
    assert str(info.value) == (f"{path}:7: input row 010 has output 1 = 0 here but 1 on line 4; a type "
                               "fr file must not list a row in both the ON- and the OFF-set")
    # Repeating a row with the same value, or specifying other outputs, is fine.
    ok = write(tmp_path, ".i 3\n.o 2\n.type fr\n010 1~\n010 ~0\n010 1-\n", "ok.pla")
    pla = read_pla(ok)
    assert pla.X.tolist() == [[False, True, False]] * 3
    assert pla.care.tolist() == [[True, False], [False, True], [True, False]]
    # In fd a 0 means nothing, so a 1 elsewhere is no conflict.
    fd = write(tmp_path, ".i 1\n.o 1\n.type fd\n1 1\n1 0\n", "fd.pla")
    assert read_pla(fd).Y[:, 0].tolist() == [False, True]


@pytest.mark.parametrize("text", [".i 2\n.o 1\n.type fr\n", ".i 2\n.o 1\n.type fr\n01 ~\n10 -\n",
                                  ".i 2\n.o 2\n.type fd\n-- --\n.e\n"])
def test_file_without_rows_is_refused(tmp_path, text):
    path = write(tmp_path, text)
    with pytest.raises(PLAError, match=r"specifies no rows"):
        read_pla(path)


def test_line_ends_byte_order_mark_and_trailing_comments(tmp_path):
    lines = [".i 3 # three inputs", ".o 2", ".type fr  # rows", "010 10 # first", "11- 01#x",
             "# only a comment", ".e # end"]
    plain = read_pla(write(tmp_path, "\n".join(lines) + "\n", "plain.pla"))
    assert plain.X.astype(int).tolist() == [[0, 1, 0], [1, 1, 0], [1, 1, 1]]
    assert plain.Y.astype(int).tolist() == [[1, 0], [0, 1], [0, 1]]
    for name, data in (("cr.pla", "\r".join(lines).encode()),
                       ("bom.pla", b"\xef\xbb\xbf" + "\r\n".join(lines).encode()),
                       ("bomcr.pla", b"\xef\xbb\xbf" + "\r".join(lines).encode() + b"\r")):
        (tmp_path / name).write_bytes(data)
        pla = read_pla(tmp_path / name)
        assert np.array_equal(pla.X, plain.X) and np.array_equal(pla.Y, plain.Y), name
    # Line numbers count CR-only line ends too.
    (tmp_path / "badcr.pla").write_bytes(b".i 2\r.o 1\r.type fr\r01 1\r0x 1\r")
    with pytest.raises(PLAError, match=r"badcr\.pla:5: unknown input character 'x'"):
        read_pla(tmp_path / "badcr.pla")


def test_broken_gzip_names_the_file(tmp_path):
    good = tmp_path / "good.pla.gz"
    with gzip.open(good, "wb") as fh:
        fh.write(b".i 2\n.o 1\n.type fr\n" + b"01 1\n10 0\n" * 200)
    assert len(read_pla(good).X) == 400
    data = good.read_bytes()
    for name, payload in (("cut.pla.gz", data[: len(data) // 2]), ("plain.pla.gz", b".i 2\n.o 1\n01 1\n"),
                          ("crc.pla.gz", data[:-8] + bytes(8))):
        (tmp_path / name).write_bytes(payload)
        with pytest.raises(ValueError, match=rf"{name}: not a readable gzip file"):
            read_pla(tmp_path / name)


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
