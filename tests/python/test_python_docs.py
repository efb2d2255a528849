"""The first programs of docs/python.md and docs/cpp.md are, verbatim, the files make check
runs (examples/python/first.py here, examples/cpp/first.cpp by check-cpp); runs the Python one."""
import os
import re
import subprocess
import sys

import pathsetup

for doc, lang, path in (("python.md", "python", "examples/python/first.py"),
                        ("cpp.md", "cpp", "examples/cpp/first.cpp")):
    with open(os.path.join(pathsetup.ROOT, "docs", doc)) as f:
        text = f.read()
    section = text.split("## A first program", 1)[1]
    block = re.search(r"```" + lang + r"\n(.*?)```", section, re.S).group(1)
    with open(os.path.join(pathsetup.ROOT, path)) as f:
        assert f.read() == block, f"docs/{doc}: its first program differs from {path}"

env = dict(os.environ)
env["NEGSAMPLE_LIBRARY"] = os.environ.get("LIBNEGSAMPLE",
                                          os.path.join(pathsetup.ROOT, "lib", "libnegsample.so"))
run = subprocess.run([sys.executable, os.path.join(pathsetup.ROOT, "examples", "python",
                                                   "first.py")],
                     capture_output=True, text=True, env=env, cwd=pathsetup.ROOT)
print(run.stdout, run.stderr, end="")
assert run.returncode == 0 and run.stdout.count("log q") == 6, run.returncode
assert ("failed with NEGS_E_INVALID (-1): NEGS_E_INVALID: negs_sampler_sample: users[1] = 7"
        in run.stdout)
print("test_python_docs: the first programs of docs/python.md and docs/cpp.md are the files "
      "make check runs")
