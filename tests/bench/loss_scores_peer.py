"""The torch peer of bench_loss_scores: each score-level loss written the idiomatic PyTorch way
(logits = score / T - logq, then softplus / logsigmoid / relu / cross_entropy), forward and
autograd backward to pos and neg, mean reduction, at the given thread count.
Usage: loss_scores_peer.py THREADS [N] [REPS] [K...]; prints "kind k time_s loss" per case,
on the same inputs as bench_loss_scores (the same formula)."""
import math
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F

T = 0.5
MARGIN = 1.0


def losses(n, k):
    zeros = torch.zeros(n, dtype=torch.long)
    # ListNet targets: softmax([1, 0, ..., 0]) over the k + 1 entries, built once
    t = torch.full((n, k + 1), 1.0 / (math.e + k))
    t[:, 0] = math.e / (math.e + k)

    def bce(pos, neg, logq):
        a = pos / T
        x = neg / T - logq
        return (F.softplus(-a).sum() + F.softplus(x).sum()) / n

    def bpr(pos, neg, logq):
        d = (pos / T)[:, None] - (neg / T - logq)
        return -F.logsigmoid(d).mean()

    def hinge(pos, neg, logq):
        d = (pos / T)[:, None] - (neg / T - logq)
        return F.relu(MARGIN - d).mean()

    def softmax(pos, neg, logq):
        logits = torch.cat([(pos / T)[:, None], neg / T - logq], 1)
        return F.cross_entropy(logits, zeros)

    def listnet(pos, neg, logq):
        logits = torch.cat([(pos / T)[:, None], neg / T - logq], 1)
        return F.cross_entropy(logits, t)

    return [("bce", bce), ("bpr", bpr), ("hinge", hinge), ("softmax", softmax),
            ("listnet", listnet)]


def main():
    threads = int(sys.argv[1])
    n = int(sys.argv[2]) if len(sys.argv) > 2 else 1000000
    reps = int(sys.argv[3]) if len(sys.argv) > 3 else 5
    ks = [int(x) for x in sys.argv[4:]] or [1, 4, 64]
    torch.set_num_threads(threads)
    for k in ks:
        i = np.arange(n, dtype=np.float64)
        e = np.arange(n * k, dtype=np.float64)
        pos = torch.from_numpy((2.0 * np.sin(0.37 * i) + 1.0).astype(np.float32))
        neg = torch.from_numpy((2.0 * np.cos(0.11 * e)).astype(np.float32)).view(n, k)
        logq = torch.from_numpy((-5.0 + np.sin(0.07 * e)).astype(np.float32)).view(n, k)
        del i, e
        pos.requires_grad_(True)
        neg.requires_grad_(True)
        for name, fn in losses(n, k):
            best = 1e30
            val = 0.0
            for r in range(-1, reps):
                pos.grad = None
                neg.grad = None
                t0 = time.perf_counter()
                loss = fn(pos, neg, logq)
                loss.backward()
                dt = time.perf_counter() - t0
                val = loss.item()
                if r >= 0:
                    best = min(best, dt)
            print("%s %d %.6f %.7g" % (name, k, best, val), flush=True)


if __name__ == "__main__":
    main()
