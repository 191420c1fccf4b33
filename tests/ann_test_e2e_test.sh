#!/bin/bash
# End to end: a Python-written mmseg-layout R-50 checkpoint -> ann_test -> the logits Python
# computes for the same weights and images (max relative error <= 1e-4), then bad inputs.
set -u
source "${TEST_SRCDIR}/${TEST_WORKSPACE}/tests/lib.sh" e2e
ANN_TEST="$ROOT/tools/ann_test"
mkdir -p "$T/images"

$PY tests/python/ann_reference.py make_checkpoint --depth 50 --classes 19 --seed 7 \
  --out "$T/r50.pth" || exit 1
$PY tests/python/ann_reference.py write_png --height 67 --width 93 --seed 1 \
  --out "$T/images/a.png" || exit 1
$PY tests/python/ann_reference.py write_png --height 96 --width 128 --seed 2 \
  --out "$T/images/b.png" || exit 1

# At the image's own size (--test_scale=none), as the Python reference computes it.
check "ann_test runs on a Python checkpoint" "$ANN_TEST" \
  --config=configs/ann_r50-d8_512x1024_40k_cityscapes.flags --test_scale=none --checkpoint="$T/r50.pth" \
  --images="$T/images" --out_dir="$T/pred" --logits_dir="$T/logits" --overlay --threads=2
check "overlay written" test -s "$T/pred/a_overlay.png"
check "logits match Python (R-50, max rel err <= 1e-4)" $PY tests/python/compare_logits.py \
  --checkpoint "$T/r50.pth" --depth 50 --classes 19 --images "$T/images" \
  --logits_dir "$T/logits" --pred_dir "$T/pred" --tolerance 1e-4

# The same weights in the legacy (pre-1.6) torch.save format, storages tagged 'cuda:0' as a GPU
# run of PyTorch 1.5 writes them (mmseg's 2020 model zoo): identical logits.
$PY tests/python/checkpoint_tool.py legacy "$T/r50.pth" "$T/r50_legacy.pth" --cuda || exit 1
check "ann_test reads a legacy checkpoint saved on a GPU" "$ANN_TEST" \
  --config=configs/ann_r50-d8_512x1024_40k_cityscapes.flags --test_scale=none \
  --checkpoint="$T/r50_legacy.pth" --images="$T/images" --out_dir="$T/pred_legacy" \
  --logits_dir="$T/logits_legacy" --threads=2
same_tensor() { $PY -c 'import sys, torch; sys.exit(0 if torch.equal(torch.load(sys.argv[1]), torch.load(sys.argv[2])) else 1)' "$1" "$2"; }
check "legacy checkpoint: logits identical to the zip checkpoint's" \
  same_tensor "$T/logits/a.pt" "$T/logits_legacy/a.pt"

# ann_init_checkpoint writes the meta mmseg's loading helpers need.
check "ann_init_checkpoint" "$ROOT/tools/ann_init_checkpoint" --config=configs/toy.flags \
  --out="$T/init.pth"
check "init checkpoint: mmseg's init_segmentor reads CLASSES and PALETTE" \
  $PY tests/python/torch_compare.py --mmseg_meta "$T/init.pth"

# --help: the usage line, an example and the tool's own flags (its main's and its libraries'),
# none of LibTorch's or glog's, none of another tool's.
help=$("$ANN_TEST" --help 2>&1); rc=$?
if [ $rc -eq 0 ] && printf '%s' "$help" | grep -q "^usage: ann_test " &&
   printf '%s' "$help" | grep -q "^example:" &&
   printf '%s' "$help" | grep -q -- "--config=FILE" &&
   printf '%s' "$help" | grep -q -- "--threads=" && printf '%s' "$help" | grep -q -- "--test_mode=" &&
   ! printf '%s' "$help" | grep -q -- "caffe2\|--logtostderr\|--lr=\|--max_iters="; then
  ok "ann_test --help lists its own flags only"
else
  fail "ann_test --help: $help"
fi
help=$("$ROOT/tools/ann_efficiency" --help 2>&1)
printf '%s' "$help" | grep -q -- "--flops_convention=" && printf '%s' "$help" | grep -q -- "--depth=" &&
  ! printf '%s' "$help" | grep -q -- "--test_mode=\|--lr=\|--checkpoint=" &&
  ok "ann_efficiency --help: no test or training flags" || fail "ann_efficiency --help: $help"
# A flagfile line that is not a flag stops everything (gflags would drop the lines after it).
printf -- '--depth=50\nnum_classes=7\n--num_classes=19\n' > "$T/bad.flags"
out=$("$ANN_TEST" --config="$T/bad.flags" --checkpoint="$T/r50.pth" --images="$T/images" \
  --out_dir="$T/bad0" 2>&1); rc=$?
[ $rc -eq 2 ] && [ "$(printf '%s\n' "$out" | grep -c '^error: ')" -eq 1 ] &&
  printf '%s' "$out" | grep -q "^error: $T/bad.flags:2: not a flag" &&
  ok "a flagfile line that is not a flag is refused, naming file and line" ||
  fail "bad flagfile line (exit $rc): $out"
out=$("$ANN_TEST" --checkpoint="$T/r50.pth" --images="$T/images" --out_dir="$T/bad0" --lr=1 2>&1)
rc=$?
[ $rc -eq 2 ] && [ "$out" = "error: --lr: unknown flag" ] && ok "a training flag is unknown to ann_test" ||
  fail "unknown flag (exit $rc): $out"

for bad in --threads=-5 --workers=-3 --depth=abc; do
  out=$("$ANN_TEST" --checkpoint="$T/r50.pth" --images="$T/images" --out_dir="$T/bad0" "$bad" 2>&1)
  rc=$?
  [ $rc -eq 2 ] || [ $rc -eq 1 ] && [ "$(printf '%s\n' "$out" | wc -l)" -eq 1 ] &&
    printf '%s' "$out" | grep -q "^error: ${bad%%=*}" && ok "refused $bad ($out)" ||
    fail "$bad (exit $rc): $out"
done

# Bad input: one line naming the file and the problem, exit status 1, no partial output.
expect_error_rc() {  # expect_error_rc RC NAME PATTERN ARGS...
  local want_rc=$1 name=$2 pattern=$3
  shift 3
  local out
  out=$("$ANN_TEST" --config=configs/ann_r50-d8_512x1024_40k_cityscapes.flags --threads=2 "$@" 2>&1 >/dev/null)
  local rc=$?
  local lines
  lines=$(printf '%s\n' "$out" | grep -c '^error: ')
  if [ $rc -eq "$want_rc" ] && [ "$lines" -eq 1 ] && printf '%s' "$out" | grep -q -- "$pattern"; then
    echo "ok: $name"
  else
    echo "FAIL: $name (exit $rc): $out"
    fails=$((fails + 1))
  fi
}
expect_error() { expect_error_rc 1 "$@"; }
head -c 100000 "$T/r50.pth" > "$T/truncated.pth"
expect_error "truncated checkpoint" "$T/truncated.pth: not a readable PyTorch zip checkpoint" \
  --checkpoint="$T/truncated.pth" --images="$T/images" --out_dir="$T/bad1"
head -c 3000000 "$T/r50_legacy.pth" > "$T/truncated_legacy.pth"
expect_error "truncated legacy checkpoint" \
  "$T/truncated_legacy.pth: truncated or corrupt legacy torch.save file" \
  --checkpoint="$T/truncated_legacy.pth" --images="$T/images" --out_dir="$T/bad1l"
printf 'not a checkpoint' > "$T/text.pth"
expect_error "corrupt checkpoint" "$T/text.pth: not a PyTorch checkpoint" \
  --checkpoint="$T/text.pth" --images="$T/images" --out_dir="$T/bad2"
expect_error "missing checkpoint" "$T/none.pth: cannot open file" \
  --checkpoint="$T/none.pth" --images="$T/images" --out_dir="$T/bad3"
expect_error "checkpoint of another architecture" "r50.pth: checkpoint does not match the model" \
  --config=configs/ann_r101-d8_512x1024_40k_cityscapes.flags \
  --checkpoint="$T/r50.pth" --images="$T/images" --out_dir="$T/bad4"
expect_error "another class count" "decode_head.conv_seg.weight: model \[150,512,1,1\], checkpoint \[19,512,1,1\]" \
  --config=configs/ann_r50-d8_512x512_80k_ade20k.flags \
  --checkpoint="$T/r50.pth" --images="$T/images" --out_dir="$T/bad5"
mkdir -p "$T/badimg" && printf '\x89PNG\r\n\x1a\nbroken' > "$T/badimg/x.png"
expect_error "unreadable image" "$T/badimg/x.png: not a decodable image" \
  --checkpoint="$T/r50.pth" --images="$T/badimg" --out_dir="$T/bad6"
expect_error "missing images" "$T/nothing: no such file or directory" \
  --checkpoint="$T/r50.pth" --images="$T/nothing" --out_dir="$T/bad7"
expect_error_rc 2 "bad flag value" "^error: --depth: must be 18, 34, 50 or 101" \
  --depth=42 --checkpoint="$T/r50.pth" --images="$T/images" --out_dir="$T/bad8"
check "no partial output for a bad image" test -z "$(ls -A "$T/bad6" 2>/dev/null)"

finish
