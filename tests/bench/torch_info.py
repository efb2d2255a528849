"""Prints one line saying what this torch was built with and which BLAS it loads at run time:
its version, BLAS_INFO and LAPACK_INFO from torch.__config__.show(), the CPU capability its
kernels dispatch to, whether oneDNN (MKL-DNN) is in, and the BLAS / LAPACK shared objects mapped
into the process after a matmul (their resolved paths, from /proc/self/maps)."""
import os
import re

import torch


def field(text, pattern):
    m = re.search(pattern, text)
    return m.group(1).strip() if m else "?"


def mapped_blas():
    torch.ones(64, 64) @ torch.ones(64, 64)  # makes sure the BLAS is loaded
    libs = set()
    try:
        with open("/proc/self/maps") as f:
            for line in f:
                path = line.split()[-1] if len(line.split()) >= 6 else ""
                name = os.path.basename(path)
                if re.search(r"blas|lapack|mkl|blis|atlas", name, re.I):
                    libs.add(os.path.realpath(path))
    except OSError:
        return "unknown"
    return ", ".join(sorted(libs)) or "none mapped"


def main():
    cfg = torch.__config__.show()
    print("torch %s: BLAS_INFO=%s, LAPACK_INFO=%s, CPU capability %s, oneDNN %s; BLAS loaded: %s"
          % (torch.__version__, field(cfg, r"BLAS_INFO=([^,]*)"), field(cfg, r"LAPACK_INFO=([^,]*)"),
             field(cfg, r"CPU capability usage: (\S+)"),
             field(cfg, r"(MKL-DNN v[\d.]+)") if "MKL-DNN" in cfg else "no", mapped_blas()))


if __name__ == "__main__":
    main()
