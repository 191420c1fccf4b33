#!/bin/bash
# int8 inference end to end on the README's main job: the toy Cityscapes and model of ./demo.sh
# (same generator, config and schedule), calibrated on its train images with
# ann_test --calibrate; then ann_eval / ann_test / ann_submit --precision=int8 against the exact
# path: val mIoU within 0.5 points and argmax agreement >= 98% (Python compares the PNGs). The
# calibration file is deterministic and bound to its checkpoint by SHA-256 (Python's hashlib);
# another checkpoint, a missing or broken calibration, and a CPU without AVX2 (presented through
# ANN_CPUINFO) are each refused with one line. Without VNNI, int8 runs with 7-bit weights.
# The int8 QDQ export (ann_export --precision=int8) passes Python's onnx checker, and ONNX
# Runtime's labels on it agree with ann_test --precision=int8 (the same 7-bit weights: on a CPU
# with VNNI, ann_test runs as on one without) on >= 99% of the val pixels, and with exact on
# >= 98%.
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

# The QDQ export in ONNX Runtime, on the val images at their own size (one batch).
grep '^flags' /proc/cpuinfo | head -1 | sed 's/ avx512_vnni//; s/ avx_vnni//; s/ amx_int8//' \
  >"$T/cpuinfo_no_vnni"
SEVEN_BIT=()
grep -qwE 'avx512_vnni|avx_vnni|amx_int8' /proc/cpuinfo &&
  SEVEN_BIT=(env ANN_CPUINFO="$T/cpuinfo_no_vnni" DNNL_MAX_CPU_ISA=AVX2)
export NODE_PATH="${NODE_PATH:-$(npm root -g 2>/dev/null)}"
"$BIN/ann_export" "${CFG[@]}" --checkpoint="$CKPT" --precision=int8 --calibration="$CAL" \
  --dynamic --with_argmax --out="$T/int8.onnx" >"$T/export.log" 2>&1 ||
  { cat "$T/export.log"; fail "ann_export --precision=int8"; }
grep -q "int8 (QDQ)" "$T/export.log" && $PY tests/python/onnx_check.py model "$T/int8.onnx" >"$T/meta.json" &&
  $PY - "$T/int8.onnx" "$T/meta.json" "$CKPT" <<'PYEOF' && ok "int8 QDQ file: Python's onnx checker passes; every backbone and head convolution reads int8 weights per output channel (codes -63..63) and an int32 bias; the metadata names int8 and the checkpoint ($(head -1 "$T/export.log" | sed 's/.*initializers, //'))" ||
import hashlib, json, sys, onnx
from onnx import numpy_helper
m = onnx.load(sys.argv[1])
meta = json.load(open(sys.argv[2]))
assert meta["precision"] == "int8" and "QDQ" in meta["quantization"], meta
assert meta["checkpoint_sha256"] == hashlib.sha256(open(sys.argv[3], "rb").read()).hexdigest()
init = {t.name: numpy_helper.to_array(t) for t in m.graph.initializer}
producer = {o: n for n in m.graph.node for o in n.output}
ops = [n.op_type for n in m.graph.node]
convs = [n for n in m.graph.node if n.op_type == "Conv"]
int8_convs = 0
for c in convs:
    w = producer.get(c.input[1])
    if w is None:  # float weights: the classifier and the border bias's map of ones
        continue
    assert w.op_type == "DequantizeLinear", w.op_type
    codes, scales = init[w.input[0]], init[w.input[1]]
    assert codes.dtype.name == "int8" and abs(codes.astype(int)).max() <= 63, c.name
    assert scales.shape == (codes.shape[0],) and [a.i for a in w.attribute if a.name == "axis"] == [0]
    if len(c.input) > 2:
        b = producer[c.input[2]]
        assert b.op_type == "DequantizeLinear" and init[b.input[0]].dtype.name == "int32", c.name
    int8_convs += 1
# R-18: stem 3 + 8 blocks x 2 + 3 downsamples, the head's int8 convolutions.
assert int8_convs >= 22 and len(convs) - int8_convs <= 4, (int8_convs, len(convs))
assert ops.count("QuantizeLinear") >= 20 and ops[0] == "QuantizeLinear", ops[:3]
PYEOF
  fail "int8 QDQ file contents"
for p in exact int8; do
  env_=()
  [ $p = int8 ] && env_=("${SEVEN_BIT[@]}")
  "${env_[@]}" "$BIN/ann_test" "${CFG[@]}" --checkpoint="$CKPT" --images="$VAL" --test_scale=none \
    --out_dir="$T/full_$p" --precision=$p --calibration="$CAL" >/dev/null 2>&1 ||
    fail "ann_test $p at full size"
done
$PY - "$VAL" "$T/meta.json" "$T/val.f32" >"$T/val.dims" <<'PYEOF' || fail "ONNX input"
import glob, json, sys, cv2, numpy as np
meta = json.load(open(sys.argv[2]))
mean, std = np.array(json.loads(meta["mean"]), np.float32), np.array(json.loads(meta["std"]), np.float32)
batch = []
for f in sorted(glob.glob(sys.argv[1] + "/**/*.png", recursive=True)):
    img = cv2.imread(f, cv2.IMREAD_COLOR).astype(np.float32)
    if meta["channel_order"] == "rgb":
        img = img[:, :, ::-1]
    batch.append(((img - mean) / std).transpose(2, 0, 1))
x = np.ascontiguousarray(np.stack(batch), np.float32)
x.tofile(sys.argv[3])
print(",".join(map(str, x.shape)))
PYEOF
node tests/ort/run_onnx.js "$T/int8.onnx" "$T/val.f32" "$(cat "$T/val.dims")" "$T/ort" 2 >"$T/ort.json" 2>&1 ||
  { cat "$T/ort.json"; fail "ONNX Runtime on the int8 QDQ file"; }
$PY - "$VAL" "$T/ort.labels.bin" "$(cat "$T/val.dims")" "$T/full_int8" "$T/full_exact" <<'PYEOF' && ok "ONNX Runtime on the int8 QDQ file: labels agree with ann_test --precision=int8 on >= 99% and with exact on >= 98% of the val pixels" ||
import glob, os, sys, cv2, numpy as np
files = sorted(glob.glob(sys.argv[1] + "/**/*.png", recursive=True))
n, _, h, w = map(int, sys.argv[3].split(","))
ort = np.fromfile(sys.argv[2], np.int64).reshape(n, h, w)
assert len(files) == n == 12, (len(files), n)
result = {}
for name, folder in (("int8", sys.argv[4]), ("exact", sys.argv[5])):
    preds = sorted(glob.glob(folder + "/**/*.png", recursive=True))
    assert len(preds) == n, (folder, len(preds))
    same = 0
    for i, f in enumerate(preds):
        assert os.path.basename(f).split(".")[0] in os.path.basename(files[i]), (f, files[i])
        same += int((cv2.imread(f, cv2.IMREAD_UNCHANGED) == ort[i]).sum())
    result[name] = same / ort.size
print("ONNX Runtime int8 QDQ agreement: with ann int8 %.4f%%, with exact %.4f%% of %d pixels"
      % (100 * result["int8"], 100 * result["exact"], ort.size))
assert len(np.unique(ort)) > 2
sys.exit(not (result["int8"] >= 0.99 and result["exact"] >= 0.98))
PYEOF
  fail "ONNX Runtime int8 agreement"

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
