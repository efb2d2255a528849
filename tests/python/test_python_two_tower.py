"""examples/python/two_tower.py on its synthetic set, shortened: it must train (the loss goes
down), print Recall@10, and its library loss must match torch's dense one (its exit status).
Exit 77 without torch."""
import os
import re
import subprocess
import sys

try:
    import numpy  # noqa: F401
    import torch  # noqa: F401
except ImportError:
    print("skip: torch or numpy not available")
    sys.exit(77)
import pathsetup  # noqa: E402

env = dict(os.environ)
env["NEGSAMPLE_LIBRARY"] = os.environ.get("LIBNEGSAMPLE",
                                          os.path.join(pathsetup.ROOT, "lib", "libnegsample.so"))
run = subprocess.run([sys.executable, os.path.join(pathsetup.ROOT, "examples", "python",
                                                   "two_tower.py"),
                      "--synthetic", "--epochs", "6", "--batch", "256", "--extra", "64",
                      "--timing-steps", "2"], capture_output=True, text=True, env=env)
print(run.stdout, run.stderr, end="")
assert run.returncode == 0, run.returncode
losses = [float(x) for x in re.findall(r"mean in-batch loss ([0-9.]+)", run.stdout)]
assert len(losses) == 6 and losses[-1] < losses[0], losses
assert re.search(r"Recall@10 on held-out items: 0\.\d{4}", run.stdout)
assert "ratio" in run.stdout
