#!/bin/bash
# End to end training on a generated toy Cityscapes: the loss falls; exact resume (an
# uninterrupted run vs. one stopped by SIGTERM and resumed, and vs. resuming from the first
# run's middle checkpoint: bit-identical weights and momentum, checked with torch.load); a
# corrupt newest checkpoint is reported and the previous one used; a non-finite loss stops the
# run; bad flag values are refused before any work; checkpoints, json log and curves exist.
set -u
source "${TEST_SRCDIR}/${TEST_WORKSPACE}/tests/lib.sh" train
TRAIN="$ROOT/tools/ann_train"

toy_data "$T/raw" "$T/data" 128x64 12,4,1 1
# A small, fast recipe: 8 iterations of batch 2 on 64x64 crops, checkpoints every 4.
ARGS=(--config=configs/toy.flags --data_root="$T/data" --crop_size=64x64 --img_scale=128x64
      --batch_size=2 --max_iters=8 --checkpoint_interval=4 --log_interval=1 --threads=2
      --workers=2 --seed=5)

# Temporaries a killed run left behind (ours by their exact pattern) are removed; others stay.
mkdir -p "$T/a" && touch "$T/a/.iter_3.tmp999.pth" "$T/a/latest.pth.tmp999" "$T/a/notes.txt"
"$TRAIN" "${ARGS[@]}" --work_dir="$T/a" >"$T/a.log" 2>&1 || { cat "$T/a.log"; fail "run A"; }
[ ! -e "$T/a/.iter_3.tmp999.pth" ] && [ ! -e "$T/a/latest.pth.tmp999" ] && [ -e "$T/a/notes.txt" ] &&
  ok "stale temporaries of ours removed, other files kept" || fail "stale temporaries"
for f in iter_4.pth iter_8.pth latest.pth train.log.json loss.png lr.png; do
  [ -s "$T/a/$f" ] || fail "run A wrote $f"
done
[ "$(readlink "$T/a/latest.pth")" = iter_8.pth ] && ok "latest.pth -> iter_8.pth" ||
  fail "latest.pth link"
info=$($PY tests/python/torch_compare.py --inspect "$T/a/iter_8.pth")
case "$info" in "iter=8 keys="*" momentum="[1-9]*) ok "torch.load reads the checkpoint ($info)" ;;
  *) fail "checkpoint content: $info" ;; esac
meta=$($PY tests/python/torch_compare.py --mmseg_meta "$T/a/iter_8.pth") &&
  ok "mmseg's init_segmentor reads CLASSES and PALETTE ($meta)" || fail "checkpoint meta: $meta"
lines=$(grep -c '"mode": "train"' "$T/a/train.log.json")
fields=$(grep '"mode": "train"' "$T/a/train.log.json" | head -1 |
  grep -o '"\(iter\|lr\|loss\|decode.loss_ce\|aux.loss_ce\|time\|data_time\|memory\)"' | wc -l)
[ "$lines" -eq 8 ] && [ "$fields" -eq 8 ] && ok "json log: 8 lines with mmseg's fields" ||
  fail "json log lines=$lines fields=$fields"

check "train.log.json parses strictly" $PY tests/python/json_check.py strict "$T/a/train.log.json"
check "mmseg's analyze_logs reads 8 loss points from train.log.json" \
  $PY tests/python/json_check.py mmseg_log "$T/a/train.log.json" --train 8

# Resumed from the middle checkpoint: identical to the uninterrupted run.
mkdir -p "$T/b" && cp "$T/a/iter_4.pth" "$T/b/"
"$TRAIN" "${ARGS[@]}" --work_dir="$T/b" --resume >"$T/b.log" 2>&1 || { cat "$T/b.log"; fail "run B"; }
grep -q "resumed from .*iter_4.pth at iteration 4" "$T/b.log" && ok "resumed at 4" || fail "resume message"
$PY tests/python/torch_compare.py "$T/a/iter_8.pth" "$T/b/iter_8.pth" --optimizer &&
  ok "resume from iter 4: bit-identical weights and momentum" || fail "resume from iter 4 differs"

# Stopped by SIGTERM part-way, resumed: identical too.
"$TRAIN" "${ARGS[@]}" --work_dir="$T/c" >"$T/c.log" 2>&1 &
pid=$!
for _ in $(seq 1 600); do
  grep -q '"iter": 2,' "$T/c/train.log.json" 2>/dev/null && break
  sleep 0.1
done
kill -TERM $pid
wait $pid
rc=$?
stopped_at=$(ls "$T/c" | grep -o 'iter_[0-9]*' | sed 's/iter_//' | sort -n | tail -1)
if [ $rc -eq 1 ] && grep -q "stopped by SIGTERM at iteration" "$T/c.log"; then
  ok "SIGTERM saved a checkpoint at iteration $stopped_at and exited 1"
else
  fail "SIGTERM handling (rc=$rc)"; cat "$T/c.log"
fi
"$TRAIN" "${ARGS[@]}" --work_dir="$T/c" --resume >"$T/c2.log" 2>&1 || fail "run C resume"
$PY tests/python/torch_compare.py "$T/a/iter_8.pth" "$T/c/iter_8.pth" --optimizer &&
  ok "kill + resume: bit-identical weights and momentum" || fail "kill + resume differs"

# A truncated newest checkpoint: reported by name, the previous one used, same result.
mkdir -p "$T/d" && cp "$T/a/iter_4.pth" "$T/d/" && head -c 1000 "$T/a/iter_8.pth" >"$T/d/iter_6.pth"
"$TRAIN" "${ARGS[@]}" --work_dir="$T/d" --resume >"$T/d.log" 2>&1 || fail "run D"
grep -q "^warning: .*iter_6.pth: .*trying an older checkpoint" "$T/d.log" &&
  grep -q "resumed from .*iter_4.pth" "$T/d.log" && ok "corrupt iter_6.pth reported, iter_4 used" ||
  { fail "corrupt checkpoint fallback"; cat "$T/d.log"; }
$PY tests/python/torch_compare.py "$T/a/iter_8.pth" "$T/d/iter_8.pth" >/dev/null &&
  ok "fallback run identical" || fail "fallback run differs"

# The loss falls: mean of the last 3 logged losses below the first 3 (40 iterations).
"$TRAIN" "${ARGS[@]}" --work_dir="$T/e" --max_iters=40 --checkpoint_interval=40 \
  >"$T/e.log" 2>&1 || fail "run E"
$PY - "$T/e/train.log.json" <<'PYEOF' && ok "loss falls" || fail "loss does not fall"
import json, sys
losses = [json.loads(l)["loss"] for l in open(sys.argv[1]) if '"mode": "train"' in l]
first, last = sum(losses[:3]) / 3, sum(losses[-3:]) / 3
print(f"loss {first:.3f} -> {last:.3f}")
sys.exit(0 if last < 0.8 * first else 1)
PYEOF

# A non-finite loss stops the run with a clear message and saves nothing more.
"$TRAIN" "${ARGS[@]}" --work_dir="$T/f" --lr=1e30 --min_lr=0 >"$T/f.log" 2>&1
rc=$?
if [ $rc -eq 1 ] && grep -q "^error: loss is \(NaN\|infinite\) at iteration" "$T/f.log" &&
   ! ls "$T/f"/iter_*.pth >/dev/null 2>&1; then
  ok "non-finite loss stops the run ($(grep -o 'loss is [a-zA-Z]* at iteration [0-9]*' "$T/f.log"))"
else
  fail "non-finite loss (rc=$rc)"; tail -3 "$T/f.log"
fi

# Bad flags: one clear error, exit 1, nothing written.
for bad in "--crop_size=abc" "--loss=focal" "--max_iters=0" "--lr=-1" "--class_weight=1,2" \
           "--dataset=coco" "--ratio_range=2,1"; do
  out=$("$TRAIN" "${ARGS[@]}" --work_dir="$T/bad" "$bad" 2>&1); rc=$?
  flag=${bad%%=*}
  if [ $rc -eq 2 ] && printf '%s' "$out" | grep -q "^error: $flag" && [ ! -e "$T/bad" ]; then
    ok "refused $bad"
  else
    fail "bad flag $bad (rc=$rc): $out"
  fi
done

# Two processes over loopback (Gloo): ranks stay identical (checked at every checkpoint), the
# run resumes exactly like the single-process one.
"$TRAIN" "${ARGS[@]}" --work_dir="$T/m" --nproc=2 --threads=1 >"$T/m.log" 2>&1 &&
  grep -q "batch 2 x 2 processes" "$T/m.log" && [ -s "$T/m/iter_8.pth" ] &&
  ok "2-process training over loopback" || { fail "2-process training"; cat "$T/m.log"; }
mkdir -p "$T/m2" && cp "$T/m/iter_4.pth" "$T/m2/"
"$TRAIN" "${ARGS[@]}" --work_dir="$T/m2" --nproc=2 --threads=1 --resume >"$T/m2.log" 2>&1 &&
  $PY tests/python/torch_compare.py "$T/m/iter_8.pth" "$T/m2/iter_8.pth" --optimizer >/dev/null &&
  ok "2-process resume from iter 4: bit-identical" || { fail "2-process resume"; cat "$T/m2.log"; }
! $PY tests/python/torch_compare.py "$T/a/iter_8.pth" "$T/m/iter_8.pth" >/dev/null &&
  ok "2 processes see other data than 1 (different weights)" || fail "2-process run equals 1-process"
out=$("$TRAIN" "${ARGS[@]}" --work_dir="$T/m3" --world_size=2 --rank=5 --dist_port=1 2>&1); rc=$?
[ $rc -eq 2 ] && printf '%s' "$out" | grep -q "^error: --rank: 5 is not in" && ok "bad --rank refused" ||
  fail "bad rank: $out"

# bf16 mixed precision (--train_precision=bf16, where the CPU has bf16): float32 master weights
# and momentum in the checkpoint, finite, close to the fp32 run but not equal to it; refused
# with one line on a CPU without bf16 (ANN_CPUINFO presents one), leaving nothing behind.
if grep -q '^flags.* \(avx512_bf16\|amx_bf16\)' /proc/cpuinfo; then
  "$TRAIN" "${ARGS[@]}" --work_dir="$T/bf16" --train_precision=bf16 >"$T/bf16.log" 2>&1 &&
    $PY - "$T/a/iter_8.pth" "$T/bf16/iter_8.pth" <<'PYEOF' && ok "--train_precision=bf16 trains (float32 master weights)" || { fail "bf16 training"; tail -3 "$T/bf16.log"; }
import sys, torch
a, b = (torch.load(p, map_location="cpu") for p in sys.argv[1:3])
sa, sb = a["state_dict"], b["state_dict"]
assert all(v.dtype == sa[k].dtype for k, v in sb.items()), "dtypes differ from the fp32 run"
assert all(m["momentum_buffer"].dtype == torch.float32 for m in b["optimizer"]["state"].values())
assert all(bool(torch.isfinite(v).all()) for v in sb.values() if v.is_floating_point())
d = max(float((sa[k].double() - sb[k].double()).abs().max()) for k in sa
        if sa[k].is_floating_point() and "running" not in k)
assert 0 < d < 0.05, f"weights differ from fp32 by {d}"
print(f"bf16 vs fp32 after 8 iterations: max weight difference {d:.3g}")
PYEOF
else
  echo "info: no bf16 on this CPU; bf16 training not run"
fi
grep '^flags' /proc/cpuinfo | head -1 | sed 's/ avx512_bf16//; s/ amx_bf16//' > "$T/cpuinfo_no_bf16"
out=$(ANN_CPUINFO="$T/cpuinfo_no_bf16" "$TRAIN" "${ARGS[@]}" --work_dir="$T/never" \
  --train_precision=bf16 2>&1); rc=$?
[ $rc -eq 2 ] && [ "$(printf '%s\n' "$out" | wc -l)" -eq 1 ] &&
  printf '%s' "$out" | grep -q "^error: --train_precision: bf16 needs a CPU with AVX512-BF16" &&
  [ ! -e "$T/never" ] && ok "--train_precision=bf16 refused on a CPU without bf16" ||
  fail "bf16 training refusal (rc=$rc): $out"

# Training on several splits at once (the authors' test-server model: train + val).
"$TRAIN" "${ARGS[@]}" --work_dir="$T/tv" --train_split=train,val --max_iters=1 >"$T/tv.log" 2>&1 &&
  grep -q "training on 16 images (train 12 + val 4)" "$T/tv.log" && ok "--train_split=train,val" ||
  { fail "--train_split=train,val"; cat "$T/tv.log"; }

# Every shipped config parses and gets as far as the data (flags valid, dataset known).
for cfg in configs/*.flags; do
  out=$("$TRAIN" --config="$cfg" --data_root="$T/nowhere" --work_dir="$T/cfg" 2>&1)
  case "$out" in *"$T/nowhere/"*) ;; *) fail "config $cfg: $out" ;; esac
done
ok "all $(ls configs/*.flags | wc -l) configs parse"

finish
