"""Every ```python snippet in README.md and docs/*.md: each libnegsample function it calls
through ctypes (lib.negs_*) has its argtypes and restype set in that snippet (without them ctypes
truncates pointers and sizes to a C int), and every snippet that loads the library itself
(ctypes.CDLL) runs against the built one. Snippets of the negsample package are fragments (the
package declares the prototypes; tests/python/test_python_docs.py runs its first program).
Exits 77 (skip) when numpy is missing."""
import glob
import os
import re
import subprocess
import sys

ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
LIB = os.environ.get("LIBNEGSAMPLE", os.path.join(ROOT, "lib", "libnegsample.so"))


def snippets():
    for path in [os.path.join(ROOT, "README.md")] + sorted(glob.glob(os.path.join(ROOT, "docs", "*.md"))):
        with open(path) as f:
            text = f.read()
        for k, m in enumerate(re.finditer(r"```python\n(.*?)```", text, re.S)):
            yield "%s, snippet %d" % (os.path.relpath(path, ROOT), k + 1), m.group(1)


def main():
    try:
        import numpy  # noqa: F401  (the snippets use it)
    except ImportError:
        print("numpy missing: skipped")
        return 77
    failures, n, ran = [], 0, 0
    for where, code in snippets():
        n += 1
        called = set(re.findall(r"\blib\.(negs_\w+)\s*\(", code))
        for fn in sorted(called):
            for attr in ("argtypes", "restype"):
                if not re.search(r"\blib\.%s\.%s\s*=" % (fn, attr), code):
                    failures.append("%s: %s is called without %s" % (where, fn, attr))
        if "ctypes.CDLL(" not in code:
            continue
        ran += 1
        env = dict(os.environ, LD_LIBRARY_PATH=os.path.dirname(os.path.realpath(LIB)))
        run = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
        if run.returncode != 0:
            failures.append("%s: exited %d:\n%s" % (where, run.returncode, run.stderr[-2000:]))
    for f in failures:
        print("FAIL", f)
    print("doc snippets: %d Python snippets checked, %d self-contained ones run, %d problems"
          % (n, ran, len(failures)))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
