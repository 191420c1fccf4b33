#!/bin/bash
# ann_efficiency end to end: block and whole-model counts (json and table), the 2xMAC option,
# the paper table's layout, and bad flags. (Counts only here; timings belong to benchmarks/.)
set -u
source "${TEST_SRCDIR}/${TEST_WORKSPACE}/tests/lib.sh" eff
EFF="$ROOT/tools/ann_efficiency"
FAST=(--time=false --memory=false --threads=2)

out=$("$EFF" --block=nonlocal --shape=1,2048,128,256 --json "${FAST[@]}" 2>/dev/null)
g=$(printf '%s' "$out" | $PY -c "import json,sys; print(json.load(sys.stdin)['blocks'][0]['gflops'])")
[ "$g" = "601.312" ] && ok "non-local at 128x256: $g GFLOPs" || fail "non-local GFLOPs: $out"
out=$("$EFF" --block=nonlocal --shape=1,2048,128,256 --json --flops_convention=2mac "${FAST[@]}" 2>/dev/null)
g2=$(printf '%s' "$out" | $PY -c "import json,sys; print(json.load(sys.stdin)['blocks'][0]['gflops'])")
[ "$g2" = "1202.62" ] && ok "2mac convention doubles: $g2" || fail "2mac: $out"

out=$("$EFF" --config=configs/ann_r50-d8_512x1024_40k_cityscapes.flags --input=1024x512 --json \
  "${FAST[@]}" 2>/dev/null)
printf '%s' "$out" > "$T/model.json"
check "the json parses strictly" $PY tests/python/json_check.py strict "$T/model.json"
printf '%s' "$out" | $PY -c "
import json, sys
d = json.load(sys.stdin)
assert abs(d['total']['gflops'] - 369.95) < 0.01, d['total']
assert d['total']['params'] == 43863923, d['total']
mods = [m['module'] for m in d['modules']]
assert mods[:5] == ['backbone.stem', 'backbone.layer1', 'backbone.layer2', 'backbone.layer3', 'backbone.layer4'], mods
assert 'decode_head.fusion' in mods and 'decode_head.context' in mods
assert abs(sum(m['gflops'] for m in d['modules']) - d['total']['gflops']) < 0.05
" && ok "R-50 at 512x1024: 369.95 GFLOPs, 43,863,923 inference parameters, per-module rows sum up" ||
  fail "whole model: $out"
table=$("$EFF" --config=configs/ann_r50-d8_512x1024_40k_cityscapes.flags --input=1024x512 \
  "${FAST[@]}" 2>/dev/null)
printf '%s' "$table" | grep -q "1 multiply-add = 1 FLOP" &&
  printf '%s' "$table" | grep -q "^total (inference) *43863923 *369.95" &&
  ok "model table with convention line and total" || fail "model table: $table"

table=$("$EFF" --paper_table "${FAST[@]}" 2>/dev/null)
rows=$(printf '%s\n' "$table" | grep -c '^\[1,2048,')
printf '%s' "$table" | grep -q "NL/x: FLOPs" && [ "$rows" -eq 9 ] &&
  printf '%s\n' "$table" | grep '^\[1,2048,128,256\] *apnb' | grep -q "11.2x" &&
  ok "paper table: 9 rows, APNB 11.2x fewer FLOPs than non-local at 128x256" ||
  fail "paper table: $table"

for bad in "--block=transformer" "--shape=1,2048,96" "--flops_convention=3mac"; do
  out=$("$EFF" --block=apnb "$bad" "${FAST[@]}" 2>&1); rc=$?
  [ $rc -eq 2 ] && printf '%s' "$out" | grep -q "^error: ${bad%%=*}" && ok "refused $bad" ||
    fail "bad flag $bad: $out"
done
out=$("$EFF" --paper_table --block=apnb "${FAST[@]}" 2>&1); rc=$?
[ $rc -eq 2 ] && printf '%s' "$out" | grep -q "exactly one of" && ok "one mode at a time" ||
  fail "modes: $out"

finish
