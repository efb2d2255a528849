"""negs_loss_scores_indexed and _rows against PyTorch (CPU, float64 autograd): scores are dot
products, or cosines (F.normalize) with NEGS_LP_COSINE, of rows gathered by index from a user
and an item table; the loss of each kind is written from its definition (logits = score / T -
logq, masked slots -inf). The per-row gradients (the _rows variant) and the tables' gradients
(the _indexed variant, repeated indices summed) must agree to 1e-5 relative in the max norm,
the loss to 1e-5 relative. Exit 77 when torch is missing.
Usage: LIBNEGSAMPLE=path/to/libnegsample.so python3 test_loss_scores_indexed_torch.py"""
import ctypes
import os
import sys

try:
    import numpy as np
    import torch
    import torch.nn.functional as F
except ImportError:
    print("skip: torch or numpy not available")
    sys.exit(77)

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from test_loss_scores_torch import torch_rows  # noqa: E402  (the losses from their definitions)

BCE, BPR, HINGE, SOFTMAX, LISTNET = 1, 2, 3, 4, 5
LP_TEMPERATURE, LP_MARGIN, LP_REDUCTION, LP_THREADS, LP_COSINE = 1, 2, 3, 4, 7
MEAN, SUM, NONE = 0, 1, 2

lib = ctypes.CDLL(os.environ.get("LIBNEGSAMPLE", "lib/libnegsample.so"))
P = ctypes.c_void_p
Z, U32 = ctypes.c_size_t, ctypes.c_uint32
lib.negs_loss_create.restype = P
lib.negs_loss_create.argtypes = [ctypes.c_int]
lib.negs_loss_free.argtypes = [P]
lib.negs_loss_set_param.argtypes = [P, ctypes.c_int, ctypes.c_double]
lib.negs_loss_scores_indexed.argtypes = [P, Z, U32, Z, P, U32, P, U32, P, P, P, P, P, P, P, P]
lib.negs_loss_scores_indexed_rows.argtypes = [P, Z, U32, Z, P, U32, P, U32, P, P, P, P, P, P,
                                              P, P, P]
lib.negs_last_error.restype = ctypes.c_char_p


def ptr(a):
    return None if a is None else a.ctypes.data_as(P)


def ours(kind, c, temperature, margin, reduction, cosine, threads):
    n, k = c["nidx"].shape
    dim = c["ue"].shape[1]
    l = lib.negs_loss_create(kind)
    assert l
    for param, value in ((LP_TEMPERATURE, temperature), (LP_MARGIN, margin),
                         (LP_REDUCTION, reduction), (LP_THREADS, threads), (LP_COSINE, cosine)):
        assert lib.negs_loss_set_param(l, param, value) == 0
    args = (n, k, dim, ptr(c["ue"]), c["ue"].shape[0], ptr(c["ie"]), c["ie"].shape[0],
            ptr(c["ui"]), ptr(c["pi"]), ptr(c["nidx"]), ptr(c["logq"]), ptr(c["mask"]))
    loss = np.zeros(n if reduction == NONE else 1, np.float32)
    du = np.zeros_like(c["ue"])
    dv = np.zeros_like(c["ie"])
    rc = lib.negs_loss_scores_indexed(l, *args, ptr(loss), ptr(du), ptr(dv))
    assert rc == 0, lib.negs_last_error()
    loss2 = np.zeros_like(loss)
    ru = np.zeros((n, dim), np.float32)
    rp = np.zeros((n, dim), np.float32)
    rn = np.zeros((n, k, dim), np.float32)
    rc = lib.negs_loss_scores_indexed_rows(l, *args, ptr(loss2), ptr(ru), ptr(rp), ptr(rn))
    assert rc == 0, lib.negs_last_error()
    assert np.array_equal(loss, loss2)
    lib.negs_loss_free(l)
    return loss, du, dv, ru, rp, rn


def reference(kind, c, temperature, margin, reduction, cosine):
    ue = torch.tensor(c["ue"], dtype=torch.float64)
    ie = torch.tensor(c["ie"], dtype=torch.float64)
    m = torch.tensor(c["mask"] != 0)
    ui = torch.tensor(c["ui"].astype(np.int64))
    pi = torch.tensor(c["pi"].astype(np.int64))
    ni = torch.tensor(np.where(c["mask"] != 0, 0, c["nidx"]).astype(np.int64))
    gu = ue[ui].clone().requires_grad_(True)
    gp = ie[pi].clone().requires_grad_(True)
    gn = ie[ni].clone().requires_grad_(True)
    u, vp, vn = (F.normalize(t, dim=-1) if cosine else t for t in (gu, gp, gn))
    p = (u * vp).sum(-1)
    q = (u[:, None, :] * vn).sum(-1)
    n, k = q.shape
    lq = torch.tensor(c["logq"], dtype=torch.float64)
    rows = torch_rows(kind, p, q, lq, m, temperature, margin)
    total = rows.mean() if reduction == MEAN else rows.sum()
    total.backward()
    ru, rp, rn = gu.grad, gp.grad, gn.grad.masked_fill(m[:, :, None], 0.0)
    du = torch.zeros_like(ue).index_add_(0, ui, ru)
    dv = torch.zeros_like(ie).index_add_(0, pi, rp).index_add_(0, ni.reshape(-1),
                                                                rn.reshape(n * k, -1))
    loss = rows.detach().numpy() if reduction == NONE else np.array([total.item()])
    return loss, du.numpy(), dv.numpy(), ru.numpy(), rp.numpy(), rn.numpy()


def make(rng, n, k, dim, nu, ni, scale):
    mask = (rng.uniform(0, 1, (n, k)) < 0.25).astype(np.uint8)
    mask[1, :] = 1  # a fully masked row
    nidx = rng.integers(0, ni, (n, k)).astype(np.uint32)
    nidx[mask != 0] = 0xFFFFFFFF  # never read
    return {"ue": (rng.uniform(-1, 1, (nu, dim)) * scale).astype(np.float32),
            "ie": (rng.uniform(-1, 1, (ni, dim)) * scale).astype(np.float32),
            "ui": rng.integers(0, nu, n).astype(np.uint32),
            "pi": rng.integers(0, ni, n).astype(np.uint32),
            "nidx": nidx, "mask": mask,
            "logq": rng.uniform(-6, -1, (n, k)).astype(np.float32)}


def close(got, want, tol=1e-5):
    scale = np.max(np.abs(want))
    if scale == 0.0:
        return bool(np.all(got == 0.0))
    return float(np.max(np.abs(got - want))) <= tol * scale


def main():
    rng = np.random.default_rng(16)
    cases = failures = 0
    for kind in (BCE, BPR, HINGE, SOFTMAX, LISTNET):
        for cosine in (0, 1):
            for (n, k, dim, nu, ni, temperature, reduction, scale, threads) in (
                    (29, 6, 19, 9, 13, 0.7, MEAN, 0.5, 1),
                    (50, 3, 64, 200, 40, 1.0, NONE, 0.3, 2),
                    (40, 16, 8, 5, 30, 0.05 if cosine else 0.5, SUM, 0.4, 3)):
                c = make(rng, n, k, dim, nu, ni, scale)
                got = ours(kind, c, temperature, 0.5, reduction, cosine, threads)
                want = reference(kind, c, temperature, 0.5, reduction, cosine)
                cases += 1
                ok = np.allclose(got[0], want[0], rtol=1e-5, atol=1e-6 * np.max(np.abs(want[0])))
                ok = ok and all(close(g, w) for g, w in zip(got[1:], want[1:]))
                if not ok:
                    failures += 1
                    errs = [float(np.max(np.abs(g - w)) / max(np.max(np.abs(w)), 1e-300))
                            for g, w in zip(got[1:], want[1:])]
                    print("FAIL kind %d cosine %d n %d k %d dim %d T %g: loss %s vs %s, "
                          "relative errors du dv ru rp rn %s" % (kind, cosine, n, k, dim,
                                                                 temperature, got[0][:3],
                                                                 want[0][:3], errs))
    print("%d cases, %d failures" % (cases, failures))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
