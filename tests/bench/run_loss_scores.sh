#!/bin/sh
# Score-level losses, forward + backward (loss, d_pos, d_neg; mean reduction; with neg_logq;
# T = 0.5) over n = 10^6 rows, k in {1, 4, 64}, every kind, at 1 and 2 threads, against the
# torch peer (tests/bench/loss_scores_peer.py: the idiomatic PyTorch formulation with autograd,
# same inputs, same thread count) in the same run. Prints a table; with BENCH_JSON set, appends
# one JSON object per case: bench, case, ours, peer, peer_value, unit (s), ratio = peer / ours.
# Env: BENCH_BIN_DIR, PYTHON, BENCH_JSON (from `make bench`), LOSS_SCORES_N (default 1000000),
# LOSS_SCORES_REPS (default 5).
# Then the indexed variants (bench_loss_scores_indexed: rows gathered by index from 10^5 x dim
# tables, gradients into the tables; `rows` = the _rows variant) against gather + scores in
# plain C loops + negs_loss_scores + chain rule and scatter by hand, at 1 and 2 threads, in
# the same binary; ratio = hand / ours. First a note on what the torch peer was built with and
# which BLAS it loads (tests/bench/torch_info.py).
set -e
here=$(cd "$(dirname "$0")" && pwd)
bin=${BENCH_BIN_DIR:-build/bench}/bench_loss_scores
py=${PYTHON:-/usr/bin/python3}
n=${LOSS_SCORES_N:-1000000}
reps=${LOSS_SCORES_REPS:-5}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

peer_name=$(env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE "$py" -c \
    'import torch; print("torch " + torch.__version__.split("+")[0] + " CPU")' 2>/dev/null) || {
    echo "loss_scores: torch not available, skipping the peer"; peer_name=""; }
# what the torch peer was built with and which BLAS it runs on (its figures depend on both)
[ -n "$peer_name" ] && echo "torch peer: $(env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE "$py" \
    "$here/torch_info.py" 2>/dev/null || echo "build info not available")"

printf '%-8s %3s %2s %12s %12s %8s %12s %12s\n' kind k th ours_ms torch_ms ratio ours_loss torch_loss
for threads in 1 2; do
    "$bin" "$threads" "$n" "$reps" > "$tmp/ours.$threads"
    if [ -n "$peer_name" ]; then
        env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE OPENBLAS_NUM_THREADS="$threads" \
            "$py" "$here/loss_scores_peer.py" "$threads" "$n" "$reps" > "$tmp/peer.$threads"
    else
        : > "$tmp/peer.$threads"
    fi
    # join on (kind, k): ours first, then the peer's line for the same case
    awk -v th="$threads" -v n="$n" -v peer="$peer_name" -v json="${BENCH_JSON:-}" '
        FNR == NR { pt[$1 " " $2] = $3; pl[$1 " " $2] = $4; next }
        {
            key = $1 " " $2; o = $3; p = (key in pt) ? pt[key] : 0;
            r = (p > 0 && o > 0) ? p / o : 0;
            printf "%-8s %3d %2d %12.3f %12.3f %8.2f %12.7g %12s\n", $1, $2, th, o * 1e3, p * 1e3, r, $4, (key in pl) ? pl[key] : "-";
            if (json != "" && p > 0)
                printf "{\"bench\": \"loss_scores\", \"case\": \"%s k=%d n=%d threads=%d\", \"ours\": %.6f, \"peer\": \"%s\", \"peer_value\": %.6f, \"unit\": \"s\", \"ratio\": %.3f, \"threads\": %d}\n", $1, $2, n, th, o, peer, p, r, th >> json;
        }' "$tmp/peer.$threads" "$tmp/ours.$threads"
done

echo
printf '%-8s %6s %6s %3s %4s %2s %10s %10s %10s %7s %12s %12s\n' kind cosine n k dim th \
    ours_ms rows_ms hand_ms ratio ours_loss hand_loss
for threads in 1 2; do
    "${BENCH_BIN_DIR:-build/bench}/bench_loss_scores_indexed" "$threads" "$reps" |
        awk -v th="$threads" -v json="${BENCH_JSON:-}" '{
            r = $6 > 0 ? $8 / $6 : 0;
            printf "%-8s %6d %6d %3d %4d %2d %10.2f %10.2f %10.2f %7.2f %12.7g %12.7g\n", $1, $2, $3, $4, $5, th, $6 * 1e3, $7 * 1e3, $8 * 1e3, r, $9, $10;
            if (json != "")
                printf "{\"bench\": \"loss_scores_indexed\", \"case\": \"%s cosine=%d n=%d k=%d dim=%d threads=%d\", \"ours\": %.6f, \"peer\": \"gather + negs_loss_scores + scatter in C\", \"peer_value\": %.6f, \"unit\": \"s\", \"ratio\": %.3f, \"threads\": %d}\n", $1, $2, $3, $4, $5, th, $6, $8, r, th >> json;
        }'
done
