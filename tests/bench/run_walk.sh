#!/bin/sh
# Random-walk negatives (NEGS_SAMPLER_WALK, 3 and 5 hops, 8 tries) against the UNIFORM sampler
# excluding the same positives, in the same run: 4096 rows, k = 1 and 16, 1 and 2 threads, on
# MovieLens-100K (every rating a positive) when ../shared/data has it, else on the seeded
# synthetic graph. Columns: draws per second, walk / uniform (higher is better), and per draw
# the walks that ended on a positive and the slots the uniform fallback drew.
# Env: BENCH_BIN_DIR, WALK_DATA (a .inter file), WALK_REPS (7), BENCH_JSON.
set -e
here=$(cd "$(dirname "$0")" && pwd)
bin=${BENCH_BIN_DIR:-build/bench}/bench_walk
data=${WALK_DATA:-$here/../../../shared/data/ml-100k/ml-100k.inter}
[ -f "$data" ] || data=synthetic
out=$(mktemp)
trap 'rm -f "$out"' EXIT
"$bin" "$data" "${WALK_REPS:-7}" > "$out"
head -n 1 "$out"
printf '%-8s %3s %2s %12s %8s %9s %9s\n' case k th draws/s vs-unif rejected fallback
awk -v json="${BENCH_JSON:-}" '
    /^#/ { next }
    $1 == "uniform" { base[$2 " " $3] = $4 }
    {
        b = base[$2 " " $3];
        printf "%-8s %3d %2d %12.0f %8.3f %9.4f %9.4f\n", $1, $2, $3, $4, $4 / b, $5, $6;
        if (json != "" && $1 != "uniform")
            printf "{\"bench\": \"walk\", \"case\": \"%s k=%d threads=%d\", \"ours\": %.0f, \"peer\": \"UNIFORM with exclusion\", \"peer_value\": %.0f, \"unit\": \"draws/s\", \"ratio\": %.3f, \"threads\": %d}\n", $1, $2, $3, $4, b, $4 / b, $3 >> json;
    }' "$out"
