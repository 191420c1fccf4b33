#!/bin/bash
# kill -9 at random moments of a training run (a checkpoint is written every iteration, so many
# kills land inside a checkpoint write), each time followed by --resume, until the run finishes:
# the final weights and momentum are bit-identical to an uninterrupted run, and no temporary
# file is left in the work dir. Each kill waits for the run to get 1-3 checkpoints further and
# then a random part of an iteration, so kills land whatever the machine's load (the first one
# anywhere in start-up). The draws come from a seed printed in the log (KILL_SEED=N reproduces
# a run).
set -u
source "${TEST_SRCDIR}/${TEST_WORKSPACE}/tests/lib.sh" kill
TRAIN="$ROOT/tools/ann_train"
ITERS=16  # the run's length, a checkpoint each iteration
KILLS=5   # kills before the run may finish

toy_data "$T/raw" "$T/data" 128x64 8,2,1 3
ARGS=(--config=configs/toy.flags --data_root="$T/data" --crop_size=64x64 --img_scale=128x64
      --batch_size=2 --max_iters=$ITERS --checkpoint_interval=1 --log_interval=1 --threads=2
      --workers=2 --seed=9)

start=$(date +%s%N)
"$TRAIN" "${ARGS[@]}" --work_dir="$T/ref" >"$T/ref.log" 2>&1 || { cat "$T/ref.log"; exit 1; }
run_s=$(awk -v a="$start" -v b="$(date +%s%N)" 'BEGIN { printf "%.2f", (b - a) / 1e9 }')
echo "uninterrupted run: ${run_s} s"

seed=${KILL_SEED:-$(( $(date +%s%N) / 1000 % 100000 ))}
echo "kill seed: $seed"
RANDOM=$seed
# An iteration as the uninterrupted run took it, at most 1 s (should the load drop, a longer
# wait could let the run finish before the kill).
iter_s=$(awk -v t="$run_s" -v n=$ITERS 'BEGIN { i = t / n; printf "%.3f", i < 1 ? i : 1 }')
# The newest complete checkpoint's iteration (0 before the first).
newest() {
  ls "$T/k" 2>/dev/null | sed -n 's/^iter_\([0-9]*\)\.pth$/\1/p' | sort -n | tail -1 |
    grep . || echo 0
}
kills=0
in_write=0
finished=0
for attempt in $(seq 1 8); do
  resume=()
  [ "$(newest)" -gt 0 ] && resume=(--resume)
  "$TRAIN" "${ARGS[@]}" --work_dir="$T/k" "${resume[@]}" >>"$T/k.log" 2>&1 &
  pid=$!
  if [ "$attempt" -le $KILLS ]; then
    if [ "$attempt" -eq 1 ]; then
      delay=$(awk -v r=$RANDOM 'BEGIN { printf "%.2f", 0.2 + r * 1.0 / 32767 }')
    else
      # 1-3 more checkpoints, then part of an iteration; at most ITERS - 3 before the last kill,
      # one fewer for each kill still to come.
      target=$(($(newest) + 1 + RANDOM % 3))
      cap=$((ITERS - 3 - KILLS + attempt))
      [ $target -gt $cap ] && target=$cap
      waited=0
      while [ "$(newest)" -lt "$target" ] && kill -0 "$pid" 2>/dev/null && [ $waited -lt 6000 ]; do
        sleep 0.05
        waited=$((waited + 1))
      done
      delay=$(awk -v r=$RANDOM -v t="$iter_s" 'BEGIN { printf "%.2f", r * t / 32767 }')
    fi
    sleep "$delay"
    if kill -9 "$pid" 2>/dev/null; then
      wait "$pid" 2>/dev/null
      kills=$((kills + 1))
      # A temporary checkpoint left by this kill: it landed inside a checkpoint write.
      tmp=$(find "$T/k" -name "*.tmp$pid*" 2>/dev/null | wc -l)
      [ "$tmp" -gt 0 ] && in_write=$((in_write + 1))
      echo "attempt $attempt: killed ${delay} s after $([ "$attempt" -eq 1 ] && echo start ||
        echo "iter_$target"); newest: iter_$(newest); its temporaries: $tmp"
      continue
    fi
  fi
  wait "$pid" && { finished=1; echo "attempt $attempt: finished"; break; }
  echo "attempt $attempt: exit $?"; tail -3 "$T/k.log"
done

[ $finished -eq 1 ] && ok "finished after $kills kill -9 ($in_write inside a checkpoint write)" ||
  fail "never finished"
[ $kills -eq $KILLS ] || fail "only $kills of $KILLS kills landed"
$PY tests/python/torch_compare.py "$T/ref/iter_$ITERS.pth" "$T/k/iter_$ITERS.pth" --optimizer &&
  ok "killed $kills times and resumed: bit-identical weights and momentum" ||
  fail "killed and resumed run differs"
left=$(find "$T/k" -name '*.tmp*' | wc -l)
[ "$left" -eq 0 ] && ok "no temporary file left" || { fail "$left temporary files left"; find "$T/k" -name '*.tmp*'; }
[ "$(readlink "$T/k/latest.pth")" = "iter_$ITERS.pth" ] && ok "latest.pth -> iter_$ITERS.pth" || fail "latest.pth"
finish
