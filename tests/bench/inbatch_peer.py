"""The torch peer of bench_inbatch: the idiomatic dense in-batch softmax step on the CPU
(logits = u @ v.T / T - logq, masked_fill of accidental hits, cross_entropy, backward), with the
same data recipe, temperature and thread count. One case per process; prints one line:
"time_s gflops peak_rss_mib loss" (FLOPs counted as 6 * b * (b + m) * dim, as ours).
Usage: inbatch_peer.py B M DIM THREADS [REPS] (best of REPS after a warm-up; 0: the first).
       inbatch_peer.py ml B DIM THREADS REPS FILE: the MovieLens-100K batch of bench_inbatch ml
       (the same rows), the known-positive mask built on the fly each step from a dense
       user x item table (plus accidental hits); prints "time_s"."""
import resource
import sys
import time

import torch


def movielens():
    b, dim, threads, reps = (int(x) for x in sys.argv[2:6])
    torch.set_num_threads(threads)
    rows = []
    with open(sys.argv[6]) as f:
        next(f)
        for line in f:
            parts = line.split()
            if len(parts) >= 2:
                rows.append((int(parts[0]), int(parts[1])))
    data = torch.tensor(rows, dtype=torch.int64)
    n_int = len(rows)
    n_users, n_items = int(data[:, 0].max()) + 1, int(data[:, 1].max()) + 1
    dense = torch.zeros(n_users, n_items, dtype=torch.bool)
    dense[data[:, 0], data[:, 1]] = True
    count = torch.bincount(data[:, 1], minlength=n_items).double()
    pick = torch.tensor([r * 2654435761 % n_int for r in range(b)])
    users, items = data[pick, 0], data[pick, 1]
    logq = torch.log(count[items] / n_int).float()
    g = torch.Generator().manual_seed(1)
    sc = 1.0 / dim ** 0.5
    u0 = (torch.rand(b, dim, generator=g) * 2 - 1) * sc
    v0 = (torch.rand(b, dim, generator=g) * 2 - 1) * sc
    target = torch.arange(b)

    def step():
        u = u0.clone().requires_grad_(True)
        v = v0.clone().requires_grad_(True)
        logits = u @ v.T / 0.05 - logq
        mask = dense[users][:, items] | (items[:, None] == items[None, :])
        mask[target, target] = False
        logits = logits.masked_fill(mask, float("-inf"))
        torch.nn.functional.cross_entropy(logits, target).backward()

    step()
    best = 1e30
    for _ in range(reps):
        t0 = time.perf_counter()
        step()
        best = min(best, time.perf_counter() - t0)
    print("%.6f" % best)


def main():
    if sys.argv[1] == "ml":
        return movielens()
    b, m, dim, threads = (int(x) for x in sys.argv[1:5])
    reps = int(sys.argv[5]) if len(sys.argv) > 5 else 3
    torch.set_num_threads(threads)
    n = b + m
    g = torch.Generator().manual_seed(1)
    sc = 1.0 / dim ** 0.5
    u0 = (torch.rand(b, dim, generator=g) * 2 - 1) * sc
    v0 = (torch.rand(n, dim, generator=g) * 2 - 1) * sc
    r = torch.rand(n, generator=g, dtype=torch.float64)
    items = (10.0 * n * r ** 3).to(torch.int64)
    logq = -5.0 + (torch.rand(n, generator=g) * 2 - 1)
    target = torch.arange(b)
    temperature = 0.05

    def step():
        u = u0.clone().requires_grad_(True)
        v = v0.clone().requires_grad_(True)
        logits = u @ v.T / temperature - logq
        hit = items[:b, None] == items[None, :]
        hit[target, target] = False
        logits = logits.masked_fill(hit, float("-inf"))
        loss = torch.nn.functional.cross_entropy(logits, target)
        loss.backward()
        return loss.item()

    t0 = time.perf_counter()
    loss = step()  # warm-up; with reps = 0 it is the one timed step
    best = time.perf_counter() - t0 if reps == 0 else 1e30
    for _ in range(reps):
        t0 = time.perf_counter()
        step()
        best = min(best, time.perf_counter() - t0)
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
    print("%.6f %.2f %.1f %.6g" % (best, 6.0 * b * n * dim / best / 1e9, rss, loss))


if __name__ == "__main__":
    main()
