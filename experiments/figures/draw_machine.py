"""Draw a trained B-type before and after pruning (Graphviz ``dot`` + matplotlib).

A small random layered B-type is trained on a truth-table task (default
``add1``, the half adder: sum and carry of two bits) by ``btype.search`` (default
``es``), restarting from new wiring until one solves the task. The solved
machine is drawn as it is and as :func:`btype.export.prune` reduces it, side by
side in one PNG; the machine itself is saved beside the figure (``.npz``) so the
``python -m btype.export`` command line can be tried on it.

Example (the README figure)::

    python experiments/draw_machine.py --task add1 --gates 32 --seed 0 \\
        --out docs/figures/pruned_add1.png
"""
from __future__ import annotations

import json
import pathlib
import shutil
import subprocess
import sys
import tempfile

import numpy as np

import btype
import btype.export as bx
import btype.search
from experiments.cli import parser_for


def train_machine(task, args):
    """The first of ``args.restarts`` machines (new wiring each) that the search solves."""
    for attempt in range(args.restarts):
        net = btype.random_network(task.n_inputs, args.gates, task.n_outputs,
                                   seed=args.seed * 1000 + attempt, link=args.link,
                                   layers=args.layers, reach=args.reach)
        result = btype.search.train(net, task, method=args.method,
                                    budget=btype.Budget(evaluations=args.evals),
                                    seed=args.seed + attempt, progress=False)
        if result.solved:
            return result.network, attempt
    raise SystemExit(f"no machine solved {task.name} in {args.restarts} restarts of "
                     f"{args.evals} evaluations; try more gates or evaluations")


def render(dot_text, path):
    subprocess.run(["dot", "-Tpng", "-Gdpi=110", "-o", str(path)], input=dot_text, text=True,
                   check=True)


def side_by_side(left, right, titles, out):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    images = [plt.imread(str(p)) for p in (left, right)]
    height = max(im.shape[0] for im in images)
    widths = [im.shape[1] for im in images]
    dpi = 110
    fig, axes = plt.subplots(1, 2, figsize=(sum(widths) / dpi + 0.6, height / dpi + 0.6),
                             gridspec_kw={"width_ratios": widths}, dpi=dpi)
    for ax, im, title in zip(axes, images, titles):
        ax.imshow(im)
        ax.set_title(title, fontsize=10)
        ax.axis("off")
    fig.tight_layout()
    fig.savefig(out, dpi=dpi)
    plt.close(fig)


def main(argv=None):
    parser = parser_for("draw-machine", __doc__.split("\n\n")[0])
    parser.add_argument("--task", default="add1", help="a btype.tasks name with few inputs")
    parser.add_argument("--gates", type=int, default=32, help="gates of the machine (default 32)")
    parser.add_argument("--layers", type=int, default=6, help="layers (default 6)")
    parser.add_argument("--reach", type=int, default=3, help="layers a port may reach back (default 3)")
    parser.add_argument("--link", choices=btype.LINK_MODES, default="switch", help="link mode (default switch)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the first try (default 0)")
    parser.add_argument("--method", default="es", choices=btype.trainers("search"), help="search method (default es)")
    parser.add_argument("--evals", type=int, default=4000, help="evaluations per restart")
    parser.add_argument("--restarts", type=int, default=40, help="seeds tried until one solves (default 40)")
    parser.add_argument("--out", default="docs/figures/pruned_add1.png", help="PNG written (default docs/figures/pruned_add1.png)")
    args = parser.parse_args(argv)
    if shutil.which("dot") is None:
        sys.exit("Graphviz 'dot' not found (apt-get install -y graphviz)")

    task = btype.tasks.get(args.task)
    net, attempt = train_machine(task, args)
    pruned, mapping = bx.prune(net)
    X, _ = task.split("train")
    assert np.array_equal(btype.evaluate(pruned, X), btype.evaluate(net, X))

    out = pathlib.Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    net.save(out.with_suffix(".npz"))
    before, after = bx.describe(net), bx.describe(pruned)
    titles = [f"trained ({before['n_gates']} gates, {before['n_active']} active)",
              f"pruned ({after['n_gates']} gates, depth {after['depth']})"]
    with tempfile.TemporaryDirectory() as tmp:
        left, right = pathlib.Path(tmp, "before.png"), pathlib.Path(tmp, "after.png")
        render(bx.to_dot(net), left)
        render(bx.to_dot(pruned, interrupted="omit"), right)
        side_by_side(left, right, titles, out)
    print(f"{task.name}: solved on restart {attempt}; machine saved to {out.with_suffix('.npz')}")
    print(json.dumps({"before": before, "after": after, "outputs": mapping.outputs}, indent=1))
    print(f"figure: {out}")


if __name__ == "__main__":
    main()
