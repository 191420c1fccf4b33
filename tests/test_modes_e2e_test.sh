#!/bin/bash
# End to end: ann_test's test-time augmentations against independent Python implementations
# (tests/python/aug_reference.py, with Debian's python3-opencv and python3-torch):
#  - mmseg 0.x --aug_test (ratios of the test scale, flip, softmax averaged) and mmseg 1.x's TTA
#    (ratios of the image itself): Python prepares every single pass's input with cv2 as mmcv
#    does, ann_test predicts each in one plain pass, Python averages; equal to 1e-5 to what
#    ann_test's multi-scale run writes. The image is asymmetric and odd-sized, and its own size is
#    the first pass size (the case that mirrored the caller's image in place).
#  - the authors' mscrop test: Python runs their mscrop_test (as the README describes it) on ann_reference.py's network, on an image
#    that needs several crops at two scales and one whole pass at the third.
set -u
source "${TEST_SRCDIR}/${TEST_WORKSPACE}/tests/lib.sh" modes
ANN_TEST="$ROOT/tools/ann_test"
REF=tests/python/aug_reference.py
mkdir -p "$T/img" "$T/big"
COMMON=(--config=configs/ann_r50-d8_512x1024_40k_cityscapes.flags --depth=18 --threads=2)

$PY tests/python/ann_reference.py make_checkpoint --depth 18 --classes 19 --seed 3 \
  --out "$T/r18.pth" || exit 1
$PY tests/python/ann_reference.py write_png --height 67 --width 93 --seed 4 \
  --out "$T/img/a.png" || exit 1
before=$(md5sum < "$T/img/a.png")

# mmseg 0.x: --aug_test with the test scale 186x134 (ratio 0.5 gives the image's own 93x67).
$PY $REF passes --image "$T/img/a.png" --ratios 0.5,0.75,1.0,1.25,1.5,1.75 --flip \
  --test_scale 186x134 --style mmseg0x --out "$T/p0" || exit 1
check "0.x: single passes" "$ANN_TEST" "${COMMON[@]}" --test_scale=none \
  --checkpoint="$T/r18.pth" --images="$T/p0" --logits_dir="$T/p0_logits"
check "0.x: --aug_test run" "$ANN_TEST" "${COMMON[@]}" --test_scale=186x134 --aug_test \
  --checkpoint="$T/r18.pth" --images="$T/img" --out_dir="$T/aug0" --logits_dir="$T/aug0_logits" \
  --overlay
check "0.x: --aug_test equals the independent average (1e-5)" $PY $REF average \
  --image "$T/img/a.png" --dir "$T/p0" --pass_logits "$T/p0_logits" --style mmseg0x \
  --got "$T/aug0_logits/a.pt" --tolerance 1e-5
check "0.x: the input image is untouched" test "$before" = "$(md5sum < "$T/img/a.png")"

# mmseg 1.x TTA: ratios of the image itself; the test scale plays no part.
$PY $REF passes --image "$T/img/a.png" --ratios 0.5,1.0,1.25 --flip --style mmseg1x \
  --out "$T/p1" || exit 1
check "1.x: single passes" "$ANN_TEST" "${COMMON[@]}" --test_scale=none \
  --checkpoint="$T/r18.pth" --images="$T/p1" --logits_dir="$T/p1_logits"
check "1.x: TTA run" "$ANN_TEST" "${COMMON[@]}" --test_scale=2048x1024 --scales=0.5,1.0,1.25 \
  --flip --aug_style=mmseg1x --checkpoint="$T/r18.pth" --images="$T/img" \
  --logits_dir="$T/aug1_logits"
check "1.x: TTA equals the independent average (1e-5)" $PY $REF average \
  --image "$T/img/a.png" --dir "$T/p1" --pass_logits "$T/p1_logits" --style mmseg1x \
  --got "$T/aug1_logits/a.pt" --tolerance 1e-5

# The authors' mscrop with a 96x96 crop and stride 64 on a 190x100 image: scale 0.75 is one
# whole pass (142x75), 1.0 takes 2x3 crops, 1.25 (237x125) 2x4; unflipped then flipped.
$PY tests/python/ann_reference.py write_png --height 100 --width 190 --seed 5 \
  --out "$T/big/b.png" || exit 1
check "mscrop run" "$ANN_TEST" "${COMMON[@]}" --align_corners=true --test_mode=mscrop \
  --scales=0.75,1.0,1.25 --flip --test_crop=96x96 --test_stride=64x64 \
  --checkpoint="$T/r18.pth" --images="$T/big" --logits_dir="$T/mscrop_logits"
check "mscrop equals the independent implementation (rel 1e-4)" $PY $REF mscrop \
  --checkpoint "$T/r18.pth" --depth 18 --classes 19 --align_corners --image "$T/big/b.png" \
  --scales 0.75,1.0,1.25 --flip --crop 96x96 --stride 64x64 --got "$T/mscrop_logits/b.pt" \
  --tolerance 1e-4

finish
