"""The validation sweep behind the hyper-parameters in examples/demo/strategy.c.

For each strategy, trains over a small grid and ranks the settings by the best validation
NDCG@10 (the JSON field valid_ndcg@10); the test metrics in the same JSON are never read.
Prints a markdown table per strategy, best first (docs/results.md quotes them).

Usage: python3 examples/demo/sweep.py [--data FILE] [--strategies a,b] [--seed N] [--threads N]
(python stdlib only; run from the repository root after `make examples`)."""
import argparse
import itertools
import json
import subprocess
import sys

BIN = "build/examples/demo_trainer"
# grid per strategy family: option -> values
BPR = {"--lr": ["1e-3", "2e-3", "5e-3"], "--l2": ["0", "0.01", "0.1"]}
SOFTMAX = {"--lr": ["5e-4", "1e-3", "2e-3"], "--temperature": ["0.2", "0.5", "1.0"]}
HARD = {"--candidates": ["4", "8", "16", "32"]}
# the curriculum: DNS share over epochs (--schedule E:H,...) x candidates
CURRICULUM = {"--candidates": ["4", "8", "16"],
              "--schedule": ["0:0,2:0,12:0.8,40:0.4", "0:0,5:1", "0:0,2:0,12:1", "0:0.5"]}
MIXED = {"--lr": ["1e-3", "2e-3"], "--temperature": ["0.5", "1.0"], "--k": ["64", "256", "1024"]}
SAMPLED = {"--lr": ["1e-3", "2e-3"], "--temperature": ["0.5", "1.0", "2.0"]}
GRIDS = {"uniform": BPR, "popularity": BPR, "dns": HARD, "curriculum": CURRICULUM,
         "inbatch": SOFTMAX, "inbatch-logq": SOFTMAX, "mixed": MIXED,
         "sampled-softmax": SAMPLED, "random-walk": BPR, "srns": HARD,
         "cross-batch": SOFTMAX, "debiased": {"--tau-plus": ["0.01", "0.02", "0.05"]}}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", default="../shared/data/ml-100k/ml-100k.inter")
    ap.add_argument("--strategies", default=",".join(GRIDS))
    ap.add_argument("--seed", default="1")
    ap.add_argument("--threads", default="2")
    a = ap.parse_args()
    print(f"validation sweep on {a.data}, seed {a.seed} (best validation NDCG@10 per setting)\n")
    for name in a.strategies.split(","):
        grid = GRIDS[name]
        rows = []
        for values in itertools.product(*grid.values()):
            args = [x for pair in zip(grid, values) for x in pair]
            cmd = [BIN, "--json", "--data", a.data, "--strategies", name, "--seed", a.seed,
                   "--threads", a.threads] + args
            p = subprocess.run(cmd, capture_output=True, text=True)
            if p.returncode != 0:
                print(f"{name} {' '.join(args)}: {p.stderr.strip()}", file=sys.stderr)
                continue
            r = json.loads(p.stdout.splitlines()[0])
            rows.append((r["valid_ndcg@10"], r["best_epoch"], r["seconds"], " ".join(args)))
            print(f"  {name} {' '.join(args)}: valid NDCG@10 {r['valid_ndcg@10']:.4f}",
                  file=sys.stderr, flush=True)
        rows.sort(reverse=True)
        print(f"| {name} | valid NDCG@10 | best epoch | seconds |\n|---|---|---|---|")
        for v, e, s, args in rows:
            print(f"| `{args}` | {v:.4f} | {e} | {s:.1f} |")
        print(flush=True)


if __name__ == "__main__":
    main()
