"""Gradient RMS per layer at initialisation (parity5 600/14, seed 0): does gradient reach the early layers?"""
import sys; sys.path.insert(0, __import__('os').path.dirname(__file__)); import study as lib
import numpy as np, torch
for task_name in ("parity5",):
    task, net = lib.make_net(task_name, 0)
    import sgd
    rel = sgd.RelaxedNetwork(net, backend="numba")
    X = torch.as_tensor(np.array(task.X_train), dtype=torch.float32)
    Y = torch.as_tensor(np.array(task.Y_train), dtype=torch.float32)
    _, gl = lib.layers_of(net)
    for init, scale in (("random", 1.0), ("random", 0.3), ("inverter", 3.0), ("inverter", 1.5), ("pairs", 3.0), ("skip", 3.0)):
        th = torch.nn.Parameter(torch.as_tensor(lib.init_theta(net, init, scale, 0), dtype=torch.float32))
        e = torch.sigmoid(th)
        out = rel(X, enables=e)
        right = Y * out + (1 - Y) * (1 - out)
        loss = -torch.log(1e-4 + (1 - 2e-4) * right).mean()
        loss.backward()
        g = th.grad.numpy()
        rms = [np.sqrt((g[gl == k] ** 2).mean()) for k in range(1, gl.max() + 1)]
        print(f"{init:9s} scale {scale}: out mean {out.mean().item():.3f} std over rows {out.std().item():.3f}; grad RMS layer 1..{gl.max()}:",
              " ".join(f"{r:.1e}" for r in rms))
