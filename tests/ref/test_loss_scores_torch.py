"""negs_loss_scores against PyTorch (CPU, float64 autograd of each loss written directly from
its definition: logits = score / T - logq, masked slots -inf, every kind, temperature, logQ,
masks, every reduction, and extreme temperatures and scores). Losses must agree to 1e-5
relative (per row with NEGS_REDUCE_NONE, floored at 1e-3 of the largest row), gradients to
1e-5 relative in the max norm (max |ours - torch| / max |torch|). Exit 77 when torch is
missing. Usage: LIBNEGSAMPLE=path/to/libnegsample.so python3 test_loss_scores_torch.py"""
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

BCE, BPR, HINGE, SOFTMAX, LISTNET = 1, 2, 3, 4, 5
NAMES = {BCE: "bce", BPR: "bpr", HINGE: "hinge", SOFTMAX: "softmax", LISTNET: "listnet"}
LP_TEMPERATURE, LP_MARGIN, LP_REDUCTION, LP_THREADS, LP_FORCE_SCALAR = 1, 2, 3, 4, 5
MEAN, SUM, NONE = 0, 1, 2

lib = ctypes.CDLL(os.environ.get("LIBNEGSAMPLE", "lib/libnegsample.so"))
P = ctypes.c_void_p
lib.negs_loss_create.restype = P
lib.negs_loss_create.argtypes = [ctypes.c_int]
lib.negs_loss_free.argtypes = [P]
lib.negs_loss_set_param.argtypes = [P, ctypes.c_int, ctypes.c_double]
lib.negs_loss_scores.argtypes = [P, ctypes.c_size_t, ctypes.c_uint32, P, P, P, P, P, P, P]
lib.negs_last_error.restype = ctypes.c_char_p


def ptr(a):
    return None if a is None else a.ctypes.data_as(P)


def ours(kind, pos, neg, logq, mask, temperature, margin, reduction, threads=1, scalar=0):
    n, k = neg.shape
    l = lib.negs_loss_create(kind)
    assert l
    for param, value in ((LP_TEMPERATURE, temperature), (LP_MARGIN, margin),
                         (LP_REDUCTION, reduction), (LP_THREADS, threads),
                         (LP_FORCE_SCALAR, scalar)):
        assert lib.negs_loss_set_param(l, param, value) == 0
    loss = np.zeros(n if reduction == NONE else 1, np.float32)
    dpos = np.zeros(n, np.float32)
    dneg = np.zeros((n, k), np.float32)
    rc = lib.negs_loss_scores(l, n, k, ptr(pos), ptr(neg), ptr(logq), ptr(mask), ptr(loss),
                              ptr(dpos), ptr(dneg))
    assert rc == 0, lib.negs_last_error()
    lib.negs_loss_free(l)
    return loss, dpos, dneg


def torch_rows(kind, p, q, lq, m, temperature, margin):
    """The row losses from score tensors p (n) and q (n, k), logq lq and bool mask m (n, k),
    written from the definitions; autograd gives the gradients."""
    n, k = q.shape
    a = p / temperature
    x = (q / temperature - lq).masked_fill(m, float("-inf"))
    cnt = (~m).sum(1).to(torch.float64)
    if kind == BCE:
        return -F.logsigmoid(a) - F.logsigmoid(-x).sum(1)
    if kind in (BPR, HINGE):
        d = a[:, None] - x  # +inf where masked: both terms are then 0
        terms = -F.logsigmoid(d) if kind == BPR else F.relu(margin - d)
        return torch.where(cnt > 0, terms.sum(1) / cnt.clamp(min=1), torch.zeros_like(cnt))
    logp = F.log_softmax(torch.cat([a[:, None], x], 1), 1)
    if kind == SOFTMAX:
        return -logp[:, 0]
    labels = torch.zeros(n, k + 1, dtype=torch.float64)
    labels[:, 0] = 1.0
    labels[:, 1:] = labels[:, 1:].masked_fill(m, float("-inf"))
    t = torch.softmax(labels, 1)
    return -torch.where(t > 0, t * logp, torch.zeros_like(logp)).sum(1)


def reference(kind, pos, neg, logq, mask, temperature, margin, reduction):
    p = torch.tensor(pos, dtype=torch.float64, requires_grad=True)
    q = torch.tensor(neg, dtype=torch.float64, requires_grad=True)
    n, k = neg.shape
    lq = torch.zeros(n, k, dtype=torch.float64) if logq is None else torch.tensor(
        logq, dtype=torch.float64)
    m = torch.zeros(n, k, dtype=torch.bool) if mask is None else torch.tensor(mask != 0)
    rows = torch_rows(kind, p, q, lq, m, temperature, margin)
    total = rows.mean() if reduction == MEAN else rows.sum()
    total.backward()
    loss = rows.detach().numpy() if reduction == NONE else np.array([total.item()])
    return loss, p.grad.numpy(), q.grad.numpy()


def close_loss(got, want, tol=1e-5):
    floor = 1e-3 * np.max(np.abs(want)) if len(want) > 1 else 0.0
    return bool(np.all(np.abs(got - want) <= tol * np.maximum(np.abs(want), floor) + 1e-300))


def close_grad(got, want, tol=1e-5):
    scale = np.max(np.abs(want))
    if scale == 0.0:
        return bool(np.all(got == 0.0))
    return float(np.max(np.abs(got - want))) <= tol * scale


def make(rng, n, k, scale, with_logq, with_mask):
    pos = (rng.uniform(-1, 1, n) * scale).astype(np.float32)
    neg = (rng.uniform(-1, 1, (n, k)) * scale).astype(np.float32)
    logq = rng.uniform(-9, -1, (n, k)).astype(np.float32) if with_logq else None
    mask = None
    if with_mask:
        mask = (rng.uniform(0, 1, (n, k)) < 0.3).astype(np.uint8)
        mask[1, :] = 1  # a fully masked row
        neg[mask != 0] = np.nan  # masked values are never read
    return pos, neg, logq, mask


def main():
    rng = np.random.default_rng(20240611)
    failures = 0
    cases = 0
    configs = []
    for kind in (BCE, BPR, HINGE, SOFTMAX, LISTNET):
        for k in (1, 4, 13, 64):
            for temperature in (1.0, 0.3, 2.5):
                for with_logq in (False, True):
                    for with_mask in (False, True):
                        for reduction in (MEAN, SUM, NONE):
                            configs.append((kind, 37, k, temperature, with_logq, with_mask,
                                            reduction, 3.0, 1, 0))
        # extremes: T = 0.01 with scores up to 1e4 (logits up to 1e6)
        for with_mask in (False, True):
            for reduction in (MEAN, SUM, NONE):
                configs.append((kind, 50, 16, 0.01, True, with_mask, reduction, 1e4, 1, 0))
        # long rows, several parts, threads, the portable kernel
        configs.append((kind, 3, 1500, 0.7, True, True, NONE, 3.0, 2, 0))
        configs.append((kind, 20000, 4, 0.5, True, True, MEAN, 3.0, 2, 0))
        configs.append((kind, 300, 64, 0.5, True, False, SUM, 3.0, 5, 1))
    for (kind, n, k, temperature, with_logq, with_mask, reduction, scale, threads,
         scalar) in configs:
        pos, neg, logq, mask = make(rng, n, k, scale, with_logq, with_mask)
        margin = 0.5
        got = ours(kind, pos, neg, logq, mask, temperature, margin, reduction, threads, scalar)
        want = reference(kind, pos, neg, logq, mask, temperature, margin, reduction)
        cases += 1
        ok = (close_loss(got[0], want[0]) and close_grad(got[1], want[1]) and
              close_grad(np.where(np.isnan(got[2]), np.inf, got[2]), want[2]))
        if mask is not None and not np.all(got[2][mask != 0] == 0.0):
            ok = False
        if not ok:
            failures += 1
            print("FAIL %s n=%d k=%d T=%g logq=%s mask=%s red=%d threads=%d scalar=%d: "
                  "loss %s vs %s, dpos err %.3g, dneg err %.3g" %
                  (NAMES[kind], n, k, temperature, with_logq, with_mask, reduction, threads,
                   scalar, got[0][:3], want[0][:3],
                   np.max(np.abs(got[1] - want[1])) / max(np.max(np.abs(want[1])), 1e-300),
                   np.max(np.abs(got[2] - want[2])) / max(np.max(np.abs(want[2])), 1e-300)))
    print("%d cases, %d failures" % (cases, failures))
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
