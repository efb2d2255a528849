"""negs_csr: a read-only table of item lists per user (known positives, exposures)."""
import ctypes

from . import _lib
from ._buffers import U32, U64, In, Out, np
from ._handle import Handle
from ._lib import call, create, uint, wraps


class Csr(Handle, free="negs_csr_free"):
    """Row u holds indices[indptr[u]:indptr[u+1]]. The data is copied (rows sorted and
    de-duplicated); handles given the table keep it alive, so it may be closed first."""

    @wraps("negs_csr_create")
    def __init__(self, n_users, n_items, indptr, indices):
        p = In(indptr, U64, "indptr")
        if p.n != uint(n_users, "n_users") + 1:
            raise _lib.invalid(f"Csr: indptr has {p.n} entries, expected n_users + 1 = "
                               f"{n_users + 1}")
        i = In(indices, U32, "indices")
        ptr = create("negs_csr_create", uint(n_users, "n_users"), uint(n_items, "n_items"),
                     p.ptr, i.ptr)
        super().__init__(ptr, {})

    @classmethod
    def from_rows(cls, rows, n_items):
        """From one list of items per user."""
        indptr, indices = [0], []
        for row in rows:
            indices.extend(row)
            indptr.append(len(indices))
        return cls(len(rows), n_items, indptr, indices)

    @classmethod
    def from_pairs(cls, users, items, n_users, n_items):
        """From parallel arrays of (user, item) pairs, in any order (needs numpy)."""
        if np is None:
            rows = [[] for _ in range(n_users)]
            for u, i in zip(users, items):
                rows[u].append(i)
            return cls.from_rows(rows, n_items)
        users, items = np.asarray(users), np.asarray(items)
        if users.size and (users.min() < 0 or users.max() >= n_users):
            raise _lib.invalid(f"Csr.from_pairs: a user id is outside 0..{n_users - 1}")
        order = np.argsort(users, kind="stable")
        indptr = np.zeros(n_users + 1, np.uint64)
        indptr[1:] = np.cumsum(np.bincount(users, minlength=n_users))
        return cls(n_users, n_items, indptr, items[order])

    @wraps("negs_csr_contains")
    def contains(self, user, item):
        return call("negs_csr_contains", self.handle, uint(user, "user"), uint(item, "item")) == 1

    @property
    @wraps("negs_csr_n_users")
    def n_users(self):
        return _lib.library().get("negs_csr_n_users")(self.handle)

    @property
    @wraps("negs_csr_n_items")
    def n_items(self):
        return _lib.library().get("negs_csr_n_items")(self.handle)

    @wraps("negs_csr_row_size")
    def row_size(self, user):
        """The number of distinct items in user's row."""
        return call("negs_csr_row_size", self.handle, uint(user, "user"))

    @wraps("negs_csr_row_copy")
    def row(self, user, out=None):
        """User's distinct items, sorted, as a new array (or written into out)."""
        n = ctypes.c_size_t()
        call("negs_csr_row_copy", self.handle, uint(user, "user"), None, 0, ctypes.addressof(n))
        o = Out(out, U32, (n.value,), "out")
        call("negs_csr_row_copy", self.handle, user, o.ptr, n.value, ctypes.addressof(n))
        return o.obj

    @wraps("negs_csr_row_items")
    def row_view(self, user):
        """User's distinct items, sorted, read-only and without a copy: a view of the table's
        memory that keeps the table alive."""
        items, n = ctypes.c_void_p(), ctypes.c_size_t()
        call("negs_csr_row_items", self.handle, uint(user, "user"), ctypes.addressof(items),
             ctypes.addressof(n))
        view = (ctypes.c_uint32 * n.value).from_address(items.value)
        view.table = self
        if np is None:
            return memoryview(view).cast("B").cast("I").toreadonly()
        a = np.frombuffer(view, np.uint32) if n.value else np.empty(0, np.uint32)
        a.flags.writeable = False
        return a
