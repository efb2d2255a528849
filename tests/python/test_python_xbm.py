"""negsample.CrossBatchMemory: push / layout through ctypes give the C library's FIFO (newest
first after the b positives, expired entries at -inf), and the laid-out arrays fed to
Loss.inbatch give the loss of the same columns built by hand. Works with or without numpy."""
import array
import math

import pathsetup

ns = pathsetup.load()


def main():
    mem = ns.CrossBatchMemory(3, 2, max_age=1)
    assert (mem.capacity, mem.dim, mem.size, mem.max_age) == (3, 2, 0, 1)
    mem.push(array.array("f", [1, 2, 3, 4]), array.array("I", [7, 8]), step=0,
             logq=array.array("f", [-1, -2]))
    mem.push(array.array("f", [5, 6]), array.array("I", [9]), step=2)
    b = 2
    v = array.array("f", [0.5, -1, 0.25, 1] + [0] * 6)
    logq = array.array("f", [-0.5, -0.7, 0, 0, 0])
    ids = array.array("I", [7, 3, 0, 0, 0])
    m, live, ages = mem.layout(3, b, v, logq, ids)
    assert (m, live, list(ages)) == (3, 1, [1, 3, 3]), (m, live, list(ages))
    assert list(v[4:]) == [5, 6, 3, 4, 1, 2] and list(ids[2:]) == [9, 8, 7]
    assert logq[2] == 0 and logq[3] == -math.inf and logq[4] == -math.inf

    loss = ns.Loss("softmax", reduction="none")
    u = array.array("f", [1, 0.5, -0.5, 2])
    got, _, _ = loss.inbatch(u, v, logq, ids, dim=2)
    # By hand: row 0 (item 7) sees columns 0..2 (3, 4 expired; 4 is also its hit); row 1 all live.
    def row_loss(i, cols):
        z = [sum(u[2 * i + k] * v[2 * j + k] for k in range(2)) - logq[j] for j in cols]
        return math.log(sum(math.exp(x) for x in z)) - z[cols.index(i)]
    want = [row_loss(0, [0, 1, 2]), row_loss(1, [0, 1, 2])]
    assert all(abs(g - w) < 1e-5 for g, w in zip(got, want)), (list(got), want)

    pathsetup.expect_error("NEGS_E_INVALID", mem.push, array.array("f", [1] * 8),
                           array.array("I", [1] * 4), 4, contains="exceed the capacity 3")
    pathsetup.expect_error("NEGS_E_INVALID", mem.push, array.array("f", [math.nan, 0]),
                           array.array("I", [1]), 4, contains="emb[0] = nan")
    pathsetup.expect_error("NEGS_E_INVALID", mem.layout, 3, 4, v, logq, ids,
                           contains="cannot hold b = 4")
    pathsetup.expect_error("NEGS_E_INVALID", setattr, mem, "max_age", -1,
                           contains="NEGS_XP_MAX_AGE")
    mem.max_age = math.inf
    assert mem.max_age == math.inf
    mem.reset()
    assert mem.size == 0
    mem.close()
    print("test_python_xbm: push, layout, expiry and the in-batch loss on the memory agree")


main()
