#!/bin/sh
# The runs behind docs/results.md: every strategy on MovieLens-100K and Amazon Video, seeds 1-3,
# then the tables (stdout) and the plots (docs/img/results-*.svg).
# Usage, from the repository root: sh examples/demo/run_results.sh [ml|video|tables]...
# (default: all three; DATA=dir, default ../shared/data). Raw JSON lines go to build/results/.
set -e
DATA=${DATA:-../shared/data}
OUT=build/results
BIN=build/examples/demo_trainer
mkdir -p $OUT docs/img
make -s $BIN
for part in ${*:-ml video tables}; do
    case $part in
    ml) for seed in 1 2 3; do
            $BIN --json --seed $seed --data $DATA/ml-100k/ml-100k.inter > $OUT/ml-100k-$seed.jsonl
            # RecBole's own BPR settings (lr 1e-3, no L2), to compare with its published figures
            $BIN --json --seed $seed --data $DATA/ml-100k/ml-100k.inter --strategies uniform \
                --lr 1e-3 --l2 0 > $OUT/ml-100k-recbole-$seed.jsonl
        done ;;
    # 31k users and 24k items: validation (early stopping only) on 3000 users, the test on all;
    # at most 15 epochs, patience 3, to keep the CPU time of the study small
    video) for seed in 1 2 3; do
            $BIN --json --seed $seed --data $DATA/amazon-video-sasrec/Video.txt \
                --valid-users 3000 --epochs 15 --patience 3 > $OUT/video-$seed.jsonl
        done ;;
    tables)
        python3 examples/demo/results.py docs/img/results $OUT/ml-100k-[0-9].jsonl \
            $OUT/video-[0-9].jsonl
        python3 examples/demo/results.py - $OUT/ml-100k-recbole-[0-9].jsonl ;;
    *) echo "run_results.sh: unknown part '$part' (ml, video, tables)" >&2; exit 2 ;;
    esac
done
