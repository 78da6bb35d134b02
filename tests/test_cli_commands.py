"""Every ``btype`` subcommand: its usage line names it, every option has help; ``btype``
alone lists the commands; ``--version``; file mistakes end in an ``error:`` line."""
import argparse
import importlib
import os
import subprocess
import sys
from pathlib import Path

import pytest

from experiments import cli

ROOT = Path(__file__).resolve().parents[1]
ENV = {**os.environ, "PYTHONPATH": str(ROOT)}
OWN = sorted(c for c, (module, _) in cli.COMMANDS.items() if module.startswith("experiments."))


class _Parsed(Exception):
    pass


def _parser_of(command, monkeypatch):
    """The parser ``btype COMMAND`` builds (caught as it parses, before it runs anything)."""
    seen = []

    def capture(self, args=None, namespace=None):
        seen.append(self)
        raise _Parsed

    monkeypatch.setattr(argparse.ArgumentParser, "parse_args", capture)
    with pytest.raises(_Parsed):
        importlib.import_module(cli.COMMANDS[command][0]).main([])
    return seen[0]


@pytest.mark.parametrize("command", OWN)
def test_each_usage_line_names_its_subcommand_and_each_option_has_help(command, monkeypatch):
    parser = _parser_of(command, monkeypatch)
    assert parser.prog == f"btype {command}"
    assert parser.format_usage().startswith(f"usage: btype {command} ")
    without = [a.option_strings or a.dest for a in parser._actions if a.help in (None, "")]
    assert not without, f"btype {command}: options without help: {without}"


def test_every_script_of_the_package_is_a_subcommand():
    bench = sorted(p.stem for p in (ROOT / "experiments" / "bench").glob("*.py") if p.stem != "__init__")
    modules = {module for module, _ in cli.COMMANDS.values()}
    assert [b for b in bench if f"experiments.bench.{b}" not in modules] == []
    for name in ("bench-boolean", "bench-cgp", "sgd-data-screen", "search-minibatch", "train"):
        assert name in cli.COMMANDS


def test_btype_alone_lists_the_commands_and_version_prints_the_package_version():
    import btype
    done = subprocess.run([sys.executable, "-m", "experiments.cli"], cwd=ROOT, env=ENV,
                          capture_output=True, text=True)
    assert done.returncode == 0 and "required" not in done.stdout + done.stderr
    assert all(command in done.stdout for command in cli.COMMANDS)
    done = subprocess.run([sys.executable, "-m", "experiments.cli", "--version"], cwd=ROOT, env=ENV,
                          capture_output=True, text=True)
    assert done.returncode == 0 and done.stdout.strip() == f"btype {btype.__version__}"


def _error(argv, cwd=ROOT):
    done = subprocess.run([sys.executable, "-m", "experiments.cli", *argv], cwd=cwd, env=ENV,
                          capture_output=True, text=True, timeout=120)
    return done.returncode, done.stderr


@pytest.mark.parametrize("out", ["file", "/proc/btype-x", "loop", ""])
def test_a_bad_out_folder_is_an_error_line_not_a_traceback(out, tmp_path):
    if out == "file":
        out = str(tmp_path / "a-file")
        Path(out).write_text("x")
    elif out == "loop":
        os.symlink(tmp_path / "b", tmp_path / "a")
        os.symlink(tmp_path / "a", tmp_path / "b")
        out = str(tmp_path / "a" / "c")
    for argv in (["compare", "--out", out, "--tasks", "parity2", "--methods", "es", "--seeds", "1"],
                 ["train", "parity2", "--out", out]):
        status, err = _error(argv, cwd=tmp_path)
        last = err.strip().splitlines()[-1]
        assert status == 2 and last.startswith(f"btype {argv[0]}: error: ") and "--out" in last, err
        assert "Traceback" not in err
    assert not (tmp_path / "runs").exists()  # --out "" wrote nothing into the working folder


def test_estimate_without_runs_and_a_bad_dask_address_are_error_lines(tmp_path):
    status, err = _error(["estimate", "--sample", str(tmp_path / "missing")])
    assert status == 2 and "error: --sample" in err and "no runs/ folder" in err and "Traceback" not in err
    status, err = _error(["estimate", "--sample", str(tmp_path)])  # a folder without runs
    assert status == 2 and "error: " in err and "holds no sampled runs" in err and "Traceback" not in err
    status, err = _error(["compare", "--out", str(tmp_path / "o"), "--dask", "tcp://127.0.0.1:1"])
    assert status == 2 and "error: --dask: cannot reach a Dask scheduler" in err and "Traceback" not in err


@pytest.mark.parametrize("option", ["--workers", "--threads"])
def test_workers_and_threads_are_bounded(option, tmp_path):
    status, err = _error(["compare", "--out", str(tmp_path), option, "1000000", "--list"])
    assert status == 2 and f"argument {option}: must be between" in err


def test_plot_refuses_a_huge_run_file_with_an_error_line(tmp_path, monkeypatch, capsys):
    from experiments import plot
    from experiments.sweep import runfiles
    runs = tmp_path / "runs"
    runs.mkdir()
    (runs / "huge.jsonl").write_bytes(b" " * 2048)
    monkeypatch.setattr(runfiles, "MAX_RUN_FILE_BYTES", 1024)
    assert plot.main([str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "huge.jsonl" in err and "more than a run file may hold" in err


def test_the_sweep_commands_load_no_numba_before_a_worker_sets_its_threads():
    # a spawned pool worker imports the command's module before its initializer runs
    code = ("import sys, experiments.compare, experiments.train, experiments.estimate; "
            "print(sorted(m for m in ('numba', 'torch', 'btype') if m in sys.modules))")
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=ENV, capture_output=True, text=True)
    assert done.returncode == 0 and done.stdout.strip() == "[]", done.stderr
