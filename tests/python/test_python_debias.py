"""The negsample package's debiased softmax (Loss(tau_plus=...)) and in-batch telemetry
(Loss.set_telemetry, masked_hits, masked_known): values against numpy brute force. Exit 77
without numpy."""
import sys

try:
    import numpy as np
except ImportError:
    print("skip: numpy not available")
    sys.exit(77)
import pathsetup  # noqa: E402

ns = pathsetup.load()
from pathsetup import expect_error  # noqa: E402

rng = np.random.default_rng(14)

# tau_plus: the paper's estimator on one row of scores, and 0 = the plain softmax
pos, neg = np.array([1.0], np.float32), np.array([[0.5, -0.5]], np.float32)
with ns.Loss("softmax", tau_plus=0.1, reduction="sum") as l:
    assert abs(l.tau_plus - 0.1) < 1e-12
    loss, _, _ = l.scores(pos, neg)
    e = np.exp
    ng = (e(0.5) + e(-0.5) - 2 * 0.1 * e(1.0)) / 0.9
    assert abs(loss - (np.log(e(1.0) + ng) - 1.0)) < 1e-6, loss
    expect_error("NEGS_E_INVALID", setattr, l, "tau_plus", 1.0, contains="tau_plus")
with ns.Loss("softmax") as a, ns.Loss("softmax", tau_plus=0.3) as b:
    b.tau_plus = 0.0
    assert a.scores(pos, neg)[0] == b.scores(pos, neg)[0]
expect_error("NEGS_E_UNSUPPORTED", ns.Loss, "bpr", tau_plus=0.1)

# telemetry: integer embeddings, so the logits are exact and compare with numpy's
b, m, dim, t = 20, 10, 4, 3
u = rng.integers(-3, 4, (b, dim)).astype(np.float32)
v = rng.integers(-3, 4, (b + m, dim)).astype(np.float32)
items = rng.integers(0, 12, b + m).astype(np.uint32)
with ns.Loss("softmax", temperature=0.5) as l:
    cols, logits = l.set_telemetry(t, max_rows=b)
    assert l.telemetry_top == t
    l.inbatch(u, v, item_ids=items)
    z = (u @ v.T) * 2.0
    hits = 0
    for i in range(b):
        live = [j for j in range(b + m) if j != i and items[j] != items[i]]
        hits += (b + m - 1) - len(live)
        best = sorted(live, key=lambda j: (-z[i, j], j))[:t]
        assert list(cols[i]) == best, (i, cols[i], best)
        assert np.array_equal(logits[i], z[i, best].astype(np.float32))
    assert l.masked_hits == hits and l.masked_known == 0
    assert l.set_telemetry(0) is None and l.telemetry_top == 0
    expect_error("NEGS_E_INVALID", l.set_telemetry, ns._consts.TELEMETRY_MAX_TOP + 1, 4)
print("test_python_debias: tau_plus and set_telemetry agree with numpy")
