#!/bin/bash
# kill -9 at random moments of a training run (a checkpoint is written every iteration, so many
# kills land inside a checkpoint write), each time followed by --resume, until the run finishes:
# the final weights and momentum are bit-identical to an uninterrupted run, and no temporary
# file is left in the work dir. The delays are drawn from a seed printed in the log
# (KILL_SEED=N reproduces a run).
set -u
source "${TEST_SRCDIR}/${TEST_WORKSPACE}/tests/lib.sh" kill
TRAIN="$ROOT/tools/ann_train"

toy_data "$T/raw" "$T/data" 128x64 8,2,1 3
ARGS=(--config=configs/toy.flags --data_root="$T/data" --crop_size=64x64 --img_scale=128x64
      --batch_size=2 --max_iters=16 --checkpoint_interval=1 --log_interval=1 --threads=2
      --workers=2 --seed=9)

start=$(date +%s%N)
"$TRAIN" "${ARGS[@]}" --work_dir="$T/ref" >"$T/ref.log" 2>&1 || { cat "$T/ref.log"; exit 1; }
run_s=$(awk -v a="$start" -v b="$(date +%s%N)" 'BEGIN { printf "%.2f", (b - a) / 1e9 }')
echo "uninterrupted run: ${run_s} s"

seed=${KILL_SEED:-$(( $(date +%s) % 100000 ))}
echo "kill seed: $seed"
RANDOM=$seed
kills=0
in_write=0
finished=0
for attempt in $(seq 1 12); do
  resume=()
  ls "$T/k"/iter_*.pth >/dev/null 2>&1 && resume=(--resume)
  "$TRAIN" "${ARGS[@]}" --work_dir="$T/k" "${resume[@]}" >>"$T/k.log" 2>&1 &
  pid=$!
  if [ "$attempt" -le 10 ]; then
    # Anywhere from start-up to half a whole run.
    delay=$(awk -v r=$RANDOM -v t="$run_s" 'BEGIN { printf "%.2f", 0.2 + r * t / 2 / 32767 }')
    sleep "$delay"
    if kill -9 "$pid" 2>/dev/null; then
      wait "$pid" 2>/dev/null
      kills=$((kills + 1))
      # A temporary checkpoint left by this kill: it landed inside a checkpoint write.
      tmp=$(find "$T/k" -name "*.tmp$pid*" 2>/dev/null | wc -l)
      [ "$tmp" -gt 0 ] && in_write=$((in_write + 1))
      echo "attempt $attempt: killed after ${delay} s; newest: $(ls "$T/k" 2>/dev/null | grep -o '^iter_[0-9]*' | sort -t_ -k2 -n | tail -1); its temporaries: $tmp"
      continue
    fi
  fi
  wait "$pid" && { finished=1; echo "attempt $attempt: finished"; break; }
  echo "attempt $attempt: exit $?"; tail -3 "$T/k.log"
done

[ $finished -eq 1 ] && ok "finished after $kills kill -9 ($in_write inside a checkpoint write)" ||
  fail "never finished"
[ $kills -ge 3 ] || fail "only $kills kills landed"
$PY tests/python/torch_compare.py "$T/ref/iter_16.pth" "$T/k/iter_16.pth" --optimizer &&
  ok "killed $kills times and resumed: bit-identical weights and momentum" ||
  fail "killed and resumed run differs"
left=$(find "$T/k" -name '*.tmp*' | wc -l)
[ "$left" -eq 0 ] && ok "no temporary file left" || { fail "$left temporary files left"; find "$T/k" -name '*.tmp*'; }
[ "$(readlink "$T/k/latest.pth")" = iter_16.pth ] && ok "latest.pth -> iter_16.pth" || fail "latest.pth"
finish
