"""The negsample package with numpy: inputs of the right dtype pass without a copy, out=
arrays are checked (dtype, shape, contiguity, writable) before the call and written in place,
other inputs are converted with their ranges checked, results agree with numpy references.
Exit 77 without numpy."""
import sys

try:
    import numpy as np
except ImportError:
    print("skip: numpy not available")
    sys.exit(77)
import pathsetup  # noqa: E402

ns = pathsetup.load()
from negsample._buffers import U32, In  # noqa: E402
from pathsetup import expect_error  # noqa: E402

rng = np.random.default_rng(5)

# Zero copy: a matching C-contiguous array is passed as is; anything else is converted.
a = np.arange(6, dtype=np.uint32)
assert In(a, U32, "a").ptr == a.ctypes.data
assert In(a[::2], U32, "a").ptr != a.ctypes.data  # strided: a contiguous copy
assert In(np.arange(6, dtype=np.int64), U32, "a").keep[0].dtype == np.uint32
expect_error("NEGS_E_INVALID", In, np.array([1, -2]), U32, "users", contains="-2")
expect_error("NEGS_E_INVALID", In, np.array([1, 2**32]), U32, "users", contains="out of the range")
expect_error("NEGS_E_INVALID", In, np.array([1.5]), U32, "users", contains="float64")

n_items, n_users = 50, 8
counts = rng.integers(1, 100, n_items).astype(np.float64)
rows = [sorted(rng.choice(n_items, 5, replace=False).tolist()) for _ in range(n_users)]
positives_csr = ns.Csr.from_rows(rows, n_items)
view = positives_csr.row_view(3)
assert view.dtype == np.uint32 and not view.flags.writeable and view.tolist() == rows[3]
assert np.array_equal(positives_csr.row(3), view)
s = ns.Popularity(n_items, seed=11, weights=counts, positives=positives_csr, threads=2)
users = np.repeat(np.arange(n_users, dtype=np.uint32), 4)
pos = np.array([rows[u][0] for u in users], np.uint32)
items, logq = s.sample(users, pos, k=6, step=3)
assert items.shape == (32, 6) and items.dtype == np.uint32 and logq.dtype == np.float32
for r, u in enumerate(users):
    assert not set(items[r].tolist()) & set(rows[u])  # never a known positive
# log q against numpy: log(k * w_i / eligible mass), alpha 0.75.
w = counts ** 0.75
for r, u in enumerate(users):
    z = w.sum() - w[rows[u]].sum()
    np.testing.assert_allclose(logq[r], np.log(6 * w[items[r]] / z), rtol=0, atol=2e-5)
# out= arrays are filled in place; lists, int64 arrays and numpy give the same draws.
out, out_logq = np.zeros((32, 6), np.uint32), np.zeros((32, 6), np.float32)
got, got_logq = s.sample(users.tolist(), pos.astype(np.int64), k=6, step=3, out=out,
                         out_logq=out_logq)
assert got is out and got_logq is out_logq
assert np.array_equal(out, items) and np.array_equal(out_logq, logq)
for bad, why in ((np.zeros((32, 6), np.int32), "dtype int32"), (np.zeros(192, np.uint32), "shape"),
                 (np.zeros((32, 12), np.uint32)[:, ::2], "C-contiguous")):
    expect_error("NEGS_E_INVALID", s.sample, users, pos, k=6, out=bad, contains=why)
frozen = np.zeros((32, 6), np.float32)
frozen.flags.writeable = False
expect_error("NEGS_E_INVALID", s.sample, users, pos, k=6, out_logq=frozen, contains="writeable")
# The thread count and the split of the rows never change the draws.
s.threads, s.row_offset = 1, 16
assert np.array_equal(s.sample(users[16:], pos[16:], k=6, step=3)[0], items[16:])
s.row_offset = 0

# Hard negatives: TOP keeps each row's best-scored candidates (when the kind exists).
try:
    hard = ns.Hard(n_items, seed=1, child=ns.Uniform(n_items), hard_mode="top", candidates=8)
except ns.NegsError as e:
    assert e.name == "NEGS_E_UNSUPPORTED", e
    hard = None
if hard is not None:
    cand = np.stack([rng.choice(n_items, 8, replace=False) for _ in range(4)]).astype(np.uint32)
    scores = rng.standard_normal((4, 8)).astype(np.float32)
    chosen, _ = hard.select(cand, scores, k=3)
    for r in range(4):
        best = cand[r][np.argsort(-scores[r])[:3]]
        assert set(chosen[r].tolist()) == set(best.tolist()), (chosen[r], best)
    q = rng.standard_normal((4, 5)).astype(np.float32)
    emb = rng.standard_normal((n_items, 5)).astype(np.float32)
    got, _ = hard.sample_scored(q, emb, positives=np.zeros(4, np.uint32), k=2)
    assert got.shape == (4, 2)

# Frequencies: shape follows the ids; out= checked.
f = ns.FrequencyEstimator("gap", buckets=1024, hashes=2, seed=2)
for step in range(20):
    f.update(rng.integers(0, 30, 64).astype(np.uint64), step)
ids = np.arange(12, dtype=np.uint64).reshape(3, 4)
p = f.prob(ids)
assert p.shape == (3, 4) and p.dtype == np.float32 and np.all(p > 0)
np.testing.assert_allclose(f.logq(ids.ravel()), np.log(p.ravel()), rtol=1e-5)
expect_error("NEGS_E_INVALID", f.prob, ids, out=np.zeros(12, np.float64), contains="dtype")

# Score losses against numpy: SOFTMAX with temperature, log q and a mask, gradients included.
n, k, T = 6, 5, 0.7
pos_s = rng.standard_normal(n).astype(np.float32)
neg_s = rng.standard_normal((n, k)).astype(np.float32)
lq = rng.standard_normal((n, k)).astype(np.float32)
mask = rng.random((n, k)) < 0.3
loss = ns.Loss("softmax", temperature=T, reduction="sum")
value, d_pos, d_neg = loss.scores(pos_s, neg_s, neg_logq=lq, neg_mask=mask)
logits = np.concatenate([pos_s[:, None] / T, np.where(mask, -np.inf, neg_s / T - lq)], axis=1)
logits = logits.astype(np.float64)
prob = np.exp(logits - logits.max(1, keepdims=True))
prob /= prob.sum(1, keepdims=True)
np.testing.assert_allclose(value, -np.log(prob[:, 0]).sum(), rtol=1e-5)
np.testing.assert_allclose(d_pos, (prob[:, 0] - 1) / T, atol=1e-5)
np.testing.assert_allclose(d_neg, prob[:, 1:] / T, atol=1e-5)
assert np.all(d_neg[mask] == 0)

# In-batch softmax from embeddings against the dense numpy computation.
b, m, dim = 7, 3, 4
u = rng.standard_normal((b, dim)).astype(np.float32)
v = rng.standard_normal((b + m, dim)).astype(np.float32)
value, du, dv = ns.Loss("softmax", temperature=T).inbatch(u, v)
z = (u.astype(np.float64) @ v.T.astype(np.float64)) / T
pz = np.exp(z - z.max(1, keepdims=True))
pz /= pz.sum(1, keepdims=True)
np.testing.assert_allclose(value, np.mean(-np.log(pz[np.arange(b), np.arange(b)])), rtol=1e-5)
onehot = np.zeros_like(pz)
onehot[np.arange(b), np.arange(b)] = 1
g = (pz - onehot) / (T * b)
np.testing.assert_allclose(du, g @ v, atol=1e-5)
np.testing.assert_allclose(dv, g.T @ u, atol=1e-5)
assert ns.adv_perturb(u, 0.1).shape == u.shape

# Indexed score losses: the same loss as scores() on the gathered dot products; gradients
# added into tables, or one row per gathered row.
n_u, n_i, n, k, dim = 5, 9, 6, 3, 4
ue = rng.standard_normal((n_u, dim)).astype(np.float32)
ie = rng.standard_normal((n_i, dim)).astype(np.float32)
ui = rng.integers(0, n_u, n).astype(np.uint32)
pi = rng.integers(0, n_i, n).astype(np.uint32)
ni = rng.integers(0, n_i, (n, k)).astype(np.uint32)
bpr = ns.Loss("bpr", reduction="sum")
direct, d_pos, d_neg = bpr.scores((ue[ui] * ie[pi]).sum(1),
                                  np.einsum("nd,nkd->nk", ue[ui], ie[ni]))
g_user, g_item = np.zeros_like(ue), np.ones_like(ie)
value = bpr.scores_indexed(ue, ie, ui, pi, ni, d_user_emb=g_user, d_item_emb=g_item)
np.testing.assert_allclose(value, direct, rtol=1e-5)
want_user = np.zeros_like(ue)
np.add.at(want_user, ui, d_pos[:, None] * ie[pi] + np.einsum("nk,nkd->nd", d_neg, ie[ni]))
np.testing.assert_allclose(g_user, want_user, atol=1e-5)
want_item = np.ones_like(ie)  # added to what the table held
np.add.at(want_item, pi, d_pos[:, None] * ue[ui])
np.add.at(want_item, ni.ravel(), (d_neg[:, :, None] * ue[ui][:, None, :]).reshape(-1, dim))
np.testing.assert_allclose(g_item, want_item, atol=1e-5)
value2, du_rows, dp_rows, dn_rows = bpr.scores_indexed_rows(ue, ie, ui, pi, ni)
assert value2 == value and dn_rows.shape == (n, k, dim)
np.testing.assert_allclose(dp_rows, d_pos[:, None] * ue[ui], atol=1e-5)
expect_error("NEGS_E_INVALID", bpr.scores_indexed, ue, ie, ui, pi[:3], ni, contains="pos_idx")
expect_error("NEGS_E_INVALID", bpr.scores_indexed, ue, ie, ui + 5, pi, ni, contains="user_idx")
print("test_python_numpy: zero-copy inputs, checked out= arrays, numpy references agree")

# Synthetic negatives: each MixGCF output row is c * positive + (1 - c) * negative j (no
# normalisation), with the sources and coefficient it reports.
n, k, dim = 3, 4, 5
anchor = rng.standard_normal((n, dim)).astype(np.float32)
negs = rng.standard_normal((n, k, dim)).astype(np.float32)
mixes, src, coef, inv = ns.synth_negatives("mixgcf", anchor, negs, seed=4, step=1,
                                           normalize=False, sources=True)
assert mixes.shape == (n, k, dim) and src.shape == (n, k, 2) and np.all(inv == 1)
for i in range(n):
    for j in range(k):
        a_src, b_src = src[i, j]
        rows = {ns.SYNTH_ANCHOR: anchor[i]}
        rows.update({s: negs[i, s] for s in range(k)})
        want = coef[i, j] * rows[int(a_src)] + (1 - coef[i, j]) * rows[int(b_src)]
        np.testing.assert_allclose(mixes[i, j], want, atol=1e-5)
queue = rng.standard_normal((6, dim)).astype(np.float32)  # MoCHi over a shared queue
mochi = ns.synth_negatives("mochi", anchor, queue, shared=True, n_hard=3, s_pairs=2, s_anchor=1,
                           neg_scores=anchor @ queue.T)
np.testing.assert_allclose(np.linalg.norm(mochi, axis=2), 1, atol=1e-5)
expect_error("NEGS_E_INVALID", ns.synth_negatives, "mochi", anchor, queue, shared=True,
             n_hard=3, s_pairs=2, neg_scores=np.zeros(5, np.float32), contains="neg_scores")
print("test_python_numpy: synthetic negatives are the mixes of the sources they report")

# Sampler log q without drawing: what sample() gives the items it drew, -inf for excluded ones.
s = ns.Popularity(n_items, seed=11, weights=counts, positives=positives_csr)
items, logq = s.sample(users, pos, k=6, step=3)
again = s.logq(items.ravel(), users=np.repeat(users, 6), positives=np.repeat(pos, 6), k=6, step=3)
np.testing.assert_array_equal(again, logq.ravel())
assert np.all(np.isneginf(s.logq(pos, users=users, positives=pos, k=6)))
# Restricted uniform support, shared negatives and the mixed log q.
with ns.Uniform(n_items, seed=2) as restricted:
    restricted.set_support([1, 3, 5])
    drawn, lq = restricted.sample(n_rows=20, k=2)
    assert set(drawn.ravel().tolist()) <= {1, 3, 5}
    np.testing.assert_allclose(lq, np.log(2 / 3), rtol=1e-6)
    restricted.set_support(None)
batch_pos = np.array([0, 1, 2, 3], np.uint32)
with ns.Uniform(n_items, seed=5) as shared:
    drawn, lq, pos_lq = shared.sample_shared(batch_pos, m=8, step=1)
    assert drawn.shape == (8,) and not set(drawn.tolist()) & set(batch_pos.tolist())
    np.testing.assert_allclose(lq, np.log(8 / (n_items - 4)), rtol=1e-5)
    assert np.all(np.isneginf(pos_lq))
    assert shared.shared_exclude is True
logp = np.log(rng.random(12)).astype(np.float32)
logq_shared = np.log(rng.random(12)).astype(np.float32)
np.testing.assert_allclose(ns.mixed_logq(4, logp, logq_shared),
                           np.logaddexp(np.log(4) + logp, logq_shared), rtol=1e-5)
expect_error("NEGS_E_INVALID", ns.mixed_logq, 4, logp, logq_shared[:5], contains="b + m")
# Frequencies: uint32 ids take the _u32 twins, with results identical to the uint64 calls.
f32 = ns.FrequencyEstimator("gap", buckets=1024, hashes=2, seed=2)
f64 = ns.FrequencyEstimator("gap", buckets=1024, hashes=2, seed=2)
for step in range(5):
    batch = rng.integers(0, 30, 64)
    out32 = f32.update_logq(batch.astype(np.uint32), step)
    f64.update(batch.astype(np.uint64), step)
    np.testing.assert_array_equal(out32, f64.logq(batch.astype(np.uint64)))
assert f32.save() == f64.save()
ids32 = np.arange(10, dtype=np.uint32)
np.testing.assert_array_equal(f32.prob(ids32), f64.prob(ids32.astype(np.uint64)))
np.testing.assert_array_equal(f32.logq_batch(ids32, 64),
                              f64.logq_batch(ids32.astype(np.uint64), 64))
print("test_python_numpy: sampler log q, support, shared negatives, mixed log q, uint32 ids")
