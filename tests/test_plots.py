"""Every plot function draws from a small synthetic result set; plot.py remakes all figures."""
import json

import matplotlib
import numpy as np
import pytest

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from experiments import plot as plot_command  # noqa: E402
from experiments.analysis import summary  # noqa: E402
from experiments.analysis.anchors import CGP_MEDIANS  # noqa: E402
from experiments.figures import make as plot, plots  # noqa: E402
from experiments.sweep.runfiles import FORMAT, Run, load_runs  # noqa: E402

METHODS = ("es", "anneal", "ga", "random", "sgd")

MACHINE = {"cpu": "Test CPU 9000", "cores": 2, "gpu": None}
RELAXED = "relaxed_train_fitness"


def _run(task, method, seed, link="switch", solve_at=None, n=6):
    """A run whose fitness climbs linearly and solves at record ``solve_at`` (None: never)."""
    records = []
    for step in range(n):
        solved = solve_at is not None and step >= solve_at
        fit = 1.0 if solved else 0.5 + 0.4 * step / n
        rec = {"method": method, "task": task, "seed": seed, "step": step, "evaluations": 10 * step,
               "gate_evals": 1000 * 10 ** step, "seconds": 0.1 * step, "train_fitness": fit,
               "test_accuracy": fit - 0.05, "solved": solved}
        if method == "sgd":
            rec[RELAXED] = min(1.0, fit + 0.1)
            rec["relaxed_test_accuracy"] = min(1.0, fit + 0.05)
        records.append(rec)
        if solved:
            break
    header = {"type": "header", "format": FORMAT, "job": {"task": task, "method": method, "seed": seed,
                                        "network": {"n_gates": 32, "layers": 4, "link": link}},
              "machine": MACHINE, "versions": {"btype": "0.test"},
              "sweep": {"preset": "synthetic", "axis": "seconds", "budget": 0.5}}
    footer = {"type": "footer", "solved": records[-1]["solved"], "train_fitness": records[-1]["train_fitness"],
              "test_accuracy": records[-1]["test_accuracy"],
              "stop_reason": "solved" if records[-1]["solved"] else "seconds"}
    if records[-1]["solved"]:
        footer.update(pruned_gates=10 + seed, pruned_depth=3 + seed % 2)
    return Run(header, records, footer)


def synthetic_runs():
    runs = []
    for task in ("parity3", "parity4", "mux6", "digits"):
        for i, method in enumerate(METHODS):
            for seed in range(4):
                # method i solves seeds < 4 - i on parity3; fewer on bigger tasks; never on digits
                k = {"parity3": 4 - i, "parity4": 3 - i, "mux6": 2, "digits": 0}[task]
                runs.append(_run(task, method, seed, solve_at=1 + seed if seed < k else None))
    for method in ("es", "sgd"):
        for seed in range(4):
            runs.append(_run("parity3", method, seed, link="turing"))
    return runs


@pytest.fixture(scope="module")
def runs():
    return synthetic_runs()


def _lines(ax):
    return {line.get_label(): line for line in ax.get_lines() if not line.get_label().startswith("_")}


def test_convergence_draws_one_median_per_method_in_its_colour(runs):
    group = [r for r in runs if r.task == "parity3" and r.link == "switch"]
    ax = plots.plot_convergence(group, x="gate_evals", y="train_fitness")
    lines = _lines(ax)
    assert set(lines) == {f"{m} (4)" for m in METHODS}
    for method in METHODS:
        assert matplotlib.colors.same_color(lines[f"{method} (4)"].get_color(), plots.METHOD_COLORS[method])
    assert ax.get_xscale() == "log" and ax.get_ylabel() == "train fitness"
    assert len(ax.collections) == len(METHODS)  # one confidence band each
    # es solves every seed: its median reaches 1 by the end of the grid.
    assert lines["es (4)"].get_ydata()[-1] == 1.0
    plt.close("all")


def test_convergence_uses_a_given_axes():
    fig, ax = plt.subplots()
    group = [_run("parity3", "ga", s, solve_at=2) for s in range(3)]
    assert plots.plot_convergence(group, x="seconds", y="test_accuracy", ax=ax) is ax
    assert ax.get_xlabel() == "wall time (s)" and ax.get_xscale() == "linear"
    plt.close(fig)


def test_ecdf_ends_at_the_success_rate(runs):
    group = [r for r in runs if r.task == "parity3" and r.link == "switch"]
    ax = plots.plot_ecdf(group, axis="seconds")
    lines = _lines(ax)
    for i, method in enumerate(METHODS):
        solved = 4 - i
        line = lines[f"{method} ({solved}/4)"]
        assert line.get_ydata()[-1] == pytest.approx(solved / 4)
        assert line.get_ydata()[0] == 0.0
    plt.close("all")


def test_scaling_marks_unsolved_cells(runs):
    ax = plots.plot_scaling([r for r in runs if r.link == "switch"], family="parity", axis="seconds")
    labels = {c.get_label() for c in ax.containers}
    # es solves 4/4 and 3/4 (medians reached); ga 2/4 and 1/4: its median is never reached
    assert labels == {"es", "anneal"}
    hollow = {line.get_label() for line in ax.get_lines() if line.get_marker() == "^"}
    assert {"ga", "random", "sgd"} <= hollow, "cells whose median was not reached need a marker"
    assert ax.get_yscale() == "log"
    assert list(ax.get_xticks()) == [3, 4]
    # solved counts label the reached medians only; each unsolved cell is just its triangle
    assert sorted(t.get_text() for t in ax.texts) == ["3/4", "3/4", "4/4"]
    triangles = sum(len(line.get_xdata()) for line in ax.get_lines() if line.get_marker() == "^")
    assert triangles == 5 * 2 - 3
    plt.close("all")


def test_hardening_gap_draws_relaxed_and_hardened(runs):
    group = [r for r in runs if r.task == "digits"]
    ax = plots.plot_hardening_gap(group, split="train")
    lines = _lines(ax)
    assert set(lines) == {"sgd hardened", "sgd relaxed"}
    assert lines["sgd relaxed"].get_linestyle() == "--" and lines["sgd hardened"].get_linestyle() == "-"
    # the synthetic relaxed fitness is 0.1 above the hardened one until both saturate
    gap = lines["sgd relaxed"].get_ydata() - lines["sgd hardened"].get_ydata()
    assert np.nanmax(gap) == pytest.approx(0.1)
    plt.close("all")


def test_link_modes_draws_both_links(runs):
    group = [r for r in runs if r.task == "parity3" and r.method in ("es", "sgd")]
    ax = plots.plot_link_modes(group)
    lines = _lines(ax)
    assert set(lines) == {"es switch (4/4 solved)", "es turing (0/4 solved)",
                          "sgd switch (0/4 solved)", "sgd turing (0/4 solved)"}
    assert lines["es turing (0/4 solved)"].get_linestyle() == "--"
    plt.close("all")


def test_method_colours_are_fixed_and_distinct():
    assert len(set(plots.METHOD_COLORS.values())) == len(plots.METHOD_COLORS)
    assert set(METHODS) <= set(plots.METHOD_COLORS)
    assert plots.method_color("newmethod") == plots.method_color("newmethod")


def test_machine_caption(runs):
    assert plots.machine_caption(runs[:3]) == "made on Test CPU 9000 (2 cores), no GPU, btype 0.test"


def test_summary_rows(runs):
    rows = summary.task_rows([r for r in runs if r.task == "parity3" and r.link == "switch"], n_boot=200)
    by = {row["method"]: row for row in rows}
    assert [row["method"] for row in rows] == list(METHODS)
    assert by["es"]["solved"] == 4 and by["sgd"]["solved"] == 0
    # es seeds solve at records 1..4 -> seconds 0.1..0.4; median 0.25
    assert by["es"]["seconds"].value == pytest.approx(0.25)
    assert by["es"]["evaluations"].value == pytest.approx(25.0)
    assert by["sgd"]["seconds"].value == np.inf
    # stop reasons and pruned sizes from the footers: es solves seeds 0..3 (10..13 gates)
    assert by["es"]["stop_reasons"] == {"solved": 4} and by["sgd"]["stop_reasons"] == {"seconds": 4}
    assert by["es"]["pruned_gates"] == 11.5 and by["es"]["pruned_depth"] == 3.5
    assert by["anneal"]["stop_reasons"] == {"solved": 3, "seconds": 1} and by["anneal"]["pruned_gates"] == 11
    assert np.isnan(by["sgd"]["pruned_gates"])


def _write(runs, directory):
    d = directory / "runs"
    d.mkdir(parents=True)
    for r in runs:
        job = r.header["job"]
        link = "" if r.link == "switch" else f"__{r.link}"
        with open(d / f"{job['task']}__{job['method']}{link}__seed{job['seed']}.jsonl", "w") as fh:
            for obj in [r.header, *({"type": "record", **x} for x in r.records), r.footer]:
                fh.write(json.dumps(obj) + "\n")


def test_plot_remakes_every_figure_and_the_summary(runs, tmp_path, capsys):
    _write(runs, tmp_path)
    assert len(load_runs(tmp_path)) == len(runs)
    assert plot_command.main([str(tmp_path)]) == 0
    for stem in plot.FIGURES:
        for ext in ("png", "svg"):
            assert (tmp_path / "figures" / f"{stem}.{ext}").stat().st_size > 0, stem
    text = (tmp_path / "summary.md").read_text()
    for task in ("parity3", "parity4", "mux6", "digits"):
        assert f"## {task}" in text
    assert "| es | 4/4 |" in text and "Test CPU 9000" in text
    assert "| parity3 | es | turing | 0/4 |" in text
    assert "figures" in capsys.readouterr().out


def test_plot_of_an_empty_directory_fails_clearly(tmp_path, capsys):
    (tmp_path / "runs").mkdir()
    assert plot_command.main([str(tmp_path)]) == 2
    assert "no finished runs" in capsys.readouterr().err


def test_a_single_size_family_with_a_published_median_gets_its_anchor():
    group = [_run("epar8", m, s, solve_at=2 if s < 3 else None) for m in ("es", "sgd") for s in range(4)]
    ax = plots.plot_scaling(group, family="epar", axis="evaluations")
    stars = [line for line in ax.get_lines() if line.get_marker() == "*"]
    assert len(stars) == 1 and list(stars[0].get_ydata()) == [CGP_MEDIANS["epar8"]]
    assert list(ax.get_xticks()) == [8]
    plt.close("all")


def _sized(run, gates):
    """``run`` with a pruned size in its footer, solved or not (as run_job writes them)."""
    return Run(run.header, run.records, {**run.footer, "pruned_gates": gates, "pruned_depth": 2})


def test_gate_limit_counts_every_run_whose_pruned_machine_fits():
    # es solves seeds 0-2 of parity3 here, sgd none; sizes by seed, solved or not
    group = [_sized(_run("parity3", m, s, solve_at=1 if (m == "es" and s < 3) else None), g)
             for m, sizes in (("es", (40, 60, 5000, 5001)), ("sgd", (4999, 5000, 5001, 9000)))
             for s, g in enumerate(sizes)]
    by = {row["method"]: row for row in summary.task_rows(group, n_boot=50, gate_limit=5000)}
    # counted by hand: es 40, 60, 5000 fit (5001 does not); sgd 4999, 5000 fit
    assert (by["es"]["fits"], by["es"]["sized"]) == (3, 4)
    assert (by["sgd"]["fits"], by["sgd"]["sized"]) == (2, 4)
    # the size column stays a median over solved runs only: es 40, 60, 5000 -> 60; sgd none
    assert by["es"]["pruned_gates"] == 60 and np.isnan(by["sgd"]["pruned_gates"])
    text = summary.summary_markdown(group, n_boot=50, gate_limit=5000)
    assert "fit in 5,000 gates, pruned" in text
    assert "| 3/4 |" in text and "| 2/4 |" in text
    assert "fit in" not in summary.summary_markdown(group, n_boot=50)


@pytest.mark.parametrize("bad, error", [(0, ValueError), (-5, ValueError), (2.5, TypeError),
                                        (True, TypeError), ("5000", TypeError)])
def test_gate_limit_is_checked(bad, error):
    with pytest.raises(error, match="gate_limit"):
        summary.check_gate_limit(bad)


def test_gate_limit_on_the_command_line(tmp_path, capsys):
    with pytest.raises(SystemExit):
        plot_command.main([str(tmp_path), "--gate-limit", "0"])
    assert "--gate-limit: must be a whole number of gates >= 1, got '0'" in capsys.readouterr().err


def test_the_summary_opens_with_a_task_by_method_glance_table():
    # parity3: es solves all 3 seeds at records 1, 2, 3 (gate-evals 1e4, 1e5, 1e6: median
    # 1e5), sgd seed 0 only (1 of 3: no median); digits (a classification task) solves
    # nothing: the cell is the median final test accuracy, 0.5 + 0.4 * 5/6 - 0.05 = 78.3%.
    group = [_run("parity3", "es", s, solve_at=1 + s) for s in range(3)]
    group += [_run("parity3", "sgd", s, solve_at=1 if s == 0 else None) for s in range(3)]
    for m in ("es", "sgd"):
        for s in range(3):
            run = _run("digits", m, s)
            group.append(Run({**run.header, "task": {"n_classes": 10}}, run.records, run.footer))
    text = summary.summary_markdown(group, n_boot=50)
    glance = text[text.index("## At a glance"):text.index("## digits")]
    assert "| task | es | sgd |" in glance
    assert "| digits | 78.3% | 78.3% |" in glance
    assert "| parity3 | 3/3 · 1e+05 | 1/3 |" in glance


def test_scaling_panels_draw_the_fitted_growth_with_its_factor():
    # Gate-evaluations to solve are 1e4, 1e5, 1e6 on parity3, 4, 5 for every seed: the
    # cost grows exactly 10-fold per input. sgd never solves, so it gets no fit.
    group = []
    for n in (3, 4, 5):
        for m in ("es", "sgd"):
            for s in range(3):
                run = _run(f"parity{n}", m, s, solve_at=n - 2 if m == "es" else None)
                group.append(Run({**run.header, "task": {"n_inputs": n}}, run.records, run.footer))
    ax = plots.plot_scaling(group, family="parity", axis="gate_evals", n_boot=20)
    texts = [t.get_text() for t in ax.texts if "per input" in t.get_text()]
    assert texts == ["es ×10 per input"]
    dashed = [line for line in ax.get_lines() if line.get_linestyle() == "--"]
    assert len(dashed) == 1 and np.allclose(dashed[0].get_ydata(), [1e4, 1e5, 1e6], rtol=1e-3)
    plt.close("all")


def test_the_summary_tabulates_growth_on_every_cost_axis():
    # es solves parity3, 4, 5 at records 1, 2, 3: gate-evaluations 1e4, 1e5, 1e6 (10x per
    # input), evaluations 10, 20, 30 and seconds 0.1, 0.2, 0.3 (both sqrt(3) = 1.73x per input
    # by least squares on the log: ln 3 over two inputs).
    group = []
    for n in (3, 4, 5):
        for s in range(3):
            run = _run(f"parity{n}", "es", s, solve_at=n - 2)
            group.append(Run({**run.header, "task": {"n_inputs": n}}, run.records, run.footer))
    text = summary.summary_markdown(group, n_boot=50)
    growth = text[text.index("## Growth with input count"):]
    for axis, factor in (("gate_evals", "10×"), ("evaluations", "1.73×"), ("seconds", "1.73×")):
        assert f"| parity | 3, 4, 5 | es | {axis} | {factor} " in growth, axis


def test_anchor_panel_puts_each_method_beside_the_published_median():
    # es solves mul3 at record 2 (20 evaluations) in 3 of 4 seeds and epar8 never; sgd solves
    # mul3 at record 4 (40 evaluations) in every seed. Budget line: the most evaluations spent.
    group = [_run("mul3", "es", s, solve_at=2 if s < 3 else None) for s in range(4)]
    group += [_run("mul3", "sgd", s, solve_at=4) for s in range(4)]
    group += [_run("epar8", m, s) for m in ("es", "sgd") for s in range(4)]
    ax = plots.plot_anchors(group, n_boot=50)
    assert [t.get_text() for t in ax.get_xticklabels()] == ["epar8", "mul3"]  # CGP_MEDIANS' order
    stars = [line for line in ax.get_lines() if line.get_marker() == "*"]
    assert len(stars) == 1 and list(stars[0].get_ydata()) == [CGP_MEDIANS["epar8"],
                                                             CGP_MEDIANS["mul3"]]
    medians = sorted(float(line.get_ydata()[0]) for line in ax.get_lines() if line.get_marker() == "o")
    assert medians == [20.0, 40.0]  # es: median of 20, 20, 20, unsolved; sgd: 40 in every seed
    triangles = [line for line in ax.get_lines() if line.get_marker() == "^"]
    # epar8: nobody solved, both at the epar8 budget line (5 records x 10 evaluations)
    assert sorted(float(y) for line in triangles for y in line.get_ydata()) == [50.0, 50.0]
    assert {round(float(x)) for line in triangles for x in line.get_xdata()} == {0}
    assert sorted(t.get_text() for t in ax.texts) == ["3/4", "4/4"]
    plt.close("all")
