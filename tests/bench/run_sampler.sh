#!/bin/sh
# make bench BENCH=sampler [BENCH_JSON=file]: numpy / torch peers (Debian's python3, when
# installed), then the C bench that prints the table and the JSON lines.
set -e
here=$(cd "$(dirname "$0")" && pwd)
bin=${BENCH_BIN_DIR:-build/bench}
py=${PYTHON:-/usr/bin/python3}
peers=$(mktemp)
trap 'rm -f "$peers"' EXIT
if [ -x "$py" ] && "$py" -c "import numpy" 2>/dev/null; then
    # The peer runs single-threaded like the C bench; OpenBLAS tuning variables are unset for
    # the peer only (they slow it down).
    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 \
        BENCH_THREADS=1 "$py" "$here/peer_sampler.py" > "$peers" || echo "peer script failed" >&2
else
    echo "numpy not installed: peers skipped" >&2
fi
BENCH_PEERS="$peers" ML100K="${ML100K:-$here/../../../shared/data/ml-100k/ml-100k.inter}" \
    "$bin/bench_sampler"
