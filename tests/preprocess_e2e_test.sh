#!/bin/bash
# End to end: ann_preprocess on small raw trees of each dataset written by Python (PNG/JPEG via
# PIL, SBD .mat via scipy, Detail json with our own RLE encoder), outputs checked against labels
# Python computes independently; then broken trees: one "error: <file>: ..." line naming the
# broken file, exit status 1, no split lists, no temporary files; after the fix a re-run skips
# the finished files and completes. Also the toy generator → cityscapes conversion.
set -u
source "${TEST_SRCDIR}/${TEST_WORKSPACE}/tests/lib.sh" pre
PRE="$ROOT/tools/ann_preprocess"
RAW="tests/python/raw_datasets.py"

for d in cityscapes ade20k voc_aug pascal_context; do
  $PY $RAW make $d "$T/$d-raw" >/dev/null || { fail "$d: make raw tree"; continue; }
  if "$PRE" --dataset=$d --src="$T/$d-raw" --dst="$T/$d" --workers=2 >"$T/$d.log" 2>&1 &&
     $PY $RAW check $d "$T/$d-raw" "$T/$d" >/dev/null; then
    ok "$d: converted and matches Python's labels"
  else
    fail "$d: conversion"; cat "$T/$d.log"
  fi
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
