"""Shared by the tests in this directory: puts examples/python on sys.path and loads the
library the Makefile names ($LIBNEGSAMPLE), else the build tree's."""
import os
import sys

ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "examples", "python"))


def load():
    import negsample
    negsample.load(os.environ.get("LIBNEGSAMPLE", os.path.join(ROOT, "lib", "libnegsample.so")))
    return negsample


def header_defines():
    """{name: int value} of the #defines of include/negsample.h with plain numbers."""
    import re
    out = {}
    with open(os.path.join(ROOT, "include", "negsample.h")) as f:
        for line in f:
            m = re.match(r"#define (NEGS_\w+) \(?(-?(?:0x[0-9A-Fa-f]+|\d+))[uU]?\)?(\s|$)",
                         line)
            if m:
                out[m.group(1)] = int(m.group(2), 0)
    return out


def expect_error(status_name, fn, *args, contains="", **kw):
    import negsample
    try:
        fn(*args, **kw)
    except negsample.NegsError as e:
        assert e.name == status_name, (e.name, str(e))
        assert contains in str(e), (contains, str(e))
        assert str(e).startswith(status_name), str(e)
        return e
    raise AssertionError(f"{getattr(fn, '__name__', fn)} did not raise {status_name}")
