#!/bin/bash
# Records what a refactor of the inference code must not change (issue 32), with the binaries
# under BIN (a folder holding tools/ann_*), into OUT:
#   - four models with random weights (non-zero attention): mmseg's and the authors' variant at
#     ResNet depths 18 and 50 (OUT/<model>/model.pth, made once and reused by later recordings);
#   - two asymmetric, odd-sized images (97x161, 200x120);
#   - ann_test logits of both images per model in every precision this CPU runs (the refusal's
#     text where it does not);
#   - ann_export files (static 97x161, dynamic with labels) and ONNX Runtime's logits of them;
#   - ann_efficiency's per-module table (json) per model, its block counts and --paper_table;
#   - an int8 calibration file (mmseg R-18) and, where the CPU runs int8, its logits;
#   - a short training run's checkpoint (toy data, 6 iterations).
# Compare two recordings with tests/golden/compare.py OLD NEW.
#   tests/golden/record.sh bazel-bin /tmp/golden_new [/tmp/golden_old for its models]
set -u
BIN=$(cd "$1" && pwd)
OUT=$(mkdir -p "$2" && cd "$2" && pwd)
MODELS_FROM=${3:-$OUT}
cd "$(dirname "$0")/../.." || exit 1
PY=/usr/bin/python3
CHECK="$PY tests/python/onnx_check.py"
export NODE_PATH="${NODE_PATH:-$(npm root -g 2>/dev/null)}"
log() { echo "$(date +%T) $*"; }

mkdir -p "$OUT/images"
$PY -c '
import cv2, numpy as np, sys
for name, (w, h) in {"a": (97, 161), "b": (200, 120)}.items():
    r = np.random.RandomState(len(name) + w)
    y, x = np.mgrid[0:h, 0:w]
    img = (r.randint(0, 256, (h, w, 3)) * 0.5 + np.stack([x * 2, y, x + y], -1) % 256 * 0.5)
    cv2.imwrite(f"{sys.argv[1]}/{name}.png", img.astype(np.uint8))' "$OUT/images"

MODELS=(
  "mmseg_r18|1|--config=configs/toy.flags"
  "mmseg_r50|1|--config=configs/ann_r50-d8_512x1024_40k_cityscapes.flags"
  "original_r18|0.017|--config=configs/toy.flags --variant=original --align_corners=true"
  "original_r50|0.017|--config=configs/ann_original_r101-d8_769x769_60k_cityscapes.flags --depth=50"
)
for entry in "${MODELS[@]}"; do
  IFS='|' read -r name input_scale flags <<<"$entry"
  read -r -a MODEL <<<"$flags"
  FLAGS=("${MODEL[@]}" --threads=2 --test_scale=none)
  D="$OUT/$name"
  mkdir -p "$D"
  if [ ! -s "$MODELS_FROM/$name/model.pth" ]; then
    "$BIN/tools/ann_init_checkpoint" "${MODEL[@]}" --out="$D/init.pth" >/dev/null 2>&1 &&
      $CHECK randomize "$D/init.pth" "$D/model.pth" 7 "$input_scale" && rm "$D/init.pth" ||
      { echo "FAIL: $name: checkpoint"; exit 1; }
  elif [ "$MODELS_FROM" != "$OUT" ]; then
    cp "$MODELS_FROM/$name/model.pth" "$D/model.pth"
  fi
  for precision in exact fp32 bf16; do
    log "$name $precision"
    "$BIN/tools/ann_test" "${FLAGS[@]}" --checkpoint="$D/model.pth" --images="$OUT/images" \
      --logits_dir="$D/logits_$precision" --precision=$precision >"$D/test_$precision.log" 2>&1 ||
      grep "^error" "$D/test_$precision.log" >"$D/refused_$precision.txt"
  done
  log "$name export"
  "$BIN/tools/ann_export" "${FLAGS[@]}" --checkpoint="$D/model.pth" --out="$D/static.onnx" \
    --input=97x161 >"$D/export.log" 2>&1 &&
    "$BIN/tools/ann_export" "${FLAGS[@]}" --checkpoint="$D/model.pth" --out="$D/dynamic.onnx" \
      --dynamic --with_argmax >>"$D/export.log" 2>&1 || { echo "FAIL: $name export"; exit 1; }
  meta=$($CHECK model "$D/dynamic.onnx")
  norm=$($PY -c '
import json, sys
m = json.loads(sys.argv[1])
print(",".join(map(str, json.loads(m["mean"]))), ",".join(map(str, json.loads(m["std"]))),
      "true" if m["channel_order"] == "rgb" else "false")' "$meta")
  read -r mean std to_rgb <<<"$norm"
  for run in "static a" "dynamic a" "dynamic b"; do
    read -r file image <<<"$run"
    dims=$($CHECK input "$OUT/images/$image.png" "$mean" "$std" "$to_rgb" "$D/$image.f32")
    node tests/ort/run_onnx.js "$D/$file.onnx" "$D/$image.f32" "$dims" "$D/ort_$file.$image" 2 \
      >"$D/ort_$file.$image.json" || { echo "FAIL: $name ORT $file $image"; exit 1; }
  done
  rm -f "$D"/*.f32
  log "$name flops"
  "$BIN/tools/ann_efficiency" "${MODEL[@]}" --input=97x161 --json --time=false --memory=false \
    --threads=2 >"$D/flops.json" 2>/dev/null
  "$BIN/tools/ann_efficiency" "${MODEL[@]}" --input=2048x1024 --time=false --memory=false \
    --threads=2 >"$D/flops_2048x1024.txt" 2>/dev/null
done

log "blocks and paper table"
for block in nonlocal apnb afnb; do
  "$BIN/tools/ann_efficiency" --block=$block --shape=1,2048,97,131 --json --time=false \
    --memory=false --threads=2 >"$OUT/block_$block.json" 2>/dev/null
done
"$BIN/tools/ann_efficiency" --paper_table --time=false --memory=false --threads=2 \
  >"$OUT/paper_table.txt" 2>/dev/null

log "calibration"
D="$OUT/mmseg_r18"
"$BIN/tools/ann_test" --config=configs/toy.flags --threads=2 --test_scale=none \
  --checkpoint="$D/model.pth" --images="$OUT/images" --calibrate="$D/calibration.json" \
  >"$D/calibrate.log" 2>&1 || echo "FAIL: calibration"
"$BIN/tools/ann_test" --config=configs/toy.flags --threads=2 --test_scale=none \
  --checkpoint="$D/model.pth" --images="$OUT/images" --precision=int8 \
  --calibration="$D/calibration.json" --logits_dir="$D/logits_int8" >"$D/test_int8.log" 2>&1 ||
  grep "^error" "$D/test_int8.log" >"$D/refused_int8.txt"

log "training"
T="$OUT/train"
rm -rf "$T" && mkdir -p "$T"
"$BIN/tools/ann_preprocess" --dataset=toy_cityscapes --dst="$T/raw" --toy_size=128x64 \
  --toy_splits=6,2,1 --seed=3 >/dev/null 2>&1 &&
  "$BIN/tools/ann_preprocess" --dataset=cityscapes --src="$T/raw" --dst="$T/data" \
    >/dev/null 2>&1 &&
  "$BIN/tools/ann_train" --config=configs/toy.flags --data_root="$T/data" --crop_size=64x64 \
    --img_scale=128x64 --batch_size=2 --max_iters=6 --checkpoint_interval=6 --log_interval=1 \
    --threads=2 --workers=2 --seed=5 --work_dir="$T/work" >"$T/train.log" 2>&1 ||
  echo "FAIL: training"
rm -rf "$T/raw" "$T/data"
log "done"
