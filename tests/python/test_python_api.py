"""The negsample package without numpy (it is blocked before the import): array.array and
buffer inputs, out= checks, errors, every handle, exact log q on the documented examples."""
import array
import math
import pickle
import sys

sys.modules["numpy"] = None  # the standard-library path, even where numpy is installed
import pathsetup  # noqa: E402

ns = pathsetup.load()
from negsample import _buffers, _lib  # noqa: E402
from pathsetup import expect_error  # noqa: E402


def flat(view):
    """A 2-D output (a memoryview of that shape without numpy) as one list, row-major."""
    return [x for row in view.tolist() for x in row]


assert _buffers.np is None

# Version: the loaded library, the header and the package agree; a mismatch is refused.
defines = pathsetup.header_defines()
(major, minor, patch), text = ns.version()
assert (major, minor, patch) == (defines["NEGS_VERSION_MAJOR"], defines["NEGS_VERSION_MINOR"],
                                 defines["NEGS_VERSION_PATCH"]), (text, defines)
assert text == "%d.%d.%d" % (major, minor, patch)
for name, value in vars(ns._consts).items():
    if name.isupper() and isinstance(value, int):
        assert defines.get("NEGS_" + name) == value, (name, value, defines.get("NEGS_" + name))
saved = _lib.WRITTEN_FOR
_lib.WRITTEN_FOR = (major + 1, 0, 0)
expect_error("NEGS_E_UNSUPPORTED", ns.load, _lib.library().path, contains="needs")
_lib.WRITTEN_FOR = saved
expect_error("NEGS_E_UNSUPPORTED", ns.load, "/nonexistent/libnegsample.so", contains="cannot load")
pathsetup.load()
assert ns.status_name(-1) == "NEGS_E_INVALID" and ns.status_name(99) == "NEGS_UNKNOWN"

# Errors carry the status and the library's sentence.
e = expect_error("NEGS_E_INVALID", ns.Csr, 2, 4, [0, 1, 2], [0, 4], contains="indices[1] = 4")
assert e.status == -1 and e.message.startswith("NEGS_E_INVALID: negs_csr_create")
assert ns.last_error() == (-1, e.message)
expect_error("NEGS_E_INVALID", ns.Csr, 2, 4, [0, 1], [0], contains="n_users + 1")
expect_error("NEGS_E_INVALID", ns.Csr, 2, 4, [0, 1, 2], [0, -1], contains="indices")
expect_error("NEGS_E_INVALID", ns.Sampler, "zipf", 10, contains="unknown 'zipf'")
expect_error("NEGS_E_INVALID", ns.Uniform, 10, colour=3, contains="no parameter 'colour'")
expect_error("NEGS_E_INVALID", ns.Uniform, 0, contains="n_items")
expect_error("NEGS_E_UNSUPPORTED", ns.Sampler, 99, 10)

# Csr: queries, from_rows, from_pairs, closing.
with ns.Csr.from_rows([[3, 1, 1], [], [0]], 4) as t:
    assert (t.n_users, t.n_items) == (3, 4)
    assert t.contains(0, 1) and t.contains(0, 3) and not t.contains(1, 0)
    assert [t.row_size(u) for u in range(3)] == [2, 0, 1]
    assert list(t.row(0)) == [1, 3] and list(t.row(1)) == [] and list(t.row_view(0)) == [1, 3]
    view = t.row_view(2)
    assert view.readonly and list(view) == [0]
    expect_error("NEGS_E_INVALID", t.row, 0, out=array.array("I", [0]), contains="expected 2")
    expect_error("NEGS_E_INVALID", t.row_view, 3, contains="user")
    expect_error("NEGS_E_INVALID", t.contains, 3, 0)
expect_error("NEGS_E_STATE", t.contains, 0, 1, contains="closed")
t.close()  # twice is fine
t = ns.Csr.from_pairs([2, 0, 0], [0, 3, 1], 3, 4)
assert t.contains(0, 3) and t.contains(2, 0) and t.row_size(1) == 0

# The worked example of docs/samplers.md: weights (3, 5, 2, 0.5, 7, 1.5), alpha 1, the user has
# seen {1, 4}, the row's positive is 2; k = 3: log q = log(3 p).
weights = array.array("d", [3, 5, 2, 0.5, 7, 1.5])
seen = ns.Csr.from_rows([[1, 4]], 6)
expected = {0: math.log(1.8), 3: math.log(0.3), 5: math.log(0.9)}
s = ns.Popularity(6, seed=7, alpha=1.0, weights=weights, positives=seen)
assert s.alpha == 1.0 and s.unique is False and s.threads == 1
items, logq = s.sample(users=[0] * 50, positives=[2] * 50, k=3)
assert isinstance(items, memoryview) and items.shape == (50, 3) and logq.shape == (50, 3)
assert items[49, 2] == flat(items)[-1]
items, logq = flat(items), flat(logq)
assert set(items) == {0, 3, 5}, set(items)
for i, lq in zip(items, logq):
    assert abs(lq - expected[i]) < 1e-5, (i, lq)
# out= buffers are written in place; a buffer view works too; wrong ones are refused first.
out, out_logq = array.array("I", [0] * 150), array.array("f", [0.0] * 150)
got, got_logq = s.sample([0] * 50, [2] * 50, k=3, out=out, out_logq=memoryview(out_logq))
assert got is out and list(out) == list(items) and list(out_logq) == list(logq)
expect_error("NEGS_E_INVALID", s.sample, [0], [2], k=3, out=array.array("i", [0] * 3),
             contains="format")
expect_error("NEGS_E_INVALID", s.sample, [0], [2], k=3, out=array.array("I", [0] * 4),
             contains="holds 4 elements, expected 3")
expect_error("NEGS_E_INVALID", s.sample, [0], [2], k=3, out=bytes(12), contains="out")
expect_error("NEGS_E_INVALID", s.sample, [0], [2, 2], k=3, contains="disagree")
expect_error("NEGS_E_INVALID", s.sample, [0], [2], k=0, contains="k")
items, no_logq = s.sample([0], [2], k=2, logq=False)
assert no_logq is None and items.shape == (1, 2)
# The same rows from bytes (read-only, copied), array.array and lists give the same draws.
users_b = memoryview(array.array("I", [0, 0]).tobytes()).cast("I")
assert s.sample(users_b, [2, 2], k=3)[0].tolist() == s.sample([0, 0], [2, 2], k=3)[0].tolist()
# ROW_OFFSET: two half calls draw what one whole call draws.
whole = flat(s.sample([0] * 10, [2] * 10, k=3, step=5)[0])
s.row_offset = 4
tail = flat(s.sample([0] * 6, [2] * 6, k=3, step=5)[0])
s.row_offset = 0
assert whole[12:] == tail

# UNIQUE, k = 2: item 0 is certain, then pi = 0.25 and 0.75 for items 3 and 5.
s.unique = True
assert s.unique is True
items, logq = map(flat, s.sample([0] * 20, [2] * 20, k=2))
unique_expected = {0: 0.0, 3: math.log(0.25), 5: math.log(0.75)}
for r in range(20):
    assert items[2 * r] != items[2 * r + 1]
for i, lq in zip(items, logq):
    assert abs(lq - unique_expected[i]) < 1e-5, (i, lq)
expect_error("NEGS_E_EXHAUSTED", s.sample, [0], [2], k=4, contains="row 0")
s.close()

# A mixture of that sampler (share 1) and a uniform one with the same exclusion (share 1):
# item 3 has log(3 (0.5 * 0.1 + 0.5 / 3)).
pop = ns.Popularity(6, alpha=1.0, weights=weights, positives=seen)
uni = ns.Uniform(6, positives=seen)
mix = ns.Mixture(6, seed=3, children=[(pop, 1.0), (uni, 1.0)])
expect_error("NEGS_E_STATE", pop.sample, [0], [2], k=1, contains="handed to a Mixture")
items, logq = map(flat, mix.sample([0] * 40, [2] * 40, k=3))
for i, lq in zip(items, logq):
    if i == 3:
        assert abs(lq - math.log(0.65)) < 1e-5, lq
other = ns.Uniform(7)
expect_error("NEGS_E_INVALID", mix.add, other, 1.0)
assert other.sample(n_rows=1, k=1)[0][0, 0] < 7  # a failed add leaves the child with the caller
mix.set_schedule(0, [0, 10], [1.0, 0.0])
items, _ = mix.sample([0] * 20, [2] * 20, k=3, step=10)  # only the uniform child at step 10
expect_error("NEGS_E_INVALID", mix.set_schedule, 0, [0, 10], [1.0])
del mix, pop, uni  # the mixture frees its children
cat = ns.Category(6, categories=[0, 0, 1, 1, 1, 0])
assert set(flat(cat.sample(positives=[3] * 20, k=2)[0])) <= {2, 4}
expo = ns.Exposure(6, exposures=ns.Csr.from_rows([[0, 5]], 6))
assert set(flat(expo.sample(users=[0] * 20, positives=[2] * 20, k=1)[0])) == {0, 5}

# Frequency estimator: update, queries, save/load, pickle, merge, damaged images.
f = ns.FrequencyEstimator("sketch", buckets=256, hashes=2, seed=9, half_life=0)
f.update([1, 2, 3, 1], step=0)
p = f.prob([1, 2, 99])
assert abs(p[0] - 0.5) < 1e-6 and abs(p[1] - 0.25) < 1e-6, list(p)
assert abs(f.logq([1])[0] - math.log(0.5)) < 1e-6
lqb = f.logq_batch([2], batch_size=4)[0]
assert abs(lqb - math.log(1 - 0.75 ** 4)) < 1e-5, lqb
twin = ns.FrequencyEstimator("sketch", buckets=256, hashes=2, seed=9, half_life=0)
twin.update(array.array("I", [1, 2, 3, 1]), step=0)  # 32-bit ids: the _u32 calls, same state
assert twin.save() == f.save()
assert list(twin.update_logq(array.array("I", [1]), step=1)) == list(twin.logq([1]))
image = f.save()
assert ns.FrequencyEstimator.load(image).save() == image
assert pickle.loads(pickle.dumps(f)).save() == image
g = ns.FrequencyEstimator("sketch", buckets=256, hashes=2, seed=9)
g.update([2, 2], step=0)
f.merge(g)
damaged = bytes([image[0] ^ 1]) + image[1:]
expect_error("NEGS_E_FORMAT", ns.FrequencyEstimator.load, damaged)
expect_error("NEGS_E_INVALID", f.update, [1], step=-1, contains="step = -1")
expect_error("NEGS_E_INVALID", f.update, [1], step=1.5, contains="whole number")
f.reset()
gap = ns.FrequencyEstimator("gap", buckets=64, hashes=2, alpha=0.5)
assert gap.alpha == 0.5
expect_error("NEGS_E_UNSUPPORTED", gap.merge, ns.FrequencyEstimator("gap", 64, 2))

# Losses: SOFTMAX against the formula, with temperature, log q and a mask.
loss = ns.Loss("softmax", temperature=0.5)
pos, neg, lq, mask = [1.0, 2.0], [0.0, 1.0, 1.0, 3.0], [0.1, -0.2, 0.0, 0.3], [0, 0, 1, 0]
value, d_pos, d_neg = loss.scores(pos, neg, neg_logq=lq, neg_mask=bytes(mask))
rows = []
for r in range(2):
    logits = [pos[r] / 0.5] + [neg[2 * r + j] / 0.5 - lq[2 * r + j] for j in range(2)
                               if not mask[2 * r + j]]
    rows.append(math.log(sum(math.exp(x) for x in logits)) - logits[0])
assert abs(value - sum(rows) / 2) < 1e-5, (value, rows)
assert d_neg[1, 0] == 0.0 and len(d_pos) == 2 and d_neg.shape == (2, 2)
loss.reduction = "none"
assert loss.reduction == ns.REDUCE_NONE
per_row, _, _ = loss.scores(pos, neg, neg_logq=lq, neg_mask=mask, grad=False)
assert all(abs(a - b) < 1e-5 for a, b in zip(per_row, rows))
expect_error("NEGS_E_INVALID", loss.scores, pos, neg[:3], contains="not rows")
expect_error("NEGS_E_INVALID", loss.scores, pos, neg, neg_logq=[0.0], contains="neg_logq")
expect_error("NEGS_E_INVALID", loss.scores, [float("nan"), 1.0], neg, contains="pos")
expect_error("NEGS_E_INVALID", ns.Loss, reduction="median", contains="reduction")

# In-batch softmax on flat buffers (dim given) against the formula: b = 2, m = 1, dim = 2.
u, v = [1.0, 0.0, 0.0, 1.0], [1.0, 1.0, 0.5, 2.0, -1.0, 0.0]
ib = ns.Loss("softmax", reduction="sum")
value, du, dv = ib.inbatch(u, v, dim=2)
ref = 0.0
for i in range(2):
    logits = [u[2 * i] * v[2 * j] + u[2 * i + 1] * v[2 * j + 1] for j in range(3)]
    ref += math.log(sum(math.exp(x) for x in logits)) - logits[i]
assert abs(value - ref) < 1e-5 and du.shape == (2, 2) and dv.shape == (3, 2), (value, ref)
expect_error("NEGS_E_INVALID", ib.inbatch, u, v, contains="row length")
expect_error("NEGS_E_INVALID", ib.inbatch, u, v[:2], dim=2, contains="fewer than")
expect_error("NEGS_E_STATE", ib.inbatch, u, v, dim=2, item_ids=[0, 1, 2], user_ids=[0, 1])
ib.set_positives(ns.Csr.from_rows([[0, 2], [1]], 3))
masked, _, _ = ib.inbatch(u, v, dim=2, item_ids=[0, 1, 2], user_ids=[0, 1], grad=False)
assert masked < value

# bf16 products: 1.1 rounds to 1.1015625 (8 significant bits), the loss is the formula on it.
ib16 = ns.Loss("softmax", reduction="sum", precision="bf16")
assert ib16.precision == ns.PRECISION_BF16
u16 = [1.1, 0.0, 0.0, 1.0]
value16, _, _ = ib16.inbatch(u16, v, dim=2, grad=False)
ref16 = 0.0
for i, ui in enumerate([[1.1015625, 0.0], [0.0, 1.0]]):
    logits = [ui[0] * v[2 * j] + ui[1] * v[2 * j + 1] for j in range(3)]
    ref16 += math.log(sum(math.exp(x) for x in logits)) - logits[i]
assert abs(value16 - ref16) < 1e-5, (value16, ref16)
expect_error("NEGS_E_UNSUPPORTED", ns.Loss, "bce", precision="bf16", contains="SOFTMAX")
expect_error("NEGS_E_INVALID", ns.Loss, precision="fp16", contains="precision")

delta = ns.adv_perturb([3.0, 4.0, 0.0, 0.0], 0.5, dim=2)
assert [round(x, 6) for x in flat(delta)] == [0.3, 0.4, 0.0, 0.0], delta.tolist()
print(f"test_python_api: negsample on {_lib.library().path} (no numpy) passed")
