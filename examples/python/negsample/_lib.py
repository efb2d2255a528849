"""Finding and loading libnegsample, the C signatures, and turning status codes into
exceptions. Everything else in the package calls the library through call() and create()."""
import ctypes
import ctypes.util
import os

from . import _consts

# The library version this package was written for: the loaded one must have the same major
# version (the ABI promise, docs/ABI.md) and be at least this new (it has every function below).
WRITTEN_FOR = (0, 1, 0)

_P = ctypes.c_void_p
_I, _U32, _U64, _SZ, _D, _F = (ctypes.c_int, ctypes.c_uint32, ctypes.c_uint64, ctypes.c_size_t,
                               ctypes.c_double, ctypes.c_float)
_S = ctypes.c_char_p

# name: (restype, argtypes). Pointers are c_void_p: the package passes addresses it has checked.
SIGNATURES = {
    "negs_version_number": (ctypes.c_uint, []),
    "negs_version_string": (_S, []),
    "negs_status_name": (_S, [_I]),
    "negs_last_error": (_S, []),
    "negs_last_status": (_I, []),
    "negs_csr_create": (_P, [_U32, _U32, _P, _P]),
    "negs_csr_free": (None, [_P]),
    "negs_csr_contains": (_I, [_P, _U32, _U32]),
    "negs_csr_n_users": (_U32, [_P]),
    "negs_csr_n_items": (_U32, [_P]),
    "negs_csr_row_size": (ctypes.c_int64, [_P, _U32]),
    "negs_csr_row_items": (_I, [_P, _U32, _P, _P]),
    "negs_csr_row_copy": (_I, [_P, _U32, _P, _SZ, _P]),
    "negs_sampler_create": (_P, [_I, _U32, _U64]),
    "negs_sampler_free": (None, [_P]),
    "negs_sampler_set_param": (_I, [_P, _I, _D]),
    "negs_sampler_get_param": (_I, [_P, _I, _P]),
    "negs_sampler_set_weights": (_I, [_P, _P, _U32]),
    "negs_sampler_set_positives": (_I, [_P, _P]),
    "negs_sampler_set_exposures": (_I, [_P, _P]),
    "negs_sampler_set_categories": (_I, [_P, _P, _U32]),
    "negs_sampler_add": (_I, [_P, _P, _D]),
    "negs_sampler_set_schedule": (_I, [_P, _U32, _SZ, _P, _P]),
    "negs_sampler_sample": (_I, [_P, _U64, _SZ, _P, _P, _U32, _P, _P]),
    "negs_sampler_select": (_I, [_P, _U64, _SZ, _U32, _P, _P, _P, _U32, _P, _P]),
    "negs_sampler_sample_scored": (_I, [_P, _U64, _SZ, _P, _P, _P, _P, _SZ, _U32, _P, _P]),
    "negs_srns_prepare": (_I, [_P, _U32]),
    "negs_srns_candidates": (_I, [_P, _U64, _SZ, _P, _P, _P]),
    "negs_srns_select": (_I, [_P, _U64, _SZ, _P, _P, _P, _P, _P, _U32, _P, _P]),
    "negs_sampler_logq": (_I, [_P, _U64, _SZ, _P, _P, _P, _U32, _P]),
    "negs_sampler_set_support": (_I, [_P, _P, _U32]),
    "negs_sampler_sample_shared": (_I, [_P, _U64, _SZ, _P, _U32, _P, _P, _P]),
    "negs_mixed_logq": (_I, [_SZ, _SZ, _P, _P, _P]),
    "negs_freq_create": (_P, [_I, _SZ, _U32, _U64]),
    "negs_freq_free": (None, [_P]),
    "negs_freq_set_param": (_I, [_P, _I, _D]),
    "negs_freq_get_param": (_I, [_P, _I, _P]),
    "negs_freq_update": (_I, [_P, _U64, _P, _SZ]),
    "negs_freq_prob": (_I, [_P, _P, _SZ, _P]),
    "negs_freq_logq": (_I, [_P, _P, _SZ, _P]),
    "negs_freq_logq_batch": (_I, [_P, _P, _SZ, _SZ, _P]),
    "negs_freq_update_u32": (_I, [_P, _U64, _P, _SZ]),
    "negs_freq_prob_u32": (_I, [_P, _P, _SZ, _P]),
    "negs_freq_logq_u32": (_I, [_P, _P, _SZ, _P]),
    "negs_freq_logq_batch_u32": (_I, [_P, _P, _SZ, _SZ, _P]),
    "negs_freq_update_logq": (_I, [_P, _U64, _P, _SZ, _P]),
    "negs_freq_update_logq_u32": (_I, [_P, _U64, _P, _SZ, _P]),
    "negs_freq_save": (_I, [_P, _P, _SZ, _P]),
    "negs_freq_load": (_P, [_P, _SZ]),
    "negs_freq_merge": (_I, [_P, _P]),
    "negs_freq_reset": (_I, [_P]),
    "negs_loss_create": (_P, [_I]),
    "negs_loss_free": (None, [_P]),
    "negs_loss_set_param": (_I, [_P, _I, _D]),
    "negs_loss_get_param": (_I, [_P, _I, _P]),
    "negs_loss_scores": (_I, [_P, _SZ, _U32, _P, _P, _P, _P, _P, _P, _P]),
    "negs_loss_inbatch": (_I, [_P, _SZ, _SZ, _SZ, _P, _P, _P, _P, _P, _P, _P, _P]),
    "negs_loss_set_positives": (_I, [_P, _P]),
    "negs_loss_set_telemetry": (_I, [_P, _U32, _SZ, _P, _P]),
    "negs_adv_perturb": (_I, [_SZ, _SZ, _P, _F, _P]),
    "negs_synth_negatives": (_I, [_I, _U64, _U64, _SZ, _SZ, _U32, _P, _P, _SZ, _P, _P, _U32,
                                  _U32, _U32, _I, _P, _P, _P, _P]),
    "negs_loss_scores_indexed": (_I, [_P, _SZ, _U32, _SZ, _P, _U32, _P, _U32, _P, _P, _P, _P, _P,
                                      _P, _P, _P]),
    "negs_loss_scores_indexed_rows": (_I, [_P, _SZ, _U32, _SZ, _P, _U32, _P, _U32, _P, _P, _P,
                                           _P, _P, _P, _P, _P, _P]),
    "negs_loss_inbatch_indexed": (_I, [_P, _SZ, _SZ, _SZ, _P, _U32, _P, _U32, _P, _P, _P, _P,
                                       _P, _P]),
    "negs_loss_inbatch_indexed_rows": (_I, [_P, _SZ, _SZ, _SZ, _P, _U32, _P, _U32, _P, _P, _P,
                                            _P, _P, _P]),
    "negs_xbm_create": (_P, [_SZ, _SZ]),
    "negs_xbm_free": (None, [_P]),
    "negs_xbm_set_param": (_I, [_P, _I, _D]),
    "negs_xbm_get_param": (_I, [_P, _I, _P]),
    "negs_xbm_reset": (_I, [_P]),
    "negs_xbm_push": (_I, [_P, _U64, _SZ, _SZ, _P, _P, _P]),
    "negs_xbm_layout": (_I, [_P, _U64, _SZ, _SZ, _SZ, _P, _P, _P, _P, _P]),
}

# C function name -> the Python callable that exposes it (filled by @wraps).
COUNTERPARTS = {}


def wraps(*c_names):
    """Marks a Python function or method as the counterpart of the named C functions."""
    def mark(fn):
        for name in c_names:
            COUNTERPARTS.setdefault(name, fn.__qualname__)
        return fn
    return mark


class NegsError(Exception):
    """Every failure of the package: `status` (a NEGS_E_* code), `name` ("NEGS_E_INVALID") and
    `message` (the library's sentence, or the package's own for checks made before a call)."""

    def __init__(self, status, message):
        self.status = status
        self.name = _consts.STATUS_NAMES.get(status, "NEGS_UNKNOWN")
        self.message = message
        super().__init__(message if message.startswith(self.name) else f"{self.name}: {message}")


def invalid(message):
    """A NegsError for a bad argument caught in Python, worded like the library's."""
    return NegsError(_consts.E_INVALID, message)


class Library:
    """One loaded copy of libnegsample with its signatures declared."""

    def __init__(self, path):
        try:
            self.cdll = ctypes.CDLL(path)
        except OSError as e:
            raise NegsError(_consts.E_UNSUPPORTED, f"cannot load libnegsample from {path}: {e}")
        self.path = path
        self.missing = []
        for name, (restype, argtypes) in SIGNATURES.items():
            fn = getattr(self.cdll, name, None)
            if fn is None:  # an older library: calling it raises, the rest still works
                self.missing.append(name)
                continue
            fn.restype, fn.argtypes = restype, argtypes
        self.fn = {name: getattr(self.cdll, name) for name in SIGNATURES
                   if name not in self.missing}
        number = self.fn["negs_version_number"]()
        self.version = (number // 10000, number // 100 % 100, number % 100)
        if self.version[0] != WRITTEN_FOR[0] or self.version < WRITTEN_FOR:
            raise NegsError(_consts.E_UNSUPPORTED,
                            f"{path} is libnegsample {'.'.join(map(str, self.version))}; this "
                            f"package needs {WRITTEN_FOR[0]}.x, at least "
                            f"{'.'.join(map(str, WRITTEN_FOR))}")

    def error(self, status):
        text = self.fn["negs_last_error"]()
        return NegsError(status, text.decode("utf-8", "replace") if text else "")

    def get(self, name):
        fn = self.fn.get(name)
        if fn is None:
            raise NegsError(_consts.E_UNSUPPORTED,
                            f"{name}: not in the loaded library {self.path}")
        return fn


_loaded = None


def _candidates():
    env = os.environ.get("NEGSAMPLE_LIBRARY")
    if env:
        yield env
        return
    here = os.path.dirname(os.path.abspath(__file__))
    build = os.path.normpath(os.path.join(here, "..", "..", "..", "lib", "libnegsample.so"))
    if os.path.exists(build):
        yield build
    system = ctypes.util.find_library("negsample")
    yield system or f"libnegsample.so.{WRITTEN_FOR[0]}"


def load(path=None):
    """Loads the library (an explicit path, else $NEGSAMPLE_LIBRARY, else the build tree
    next to this package, else the system's) and makes it the one the package uses."""
    global _loaded
    _loaded = Library(path if path is not None else next(_candidates()))
    return _loaded


def library():
    return _loaded if _loaded is not None else load()


def call(name, *args):
    """Calls a C function that returns a status; raises NegsError on a negative one."""
    lib = library()
    rc = lib.get(name)(*args)
    if rc < 0:
        raise lib.error(rc)
    return rc


def create(name, *args):
    """Calls a C constructor; raises NegsError (with negs_last_status) when it returns NULL."""
    lib = library()
    handle = lib.get(name)(*args)
    if not handle:
        raise lib.error(lib.fn["negs_last_status"]())
    return handle


def free(name, handle):
    library().get(name)(handle)


@wraps("negs_version_number", "negs_version_string")
def version():
    """The loaded library's (major, minor, patch) and its version string."""
    lib = library()
    return lib.version, lib.fn["negs_version_string"]().decode()


@wraps("negs_status_name")
def status_name(status):
    return library().fn["negs_status_name"](status).decode()


@wraps("negs_last_error", "negs_last_status")
def last_error():
    """This thread's last failure as (status, sentence); (0, "") if none."""
    lib = library()
    return lib.fn["negs_last_status"](), lib.fn["negs_last_error"]().decode("utf-8", "replace")


def uint(value, name, bits=32):
    """value as a C unsigned integer argument; ctypes would wrap -1 to 2^bits - 1 silently."""
    if isinstance(value, bool) or not isinstance(value, int):
        try:
            as_int = int(value)
        except (TypeError, ValueError):
            as_int = None
        if as_int is None or as_int != value:
            raise invalid(f"{name} = {value!r} is not a whole number")
        value = as_int
    if not 0 <= value < 1 << bits:
        raise invalid(f"{name} = {value} is outside 0..2^{bits} - 1")
    return value


def named(value, table, what):
    """A name of `table` as its constant (a number passes through unchanged)."""
    if isinstance(value, str):
        if value not in table:
            raise invalid(f"{what}: unknown {value!r} (known: {', '.join(table)})")
        return table[value]
    return value
