#!/bin/sh
# The runs behind docs/results.md: every strategy on MovieLens-100K and Amazon Video, seeds 1-3,
# then the tables (stdout) and the plots (docs/img/results-*.svg).
# Usage, from the repository root: sh examples/demo/run_results.sh [ml|video|tables|k|ktable]...
# (default: ml video tables; DATA=dir, default ../shared/data; SEEDS, default 1 2 3, for ml).
# Raw JSON lines go to build/results/. k: the negative-ratio study (uniform + BPR and
# sampled-softmax at --k 1, 4, 16, 64 on MovieLens-100K, seeds $KSEEDS, default 1 2 3);
# ktable prints its table. bf16: the in-batch strategies with --precision fp32 and bf16,
# seeds 1-3, on MovieLens-100K; bf16table prints their table.
set -e
DATA=${DATA:-../shared/data}
OUT=build/results
BIN=build/examples/demo_trainer
mkdir -p $OUT docs/img
make -s $BIN
for part in ${*:-ml video tables}; do
    case $part in
    # ONLY=a,b: just those strategies, into ml-100k-SEED-a,b.jsonl (tables reads them too, so
    # remove a seed's full-run file before re-running its strategies in groups)
    ml) for seed in ${SEEDS:-1 2 3}; do
            if [ -n "$ONLY" ]; then
                $BIN --json --seed $seed --data $DATA/ml-100k/ml-100k.inter --strategies $ONLY \
                    > $OUT/ml-100k-$seed-$ONLY.jsonl
                continue
            fi
            $BIN --json --seed $seed --data $DATA/ml-100k/ml-100k.inter --strategies all > $OUT/ml-100k-$seed.jsonl
            # RecBole's own BPR settings (lr 1e-3, no L2), to compare with its published figures
            $BIN --json --seed $seed --data $DATA/ml-100k/ml-100k.inter --strategies uniform \
                --lr 1e-3 --l2 0 > $OUT/ml-100k-recbole-$seed.jsonl
        done ;;
    # 31k users and 24k items: validation (early stopping only) on 3000 users, the test on all;
    # at most 15 epochs, patience 3, to keep the CPU time of the study small
    video) for seed in 1 2 3; do
            $BIN --json --seed $seed --data $DATA/amazon-video-sasrec/Video.txt --strategies all \
                --valid-users 3000 --epochs 15 --patience 3 > $OUT/video-$seed.jsonl
        done ;;
    tables)
        ml=$(for f in $OUT/ml-100k-[0-9].jsonl $OUT/ml-100k-[0-9]-*.jsonl; do
            if [ -e "$f" ]; then echo "$f"; fi; done)
        python3 examples/demo/results.py docs/img/results $ml $OUT/video-[0-9].jsonl
        python3 examples/demo/results.py - $OUT/ml-100k-recbole-[0-9].jsonl ;;
    k) for k in 1 4 16 64; do
            for seed in ${KSEEDS:-1 2 3}; do
                $BIN --json --seed $seed --data $DATA/ml-100k/ml-100k.inter --k $k \
                    --strategies uniform,sampled-softmax > $OUT/ml-100k-k$k-$seed.jsonl
            done
        done ;;
    ktable) python3 examples/demo/results.py --by-k - $OUT/ml-100k-k*-[0-9].jsonl ;;
    # the in-batch strategies with the bf16 products against fp32 (one library thread)
    bf16) for seed in 1 2 3; do
            for p in fp32 bf16; do
                $BIN --json --threads 1 --seed $seed --data $DATA/ml-100k/ml-100k.inter \
                    --strategies inbatch,inbatch-logq,mixed,debiased --precision $p \
                    > $OUT/bf16demo-$seed-$p.jsonl
            done
        done ;;
    bf16table) python3 examples/demo/results.py --by-precision - $OUT/bf16demo-[0-9]-*.jsonl ;;
    *) echo "run_results.sh: unknown part '$part' (ml, video, tables, k, ktable, bf16," \
            "bf16table)" >&2; exit 2 ;;
    esac
done
