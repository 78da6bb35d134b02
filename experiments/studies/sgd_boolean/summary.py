"""python summary.py [results.jsonl]: one markdown table per task, cells in file order."""
import json, sys, statistics as st
from collections import OrderedDict
path = sys.argv[1] if len(sys.argv) > 1 else "docs/data/studies/sgd_boolean/results.jsonl"  # from the repository root
cells = OrderedDict()
for line in open(path):
    d = json.loads(line)
    if any(x["seed"] == d["seed"] for x in cells.get((d["task"], d["name"]), [])):
        continue  # a rerun of the same cell and seed (two plans overlapped): keep the first
    cells.setdefault((d["task"], d["name"]), []).append(d)
tasks = OrderedDict()
for (t, n), rs in cells.items():
    tasks.setdefault(t, []).append((n, rs))
for t, rows in tasks.items():
    print(f"\n### {t}\n")
    print("| cell | solved | median steps to solve | best hardened | final hardened | final relaxed | cfg |")
    print("|---|---|---|---|---|---|---|")
    for n, rs in rows:
        rs = sorted(rs, key=lambda d: d["seed"])
        sol = [d["solved_at"] for d in rs if d["solved"]]
        med = f"{st.median(sol):.0f}" if sol else "-"
        f = lambda k: " ".join(f"{d[k]:.2f}" for d in rs)
        print(f"| {n} | {len(sol)}/{len(rs)} | {med} | {st.median([d['best_hard'] for d in rs]):.3f} | "
              f"{st.median([d['final_hard'] for d in rs]):.3f} | {st.median([d['final_relaxed'] for d in rs]):.3f} | "
              f"`{json.dumps(rs[0]['cfg'])}` |")
