#!/bin/bash
# The main job end to end on built-in data, on CPU: generate a toy Cityscapes (raw download
# layout) -> ann_preprocess -> ann_train (toy config) -> ann_eval (per-class IoU table) ->
# ann_test on the test split; then one's own data: a toy folder of photos and RGB colour masks
# -> ann_preprocess --dataset=custom (split, checks, label statistics) -> ann_train fine-tuned
# from the toy Cityscapes model into its 6 classes (best checkpoint kept) -> ann_eval -> ann_test.
# About 6 minutes on 2 cores after the build (Intel Xeon with AMX; val mIoU per CPU: see the README).
set -euo pipefail
cd "$(dirname "$0")"
./setup.sh
OUT=${1:-demo_out}
bazel build //tools:all
BIN=bazel-bin/tools
$BIN/ann_preprocess --dataset=toy_cityscapes --dst="$OUT/toy_raw" --seed=0
$BIN/ann_preprocess --dataset=cityscapes --src="$OUT/toy_raw" --dst="$OUT/toy"
$BIN/ann_train --config=configs/toy.flags --data_root="$OUT/toy" --work_dir="$OUT/work" \
  --eval_interval=100
$BIN/ann_eval --config=configs/toy.flags --checkpoint="$OUT/work/latest.pth" \
  --data_root="$OUT/toy" --split=val --work_dir="$OUT/work"
$BIN/ann_test --config=configs/toy.flags --checkpoint="$OUT/work/latest.pth" \
  --images="$OUT/toy/leftImg8bit/test/tinytown" --out_dir="$OUT/pred" --overlay
# One's own data: configs/_base_/datasets/toy_custom.json describes it.
$BIN/ann_preprocess --dataset=toy_custom --dst="$OUT/custom_raw" --seed=0
$BIN/ann_preprocess --dataset=custom --dataset_file=configs/_base_/datasets/toy_custom.json \
  --src="$OUT/custom_raw" --dst="$OUT/custom"
$BIN/ann_train --config=configs/toy_custom.flags --data_root="$OUT/custom" \
  --work_dir="$OUT/work_custom" --load_from="$OUT/work/latest.pth"
BEST=$(ls "$OUT"/work_custom/best_mIoU_iter_*.pth)
$BIN/ann_eval --config=configs/toy_custom.flags --checkpoint="$BEST" --data_root="$OUT/custom" \
  --split=val --work_dir="$OUT/work_custom"
$BIN/ann_test --config=configs/toy_custom.flags --checkpoint="$BEST" \
  --images="$OUT/custom/images" --out_dir="$OUT/pred_custom" --overlay
echo "demo: checkpoints, train.log.json and loss/lr/miou curves in $OUT/work and" \
  "$OUT/work_custom (label statistics in $OUT/custom/label_stats.json); predictions in" \
  "$OUT/pred and $OUT/pred_custom"
