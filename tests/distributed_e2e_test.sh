#!/bin/bash
# Data-parallel training, loopback only: torchrun's environment launch (WORLD_SIZE, RANK,
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
     grep -q "^error: rank 0: .*failed: a peer process died or did not answer within --dist_timeout=10 s.*last good checkpoint: .*iter_[0-9]*.pth" "$W.log"; then
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
