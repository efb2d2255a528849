"""The numpy / torch peers of bench_hard, at the given thread count.
Usage: hard_peer.py THREADS [REPS]. Prints, best of REPS after a warm-up:
  dns N_ITEMS ROWS C DIM K torch_s numpy_s
    one DNS step written the idiomatic way: C candidates per row drawn by popularity
    (weights 1 / (i + 1), alpha 0.75: torch.multinomial / Generator.choice), their embeddings
    gathered, scored by a batched matmul with the row's query, the top K kept (topk /
    argpartition) and their ids gathered;
  select ROWS N_CAND K torch_s numpy_s
    the top K of random scores per row and their ids (topk + gather / argpartition +
    take_along_axis)."""
import sys
import time

import numpy as np

try:
    import torch
except ImportError:  # numpy only
    torch = None


def best(fn, reps):
    fn()
    t = float("inf")
    for _ in range(reps):
        t0 = time.perf_counter()
        fn()
        t = min(t, time.perf_counter() - t0)
    return t


def dns(n_items, rows, c, dim, k, reps):
    rng = np.random.default_rng(7)
    p = (1.0 / np.arange(1, n_items + 1)) ** 0.75
    p /= p.sum()
    emb = rng.random((n_items, dim), dtype=np.float32) - 0.5
    q = rng.random((rows, dim), dtype=np.float32) - 0.5

    def step_numpy():
        idx = rng.choice(n_items, size=(rows, c), p=p)
        s = np.matmul(emb[idx], q[:, :, None])[:, :, 0]
        top = np.argpartition(-s, k - 1, axis=1)[:, :k]
        return np.take_along_axis(idx, top, 1)

    t_np = best(step_numpy, reps)
    t_torch = 0.0
    if torch is not None:
        te, tq, tp = torch.from_numpy(emb), torch.from_numpy(q), torch.from_numpy(p)

        def step_torch():
            idx = torch.multinomial(tp, rows * c, replacement=True).view(rows, c)
            s = torch.bmm(te[idx], tq.unsqueeze(2)).squeeze(2)
            return idx.gather(1, s.topk(k, dim=1).indices)

        t_torch = best(step_torch, reps)
    print(f"dns {n_items} {rows} {c} {dim} {k} {t_torch:.6f} {t_np:.6f}", flush=True)


def select(rows, n_cand, k, reps):
    rng = np.random.default_rng(8)
    s = rng.random((rows, n_cand), dtype=np.float32) - 0.5
    items = rng.integers(0, 1000000, size=(rows, n_cand), dtype=np.int64)
    t_np = best(lambda: np.take_along_axis(items, np.argpartition(-s, k - 1, axis=1)[:, :k], 1),
                reps)
    t_torch = 0.0
    if torch is not None:
        ts, ti = torch.from_numpy(s), torch.from_numpy(items)
        t_torch = best(lambda: ti.gather(1, ts.topk(k, dim=1).indices), reps)
    print(f"select {rows} {n_cand} {k} {t_torch:.7f} {t_np:.7f}", flush=True)


def main():
    threads = int(sys.argv[1])
    reps = int(sys.argv[2]) if len(sys.argv) > 2 else 5
    if torch is not None:
        torch.set_num_threads(threads)
    dns(100000, 4096, 32, 64, 1, reps)
    dns(1000000, 4096, 32, 64, 1, reps)
    dns(1000000, 4096, 32, 64, 4, reps)
    for k in (1, 8):
        select(4096, 64, k, reps * 4)


if __name__ == "__main__":
    main()
