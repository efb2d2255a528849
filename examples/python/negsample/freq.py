"""negs_freq: a streaming estimate of each item's frequency, for log q corrections."""
import ctypes

from . import _consts as C
from . import _lib
from ._buffers import F32, U32, U64, In, Out, is_kind
from ._handle import Handle, Param
from ._lib import call, create, uint, wraps

KINDS = {"gap": C.FREQ_GAP, "sketch": C.FREQ_SKETCH}


class FrequencyEstimator(Handle, free="negs_freq_free"):
    """FrequencyEstimator(kind="gap"|"sketch", buckets=2**16, hashes=2, seed=0, **params).
    Copy and pickle go through save()/load()."""

    alpha = Param(C.FP_ALPHA, float, "gap EMA rate in (0, 1]")
    max_gap = Param(C.FP_MAX_GAP, float, "cap for unseen and cold items")
    half_life = Param(C.FP_HALF_LIFE, float, "sketch decay in steps; 0 = none")
    conservative = Param(C.FP_CONSERVATIVE, bool, "sketch: conservative update")

    @wraps("negs_freq_create")
    def __init__(self, kind="gap", buckets=1 << 16, hashes=2, seed=0, **params):
        kind = _lib.named(kind, KINDS, "FrequencyEstimator kind")
        super().__init__(create("negs_freq_create", kind, uint(buckets, "buckets", 64),
                                      uint(hashes, "hashes"), uint(seed, "seed", 64)), params)

    @classmethod
    def _adopt(cls, ptr):
        self = cls.__new__(cls)
        Handle.__init__(self, ptr, {})
        return self

    @wraps("negs_freq_set_param")
    def set_param(self, param, value):
        self._set("negs_freq_set_param", param, value)

    @wraps("negs_freq_get_param")
    def get_param(self, param):
        return self._get("negs_freq_get_param", param)

    # Ids that already are 32-bit (a sampler's or loss's item indices: numpy uint32 or
    # array("I")) go to the _u32 twins, which give the same results without a widening copy.

    @wraps("negs_freq_update", "negs_freq_update_u32")
    def update(self, ids, step):
        """Counts one batch of ids seen at `step` (steps never go down)."""
        c_name, i = _ids("negs_freq_update", ids)
        call(c_name, self.handle, uint(step, "step", 64), i.ptr, i.n)
        return self

    @wraps("negs_freq_update_logq", "negs_freq_update_logq_u32")
    def update_logq(self, ids, step, out=None):
        """update(ids, step), then the log q of each id read after it, in one pass."""
        c_name, i = _ids("negs_freq_update_logq", ids)
        o = Out(out, F32, i.shape if out is None and i.shape else (i.n,), "out")
        call(c_name, self.handle, uint(step, "step", 64), i.ptr, i.n, o.ptr)
        return o.obj

    def _query(self, c_name, ids, out, *extra):
        c_name, i = _ids(c_name, ids)
        o = Out(out, F32, i.shape if out is None and i.shape else (i.n,), "out")
        call(c_name, self.handle, i.ptr, i.n, *extra, o.ptr)
        return o.obj

    @wraps("negs_freq_prob", "negs_freq_prob_u32")
    def prob(self, ids, out=None):
        """Per-example probability that an example's item is each id."""
        return self._query("negs_freq_prob", ids, out)

    @wraps("negs_freq_logq", "negs_freq_logq_u32")
    def logq(self, ids, out=None):
        """log prob(ids)."""
        return self._query("negs_freq_logq", ids, out)

    @wraps("negs_freq_logq_batch", "negs_freq_logq_batch_u32")
    def logq_batch(self, ids, batch_size, out=None):
        """log P(the id is in a batch of batch_size examples)."""
        return self._query("negs_freq_logq_batch", ids, out, uint(batch_size, "batch_size", 64))

    @wraps("negs_freq_save")
    def save(self):
        """The estimator's versioned, checksummed image as bytes."""
        size = ctypes.c_size_t()
        call("negs_freq_save", self.handle, None, 0, ctypes.addressof(size))
        buf = ctypes.create_string_buffer(size.value)
        call("negs_freq_save", self.handle, buf, size.value, ctypes.addressof(size))
        return buf.raw[:size.value]

    @classmethod
    @wraps("negs_freq_load")
    def load(cls, image):
        """An estimator from a save() image; NegsError(NEGS_E_FORMAT) if it is damaged."""
        data = bytes(image)
        return cls._adopt(create("negs_freq_load", data, len(data)))

    def __reduce__(self):
        return FrequencyEstimator.load, (self.save(),)

    @wraps("negs_freq_merge")
    def merge(self, other):
        call("negs_freq_merge", self.handle, other.handle)
        return self

    @wraps("negs_freq_reset")
    def reset(self):
        call("negs_freq_reset", self.handle)
        return self


def _ids(c_name, ids):
    """The C function (the _u32 twin for 32-bit ids) and the ids as its C array."""
    if is_kind(ids, U32):
        return c_name + "_u32", In(ids, U32, "ids")
    return c_name, In(ids, U64, "ids")
