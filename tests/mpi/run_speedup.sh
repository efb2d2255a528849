#!/bin/sh
# make bench-mpi: wall time per training step of the MPI trainer at -np 1 and -np 2 on one
# machine, same global batch, and the speed-up. usage: run_speedup.sh build/examples/mpi/mpi_trainer
set -eu
BIN=$1
MPIRUN="mpirun --oversubscribe --bind-to none"
if [ "$(id -u)" = 0 ]; then
    MPIRUN="$MPIRUN --allow-run-as-root"
    export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
fi
ARGS=${MPI_BENCH_ARGS:-"--batch 4096 --dim 64 --k 8 --m 256 --steps 40 --quiet"}
echo "mpi_trainer $ARGS"
printf '%-6s %12s %9s\n' ranks ms/step speed-up
base=
for np in 1 2; do
    ms=$($MPIRUN -np $np "$BIN" $ARGS | sed -n 's/.*ms_per_step \([0-9.]*\).*/\1/p')
    [ -n "$base" ] || base=$ms
    printf '%-6s %12s %9s\n' "$np" "$ms" "$(awk -v a="$base" -v b="$ms" 'BEGIN { printf "%.2f", a / b }')"
done
