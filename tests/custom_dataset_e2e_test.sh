#!/bin/bash
# One's own data end to end, with real files written by PIL / numpy and expectations computed
# in Python (tests/python/custom_masks.py):
#  - the same labels as RGB colour, palette ("P", with a palette of its own), 8-bit and 16-bit
#    index masks convert to identical index PNGs; broken trees give one error line naming the
#    file (and the colour or value, its pixel count and first position), exit 1, no split list;
#  - label statistics equal numpy's counts; warnings for 0/255 masks, reduce_zero_label;
#  - our reader equals mmseg 0.30's CustomDataset rules (suffixes, scans, reduce_zero_label,
#    ignore_index, palette PNGs);
#  - the toy custom dataset (images/ + RGB masks/, no lists) is split and fine-tuned from a toy
#    Cityscapes model into its 6 classes (the classifiers re-initialised and named), keeps the
#    best checkpoint (equal to the checkpoint of the best validation; resuming from it continues
#    bit-identically), reaches a val mIoU, stops early at the predicted validation, and keeps
#    the best score and patience across --resume; its class names and colours reach the
#    checkpoint's meta, the tables, the confusion matrix and the overlays;
#  - a config of one's own, in a project folder, builds on the repository's configs from any
#    working directory.
set -u
source "${TEST_SRCDIR}/${TEST_WORKSPACE}/tests/lib.sh" custom
PRE="$ROOT/tools/ann_preprocess"
TRAIN="$ROOT/tools/ann_train"
CM="$PY tests/python/custom_masks.py"

# ---- Mask forms.
$CM forms "$T/forms" || fail "forms"
for f in rgb palette index8 index16; do
  "$PRE" --dataset=custom --dataset_file="$T/forms/$f/dataset.json" --src="$T/forms/$f" \
    --dst="$T/forms_out/$f" --seed=3 >"$T/forms_$f.log" 2>&1 || { fail "$f"; cat "$T/forms_$f.log"; }
done
same=yes
for f in palette index8 index16; do
  diff -r "$T/forms_out/rgb/masks" "$T/forms_out/$f/masks" >/dev/null || same="no ($f)"
done
[ "$same" = yes ] && [ "$(ls "$T/forms_out/rgb/masks" | wc -l)" -eq 8 ] &&
  ok "RGB colour, palette, 8-bit and 16-bit index masks of the same labels: identical index PNGs" ||
  fail "mask forms differ: $same"
[ "$(cat "$T/forms_out/rgb/splits/val.txt" | wc -l)" -eq 2 ] &&
  [ "$(cat "$T/forms_out/rgb/splits/train.txt" | wc -l)" -eq 6 ] &&
  ok "no split lists: a seeded 6 / 2 train / val split (--val_ratio=0.2)" || fail "split"
out=$($CM stats "$T/forms_out/rgb" "$T/forms/rgb/dataset.json") &&
  ok "label_stats.json equals numpy's counts (train: $out)" || fail "statistics: $out"
grep -q "^stain  *18 .*  *3  *0 .*  *0$" "$T/forms_rgb.log" &&
  ok "the statistics table: the rare class per split" || { fail "table"; grep -A7 "^class" "$T/forms_rgb.log"; }

# --class_weight=auto: median frequency balancing over train, recorded in the checkpoint.
"$TRAIN" --config=configs/toy.flags --dataset=custom --dataset_file="$T/forms/rgb/dataset.json" \
  --num_classes=5 --data_root="$T/forms_out/rgb" --work_dir="$T/weights" --max_iters=1 \
  --batch_size=2 --crop_size=32x32 --img_scale=64x32 --class_weight=auto --threads=1 \
  >/dev/null 2>"$T/weights.err"
out=$($CM median_freq "$T/forms_out/rgb" "$T/forms/rgb/dataset.json" "$T/weights/iter_1.pth") &&
  ok "--class_weight=auto: median frequency weights ($out) equal numpy's, recorded in the checkpoint" ||
  { fail "class weights: $out"; tail -3 "$T/weights.err"; }

# ---- Broken trees: one line naming the file, exit 1, no split list.
for kind in colour value missing_mask missing_image size; do
  want=$($CM broken "$T/broken_$kind/raw" $kind)
  "$PRE" --dataset=custom --dataset_file="$T/broken_$kind/raw/dataset.json" \
    --src="$T/broken_$kind/raw" --dst="$T/broken_$kind/out" >"$T/broken_$kind.out" \
    2>"$T/broken_$kind.err"
  rc=$?
  if [ $rc -eq 1 ] && [ "$(grep -c '^error:' "$T/broken_$kind.err")" -eq 1 ] &&
     grep -qF "error: $want" "$T/broken_$kind.err" && [ ! -e "$T/broken_$kind/out/splits" ]; then
    ok "$kind: $(grep '^error' "$T/broken_$kind.err" | cut -c1-150 | sed "s|$T/||")"
  else
    fail "$kind (exit $rc; want '$want')"; cat "$T/broken_$kind.err"
  fi
done

# ---- What users get wrong: 0/255 binary masks; classes stored as 1..K without
# reduce_zero_label; reduce_zero_label on masks without 0.
mkdir -p "$T/binary/images" "$T/binary/masks"
$PY - "$T/binary" <<'EOF'
import json, sys, numpy as np
from PIL import Image
d = sys.argv[1]
for n in range(4):
    y, x = np.mgrid[0:19 + n, 0:31]
    Image.fromarray(np.random.RandomState(n).randint(0, 256, (19 + n, 31, 3), np.uint8)).save(f"{d}/images/m{n}.jpg")
    Image.fromarray(np.where(x > y + n, 255, 0).astype(np.uint8)).save(f"{d}/masks/m{n}.png")
json.dump({"classes": ["background", "crack"], "img_dir": "images", "ann_dir": "masks",
           "train": {"split": "train.txt"}, "val": {"split": "val.txt"}}, open(f"{d}/binary.json", "w"))
import os
os.makedirs(f"{d}/kmasks", exist_ok=True)
for n in range(4):
    lab = np.array(Image.open(f"{d}/masks/m{n}.png")) // 255 + 1 + (np.arange(31) % 3 == 0)
    Image.fromarray(lab.astype(np.uint8)).save(f"{d}/kmasks/m{n}.png")
EOF
"$PRE" --dataset=custom --dataset_file="$T/binary/binary.json" --src="$T/binary" \
  --dst="$T/binary_out" >"$T/binary.out" 2>"$T/binary.err"
grep -q "^warning: the masks hold only 0 and 255, and 255 is the ignore index: class 1 'crack' is never seen" "$T/binary.err" &&
  grep -q "^warning: class 1 'crack' has no pixel in train" "$T/binary.err" &&
  ok "0/255 binary masks: warned (255 is the ignore index) and class 1 absent from train" ||
  { fail "0/255 warning"; cat "$T/binary.err"; }
mkdir -p "$T/onek" && cp -r "$T/binary/images" "$T/onek/" && cp -r "$T/binary/kmasks" "$T/onek/masks"
$PY -c 'import json,sys; d=json.load(open(sys.argv[1])); d["classes"]=["a","b","c"]; json.dump(d, open(sys.argv[2], "w"))' \
  "$T/binary/binary.json" "$T/onek/three.json"
"$PRE" --dataset=custom --dataset_file="$T/onek/three.json" --src="$T/onek" --dst="$T/onek_out" \
  >/dev/null 2>"$T/onek.err"
[ $? -eq 1 ] && grep -q "value 3 (.*) is not a class (0..2) nor the ignore index 255; values run up to 3: set reduce_zero_label" "$T/onek.err" &&
  ok "classes stored as 1..K: one error line suggesting reduce_zero_label" || { fail "1..K hint"; cat "$T/onek.err"; }
$PY -c 'import json,sys; d=json.load(open(sys.argv[1])); d["reduce_zero_label"]=True; json.dump(d, open(sys.argv[2], "w"))' \
  "$T/onek/three.json" "$T/onek/reduced.json"
"$PRE" --dataset=custom --dataset_file="$T/onek/reduced.json" --src="$T/onek" \
  --dst="$T/onek_reduced" >/dev/null 2>"$T/reduced.err" &&
  grep -q "^warning: reduce_zero_label is set but no mask holds 0" "$T/reduced.err" &&
  ok "reduce_zero_label set: converts, warns that no mask holds 0" || { fail "reduce warning"; cat "$T/reduced.err"; }

# ---- Our reader = mmseg's CustomDataset on trees of each kind: the converted one; one with
# palette masks, reduce_zero_label, ignore_index 100, a scanned split and odd suffixes.
DUMP="$ROOT/tests/dataset_dump"
same_as_mmseg() {  # DESC ROOT SPLIT NAME
  "$DUMP" --dataset=custom --dataset_file="$1" --data_root="$2" --split=$3 >"$T/$4.ours" 2>&1 &&
    $CM mmseg_dump "$1" "$2" $3 >"$T/$4.mmseg" && diff "$T/$4.ours" "$T/$4.mmseg" >/dev/null
}
same_as_mmseg "$T/forms/rgb/dataset.json" "$T/forms_out/rgb" train conv_train &&
  same_as_mmseg "$T/forms/rgb/dataset.json" "$T/forms_out/rgb" val conv_val &&
  ok "converted tree: our reader = mmseg's CustomDataset ($(wc -l <"$T/conv_train.ours") + $(wc -l <"$T/conv_val.ours") samples)" ||
  { fail "converted tree vs mmseg"; diff "$T/conv_train.ours" "$T/conv_train.mmseg" | head -4; }
$PY - "$T/odd" <<'EOF'
import json, os, sys, numpy as np
from PIL import Image
d = sys.argv[1]
for n, name in enumerate(["z9", "a-b", "a", "sub/q1"]):
    h, w = 17 + n, 29 + 2 * n
    os.makedirs(os.path.dirname(f"{d}/imgs/{name}"), exist_ok=True)
    os.makedirs(os.path.dirname(f"{d}/anns/{name}"), exist_ok=True)
    Image.fromarray(np.random.RandomState(n).randint(0, 256, (h, w, 3), np.uint8)).save(f"{d}/imgs/{name}.PNG")
    y, x = np.mgrid[0:h, 0:w]
    lab = ((x * 3 + y * (n + 1)) % 5).astype(np.uint8)  # stored 0..4: 0 -> ignore, 1..4 -> 0..3
    lab[y == x] = 255  # ignored, as 0 is
    im = Image.fromarray(lab, "P")
    im.putpalette([(i * 53) % 256 for i in range(768)])
    im.save(f"{d}/anns/{name}_seg.png")
json.dump({"classes": ["p", "q", "r", "s"], "img_dir": "imgs", "ann_dir": "anns",
           "img_suffix": ".PNG", "seg_map_suffix": "_seg.png", "reduce_zero_label": True,
           "val": {}}, open(f"{d}/odd.json", "w"))
# A symlinked sub-folder (mmcv's scandir follows it), and the same with ignore_index 100, which
# mmseg would compare with the *reduced* labels: refused with one line.
os.symlink(f"{d}/imgs/sub", f"{d}/imgs/linked")
os.symlink(f"{d}/anns/sub", f"{d}/anns/linked")
odd = json.load(open(f"{d}/odd.json"))
odd["ignore_index"] = 100
json.dump(odd, open(f"{d}/odd100.json", "w"))
EOF
same_as_mmseg "$T/odd/odd.json" "$T/odd" val odd && [ "$(wc -l <"$T/odd.ours")" -eq 5 ] &&
  ok "palette masks, reduce_zero_label, a symlinked sub-folder, a scan sorted by file name: = mmseg ($(cut -f1 "$T/odd.ours" | tr '\n' ' '))" ||
  { fail "odd tree vs mmseg"; cat "$T/odd.ours"; cat "$T/odd.mmseg"; }
"$DUMP" --dataset=custom --dataset_file="$T/odd/odd100.json" --data_root="$T/odd" --split=val \
  >"$T/odd100.out" 2>&1
[ $? -ne 0 ] && [ "$(wc -l <"$T/odd100.out")" -eq 1 ] &&
  grep -q "^error: $T/odd/odd100.json: ignore_index: 100 with reduce_zero_label: mmseg reduces the labels first" "$T/odd100.out" &&
  ok "reduce_zero_label with ignore_index 100: refused with one line saying what mmseg would do" ||
  { fail "reduce_zero_label + ignore_index refusal"; cat "$T/odd100.out"; }
ln -s "$T/odd/imgs" "$T/odd/imgs/sub/loop"
"$DUMP" --dataset=custom --dataset_file="$T/odd/odd.json" --data_root="$T/odd" --split=val \
  >"$T/loop.out" 2>&1
[ $? -ne 0 ] && [ "$(wc -l <"$T/loop.out")" -eq 1 ] &&
  grep -qE "^error: .*/imgs/(linked|sub)/loop: a link back to a folder that holds it \(a loop\)" "$T/loop.out" &&
  ok "a link loop under img_dir: one line naming the link" || { fail "link loop"; cat "$T/loop.out"; }
rm "$T/odd/imgs/sub/loop"

# ---- Repeated names in sub-folders: ann_test mirrors them, ann_eval --pred_dir and --show_dir
# find them by the same rule; the metrics equal mmseg's (intersect_and_union, computed in numpy
# on the files found by relative path).
$PY - "$T/rep" <<'EOF'
import json, os, sys, numpy as np
from PIL import Image
d = sys.argv[1]
for n, name in enumerate(["0001", "left/0001", "right/0001", "cam1/0002", "cam2/0002"]):
    h, w = 23 + 2 * n, 37 + 3 * n
    for sub in ("imgs", "anns"):
        os.makedirs(os.path.dirname(f"{d}/{sub}/{name}"), exist_ok=True)
    Image.fromarray(np.random.RandomState(10 + n).randint(0, 256, (h, w, 3), np.uint8)).save(f"{d}/imgs/{name}.png")
    y, x = np.mgrid[0:h, 0:w]
    lab = ((x * (n + 2) + y * 3) // 7 % 5).astype(np.uint8)
    lab[(x + y) % 11 == 0] = 255
    Image.fromarray(lab).save(f"{d}/anns/{name}.png")
json.dump({"classes": ["a", "b", "c", "d", "e"], "img_dir": "imgs", "ann_dir": "anns",
           "img_suffix": ".png", "val": {}}, open(f"{d}/rep.json", "w"))
EOF
REP=(--config=configs/toy.flags --dataset=custom --dataset_file="$T/rep/rep.json" --num_classes=5
     --threads=1)
"$ROOT/tools/ann_test" "${REP[@]}" --checkpoint="$T/weights/iter_1.pth" --images="$T/rep/imgs" \
  --out_dir="$T/rep_pred" >/dev/null 2>"$T/rep_test.err" &&
  [ "$(cd "$T/rep_pred" && find . -name '*.png' | sort | tr '\n' ' ')" = "./0001.png ./cam1/0002.png ./cam2/0002.png ./left/0001.png ./right/0001.png " ] &&
  ok "ann_test: repeated names in sub-folders mirrored (5 images, 5 files)" ||
  { fail "ann_test mirrored names: $(cd "$T/rep_pred" && find . -name '*.png')"; cat "$T/rep_test.err"; }
# Each prediction replaced by labels of its own, so that a mix-up changes the metrics.
$PY - "$T/rep" "$T/rep_pred" <<'EOF'
import glob, os, sys, numpy as np
from PIL import Image
for n, f in enumerate(sorted(glob.glob(sys.argv[2] + "/**/*.png", recursive=True))):
    gt = np.array(Image.open(sys.argv[1] + "/anns/" + os.path.relpath(f, sys.argv[2])))
    pred = np.where(np.random.RandomState(n).rand(*gt.shape) < 0.3 + 0.15 * n,
                    np.random.RandomState(50 + n).randint(0, 5, gt.shape), np.minimum(gt, 4))
    Image.fromarray(pred.astype(np.uint8)).save(f)
EOF
"$ROOT/tools/ann_eval" "${REP[@]}" --pred_dir="$T/rep_pred" --data_root="$T/rep" \
  --work_dir="$T/rep_eval" --show_dir="$T/rep_show" >/dev/null 2>"$T/rep_eval.err" &&
  $PY - "$T/rep" "$T/rep_pred" "$T/rep_eval/metrics.json" <<'EOF' &&
import json, os, sys, numpy as np
from PIL import Image
root, pred_dir = sys.argv[1], sys.argv[2]
k = 5
inter, union = np.zeros(k), np.zeros(k)
for base, _, files in os.walk(root + "/anns"):
    for f in files:
        rel = os.path.relpath(os.path.join(base, f), root + "/anns")
        label = np.array(Image.open(root + "/anns/" + rel)).astype(np.int64)
        pred = np.array(Image.open(pred_dir + "/" + rel)).astype(np.int64)
        mask = label != 255  # mmseg's intersect_and_union
        p, l = pred[mask], label[mask]
        i = np.bincount(p[p == l], minlength=k)[:k]
        inter += i
        union += np.bincount(p, minlength=k)[:k] + np.bincount(l, minlength=k)[:k] - i
want = np.nanmean(inter / union)
got = json.load(open(sys.argv[3]))["mIoU"]
print("mIoU ours %.6f mmseg %.6f" % (got, want))
sys.exit(int(abs(got - want) > 1e-6))
EOF
  [ "$(cd "$T/rep_show" && find . -name '*.png' | wc -l)" -eq 5 ] &&
  ok "ann_eval --pred_dir: the mirrored predictions, mmseg's mIoU; --show_dir: 5 overlays for 5 images" ||
  { fail "ann_eval --pred_dir with repeated names"; cat "$T/rep_eval.err"; }

# ---- The toy custom dataset, fine-tuned from a toy Cityscapes model.
"$PRE" --dataset=toy_custom --dst="$T/toy_raw" --toy_size=128x64 --toy_splits=30,8,0 --seed=2 \
  >/dev/null 2>&1 && [ ! -e "$T/toy_raw/splits" ] &&
  [ "$(ls "$T/toy_raw/images" | wc -l)" -eq 38 ] && [ "$(ls "$T/toy_raw/masks" | wc -l)" -eq 38 ] ||
  fail "toy_custom generated"
"$PRE" --dataset=custom --dataset_file=configs/_base_/datasets/toy_custom.json --src="$T/toy_raw" \
  --dst="$T/toy" >"$T/toy_pre.log" 2>&1 && grep -q '"human"' "$T/toy/label_stats.json" &&
  ok "toy_custom: converted with statistics ($(wc -l <"$T/toy/splits/train.txt") train, $(wc -l <"$T/toy/splits/val.txt") val)" ||
  { fail "toy_custom preprocess"; cat "$T/toy_pre.log"; }
toy_data "$T/city_raw" "$T/city" 128x64 24,2,0 7
SMALL=(--crop_size=64x64 --img_scale=128x64 --threads=2 --workers=2)
"$TRAIN" --config=configs/toy.flags --data_root="$T/city" --work_dir="$T/city_model" "${SMALL[@]}" \
  --batch_size=8 --max_iters=80 --checkpoint_interval=80 --log_interval=20 >"$T/city.log" 2>&1 ||
  { fail "toy Cityscapes model"; tail -3 "$T/city.log"; }
# Unweighted (the config's --class_weight=auto is checked above): these runs are short.
FT=(--config=configs/toy_custom.flags --data_root="$T/toy" "${SMALL[@]}" --batch_size=8
    --load_from="$T/city_model/latest.pth" --class_weight=)
"$TRAIN" "${FT[@]}" --max_iters=48 --eval_interval=16 --checkpoint_interval=16 --log_interval=8 \
  --work_dir="$T/ft" >"$T/ft.out" 2>"$T/ft.err" || { fail "fine-tune"; tail -3 "$T/ft.err"; }
grep -q "^info: $T/city_model/latest.pth: 188 keys loaded; 4 classifier tensors re-initialised for the new classes (decode_head.conv_seg.weight: model \[6,128,1,1\], checkpoint \[19,128,1,1\];" "$T/ft.err" &&
  ok "--load_from a 19-class model into 6 classes: one line names the 4 re-initialised classifier tensors" ||
  { fail "fine-tune line"; grep "keys loaded" "$T/ft.err"; }
# The same 48 iterations from the initialisation, for comparison.
"$TRAIN" "${FT[@]}" --load_from= --max_iters=48 --eval_interval=48 --checkpoint_interval=48 \
  --log_interval=8 --work_dir="$T/scratch" >/dev/null 2>&1 || fail "from scratch"
val_miou() { $PY -c 'import json,sys; print([json.loads(l) for l in open(sys.argv[1]) if "\"val\"" in l][-1]["mIoU"])' "$1/train.log.json"; }
ft_miou=$(val_miou "$T/ft")
scratch_miou=$(val_miou "$T/scratch")
awk -v f="$ft_miou" -v s="$scratch_miou" 'BEGIN { exit !(f >= 0.38 && f >= s + 0.1) }' &&
  ok "toy_custom fine-tuned from the toy Cityscapes model: val mIoU $ft_miou after 48 iterations (>= 0.38; from scratch $scratch_miou)" ||
  fail "toy_custom val mIoU $ft_miou (from scratch $scratch_miou)"

# Best checkpoint, resume from it, early stop: on a run whose validations go up and down (a
# high learning rate, a validation every 2 iterations).
NOISY=("${FT[@]}" --lr=0.05 --max_iters=24 --eval_interval=2 --checkpoint_interval=2 --log_interval=2)
"$TRAIN" "${NOISY[@]}" --work_dir="$T/noisy" >/dev/null 2>"$T/noisy.err" || { fail "noisy run"; tail -3 "$T/noisy.err"; }
read -r best_iter best_miou < <($PY -c '
import json, sys
val = [json.loads(l) for l in open(sys.argv[1]) if "\"val\"" in l]
best = max(val, key=lambda v: (v["mIoU"], -v["iter"]))
print(best["iter"], best["mIoU"])' "$T/noisy/train.log.json")
bests=$(ls "$T/noisy" | grep -c '^best_mIoU_iter_')
[ "$bests" -eq 1 ] && [ -e "$T/noisy/best_mIoU_iter_$best_iter.pth" ] &&
  $PY tests/python/torch_compare.py "$T/noisy/best_mIoU_iter_$best_iter.pth" "$T/noisy/iter_$best_iter.pth" --optimizer >/dev/null &&
  [ "$($PY tests/python/torch_compare.py --inspect "$T/noisy/best_mIoU_iter_$best_iter.pth" | cut -d' ' -f1)" = "iter=$best_iter" ] &&
  ok "--save_best=mIoU: one best_mIoU_iter_$best_iter.pth (mIoU $best_miou), equal to iter_$best_iter.pth (weights, momentum, iteration)" ||
  fail "best checkpoint (best at $best_iter, $bests files: $(ls "$T/noisy" | grep best_))"
if [ "$best_iter" -lt 24 ]; then
  "$TRAIN" "${NOISY[@]}" --load_from= --resume_from="$T/noisy/best_mIoU_iter_$best_iter.pth" \
    --work_dir="$T/from_best" >/dev/null 2>"$T/from_best.err" &&
    $PY tests/python/torch_compare.py "$T/noisy/iter_24.pth" "$T/from_best/iter_24.pth" --optimizer >/dev/null &&
    ok "--resume_from=best_mIoU_iter_$best_iter.pth continues bit-identically to iteration 24" ||
    { fail "resume from best"; tail -3 "$T/from_best.err"; }
else
  # On some CPUs the rounding makes the last validation the best: nothing follows it, so resume
  # from the middle checkpoint instead (best == iter_24 is checked above).
  "$TRAIN" "${NOISY[@]}" --load_from= --resume_from="$T/noisy/iter_12.pth" \
    --work_dir="$T/from_best" >/dev/null 2>"$T/from_best.err" &&
    $PY tests/python/torch_compare.py "$T/noisy/iter_24.pth" "$T/from_best/iter_24.pth" --optimizer >/dev/null &&
    ok "the best validation was the last (iteration 24) on this CPU: --resume_from=iter_12.pth continues bit-identically to iteration 24" ||
    { fail "resume from iter_12"; tail -3 "$T/from_best.err"; }
fi
# Early stopping at the validation the uninterrupted run's scores predict.
read -r patience stop_iter resume_iter < <($PY -c '
import json, sys
val = [json.loads(l) for l in open(sys.argv[1]) if "\"val\"" in l]
for patience in (2, 1):
    best, count, seen = -1, 0, []
    for v in val:
        if v["mIoU"] > best:
            best, count = v["mIoU"], 0
        else:
            count += 1
        seen.append(v["iter"])
        if count >= patience and v is not val[-1]:
            print(patience, v["iter"], seen[-2])
            sys.exit(0)
print(0, 0, 0)' "$T/noisy/train.log.json")
if [ "$patience" -eq 0 ]; then
  fail "the noisy run's mIoU rose at every validation: no early stop to test"
else
  "$TRAIN" "${NOISY[@]}" --early_stop_patience=$patience --work_dir="$T/early" \
    >"$T/early.out" 2>"$T/early.err"
  rc=$?
  last=$($PY -c 'import json,sys; print([json.loads(l) for l in open(sys.argv[1]) if "\"train\"" in l][-1]["iter"])' "$T/early/train.log.json")
  [ $rc -eq 0 ] && [ "$last" -eq "$stop_iter" ] &&
    grep -q "^early stop at iteration $stop_iter: mIoU has not improved for $patience validations (best " "$T/early.out" &&
    ok "--early_stop_patience=$patience: ended at iteration $stop_iter as predicted ($(cut -c1-100 "$T/early.out"))" ||
    { fail "early stop (exit $rc, last iteration $last, predicted $stop_iter)"; cat "$T/early.out"; tail -3 "$T/early.err"; }
  # Resumed from the checkpoint of the validation before the stop, the run keeps the best score
  # and the patience count: it stops at the same iteration with the same best.
  "$TRAIN" "${NOISY[@]}" --load_from= --early_stop_patience=$patience \
    --resume_from="$T/early/iter_$resume_iter.pth" --work_dir="$T/early_resumed" \
    >"$T/early_resumed.out" 2>"$T/early_resumed.err"
  [ $? -eq 0 ] && [ "$(cut -d'(' -f1 "$T/early.out")" = "$(cut -d'(' -f1 "$T/early_resumed.out")" ] &&
    [ "$(grep -o 'best [0-9.]* at iteration [0-9]*' "$T/early.out")" = "$(grep -o 'best [0-9.]* at iteration [0-9]*' "$T/early_resumed.out")" ] &&
    ok "resumed at iteration $resume_iter: stops at $stop_iter with the same best (best and patience kept)" ||
    { fail "early stop after resume"; cat "$T/early.out" "$T/early_resumed.out"; tail -2 "$T/early_resumed.err"; }
fi

# ---- The dataset's classes and colours everywhere.
meta=$($PY -c '
import sys, torch
m = torch.load(sys.argv[1], map_location="cpu")["meta"]
print(m["CLASSES"], m["PALETTE"][4])' "$T/ft/iter_48.pth")
[ "$meta" = "('flat', 'construction', 'nature', 'sky', 'human', 'vehicle') [220, 20, 60]" ] &&
  ok "meta.CLASSES and meta.PALETTE are the description's" || fail "meta: $meta"
"$ROOT/tools/ann_eval" --config=configs/toy_custom.flags --checkpoint="$T/ft/iter_48.pth" \
  --data_root="$T/toy" --work_dir="$T/eval" --threads=2 >"$T/eval.out" 2>&1 &&
  grep -q "^| *human *|" "$T/eval.out" && head -1 "$T/eval/confusion.csv" | grep -q "human" &&
  ok "ann_eval: the table and confusion.csv name the classes" || { fail "eval classes"; head -20 "$T/eval.out"; }
"$ROOT/tools/ann_test" --config=configs/toy_custom.flags --checkpoint="$T/ft/iter_48.pth" \
  --images="$T/toy/images" --out_dir="$T/pred" --overlay --threads=2 >/dev/null 2>&1
out=$($PY - "$T/toy/images" "$T/pred" <<'EOF'
import glob, os, sys, numpy as np, cv2
palette = [[128, 64, 128], [70, 70, 70], [107, 142, 35], [70, 130, 180], [220, 20, 60], [0, 0, 142]]
worst = 0
for path in sorted(glob.glob(sys.argv[2] + "/*_overlay.png"))[:5]:
    stem = os.path.basename(path)[: -len("_overlay.png")]
    image = cv2.imread(f"{sys.argv[1]}/{stem}.jpg").astype(float)
    labels = cv2.imread(f"{sys.argv[2]}/{stem}.png", cv2.IMREAD_UNCHANGED)
    colour = np.array(palette, float)[labels][..., ::-1]
    worst = max(worst, np.abs(cv2.imread(path).astype(float) - (image + colour) / 2).max())
print(worst)
EOF
)
awk -v w="$out" 'BEGIN { exit !(w <= 1) }' &&
  ok "ann_test overlays use the description's colours (largest difference $out)" ||
  fail "overlay colours (difference $out)"

# ---- A config of one's own in a project folder, used from another working directory: it
# builds on the repository's configs (nested flagfiles resolved relative to the file naming
# them) and names its dataset file relative to itself.
mkdir -p "$T/project"
cp "$T/forms/rgb/dataset.json" "$T/project/cracks.json"
rel=$($PY -c 'import os,sys; print(os.path.relpath(sys.argv[1], sys.argv[2]))' "$ROOT/configs" "$T/project")
printf -- '--flagfile=%s/ann_r50-d8_512x512_20k_custom.flags\n--dataset_file=cracks.json\n--num_classes=5\n--depth=18\n--channels=64\n--project_channels=32\n' "$rel" > "$T/project/my.flags"
(cd / && "$ROOT/tools/ann_train" --config="$T/project/my.flags" --data_root="$T/forms_out/rgb" \
   --work_dir="$T/project/work" --max_iters=1 --batch_size=2 --crop_size=32x32 \
   --img_scale=64x32 --eval_interval=1 --threads=1 >"$T/project.out" 2>"$T/project.err") &&
  grep -q "ann_train: cracks, depth 18" "$T/project.err" &&
  (cd / && "$ROOT/tools/ann_init_checkpoint" --config="$ROOT/configs/ann_r50-d8_512x1024_40k_cityscapes.flags" \
     --out="$T/project/r50.pth" >/dev/null 2>&1) &&
  ok "a config in a project folder, run from /: builds on ../configs, reads its own dataset file" ||
  { fail "a config of one's own"; cat "$T/project.err" | tail -3; }
finish
