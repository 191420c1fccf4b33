#!/bin/bash
# Bad input to all seven binaries, as a hostile user gives it. Every case must end with:
#   - exit status 1 (bad files, disk, sizes found while running) or 2 (a bad command line: an
#     unknown flag, a value out of range, a size the flags themselves make impossible);
#   - no signal, no uncaught exception;
#   - exactly one line "error: ..." on stderr, naming the file or flag given as PATTERN;
#   - nothing else on stderr but our own "info:" / "warning:" lines (no libpng, OpenCV, LibTorch
#     or glog noise), and no raw bytes of the bad file;
#   - no file left behind: nothing at all under the case's output folder (LEFT=none), or, where
#     earlier complete outputs may stay (LEFT=complete), no temporary name and no empty file.
# Full-disk cases mount a small tmpfs in a private mount namespace (unshare -m; needs root or
# user namespaces); where that is impossible they are skipped with the reason printed.
# Prints a summary table per binary.
set -u
source "${TEST_SRCDIR}/${TEST_WORKSPACE}/tests/lib.sh" bad_input
FX="$T/fixtures"
mkdir -p "$FX"

# Fixtures: a tiny toy Cityscapes (raw and converted), a real checkpoint, hostile files.
toy_data "$FX/raw" "$FX/toy" 64x32 2,2,2 0
"$BIN/ann_init_checkpoint" --config=configs/toy.flags --out="$FX/init.pth" >/dev/null 2>&1 ||
  { echo "fixture: checkpoint"; exit 1; }
VAL_IMG=$(ls "$FX"/toy/leftImg8bit/val/*/*.png | head -1)
$PY tests/python/bad_inputs.py "$FX/bad" "$FX/init.pth" "$VAL_IMG" || { echo "fixture: bad"; exit 1; }
BAD="$FX/bad"
mkdir -p "$FX/imgs" && cp "$VAL_IMG" "$FX/imgs/a.png"
# a.png's overlay (a_overlay.png) and a_overlay.jpg's label map would be one file.
mkdir -p "$FX/clash" && cp "$VAL_IMG" "$FX/clash/a.png" &&
  $PY -c 'import cv2, sys; cv2.imwrite(sys.argv[2], cv2.imread(sys.argv[1]))' "$VAL_IMG" \
    "$FX/clash/a_overlay.jpg"
echo "plain text" > "$FX/file"
# Predictions for ann_eval --pred_dir / ann_submit: the val split predicted by the checkpoint.
"$BIN/ann_test" --config=configs/toy.flags --checkpoint="$FX/init.pth" --threads=1 \
  --images="$FX/toy/leftImg8bit/val" --out_dir="$FX/pred" >/dev/null 2>&1 ||
  { echo "fixture: pred"; exit 1; }
"$BIN/ann_test" --config=configs/toy.flags --checkpoint="$FX/init.pth" --threads=1 \
  --images="$FX/toy/leftImg8bit/test" --out_dir="$FX/pred_test" --format=cityscapes \
  >/dev/null 2>&1 || { echo "fixture: pred_test"; exit 1; }
# A dataset copy with one broken file each (label, image), and prediction folders with one
# broken prediction each.
broken_copy() {  # broken_copy NAME FILE_GLOB REPLACEMENT
  cp -r "$FX/toy" "$FX/$1"
  local victim
  victim=$(ls "$FX"/$1/$2 | head -1)
  cp "$3" "$victim"
  echo "$victim"
}
BAD_LABEL=$(broken_copy toy_label 'gtFine/val/*/*labelTrainIds.png' "$BAD/cut.png")
BAD_TRAIN_LABEL=$(broken_copy toy_train_label 'gtFine/train/*/*labelTrainIds.png' "$BAD/crc.png")
BAD_TRAIN_IMG=$(broken_copy toy_train_img 'leftImg8bit/train/*/*.png' "$BAD/cut.jpg")
BIG_TRAIN_IMG=$(broken_copy toy_big 'leftImg8bit/train/*/*.png' "$BAD/big.png")
cp -r "$FX/pred" "$FX/pred_k"
PRED_K=$(ls "$FX"/pred_k/*.png | head -1)
cp "$BAD/labels_k.png" "$PRED_K"
cp -r "$FX/pred" "$FX/pred_missing" && rm "$(ls "$FX"/pred_missing/*.png | head -1)"
cp -r "$FX/pred" "$FX/pred_size"
PRED_SIZE=$(ls "$FX"/pred_size/*.png | head -1)
$PY -c 'import cv2, numpy, sys; cv2.imwrite(sys.argv[1], numpy.zeros((7, 9), numpy.uint8))' \
  "$PRED_SIZE"
cp -r "$FX/pred_test" "$FX/pred_test_size"
PRED_TEST_SIZE=$(find "$FX/pred_test_size" -name '*.png' | sort | head -1)
$PY -c 'import cv2, numpy, sys; cv2.imwrite(sys.argv[1], numpy.zeros((7, 9), numpy.uint8))' \
  "$PRED_TEST_SIZE"
mkdir -p "$FX/noimgs"
cp -r "$FX/raw" "$FX/raw_cutjpg"
RAW_VICTIM=$(ls "$FX"/raw_cutjpg/leftImg8bit/train/*/*.png | head -1)
cp "$BAD/cut.jpg" "$RAW_VICTIM"
cp -r "$FX/raw" "$FX/raw_big"
RAW_BIG=$(ls "$FX"/raw_big/leftImg8bit/val/*/*.png | head -1)
cp "$BAD/big.png" "$RAW_BIG"
# Own datasets: two images with masks (classes a, b, c), one with an empty train list, one whose
# masks hold 1..3 with 255 borders (reduce_zero_label forgotten); a raw Cityscapes whose train
# image folder is a file. A JPEG and a PNG named as videos, and a short video.
$PY - "$FX" "$VAL_IMG" <<'PYEOF' || { echo "fixture: own data"; exit 1; }
import cv2, json, numpy as np, os, sys
fx, img = sys.argv[1], cv2.imread(sys.argv[2])
for name in ("own", "own_empty", "own_1k"):
    os.makedirs(f"{fx}/{name}/images", exist_ok=True)
    os.makedirs(f"{fx}/{name}/masks", exist_ok=True)
    for k, stem in enumerate(("a", "b")):
        cv2.imwrite(f"{fx}/{name}/images/{stem}.png", img)
        m = (np.arange(img.shape[1])[None, :] * 3 // img.shape[1]).repeat(img.shape[0], 0)
        if name == "own_1k":
            m = m + 1
            m[0, :] = 255
        cv2.imwrite(f"{fx}/{name}/masks/{stem}.png", m.astype(np.uint8))
    d = {"classes": ["a", "b", "c"], "img_dir": "images", "ann_dir": "masks",
         "img_suffix": ".png", "train": {"split": "train.txt"}, "val": {"split": "val.txt"}}
    json.dump(d, open(f"{fx}/{name}/data.json", "w"))
    open(f"{fx}/{name}/train.txt", "w").write("" if name == "own_empty" else "a\n")
    open(f"{fx}/{name}/val.txt", "w").write("b\n")
cv2.imwrite(f"{fx}/photo.jpg", img)
os.rename(f"{fx}/photo.jpg", f"{fx}/photo.mp4")
cv2.imwrite(f"{fx}/photo.png", img)
os.rename(f"{fx}/photo.png", f"{fx}/photo.avi")
w = cv2.VideoWriter(f"{fx}/clip.avi", cv2.VideoWriter_fourcc(*"MJPG"), 5, img.shape[1::-1])
for i in range(3):
    w.write(np.roll(img, 7 * i, axis=1))
w.release()
PYEOF
"$BIN/ann_test" --config=configs/toy.flags --checkpoint="$FX/init.pth" --threads=1 \
  --images="$FX/imgs" --calibrate="$FX/cal.json" >/dev/null 2>&1 || { echo "fixture: calibration"; exit 1; }
cp -r "$FX/raw" "$FX/raw_file" && rm -r "$FX/raw_file/leftImg8bit/train" &&
  echo "not a folder" > "$FX/raw_file/leftImg8bit/train"
printf -- '--depth=18\nnum_classes=7\n--num_classes=19\n' > "$FX/stray.flags"
printf -- '--depth=50\n--lr=0.02\n--dataset_file=nosuch.json\n--dataset=custom\n' > "$FX/own.flags"
mkdir -p "$FX/home"
# 16 bytes flipped inside one tensor's zip record (Python's zipfile.testzip() names it; torch.load
# does not notice).
FLIPPED_TENSOR="$FX/flipped_tensor.pth"
flip_out=$($PY tests/python/checkpoint_tool.py flip "$FX/init.pth" "$FLIPPED_TENSOR" data/50)
[ "$flip_out" = "archive/data/50 testzip=archive/data/50 torch.load loads it" ] ||
  { echo "fixture: flipped checkpoint: $flip_out"; exit 1; }

can_mount=1
mount_reason=""
mkdir -p "$T/probe"
if ! unshare -m bash -c "mount -t tmpfs -o size=64k tmpfs '$T/probe'" 2>/dev/null; then
  can_mount=0
  mount_reason="cannot mount a tmpfs here (unshare -m needs root or user namespaces)"
fi

declare -A tried clean skipped
results=()
NOISE='libpng|\[ *WARN|\[ *ERROR|terminate called|what\(\)|Exception|enforce fail|Segmentation|Aborted|core dumped|Traceback|^W[0-9]{4}|^E[0-9]{4}|^F[0-9]{4}|Premature end|Corrupt JPEG'

# case ID BINARY RC PATTERN [MODE] -- ARGS...
#   MODE: none | complete | tmpfs=SIZE (a small disk) | full (a disk with no space left) | rofs
# ARGS may use @OUT, replaced by the case's output folder.
n=0
case_() {
  local id=$1 bin=$2 want_rc=$3 pattern=$4
  pattern=${pattern//@OUT/$T/case_$((n + 1))/out}
  shift 4
  local mode=none
  while [ "$1" != "--" ]; do mode=$1; shift; done
  shift
  n=$((n + 1))
  local C="$T/case_$n"
  local out="$C/out"
  mkdir -p "$out"
  local args=()
  for a in "$@"; do args+=("${a//@OUT/$out}"); done
  tried[$bin]=$(( ${tried[$bin]:-0} + 1 ))
  local rc problems=""
  case $mode in
    tmpfs=*|full|rofs)
      if [ $can_mount -eq 0 ]; then
        skipped[$bin]=$(( ${skipped[$bin]:-0} + 1 ))
        echo "skip: $id: $mount_reason"
        results+=("$bin|$id|skipped")
        return
      fi
      local opts="size=${mode#tmpfs=}"
      [ "$mode" = rofs ] && opts="size=64k,ro"
      [ "$mode" = full ] && opts="size=64k"
      # The binary runs inside the namespace; what it leaves is listed before the mount goes.
      unshare -m bash -c 'mount -t tmpfs -o "$1" tmpfs "$2" || exit 99; out=$2 listing=$3
        [ "$4" = full ] && cat /dev/zero > "$out/.filler" 2>/dev/null
        shift 4; "$@" > "$out/../stdout" 2> "$out/../stderr"; rc=$?
        find "$out" -mindepth 1 -type f ! -name .filler -printf "%P %s\n" > "$listing"
        exit $rc' _ "$opts" "$out" "$C/left" "$mode" "$BIN/$bin" "${args[@]}"
      rc=$?
      ;;
    *)
      "$BIN/$bin" "${args[@]}" > "$C/stdout" 2> "$C/stderr"
      rc=$?
      find "$out" -mindepth 1 -type f -printf "%P %s\n" > "$C/left"
      ;;
  esac
  local errors
  errors=$(grep -c '^error: ' "$C/stderr")
  [ "$rc" -eq "$want_rc" ] || problems+=" exit $rc (want $want_rc);"
  [ "$rc" -lt 128 ] || problems+=" signal $((rc - 128));"
  [ "$errors" -eq 1 ] || problems+=" $errors error lines;"
  grep '^error: ' "$C/stderr" | grep -qF -- "$pattern" || problems+=" error does not name '$pattern';"
  # Our lines: error / warning / info, and progress ("<what> n/N (p%) rate ETA").
  if grep -Ev '^(error|warning|info): |^[a-z_]+ [0-9]+/[0-9]+ \(' "$C/stderr" | grep -q . ||
     grep -Eq "$NOISE" "$C/stderr" "$C/stdout"; then
    problems+=" noise;"
  fi
  if LC_ALL=C grep -q '[^[:print:][:space:]]' "$C/stderr"; then problems+=" raw bytes;"; fi
  case $mode in
    complete|tmpfs=*|full|rofs)
      if grep -Eq '(\.tmp|tmp[0-9])|^\S+ 0$' "$C/left"; then problems+=" left: $(tr '\n' ' ' < "$C/left");"; fi
      ;;
    *)
      if [ -s "$C/left" ]; then problems+=" left: $(tr '\n' ' ' < "$C/left" | cut -c1-200);"; fi
      ;;
  esac
  if [ -e "$BAD/PWNED" ]; then problems+=" the pickle ran code;"; fi
  if [ -z "$problems" ]; then
    clean[$bin]=$(( ${clean[$bin]:-0} + 1 ))
    echo "ok: $bin: $id: $(grep '^error: ' "$C/stderr" | cut -c1-160)"
    results+=("$bin|$id|clean")
  else
    echo "FAIL: $bin: $id:$problems"
    sed 's/^/    | /' "$C/stderr" | head -8
    fails=$((fails + 1))
    results+=("$bin|$id|NOT CLEAN")
  fi
}

TOY=(--config=configs/toy.flags --threads=1)
CK="--checkpoint=$FX/init.pth"

# ---- ann_preprocess
P=ann_preprocess
case_ "no --dataset" $P 2 "--dataset" -- --dst=@OUT/x
case_ "unknown dataset" $P 2 "--dataset" -- --dataset=kitti --src="$FX/raw" --dst=@OUT/x
case_ "missing --src" $P 1 "$T/nowhere" -- --dataset=cityscapes --src="$T/nowhere" --dst=@OUT/x
case_ "--dst is a file" $P 1 "$FX/file" -- --dataset=cityscapes --src="$FX/raw" --dst="$FX/file"
case_ "--dst read-only" $P 1 "@OUT" rofs -- --dataset=cityscapes --src="$FX/raw" --dst=@OUT
case_ "--dst full" $P 1 "@OUT" tmpfs=40k -- --dataset=cityscapes --src="$FX/raw" --dst=@OUT
case_ "toy to a full disk" $P 1 "@OUT" tmpfs=40k -- --dataset=toy_cityscapes --dst=@OUT
case_ "--toy_size huge" $P 2 "--toy_size" -- --dataset=toy_cityscapes --dst=@OUT/x --toy_size=100000x100000
case_ "--toy_size zero" $P 2 "--toy_size" -- --dataset=toy_cityscapes --dst=@OUT/x --toy_size=0x5
case_ "--toy_splits negative" $P 2 "--toy_splits" -- --dataset=toy_cityscapes --dst=@OUT/x --toy_splits=-1,2,3
case_ "--workers negative" $P 2 "--workers" -- --dataset=cityscapes --src="$FX/raw" --dst=@OUT/x --workers=-3
case_ "--seed not a number" $P 2 "--seed" -- --dataset=toy_cityscapes --dst=@OUT/x --seed=abc
case_ "truncated JPEG in the raw images" $P 1 "$RAW_VICTIM" complete -- --dataset=cityscapes --src="$FX/raw_cutjpg" --dst=@OUT
case_ "30000x30000 PNG in the raw images" $P 1 "$RAW_BIG" complete -- --dataset=cityscapes --src="$FX/raw_big" --dst=@OUT
case_ "empty raw folder" $P 1 "$FX/noimgs" -- --dataset=cityscapes --src="$FX/noimgs" --dst=@OUT/x
case_ "--val_ratio=nan" $P 2 "--val_ratio: must be in (0, 1)" -- --dataset=custom --dataset_file=configs/_base_/datasets/toy_custom.json --src="$FX/raw" --dst=@OUT/x --val_ratio=nan
case_ "custom: --dst is --src" $P 2 "--dst: the same folder as --src" -- --dataset=custom --dataset_file="$FX/own/data.json" --src="$FX/own" --dst="$FX/own"
case_ "custom: an empty split list" $P 1 "$FX/own_empty/train.txt: the split list of 'train' is empty" -- --dataset=custom --dataset_file="$FX/own_empty/data.json" --src="$FX/own_empty" --dst=@OUT/x
case_ "custom: masks 1..K with 255 borders" $P 1 "values run up to 3: set reduce_zero_label if 0 means 'no class'" -- --dataset=custom --dataset_file="$FX/own_1k/data.json" --src="$FX/own_1k" --dst=@OUT/x
case_ "cityscapes: an image folder that is a file" $P 1 "$FX/raw_file/leftImg8bit/train: not a folder" -- --dataset=cityscapes --src="$FX/raw_file" --dst=@OUT/x
case_ "a stray argument" $P 2 "stray: unexpected argument" -- --dataset=toy_cityscapes --dst=@OUT/x stray
case_ "--dataset_file not found beside the config" $P 2 "$FX/own.flags:3: --dataset_file: nosuch.json: no such file (looked beside the config, in $FX, and in the current folder" -- --config="$FX/own.flags" --src="$FX/raw" --dst=@OUT/x

# ---- ann_train
R=ann_train
real_home=$HOME
export HOME="$FX/home"
case_ "--config=~/... with HOME elsewhere: expanded, then not found" $R 2 "--config: $FX/home/none.flags: no such file" -- --config=~/none.flags --data_root="$FX/toy" --work_dir=@OUT/w
export HOME=$real_home
case_ "missing --data_root" $R 1 "$T/nowhere" -- "${TOY[@]}" --data_root="$T/nowhere" --work_dir=@OUT/w
case_ "--work_dir is a file" $R 1 "$FX/file" -- "${TOY[@]}" --data_root="$FX/toy" --work_dir="$FX/file"
case_ "no --work_dir" $R 2 "--work_dir" -- "${TOY[@]}" --data_root="$FX/toy"
case_ "--lr negative" $R 2 "--lr" -- "${TOY[@]}" --data_root="$FX/toy" --work_dir=@OUT/w --lr=-1
case_ "--max_iters zero" $R 2 "--max_iters" -- "${TOY[@]}" --data_root="$FX/toy" --work_dir=@OUT/w --max_iters=0
case_ "--batch_size zero" $R 2 "--batch_size" -- "${TOY[@]}" --data_root="$FX/toy" --work_dir=@OUT/w --batch_size=0
case_ "--ratio_range tiny" $R 2 "--ratio_range" -- "${TOY[@]}" --data_root="$FX/toy" --work_dir=@OUT/w --ratio_range=1e-6,1e-6
case_ "--img_scale and --crop_size 1x1" $R 2 "--crop_size" -- "${TOY[@]}" --data_root="$FX/toy" --work_dir=@OUT/w --img_scale=1x1 --crop_size=1x1
case_ "--crop_size huge" $R 2 "--crop_size" -- "${TOY[@]}" --data_root="$FX/toy" --work_dir=@OUT/w --crop_size=100000x100000
case_ "--ratio_range reversed" $R 2 "--ratio_range" -- "${TOY[@]}" --data_root="$FX/toy" --work_dir=@OUT/w --ratio_range=2,1
case_ "--load_from missing" $R 1 "$T/none.pth" -- "${TOY[@]}" --data_root="$FX/toy" --work_dir=@OUT/w --load_from="$T/none.pth"
case_ "--load_from random bytes" $R 1 "$BAD/random.pth" -- "${TOY[@]}" --data_root="$FX/toy" --work_dir=@OUT/w --load_from="$BAD/random.pth"
case_ "--backbone_init text" $R 1 "$FX/file" -- "${TOY[@]}" --data_root="$FX/toy" --work_dir=@OUT/w --backbone_init="$FX/file"
case_ "--nproc zero" $R 2 "--nproc" -- "${TOY[@]}" --data_root="$FX/toy" --work_dir=@OUT/w --nproc=0
case_ "--world_size zero" $R 2 "--world_size" -- "${TOY[@]}" --data_root="$FX/toy" --work_dir=@OUT/w --world_size=0
case_ "--threads negative" $R 2 "--threads" -- --config=configs/toy.flags --threads=-5 --data_root="$FX/toy" --work_dir=@OUT/w
case_ "--config missing" $R 2 "$T/none.flags" -- --config="$T/none.flags" --data_root="$FX/toy" --work_dir=@OUT/w
case_ "--config stray line" $R 2 "$FX/stray.flags:2" -- --config="$FX/stray.flags" --data_root="$FX/toy" --work_dir=@OUT/w
case_ "--train_split unknown" $R 2 "--train_split: unknown split 'nosuch'" -- "${TOY[@]}" --data_root="$FX/toy" --work_dir=@OUT/w --train_split=nosuch
case_ "--val_split unknown" $R 2 "--val_split: unknown split 'nosuch'" -- "${TOY[@]}" --data_root="$FX/toy" --work_dir=@OUT/w --val_split=nosuch
case_ "--load_from with a flipped tensor" $R 1 "$FLIPPED_TENSOR: record archive/data/50 is corrupt (CRC mismatch)" -- "${TOY[@]}" --data_root="$FX/toy" --work_dir=@OUT/w --load_from="$FLIPPED_TENSOR"
case_ "corrupt label PNG" $R 1 "$BAD_TRAIN_LABEL" complete -- "${TOY[@]}" --data_root="$FX/toy_train_label" --work_dir=@OUT/w --max_iters=2 --batch_size=2
case_ "truncated JPEG image" $R 1 "$BAD_TRAIN_IMG" complete -- "${TOY[@]}" --data_root="$FX/toy_train_img" --work_dir=@OUT/w --max_iters=2 --batch_size=2
case_ "30000x30000 image" $R 1 "$BIG_TRAIN_IMG" complete -- "${TOY[@]}" --data_root="$FX/toy_big" --work_dir=@OUT/w --max_iters=2 --batch_size=2
case_ "checkpoint to a full disk" $R 1 "@OUT" tmpfs=2m -- "${TOY[@]}" --data_root="$FX/toy" --work_dir=@OUT --max_iters=1 --batch_size=1 --checkpoint_interval=1 --img_scale=64x32 --crop_size=32x32

# ---- ann_eval
E=ann_eval
case_ "--checkpoint missing" $E 1 "$T/none.pth" -- "${TOY[@]}" --checkpoint="$T/none.pth" --data_root="$FX/toy"
case_ "neither --checkpoint nor --pred_dir" $E 2 "--checkpoint" -- "${TOY[@]}" --data_root="$FX/toy"
case_ "both --checkpoint and --pred_dir" $E 2 "--pred_dir" -- "${TOY[@]}" "$CK" --pred_dir="$FX/pred" --data_root="$FX/toy"
case_ "class id >= K in --pred_dir" $E 1 "$PRED_K" -- "${TOY[@]}" --pred_dir="$FX/pred_k" --data_root="$FX/toy"
case_ "prediction missing" $E 1 "$FX/pred_missing" -- "${TOY[@]}" --pred_dir="$FX/pred_missing" --data_root="$FX/toy"
case_ "prediction of another size" $E 1 "$PRED_SIZE" -- "${TOY[@]}" --pred_dir="$FX/pred_size" --data_root="$FX/toy"
case_ "--split unknown" $E 2 "--split: unknown split 'nosuch'" -- "${TOY[@]}" "$CK" --data_root="$FX/toy" --split=nosuch
case_ "flipped bytes in a tensor record" $E 1 "$FLIPPED_TENSOR: record archive/data/50 is corrupt (CRC mismatch)" -- "${TOY[@]}" --checkpoint="$FLIPPED_TENSOR" --data_root="$FX/toy"
case_ "--show_dir is an image folder" $E 2 "--show_dir: $(dirname "$VAL_IMG") holds the input" -- "${TOY[@]}" "$CK" --data_root="$FX/toy" --show_dir="$(dirname "$VAL_IMG")"
case_ "--data_root missing" $E 1 "$T/nowhere" -- "${TOY[@]}" "$CK" --data_root="$T/nowhere"
case_ "--test_scale huge" $E 2 "--test_scale" -- "${TOY[@]}" "$CK" --data_root="$FX/toy" --test_scale=100000x100000
case_ "--test_scale 65536x65536" $E 2 "--test_scale" -- "${TOY[@]}" "$CK" --data_root="$FX/toy" --test_scale=65536x65536
case_ "--scales=0.001" $E 2 "--scales" -- "${TOY[@]}" "$CK" --data_root="$FX/toy" --scales=0.001
case_ "--scales=inf" $E 2 "--scales" -- "${TOY[@]}" "$CK" --data_root="$FX/toy" --scales=inf
case_ "--scales=nan" $E 2 "--scales" -- "${TOY[@]}" "$CK" --data_root="$FX/toy" --scales=nan
case_ "--test_crop zero" $E 2 "--test_crop" -- "${TOY[@]}" "$CK" --data_root="$FX/toy" --test_mode=slide --test_crop=0x0
case_ "--work_dir is a file" $E 1 "$FX/file" -- "${TOY[@]}" "$CK" --data_root="$FX/toy" --work_dir="$FX/file"
case_ "--dynamic with --input" ann_export 2 "--input: a --dynamic file takes any size" -- "${TOY[@]}" "$CK" --out=@OUT/m.onnx --dynamic --input=64x64
case_ "ann_export --precision=bf16" ann_export 2 "--precision:" -- "${TOY[@]}" "$CK" --out=@OUT/m.onnx --precision=bf16
case_ "ann_export int8 without --calibration" ann_export 2 "--calibration: --precision=int8 needs a calibration" -- "${TOY[@]}" "$CK" --out=@OUT/m.onnx --precision=int8
case_ "ann_export int8 with a head that cannot be fused" ann_export 2 "--project_channels: int8 needs it below --channels" -- "${TOY[@]}" "$CK" --out=@OUT/m.onnx --precision=int8 --calibration="$FX/cal.json" --project_channels=128 --channels=128
case_ "truncated label PNG" $E 1 "$BAD_LABEL" -- "${TOY[@]}" "$CK" --data_root="$FX/toy_label" --work_dir=@OUT/e
case_ "flipped bytes in data.pkl" $E 1 "$BAD/flipped.pth" -- "${TOY[@]}" --checkpoint="$BAD/flipped.pth" --data_root="$FX/toy"
case_ "metrics to a full disk" $E 1 "@OUT" tmpfs=8k -- "${TOY[@]}" "$CK" --data_root="$FX/toy" --work_dir=@OUT

# ---- ann_test
X=ann_test
case_ "--images missing" $X 1 "$T/nowhere" -- "${TOY[@]}" "$CK" --images="$T/nowhere" --out_dir=@OUT/p
case_ "--images without images" $X 1 "$FX/noimgs" -- "${TOY[@]}" "$CK" --images="$FX/noimgs" --out_dir=@OUT/p
case_ "truncated JPEG" $X 1 "$BAD/cut.jpg" -- "${TOY[@]}" "$CK" --images="$BAD/cut.jpg" --out_dir=@OUT/p
case_ "truncated PNG" $X 1 "$BAD/cut.png" -- "${TOY[@]}" "$CK" --images="$BAD/cut.png" --out_dir=@OUT/p
case_ "PNG with a CRC error" $X 1 "$BAD/crc.png" -- "${TOY[@]}" "$CK" --images="$BAD/crc.png" --out_dir=@OUT/p
case_ "empty image file" $X 1 "$BAD/empty.png" -- "${TOY[@]}" "$CK" --images="$BAD/empty.png" --out_dir=@OUT/p
case_ "text as an image" $X 1 "$BAD/text.png" -- "${TOY[@]}" "$CK" --images="$BAD/text.png" --out_dir=@OUT/p
case_ "30000x30000 PNG" $X 1 "$BAD/big.png" -- "${TOY[@]}" "$CK" --images="$BAD/big.png" --out_dir=@OUT/p
case_ "--out_dir is a file" $X 1 "$FX/file" -- "${TOY[@]}" "$CK" --images="$FX/imgs" --out_dir="$FX/file"
case_ "predictions to a full disk" $X 1 "@OUT" tmpfs=4k -- "${TOY[@]}" "$CK" --images="$FX/toy/leftImg8bit/val" --out_dir=@OUT --overlay
case_ "logits to a full disk" $X 1 "@OUT" tmpfs=64k -- "${TOY[@]}" "$CK" --images="$FX/imgs" --logits_dir=@OUT
case_ "--format unknown" $X 2 "--format" -- "${TOY[@]}" "$CK" --images="$FX/imgs" --out_dir=@OUT/p --format=jpeg
case_ "legacy checkpoint cut short" $X 1 "$BAD/legacy_cut.pth" -- "${TOY[@]}" --checkpoint="$BAD/legacy_cut.pth" --images="$FX/imgs" --out_dir=@OUT/p
case_ "pickle nested 300000 deep" $X 1 "$BAD/deep.pth" -- "${TOY[@]}" --checkpoint="$BAD/deep.pth" --images="$FX/imgs" --out_dir=@OUT/p
case_ "pickle calling os.system" $X 1 "$BAD/evil.pth" -- "${TOY[@]}" --checkpoint="$BAD/evil.pth" --images="$FX/imgs" --out_dir=@OUT/p
case_ "tensor larger than its storage" $X 1 "$BAD/short.pth" -- "${TOY[@]}" --checkpoint="$BAD/short.pth" --images="$FX/imgs" --out_dir=@OUT/p
case_ "random bytes as checkpoint" $X 1 "$BAD/random.pth" -- "${TOY[@]}" --checkpoint="$BAD/random.pth" --images="$FX/imgs" --out_dir=@OUT/p
case_ "--test_crop huge" $X 2 "--test_crop" -- "${TOY[@]}" "$CK" --images="$FX/imgs" --out_dir=@OUT/p --test_mode=slide --test_crop=100000x100000
case_ "--test_crop too large for memory" $X 2 "--test_crop" -- "${TOY[@]}" "$CK" --images="$FX/imgs" --out_dir=@OUT/p --test_mode=slide --test_crop=16384x16384
case_ "--test_scale too large for memory" $X 2 "--test_scale" -- "${TOY[@]}" "$CK" --images="$FX/imgs" --out_dir=@OUT/p --test_scale=16000x16000
case_ "image x --scales under a pixel" $X 1 "$FX/imgs/a.png" -- "${TOY[@]}" "$CK" --images="$FX/imgs" --out_dir=@OUT/p --test_scale=8x8 --scales=0.0625,1
case_ "--test_stride zero" $X 2 "--test_stride" -- "${TOY[@]}" "$CK" --images="$FX/imgs" --out_dir=@OUT/p --test_mode=slide --test_stride=0x0
case_ "--scales=0.001" $X 2 "--scales" -- "${TOY[@]}" "$CK" --images="$FX/imgs" --out_dir=@OUT/p --scales=0.001
case_ "--threads negative" $X 2 "--threads" -- --config=configs/toy.flags "$CK" --images="$FX/imgs" --out_dir=@OUT/p --threads=-5
case_ "no output asked" $X 2 "--out_dir" -- "${TOY[@]}" "$CK" --images="$FX/imgs"
case_ "flipped bytes in a tensor record" $X 1 "$FLIPPED_TENSOR: record archive/data/50 is corrupt (CRC mismatch)" -- "${TOY[@]}" --checkpoint="$FLIPPED_TENSOR" --images="$FX/imgs" --out_dir=@OUT/p
case_ "--out_dir is the image folder" $X 2 "--out_dir: $FX/imgs/ holds the input $FX/imgs/a.png" -- "${TOY[@]}" "$CK" --images="$FX/imgs" --out_dir="$FX/imgs/"
case_ "--logits_dir is the image folder (glob)" $X 2 "--logits_dir: $FX/imgs holds the input" -- "${TOY[@]}" "$CK" --images="$FX/imgs/*.png" --logits_dir="$FX/imgs"
case_ "two images would write one file" $X 1 "$FX/clash/a.png and $FX/clash/a_overlay.jpg would both be written as @OUT/p/a_overlay.png" -- "${TOY[@]}" "$CK" --images="$FX/clash" --out_dir=@OUT/p --overlay
case_ "--max_frames negative" $X 2 "--max_frames: must be >= 0" -- "${TOY[@]}" "$CK" --video="$FX/clip.avi" --out_dir=@OUT/p --max_frames=-1
case_ "--max_frames without a video" $X 2 "--max_frames: only with --video or --camera" -- "${TOY[@]}" "$CK" --images="$FX/imgs" --out_dir=@OUT/p --max_frames=3
case_ "--frame_labels without a video" $X 2 "--frame_labels: only with --video or --camera" -- "${TOY[@]}" "$CK" --images="$FX/imgs" --out_dir=@OUT/p --frame_labels
case_ "--logits_dir with a video" $X 2 "--logits_dir: only with --images" -- "${TOY[@]}" "$CK" --video="$FX/clip.avi" --out_dir=@OUT/p --logits_dir=@OUT/l
case_ "--video and --camera" $X 2 "--images: give one of --images, --video and --camera" -- "${TOY[@]}" "$CK" --video="$FX/clip.avi" --camera=0 --out_dir=@OUT/p
case_ "a JPEG named .mp4" $X 1 "$FX/photo.mp4: a JPEG image, not a video (give images with --images)" -- "${TOY[@]}" "$CK" --video="$FX/photo.mp4" --out_dir=@OUT/p
case_ "a PNG named .avi" $X 1 "$FX/photo.avi: a PNG image, not a video" -- "${TOY[@]}" "$CK" --video="$FX/photo.avi" --out_dir=@OUT/p
case_ "int8 with a head that cannot be fused" $X 2 "--project_channels: int8 needs it below --channels" -- "${TOY[@]}" "$CK" --images="$FX/imgs" --out_dir=@OUT/p --precision=int8 --calibration="$FX/cal.json" --project_channels=128 --channels=128

# ---- ann_efficiency
F=ann_efficiency
case_ "non-local block too big" $F 2 "--shape" -- --block=nonlocal --shape=1,2048,300,300 --runs=1 --warmup=0
case_ "--input huge" $F 2 "--input" -- "${TOY[@]}" --input=100000x100000 --runs=1 --warmup=0
case_ "--shape three numbers" $F 2 "--shape" -- --block=apnb --shape=1,2,3
case_ "--shape negative" $F 2 "--shape" -- --block=apnb --shape=1,-2,3,4
case_ "--block unknown" $F 2 "--block" -- --block=psp --shape=1,64,8,8
case_ "--runs zero" $F 2 "--runs" -- --block=apnb --shape=1,64,8,8 --runs=0
case_ "--input not a size" $F 2 "--input" -- "${TOY[@]}" --input=abc
case_ "nothing to measure" $F 2 "--block" --

# ---- ann_submit
S=ann_submit
case_ "--pred_dir missing" $S 1 "$T/nowhere" -- --data_root="$FX/toy" --pred_dir="$T/nowhere" --out=@OUT/s.zip
case_ "predictions missing for the test split" $S 1 "$FX/noimgs" -- --data_root="$FX/toy" --pred_dir="$FX/noimgs" --out=@OUT/s.zip
case_ "--out under a file" $S 1 "$FX/file" -- --data_root="$FX/toy" --pred_dir="$FX/pred_test" --out="$FX/file/s.zip"
case_ "zip to a full disk" $S 1 "@OUT" full -- --data_root="$FX/toy" --pred_dir="$FX/pred_test" --out=@OUT/s.zip
case_ "--pred_ids unknown" $S 2 "--pred_ids" -- --data_root="$FX/toy" --pred_dir="$FX/pred_test" --out=@OUT/s.zip --pred_ids=color
case_ "no --out" $S 2 "--out" -- --data_root="$FX/toy" --pred_dir="$FX/pred_test"
case_ "prediction of another size" $S 1 "$PRED_TEST_SIZE" -- --data_root="$FX/toy" --pred_dir="$FX/pred_test_size" --out=@OUT/s.zip

# ---- ann_init_checkpoint
I=ann_init_checkpoint
TOY=(--config=configs/toy.flags)
case_ "no --out" $I 2 "--out" -- "${TOY[@]}"
case_ "to a full disk" $I 1 "@OUT" tmpfs=1m -- "${TOY[@]}" --out=@OUT/init.pth
case_ "--out under a file" $I 1 "$FX/file" -- --config=configs/toy.flags --out="$FX/file/init.pth"
case_ "--depth 42" $I 2 "--depth" -- "${TOY[@]}" --out=@OUT/init.pth --depth=42
case_ "--num_classes zero" $I 2 "--num_classes" -- "${TOY[@]}" --out=@OUT/init.pth --num_classes=0
case_ "--pool_scales zero" $I 2 "--pool_scales" -- "${TOY[@]}" --out=@OUT/init.pth --pool_scales=0
case_ "--mean two numbers" $I 2 "--mean" -- "${TOY[@]}" --out=@OUT/init.pth --mean=1,2
case_ "--threads negative" $I 2 "--threads" -- "${TOY[@]}" --out=@OUT/init.pth --threads=-2

# ---- Outputs that must not collide or be read back, and stops and resumes: behaviour.
# Two images with one stem (y.jpg 200x100, y.png 97x61): both predicted, kept apart by their
# extensions (y_jpg.png, y_png.png), each of its image's size.
mkdir -p "$T/stem"
$PY -c '
import cv2, numpy as np, sys
r = np.random.RandomState(5)
cv2.imwrite(sys.argv[1] + "/y.jpg", r.randint(0, 256, (100, 200, 3), np.uint8))
cv2.imwrite(sys.argv[1] + "/y.png", r.randint(0, 256, (61, 97, 3), np.uint8))' "$T/stem"
"$BIN/ann_test" --config=configs/toy.flags "$CK" --threads=1 --images="$T/stem" \
  --out_dir="$T/stem_out" --logits_dir="$T/stem_out" >/dev/null 2>&1
sizes=$($PY -c '
import cv2, sys, torch
d = sys.argv[1]
print(*[cv2.imread(f"{d}/{n}.png", cv2.IMREAD_UNCHANGED).shape for n in ("y_jpg", "y_png")],
      *[tuple(torch.load(f"{d}/{n}.pt").shape) for n in ("y_jpg", "y_png")])' "$T/stem_out" 2>&1)
[ "$sizes" = "(100, 200) (61, 97) (19, 100, 200) (19, 61, 97)" ] &&
  ok "same stem, two extensions: y_jpg.png and y_png.png (and .pt), each its own size" ||
  fail "same-stem images: $sizes"
# --out_dir inside the image folder: a second run predicts the same images, not its outputs.
mkdir -p "$T/nest" && cp "$FX"/toy/leftImg8bit/val/*/*.png "$T/nest/"
for run in 1 2; do
  "$BIN/ann_test" --config=configs/toy.flags "$CK" --threads=1 --images="$T/nest" \
    --out_dir="$T/nest/pred" --overlay >"$T/nest.$run.log" 2>&1
done
n_in=$(ls "$T"/nest/*.png | wc -l)
n_out=$(ls "$T"/nest/pred | wc -l)
[ "$n_out" -eq $((2 * n_in)) ] && ! ls "$T/nest/pred" | grep -q overlay_overlay &&
  ok "--out_dir inside the images: left out of the scan ($n_in images, $n_out outputs after 2 runs)" ||
  fail "--out_dir inside the images: $n_out outputs for $n_in images"
# ann_preprocess --dst inside the scanned image folder of one's own data: a second run converts
# the same images (its outputs are not taken for images without masks).
mkdir -p "$T/ownscan" && cp -r "$FX/own/images" "$FX/own/masks" "$FX/own/data.json" "$T/ownscan/"
for run in 1 2; do
  "$BIN/ann_preprocess" --dataset=custom --dataset_file="$T/ownscan/data.json" \
    --src="$T/ownscan" --dst="$T/ownscan/images/converted" >"$T/ownscan.$run.log" 2>&1 ||
    { fail "--dst inside the images, run $run"; cat "$T/ownscan.$run.log"; }
  cat "$T/ownscan/images/converted/train.txt" "$T/ownscan/images/converted/val.txt" >"$T/ownscan.$run.ids"
done
cmp -s "$T/ownscan.1.ids" "$T/ownscan.2.ids" && [ "$(wc -l <"$T/ownscan.2.ids")" -eq 2 ] &&
  ok "ann_preprocess --dst inside the image folder: the second run sees the same 2 images" ||
  fail "--dst inside the images: $(tr '\n' ' ' <"$T/ownscan.2.ids")"
# The image folder given as --out_dir is refused and left as it was.
[ "$(ls "$FX/imgs")" = "a.png" ] && cmp -s "$FX/imgs/a.png" "$VAL_IMG" &&
  ok "--out_dir = the image folder: refused, the images untouched" ||
  fail "the image folder was changed: $(ls "$FX/imgs")"
# ann_init_checkpoint takes --threads and --keep_freed_memory like every binary with tensors.
"$BIN/ann_init_checkpoint" --config=configs/toy.flags --threads=1 --keep_freed_memory=false \
  --out="$T/init1.pth" >/dev/null 2>&1 && cmp -s "$T/init1.pth" "$FX/init.pth" &&
  ok "ann_init_checkpoint --threads=1 --keep_freed_memory=false: the same checkpoint" ||
  fail "ann_init_checkpoint --threads"
# SIGINT to a 2-process run (to its process group, as Ctrl-C in a terminal): one error line.
TRAIN=(--config=configs/toy.flags --data_root="$FX/toy" --threads=1 --workers=1 --img_scale=64x32
       --crop_size=32x32 --batch_size=1 --log_interval=1)
setsid "$BIN/ann_train" "${TRAIN[@]}" --max_iters=100000 --checkpoint_interval=1000 --nproc=2 \
  --work_dir="$T/sigint" >"$T/sigint.out" 2>"$T/sigint.err" &
leader=$!
for _ in $(seq 1 300); do grep -q "^train 3/" "$T/sigint.err" 2>/dev/null && break; sleep 0.1; done
kill -INT -- -$leader
wait $leader
rc=$?
errors=$(grep -c '^error: ' "$T/sigint.err")
[ $rc -eq 1 ] && [ "$errors" -eq 1 ] && ! grep -q '^warning' "$T/sigint.err" &&
  grep -q "^error: stopped by SIGINT at iteration [0-9]*; saved .*iter_[0-9]*.pth" "$T/sigint.err" &&
  ok "SIGINT to --nproc=2: one line, $(grep '^error' "$T/sigint.err" | cut -c1-60)..." ||
  { fail "SIGINT to --nproc=2 (exit $rc, $errors error lines)"; grep -v '^train ' "$T/sigint.err"; }
# --resume with a flipped byte in the newest checkpoint: a warning naming the record, the one
# before is used, and the run ends bit-identical to an uninterrupted one.
"$BIN/ann_train" "${TRAIN[@]}" --max_iters=4 --checkpoint_interval=2 --work_dir="$T/whole" \
  >/dev/null 2>&1
"$BIN/ann_train" "${TRAIN[@]}" --max_iters=4 --checkpoint_interval=2 --work_dir="$T/flip" \
  >/dev/null 2>&1
$PY tests/python/checkpoint_tool.py flip "$T/flip/iter_4.pth" "$T/flip/bad.pth" data/50 >/dev/null &&
  mv "$T/flip/bad.pth" "$T/flip/iter_4.pth"
"$BIN/ann_train" "${TRAIN[@]}" --max_iters=4 --checkpoint_interval=2 --work_dir="$T/flip" \
  --resume >"$T/flip.out" 2>"$T/flip.err"
rc=$?
[ $rc -eq 0 ] &&
  grep -q "^warning: $T/flip/iter_4.pth: record archive/data/50 is corrupt (CRC mismatch); trying an older checkpoint" "$T/flip.err" &&
  grep -q "resumed from $T/flip/iter_2.pth at iteration 2" "$T/flip.err" &&
  $PY tests/python/torch_compare.py "$T/whole/iter_4.pth" "$T/flip/iter_4.pth" --optimizer >/dev/null &&
  ok "--resume past a corrupt newest checkpoint: warned, resumed from iter_2, bit-identical at 4" ||
  { fail "--resume with a corrupt newest checkpoint (exit $rc)"; grep -v '^train' "$T/flip.err" | head -5; }

echo
printf '%-20s %6s %6s %8s %10s\n' binary tried clean skipped "not clean"
total=0
for b in $P $R $E $X $F $S $I; do
  t=${tried[$b]:-0} c=${clean[$b]:-0} s=${skipped[$b]:-0}
  printf '%-20s %6d %6d %8d %10d\n' "$b" "$t" "$c" "$s" $((t - c - s))
  total=$((total + t))
done
echo "$total cases"
[ $can_mount -eq 1 ] || echo "full-disk and read-only cases skipped: $mount_reason"
finish
