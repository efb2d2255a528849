"""C arrays from Python objects. numpy arrays of the right dtype that are C-contiguous are
passed without a copy; other inputs (lists, other dtypes, array.array, any buffer) are
converted, with integer ranges checked. Outputs are allocated (numpy when present; else an
array.array, seen through a memoryview of the output's shape when it has two dimensions or
more, whose .tolist() nests as numpy's does), or the caller's `out=` array is checked (dtype,
shape, contiguity, writable) and written in place."""
import array
import ctypes
import struct

from ._lib import invalid

try:
    import numpy as np
except ImportError:  # the package works on array.array and buffers without it
    np = None


class Kind:
    def __init__(self, name, typecode, integer, limit=None):
        self.name, self.typecode, self.integer, self.limit = name, typecode, integer, limit
        self.itemsize = array.array(typecode).itemsize
        self.np = np.dtype(name) if np is not None else None
        chars = "BHILQN?" if integer else "efd"
        self.formats = {c for c in chars if struct.calcsize(c) == self.itemsize}


U8 = Kind("uint8", "B", True, 2**8 - 1)
U32 = Kind("uint32", "I", True, 2**32 - 1)
U64 = Kind("uint64", "Q", True, 2**64 - 1)
F32 = Kind("float32", "f", False)
F64 = Kind("float64", "d", False)


def is_kind(obj, kind):
    """Whether obj already is an array of kind's C type (a numpy dtype or a buffer format)."""
    if np is not None and isinstance(obj, np.ndarray):
        return obj.dtype == kind.np
    if isinstance(obj, (array.array, memoryview)):
        return _format_ok(memoryview(obj), kind)
    return False


def _format_ok(mv, kind):
    fmt = mv.format.lstrip("@=<")
    return fmt in kind.formats


def _address(mv, keep):
    """The address of a C-contiguous writable buffer (kept alive by the caller via keep)."""
    c = (ctypes.c_char * mv.nbytes).from_buffer(mv)
    keep.append(c)
    return ctypes.addressof(c)


def _np_convert(a, kind, name):
    if a.dtype == kind.np and a.flags.c_contiguous:
        return a
    if a.size == 0:
        return np.empty(a.shape, kind.np)
    if kind.integer:
        if a.dtype.kind not in "biu":
            raise invalid(f"{name}: {a.dtype} values are not {kind.name} ids")
        low, high = a.min(), a.max()
        if low < 0 or high > kind.limit:
            raise invalid(f"{name}: value {low if low < 0 else high} is out of the range of "
                          f"{kind.name}")
    elif a.dtype.kind not in "biuf":
        raise invalid(f"{name}: {a.dtype} values are not numbers")
    return np.ascontiguousarray(a, dtype=kind.np)


class In:
    """An input array: .ptr (address or None), .n (elements), .shape; holds what it needs."""

    def __init__(self, obj, kind, name):
        self.keep = []
        if obj is None:
            self.ptr, self.n, self.shape = None, 0, None
            return
        if np is not None and not isinstance(obj, (array.array, bytes, bytearray, memoryview)):
            a = _np_convert(np.asarray(obj), kind, name)
            self.keep.append(a)
            self.ptr, self.n, self.shape = (a.ctypes.data if a.size else None), a.size, a.shape
            return
        try:
            mv = memoryview(obj)
        except TypeError:
            mv = None
        if mv is None or not _format_ok(mv, kind) or not mv.c_contiguous:
            values = mv.tolist() if mv is not None else obj
            try:
                obj = array.array(kind.typecode, _flat(values))
            except (TypeError, OverflowError, ValueError) as e:
                raise invalid(f"{name}: cannot be read as {kind.name}: {e}") from None
            mv = memoryview(obj)
        if mv.readonly:
            mv = memoryview(bytearray(mv)).cast("B").cast(mv.format.lstrip("@=<"))
        self.n = mv.nbytes // kind.itemsize
        self.shape = mv.shape
        self.keep.append(mv)
        self.ptr = _address(mv, self.keep) if self.n else None


def _flat(values):
    if values and isinstance(values[0], (list, tuple)):
        return [x for row in values for x in _flat(row)]
    return values


class Out:
    """An output array of `shape`: the caller's (checked) or a new one; .ptr and .obj."""

    def __init__(self, obj, kind, shape, name):
        n = 1
        for d in shape:
            n *= d
        self.keep = []
        if obj is None:
            if np is not None:
                obj = np.empty(shape, kind.np)
            else:  # a flat array.array, seen through a memoryview of the shape when 2-D+
                obj = array.array(kind.typecode, bytes(n * kind.itemsize))
                if len(shape) > 1 and n:
                    obj = memoryview(obj).cast("B").cast(kind.typecode, list(shape))
        self.obj = obj
        if np is not None and isinstance(obj, np.ndarray):
            if obj.dtype != kind.np:
                raise invalid(f"{name}: dtype {obj.dtype}, expected {kind.name}")
            if obj.shape != tuple(shape):
                raise invalid(f"{name}: shape {obj.shape}, expected {tuple(shape)}")
            if not obj.flags.c_contiguous or not obj.flags.writeable:
                raise invalid(f"{name}: must be C-contiguous and writeable")
            self.ptr = obj.ctypes.data if n else _EMPTY
            return
        try:
            mv = memoryview(obj)
        except TypeError:
            raise invalid(f"{name}: {type(obj).__name__} is not a writable buffer") from None
        if not _format_ok(mv, kind):
            raise invalid(f"{name}: buffer format {mv.format!r}, expected {kind.name}")
        if mv.readonly or not mv.c_contiguous:
            raise invalid(f"{name}: must be C-contiguous and writeable")
        if mv.nbytes != n * kind.itemsize:
            raise invalid(f"{name}: holds {mv.nbytes // kind.itemsize} elements, expected {n}")
        self.keep.append(mv)
        self.ptr = _address(mv, self.keep) if n else _EMPTY


# An empty output still gets an address, so that the library names the real cause (k = 0).
_EMPTY_BYTE = ctypes.c_char()
_EMPTY = ctypes.addressof(_EMPTY_BYTE)


def rows_cols(buf, name, cols):
    """(rows, cols) of a row-major matrix input: from its shape, or from `cols` for flat ones."""
    if buf.shape is not None and len(buf.shape) == 2 and cols is None:
        return buf.shape[0], buf.shape[1]
    if cols is None or cols <= 0:
        raise invalid(f"{name}: a flat buffer needs its row length (dim)")
    if buf.n % cols:
        raise invalid(f"{name}: {buf.n} elements are not rows of {cols}")
    return buf.n // cols, cols


def expect_sizes(where, *checks):
    """Each (buffer, name, given, want): a given optional input must hold `want` values."""
    for buf, name, given, want in checks:
        if given is not None and buf.n != want:
            raise invalid(f"{where}: {name} has {buf.n} values, expected {want}")


def reduced(out, per_row):
    """Per-row losses as the array, a reduced one as a float."""
    return out.obj if per_row else float(out.obj[0])
