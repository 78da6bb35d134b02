"""Noisy type fr PLA files: rows listed with both output values, refused, voted on or dropped."""
import numpy as np
import pytest

from btype.tasks import PLAError, from_pla, read_pla, write_pla

# Input row 00 is listed 3 times for output 1 (1, 0, 1: majority 1) and twice for output 2
# (0, 1: a tie, the first listed value 0 wins); row 10 twice (0, 0: no conflict); row 01 once;
# row 11 twice for output 1 (1, 0: a tie, first listed 1) with output 2 don't-care on one line.
TEXT = """.i 2
.o 2
.type fr
00 10
10 00
00 01
01 11
00 1-
10 00
11 10
11 0-
.e
"""


def write(tmp_path, text=TEXT):
    path = tmp_path / "noisy.pla"
    path.write_text(text)
    return path


def test_error_names_both_lines(tmp_path):
    with pytest.raises(PLAError, match=r"noisy\.pla:6: input row 00 has output 1 = 0 here but 1 on line 4"):
        read_pla(write(tmp_path))


def test_majority_against_a_hand_computed_vote(tmp_path):
    pla = read_pla(write(tmp_path), conflicts="majority")
    rows = ["".join("01"[int(v)] for v in x) for x in pla.X]
    assert rows == ["00", "10", "00", "01", "00", "10", "11", "11"]      # file order kept
    # row 00: output 1 -> 1 (2 of 3), output 2 -> 0 (tie 0/1, first listed 0); line 5's '-' stays don't-care
    # row 11: output 1 -> 1 (tie, first listed 1)
    assert pla.Y.astype(int).tolist() == [[1, 0], [0, 0], [1, 0], [1, 1], [1, 0], [0, 0], [1, 0], [1, 0]]
    assert pla.care.astype(int).tolist() == [[1, 1], [1, 1], [1, 1], [1, 1], [1, 0], [1, 1], [1, 1], [1, 0]]
    assert pla.n_conflicts == 2


def test_drop_removes_every_line_of_a_conflicting_row(tmp_path):
    pla = read_pla(write(tmp_path), conflicts="drop")
    assert ["".join("01"[int(v)] for v in x) for x in pla.X] == ["10", "01", "10"]
    assert pla.Y.astype(int).tolist() == [[0, 0], [1, 1], [0, 0]]
    assert pla.n_conflicts == 2


def test_noisy_rows_round_trip(tmp_path):
    """write_pla of noisy data, then from_pla: refused by default, resolved on request."""
    rng = np.random.default_rng(0)
    X = rng.integers(0, 2, (500, 7)).astype(bool)
    clean = X[:, 0] ^ X[:, 1]
    y = clean ^ (rng.random(500) < 0.1)
    path = tmp_path / "data.pla"
    write_pla(path, X, y[:, None])
    with pytest.raises(PLAError, match="ON- and the OFF-set"):
        from_pla(path)
    task = from_pla(path, conflicts="majority")
    keys = X.astype(int) @ (1 << np.arange(7))
    for key in np.unique(keys):       # a second method: the vote counted directly
        votes = y[keys == key]
        first = votes[0]
        expect = votes.sum() * 2 > len(votes) or (votes.sum() * 2 == len(votes) and first)
        assert (task.Y_train[keys == key, 0] == expect).all()
    assert len(task.X_train) == 500 and "conflicting rows: majority" in task.description
    dropped = from_pla(path, conflicts="drop")
    assert 0 < len(dropped.X_train) < 500 and dropped.pla.n_conflicts > 0
    with pytest.raises(ValueError, match="conflicts must be one of"):
        from_pla(path, conflicts="vote")
