"""Peer timings for bench_sampler: numpy Generator.choice(p=...) and torch.multinomial
(replacement=True) drawing 10^7 items for Zipf weights 1/(i+1) at alpha 0.75, plus the
MovieLens-100K catalogue size. Prints "name n seconds" lines (best of 2); exits 0 quietly
for a peer that is not installed."""
import os
import sys
import time

DRAWS = 10_000_000
SIZES = [1_000, 10_000, 100_000, 1_000_000, 10_000_000, 1682]


def best(fn, reps=2):
    t = float("inf")
    for _ in range(reps):
        t0 = time.perf_counter()
        fn()
        t = min(t, time.perf_counter() - t0)
    return t


def main():
    threads = int(os.environ.get("BENCH_THREADS", "1"))
    try:
        import numpy as np
    except ImportError:
        return 0
    try:
        import torch
        torch.set_num_threads(threads)
    except ImportError:
        torch = None
    for n in SIZES:
        w = (1.0 / np.arange(1, n + 1, dtype=np.float64)) ** 0.75
        p = w / w.sum()
        rng = np.random.default_rng(0)
        print("numpy_choice %d %.6f" % (n, best(lambda: rng.choice(n, size=DRAWS, p=p))), flush=True)
        if torch is not None:
            pt = torch.from_numpy(p)
            gen = torch.Generator().manual_seed(0)
            t = best(lambda: torch.multinomial(pt, DRAWS, replacement=True, generator=gen))
            print("torch_multinomial %d %.6f" % (n, t), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
