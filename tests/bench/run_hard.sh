#!/bin/sh
# Hard negatives, at 1 and 2 threads, against the numpy / torch peers (tests/bench/hard_peer.py,
# the same shapes and thread count: torch.set_num_threads, OPENBLAS_NUM_THREADS for the peer
# only) in the same run:
# - negs_sampler_sample_scored (HARD, TOP over POPULARITY with alpha 0.75; 4096 rows,
#   c = 32, dim = 64; 10^5 and 10^6 items) against "plain" (negs_sampler_sample of the same
#   draws plus the dot products in a plain C loop, one thread) and against a numpy / torch
#   DNS step (draw, gather, batched matmul, top-k);
# - negs_sampler_select (TOP) on 4096 rows x 64 candidates against torch.topk + gather and
#   numpy argpartition + take_along_axis.
# Ratios: ours / plain (lower is better), peer / ours (higher is better). With BENCH_JSON set,
# one JSON object per case is appended. Env: BENCH_BIN_DIR, PYTHON, BENCH_JSON, HARD_REPS (5).
set -e
here=$(cd "$(dirname "$0")" && pwd)
bin=${BENCH_BIN_DIR:-build/bench}/bench_hard
py=${PYTHON:-/usr/bin/python3}
reps=${HARD_REPS:-5}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
have_peer=1
env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE "$py" -c "import numpy" 2>/dev/null || {
    echo "hard: numpy not available, skipping the peers"; have_peer=0; }
for th in 1 2; do
    "$bin" "$th" "$reps" > "$tmp/ours.$th"
    if [ "$have_peer" = 1 ]; then
        env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE OPENBLAS_NUM_THREADS="$th" OMP_NUM_THREADS="$th" \
            "$py" "$here/hard_peer.py" "$th" "$reps" > "$tmp/peer.$th"
    else
        : > "$tmp/peer.$th"
    fi
done

echo "sample_scored: HARD (TOP) over POPULARITY, 4096 rows, c = 32, dim = 64 (times in ms)"
printf '%8s %2s %2s %9s %9s %8s %9s %9s %9s\n' items k th ours plain ours/pl torch numpy best/ours
for th in 1 2; do
    awk -v th="$th" -v json="${BENCH_JSON:-}" '
        FNR == NR { if ($1 == "dns") { t[$2 " " $6] = $7; n[$2 " " $6] = $8 } next }
        $1 == "scored" {
            key = $2 " " $6; o = $7; b = $8; pt = (key in t) ? t[key] : 0; pn = (key in n) ? n[key] : 0;
            best = (pt > 0 && (pn == 0 || pt < pn)) ? pt : pn;
            gain = (best > 0) ? best / o : 0;
            printf "%8d %2d %2d %9.2f %9.2f %8.2f %9.2f %9.2f %9.2f\n", $2, $6, th, o * 1e3, b * 1e3, o / b, pt * 1e3, pn * 1e3, gain;
            if (json != "") {
                printf "{\"bench\": \"hard\", \"case\": \"sample_scored items=%d k=%d threads=%d\", \"ours\": %.6f, \"peer\": \"draws + dots in a plain C loop (1 thread)\", \"peer_value\": %.6f, \"unit\": \"s\", \"ratio\": %.3f, \"threads\": %d}\n", $2, $6, th, o, b, b / o, th >> json;
                if (best > 0) printf "{\"bench\": \"hard\", \"case\": \"sample_scored items=%d k=%d threads=%d\", \"ours\": %.6f, \"peer\": \"numpy / torch DNS step (faster)\", \"peer_value\": %.6f, \"unit\": \"s\", \"ratio\": %.3f, \"threads\": %d}\n", $2, $6, th, o, best, best / o, th >> json;
            }
        }' "$tmp/peer.$th" "$tmp/ours.$th"
done
echo
echo "select: TOP of 4096 rows x 64 candidates (times in ms)"
printf '%2s %2s %9s %9s %9s %9s %9s\n' k th ours torch numpy torch/us numpy/us
for th in 1 2; do
    awk -v th="$th" -v json="${BENCH_JSON:-}" '
        FNR == NR { if ($1 == "select") { t[$4] = $5; n[$4] = $6 } next }
        $1 == "select" {
            o = $5; pt = ($4 in t) ? t[$4] : 0; pn = ($4 in n) ? n[$4] : 0;
            printf "%2d %2d %9.3f %9.3f %9.3f %9.2f %9.2f\n", $4, th, o * 1e3, pt * 1e3, pn * 1e3, pt / o, pn / o;
            if (json != "" && pt > 0)
                printf "{\"bench\": \"hard\", \"case\": \"select rows=4096 n_cand=64 k=%d threads=%d\", \"ours\": %.7f, \"peer\": \"torch.topk + gather\", \"peer_value\": %.7f, \"unit\": \"s\", \"ratio\": %.3f, \"threads\": %d}\n", $4, th, o, pt, pt / o, th >> json;
        }' "$tmp/peer.$th" "$tmp/ours.$th"
done
