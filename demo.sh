#!/bin/bash
# The main job end to end on built-in data: build, make a model checkpoint and an image, and
# run ann_test on it (trainId PNG, colour overlay and logits). Later issues grow this into
# preprocess -> train -> evaluate -> submit on a toy Cityscapes.
set -euo pipefail
cd "$(dirname "$0")"
./setup.sh
OUT=${1:-demo_out}
bazel build //tools:ann_test //tools:ann_init_checkpoint
mkdir -p "$OUT/images"
bazel-bin/tools/ann_init_checkpoint --config=configs/toy.flags --out="$OUT/toy_init.pth" --seed=0
/usr/bin/python3 tests/python/ann_reference.py write_png --height 256 --width 512 --seed 0 \
  --out "$OUT/images/street.png"
bazel-bin/tools/ann_test --config=configs/toy.flags --checkpoint="$OUT/toy_init.pth" \
  --images="$OUT/images" --out_dir="$OUT/pred" --overlay --logits_dir="$OUT/logits"
echo "demo: predictions in $OUT/pred, logits in $OUT/logits"
