"""The SRNS sampler from Python (standard library only): candidates, host scores, select, the
passed-over count on a constructed false negative, and a bad input's error."""
import array
import sys

sys.modules["numpy"] = None
import pathsetup  # noqa: E402

ns = pathsetup.load()
from pathsetup import expect_error  # noqa: E402

child = ns.Uniform(100000, seed=3)
with ns.Srns(100000, seed=2, child=child, n_users=1, srns_memory=4, srns_refresh=0,
             srns_history=4, srns_alpha=1.0) as s:
    assert s.srns_users == 1
    users = array.array("I", [0])
    picks = []
    for step in range(4):
        cand = s.srns_candidates(users, step=step)
        ids = [x for row in cand.tolist() for x in row]
        # slot 0 high and steady (a likely false negative), slot 1 high and low by turns
        scores = array.array("f", [2.0, -2.0 if step % 2 else 1.8, -3.0, -3.0])
        out, lq = s.srns_select(users, cand, scores, array.array("f", [0.0]), k=1, step=step)
        picks.append(ids.index(out.tolist()[0][0]))
        assert lq.tolist()[0][0] == 0.0
        assert s.srns_passed == (1 if step == 2 else 0), (step, s.srns_passed)
    assert picks == [0, 0, 1, 0], picks
    expect_error("NEGS_E_INVALID",
                 lambda: s.srns_select(users, cand, scores, array.array("f", [0.0]), k=5),
                 contains="k = 5 exceeds NEGS_SP_SRNS_MEMORY = 4")
print("test_python_srns: passed")
