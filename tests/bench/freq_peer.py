#!/usr/bin/env python3
"""Vectorised numpy / torch versions of the negs_freq updates, timed like bench_freq speed.

usage: freq_peer.py OURS.txt   (the file written by `bench_freq speed OURS.txt`)
Prints a comparison table; with BENCH_JSON set, appends one JSON object per measurement.
The peers do what a Python trainer does today: hash the batch with vectorised 64-bit ops,
de-duplicate it per row with unique(), then gather / compute / scatter whole arrays.
"""
import json
import os
import sys
import time

import numpy as np

try:
    import torch
except ImportError:  # the numpy peer still runs
    torch = None

BATCH, NB, M = 4096, 64, 2
ALPHA, HALF_LIFE, MAX_GAP = 0.01, 1000.0, 100000
MASK64 = (1 << 64) - 1
C1, C2, C3 = 0x9E3779B97F4A7C15, 0xBF58476D1CE4E5B9, 0x94D049BB133111EB


def keys(seed=2019):
    def mix(x):
        x = (x + C1) & MASK64
        x = ((x ^ (x >> 30)) * C2) & MASK64
        x = ((x ^ (x >> 27)) * C3) & MASK64
        return x ^ (x >> 31)
    return [mix(seed ^ mix((0x6A09E667F3BCC909 + j) & MASK64)) for j in range(M)]


# ------------------------------------------------------------------ numpy

def np_mix(x):
    x = x + np.uint64(C1)
    x = (x ^ (x >> np.uint64(30))) * np.uint64(C2)
    x = (x ^ (x >> np.uint64(27))) * np.uint64(C3)
    return x ^ (x >> np.uint64(31))


def np_buckets(ids, key, h):
    hi = np_mix(ids ^ np.uint64(key)) >> np.uint64(32)
    return (hi * np.uint64(h)) >> np.uint64(32)


class NpGap:
    def __init__(self, h):
        self.h, self.k = h, keys()
        self.last = np.zeros((M, h), np.uint64)
        self.gap = np.zeros((M, h), np.float32)
        self.count = np.zeros((M, h), np.float32)

    def update(self, t, ids):
        a = np.float32(ALPHA)
        for j in range(M):
            cell, occ = np.unique(np_buckets(ids, self.k[j], self.h), return_counts=True)
            last, gap, cnt = self.last[j, cell], self.gap[j, cell], self.count[j, cell]
            seen = cnt > 0
            same = seen & (last == np.uint64(t))
            g = np.minimum(np.uint64(t) - last, np.uint64(MAX_GAP)).astype(np.float32)
            new_gap = np.where(gap == 0, g, gap + a * (g - gap))
            new_cnt = np.where(gap == 0, cnt, cnt + a * (1 - cnt)) + a * (occ - 1)
            self.gap[j, cell] = np.where(seen & ~same, new_gap, gap)
            self.count[j, cell] = np.where(~seen, occ.astype(np.float32),
                                           np.where(same, cnt + a * occ, new_cnt))
            self.last[j, cell] = np.uint64(t)


class NpGapNaive:
    """The published update as trainers usually write it: no duplicate handling (a repeated id
    gets a gap of 0 from its second copy), no counts, no first-sight rule. Cheaper, not equal."""

    def __init__(self, h):
        self.h, self.k = h, keys()
        self.last = np.zeros((M, h), np.int64)
        self.gap = np.zeros((M, h), np.float32)

    def update(self, t, ids):
        a = np.float32(ALPHA)
        for j in range(M):
            cell = np_buckets(ids, self.k[j], self.h).astype(np.intp)
            g = (t - self.last[j, cell]).astype(np.float32)
            self.gap[j, cell] = (1 - a) * self.gap[j, cell] + a * g
            self.last[j, cell] = t


class NpSketch:
    def __init__(self, h):
        self.h, self.k = h, keys()
        self.cnt = np.zeros((M, h), np.float64)
        self.landmark, self.total = None, 0.0

    def update(self, t, ids):
        if self.landmark is None:
            self.landmark = t
        e = (t - self.landmark) / HALF_LIFE
        if e > 256:
            self.cnt *= 2.0 ** -e
            self.total *= 2.0 ** -e
            self.landmark, e = t, 0.0
        w = 2.0 ** e
        u, occ = np.unique(ids, return_counts=True)
        cells = [np_buckets(u, self.k[j], self.h) for j in range(M)]
        est = np.min(np.stack([self.cnt[j, cells[j]] for j in range(M)]), axis=0) + w * occ
        for j in range(M):
            np.maximum.at(self.cnt[j], cells[j], est)
        self.total += w * len(ids)


# ------------------------------------------------------------------ torch (int64, wrapping)

def s64(x):
    return x - (1 << 64) if x >= 1 << 63 else x


def t_shr(x, k):  # logical right shift of int64
    return (x >> k) & ((1 << (64 - k)) - 1)


def t_mix(x):
    x = x + s64(C1)
    x = (x ^ t_shr(x, 30)) * s64(C2)
    x = (x ^ t_shr(x, 27)) * s64(C3)
    return x ^ t_shr(x, 31)


def t_buckets(ids, key, h):
    return (t_shr(t_mix(ids ^ s64(key)), 32) * h) >> 32


class TorchGap:
    def __init__(self, h):
        self.h, self.k = h, keys()
        self.last = torch.zeros((M, h), dtype=torch.int64)
        self.gap = torch.zeros((M, h), dtype=torch.float32)
        self.count = torch.zeros((M, h), dtype=torch.float32)

    def update(self, t, ids):
        a = ALPHA
        for j in range(M):
            cell, occ = torch.unique(t_buckets(ids, self.k[j], self.h), return_counts=True)
            occ = occ.to(torch.float32)
            last, gap, cnt = self.last[j, cell], self.gap[j, cell], self.count[j, cell]
            seen = cnt > 0
            same = seen & (last == t)
            g = torch.clamp(t - last, max=MAX_GAP).to(torch.float32)
            new_gap = torch.where(gap == 0, g, gap + a * (g - gap))
            new_cnt = torch.where(gap == 0, cnt, cnt + a * (1 - cnt)) + a * (occ - 1)
            self.gap[j, cell] = torch.where(seen & ~same, new_gap, gap)
            self.count[j, cell] = torch.where(~seen, occ, torch.where(same, cnt + a * occ, new_cnt))
            self.last[j, cell] = t


class TorchSketch:
    def __init__(self, h):
        self.h, self.k = h, keys()
        self.cnt = torch.zeros((M, h), dtype=torch.float64)
        self.landmark, self.total = None, 0.0

    def update(self, t, ids):
        if self.landmark is None:
            self.landmark = t
        e = (t - self.landmark) / HALF_LIFE
        if e > 256:
            self.cnt *= 2.0 ** -e
            self.landmark, e = t, 0.0
        w = 2.0 ** e
        u, occ = torch.unique(ids, return_counts=True)
        cells = [t_buckets(u, self.k[j], self.h) for j in range(M)]
        est = torch.stack([self.cnt[j, cells[j]] for j in range(M)]).min(dim=0).values + w * occ
        for j in range(M):
            self.cnt[j].scatter_reduce_(0, cells[j], est, reduce="amax")
        self.total += w * ids.numel()


def time_peer(make, h, batches, to_ids):
    est = make(h)
    step = 0
    for b in range(NB):  # warm-up, as in bench_freq
        est.update(step, batches[b % NB])
        step += 1
    runs = []
    per_run = 64 if h <= 1 << 16 else 32
    for _ in range(11):
        t0 = time.perf_counter()
        for b in range(per_run):
            est.update(step, batches[b % NB])
            step += 1
        runs.append((time.perf_counter() - t0) / per_run)
    return min(runs) * 1e9  # best of 11, as bench_freq


def main():
    ours = {}
    with open(sys.argv[1]) as fh:
        for line in fh:
            kind, logh, ns = line.split()
            ours[(kind, int(logh))] = float(ns)
    threads = int(os.environ.get("OPENBLAS_NUM_THREADS", "1"))
    if torch is not None:
        torch.set_num_threads(threads)
    rng = np.random.default_rng(7)
    np_batches = [rng.integers(0, 10**6, BATCH).astype(np.uint64) for _ in range(NB)]
    peers = [("numpy", {"gap": NpGap, "sketch": NpSketch}, np_batches),
             ("np-naive", {"gap": NpGapNaive}, np_batches)]
    if torch is not None:
        t_batches = [torch.from_numpy(b.astype(np.int64)) for b in np_batches]
        peers.append(("torch", {"gap": TorchGap, "sketch": TorchSketch}, t_batches))
    js = os.environ.get("BENCH_JSON")
    out = open(js, "a") if js else None
    print(f"update of a batch of {BATCH} ids, m = {M}, {threads} thread(s); ns per batch "
          f"(best of 11 runs); ratio = peer / ours")
    print(f"{'case':28s} {'ours':>10s} {'peer':>8s} {'peer ns':>12s} {'ratio':>8s}")
    for (kind, logh), ns in sorted(ours.items()):
        for pname, makers, batches in peers:
            if kind not in makers:
                continue
            pns = time_peer(makers[kind], 1 << logh, batches, None)
            case = f"{kind} H=2^{logh} m={M} batch {BATCH}"
            print(f"{case:28s} {ns:10.0f} {pname:>8s} {pns:12.0f} {pns / ns:8.1f}")
            if out:
                out.write(json.dumps({"bench": "freq_update", "case": case, "ours": round(ns, 1),
                                      "peer": pname, "peer_value": round(pns, 1),
                                      "unit": "ns/batch", "ratio": round(pns / ns, 2),
                                      "threads": threads}) + "\n")
    if out:
        out.close()


if __name__ == "__main__":
    main()
