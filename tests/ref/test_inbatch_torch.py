"""negs_loss_inbatch against PyTorch (CPU, float64 autograd of the dense formulation: logits
u @ v.T / T - logq, accidental hits and the users' known positives masked with -inf, cross
entropy at the diagonal, every reduction), with and without NEGS_LP_COSINE (F.normalize of
the rows), and negs_loss_inbatch_indexed (rows of embedding tables by index, gradients on the
tables). Loss and gradients must agree to 1e-5 relative (gradients: max |ours - torch| /
max |torch|). Exit 77 when torch is missing.
Usage: LIBNEGSAMPLE=path/to/libnegsample.so python3 test_inbatch_torch.py"""
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
LP_TEMPERATURE, LP_REDUCTION, LP_THREADS, LP_FORCE_SCALAR, LP_COSINE = 1, 3, 4, 5, 7
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
lib.negs_loss_inbatch_indexed.argtypes = [P, ctypes.c_size_t, ctypes.c_size_t, ctypes.c_size_t,
                                          P, ctypes.c_uint32, P, ctypes.c_uint32, P, P, P, P,
                                          P, P]
lib.negs_csr_create.restype = P
lib.negs_csr_create.argtypes = [ctypes.c_uint32, ctypes.c_uint32, P, P]
lib.negs_csr_free.argtypes = [P]
lib.negs_last_error.restype = ctypes.c_char_p


def ptr(a):
    return None if a is None else a.ctypes.data_as(P)


def ours(b, m, dim, u, v, logq, items, users, pos, temperature, reduction, threads, scalar,
         cosine=0):
    l = lib.negs_loss_create(LOSS_SOFTMAX)
    assert l
    for param, value in ((LP_TEMPERATURE, temperature), (LP_REDUCTION, reduction),
                         (LP_THREADS, threads), (LP_FORCE_SCALAR, scalar), (LP_COSINE, cosine)):
        assert lib.negs_loss_set_param(l, param, value) == 0
    csr = None
    if pos is not None:
        indptr, indices, n_users, n_items = pos
        csr = lib.negs_csr_create(n_users, n_items, ptr(indptr), ptr(indices))
        assert csr
        assert lib.negs_loss_set_positives(l, csr) == 0
    loss = np.zeros(b if reduction == NONE else 1, np.float32)
    du = np.zeros((b, dim), np.float32)
    dv = np.zeros((b + m, dim), np.float32)
    rc = lib.negs_loss_inbatch(l, b, m, dim, ptr(u), ptr(v), ptr(logq), ptr(items), ptr(users),
                               ptr(loss), ptr(du), ptr(dv))
    assert rc == 0, lib.negs_last_error()
    lib.negs_loss_free(l)
    if csr:
        lib.negs_csr_free(csr)
    return loss, du, dv


def reference(b, m, u, v, logq, items, users, pos_dense, temperature, reduction, cosine=0):
    ut = torch.tensor(u, dtype=torch.float64, requires_grad=True)
    vt = torch.tensor(v, dtype=torch.float64, requires_grad=True)
    if cosine:
        f = torch.nn.functional.normalize
        logits = f(ut, dim=1) @ f(vt, dim=1).T / temperature
    else:
        logits = ut @ vt.T / temperature
    mask = torch.zeros(b, b + m, dtype=torch.bool)
    if logq is not None:
        lq = torch.tensor(logq, dtype=torch.float64)
        mask |= torch.isneginf(lq)[None, :]  # no candidate
        logits = logits - torch.where(torch.isneginf(lq), torch.zeros_like(lq), lq)
    if items is not None:
        it = torch.tensor(items.astype(np.int64))
        mask |= it[:b, None] == it[None, :]
        if users is not None:
            mask |= torch.tensor(pos_dense)[torch.tensor(users.astype(np.int64))][:, it]
    eye = torch.arange(b)
    mask[eye, eye] = False
    logits = logits.masked_fill(mask, float("-inf"))
    rows = torch.nn.functional.cross_entropy(logits, eye, reduction="none")
    total = {MEAN: rows.mean(), SUM: rows.sum(), NONE: rows.sum()}[reduction]
    total.backward()
    value = rows.detach().numpy() if reduction == NONE else np.array([total.item()])
    return value, ut.grad.numpy(), vt.grad.numpy()


def indexed_case(rng):
    """negs_loss_inbatch_indexed (cosine and dot) against torch autograd on the tables."""
    b, m, dim, n_users, n_items, temperature = 50, 30, 24, 20, 60, 0.1
    ue = rng.uniform(-1, 1, (n_users, dim)).astype(np.float32)
    ie = rng.uniform(-1, 1, (n_items, dim)).astype(np.float32)
    ui = rng.integers(0, n_users, b).astype(np.uint32)
    ii = rng.integers(0, n_items, b + m).astype(np.uint32)
    logq = rng.uniform(-6, -1, b + m).astype(np.float32)
    worst = 0.0
    for cosine in (0, 1):
        l = lib.negs_loss_create(LOSS_SOFTMAX)
        for param, value in ((LP_TEMPERATURE, temperature), (LP_COSINE, cosine)):
            assert lib.negs_loss_set_param(l, param, value) == 0
        loss = np.zeros(1, np.float32)
        gu = np.zeros_like(ue)
        gi = np.zeros_like(ie)
        rc = lib.negs_loss_inbatch_indexed(l, b, m, dim, ptr(ue), n_users, ptr(ie), n_items,
                                           ptr(ui), ptr(ii), ptr(logq), ptr(loss), ptr(gu),
                                           ptr(gi))
        assert rc == 0, lib.negs_last_error()
        lib.negs_loss_free(l)
        ut = torch.tensor(ue, dtype=torch.float64, requires_grad=True)
        it = torch.tensor(ie, dtype=torch.float64, requires_grad=True)
        u = ut[torch.tensor(ui.astype(np.int64))]
        idx = torch.tensor(ii.astype(np.int64))
        v = it[idx]
        if cosine:
            u, v = torch.nn.functional.normalize(u, dim=1), torch.nn.functional.normalize(v, dim=1)
        logits = u @ v.T / temperature - torch.tensor(logq, dtype=torch.float64)
        mask = idx[:b, None] == idx[None, :]
        eye = torch.arange(b)
        mask[eye, eye] = False
        total = torch.nn.functional.cross_entropy(logits.masked_fill(mask, float("-inf")), eye)
        total.backward()
        errs = [rel(loss, np.array([total.item()])), rel(gu, ut.grad.numpy()),
                rel(gi, it.grad.numpy())]
        if max(errs) > 1e-5:
            print(f"FAIL indexed cosine={cosine}: loss/d_user/d_item rel errors {errs}")
            return None
        worst = max(worst, *errs)
    return worst


def rel(a, b):
    return float(np.max(np.abs(a.astype(np.float64) - b)) / max(np.max(np.abs(b)), 1e-300))


def main():
    rng = np.random.default_rng(20240607)
    cases = [  # b, m, dim, temperature, logq, items, users, holes (-inf logq columns)
        (1, 0, 4, 1.0, False, False, False, False),
        (7, 3, 5, 1.0, True, False, False, True),
        (40, 0, 16, 0.1, True, True, False, False),
        (64, 64, 64, 0.05, True, True, True, False),
        (97, 33, 128, 0.2, False, True, True, False),
        (200, 150, 37, 0.5, True, True, True, False),
        (130, 140, 24, 0.3, True, True, True, True),
    ]
    worst, runs = 0.0, 0
    for b, m, dim, temperature, use_logq, use_items, use_users, holes in cases:
        n = b + m
        a = np.sqrt(3.0) / dim ** 0.25 * min(1.0, temperature / 0.2) ** 0.5
        u = rng.uniform(-a, a, (b, dim)).astype(np.float32)
        v = rng.uniform(-a, a, (n, dim)).astype(np.float32)
        logq = rng.uniform(-6, -1, n).astype(np.float32) if use_logq else None
        if holes:
            logq[b::3] = -np.inf
        n_items = max(2, n // 2)
        items = rng.integers(0, n_items, n).astype(np.uint32) if use_items else None
        users = pos = dense = None
        if use_users:
            n_users = 6
            dense = rng.random((n_users, n_items)) < 0.1
            indptr = np.concatenate([[0], np.cumsum(dense.sum(1))]).astype(np.uint64)
            indices = np.nonzero(dense)[1].astype(np.uint32)
            pos = (indptr, indices, n_users, n_items)
            users = rng.integers(0, n_users, b).astype(np.uint32)
        for reduction, cosine in ((MEAN, 0), (SUM, 0), (NONE, 0), (MEAN, 1), (NONE, 1)):
            ref = reference(b, m, u, v, logq, items, users, dense, temperature, reduction,
                            cosine)
            for threads, scalar in ((1, 0), (2, 0), (1, 1)):
                got = ours(b, m, dim, u, v, logq, items, users, pos, temperature, reduction,
                           threads, scalar, cosine)
                errs = [rel(g, r) for g, r in zip(got, ref)]
                worst = max(worst, *errs)
                runs += 1
                if max(errs) > 1e-5:
                    print(f"FAIL b={b} m={m} dim={dim} T={temperature} reduction={reduction} "
                          f"cosine={cosine} threads={threads} scalar={scalar}: loss/du/dv rel "
                          f"errors {errs}")
                    return 1
    w = indexed_case(rng)
    if w is None:
        return 1
    print(f"test_inbatch_torch: {runs} runs and 2 indexed runs agree with torch float64, "
          f"worst relative error {max(worst, w):.2e}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
