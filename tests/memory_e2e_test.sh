#!/bin/bash
# Sizes that cannot fit are refused up front with one line, never killed by the kernel: the
# estimate (ann/model/footprint.h) is compared with what this process may still take, the
# smallest of MemAvailable, its memory cgroup's limit and `ulimit -v` (ann/util/memory.h).
# - 16000x16000 in ann_test (the 6-class toy_custom model, which an older estimate let through to
#   be OOM-killed), ann_eval, ann_efficiency and a huge training crop in ann_train: one line
#   naming the flag, exit 2, nothing written; the test never allocates that memory.
# - Under a memory cgroup made here (v1 or v2), ann_test on a 1201x901 image: with the limit at
#   0.8x its measured peak our refusal names the cgroup limit (exit 1, not killed, no file
#   written); at 1.35x its peak the same run succeeds.
# - Under `ulimit -v` the refusal names "ulimit -v".
set -u
source "${TEST_SRCDIR}/${TEST_WORKSPACE}/tests/lib.sh" memory
ANN_TEST="$BIN/ann_test"
toy_data "$T/raw" "$T/data" 64x32 4,2,0 3
CKPT="$T/init.pth"
"$BIN/ann_init_checkpoint" --config=configs/toy.flags --out="$CKPT" >/dev/null 2>&1 ||
  { fail "checkpoint"; finish; exit 1; }
$PY - "$T" <<'PYEOF'
import numpy as np, cv2, sys
rng = np.random.default_rng(5)
img = rng.integers(0, 255, (901, 1201, 3), dtype=np.uint8)
img[:, :400] //= 3  # asymmetric
cv2.imwrite(sys.argv[1] + "/img.png", img)
PYEOF

# expect_refusal NAME EXIT PATTERN OUTDIR -- COMMAND...: exactly one "error: " line on stderr,
# matching PATTERN (and no other lines than info: / warning:), the exit code, and OUTDIR holding
# no file.
expect_refusal() {
  local name=$1 want=$2 pattern=$3 out=$4
  shift 5
  "$@" >"$T/out.txt" 2>"$T/err.txt"
  local rc=$?
  local lines others
  lines=$(grep -c '^error: ' "$T/err.txt")
  others=$(grep -vc '^\(error\|info\|warning\): ' "$T/err.txt")
  if [ "$rc" -eq "$want" ] && [ "$lines" -eq 1 ] && [ "$others" -eq 0 ] &&
    grep -Eq "^error: $pattern" "$T/err.txt" &&
    [ -z "$(find "$out" -type f 2>/dev/null)" ]; then
    ok "$name: $(grep '^error: ' "$T/err.txt")"
  else
    fail "$name (exit $rc, $lines lines)"
    cat "$T/err.txt"
  fi
}
GB='[0-9]+\.[0-9]+ GB'
expect_refusal "ann_test, 6 classes, 16000x16000" 2 \
  "--test_scale: a 16000x16000 forward pass needs about $GB of memory; $GB is available \((MemAvailable|the cgroup limit of .*|ulimit -v)\) \(try --test_mode=slide or a smaller --test_scale\)$" \
  "$T/o1" -- "$ANN_TEST" --config=configs/toy_custom.flags --checkpoint="$CKPT" \
  --images="$T/img.png" --out_dir="$T/o1" --test_scale=16000x16000 --threads=2
expect_refusal "ann_test, 19 classes, 16000x16000 with flip" 2 \
  "--test_scale: a 16000x16000 forward pass needs about $GB" \
  "$T/o2" -- "$ANN_TEST" --config=configs/toy.flags --checkpoint="$CKPT" \
  --images="$T/img.png" --out_dir="$T/o2" --test_scale=16000x16000 --flip --threads=2
expect_refusal "ann_eval, 16000x16000" 2 "--test_scale: a 16000x16000 forward pass needs about $GB" \
  "$T/ev" -- "$BIN/ann_eval" --config=configs/toy.flags --checkpoint="$CKPT" \
  --data_root="$T/data" --work_dir="$T/ev" --test_scale=16000x16000 --threads=2
expect_refusal "ann_eval, slide with a 16000x16000 window" 2 \
  "--test_crop: a 16000x16000 window needs about $GB" \
  "$T/ev" -- "$BIN/ann_eval" --config=configs/toy.flags --checkpoint="$CKPT" \
  --data_root="$T/data" --work_dir="$T/ev" --test_mode=slide --test_crop=16000x16000 \
  --test_stride=8000x8000 --threads=2
expect_refusal "ann_efficiency, 16000x16000" 2 "--input: a 16000x16000 forward pass needs about $GB" \
  "$T/none" -- "$BIN/ann_efficiency" --config=configs/toy.flags --input=16000x16000 --threads=2
expect_refusal "ann_train, a batch of 8 4000x4000 crops" 2 \
  "--crop_size: a batch of 8 4000x4000 crops \(--batch_size\) needs about $GB" \
  "$T/tr" -- "$BIN/ann_train" --config=configs/toy.flags --data_root="$T/data" \
  --work_dir="$T/tr" --crop_size=4000x4000 --threads=2

# A size that fits runs.
RUN=("$ANN_TEST" --config=configs/toy.flags --checkpoint="$CKPT" --images="$T/img.png"
  --test_scale=none --threads=2)
/usr/bin/time -f "%M" -o "$T/peak_kb" "${RUN[@]}" --out_dir="$T/fit" >/dev/null 2>"$T/fit.err" &&
  [ -f "$T/fit/img.png" ] && ok "a 1201x901 image fits and runs (peak $(($(cat "$T/peak_kb") / 1024)) MB)" ||
  { fail "a size that fits"; cat "$T/fit.err"; }
PEAK=$(($(cat "$T/peak_kb") * 1024))

# Under a memory cgroup of our own, below the group this test runs in.
cg_dir=""
if v1=$(awk -F: '$2 ~ /(^|,)memory(,|$)/ {print $3}' /proc/self/cgroup) && [ -n "$v1" ] &&
  [ -d /sys/fs/cgroup/memory ]; then
  cg_dir="/sys/fs/cgroup/memory${v1%/}/ann_memory_test_$$"
  limit_file=memory.limit_in_bytes
elif v2=$(awk -F: '$1 == "0" {print $3}' /proc/self/cgroup) && [ -n "$v2" ]; then
  cg_dir="/sys/fs/cgroup${v2%/}/ann_memory_test_$$"
  limit_file=memory.max
fi
if [ -n "$cg_dir" ] && mkdir "$cg_dir" 2>/dev/null && [ -w "$cg_dir/$limit_file" ]; then
  # in_cgroup BYTES COMMAND...: runs COMMAND in the group limited to BYTES.
  in_cgroup() {
    echo "$1" >"$cg_dir/$limit_file"
    shift
    bash -c 'echo $$ >"$0/cgroup.procs" && exec "$@"' "$cg_dir" "$@"
  }
  low=$((PEAK * 8 / 10))
  in_cgroup "$low" "${RUN[@]}" --out_dir="$T/low" >/dev/null 2>"$T/low.err"
  rc=$?
  [ $rc -eq 1 ] && [ "$(grep -c '^error: ' "$T/low.err")" -eq 1 ] &&
    [ "$(grep -vc '^\(error\|info\|warning\): ' "$T/low.err")" -eq 0 ] &&
    grep -Eq "^error: $T/img.png: a 1201x901 pass needs about $GB of memory; $GB is available \(the cgroup limit of $cg_dir\)" "$T/low.err" &&
    [ -z "$(find "$T/low" -type f 2>/dev/null)" ] &&
    ok "cgroup limit at 0.8x the peak ($((low / 1000000)) MB): $(grep '^error: ' "$T/low.err")" ||
    { fail "cgroup limit at 0.8x the peak (exit $rc)"; cat "$T/low.err"; }
  high=$((PEAK * 135 / 100))
  in_cgroup "$high" "${RUN[@]}" --out_dir="$T/high" >/dev/null 2>"$T/high.err" &&
    cmp -s "$T/high/img.png" "$T/fit/img.png" &&
    ok "cgroup limit at 1.35x the peak ($((high / 1000000)) MB): runs, the same labels" ||
    { fail "cgroup limit at 1.35x the peak (exit $?)"; cat "$T/high.err"; }
  echo $$ >"$(dirname "$cg_dir")/cgroup.procs" 2>/dev/null
  rmdir "$cg_dir" 2>/dev/null
else
  echo "skipped: no memory cgroup can be made here (${cg_dir:-none found}): the cgroup cases did not run"
fi

# ulimit -v 3 GB: a 4000x3000 pass (about 4 GB) cannot fit, whatever the machine.
(
  ulimit -v $((3 * 1024 * 1024))
  "${RUN[@]}" --test_scale=4000x3000 --out_dir="$T/ulimit"
) >/dev/null 2>"$T/ulimit.err"
rc=$?
[ $rc -eq 2 ] && [ "$(wc -l <"$T/ulimit.err")" -eq 1 ] &&
  grep -Eq "^error: --test_scale: a 4000x3000 forward pass needs about $GB of memory; $GB is available \(ulimit -v\)" "$T/ulimit.err" &&
  ok "ulimit -v 3 GB, a 4000x3000 pass: $(cat "$T/ulimit.err")" ||
  { fail "ulimit -v (exit $rc)"; cat "$T/ulimit.err"; }
finish
