#!/bin/sh
# make bench BENCH=freq: negs_freq update speed against vectorised numpy / torch peers, then the
# accuracy simulations (Yi et al.'s, and a drifting Zipf stream) and the plots in docs/img/.
set -e
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BIN=${BENCH_BIN_DIR:-$ROOT/build/bench}
PY=${PYTHON:-/usr/bin/python3}
OUT=$BIN/freq
mkdir -p "$OUT"
echo "-- $BIN/bench_freq speed"
echo "load (1, 5, 15 min): $(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null) on $(nproc 2>/dev/null) cores"
"$BIN/bench_freq" speed "$OUT/speed.txt"
echo "-- tests/bench/freq_peer.py (numpy / torch, 1 thread)"
env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE OPENBLAS_NUM_THREADS=1 \
    "$PY" -W ignore "$ROOT/tests/bench/freq_peer.py" "$OUT/speed.txt"
echo "-- $BIN/bench_freq paper"
"$BIN/bench_freq" paper "$OUT"
echo "-- $BIN/bench_freq zipf"
"$BIN/bench_freq" zipf "$OUT"
"$PY" "$ROOT/tests/bench/plot_freq.py" "$OUT" "$ROOT/docs/img"
