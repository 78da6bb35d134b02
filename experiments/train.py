"""``btype train``: train one machine from the command line and save it.

    btype train parity5 --out runs/p5 --budget 2s
    btype train data/noisy.csv --target label --method sgd --option lr=0.2 --budget 500steps --out runs/noisy
    btype train mux11 --gates 1500 --layers 14 --budget 1e9ge --checkpoint --out runs/mux11   # Ctrl-C, then --resume

Writes into ``--out`` the machine (``TASK__METHOD__seedS.npz``, :meth:`btype.Network.save`),
its trace (``TASK__METHOD__seedS.jsonl``: a header, one record per line, a footer; the run
file format of ``btype compare``, so ``btype plot`` reads it) and ``report.json`` (train
and test figures as the simulator scores the saved machine, its size once pruned with
:func:`btype.export.prune`, why it stopped). With ``--checkpoint`` the run saves its state
as it goes (``checkpoint.npz``); ``--resume`` continues from it. Ctrl-C or SIGTERM stops
the run without writing the machine (exit status 130 or 143).
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

from experiments.cli import parser_for
from experiments.sweep.args import budget_arg, device_arg, out_arg, out_dir_problem, threads_arg

__all__ = ["main", "parse_options", "REPORT_FILE", "CHECKPOINT_FILE"]

REPORT_FILE = "report.json"
CHECKPOINT_FILE = "checkpoint.npz"


def parse_options(texts) -> dict:
    """Trainer options from ``--option`` values: a JSON object, or ``key=value`` (the value
    read as JSON where it parses, else as a string)."""
    options = {}
    for text in texts or ():
        text = text.strip()
        if text.startswith("{"):
            value = json.loads(text)
            if not isinstance(value, dict):
                raise ValueError(f"--option {text!r} must be a JSON object")
            options.update(value)
            continue
        key, sep, value = text.partition("=")
        if not sep or not key.strip():
            raise ValueError(f"--option must be KEY=VALUE or a JSON object, got {text!r}")
        try:
            options[key.strip()] = json.loads(value)
        except ValueError:
            options[key.strip()] = value
    return options


def _parser():
    import btype
    p = parser_for("train", __doc__.split("\n\n")[0].removeprefix("``btype train``: "),
                   epilog=__doc__.split("\n\n", 1)[1])
    p.add_argument("task", help="a task name btype.tasks.get knows (parity5, digits, ...) or a data file "
                                "(.pla, .csv, .npz)")
    p.add_argument("--out", type=out_arg, required=True, help="folder for the machine, its trace and the report")
    p.add_argument("--target", help="CSV files: the target column's name or position (default: the last)")
    p.add_argument("--levels", type=int, metavar="N",
                   help="CSV files with real-valued columns: code each in N bits (a thermometer code of "
                        "quantile cut points fitted on the training rows)")
    p.add_argument("--method", default="es", choices=btype.trainers(), help="the trainer (default es)")
    p.add_argument("--option", action="append", metavar="KEY=VALUE",
                   help="a trainer option, e.g. lr=0.2 or flips=2, or a JSON object of options; repeatable")
    p.add_argument("--gates", type=int, metavar="N", help="gates (default: 32 per input, at least 64)")
    p.add_argument("--layers", type=int, metavar="N", help="layers of a layered machine (default 10)")
    p.add_argument("--reach", type=int, metavar="N", help="layers back a port may read (default 2)")
    p.add_argument("--kind", choices=("layered", "recurrent"),
                   help="machine kind (default: recurrent for clocked tasks, else layered)")
    p.add_argument("--link", choices=("switch", "turing"), default="switch", help="link mode (default switch)")
    p.add_argument("--per-class", type=int, metavar="N", help="classification: outputs voting for each class (default 10)")
    p.add_argument("--budget", type=budget_arg, default=budget_arg("10s"), metavar="AMOUNT[AXIS]",
                   help="2s (seconds), 1e9ge (gate-evaluations), 1e6ev (evaluations), 500steps (default 10s)")
    p.add_argument("--target-fitness", type=float, default=1.0, metavar="F",
                   help="stop once the training fitness reaches F (default 1: solved)")
    p.add_argument("--seed", type=int, default=0, help="seed of the wiring and the run (default 0)")
    p.add_argument("--device", type=device_arg, default="auto", help="device of gradient trainers (default auto)")
    p.add_argument("--threads", type=threads_arg, default=1, help="Numba/torch threads (default 1)")
    p.add_argument("--checkpoint", action="store_true", help=f"save the run's state as it goes (OUT/{CHECKPOINT_FILE})")
    p.add_argument("--resume", action="store_true", help=f"continue from OUT/{CHECKPOINT_FILE} if it is there")
    return p


def _job(args):
    from experiments.sweep import execute, machines, taskfiles
    from experiments.sweep.job import Job
    if taskfiles.is_task_file(args.task):
        name = taskfiles.task_name_of_file(args.task)
        task_args = {"file": str(Path(args.task).expanduser().resolve())}
        if args.target is not None:
            task_args["target"] = int(args.target) if args.target.lstrip("-").isdigit() else args.target
        if args.levels is not None:
            task_args["levels"] = args.levels
    else:
        name, task_args = args.task, {}
    task = execute.load_task(name, **task_args)   # cached: the run loads it again
    spec = machines.default_spec(task)
    if args.per_class is not None and task.n_classes is not None:
        spec["outputs_per_class"] = args.per_class
    layers = args.layers
    if layers is None and args.kind == "layered" and spec["kind"] == "recurrent":
        layers = 10
    spec = machines.with_overrides(spec, gates=args.gates, layers=layers, reach=args.reach,
                                   kind=args.kind, where="the machine")
    options = parse_options(args.option)
    if args.checkpoint or args.resume:
        options.update(checkpoint_path=str(args.out / CHECKPOINT_FILE), resume=bool(args.resume))
    budget = {args.budget.axis or "seconds": args.budget.amount if (args.budget.axis or "seconds") == "seconds"
              else int(args.budget.amount), "target": args.target_fitness}
    return Job(task=name, method=args.method, seed=args.seed, budget=budget,
               network={**spec, "link": args.link}, options=options, device=args.device,
               task_args=task_args, threads=args.threads), task


def report_of(job, task, out: Path) -> dict:
    """The report of a finished run: the saved machine scored by the simulator."""
    import btype
    from experiments.sweep.runfiles import read_run
    run = read_run(out / f"{job.name}.jsonl")
    net = btype.Network.load(out / f"{job.name}.npz")
    train, test = task.score(net, "train"), task.score(net, "test")
    return {"task": job.task, "method": job.method, "seed": job.seed, "machine": job.network,
            "budget": job.budget, "options": {k: v for k, v in job.options.items() if k not in ("resume",)},
            "train_fitness": float(train.fitness), "test_accuracy": float(test.fitness),
            "solved": bool(train.solved), "stop_reason": run.footer.get("stop_reason"),
            "gates": int(net.n_gates), "pruned_gates": run.footer.get("pruned_gates"),
            "pruned_depth": run.footer.get("pruned_depth"), "wall_seconds": run.footer.get("wall_seconds"),
            "machine_file": f"{job.name}.npz", "trace_file": f"{job.name}.jsonl"}


def main(argv=None) -> int:
    p = _parser()
    args = p.parse_args(argv)
    problem = out_dir_problem(args.out)
    if problem:
        p.error(f"--out: {problem}")
    try:
        job, task = _job(args)
    except (TypeError, ValueError, OSError) as exc:
        p.error(str(exc))
    from experiments.sweep import interrupts
    from experiments.sweep.execute import run_job
    print(f"training {job.method} on {job.task} ({task.n_inputs} inputs), machine {job.network}, "
          f"budget {job.budget}, seed {job.seed}", flush=True)
    with interrupts.stop_signals():
        try:
            with interrupts.jobs_in_this_process():
                outcome = run_job(job, args.out)
        except KeyboardInterrupt:
            saved = " (its checkpoint is saved: rerun with --resume)" if args.checkpoint or args.resume else ""
            print(f"\ninterrupted: nothing written{saved}", file=sys.stderr)
            return interrupts.SIGNAL_STATUS.get(interrupts.stop_signals.received, 130)
        except (TypeError, ValueError) as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 2
    report = report_of(job, task, args.out)
    (args.out / REPORT_FILE).write_text(json.dumps(report, indent=1) + "\n", encoding="utf-8")
    already = " (already finished: read from its files)" if outcome["status"] == "skipped" else ""
    print(f"train fitness {report['train_fitness']:.4f}, test accuracy {report['test_accuracy']:.4f}, "
          f"{'solved' if report['solved'] else 'not solved'} ({report['stop_reason']}); "
          f"{report['gates']} gates, {report['pruned_gates']} once pruned{already}")
    print(f"machine {args.out / report['machine_file']}, trace {args.out / report['trace_file']}, "
          f"report {args.out / REPORT_FILE}")
    return 0


if __name__ == "__main__":
    from experiments.cli import exit_with
    exit_with(main())
