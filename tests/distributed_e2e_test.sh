#!/bin/bash
# Data-parallel training, loopback only: N ranks equal one big batch; torchrun's environment launch (WORLD_SIZE, RANK,
# MASTER_ADDR, MASTER_PORT set by hand for two processes) and tools/dist_train.sh equal
# --nproc=2 bit for bit; a rank killed with kill -9, or stopped (hung), ends every other rank
# non-zero within --dist_timeout with one line naming the failure and the last good checkpoint,
# the launcher names the rank that failed first, and no process is left behind.
set -u
source "${TEST_SRCDIR}/${TEST_WORKSPACE}/tests/lib.sh" dist
TRAIN="$ROOT/tools/ann_train"
toy_data "$T/raw" "$T/data" 128x64 8,2,1 4
ARGS=(--config=configs/toy.flags --data_root="$T/data" --crop_size=64x64 --img_scale=128x64
      --batch_size=1 --max_iters=4 --checkpoint_interval=2 --log_interval=1 --threads=1
      --workers=1 --seed=6)
same() { $PY tests/python/torch_compare.py "$1" "$2" --optimizer >/dev/null; }

"$TRAIN" "${ARGS[@]}" --work_dir="$T/n" --nproc=2 >"$T/n.log" 2>&1 ||
  { cat "$T/n.log"; fail "--nproc=2"; }
port=$((20000 + RANDOM % 20000))
for r in 0 1; do
  WORLD_SIZE=2 RANK=$r MASTER_ADDR=127.0.0.1 MASTER_PORT=$port \
    "$TRAIN" "${ARGS[@]}" --work_dir="$T/e" >"$T/e$r.log" 2>&1 &
done
wait
same "$T/n/iter_4.pth" "$T/e/iter_4.pth" &&
  ok "WORLD_SIZE/RANK/MASTER_ADDR/MASTER_PORT launch equals --nproc=2 (bit-identical)" ||
  { fail "environment launch"; cat "$T/e0.log" "$T/e1.log"; }
ANN_TRAIN="$TRAIN" tools/dist_train.sh configs/toy.flags 2 "${ARGS[@]:1}" --work_dir="$T/s" \
  >"$T/s.log" 2>&1 && same "$T/n/iter_4.pth" "$T/s/iter_4.pth" &&
  ok "tools/dist_train.sh CONFIG 2 equals --nproc=2" || { fail "dist_train.sh"; cat "$T/s.log"; }

# One big batch: N ranks of batch 1 train like 1 process of batch N (SyncBatchNorm, the global
# batch's data, augmentation and dropout masks), 3 iterations of the toy config. In float64
# (--train_precision=fp64) the difference is rounding (about 1e-14); without --sync_bn it is
# not. The float32 differences are printed for the record (rounding, amplified over 3 steps).
EQ=(--config=configs/toy.flags --data_root="$T/data" --crop_size=64x64 --img_scale=128x64
    --max_iters=3 --checkpoint_interval=3 --log_interval=1 --workers=1 --seed=6 --threads=1)
diff_of() { $PY tests/python/torch_compare.py "$1" "$2" --optimizer --atol "$3"; }
for n in 2 3; do
  "$TRAIN" "${EQ[@]}" --train_precision=fp64 --batch_size=$n --work_dir="$T/big$n" >/dev/null 2>&1
  "$TRAIN" "${EQ[@]}" --train_precision=fp64 --batch_size=1 --nproc=$n --work_dir="$T/split$n" \
    >"$T/split$n.log" 2>&1
  out=$(diff_of "$T/big$n/iter_3.pth" "$T/split$n/iter_3.pth" 1e-9) &&
    ok "$n ranks x batch 1 = 1 process x batch $n (fp64, SyncBN): $out" ||
    { fail "$n ranks x batch 1 vs batch $n: $out"; tail -3 "$T/split$n.log"; }
done
"$TRAIN" "${EQ[@]}" --train_precision=fp64 --batch_size=1 --nproc=2 --sync_bn=false \
  --work_dir="$T/nosync" >/dev/null 2>&1
out=$(diff_of "$T/big2/iter_3.pth" "$T/nosync/iter_3.pth" 1e-3)
[ $? -eq 1 ] && ok "without --sync_bn the ranks do not equal the big batch: $out" ||
  fail "--sync_bn=false: $out"
"$TRAIN" "${EQ[@]}" --batch_size=2 --work_dir="$T/f32big" >/dev/null 2>&1
"$TRAIN" "${EQ[@]}" --batch_size=1 --nproc=2 --work_dir="$T/f32split" >/dev/null 2>&1
"$TRAIN" "${EQ[@]}" --batch_size=1 --nproc=2 --sync_bn=false --work_dir="$T/f32nosync" \
  >/dev/null 2>&1
for run in f32split f32nosync; do  # weights and running statistics, fp32
  echo "info: $run vs f32big: $($PY tests/python/torch_compare.py "$T/f32big/iter_3.pth" \
    "$T/$run/iter_3.pth" --atol 1)"
done

# Faults. A long run; once iter_2.pth is saved, one rank is killed (or stopped).
fault() {  # fault NAME SIGNAL FIRST: FIRST, the rank the launcher must name as failing first
  local W="$T/$1"
  mkdir -p "$W"
  local start=$SECONDS
  "$TRAIN" "${ARGS[@]}" --work_dir="$W" --nproc=2 --max_iters=100000 --dist_timeout=10 \
    >"$W.log" 2>&1 &
  local launcher=$!
  for _ in $(seq 1 600); do
    [ -e "$W/iter_2.pth" ] && break
    sleep 0.1
  done
  local victim
  victim=$(pgrep -f -- "--work_dir=$W .*--rank=1" | head -1)
  kill "-$2" "$victim"
  wait $launcher
  local rc=$? took=$((SECONDS - start))
  local left
  left=$(pgrep -f -- "--work_dir=$W " | wc -l)
  if [ $rc -ne 0 ] && [ "$left" -eq 0 ] && [ $took -lt 60 ] &&
     grep -q "rank $3 (pid [0-9]*) failed first" "$W.log" &&
     grep -q "^error: rank 0 (127.0.0.1): .*failed: rank 1 (127.0.0.1) died, was cut off or did not answer within --dist_timeout=10 s.*last good checkpoint: .*iter_[0-9]*.pth" "$W.log"; then
    ok "$1: every rank ended (exit $rc, ${took} s), rank $3 named, last checkpoint named, none left"
  else
    fail "$1 (exit $rc, ${took} s, $left left)"; grep -v '^train ' "$W.log" | tail -8
    pkill -9 -f -- "--work_dir=$W " 2>/dev/null
  fi
}
# Killed: the launcher names rank 1. Hung (stopped): rank 0 times out first and is named; the
# launcher then ends the stopped rank.
fault killed KILL 1
fault hung STOP 0
finish
