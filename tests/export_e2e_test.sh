#!/bin/bash
# ann_export proven in a real runtime: ONNX Runtime (npm's onnxruntime-node, CPU, all graph
# optimisations; tests/ort/run_onnx.js) runs the exported files and its logits are compared with
# ann_test --precision=exact on the same weights and images (max relative error <= 1e-4, argmax
# agreement >= 99.99%), for both variants (mmseg's, the authors' with align_corners) and ResNet
# depths 18 and 50, with random weights (non-zero attention): static exports at two sizes and
# one dynamic export run at three sizes, among them 97x161 (the pyramid's adaptive windows
# overlap: 13x21 features for 8 cells) and non-square ones; with --with_argmax the labels equal
# ann_test's PNG. The R-50 mmseg file also matches Python's torch (tests/python/ann_reference.py).
# Python's onnx checker (full check) and strict shape inference pass on every file, and the
# metadata holds the preprocessing; a checkpoint that does not match the config is one line and
# no file.
set -u
source "${TEST_SRCDIR}/${TEST_WORKSPACE}/tests/lib.sh" export
EXPORT="$ROOT/tools/ann_export"
ANN_TEST="$ROOT/tools/ann_test"
CHECK="$PY tests/python/onnx_check.py"
export NODE_PATH="${NODE_PATH:-$(npm root -g 2>/dev/null)}"
if ! node -e "require('onnxruntime-node')" 2>/dev/null; then
  fail "onnxruntime-node is not installed (./setup.sh installs it)"
  finish
  exit 1
fi
ort() { node tests/ort/run_onnx.js "$@" 2; }  # MODEL INPUT DIMS PREFIX (2 threads)

mkdir -p "$T/images"
# Asymmetric, odd-sized images: 97x161 (W x H), 200x120, 64x64.
$PY -c '
import cv2, numpy as np, sys
for name, (w, h) in {"a": (97, 161), "b": (200, 120), "c": (64, 64)}.items():
    r = np.random.RandomState(len(name) + w)
    y, x = np.mgrid[0:h, 0:w]
    img = (r.randint(0, 256, (h, w, 3)) * 0.5 + np.stack([x * 2, y, x + y], -1) % 256 * 0.5)
    cv2.imwrite(f"{sys.argv[1]}/{name}.png", img.astype(np.uint8))' "$T/images"

# name | scale of the first conv (the authors' inputs are not divided by a std) | config flags
MODELS=(
  "mmseg_r18|1|--config=configs/toy.flags"
  "mmseg_r50|1|--config=configs/ann_r50-d8_512x1024_40k_cityscapes.flags"
  "original_r18|0.017|--config=configs/toy.flags --variant=original --align_corners=true"
  "original_r50|0.017|--config=configs/ann_original_r101-d8_769x769_60k_cityscapes.flags --depth=50"
)
errors=()
for entry in "${MODELS[@]}"; do
  IFS='|' read -r name input_scale flags <<<"$entry"
  read -r -a MODEL <<<"$flags"
  FLAGS=("${MODEL[@]}" --threads=2 --test_scale=none)
  D="$T/$name"
  mkdir -p "$D"
  "$ROOT/tools/ann_init_checkpoint" "${MODEL[@]}" --out="$D/init.pth" >/dev/null 2>&1 &&
    $CHECK randomize "$D/init.pth" "$D/model.pth" 7 "$input_scale" ||
    { fail "$name: checkpoint"; continue; }
  "$ANN_TEST" "${FLAGS[@]}" --checkpoint="$D/model.pth" --images="$T/images" \
    --out_dir="$D/pred" --logits_dir="$D/logits" --precision=exact >"$D/test.log" 2>&1 ||
    { fail "$name: ann_test"; tail -2 "$D/test.log"; continue; }
  # Exports: two static sizes, one dynamic (with labels).
  "$EXPORT" "${FLAGS[@]}" --checkpoint="$D/model.pth" --out="$D/static_a.onnx" --input=97x161 \
    >"$D/export.log" 2>&1 &&
    "$EXPORT" "${FLAGS[@]}" --checkpoint="$D/model.pth" --out="$D/static_b.onnx" \
      --input=200x120 >>"$D/export.log" 2>&1 &&
    "$EXPORT" "${FLAGS[@]}" --checkpoint="$D/model.pth" --out="$D/dynamic.onnx" --dynamic \
      --with_argmax >>"$D/export.log" 2>&1 || { fail "$name: export"; cat "$D/export.log"; continue; }
  meta=$($CHECK model "$D/dynamic.onnx") && $CHECK model "$D/static_a.onnx" >/dev/null &&
    $CHECK model "$D/static_b.onnx" >/dev/null ||
    { fail "$name: Python's onnx checker"; continue; }
  norm=$($PY -c '
import json, sys
m = json.loads(sys.argv[1])
print(",".join(map(str, json.loads(m["mean"]))), ",".join(map(str, json.loads(m["std"]))),
      "true" if m["channel_order"] == "rgb" else "false")' "$meta")
  read -r mean std to_rgb <<<"$norm"
  results=""
  for run in "static_a a" "static_b b" "dynamic a" "dynamic b" "dynamic c"; do
    read -r file image <<<"$run"
    dims=$($CHECK input "$T/images/$image.png" "$mean" "$std" "$to_rgb" "$D/$image.f32")
    shape=$(ort "$D/$file.onnx" "$D/$image.f32" "$dims" "$D/$file.$image") ||
      { fail "$name: ONNX Runtime on $file ($image)"; continue; }
    k=$($PY -c 'import json,sys; print(json.loads(sys.argv[1])["shapes"]["logits"][1])' "$shape")
    logits_dims="1,$k,${dims#1,3,}"
    extra=()
    [ "$file" = dynamic ] && extra=("$D/$file.$image.labels.bin" "$D/pred/$image.png")
    out=$($CHECK compare "$D/$file.$image.logits.bin" "$logits_dims" "$D/logits/$image.pt" "${extra[@]}") &&
      results+=" $file($image) ok;" || { fail "$name: $file on $image: $out"; results+=" $file($image) FAILED;"; }
    errors+=("$($PY -c 'import json,sys; print(json.loads(sys.argv[1])["max_rel_err"])' "$out")")
  done
  worst=$(printf '%s\n' "${errors[@]}" | sort -g | tail -1)
  errors=()
  case "$results" in *FAILED*) ;; *)
    ok "$name: ONNX Runtime = ann_test exact on 2 static files and a dynamic one at 3 sizes (largest relative error $worst; argmax agreement >= 99.99%, labels = PNG)" ;;
  esac
done

# The R-50 mmseg file against Python's torch on the same weights.
D="$T/mmseg_r50"
$PY tests/python/ann_reference.py logits --checkpoint "$D/model.pth" --depth 50 --classes 19 \
  --image "$T/images/a.png" --out "$D/torch_a.pt" >/dev/null 2>&1 &&
  out=$($CHECK compare "$D/dynamic.a.logits.bin" "1,19,161,97" "$D/torch_a.pt") &&
  ok "mmseg R-50, dynamic file at 97x161: ONNX Runtime = Python's torch ($out)" ||
  fail "R-50 against torch: $out"

# Metadata: what a deployment needs.
meta=$($CHECK model "$T/mmseg_r50/dynamic.onnx")
$PY -c '
import json, sys
m = json.loads(sys.argv[1])
assert json.loads(m["mean"]) == [123.675, 116.28, 103.53], m["mean"]
assert json.loads(m["std"]) == [58.395, 57.12, 57.375], m["std"]
assert m["channel_order"] == "rgb" and m["ignore_index"] == "255" and m["test_scale"] == "none"
assert json.loads(m["classes"])[0] == "road" and len(json.loads(m["classes"])) == 19
assert json.loads(m["palette"])[0] == [128, 64, 128]
assert m["opset"] >= 13 and m["inputs"] == [["batch", 3, "height", "width"]], m["inputs"]
assert m["outputs"] == ["logits", "labels"]' "$meta" &&
  ok "metadata round-trips: mean, std, channel order, classes, palette, test scale, ignore index; dynamic N, H, W" ||
  fail "metadata: $meta"
meta_orig=$($CHECK model "$T/original_r18/static_a.onnx")
$PY -c '
import json, sys
m = json.loads(sys.argv[1])
assert m["channel_order"] == "bgr" and m["align_corners"] == "true", m
assert m["inputs"] == [[1, 3, 161, 97]] and m["outputs"] == ["logits"], m' "$meta_orig" &&
  ok "the authors' variant: BGR input, align_corners, static 1x3x161x97" || fail "original metadata: $meta_orig"

# A checkpoint of another architecture: one line, exit 1, no file.
"$EXPORT" --config=configs/ann_r50-d8_512x1024_40k_cityscapes.flags \
  --checkpoint="$T/mmseg_r18/model.pth" --out="$T/wrong.onnx" >"$T/wrong.out" 2>"$T/wrong.err"
rc=$?
[ $rc -eq 1 ] && [ "$(grep -c '^error:' "$T/wrong.err")" -eq 1 ] &&
  grep -q "^error: $T/mmseg_r18/model.pth: checkpoint does not match the model" "$T/wrong.err" &&
  [ -z "$(ls "$T" | grep -i 'wrong.*onnx')" ] &&
  ok "a checkpoint that does not match the config: one line, exit 1, no file" ||
  { fail "mismatched checkpoint (exit $rc)"; cat "$T/wrong.err"; }
finish
