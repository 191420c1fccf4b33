#!/bin/bash
# ann_test --video: a video OpenCV writes from asymmetric frames (MJPG, 98x66, 12 frames) is
# predicted frame by frame: as many frames written (overlay video, label PNGs) as read, and each
# frame's labels equal ann_test on that frame decoded by OpenCV and saved as a PNG. A truncated
# video is one error line, exit 1, and the overlay video written holds the frames decoded (a
# complete file); a file that is not a video is one line and writes nothing. On a full disk the
# run fails with one line and leaves nothing; SIGINT stops it with the frames done in a complete
# overlay video and no temporary file.
set -u
source "${TEST_SRCDIR}/${TEST_WORKSPACE}/tests/lib.sh" video
ANN_TEST="$ROOT/tools/ann_test"
MODEL=(--config=configs/toy.flags --threads=2 --test_scale=none)
# Frames: toy street scenes (asymmetric: a road in perspective, buildings, cars), 98x66; the
# model: the toy config trained on other scenes for 30 iterations (its labels vary per frame).
"$ROOT/tools/ann_preprocess" --dataset=toy_cityscapes --dst="$T/scenes" --toy_size=98x66 \
  --toy_splits=12,1,0 --seed=4 >/dev/null 2>&1 || fail "scenes"
toy_data "$T/raw" "$T/data" 128x64 16,1,0 5
"$ROOT/tools/ann_train" --config=configs/toy.flags --data_root="$T/data" --work_dir="$T/work" \
  --crop_size=64x64 --img_scale=128x64 --batch_size=4 --max_iters=30 --checkpoint_interval=30 \
  --threads=2 >/dev/null 2>&1 && cp "$T/work/iter_30.pth" "$T/model.pth" ||
  { fail "toy model"; finish; exit 1; }
$PY - "$T" <<'PYEOF'
import cv2, glob, numpy as np, sys
t = sys.argv[1]
w = cv2.VideoWriter(f"{t}/clip.avi", cv2.VideoWriter_fourcc(*"MJPG"), 7, (98, 66))
for path in sorted(glob.glob(f"{t}/scenes/leftImg8bit/train/*/*.png")):
    w.write(cv2.imread(path))
w.release()
data = open(f"{t}/clip.avi", "rb").read()
open(f"{t}/cut.avi", "wb").write(data[: len(data) // 2])
open(f"{t}/notes.avi", "w").write("not a video\n")
# The frames as OpenCV decodes them, for ann_test on images.
import os
os.makedirs(f"{t}/frames", exist_ok=True)
c = cv2.VideoCapture(f"{t}/clip.avi", cv2.CAP_FFMPEG)
n = 0
while True:
    ok, f = c.read()
    if not ok:
        break
    cv2.imwrite(f"{t}/frames/{n:06d}.png", f)
    n += 1
c = cv2.VideoCapture(f"{t}/cut.avi", cv2.CAP_FFMPEG)
m = 0
while c.read()[0]:
    m += 1
open(f"{t}/counts", "w").write(f"{n} {m}\n")
PYEOF
read -r n_frames n_cut <"$T/counts"
"$ANN_TEST" "${MODEL[@]}" --checkpoint="$T/model.pth" --video="$T/clip.avi" --out_dir="$T/out" \
  --frame_labels >"$T/video.out" 2>"$T/video.err" || { fail "ann_test --video"; cat "$T/video.err"; }
frames_in_video=$($PY -c 'import cv2,sys; print(int(cv2.VideoCapture(sys.argv[1], cv2.CAP_FFMPEG).get(cv2.CAP_PROP_FRAME_COUNT)))' "$T/out/clip_overlay.avi")
[ "$n_frames" -eq 12 ] && [ "$(ls "$T/out/clip" | wc -l)" -eq 12 ] && [ "$frames_in_video" -eq 12 ] &&
  grep -q "^info: 12 frames in .* frames/s; $T/out/clip_overlay.avi" "$T/video.err" &&
  ok "12 frames read, 12 label PNGs and a 12-frame overlay video written ($(grep -o '[0-9.]* frames/s' "$T/video.err"))" ||
  fail "frame counts: read $n_frames, labels $(ls "$T/out/clip" | wc -l), video $frames_in_video"
"$ANN_TEST" "${MODEL[@]}" --checkpoint="$T/model.pth" --images="$T/frames" --out_dir="$T/per_frame" \
  >/dev/null 2>&1 || fail "ann_test on the frames"
same=0
for f in "$T"/frames/*.png; do cmp -s "$T/per_frame/$(basename "$f")" "$T/out/clip/$(basename "$f")" && same=$((same + 1)); done
distinct=$(md5sum "$T"/out/clip/*.png | cut -d' ' -f1 | sort -u | wc -l)
[ "$same" -eq 12 ] && [ "$distinct" -gt 1 ] &&
  ok "each frame's labels equal ann_test on that frame saved as a PNG (12 of 12; $distinct distinct label maps)" ||
  fail "per-frame labels: $same of 12 equal"
"$ANN_TEST" "${MODEL[@]}" --checkpoint="$T/model.pth" --video="$T/cut.avi" --out_dir="$T/cut_out" \
  >/dev/null 2>"$T/cut.err"
rc=$?
cut_video=$($PY -c 'import cv2,sys
c = cv2.VideoCapture(sys.argv[1], cv2.CAP_FFMPEG); n = 0
while c.read()[0]: n += 1
print(n)' "$T/cut_out/cut_overlay.avi")
[ $rc -eq 1 ] && [ "$(grep -c '^error:' "$T/cut.err")" -eq 1 ] &&
  grep -q "^error: $T/cut.avi: truncated or corrupt: decoded $n_cut of the 12 frames it announces" "$T/cut.err" &&
  [ "$cut_video" -eq "$n_cut" ] && [ -z "$(ls -A "$T/cut_out" | grep tmp)" ] &&
  ok "truncated video: one line, exit 1; the overlay video is complete with the $n_cut frames decoded" ||
  { fail "truncated video (exit $rc, video holds $cut_video of $n_cut)"; cat "$T/cut.err"; }
"$ANN_TEST" "${MODEL[@]}" --checkpoint="$T/model.pth" --video="$T/notes.avi" --out_dir="$T/notes_out" \
  >/dev/null 2>"$T/notes.err"
rc=$?
[ $rc -eq 1 ] && [ "$(grep -c '^error:' "$T/notes.err")" -eq 1 ] &&
  grep -q "^error: $T/notes.avi: cannot open as a video" "$T/notes.err" && [ ! -e "$T/notes_out" ] &&
  ok "not a video: one line, exit 1, nothing written" || { fail "not a video (exit $rc)"; cat "$T/notes.err"; }

# A long video (3000 frames) for the full disk and SIGINT.
$PY - "$T" <<'PYEOF'
import cv2, glob, sys
t = sys.argv[1]
frames = [cv2.imread(p) for p in sorted(glob.glob(f"{t}/scenes/leftImg8bit/train/*/*.png"))]
w = cv2.VideoWriter(f"{t}/long.avi", cv2.VideoWriter_fourcc(*"MJPG"), 7, (98, 66))
for i in range(3000):
    w.write(frames[i % len(frames)])
w.release()
PYEOF

# A full disk: the overlay video cannot be completed (OpenCV's writer does not say so); one line,
# exit 1, nothing left in the out dir. On a 16 KB tmpfs in a private mount namespace.
mkdir -p "$T/small"
if unshare -m bash -c 'mount -t tmpfs -o size=16k tmpfs "$1" || exit 99
    small=$1; shift; "$@" >/dev/null 2>"$0/full.err"; rc=$?
    find "$small" -mindepth 1 -printf "%P\n" >"$0/full.left"; exit $rc' "$T" "$T/small" \
    "$ANN_TEST" "${MODEL[@]}" --checkpoint="$T/model.pth" --video="$T/long.avi" --max_frames=40 \
    --out_dir="$T/small"; then
  rc=0
else
  rc=$?
fi
if [ $rc -eq 99 ]; then
  echo "skipped: full disk: cannot mount a tmpfs here (unshare -m needs root or user namespaces)"
else
  [ $rc -eq 1 ] && [ "$(grep -c '^error:' "$T/full.err")" -eq 1 ] &&
    grep -q "^error: $T/small/long_overlay.avi: cannot write the video (.* of 40 frames could be read back: is the disk full?)" "$T/full.err" &&
    [ ! -s "$T/full.left" ] &&
    ok "a full disk: one line, exit 1, no file left ($(grep "^error:" "$T/full.err"))" ||
    { fail "full disk (exit $rc, left: $(cat "$T/full.left" | tr '\n' ' '))"; cat "$T/full.err"; }
fi

# SIGINT (Ctrl-C) during a long video: the frames done are in a complete overlay video, one line
# says so, exit 1, no temporary file.
"$ANN_TEST" "${MODEL[@]}" --checkpoint="$T/model.pth" --video="$T/long.avi" --out_dir="$T/int" \
  >/dev/null 2>"$T/int.err" &
pid=$!
# Stopped once the first frames are done (the progress line at frame 25).
for _ in $(seq 600); do
  grep -q "video 25/" "$T/int.err" && break
  sleep 0.1
done
kill -INT $pid
wait $pid
rc=$?
done_frames=$(sed -n 's/^error: .*: stopped by SIGINT after \([0-9]*\) of 3000 frames; the [0-9]* predicted are in .*/\1/p' "$T/int.err")
in_video=$($PY -c 'import cv2,sys
c = cv2.VideoCapture(sys.argv[1], cv2.CAP_FFMPEG); n = 0
while c.read()[0]: n += 1
print(n)' "$T/int/long_overlay.avi" 2>/dev/null)
[ $rc -eq 1 ] && [ "$(grep -c '^error:' "$T/int.err")" -eq 1 ] && [ -n "$done_frames" ] &&
  [ "$done_frames" -ge 25 ] && [ "$done_frames" -lt 3000 ] && [ "$in_video" = "$done_frames" ] &&
  [ -z "$(ls -A "$T/int" | grep -v '^long_overlay.avi$')" ] &&
  ok "SIGINT after $done_frames frames: one line, exit 1, a complete $in_video-frame overlay, no temporary file" ||
  { fail "SIGINT (exit $rc, $done_frames frames said, $in_video in the video, files: $(ls -A "$T/int" | tr '\n' ' '))"; cat "$T/int.err"; }
finish
