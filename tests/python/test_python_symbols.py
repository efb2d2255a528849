"""Every public C function (tests/abi/symbols.txt) has its Python counterpart in the negsample
package (declared in _lib.SIGNATURES and exposed by a function or method marked @wraps) and
its C++ one (used in include/negsample.hpp), and every number the header #defines has its
Python constant. The failure message names what is missing."""
import os
import re
import sys

import pathsetup

ns = pathsetup.load()
from negsample import _consts, _lib, csr, freq, loss, sampler, xbm  # noqa: E402

with open(os.path.join(pathsetup.ROOT, "tests", "abi", "symbols.txt")) as f:
    symbols = [line.strip() for line in f if line.strip()]
with open(os.path.join(pathsetup.ROOT, "include", "negsample.hpp")) as f:
    hpp = f.read()


def resolves(qualname):
    """Whether a @wraps target like "Sampler.sample" or "adv_perturb" exists in the package."""
    for module in (_lib, csr, freq, loss, sampler, xbm):
        obj = module
        for part in qualname.split("."):
            obj = getattr(obj, part, None)
        if obj is not None:
            return True
    return False


problems = []
undeclared = [s for s in symbols if s not in _lib.SIGNATURES]
if undeclared:
    problems.append("no ctypes signature in examples/python/negsample/_lib.py SIGNATURES: "
                    + ", ".join(undeclared))
unwrapped = [s for s in symbols if s not in _lib.COUNTERPARTS]
if unwrapped:
    problems.append("no Python function or method marked @wraps(...) for: "
                    + ", ".join(unwrapped))
dangling = [f"{s} -> {q}" for s, q in _lib.COUNTERPARTS.items() if not resolves(q)]
if dangling:
    problems.append("@wraps targets that do not resolve: " + ", ".join(dangling))
stale = [s for s in _lib.SIGNATURES if s not in symbols]
if stale:
    problems.append("SIGNATURES names functions the library does not export: " + ", ".join(stale))
no_cpp = [s for s in symbols if not re.search(r"\b%s\b" % s, hpp)]
if no_cpp:
    problems.append("not used in include/negsample.hpp: " + ", ".join(no_cpp))
constants = {name: value for name, value in vars(_consts).items() if name.isupper()}
no_constant = [name for name in pathsetup.header_defines()
               if name[len("NEGS_"):] not in constants]
if no_constant:
    problems.append("#defines without a constant in examples/python/negsample/_consts.py: "
                    + ", ".join(no_constant))
for p in problems:
    print("FAIL", p)
if problems:
    sys.exit(1)
print(f"test_python_symbols: all {len(symbols)} public functions have Python and C++ "
      f"counterparts; all {len(constants)} constants are in the package")
