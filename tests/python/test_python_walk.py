"""The WALK sampler from Python (standard library only): the graph given as positives, no
positive ever returned, NaN log q, the walk parameters and read-only counters, and the
sentence of a bad call."""
import math
import sys

sys.modules["numpy"] = None  # the standard-library path
import pathsetup  # noqa: E402

ns = pathsetup.load()
from pathsetup import expect_error  # noqa: E402

rows = [[0, 1, 2], [1, 3, 4], [2, 4, 5, 6], [6, 7], [0, 7, 8, 9], []]
graph = ns.Csr.from_rows(rows, 10)
s = ns.Walk(10, seed=3, positives=graph, walk_length=5, walk_restart=0.25, walk_tries=2)
assert (s.walk_length, s.walk_restart, s.walk_tries) == (5, 0.25, 2)
users = [r % 6 for r in range(60)]
items, logq = s.sample(users=users, k=4)
flat = [x for row in items.tolist() for x in row]
for i, item in enumerate(flat):
    assert item not in rows[users[i // 4]], (i, item)
assert all(math.isnan(x) for row in logq.tolist() for x in row)
# the isolated user's 40 slots, at least, are the fallback's
assert s.walk_fallbacks >= 40 and s.walk_rejected > 0
expect_error("NEGS_E_INVALID", setattr, s, "walk_length", 4, contains="odd")
expect_error("NEGS_E_INVALID", s.sample, positives=[0], k=1, contains="users is NULL")
expect_error("NEGS_E_UNSUPPORTED", s.logq, [3], users=[0], contains="WALK")
s.close()
print("test_python_walk: ok")
