"""NEGS_LP_TAU_PLUS (the debiased contrastive loss of Chuang et al., NeurIPS 2020) against
PyTorch (CPU, float64 autograd of the paper's estimator written densely: N Ng =
max((sum_neg e^z - N tau+ e^z_pos) / (1 - tau+), N e^(-1/T)), loss = -log(e^z_pos /
(e^z_pos + N Ng)), masked columns excluded from N): negs_loss_inbatch with logq, accidental
hits, known positives, no-candidate columns, cosine scores and every reduction, and
negs_loss_scores with neg_logq and neg_mask. Loss and gradients must agree to 1e-5 relative
(gradients: max |ours - torch| / max |torch|). Exit 77 when torch is missing.
Usage: LIBNEGSAMPLE=path/to/libnegsample.so python3 test_debias_torch.py"""
import ctypes
import os
import sys

try:
    import numpy as np
    import torch
except ImportError:
    print("skip: torch or numpy not available")
    sys.exit(77)

LOSS_SOFTMAX = 4
LP_TEMPERATURE, LP_REDUCTION, LP_THREADS, LP_COSINE, LP_TAU_PLUS = 1, 3, 4, 7, 8
MEAN, SUM, NONE = 0, 1, 2

lib = ctypes.CDLL(os.environ.get("LIBNEGSAMPLE", "lib/libnegsample.so"))
P = ctypes.c_void_p
lib.negs_loss_create.restype = P
lib.negs_loss_create.argtypes = [ctypes.c_int]
lib.negs_loss_free.argtypes = [P]
lib.negs_loss_set_param.argtypes = [P, ctypes.c_int, ctypes.c_double]
lib.negs_loss_set_positives.argtypes = [P, P]
lib.negs_loss_inbatch.argtypes = [P, ctypes.c_size_t, ctypes.c_size_t, ctypes.c_size_t,
                                  P, P, P, P, P, P, P, P]
lib.negs_loss_scores.argtypes = [P, ctypes.c_size_t, ctypes.c_uint32, P, P, P, P, P, P, P]
lib.negs_csr_create.restype = P
lib.negs_csr_create.argtypes = [ctypes.c_uint32, ctypes.c_uint32, P, P]
lib.negs_csr_free.argtypes = [P]
lib.negs_last_error.restype = ctypes.c_char_p


def ptr(a):
    return None if a is None else a.ctypes.data_as(P)


def handle(temperature, reduction, threads, cosine, tau):
    l = lib.negs_loss_create(LOSS_SOFTMAX)
    assert l
    for param, value in ((LP_TEMPERATURE, temperature), (LP_REDUCTION, reduction),
                         (LP_THREADS, threads), (LP_COSINE, cosine), (LP_TAU_PLUS, tau)):
        assert lib.negs_loss_set_param(l, param, value) == 0, lib.negs_last_error()
    return l


def debiased(zpos, z, live, tau, temperature):
    """Per-row losses from positive logits (rows), all logits z (rows x cols) and the 0/1
    matrix of live negatives."""
    pos = torch.exp(zpos)
    neg = torch.where(live, torch.exp(z), torch.zeros_like(z)).sum(1)
    n = live.sum(1).to(torch.float64)
    ng = (neg - tau * n * pos) / (1 - tau)
    floor = n * np.exp(-1 / temperature)
    ng = torch.where(ng >= floor, ng, floor)
    return -torch.log(pos / (pos + ng))


def reduce(rows, reduction):
    return rows.mean() if reduction == MEAN else rows.sum()


def inbatch_case(rng, b, m, dim, temperature, tau, use_users, cosine, reduction, threads):
    n = b + m
    a = np.sqrt(3.0) / dim ** 0.25 * min(1.0, temperature / 0.2) ** 0.5
    u = rng.uniform(-a, a, (b, dim)).astype(np.float32)
    v = rng.uniform(-a, a, (n, dim)).astype(np.float32)
    logq = rng.uniform(-5, -1, n).astype(np.float32)
    logq[b::4] = -np.inf
    n_items = max(2, n // 2)
    items = rng.integers(0, n_items, n).astype(np.uint32)
    users = csr = None
    l = handle(temperature, reduction, threads, cosine, tau)
    dense = None
    if use_users:
        dense = rng.random((6, n_items)) < 0.1
        indptr = np.concatenate([[0], np.cumsum(dense.sum(1))]).astype(np.uint64)
        indices = np.nonzero(dense)[1].astype(np.uint32)
        csr = lib.negs_csr_create(6, n_items, ptr(indptr), ptr(indices))
        assert lib.negs_loss_set_positives(l, csr) == 0
        users = rng.integers(0, 6, b).astype(np.uint32)
    loss = np.zeros(b if reduction == NONE else 1, np.float32)
    du = np.zeros((b, dim), np.float32)
    dv = np.zeros((n, dim), np.float32)
    rc = lib.negs_loss_inbatch(l, b, m, dim, ptr(u), ptr(v), ptr(logq), ptr(items), ptr(users),
                               ptr(loss), ptr(du), ptr(dv))
    assert rc == 0, lib.negs_last_error()
    lib.negs_loss_free(l)
    if csr:
        lib.negs_csr_free(csr)

    ut = torch.tensor(u, dtype=torch.float64, requires_grad=True)
    vt = torch.tensor(v, dtype=torch.float64, requires_grad=True)
    f = torch.nn.functional.normalize
    s = f(ut, dim=1) @ f(vt, dim=1).T if cosine else ut @ vt.T
    lq = torch.tensor(logq, dtype=torch.float64)
    hole = torch.isneginf(lq)
    z = s / temperature - torch.where(hole, torch.zeros_like(lq), lq)
    it = torch.tensor(items.astype(np.int64))
    masked = hole[None, :] | (it[:b, None] == it[None, :])
    if use_users:
        masked |= torch.tensor(dense)[torch.tensor(users.astype(np.int64))][:, it]
    eye = torch.arange(b)
    target = torch.zeros(b, n, dtype=torch.bool)
    target[eye, eye] = True
    live = ~masked & ~target
    rows = debiased(z[eye, eye], z, live, tau, temperature)
    total = reduce(rows, reduction)
    total.backward()
    ref = rows.detach().numpy() if reduction == NONE else np.array([total.item()])
    return [rel(loss, ref), rel(du, ut.grad.numpy()), rel(dv, vt.grad.numpy())]


def scores_case(rng, n, k, temperature, tau, reduction, threads):
    pos = rng.uniform(-1.5, 1.5, n).astype(np.float32)
    neg = rng.uniform(-1.5, 1.5, (n, k)).astype(np.float32)
    logq = rng.uniform(-3, 0, (n, k)).astype(np.float32)
    mask = (rng.random((n, k)) < 0.25).astype(np.uint8)
    mask[0] = 1
    l = handle(temperature, reduction, threads, 0, tau)
    loss = np.zeros(n if reduction == NONE else 1, np.float32)
    dp = np.zeros(n, np.float32)
    dn = np.zeros((n, k), np.float32)
    rc = lib.negs_loss_scores(l, n, k, ptr(pos), ptr(neg), ptr(logq), ptr(mask), ptr(loss),
                              ptr(dp), ptr(dn))
    assert rc == 0, lib.negs_last_error()
    lib.negs_loss_free(l)
    pt = torch.tensor(pos, dtype=torch.float64, requires_grad=True)
    nt = torch.tensor(neg, dtype=torch.float64, requires_grad=True)
    z = nt / temperature - torch.tensor(logq, dtype=torch.float64)
    rows = debiased(pt / temperature, z, torch.tensor(mask) == 0, tau, temperature)
    total = reduce(rows, reduction)
    total.backward()
    ref = rows.detach().numpy() if reduction == NONE else np.array([total.item()])
    return [rel(loss, ref), rel(dp, pt.grad.numpy()), rel(dn, nt.grad.numpy())]


def rel(a, b):
    return float(np.max(np.abs(a.astype(np.float64) - b)) / max(np.max(np.abs(b)), 1e-300))


def main():
    rng = np.random.default_rng(20261202)
    worst, runs = 0.0, 0
    for b, m, dim, temperature, tau, use_users in ((7, 3, 5, 1.0, 0.1, False),
                                                   (64, 40, 32, 0.1, 0.05, True),
                                                   (130, 70, 24, 0.2, 0.3, True),
                                                   (200, 0, 16, 0.5, 0.01, False)):
        for reduction, cosine, threads in ((MEAN, 0, 1), (SUM, 1, 2), (NONE, 0, 2),
                                           (MEAN, 1, 1)):
            errs = inbatch_case(rng, b, m, dim, temperature, tau, use_users, cosine, reduction,
                                threads)
            runs += 1
            worst = max(worst, *errs)
            if max(errs) > 1e-5:
                print(f"FAIL inbatch b={b} m={m} dim={dim} T={temperature} tau={tau} "
                      f"reduction={reduction} cosine={cosine}: loss/du/dv rel errors {errs}")
                return 1
    for n, k, temperature, tau in ((50, 8, 1.0, 0.1), (300, 33, 0.2, 0.02), (40, 5, 0.5, 0.4)):
        for reduction in (MEAN, SUM, NONE):
            errs = scores_case(rng, n, k, temperature, tau, reduction, 2)
            runs += 1
            worst = max(worst, *errs)
            if max(errs) > 1e-5:
                print(f"FAIL scores n={n} k={k} T={temperature} tau={tau} reduction={reduction}:"
                      f" loss/d_pos/d_neg rel errors {errs}")
                return 1
    print(f"test_debias_torch: {runs} runs agree with torch float64, worst relative error "
          f"{worst:.2e}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
