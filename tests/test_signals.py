"""Stopping a sweep with real processes: Ctrl-C twice, SIGTERM to the sweep alone, and
SIGKILL of the sweep alone. Afterwards no process of the sweep's group is left, the count
printed equals the run files on disk, and a rerun finishes every run exactly once."""
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from experiments.sweep import runfiles

ROOT = Path(__file__).resolve().parents[1]
SEEDS = 12
SWEEP = f"""
seeds = {SEEDS}
methods = ["random"]
budget = {{seconds = 0.3}}
machine = {{gates = 64, layers = 4}}
device = "cpu"
tasks = ["majority9"]
"""

pytestmark = pytest.mark.skipif(not Path("/proc/self/stat").exists() or sys.platform != "linux",
                                reason="reads process groups from /proc")


def _group(pgid) -> list:
    """Processes of process group ``pgid`` (Linux /proc)."""
    alive = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if int(fields[2]) == pgid and fields[0] != "Z":
            alive.append(int(stat.parent.name))
    return alive


def _finished(out) -> list:
    return sorted(p.name for p in (out / "runs").glob("*.jsonl") if runfiles.is_complete(p))


def _sweep(config, out, **popen):
    argv = [sys.executable, "-m", "experiments.compare", "--config", str(config), "--out", str(out),
            "--workers", "2", "--no-plots", "--quiet"]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.Popen(argv, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, **popen)


@pytest.mark.parametrize("how", ["ctrl-c twice", "sigterm to the sweep", "sigkill of the sweep"])
def test_a_stopped_sweep_leaves_no_process_and_resumes_exactly(tmp_path, how):
    config = tmp_path / "sweep.toml"
    config.write_text(SWEEP)
    out = tmp_path / "out"
    # its own process group, Ctrl-C handled as in a terminal (a background test run may ignore it)
    proc = _sweep(config, out, start_new_session=True,
                  preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    try:
        deadline = time.monotonic() + 180
        while not _finished(out) and time.monotonic() < deadline and proc.poll() is None:
            time.sleep(0.1)
        assert proc.poll() is None, proc.communicate()
        if how == "ctrl-c twice":
            os.killpg(proc.pid, signal.SIGINT)
            time.sleep(0.3)
            os.killpg(proc.pid, signal.SIGINT)
        elif how == "sigterm to the sweep":
            os.kill(proc.pid, signal.SIGTERM)
        else:
            os.kill(proc.pid, signal.SIGKILL)
        _, err = proc.communicate(timeout=120)
        deadline = time.monotonic() + 15
        while _group(proc.pid) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert _group(proc.pid) == [], "processes of the sweep outlived it"
    finally:
        for pid in _group(proc.pid):
            os.kill(pid, signal.SIGKILL)
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    finished = _finished(out)
    assert "Traceback" not in err
    if how == "sigkill of the sweep":
        assert proc.returncode == -signal.SIGKILL
    else:
        assert proc.returncode == (130 if how == "ctrl-c twice" else 143), err
        last = err.strip().splitlines()[-1]
        assert last == f"interrupted: {len(finished)} runs finished, rerun to continue"
    before = {name: (out / "runs" / name).stat().st_mtime_ns for name in finished}
    rerun = _sweep(config, out)
    stdout, err = rerun.communicate(timeout=300)
    assert rerun.returncode == 0, err
    done, skipped = map(int, re.search(r"sweep: (\d+) runs done, (\d+) already finished", stdout).groups())
    assert (done, skipped) == (SEEDS - len(finished), len(finished))
    assert len(_finished(out)) == SEEDS
    assert {name: (out / "runs" / name).stat().st_mtime_ns for name in finished} == before  # not rewritten
