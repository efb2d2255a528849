"""What every handle class shares: deterministic freeing (close(), `with`, or garbage
collection), and parameters as keyword arguments and properties."""
import ctypes

from . import _consts, _lib
from ._lib import NegsError, call


class Handle:
    """Owns one C handle. Subclasses name their C free function: class X(Handle, free=...)."""
    _free_name = None
    _params = {}

    def __init_subclass__(cls, free=None, **kw):
        super().__init_subclass__(**kw)
        if free:
            cls._free_name = free
            _lib.COUNTERPARTS.setdefault(free, f"{cls.__name__}.close")
        cls._params = {**cls._params,
                       **{k: v for k, v in vars(cls).items() if isinstance(v, Param)}}

    def __init__(self, ptr, params):
        self._ptr = ptr
        self._parent = None
        try:
            self.configure(**params)
        except BaseException:
            self.close()
            raise

    def configure(self, **params):
        """Sets parameters by name (the properties of the class), in the order given."""
        for name, value in params.items():
            if name not in self._params:
                raise _lib.invalid(f"{type(self).__name__}: no parameter {name!r} (known: "
                                   f"{', '.join(sorted(self._params))})")
            setattr(self, name, value)
        return self

    @property
    def handle(self):
        """The C pointer (an int), for calls this package does not wrap."""
        if self._ptr is None:
            why = (f"it was handed to a {type(self._parent).__name__} by add()" if self._parent
                   else "it is closed")
            raise NegsError(_consts.E_STATE, f"{type(self).__name__}: {why}")
        return self._ptr

    def close(self):
        """Frees the C handle now (also done by `with` and by garbage collection)."""
        if self._ptr is not None and self._parent is None:
            _lib.free(self._free_name, self._ptr)
        self._ptr = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def __del__(self):
        if getattr(self, "_ptr", None) is not None and _lib is not None:
            self.close()

    def _set(self, c_name, pid, value):
        call(c_name, self.handle, pid, float(value))

    def _get(self, c_name, pid):
        value = ctypes.c_double()
        call(c_name, self.handle, pid, ctypes.addressof(value))
        return value.value


class Param:
    """A parameter id exposed as a property; `cast` shapes what get_param returns."""

    def __init__(self, pid, cast=float, doc=""):
        self.pid, self.cast, self.__doc__ = pid, cast, doc

    def __get__(self, obj, owner=None):
        if obj is None:
            return self
        return self.cast(obj.get_param(self.pid))

    def __set__(self, obj, value):
        obj.set_param(self.pid, value)
