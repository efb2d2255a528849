#!/bin/sh
# make bench BENCH=inbatch: the fused in-batch softmax (forward + backward) against PyTorch's
# dense in-batch step, for b in {1024, 4096, 16384}, m in {0, 4096}, dim in {64, 128}, at 1 and
# 2 threads, each case in a fresh process (peak RSS per case); then b = 65,536, dim = 128 for
# memory. GFLOP/s count 6 b (b+m) dim (the dense algorithm's three products; our recomputed
# logits are not counted); % of peak uses the fp32 FMA peak measured here for that thread count
# (by wall time, and by the threads' CPU time: %cpu); the memory bandwidth is measured too.
# Then MovieLens-100K known-positive masking (the real positives, read at run time from
# ../shared/data/ml-100k or $ML100K) against the unmasked call and torch's dense step with its
# mask built on the fly; then negs_loss_inbatch_indexed against gather + negs_loss_inbatch +
# scatter by hand (tables of 10^5 rows); then NEGS_PRECISION_BF16 against fp32 (cases named
# "...,bf16", b in INBATCH_BF16_SIZES, default "4096 16384"; m 0, and 4096 for b <= 4096;
# which bf16 kernel ran, the library's measured rates behind that choice, and the other path
# forced in the same process where the CPU has both; ratios by wall and by CPU time; % of the
# measured bf16 peak, vdpbf16ps where the CPU has it). INBATCH_PARTS picks the sections
# (default "ml indexed bf16 dense"); INBATCH_SIZES the dense table's b values (default
# "1024 4096 16384"), INBATCH_BIG=0 skips the b = 65,536 memory case.
# The dense table has a second peer, `openblas` (bench_inbatch_blas: the same loss and
# gradients computed densely in C with cblas_sgemm, logits materialised), run with OpenBLAS's
# autodetected core type and with every OPENBLAS_CORETYPE of INBATCH_CORETYPES that runs on
# this CPU (a candidate that crashes, e.g. with an illegal instruction, is left out; one that
# falls back to a core type already tried is not run twice); the fastest is the row's figure.
# Skipped with a message when the bench was built without OpenBLAS.
# Env: BENCH_BIN_DIR, PYTHON, BENCH_JSON (append JSON lines when set), ML100K, INBATCH_PARTS,
# INBATCH_CORETYPES (default "Haswell Zen SkylakeX Cooperlake Sandybridge Excavator"),
# INBATCH_BF16_SIZES.
set -e
here=$(cd "$(dirname "$0")" && pwd)
bin=${BENCH_BIN_DIR:-build/bench}/bench_inbatch
py=${PYTHON:-/usr/bin/python3}
json=${BENCH_JSON:-}
have_torch=0
"$py" -c "import torch" >/dev/null 2>&1 && have_torch=1
[ $have_torch = 1 ] && echo "torch peer: $(env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE "$py" \
    "$here/torch_info.py" 2>/dev/null || echo "build info not available")"

parts=${INBATCH_PARTS:-ml indexed bf16 dense}
ml100k=${ML100K:-$here/../../../shared/data/ml-100k/ml-100k.inter}

case " $parts " in *" ml "*)
    echo "MovieLens-100K masking: b real interactions, dim 64, m 0, T 0.05, logq = log item share;"
    echo "masked = item ids + user ids with every user's known positives (the whole file);"
    echo "overhead = masked / unmasked - 1 (goal <= 15%) in wall time and in process CPU time"
    echo "(cpu: all threads, best of the same calls); ratio = torch masked / ours masked (wall)"
    printf '%-32s %7s %10s %10s %10s %9s %9s %10s %7s\n' case masked% unmasked_s hits_s \
           masked_s overhead cpu_over torch_s ratio
    for b in 1024 4096; do
        case $b in 1024) reps=20 ;; *) reps=5 ;; esac
        for t in 1 2; do
            name="ml100k,b=$b,dim=64,threads=$t"
            set -- $("$bin" ml $b 64 $t $reps "$ml100k")
            un=$1 hi=$2 ma=$3 pct=$4 cun=$5 cma=$6
            over=$(awk "BEGIN{printf \"%.1f%%\", 100*($ma/$un-1)}")
            cover=$(awk "BEGIN{printf \"%.1f%%\", 100*($cma/$cun-1)}")
            if [ $have_torch = 1 ]; then
                pt=$(env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE OPENBLAS_NUM_THREADS=$t \
                     OMP_NUM_THREADS=$t "$py" "$here/inbatch_peer.py" ml $b 64 $t $reps "$ml100k")
                ratio=$(awk "BEGIN{printf \"%.2f\", $pt/$ma}")
            else
                pt=null ratio=null
            fi
            printf '%-32s %7s %10s %10s %10s %9s %9s %10s %7s\n' "$name" $pct $un $hi $ma $over \
                   $cover $pt $ratio
            if [ -n "$json" ]; then
                printf '{"bench":"inbatch","case":"%s","ours":%s,"peer":"torch","peer_value":%s,"unit":"s","ratio":%s,"ours_unmasked":%s,"ours_hits_only":%s,"masked_pct":%s,"ours_cpu_unmasked":%s,"ours_cpu_masked":%s,"note":"known-positive masking"}\n' \
                    "$name" $ma $pt $ratio $un $hi $pct $cun $cma >>"$json"
            fi
        done
    done
    echo
;; esac

case " $parts " in *" indexed "*)
    echo "Indexed: 10^5-row user and item tables, random indices, T 0.05, logq, masks by index;"
    echo "by_hand = gather rows + negs_loss_inbatch + scatter-add du, dv; ratio = by_hand / indexed"
    printf '%-40s %10s %10s %7s\n' case by_hand_s indexed_s ratio
    for b in 1024 4096; do
        case $b in 1024) reps=20 ;; *) reps=5 ;; esac
        for m in 0 4096; do
            for cos in 0 1; do
                for t in 1 2; do
                    name="indexed,b=$b,m=$m,dim=64,cosine=$cos,threads=$t"
                    set -- $("$bin" indexed $b $m 64 $t $reps $cos)
                    ratio=$(awk "BEGIN{printf \"%.2f\", $1/$2}")
                    printf '%-40s %10s %10s %7s\n' "$name" $1 $2 $ratio
                    if [ -n "$json" ]; then
                        printf '{"bench":"inbatch","case":"%s","ours":%s,"peer":"gather+call+scatter","peer_value":%s,"unit":"s","ratio":%s}\n' \
                            "$name" $2 $1 $ratio >>"$json"
                    fi
                done
            done
        done
    done
    echo
;; esac

case " $parts " in *" bf16 "*)
    set -- $("$bin" peak 1); fp1=$2
    set -- $("$bin" peak 2); fp2=$2
    set -- $("$bin" peak16 1); bp1=$2
    set -- $("$bin" peak16 2); bp2=$2
    amx=${BENCH_BIN_DIR:-build/bench}/bench_amx_peak
    set -- $("$amx" 1); ap1=$2
    set -- $("$amx" 2); ap2=$2
    echo "bf16 (NEGS_PRECISION_BF16) against fp32 on the dense table's data, timed interleaved in"
    echo "one process (best of the same calls); kernel = the bf16 path that ran (avx512bf16:"
    echo "vdpbf16ps on bf16 pairs; portable: rows and G rounded, the fp32 kernels); ratio = fp32"
    echo "time / bf16 time by wall, ratio_cpu by process CPU time (what other tenants of a loaded"
    echo "machine change least); GF/cpu = 6 b (b+m) dim / bf16 CPU time (all threads: a rate per"
    echo "core); %pk16 = that over the 1-thread peak of the unit the bf16 path ran on (vdpbf16ps;"
    echo "the FMA peak for the portable path) by CPU time, %pk32 the fp32"
    echo "call's rate per core over the 1-thread fp32 FMA peak; r_max = the CPU-time ratio bf16 would"
    echo "reach at 100% of its peak: (bf16 peak / fp32 peak) / (fp32 %pk32), since ratio_cpu ="
    echo "(bf16 peak / fp32 peak) x %pk16 / %pk32 (the same flops on both); pk16_2.5x = the %pk16"
    echo "a CPU-time ratio of 2.5 would take (over 100: out of reach on this CPU);"
    echo "*_rel = bf16's difference from fp32 (loss relative, gradients max |g' - g| / max |g|);"
    echo "other / o_r_cpu = the bf16 path the library did not choose, forced (NEGS_FORCE_BF16) on a"
    echo "third handle timed in the same loop, and fp32 CPU time / its CPU time ('-': no other path)"
    echo "measured peaks by CPU time, GFLOP/s: fp32 FMA $fp1 (1 thread), $fp2 (2); bf16 vdpbf16ps" \
         "$bp1 (1), $bp2 (2) (0: no AVX512-BF16)"
    echo "peak ratio bf16 / fp32 (1 thread, CPU time): $(awk "BEGIN{printf \"%.2f\", ($fp1>0?$bp1/$fp1:0)}")"
    echo "AMX tiles (tdpbf16ps, no library kernel yet: what one could run on): $ap1 GFLOP/s (1" \
         "thread), $ap2 (2) by CPU time (0: no AMX-BF16 or no tile permission from the OS);" \
         "$(awk "BEGIN{printf \"%.2f\", ($fp1>0?$ap1/$fp1:0)}")x the 1-thread FMA peak"
    set -- $("$bin" rates)
    echo "the library's choice (its own timed loops, once per process; native from 1.25x): FMA" \
         "$1 GFLOP/s, vdpbf16ps $2 ($(awk "BEGIN{printf \"%.2f\", ($1>0?$2/$1:0)}")x): $3"
    printf '%-36s %-10s %9s %9s %6s %6s %8s %6s %6s %6s %9s %9s %8s %8s %-10s %7s\n' case kernel \
           fp32_s bf16_s ratio r_cpu GF/cpu %pk16 %pk32 r_max pk16_2.5x loss_rel du_rel dv_rel \
           other o_r_cpu
    for b in ${INBATCH_BF16_SIZES:-4096 16384}; do
        case $b in 1024) reps=20 ;; 4096) reps=5 ;; *) reps=1 ;; esac
        ms="0 4096"
        [ "$b" -gt 4096 ] && ms=0
        for m in $ms; do
            for dim in 64 128; do
                for t in 1 2; do
                    name="b=$b,m=$m,dim=$dim,threads=$t,bf16"
                    line=$("$bin" case $b $m $dim $t $reps bf16)
                    set -- $line
                    case $7 in 1) kern=avx512bf16 ;; *) kern=portable ;; esac
                    case ${10} in 1) okern=avx512bf16 ;; 0) okern=portable ;; *) okern=- ;; esac
                    orc=$(awk "BEGIN{if (${12} > 0) printf \"%.2f\", $8/${12}; else print \"-\"}")
                    set -- $(echo "$line" | cut -d' ' -f1-9) # the other path's, read above
                    fpk=$fp1 bpk=$bp1
                    [ "$kern" = portable ] && bpk=$fp1 # its products run on the FMA units
                    set -- "$@" $(awk "BEGIN{f=6*$b*($b+$m)*$dim/1e9;
                        printf \"%.2f %.2f %.1f %.0f %.0f %.2f %.0f\", $1/$2, $8/$9, f/$9,
                        ($bpk>0 ? 100*f/$9/$bpk : 0), 100*f/$8/$fpk, $bpk*$8/f,
                        ($bpk>0 ? 250*f/($bpk*$8) : 0)}")
                    printf '%-36s %-10s %9s %9s %6s %6s %8s %6s %6s %6s %9s %9s %8s %8s %-10s %7s\n' \
                           "$name" $kern $1 $2 ${10} ${11} ${12} ${13} ${14} ${15} ${16} $4 $5 $6 \
                           $okern $orc
                    if [ -n "$json" ]; then
                        printf '{"bench":"inbatch","case":"%s","ours":%s,"peer":"fp32","peer_value":%s,"unit":"s","ratio":%s,"ratio_vs_fp32":%s,"ratio_vs_fp32_cpu":%s,"bf16_kernel":"%s","ours_gflops_cpu":%s,"bf16_pct_of_bf16_peak":%s,"fp32_pct_of_fma_peak":%s,"ratio_cpu_at_bf16_peak":%s,"bf16_pct_peak_for_2_5x":%s,"loss_rel_diff":%s,"du_rel_diff":%s,"dv_rel_diff":%s,"other_bf16_kernel":"%s","other_ratio_vs_fp32_cpu":"%s"}\n' \
                            "$name" $2 $1 ${10} ${10} ${11} $kern ${12} ${13} ${14} ${15} ${16} \
                            $4 $5 $6 $okern $orc >>"$json"
                    fi
                done
            done
        done
    done
    echo
;; esac

case " $parts " in *" dense "*) ;; *) exit 0 ;; esac
set -- $("$bin" peak 1); peak1=$1 peakc1=$2
set -- $("$bin" peak 2); peak2=$1 peakc2=$2
set -- $("$bin" bw 1); bw1=$1
set -- $("$bin" bw 2); bw2=$1
echo "fp32 FMA peak measured: 1 thread $peak1 GFLOP/s, 2 threads $peak2 GFLOP/s by wall time;" \
     "$peakc1 and $peakc2 by the threads' own CPU time (independent chains of 512-bit FMAs, or" \
     "256-bit ones without AVX-512)"
echo "memory read bandwidth measured: 1 thread $bw1 GB/s, 2 threads $bw2 GB/s"
echo "load (uptime): $(uptime | sed 's/.*load average/load average/')"
echo "%peak = ours_GF / the wall peak; %cpu = ours' flops per CPU second (all threads; idle"
echo "pool threads sleep after a short spin) / the CPU-time peak per thread: the kernel's efficiency"

# The OpenBLAS core types that run here: "auto" (OPENBLAS_CORETYPE unset) first, then each
# candidate that completes a small case and reports a core type not seen yet.
blas=${BENCH_BIN_DIR:-build/bench}/bench_inbatch_blas
ct_env() { if [ $1 = auto ]; then echo "-u OPENBLAS_CORETYPE"; else echo "OPENBLAS_CORETYPE=$1"; fi; }
cores="" seen=""
if [ -x "$blas" ] && "$blas" corename >/dev/null 2>&1; then
    for ct in auto ${INBATCH_CORETYPES:-Haswell Zen SkylakeX Cooperlake Sandybridge Excavator}; do
        got=$({ env $(ct_env $ct) OPENBLAS_NUM_THREADS=1 "$blas" case 64 0 16 1 0; } 2>/dev/null |
              awk '{print $5}') || got=""
        if [ -z "$got" ]; then echo "OPENBLAS_CORETYPE=$ct: does not run on this CPU, left out"; continue; fi
        case " $seen " in *" $got "*)
            echo "OPENBLAS_CORETYPE=$ct: runs as $got, already tried"; continue ;; esac
        seen="$seen $got"
        cores="$cores $ct"
        echo "OpenBLAS core type $ct: runs as $got"
    done
else
    echo "openblas peer skipped: bench_inbatch_blas was built without OpenBLAS (libopenblas-dev)"
fi
echo "columns: torch = PyTorch's dense step; blas = the dense cblas_sgemm step (best core type:"
echo "core; auto_s = OpenBLAS's autodetected one); *_x = peer time / ours; rel = the blas"
echo "peer's max relative difference from ours in (loss, du, dv)"
printf '%-32s %9s %9s %6s %9s %6s %9s %-11s %7s %7s %7s %6s %5s %7s %8s %8s %s\n' case \
       ours_s torch_s torch_x blas_s blas_x auto_s core ours_GF torch_GF blas_GF %peak %cpu \
       ours_MiB torch_MiB blas_MiB rel

emit() { # case ours_s peer_s ratio ours_gf peer_gf pct ours_mib peer_mib peak note pct_cpu
    if [ -n "$json" ]; then
        printf '{"bench":"inbatch","case":"%s","ours":%s,"peer":"torch","peer_value":%s,"unit":"s","ratio":%s,"ours_gflops":%s,"peer_gflops":%s,"pct_of_peak":%s,"ours_peak_rss_mib":%s,"peer_peak_rss_mib":%s,"peak_gflops":%s,"note":"%s","pct_of_cpu_peak":%s}\n' \
            "$1" "$2" "$3" "$4" "$5" "$6" "$7" "$8" "$9" "${10}" "${11}" "${12}" >>"$json"
    fi
}

# One peer run per core type (best of REPS); sets bt bgf brss bcore brel (the fastest) and at
# (the autodetected one's time). Args: B M DIM THREADS REPS.
run_blas() {
    bt=null bgf=null brss=null bcore=- brel=- at=null
    for ct in $cores; do
        line=$(env $(ct_env $ct) OPENBLAS_NUM_THREADS=$4 "$blas" case $1 $2 $3 $4 $5) || continue
        set -- $1 $2 $3 $4 $5 $line
        [ $ct = auto ] && at=$6
        if [ "$bt" = null ] || awk "BEGIN{exit !($6 < $bt)}"; then
            bt=$6 bgf=$7 brss=$8 bcore=${10} brel="${11},${12},${13}"
            [ $ct = auto ] && bcore="${10}(auto)"
        fi
        set -- $1 $2 $3 $4 $5
    done
}

emit_blas() { # case ours_s ours_gf pct ours_mib peak
    if [ -n "$json" ] && [ "$bt" != null ]; then
        ratio=$(awk "BEGIN{printf \"%.2f\", $bt/$2}")
        printf '{"bench":"inbatch","case":"%s","ours":%s,"peer":"openblas","peer_value":%s,"unit":"s","ratio":%s,"ours_gflops":%s,"peer_gflops":%s,"pct_of_peak":%s,"ours_peak_rss_mib":%s,"peer_peak_rss_mib":%s,"peak_gflops":%s,"coretype":"%s","peer_autodetected_s":%s,"rel_loss_du_dv":"%s","note":"dense cblas_sgemm step, fastest OPENBLAS_CORETYPE"}\n' \
            "$1" "$2" $bt $ratio "$3" $bgf "$4" "$5" $brss "$6" "$bcore" $at "$brel" >>"$json"
    fi
}

for b in ${INBATCH_SIZES:-1024 4096 16384}; do
    # best of 20 (b = 1024) or 5 (b = 4096) calls after a warm-up, both sides: a 2-thread call
    # at b = 1024 takes 3 ms and a best of 5 was still noisy. b = 16384: one timed call after a
    # warm-up for ours, the single first step for torch (about 10 s each), to keep the whole
    # run near 9 minutes
    case $b in 1024) reps=20 preps=20 ;; 4096) reps=5 preps=5 ;; *) reps=1 preps=0 ;; esac
    for m in 0 4096; do
        for dim in 64 128; do
            for t in 1 2; do
                name="b=$b,m=$m,dim=$dim,threads=$t"
                set -- $("$bin" case $b $m $dim $t $reps)
                ot=$1 ogf=$2 orss=$3 ocpu=$5
                if [ $t = 1 ]; then pk=$peak1 pkc=$peakc1; else pk=$peak2 pkc=$peakc2; fi
                pct=$(awk "BEGIN{if ($pk > 0) printf \"%.1f\", 100*$ogf/$pk; else print \"null\"}")
                pcpu=$(awk "BEGIN{if ($pkc > 0) printf \"%.1f\", 100*$ogf*$ot*$t/($ocpu*$pkc); else print \"null\"}")
                if [ $have_torch = 1 ]; then
                    set -- $(env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE OPENBLAS_NUM_THREADS=$t \
                             OMP_NUM_THREADS=$t "$py" "$here/inbatch_peer.py" $b $m $dim $t $preps)
                    pt=$1 pgf=$2 prss=$3
                    ratio=$(awk "BEGIN{printf \"%.2f\", $pt/$ot}")
                else
                    pt=null pgf=null prss=null ratio=null
                fi
                run_blas $b $m $dim $t $reps
                bratio=$(awk "BEGIN{if (\"$bt\" == \"null\") print \"null\"; else printf \"%.2f\", $bt/$ot}")
                printf '%-32s %9s %9s %6s %9s %6s %9s %-11s %7s %7s %7s %6s %5s %7s %8s %8s %s\n' \
                       "$name" $ot $pt $ratio $bt $bratio $at $bcore $ogf $pgf $bgf $pct $pcpu \
                       $orss $prss $brss $brel
                emit "$name" $ot $pt $ratio $ogf $pgf $pct $orss $prss $pk "" $pcpu
                emit_blas "$name" $ot $ogf $pct $orss $pk
            done
        done
    done
done

[ "${INBATCH_BIG:-1}" = 0 ] && exit 0
# Memory at b = 65,536: one call (no warm-up), 2 threads. The dense logits alone would be
# 65536^2 x 4 B = 16 GiB, and torch keeps several such matrices for the backward pass.
name="b=65536,m=0,dim=128,threads=2"
set -- $("$bin" case 65536 0 128 2 0)
ot=$1 ogf=$2 orss=$3 ocpu=$5
pct=$(awk "BEGIN{if ($peak2 > 0) printf \"%.1f\", 100*$ogf/$peak2; else print \"null\"}")
pcpu=$(awk "BEGIN{if ($peakc2 > 0) printf \"%.1f\", 100*$ogf*$ot*2/($ocpu*$peakc2); else print \"null\"}")
printf '%-32s %9s %9s %6s %9s %6s %9s %-11s %7s %7s %7s %6s %5s %7s %8s %8s %s\n' "$name" $ot \
       "(not run)" - "(not run)" - - - $ogf - - $pct $pcpu $orss - - -
echo "b=65536 peak RSS: $orss MiB (goal < 1024 MiB; dense logits alone would need 16 GiB: neither peer is run)"
emit "$name" $ot null null $ogf null $pct $orss null $peak2 \
     "torch not run: the dense b x b logits alone need 16 GiB, the step several times that" $pcpu
