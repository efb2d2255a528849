"""The demo trainer end to end, on a small synthetic set (python stdlib only).

- `--json --strategies all` gives one object per strategy, every strategy of `--help` once
  (without --strategies, all but those --help marks slow), with the documented
  keys; every metric is finite and above the expected value of a random ranking (which the
  demo computes per user; it is also checked against the crude bound 10 / (items / 2));
- the results do not depend on the thread count;
- bad input (missing or malformed file, unknown strategy or option, value out of range) gives
  exit status 2 and exactly one line on stderr.
Usage: python3 tests/ref/test_demo_trainer.py [path/to/demo_trainer]; exits 0 or 1."""
import json
import math
import os
import subprocess
import sys
import tempfile

BIN = sys.argv[1] if len(sys.argv) > 1 else os.environ.get(
    "DEMO_TRAINER", "build/examples/demo_trainer")
SMALL = ["--data", "synthetic:300x200", "--epochs", "12", "--patience", "4", "--batch", "256", "--lr", "5e-3",
         "--seed", "3"]
KEYS = ["strategy", "recall@10", "ndcg@10", "epochs", "seconds", "examples_per_s", "dataset"]
failures = []


def check(cond, what):
    if not cond:
        failures.append(what)
        print("FAIL:", what)


def run(args):
    return subprocess.run([BIN] + args, capture_output=True, text=True, timeout=120)


def strategies():
    """The names --help lists, and those it marks (slow): left out of a run without
    --strategies."""
    out = run(["--help"]).stdout.splitlines()
    start = out.index("strategies:")
    lines = [line for line in out[start + 1:] if line.strip()]
    return [line.split()[0] for line in lines], [line.split()[0] for line in lines
                                                  if line.rstrip().endswith("(slow)")]


def json_rows(args):
    p = run(args + ["--json"])
    check(p.returncode == 0, f"{args}: exit {p.returncode}: {p.stderr.strip()[-300:]}")
    return [json.loads(line) for line in p.stdout.splitlines() if line.strip()]


names, slow = strategies()
check(len(names) >= 4, f"--help lists {len(names)} strategies")
rows = json_rows(SMALL + ["--threads", "2", "--strategies", "all"])
check([r.get("strategy") for r in rows] == names, "--strategies all: one JSON object per strategy, in order")
default = json_rows(SMALL + ["--threads", "2", "--epochs", "1"])
check([r.get("strategy") for r in default] == [n for n in names if n not in slow],
      "no --strategies: every strategy but the (slow) ones, in order")
for r in rows:
    name = r.get("strategy")
    for k in KEYS:
        check(k in r, f"{name}: key {k}")
    for k in ["recall@10", "ndcg@10", "seconds", "examples_per_s"]:
        v = r.get(k)
        check(isinstance(v, (int, float)) and math.isfinite(v) and v >= 0, f"{name}: {k} = {v}")
    check(1 <= r["best_epoch"] <= r["epochs"] <= 12, f"{name}: epochs {r['epochs']}")
    check(len(r["history"]) == r["epochs"], f"{name}: one history entry per epoch")
    bound = 10 / (r["items"] / 2)
    check(0 < r["random_recall@10"] < bound, f"{name}: random recall {r['random_recall@10']}")
    check(0 < r["random_ndcg@10"] < bound, f"{name}: random ndcg {r['random_ndcg@10']}")
    check(r["recall@10"] > r["random_recall@10"],
          f"{name}: recall {r['recall@10']} <= random {r['random_recall@10']}")
    check(r["ndcg@10"] > r["random_ndcg@10"],
          f"{name}: ndcg {r['ndcg@10']} <= random {r['random_ndcg@10']}")

# the thread count changes nothing but the time (a sampled and an in-batch strategy)
pick = [n for n in ["uniform", "inbatch-logq"] if n in names]
one = json_rows(SMALL + ["--threads", "1", "--strategies", ",".join(pick)])
two = [r for r in rows if r["strategy"] in pick]
check(len(one) == len(two) and all(a[k] == b[k] for a, b in zip(one, two)
                                   for k in ["recall@10", "ndcg@10", "epochs"]),
      "1 and 2 threads give the same metrics")

# --k: the number of sampled negatives drawn per positive (BPR, sampled-softmax) or shared by
# a batch (mixed); 2 epochs exactly (patience 2), so the counts compare across k
K_ARGS = ["--data", "synthetic:300x200", "--epochs", "2", "--patience", "2", "--seed", "3",
          "--strategies", ",".join(n for n in ["uniform", "dns", "random-walk", "sampled-softmax",
                                               "mixed", "inbatch"] if n in names)]
k1 = {r["strategy"]: r for r in json_rows(K_ARGS + ["--k", "1"])}
k3 = {r["strategy"]: r for r in json_rows(K_ARGS + ["--k", "3"])}
for name in [n for n in ["uniform", "dns", "random-walk", "sampled-softmax", "mixed"] if n in names]:
    a, b = k1.get(name), k3.get(name)
    check(a and b and a["k"] == 1 and b["k"] == 3, f"--k: {name} reports k")
    if a and b:
        check(a["negatives_drawn"] > 0 and b["negatives_drawn"] == 3 * a["negatives_drawn"],
              f"--k 3: {name} draws {b['negatives_drawn']}, 3 x {a['negatives_drawn']} expected")
        check(a["history"] != b["history"], f"--k: {name} trains the same with k = 1 and 3")
ib = k3.get("inbatch")
check(ib and ib["k"] == 0 and ib["negatives_drawn"] == 0, "--k: inbatch has no sampled negatives")
for name, r in k3.items():  # exactly k per example, or (mixed) k per batch, every epoch
    n, steps = r["train_examples"], -(-r["train_examples"] // r["batch"])
    want = 3 * (steps if name == "mixed" else n) * r["epochs"] if r["k"] else 0
    check(r["negatives_drawn"] == want, f"--k 3: {name} drew {r['negatives_drawn']}, not {want}")

with tempfile.TemporaryDirectory() as tmp:
    bad_file = os.path.join(tmp, "bad.txt")
    with open(bad_file, "w") as f:
        f.write("1 2\n3 x\n")
    empty = os.path.join(tmp, "empty.txt")
    open(empty, "w").close()
    for args in [["--data", os.path.join(tmp, "missing.inter")], ["--data", bad_file],
                 ["--data", empty], ["--strategies", "uniform,nope"], ["--epochs", "0"],
                 ["--threads", "x"], ["--seed", "-1"], ["--frobnicate", "1"], ["--epochs"],
                 ["--data", "synthetic:5x5"], ["--k", "0"], ["--k", "x"], ["--k", "1025"],
                 ["--strategies", "dns", "--candidates", "4", "--k", "5"],
                 ["--schedule", "5:0,2:1"], ["--schedule", "0:1.5"], ["--schedule", "0:"]]:
        p = run(args)
        lines = p.stderr.strip().splitlines()
        check(p.returncode == 2 and len(lines) == 1 and lines[0].startswith("demo_trainer: "),
              f"{args}: exit {p.returncode}, stderr {p.stderr!r}")

print("demo trainer:", "FAILED" if failures else "ok", f"({len(rows)} strategies)")
sys.exit(1 if failures else 0)
