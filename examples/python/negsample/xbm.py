"""negs_xbm: the cross-batch memory (CBNS, MoCo's queue), a FIFO of recent batches' item
embeddings laid out as the extra columns of Loss.inbatch."""
import ctypes
import math

from . import _consts as C
from . import _lib
from ._buffers import F32, U32, U64, In, Out, np, rows_cols
from ._handle import Handle, Param
from ._lib import call, create, uint, wraps


def _max_age(value):
    return math.inf if value == math.inf else int(value)


class CrossBatchMemory(Handle, free="negs_xbm_free"):
    """CrossBatchMemory(capacity, dim, max_age=inf): a ring of `capacity` entries (an item
    embedding of `dim` floats, its item id and log q). The entries are constants: ignore the
    rows of dv that Loss.inbatch gives for them."""

    max_age = Param(C.XP_MAX_AGE, _max_age, "entries older than this many steps: logq -inf")
    capacity = Param(C.XP_CAPACITY, int, "read-only: entries held at most")
    dim = Param(C.XP_DIM, int, "read-only: floats per embedding")
    size = Param(C.XP_SIZE, int, "read-only: entries held now")

    @wraps("negs_xbm_create")
    def __init__(self, capacity, dim, **params):
        super().__init__(create("negs_xbm_create", uint(capacity, "capacity", 64),
                                uint(dim, "dim", 64)), params)

    @wraps("negs_xbm_set_param")
    def set_param(self, param, value):
        self._set("negs_xbm_set_param", param, value)

    @wraps("negs_xbm_get_param")
    def get_param(self, param):
        return self._get("negs_xbm_get_param", param)

    @wraps("negs_xbm_reset")
    def reset(self):
        call("negs_xbm_reset", self.handle)
        return self

    @wraps("negs_xbm_push")
    def push(self, emb, item_ids, step, logq=None):
        """Appends one batch at `step`: emb (n x dim), item_ids (n), logq (n, or None: 0)."""
        e, ids = In(emb, F32, "emb"), In(item_ids, U32, "item_ids")
        flat = e.shape is None or len(e.shape) != 2
        n, d = rows_cols(e, "emb", self.dim if flat else None)
        lq = In(logq, F32, "logq")
        if ids.n != n or (logq is not None and lq.n != n):
            raise _lib.invalid(f"push: {n} embeddings, {ids.n} item_ids and "
                               f"{lq.n if logq is not None else 'no'} logq are not n each")
        call("negs_xbm_push", self.handle, uint(step, "step", 64), n, d, e.ptr, ids.ptr, lq.ptr)
        return self

    @wraps("negs_xbm_layout")
    def layout(self, step, b, v, logq, item_ids=None):
        """Writes the memory, newest first, into rows b .. b+m-1 of the caller's v (n_rows x
        dim, float32), logq (n_rows) and item_ids (n_rows, or None), in place. Returns
        (m, live, ages): live entries first, then the expired ones (logq -inf)."""
        d = self.dim
        if np is not None and isinstance(v, np.ndarray) and v.ndim == 2:
            shape = v.shape
        else:
            n = memoryview(v).nbytes // F32.itemsize
            shape = (n // d, d)
        vo = Out(v, F32, shape, "v")
        n_rows = shape[0]
        lo = Out(logq, F32, (n_rows,), "logq")
        io = Out(item_ids, U32, (n_rows,), "item_ids") if item_ids is not None else None
        ages = Out(None, U64, (self.capacity,), "ages")
        live = ctypes.c_size_t()
        m = call("negs_xbm_layout", self.handle, uint(step, "step", 64), uint(b, "b", 64),
                 shape[1], n_rows, vo.ptr, lo.ptr, io.ptr if io else None, ages.ptr,
                 ctypes.addressof(live))
        return m, live.value, ages.obj[:m]
