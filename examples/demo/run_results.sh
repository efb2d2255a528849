#!/bin/sh
# The runs behind docs/results.md: every strategy on MovieLens-100K and Amazon Video, seeds 1-3,
# then the tables (stdout) and the plots (docs/img/results-*.svg).
# Usage, from the repository root: sh examples/demo/run_results.sh   (DATA=dir, default ../shared/data)
set -e
DATA=${DATA:-../shared/data}
OUT=build/results
BIN=build/examples/demo_trainer
mkdir -p $OUT docs/img
make -s $BIN
for seed in 1 2 3; do
    $BIN --json --seed $seed --data $DATA/ml-100k/ml-100k.inter > $OUT/ml-100k-$seed.jsonl
    # RecBole's own BPR settings (lr 1e-3, no L2), for the comparison with its published figures
    $BIN --json --seed $seed --data $DATA/ml-100k/ml-100k.inter --strategies uniform \
        --lr 1e-3 --l2 0 > $OUT/ml-100k-recbole-$seed.jsonl
    # 31k users: validation (early stopping only) on 5000 of them, test on all
    $BIN --json --seed $seed --data $DATA/amazon-video-sasrec/Video.txt --valid-users 5000 \
        --patience 5 > $OUT/video-$seed.jsonl
done
python3 examples/demo/results.py docs/img/results $OUT/ml-100k-[0-9].jsonl $OUT/video-[0-9].jsonl
python3 examples/demo/results.py - $OUT/ml-100k-recbole-[0-9].jsonl
