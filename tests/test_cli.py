"""The ``btype`` command: the entry point in pyproject.toml and each command's module."""
import importlib
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from experiments import cli, compare

ROOT = Path(__file__).resolve().parents[1]


def test_the_entry_point_names_cli_run():
    scripts = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["scripts"]
    module, _, attr = scripts["btype"].partition(":")
    assert getattr(importlib.import_module(module), attr) is cli.run


@pytest.mark.parametrize("status", [0, 3, 130])
def test_exit_with_ends_with_the_status_and_the_output_written(status):
    # 130 (after Ctrl-C) ends through os._exit: the buffered lines must still come out
    code = ("import sys; from experiments.cli import exit_with; "
            f"print('out', end=''); print('err', end='', file=sys.stderr); exit_with({status})")
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True)
    assert (done.returncode, done.stdout, done.stderr) == (status, "out", "err")


@pytest.mark.parametrize("command", sorted(cli.COMMANDS))
def test_every_command_has_a_main(command):
    module = importlib.import_module(cli.COMMANDS[command][0])
    assert callable(module.main)


def test_btype_compare_is_python_m_experiments_compare(tmp_path, capsys):
    argv = ["--out", str(tmp_path), "--list", "--tasks", "parity3", "--seeds", "2"]
    assert compare.main(argv) == 0
    direct = capsys.readouterr().out
    assert cli.main(["compare", *argv]) == 0
    assert capsys.readouterr().out == direct and "parity3__es__seed1" in direct


def test_the_command_line_lists_commands_and_refuses_unknown_ones():
    done = subprocess.run([sys.executable, "-m", "experiments.cli", "--help"], cwd=ROOT,
                          capture_output=True, text=True)
    assert done.returncode == 0
    for command, (module, _) in cli.COMMANDS.items():
        assert command in done.stdout and module.removesuffix(".__main__") in done.stdout
    done = subprocess.run([sys.executable, "-m", "experiments.cli", "nope"], cwd=ROOT,
                          capture_output=True, text=True)
    assert done.returncode == 2 and "invalid choice: 'nope'" in done.stderr


def test_btype_export_describes_a_machine(tmp_path):
    import btype
    path = tmp_path / "m.npz"
    btype.random_network(3, 8, 1, seed=0).save(path)
    done = subprocess.run([sys.executable, "-m", "experiments.cli", "export", str(path), "-f", "describe"],
                          cwd=ROOT, capture_output=True, text=True)
    direct = subprocess.run([sys.executable, "-m", "btype.export", str(path), "-f", "describe"],
                            cwd=ROOT, capture_output=True, text=True)
    assert done.returncode == direct.returncode == 0 and done.stdout == direct.stdout


def test_search_table_is_a_resumable_sweep(tmp_path, capsys):
    from experiments.bench import search_table
    from experiments.sweep import runfiles
    argv = ["--tasks", "parity3", "--seeds", "2", "--evaluations", "20000", "--workers", "0",
            "--out", str(tmp_path)]
    assert search_table.main(argv) == 0
    out = capsys.readouterr().out
    runs = runfiles.load_runs(tmp_path)
    assert sorted(r.seed for r in runs) == [0, 1] and all(r.method == "es" for r in runs)
    solved = sum(r.footer["solved"] for r in runs)
    assert f"| parity3 | 200 | 10 | {solved}/2 " in out
    before = {r.path.name: r.path.stat().st_mtime_ns for r in runs}
    assert search_table.main(argv) == 0  # a rerun reads the finished runs back
    assert {r.path.name: r.path.stat().st_mtime_ns for r in runfiles.load_runs(tmp_path)} == before
    assert f"| parity3 | 200 | 10 | {solved}/2 " in capsys.readouterr().out
