#!/bin/sh
# make check-mpi: the MPI trainer at -np 1, 2 and 4 against the single-process run, and a job
# with one rank killed mid-run resumed from its checkpoint against an uninterrupted one.
# usage: check_mpi.sh build/examples/mpi/mpi_trainer
set -eu
BIN=$1
OUT=build/mpi
rm -rf "$OUT" && mkdir -p "$OUT"
MPIRUN="mpirun --oversubscribe"
if [ "$(id -u)" = 0 ]; then
    MPIRUN="$MPIRUN --allow-run-as-root"
    export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
fi
# Small and quick; merging every 5 steps exercises the estimators' stale-between-merges path.
ARGS="--steps 30 --batch 128 --merge-every 5 --seed 11"
fail() { echo "check-mpi: FAILED: $*"; exit 1; }
run() { # run NAME NP ARGS...: the job's stdout in $OUT/NAME.txt
    name=$1 np=$2
    shift 2
    $MPIRUN -np "$np" "$BIN" "$@" > "$OUT/$name.txt" 2> "$OUT/$name.err" ||
        { cat "$OUT/$name.err"; fail "mpirun -np $np $BIN $* exited with an error"; }
}
field() { sed -n "s/^$1 //p" "$OUT/$2.txt"; }

# 1. -np 1, 2, 4: each run checks on rank 0, every step, that the ranks' negatives equal one
# call for the whole batch and the merged estimator one estimator fed the whole batch.
for np in 1 2 4; do
    run np$np $np $ARGS --check
    grep -q '^check passed' "$OUT/np$np.txt" || fail "-np $np did not pass its own check"
done
for np in 2 4; do
    for what in negatives estimator; do
        [ "$(field "digest $what" np1)" = "$(field "digest $what" np$np)" ] ||
            fail "the $what of -np $np differ from the single-process run's"
    done
    # The gradient sums are split differently, so losses agree to rounding only.
    grep '^step ' "$OUT/np1.txt" > "$OUT/a" && grep '^step ' "$OUT/np$np.txt" > "$OUT/b"
    paste -d ' ' "$OUT/a" "$OUT/b" | awk -v np=$np '
        { d = $4 - $8; if (d < 0) d = -d; r = d / ($4 < 0 ? -$4 : $4); if (r > worst) worst = r; n++ }
        END { if (n != 30 || worst > 1e-6) { printf "loss of -np %d: %d steps, worst relative difference %g\n", np, n, worst; exit 1 }
              printf "check-mpi: -np %d loss trajectory within %.1e relative of -np 1 (30 steps)\n", np, worst }' ||
        fail "the loss trajectory of -np $np is not within 1e-6 of the single-process run's"
done
echo "check-mpi: -np 1, 2, 4 draw the same negatives and merge to the same estimator (bit-identical)"

# 2. Reproducible for a given rank count (the gradients are summed in rank order), and
# checkpointing does not change the run.
run full 2 $ARGS --ckpt-dir "$OUT/ck_full" --ckpt-every 10
grep '^step \|^final\|^digest' "$OUT/full.txt" > "$OUT/a"
grep '^step \|^final\|^digest' "$OUT/np2.txt" > "$OUT/b"
cmp -s "$OUT/a" "$OUT/b" || fail "two -np 2 runs (one checkpointing) differ"
echo "check-mpi: -np 2 twice, one run checkpointing: bit-identical losses, estimator and model"

# 3. Rank 1 is killed at step 25: the checkpoint of step 20 survives, and a restarted job
# resumes from it to the model and losses of the uninterrupted run.
if $MPIRUN -np 2 "$BIN" $ARGS --ckpt-dir "$OUT/ck" --ckpt-every 10 --die-at 25 --die-rank 1 \
        > "$OUT/killed.txt" 2> "$OUT/killed.err"; then
    fail "the job whose rank 1 was killed exited 0"
fi
[ "$(cat "$OUT/ck/latest")" = 20 ] || fail "after the kill, the last checkpoint is not step 20"
run resumed 2 $ARGS --ckpt-dir "$OUT/ck" --ckpt-every 10 --resume
grep '^step 2[0-9] \|^final\|^digest model' "$OUT/full.txt" > "$OUT/a"
grep '^step \|^final\|^digest model' "$OUT/resumed.txt" > "$OUT/b"
cmp -s "$OUT/a" "$OUT/b" || { diff "$OUT/a" "$OUT/b" | head; fail "the resumed job differs from the uninterrupted one"; }
echo "check-mpi: rank 1 killed at step 25, resumed from step 20: bit-identical losses and model"
