#!/bin/bash
# End to end: ann_preprocess on small raw trees of each dataset written by Python (PNG/JPEG via
# PIL, SBD .mat via scipy, Detail json with our own RLE encoder), outputs checked against labels
# Python computes independently; then broken trees: one "error: <file>: ..." line naming the
# broken file, exit status 1, no split lists, no temporary files; after the fix a re-run skips
# the finished files and completes. Also the toy generator → cityscapes conversion.
# The layouts are mmseg's: on each converted tree our reader (tests/dataset_dump) and a Python
# reading of mmseg 0.30's rules for that dataset (its dataset class and config: image and label
# folders, split lists or scans, palette PNGs as indices, reduce_zero_label) give the same
# samples in the same order with the same labels; for VOC aug also on the tree mmseg's own
# converter makes, whose samples and labels equal ours.
set -u
source "${TEST_SRCDIR}/${TEST_WORKSPACE}/tests/lib.sh" pre
PRE="$ROOT/tools/ann_preprocess"
RAW="tests/python/raw_datasets.py"
DUMP="$ROOT/tests/dataset_dump"
# same_as_mmseg DATASET DATA_ROOT NAME: our reader and mmseg's rules agree on train and val.
same_as_mmseg() {
  local split
  for split in train val; do
    "$DUMP" --dataset=$1 --data_root="$2" --split=$split >"$T/$3.ours.$split" 2>&1 &&
      $PY $RAW mmseg_dump $1 "$2" $split >"$T/$3.mmseg.$split" &&
      diff "$T/$3.ours.$split" "$T/$3.mmseg.$split" >/dev/null ||
      { echo "    ours vs mmseg's rules ($split):"; diff "$T/$3.ours.$split" "$T/$3.mmseg.$split" | head -5; return 1; }
  done
}
data_root() {  # data_root DATASET DST: the --data_root of a converted tree
  case $1 in
    voc_aug) echo "$2/VOCdevkit/VOC2012" ;; pascal_context) echo "$2/VOCdevkit/VOC2010" ;;
    *) echo "$2" ;;
  esac
}

for d in cityscapes ade20k voc_aug pascal_context; do
  $PY $RAW make $d "$T/$d-raw" >/dev/null || { fail "$d: make raw tree"; continue; }
  if "$PRE" --dataset=$d --src="$T/$d-raw" --dst="$T/$d" --workers=2 >"$T/$d.log" 2>&1 &&
     $PY $RAW check $d "$T/$d-raw" "$T/$d" >/dev/null; then
    ok "$d: converted and matches Python's labels"
  else
    fail "$d: conversion"; cat "$T/$d.log"
  fi
  same_as_mmseg $d "$(data_root $d "$T/$d")" $d &&
    ok "$d: our reader = mmseg's rules on our tree ($(wc -l <"$T/$d.ours.train") train, $(wc -l <"$T/$d.ours.val") val samples, same order and labels)" ||
    fail "$d: our reader differs from mmseg's rules"
  # A second run converts nothing.
  "$PRE" --dataset=$d --src="$T/$d-raw" --dst="$T/$d" --workers=2 >"$T/$d.log2" 2>&1
  if grep -q " 0 converted" "$T/$d.log2"; then ok "$d: re-run skips finished files"; else
    fail "$d: re-run skips finished files"; cat "$T/$d.log2"; fi

  kinds="missing_label size unknown_id corrupt empty"
  [ $d = voc_aug ] && kinds="$kinds truncated_mat"
  for kind in $kinds; do
    B="$T/$d-$kind"
    bad=$($PY $RAW make $d "$B/raw" --break $kind) || { fail "$d/$kind: make"; continue; }
    "$PRE" --dataset=$d --src="$B/raw" --dst="$B/out" --workers=2 >"$B/stdout" 2>"$B/stderr"
    rc=$?
    lines=$(grep '^error: ' "$B/stderr")
    first=$(printf '%s\n' "$lines" | head -1)
    tmp=$(find "$B/out" -name '.*.tmp*' 2>/dev/null | wc -l)
    lists=$(find "$B/out" -name '*.txt' 2>/dev/null | wc -l)
    named=no
    case "$first" in *"$(basename "$bad")"*|*"$(dirname "$bad")"*) named=yes ;; esac
    if [ $kind = empty ] && [ $d = voc_aug ]; then  # Reported before any work starts.
      first=$(grep '^error: ' "$B/stderr" | head -1)
      case "$first" in *"$bad: empty split list"*) named=yes ;; esac
      lines=$first
    fi
    if [ $rc -eq 1 ] && [ "$(printf '%s\n' "$lines" | grep -c .)" -eq 1 ] && [ $named = yes ] &&
       [ "$tmp" -eq 0 ] && [ "$lists" -eq 0 ]; then
      ok "$d/$kind: one line naming the file, exit 1, no lists, no temporary files"
    else
      fail "$d/$kind (rc=$rc tmp=$tmp lists=$lists bad=$bad)"; cat "$B/stderr"
    fi
    # Fix the tree (rewrite it whole) and re-run into the same output: finishes the rest.
    rm -rf "$B/raw" && $PY $RAW make $d "$B/raw" >/dev/null
    if "$PRE" --dataset=$d --src="$B/raw" --dst="$B/out" --workers=2 >"$B/stdout2" 2>&1 &&
       $PY $RAW check $d "$B/raw" "$B/out" >/dev/null; then
      if [ "$d/$kind" = voc_aug/empty ] || grep -Eq " [1-9][0-9]* already done" "$B/stdout2"; then
        ok "$d/$kind: fixed tree completes, good files kept from the failed run"
      else
        fail "$d/$kind: good files were not kept"; cat "$B/stdout2"
      fi
    else
      fail "$d/$kind: fixed tree"; cat "$B/stdout2"
    fi
  done
done

# VOC aug as mmseg's converter lays it out (in the download tree): read as it is, and each
# toolkit on its own tree trains and validates on the same images with the same labels.
cp -r "$T/voc_aug-raw" "$T/voc_mmseg" && $PY $RAW mmseg_convert voc_aug "$T/voc_mmseg" &&
  same_as_mmseg voc_aug "$T/voc_mmseg/VOCdevkit/VOC2012" voc_mmseg &&
  ok "voc_aug: a tree made by mmseg's converter is read as mmseg reads it" ||
  fail "voc_aug: mmseg's tree"
for split in train val; do
  diff <(sort "$T/voc_aug.ours.$split") <(sort "$T/voc_mmseg.ours.$split") >/dev/null &&
    ok "voc_aug $split: our tree and mmseg's hold the same samples and labels" ||
    fail "voc_aug $split: our tree and mmseg's differ"
done

# The toy generator writes a raw Cityscapes tree the cityscapes converter accepts, and the
# trainIds match the official table (checked in Python).
if "$PRE" --dataset=toy_cityscapes --dst="$T/toy-raw" --toy_size=96x48 --toy_splits=4,2,1 \
     --seed=3 >/dev/null 2>&1 &&
   "$PRE" --dataset=cityscapes --src="$T/toy-raw" --dst="$T/toy" >/dev/null 2>&1 &&
   $PY $RAW check cityscapes "$T/toy-raw" "$T/toy" >/dev/null &&
   [ "$(wc -l <"$T/toy/train.txt")" -eq 4 ] && [ "$(wc -l <"$T/toy/test.txt")" -eq 1 ]; then
  ok "toy_cityscapes: generated, converted, trainIds match"
else
  fail "toy_cityscapes"
fi
# Same seed, same bytes.
"$PRE" --dataset=toy_cityscapes --dst="$T/toy-raw2" --toy_size=96x48 --toy_splits=4,2,1 \
  --seed=3 >/dev/null 2>&1
if diff -r "$T/toy-raw" "$T/toy-raw2" >/dev/null; then ok "toy_cityscapes: deterministic"; else
  fail "toy_cityscapes: deterministic"; fi
# Bad flags: a clear error before any work.
out=$("$PRE" --dataset=coco --src="$T" --dst="$T/x" 2>&1); rc=$?
if [ $rc -eq 2 ] && printf '%s' "$out" | grep -q "unknown dataset 'coco'"; then
  ok "unknown dataset refused"; else fail "unknown dataset: $out"; fi
out=$("$PRE" --dataset=cityscapes --src="$T/nowhere" --dst="$T/x" 2>&1); rc=$?
if [ $rc -eq 1 ] && printf '%s' "$out" | grep -q "nowhere: no such directory"; then
  ok "missing --src refused"; else fail "missing src: $out"; fi

finish
