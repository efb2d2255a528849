"""negsample.torch: the autograd Functions' losses and gradients against PyTorch's own dense
float64 computation of the same loss (temperature, logQ, masks, accidental hits, the users'
known positives, every reduction and kind), within 1e-5; CPU float32 only, zero copies for
contiguous tensors. Exit 77 without torch."""
import sys

try:
    import numpy  # noqa: F401  (the references below use torch only; both ship together)
    import torch
except ImportError:
    print("skip: torch or numpy not available")
    sys.exit(77)
import pathsetup  # noqa: E402

ns = pathsetup.load()
from negsample import torch as nst  # noqa: E402
from pathsetup import expect_error  # noqa: E402

torch.manual_seed(3)
F = torch.nn.functional


def close(ours, ref, what):
    ours, ref = ours.double(), ref.double()
    scale = max(1.0, float(ref.abs().max()))
    err = float((ours - ref).abs().max()) / scale
    assert err <= 1e-5, f"{what}: max relative error {err:.2e}"


def leaf(t):
    return t.clone().requires_grad_(True)


# In-batch softmax: b queries, b + m candidates, duplicated items (accidental hits), users'
# known positives masked, log q, temperature.
b, m, dim, n_items, n_users = 12, 5, 8, 9, 4
u32 = torch.randn(b, dim)
v32 = torch.randn(b + m, dim)
logq = torch.randn(b + m) * 0.5
items = torch.randint(0, n_items, (b + m,))
users = torch.randint(0, n_users, (b,))
known = [sorted(set(torch.randint(0, n_items, (3,)).tolist())) for _ in range(n_users)]
csr = ns.Csr.from_rows(known, n_items)
known_dense = torch.zeros(n_users, n_items, dtype=torch.bool)
for user, row in enumerate(known):
    known_dense[user, row] = True


def dense_inbatch(u, v, T, logq, items, users, reduction):
    logits = u @ v.T / T
    if logq is not None:
        logits = logits - logq.double()
    mask = torch.zeros(b, b + m, dtype=torch.bool)
    if items is not None:
        mask |= items[:b, None] == items[None, :]
        if users is not None:
            mask |= known_dense[users][:, items]
    eye = torch.arange(b)
    mask[eye, eye] = False
    rows = F.cross_entropy(logits.masked_fill(mask, float("-inf")), eye, reduction="none")
    return {"mean": rows.mean(), "sum": rows.sum(), "none": rows}[reduction]


cases = [(1.0, None, None, None), (0.1, logq, None, None), (0.5, logq, items, None),
         (0.5, logq, items, users)]
for T, lq, it, us in cases:
    for reduction in ("mean", "sum", "none"):
        crit = nst.InBatchSoftmax(temperature=T, reduction=reduction,
                                  positives=csr if us is not None else None)
        u, v = leaf(u32), leaf(v32)
        ours = crit(u, v, logq=lq, item_ids=it, user_ids=us)
        ud, vd = leaf(u32.double()), leaf(v32.double())
        ref = dense_inbatch(ud, vd, T, lq, it, us, reduction)
        close(ours.detach(), ref.detach(), f"inbatch loss T={T} {reduction}")
        (ours.sum() if reduction == "none" else ours * 1.7).backward()
        (ref.sum() if reduction == "none" else ref * 1.7).backward()
        close(u.grad, ud.grad, f"inbatch du T={T} {reduction}")
        close(v.grad, vd.grad, f"inbatch dv T={T} {reduction}")

# reduction "none": per-row upstream gradients reach u exactly; v needs a uniform one.
crit = nst.InBatchSoftmax(reduction="none")
weights = torch.rand(b)
u = leaf(u32)
(crit(u, v32) * weights).sum().backward()
ud = leaf(u32.double())
(dense_inbatch(ud, v32.double(), 1.0, None, None, None, "none") * weights).sum().backward()
close(u.grad, ud.grad, "inbatch du, per-row weights")
try:
    (crit(leaf(u32), leaf(v32)) * weights).sum().backward()
    raise AssertionError("a non-uniform upstream gradient for v was accepted")
except ns.NegsError as e:
    assert e.name == "NEGS_E_UNSUPPORTED" and ".sum()" in str(e), e


# Score losses, every kind, against dense torch formulas on the logits.
def dense_scores(kind, pos, neg, T, logq, mask, margin, reduction):
    a = pos / T
    x = neg / T - (logq.double() if logq is not None else 0)
    keep = ~mask if mask is not None else torch.ones_like(neg, dtype=torch.bool)
    c = keep.sum(1).clamp(min=1)
    if kind == "bce":
        rows = F.softplus(-a) + (F.softplus(x) * keep).sum(1)
    elif kind == "bpr":
        rows = (F.softplus(x - a[:, None]) * keep).sum(1) / c
    elif kind == "hinge":
        rows = ((margin - pos[:, None] / T + x).clamp(min=0) * keep).sum(1) / c
    else:
        logits = torch.cat([a[:, None], x.masked_fill(~keep, float("-inf"))], 1)
        logp = F.log_softmax(logits, 1)
        if kind == "softmax":
            rows = -logp[:, 0]
        else:
            labels = torch.cat([torch.ones(len(pos), 1), torch.zeros_like(x)], 1).double()
            t = F.softmax(labels.masked_fill(torch.cat([torch.zeros(len(pos), 1,
                          dtype=torch.bool), ~keep], 1), float("-inf")), 1)
            rows = -(t * logp.masked_fill(t == 0, 0)).sum(1)
    return {"mean": rows.mean(), "sum": rows.sum(), "none": rows}[reduction]


n, k = 10, 6
pos32, neg32 = torch.randn(n), torch.randn(n, k)
neg_logq = torch.randn(n, k) * 0.3
neg_mask = torch.rand(n, k) < 0.25
neg_mask[0] = True  # a row with every slot masked
for kind in ("bce", "bpr", "hinge", "softmax", "listnet"):
    for T, lq, mk in ((1.0, None, None), (0.3, neg_logq, neg_mask)):
        for reduction in ("mean", "none"):
            crit = nst.ScoreLoss(kind, temperature=T, reduction=reduction, margin=0.5)
            p, ng = leaf(pos32), leaf(neg32)
            ours = crit(p, ng, neg_logq=lq, neg_mask=mk)
            pd, nd = leaf(pos32.double()), leaf(neg32.double())
            ref = dense_scores(kind, pd, nd, T, lq, mk, 0.5, reduction)
            what = f"{kind} T={T} mask={mk is not None} {reduction}"
            close(ours.detach(), ref.detach(), what + " loss")
            up = torch.rand(n) if reduction == "none" else torch.tensor(0.6)
            (ours * up).sum().backward()
            (ref * up.double()).sum().backward()
            close(p.grad, pd.grad, what + " d_pos")
            close(ng.grad, nd.grad, what + " d_neg")

# Zero copy for contiguous float32 CPU tensors; a clear error for other dtypes and devices.
t = torch.randn(4, 3)
assert nst._floats(t, "u").data_ptr() == t.data_ptr()
assert nst._floats(t.T, "u").is_contiguous()
crit = nst.InBatchSoftmax()
expect_error("NEGS_E_INVALID", crit, u32.double(), v32, contains="torch.float64")
expect_error("NEGS_E_INVALID", crit, u32.to("meta"), v32, contains="meta")
expect_error("NEGS_E_INVALID", crit, u32, v32, item_ids=-items, contains="out of the range")
expect_error("NEGS_E_INVALID", nst.ScoreLoss(), pos32, neg32[:, 0], contains="(n, k)")
assert crit(u32.T.contiguous().T, v32).shape == ()  # non-contiguous input: copied, fine
print("test_python_torch: autograd Functions agree with torch's dense losses within 1e-5")
