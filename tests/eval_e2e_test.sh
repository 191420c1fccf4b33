#!/bin/bash
# End to end evaluation, testing and submission on a generated toy Cityscapes with a briefly
# trained model: ann_eval's Cityscapes metrics (class / category IoU, instance-weighted iIoU)
# against an independent Python evaluation of ann_test's predictions written after
# cityscapesScripts; metrics.json / confusion.csv / confusion.png / --show_dir; slide,
# multi-scale + flip and --scales=1.0 (== whole); ann_test --format=cityscapes; ann_submit from
# predictions (labelIds, trainIds) and from a checkpoint, the zip read back in Python; refusals
# of missing, extra and 3-channel predictions.
set -u
source "${TEST_SRCDIR}/${TEST_WORKSPACE}/tests/lib.sh" eval

toy_data "$T/raw" "$T/data" 128x64 12,4,3 2
CFG=(--config=configs/toy.flags --threads=2)
"$BIN/ann_train" "${CFG[@]}" --data_root="$T/data" --work_dir="$T/work" --crop_size=64x64 \
  --img_scale=128x64 --batch_size=4 --max_iters=30 --checkpoint_interval=30 --log_interval=10 \
  --eval_interval=30 \
  >"$T/train.log" 2>&1 || { cat "$T/train.log"; echo "FAIL: training"; exit 1; }
CKPT="$T/work/latest.pth"

# ann_eval: tables, files, and the numbers against Python's evaluation of ann_test's output.
"$BIN/ann_eval" "${CFG[@]}" --checkpoint="$CKPT" --data_root="$T/data" --work_dir="$T/ev" \
  --show_dir="$T/show" >"$T/eval.txt" 2>"$T/eval.err" || { cat "$T/eval.err"; fail "ann_eval"; }
grep -q "Score Average" "$T/eval.txt" && grep -q "categories       IoU      nIoU" "$T/eval.txt" &&
  grep -q "per class results" "$T/eval.txt" && ok "tables printed" || fail "tables"
for f in metrics.json confusion.csv confusion.png; do [ -s "$T/ev/$f" ] || fail "missing $f"; done
[ "$(ls "$T/show" | wc -l)" -eq 4 ] && ok "show_dir: 4 overlays" || fail "show_dir"
[ "$(wc -l <"$T/ev/confusion.csv")" -eq 20 ] && ok "confusion.csv: header + 19 rows" ||
  fail "confusion.csv rows"
"$BIN/ann_test" "${CFG[@]}" --checkpoint="$CKPT" --images="$T/data/leftImg8bit/val/minicity" \
  --out_dir="$T/pred_val" >/dev/null 2>&1 || fail "ann_test on val"
out=$($PY tests/python/cityscapes_eval.py "$T/data" val "$T/pred_val" "$T/ev/metrics.json")
[ $? -eq 0 ] && ok "cityscapesScripts-style Python evaluation agrees ($out)" ||
  fail "metrics differ from Python: $out"

check "metrics.json and train.log.json parse strictly" \
  $PY tests/python/json_check.py strict "$T/ev/metrics.json" "$T/work/train.log.json"
check "mmseg's analyze_logs reads 3 loss points and 1 mIoU from the training log" \
  $PY tests/python/json_check.py mmseg_log "$T/work/train.log.json" --train 3 --val 1

# A Cityscapes val root holds one folder per city: --images recurses, names stay unique.
mkdir -p "$T/cities/aachen" "$T/cities/bremen" "$T/dups/x" "$T/dups/y"
for f in "$T/data/leftImg8bit/val/minicity/"*_leftImg8bit.png; do
  b=$(basename "$f")
  cp "$f" "$T/cities/aachen/aachen_${b#*_}" && cp "$f" "$T/cities/bremen/bremen_${b#*_}"
done
cp "$f" "$T/dups/x/same.png" && cp "$f" "$T/dups/y/same.png"
"$BIN/ann_test" "${CFG[@]}" --checkpoint="$CKPT" --images="$T/cities" --format=cityscapes \
  --out_dir="$T/pred_cities" >/dev/null 2>&1 &&
  [ "$(ls "$T/pred_cities"/aachen_*_leftImg8bit.png | wc -l)" -eq 4 ] &&
  [ "$(ls "$T/pred_cities"/bremen_*_leftImg8bit.png | wc -l)" -eq 4 ] &&
  ok "ann_test --images=<val root> predicts every city (8 images, 2 cities)" ||
  fail "ann_test on a val root with two cities"
"$BIN/ann_test" "${CFG[@]}" --checkpoint="$CKPT" --images="$T/dups" --out_dir="$T/pred_dups" \
  >/dev/null 2>&1 && [ -s "$T/pred_dups/x/same.png" ] && [ -s "$T/pred_dups/y/same.png" ] &&
  ok "repeated file names keep their folders" || fail "repeated file names"

# The same Python evaluation on predictions with every kind of error (ground truth with blocks
# replaced by other classes, ignored ids and out-of-class values), through --pred_dir.
$PY - "$T/data" "$T/noisy" <<'PYEOF' || fail "making noisy predictions"
import glob, os, sys, numpy as np
from PIL import Image
rng = np.random.RandomState(0)
os.makedirs(sys.argv[2], exist_ok=True)
for p in sorted(glob.glob(sys.argv[1] + "/gtFine/val/*/*_labelTrainIds.png")):
    a = np.array(Image.open(p))
    for _ in range(12):
        y, x = rng.randint(0, a.shape[0] - 8), rng.randint(0, a.shape[1] - 8)
        a[y:y + rng.randint(2, 12), x:x + rng.randint(2, 16)] = rng.choice([0, 1, 2, 8, 10, 11, 12, 13, 14, 255])
    stem = os.path.basename(p).replace("_gtFine_labelTrainIds.png", "_leftImg8bit")
    Image.fromarray(a).save(os.path.join(sys.argv[2], stem + ".png"))
PYEOF
"$BIN/ann_eval" "${CFG[@]}" --pred_dir="$T/noisy" --data_root="$T/data" --work_dir="$T/ev_noisy" \
  >/dev/null 2>&1 || fail "ann_eval --pred_dir"
out=$($PY tests/python/cityscapes_eval.py "$T/data" val "$T/noisy" "$T/ev_noisy/metrics.json")
[ $? -eq 0 ] && ok "noisy predictions: Python evaluation agrees ($out)" || fail "noisy: $out"

# Inference modes.
miou() { $PY -c "import json,sys; print('%.10f' % json.load(open(sys.argv[1]))['mIoU'])" "$1"; }
"$BIN/ann_eval" "${CFG[@]}" --checkpoint="$CKPT" --data_root="$T/data" --scales=1.0 \
  --work_dir="$T/ev_s1" >/dev/null 2>&1 &&
  [ "$(miou "$T/ev/metrics.json")" = "$(miou "$T/ev_s1/metrics.json")" ] &&
  ok "--scales=1.0 equals whole" || fail "--scales=1.0 differs from whole"
"$BIN/ann_eval" "${CFG[@]}" --checkpoint="$CKPT" --data_root="$T/data" --test_mode=slide \
  --test_crop=128x64 --test_stride=64x64 --work_dir="$T/ev_slide1" >/dev/null 2>&1 &&
  [ "$(miou "$T/ev/metrics.json")" = "$(miou "$T/ev_slide1/metrics.json")" ] &&
  ok "slide with one window equals whole" || fail "slide one window differs"
"$BIN/ann_eval" "${CFG[@]}" --checkpoint="$CKPT" --data_root="$T/data" --test_mode=slide \
  --test_crop=64x64 --test_stride=48x48 --work_dir="$T/ev_slide" >/dev/null 2>&1 &&
  ok "slide 64/48 runs (mIoU $(miou "$T/ev_slide/metrics.json"))" || fail "slide"
"$BIN/ann_eval" "${CFG[@]}" --checkpoint="$CKPT" --data_root="$T/data" --aug_test \
  --work_dir="$T/ev_aug" >/dev/null 2>&1 &&
  ok "aug test runs (mIoU $(miou "$T/ev_aug/metrics.json"))" || fail "aug test"
# The inference form (--precision): fp32 logits within 1e-4 of the exact path, argmax identical
# on >= 99.99% of pixels; bf16 (where the CPU has it) argmax agreeing on >= 99.5% and mIoU within
# 0.3 points; bf16 refused on a CPU without it (ANN_CPUINFO presents one).
for p in exact fp32 bf16; do
  "$BIN/ann_test" "${CFG[@]}" --checkpoint="$CKPT" --images="$T/data/leftImg8bit/val" \
    --logits_dir="$T/logits_$p" --precision=$p >"$T/prec_$p.log" 2>&1 || echo "$p unavailable"
done
$PY - "$T" <<'PYEOF' && ok "--precision=fp32 within 1e-4 of exact, same argmax" || fail "fp32 parity"
import glob, os, sys, torch
t = sys.argv[1]
for f in sorted(glob.glob(t + '/logits_exact/**/*.pt', recursive=True)):
    a = torch.load(f); b = torch.load(f.replace('logits_exact', 'logits_fp32'))
    rel = float((a - b).abs().max() / a.abs().max())
    agree = float((a.argmax(0) == b.argmax(0)).double().mean())
    print(os.path.basename(f), 'rel %.2e agree %.6f' % (rel, agree))
    assert rel <= 1e-4 and agree >= 0.9999
PYEOF
if grep -q " avx512_bf16\| amx_bf16" /proc/cpuinfo; then
  $PY - "$T" <<'PYEOF' && ok "--precision=bf16: argmax agrees with fp32 on >= 99.5% of pixels" || fail "bf16 agreement"
import glob, sys, torch
t = sys.argv[1]
same = total = 0
for f in sorted(glob.glob(t + '/logits_exact/**/*.pt', recursive=True)):
    a = torch.load(f).argmax(0); b = torch.load(f.replace('logits_exact', 'logits_bf16')).argmax(0)
    same += int((a == b).sum()); total += a.numel()
print('bf16 argmax agreement %.5f' % (same / total))
assert same / total >= 0.995
PYEOF
  "$BIN/ann_eval" "${CFG[@]}" --checkpoint="$CKPT" --data_root="$T/data" --precision=bf16 \
    --work_dir="$T/ev_bf16" >/dev/null 2>&1 &&
    $PY -c "import sys; a, b = float(sys.argv[1]), float(sys.argv[2]); print('mIoU', a, b); sys.exit(abs(a - b) * 100 > 0.3)" \
      "$(miou "$T/ev/metrics.json")" "$(miou "$T/ev_bf16/metrics.json")" &&
    ok "--precision=bf16: mIoU within 0.3 points of exact" || fail "bf16 mIoU"
else
  echo "skip: bf16 agreement (this CPU has no bf16 arithmetic)"
fi
grep '^flags' /proc/cpuinfo | head -1 | sed 's/ avx512_bf16//; s/ amx_bf16//' > "$T/cpuinfo_no_bf16"
out=$(ANN_CPUINFO="$T/cpuinfo_no_bf16" "$BIN/ann_test" "${CFG[@]}" --checkpoint="$CKPT" \
  --images="$T/data/leftImg8bit/val" --out_dir="$T/never" --precision=bf16 2>&1)
[ $? -eq 2 ] && [ "$(printf '%s\n' "$out" | wc -l)" -eq 1 ] &&
  printf '%s' "$out" | grep -q "^error: --precision: bf16 needs a CPU with AVX512-BF16" &&
  [ ! -e "$T/never" ] && ok "--precision=bf16 refused on a CPU without bf16 ($out)" ||
  fail "bf16 refusal: $out"

out=$("$BIN/ann_eval" "${CFG[@]}" --checkpoint="$CKPT" --data_root="$T/data" --test_mode=tile 2>&1)
[ $? -eq 2 ] && printf '%s' "$out" | grep -q "^error: --test_mode" && ok "bad --test_mode refused" ||
  fail "bad test_mode: $out"

# ann_test --format=cityscapes: labelIds named after the image.
"$BIN/ann_test" "${CFG[@]}" --checkpoint="$CKPT" --images="$T/data/leftImg8bit/test/tinytown" \
  --out_dir="$T/pred_test" --format=cityscapes >/dev/null 2>&1 || fail "ann_test cityscapes"
"$BIN/ann_test" "${CFG[@]}" --checkpoint="$CKPT" --images="$T/data/leftImg8bit/test/tinytown" \
  --out_dir="$T/pred_test_train" >/dev/null 2>&1 || fail "ann_test trainid"
$PY - "$T/pred_test" "$T/pred_test_train" <<'PYEOF' && ok "--format=cityscapes: labelIds = map(trainIds)" || fail "cityscapes format"
import os, sys, numpy as np
from PIL import Image
to_id = [7, 8, 11, 12, 13, 17, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 31, 32, 33]
names = sorted(os.listdir(sys.argv[1]))
assert names == sorted(os.listdir(sys.argv[2])) and len(names) == 3, names
for n in names:
    assert n.endswith("_leftImg8bit.png"), n
    a = np.array(Image.open(os.path.join(sys.argv[1], n)))
    t = np.array(Image.open(os.path.join(sys.argv[2], n)))
    assert a.ndim == 2 and (a == np.array(to_id)[t]).all(), n
PYEOF

# ann_submit from labelId predictions, from trainId predictions, and from the checkpoint.
check_zip() {  # check_zip ZIP PRED_DIR(labelIds)
  $PY - "$1" "$2" "$T/data/leftImg8bit/test" <<'PYEOF'
import io, os, sys, zipfile, numpy as np
from PIL import Image
z = zipfile.ZipFile(sys.argv[1])
images = {f: os.path.join(d, f) for d, _, fs in os.walk(sys.argv[3]) for f in fs}
assert sorted(z.namelist()) == sorted(images), (z.namelist(), images)
for name in z.namelist():
    png = Image.open(io.BytesIO(z.read(name)))
    a = np.array(png)
    assert png.mode == "L" and a.ndim == 2, (name, png.mode)
    assert png.size == Image.open(images[name]).size, name
    assert set(np.unique(a)) <= {7, 8, 11, 12, 13, 17, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 31, 32, 33}
    assert (a == np.array(Image.open(os.path.join(sys.argv[2], name)))).all(), name
print(len(z.namelist()))
PYEOF
}
"$BIN/ann_submit" --data_root="$T/data" --pred_dir="$T/pred_test" --out="$T/sub/a.zip" \
  >"$T/sub_a.txt" 2>&1 && grep -q "a.zip: 3 files, [0-9]* bytes" "$T/sub_a.txt" &&
  check_zip "$T/sub/a.zip" "$T/pred_test" >/dev/null && ok "submission from labelIds" ||
  { fail "submission from labelIds"; cat "$T/sub_a.txt"; }
"$BIN/ann_submit" --data_root="$T/data" --pred_dir="$T/pred_test_train" --pred_ids=trainid \
  --out="$T/sub/b.zip" >/dev/null 2>&1 && check_zip "$T/sub/b.zip" "$T/pred_test" >/dev/null &&
  ok "submission from trainIds (mapped to labelIds)" || fail "submission from trainIds"
"$BIN/ann_submit" "${CFG[@]}" --data_root="$T/data" --checkpoint="$CKPT" --out="$T/sub/c.zip" \
  >/dev/null 2>&1 && check_zip "$T/sub/c.zip" "$T/pred_test" >/dev/null &&
  ok "submission straight from the checkpoint" || fail "submission from checkpoint"

# Refusals: a missing, an extra and a 3-channel prediction are listed; no zip is written.
cp -r "$T/pred_test" "$T/bad"
first=$(ls "$T/bad" | head -1)
rm "$T/bad/$first"
cp "$T/bad/$(ls "$T/bad" | head -1)" "$T/bad/nowhere_000000_000019_leftImg8bit.png"
third=$(ls "$T/pred_test" | tail -1)
$PY -c "
import sys, numpy as np; from PIL import Image
a = np.array(Image.open(sys.argv[1])); Image.fromarray(np.stack([a] * 3, -1)).save(sys.argv[1])" \
  "$T/bad/$third"
"$BIN/ann_submit" --data_root="$T/data" --pred_dir="$T/bad" --out="$T/sub/bad.zip" \
  >"$T/bad.out" 2>&1
rc=$?
if [ $rc -eq 1 ] && [ ! -e "$T/sub/bad.zip" ] &&
   grep -q "^error: .*${first%.png}.png: no prediction; .*: submission refused" "$T/bad.out" &&
   grep -q "^warning: .*nowhere_000000_000019_leftImg8bit.png: prediction for no test image" "$T/bad.out" &&
   grep -q "^warning: .*$third: must be single-channel 8-bit, found 3 channel" "$T/bad.out" &&
   [ "$(grep -c '^error: ' "$T/bad.out")" -eq 1 ] &&
   grep -q "^error: .*1 missing, 1 extra, 1 wrong" "$T/bad.out"; then
  ok "missing, extra and 3-channel predictions refused with the list"
else
  fail "refusal (rc=$rc)"; cat "$T/bad.out"
fi

finish
