#!/bin/bash
# int8 inference end to end on the README's main job: the toy Cityscapes and model of ./demo.sh
# (same generator, config and schedule), calibrated on its train images with
# ann_test --calibrate; then ann_eval / ann_test / ann_submit --precision=int8 against the exact
# path: val mIoU within 0.5 points and argmax agreement >= 98% (Python compares the PNGs). The
# calibration file is deterministic and bound to its checkpoint by SHA-256 (Python's hashlib);
# another checkpoint, a missing or broken calibration, and a CPU without AVX2 (presented through
# ANN_CPUINFO) are each refused with one line. Without VNNI, int8 runs with 7-bit weights.
set -u
source "${TEST_SRCDIR}/${TEST_WORKSPACE}/tests/lib.sh" int8

"$BIN/ann_preprocess" --dataset=toy_cityscapes --dst="$T/raw" --seed=0 >/dev/null 2>&1 &&
  "$BIN/ann_preprocess" --dataset=cityscapes --src="$T/raw" --dst="$T/data" >/dev/null 2>&1 ||
  { echo "FAIL: toy data"; exit 1; }
CFG=(--config=configs/toy.flags --threads=2)
"$BIN/ann_train" "${CFG[@]}" --data_root="$T/data" --work_dir="$T/work" --eval_interval=100 \
  >"$T/train.log" 2>&1 || { tail "$T/train.log"; echo "FAIL: training"; exit 1; }
CKPT="$T/work/latest.pth"
VAL="$T/data/leftImg8bit/val"

# Calibration: twice the same bytes, naming the checkpoint by its SHA-256.
for f in a b; do
  "$BIN/ann_test" "${CFG[@]}" --checkpoint="$CKPT" --images="$T/data/leftImg8bit/train" \
    --calibrate="$T/cal_$f.json" >"$T/cal_$f.log" 2>&1 || { cat "$T/cal_$f.log"; fail "calibrate"; }
done
cmp -s "$T/cal_a.json" "$T/cal_b.json" && ok "calibration twice on the same images: same file" ||
  fail "calibration is not deterministic"
$PY - "$T/cal_a.json" "$CKPT" <<'PYEOF' && ok "the calibration names its checkpoint's SHA-256" ||
import hashlib, json, sys
c = json.load(open(sys.argv[1]))
sha = hashlib.sha256(open(sys.argv[2], "rb").read()).hexdigest()
assert c["format"] == "ann int8 calibration 1" and c["checkpoint_sha256"] == sha, c["checkpoint_sha256"]
assert c["images"] == 48, c["images"]
r = c["ranges"]
# Every backbone convolution, residual block and head convolution has a range (R-18: 2+2+2+2
# blocks). A block's last convolution adds the residual itself, and the toy head's AFNB
# bottleneck is composed into the 3x3 one: neither has a range of its own.
names = ["input", "backbone.stem.0", "backbone.layer1.0.conv1", "backbone.layer4.1",
         "decode_head.fusion.attention", "decode_head.bottleneck",
         "decode_head.context.attention", "decode_head.context.cat",
         "decode_head.context.bottleneck"]
missing = [n for n in names if n not in r]
assert not missing, missing
# Nor do the attention's projections (their outputs stay in float).
extra = [n for n in ["backbone.layer4.1.conv2", "decode_head.fusion.cat",
                     "decode_head.fusion.bottleneck", "decode_head.fusion.key",
                     "decode_head.context.value"] if n in r]
assert not extra, extra
assert all(v["min"] <= v["low"] <= v["high"] <= v["max"] for v in r.values())
# ReLU outputs start at 0, so their zero point is 0.
assert r["backbone.layer4.1"]["min"] == 0.0
PYEOF
  fail "calibration file contents"
CAL="$T/cal_a.json"

# Accuracy: ann_eval's mIoU, and pixel agreement of ann_test's labels.
miou() { $PY -c "import json,sys; print('%.10f' % json.load(open(sys.argv[1]))['mIoU'])" "$1"; }
for p in exact int8; do
  "$BIN/ann_eval" "${CFG[@]}" --checkpoint="$CKPT" --data_root="$T/data" --precision=$p \
    --calibration="$CAL" --work_dir="$T/ev_$p" >"$T/ev_$p.txt" 2>&1 || fail "ann_eval $p"
  "$BIN/ann_test" "${CFG[@]}" --checkpoint="$CKPT" --images="$VAL" --out_dir="$T/pred_$p" \
    --precision=$p --calibration="$CAL" >/dev/null 2>&1 || fail "ann_test $p"
done
grep -A30 "per class results" "$T/ev_int8.txt" | grep -v nan
$PY -c "import sys; a, b = float(sys.argv[1]), float(sys.argv[2]); print('val mIoU exact %.2f int8 %.2f' % (a * 100, b * 100)); sys.exit(not (a > 0.5 and abs(a - b) * 100 <= 0.5))" \
  "$(miou "$T/ev_exact/metrics.json")" "$(miou "$T/ev_int8/metrics.json")" &&
  ok "int8: val mIoU within 0.5 points of exact" || fail "int8 mIoU"
$PY - "$T/pred_exact" "$T/pred_int8" <<'PYEOF' && ok "int8: argmax agrees with exact on >= 98% of pixels" ||
import glob, os, sys, numpy as np
from PIL import Image
files = sorted(glob.glob(sys.argv[1] + "/**/*.png", recursive=True))
assert len(files) == 12, len(files)
same = total = 0
for f in files:
    a = np.array(Image.open(f))
    b = np.array(Image.open(f.replace(sys.argv[1], sys.argv[2], 1)))
    assert a.shape == b.shape and len(np.unique(a)) > 2
    same += int((a == b).sum()); total += a.size
print("agreement %.4f%% of %d pixels" % (100.0 * same / total, total))
sys.exit(same < 0.98 * total)
PYEOF
  fail "int8 argmax agreement"
"$BIN/ann_submit" "${CFG[@]}" --checkpoint="$CKPT" --data_root="$T/data" --precision=int8 \
  --calibration="$CAL" --out="$T/sub.zip" >"$T/sub.log" 2>&1 && [ -s "$T/sub.zip" ] &&
  ok "ann_submit --precision=int8 writes the zip" || { cat "$T/sub.log"; fail "ann_submit int8"; }

# Refusals: one line each, nothing written.
refused() {  # NAME EXIT_CODE PATTERN COMMAND...: exactly one line matching ^error: PATTERN
  local out rc
  out=$("${@:4}" 2>&1)
  rc=$?
  [ "$rc" -eq "$2" ] && [ "$(printf '%s\n' "$out" | wc -l)" -eq 1 ] &&
    printf '%s' "$out" | grep -q "^error: $3" && [ ! -e "$T/never" ] && [ ! -e "$T/never.zip" ] &&
    ok "$1 ($out)" || fail "$1: exit $rc: $out"
}
OTHER="$T/work/iter_200.pth"
refused "ann_test refuses a calibration made for another checkpoint" 1 \
  "$CAL: made for another checkpoint" "$BIN/ann_test" "${CFG[@]}" --checkpoint="$OTHER" \
  --images="$VAL" --out_dir="$T/never" --precision=int8 --calibration="$CAL"
refused "ann_eval refuses it" 1 "$CAL: made for another checkpoint" "$BIN/ann_eval" "${CFG[@]}" \
  --checkpoint="$OTHER" --data_root="$T/data" --work_dir="$T/never" --precision=int8 \
  --calibration="$CAL"
refused "ann_submit refuses it" 1 "$CAL: made for another checkpoint" "$BIN/ann_submit" \
  "${CFG[@]}" --checkpoint="$OTHER" --data_root="$T/data" --out="$T/never.zip" --precision=int8 \
  --calibration="$CAL"
refused "--precision=int8 without --calibration" 2 "--calibration:" "$BIN/ann_test" "${CFG[@]}" \
  --checkpoint="$CKPT" --images="$VAL" --out_dir="$T/never" --precision=int8
echo '{"format": "ann int8 calibration 1", "ranges": 3}' >"$T/broken.json"
refused "a broken calibration file" 1 "$T/broken.json: not an int8 calibration" "$BIN/ann_test" \
  "${CFG[@]}" --checkpoint="$CKPT" --images="$VAL" --out_dir="$T/never" --precision=int8 \
  --calibration="$T/broken.json"
refused "an unknown observer" 2 "--int8_observer:" "$BIN/ann_test" "${CFG[@]}" \
  --checkpoint="$CKPT" --images="$VAL" --out_dir="$T/never" --precision=int8 \
  --calibration="$CAL" --int8_observer=entropy
# int8 runs on every CPU with AVX2; without VNNI (this CPU, or one presented so) the weights keep
# to 7 bits. Where this CPU has VNNI, a CPU without it is emulated (oneDNN capped at AVX2) and
# must give the same accuracy.
grep '^flags' /proc/cpuinfo | head -1 | sed 's/ avx512_vnni//; s/ avx_vnni//; s/ amx_int8//' \
  >"$T/cpuinfo_no_vnni"
if grep -qwE 'avx512_vnni|avx_vnni|amx_int8' /proc/cpuinfo; then
  env ANN_CPUINFO="$T/cpuinfo_no_vnni" DNNL_MAX_CPU_ISA=AVX2 "$BIN/ann_eval" "${CFG[@]}" \
    --checkpoint="$CKPT" --data_root="$T/data" --precision=int8 --calibration="$CAL" \
    --work_dir="$T/ev_avx2" >"$T/ev_avx2.txt" 2>&1 || fail "ann_eval int8 on AVX2"
  $PY -c "import sys; a, b = float(sys.argv[1]), float(sys.argv[2]); print('val mIoU exact %.2f int8 (AVX2, 7-bit weights) %.2f' % (a * 100, b * 100)); sys.exit(abs(a - b) * 100 > 0.5)" \
    "$(miou "$T/ev_exact/metrics.json")" "$(miou "$T/ev_avx2/metrics.json")" &&
    ok "int8 on an emulated AVX2-only CPU: val mIoU within 0.5 points of exact" ||
    fail "int8 mIoU on AVX2"
else
  echo "this CPU has no VNNI: the int8 runs above used oneDNN's AVX2 kernels with 7-bit weights"
fi
sed 's/ avx2//' "$T/cpuinfo_no_vnni" >"$T/cpuinfo_no_avx2"
NO_AVX2=(env ANN_CPUINFO="$T/cpuinfo_no_avx2")
refused "--precision=int8 on a CPU without AVX2" 2 "--precision: int8 needs a CPU with AVX2" \
  "${NO_AVX2[@]}" "$BIN/ann_test" "${CFG[@]}" --checkpoint="$CKPT" --images="$VAL" \
  --out_dir="$T/never" --precision=int8 --calibration="$CAL"
refused "... and in ann_eval" 2 "--precision: int8 needs a CPU with AVX2" "${NO_AVX2[@]}" \
  "$BIN/ann_eval" "${CFG[@]}" --checkpoint="$CKPT" --data_root="$T/data" --work_dir="$T/never" \
  --precision=int8 --calibration="$CAL"
finish
