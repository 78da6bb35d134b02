"""Own training loop around sgd.RelaxedNetwork's kernels (run from the repository root).

run(task, cfg, seed) -> dict of results. cfg keys (defaults = sgd.train's current defaults):
  init: "random" | "inverter" | "skip" | "pairs" | "bits"; scale: |theta| or std (None: package default)
  lr, opt: "adam" | "sgd" | "rmsprop" | "adamw"; sched: "const" | "cos" | "sgdr" (period, cosine to 0
  then restart, theta kept); warmup
  tau, tau_end (geometric over each restart segment)
  mode: "soft" | "gumbel"; st (straight-through); noise, noise_end (logistic noise scale, geometric)
  lnorm: per-layer gradient normalisation (grad of a layer / its RMS)
  clamp: clamp theta to [-c, c] after each step
  restarts: R segments of steps/R, fresh init and optimiser each, best hardened kept
  check: hardened check every N steps (stop when solved)
"""
import json, math, sys, time
import numpy as np
import torch
torch.set_num_threads(1)
import numba
numba.set_num_threads(1)
import btype, sgd

MACHINES = {"parity5": (600, 14), "mux6": (400, 10), "add2": (400, 12), "mul2": (300, 10)}

DEFAULT = dict(init="random", scale=None, lr=0.05, opt="adam", sched="const", period=1000, warmup=0,
               tau=1.0, tau_end=None, mode="soft", st=False, noise=1.0, noise_end=None,
               lnorm=False, clamp=None, wd=0.01, loss="nll", plateau=None, kick=None, restarts=1, check=25, eps=1e-4, steps=5000)


def layers_of(net):
    w = np.array(net.wiring); n_in = net.n_inputs
    level = np.zeros(n_in + len(w), np.int64)
    for g in range(len(w)):
        level[n_in + g] = 1 + max(level[w[g, 0]], level[w[g, 1]])
    return level, level[n_in:]


def init_theta(net, init, scale, seed):
    G = net.n_gates
    rng = np.random.default_rng(seed)
    if init == "random":
        return rng.normal(0, 1.0 if scale is None else scale, (G, 2))
    s = 3.0 if scale is None else scale
    w = np.array(net.wiring); n_in = net.n_inputs
    level, glevel = layers_of(net)
    if init == "inverter":
        keep = rng.integers(0, 2, G)
    elif init == "skip":
        # keep the port whose source is the lowest level (shortest path to the inputs)
        lv = level[w]
        keep = np.where(lv[:, 0] == lv[:, 1], rng.integers(0, 2, G), np.argmin(lv, 1))
    elif init == "pairs":
        # pairs of inverters: gates of even level keep a port that reads an odd-level gate (level-1)
        # when there is one, so each (odd, even) pair passes a source twice inverted; odd-level
        # gates keep a random port
        lv = level[w]
        keep = rng.integers(0, 2, G)
        even = glevel % 2 == 0
        prev = lv == (glevel[:, None] - 1)
        one = prev.sum(1) == 1
        keep = np.where(even & one, np.argmax(prev, 1), keep)
    else:
        raise ValueError(init)
    th = np.full((G, 2), -s)
    th[np.arange(G), keep] = s
    return th


def make_net(task_name, seed):
    task = btype.tasks.get(task_name)
    G, L = MACHINES[task_name]
    net = btype.random_network(task.n_inputs, G, task.n_outputs, layers=L, reach=2, seed=seed)
    return task, net


def geo(a, b, frac):
    return a if b is None else a * (b / a) ** frac


def run(task_name, cfg, seed):
    c = dict(DEFAULT, **cfg)
    task, net = make_net(task_name, seed)
    rel = sgd.RelaxedNetwork(net, init="random", seed=seed, backend="numba")
    X = torch.as_tensor(np.array(task.X_train), dtype=torch.float32)
    Y = torch.as_tensor(np.array(task.Y_train), dtype=torch.float32)
    Yb = np.array(task.Y_train, bool)
    w = task.output_weights
    w = np.ones(task.n_outputs) if w is None else np.asarray(w, float)
    wt = torch.as_tensor(w / w.sum(), dtype=torch.float32)
    wn = w / w.sum()
    _, glevel = layers_of(net)
    layer_ids = [torch.as_tensor(np.nonzero(glevel == k)[0]) for k in range(1, glevel.max() + 1)]
    gen = torch.Generator(); gen.manual_seed(seed)
    steps = c["steps"]; R = c["restarts"]; seg = steps // R

    def fitness(out):
        right = (out > 0.5) == Yb
        return float((right.mean(0) * wn).sum())

    best = (-1.0, None); solved_at = None; t0 = time.perf_counter()
    step = 0
    for r in range(R):
        theta = torch.nn.Parameter(torch.as_tensor(init_theta(net, c["init"], c["scale"], seed + 1009 * r),
                                                   dtype=torch.float32))
        kick_rng = np.random.default_rng(seed + 7777 + r)
        best_loss, since, n_kicks = float("inf"), 0, 0
        if c["opt"] == "adam":
            opt = torch.optim.Adam([theta], lr=c["lr"])
        elif c["opt"] == "adamw":
            opt = torch.optim.AdamW([theta], lr=c["lr"], weight_decay=c["wd"])
        elif c["opt"] == "rmsprop":
            opt = torch.optim.RMSprop([theta], lr=c["lr"])
        elif c["opt"] == "sgd":
            opt = torch.optim.SGD([theta], lr=c["lr"], momentum=0.9)
        for i in range(seg):
            frac = i / seg
            if c["sched"] == "cos":
                lr = c["lr"] * 0.5 * (1 + math.cos(math.pi * frac))
            elif c["sched"] == "sgdr":
                lr = c["lr"] * 0.5 * (1 + math.cos(math.pi * ((i % c["period"]) / c["period"])))
            else:
                lr = c["lr"]
            if c["warmup"] and i < c["warmup"]:
                lr *= (i + 1) / c["warmup"]
            for gr in opt.param_groups:
                gr["lr"] = lr
            tau = geo(c["tau"], c["tau_end"], frac)
            z = theta
            if c["mode"] == "gumbel":
                u = torch.rand(theta.shape, generator=gen).clamp(1e-7, 1 - 1e-7)
                z = theta + geo(c["noise"], c["noise_end"], frac) * (torch.log(u) - torch.log1p(-u))
            e = torch.sigmoid(z / tau)
            if c["st"]:
                e = (z > 0).float() + (e - e.detach())
            out = rel(X, enables=e)
            right = Y * out + (1 - Y) * (1 - out)
            if c["loss"] == "mse":
                loss = ((1 - right).pow(2).mean(0) * wt).sum()
            else:
                loss = (-torch.log(c["eps"] + (1 - 2 * c["eps"]) * right).mean(0) * wt).sum()
            opt.zero_grad(set_to_none=True)
            loss.backward()
            if c["lnorm"]:
                g = theta.grad
                for ids in layer_ids:
                    gl = g[ids]
                    g[ids] = gl / (gl.pow(2).mean().sqrt() + 1e-12)
            opt.step()
            if c["clamp"] is not None:
                with torch.no_grad():
                    theta.clamp_(-c["clamp"], c["clamp"])
            step += 1
            if c["plateau"] is not None:
                lv = float(loss.detach())
                if lv < best_loss * (1 - 1e-3):
                    best_loss, since = lv, 0
                else:
                    since += 1
                if since >= c["plateau"]:
                    # kick: re-draw a fraction of the gates (all with kick=None: a restart), fresh optimiser state
                    n_kicks += 1
                    fresh = torch.as_tensor(init_theta(net, c["init"], c["scale"], seed + 1009 * r + 31 * n_kicks),
                                            dtype=torch.float32)
                    with torch.no_grad():
                        if c["kick"] is None:
                            theta.copy_(fresh)
                        else:
                            sel = torch.as_tensor(kick_rng.random(net.n_gates) < c["kick"])
                            theta[sel] = fresh[sel]
                    opt.state.clear()
                    best_loss, since = float("inf"), 0
            if step % c["check"] == 0 or i == seg - 1:
                with torch.no_grad():
                    hb = (theta > 0).float()
                    fh = fitness(rel(X, enables=hb).numpy())
                if fh > best[0]:
                    best = (fh, theta.detach().clone())
                if fh == 1.0:
                    solved_at = step
                    break
        if solved_at is not None:
            break
    with torch.no_grad():
        hb = (theta > 0).float()
        final_hard = fitness(rel(X, enables=hb).numpy())
        e = torch.sigmoid(theta / tau)
        final_relaxed = fitness(rel(X, enables=e).numpy())
    # check the best with the btype simulator (independent of the relaxed kernels)
    hn = net.with_enabled(best[1].numpy() > 0)
    sim = task.score(hn, "train")
    assert abs(sim.fitness - best[0]) < 1e-9, (sim.fitness, best[0])
    return dict(task=task_name, seed=seed, solved=solved_at is not None, solved_at=solved_at,
                best_hard=best[0], final_hard=final_hard, final_relaxed=final_relaxed,
                steps=step, seconds=time.perf_counter() - t0)


def main():
    """python lib.py PLANFILE OUTFILE: PLANFILE holds json lines {name, task, cfg, seeds}."""
    plan, outpath = sys.argv[1], sys.argv[2]
    done = set()
    try:
        for line in open(outpath):
            d = json.loads(line); done.add((d["name"], d["task"], d["seed"]))
    except FileNotFoundError:
        pass
    for line in open(plan):
        if not line.strip() or line.startswith("#"):
            continue
        p = json.loads(line)
        seeds = p.get("seeds", [0, 1, 2, 3, 4])
        for s in seeds:
            if (p["name"], p["task"], s) in done:
                continue
            res = run(p["task"], p["cfg"], s)
            res.update(name=p["name"], cfg=p["cfg"])
            with open(outpath, "a") as f:
                f.write(json.dumps(res) + "\n")
            print(p["name"], s, res["solved_at"], round(res["best_hard"], 4), round(res["final_relaxed"], 4),
                  round(res["seconds"], 1), flush=True)


if __name__ == "__main__":
    main()
