#!/bin/bash
# The checkpoint reader's fuzz target (ann/io/checkpoint_fuzzer.cc) on:
#   - a seed corpus of real .pth files written here by Python's torch (zip and legacy formats:
#     every dtype, views, nesting, a PyTorch-1.0-style hand-written file, small mmseg-layout
#     state dicts, bare and wrapped, with GPU-tagged storages);
#   - the checked-in past crashers (tests/fuzz/checkpoint_crashers), replayed every time;
#   - under --config=asan (libFuzzer + ASan + UBSan), FUZZ_SECONDS (60 there) of fuzzing from
#     the seeds. A crash, a sanitizer report, an escaped exception or a timeout fails the test;
#     the crashing input is printed (base64) to be added to the crashers.
set -u
source "${TEST_SRCDIR}/${TEST_WORKSPACE}/tests/lib.sh" fuzz
FUZZER="$ROOT/ann/io/checkpoint_fuzzer"
CRASHERS="$ROOT/tests/fuzz/checkpoint_crashers"
SEEDS="$T/seeds"
mkdir -p "$SEEDS"
TOOL=tests/python/checkpoint_tool.py
$PY $TOOL dtypes "$SEEDS/dtypes.pth" && $PY $TOOL dtypes "$SEEDS/dtypes_legacy.pth" --legacy &&
  $PY $TOOL legacy_handmade "$SEEDS/handmade_legacy.pth" "$SEEDS/handmade_zip.pth" &&
  $PY - "$SEEDS" <<'PYEOF' || { echo "FAIL: seed corpus"; exit 1; }
import collections, sys, torch
out = sys.argv[1]
g = torch.Generator().manual_seed(0)
sd = collections.OrderedDict([
    ('backbone.conv1.weight', torch.randn(4, 3, 3, 3, generator=g)),
    ('backbone.bn1.running_mean', torch.randn(4, generator=g)),
    ('backbone.bn1.num_batches_tracked', torch.tensor(7)),
    ('decode_head.conv_seg.weight', torch.randn(5, 4, 1, 1, generator=g).half()),
])
sd['decode_head.conv_seg.bias'] = sd['backbone.bn1.running_mean'][1:3]  # a view
ckpt = {'meta': {'CLASSES': ('a', 'b'), 'PALETTE': [[1, 2, 3]], 'iter': 4},
        'state_dict': sd}
torch.save(ckpt, f'{out}/mmseg_zip.pth')
torch.save(ckpt, f'{out}/mmseg_legacy.pth', _use_new_zipfile_serialization=False)
torch.save(sd, f'{out}/bare_zip.pth')
torch.save({'module.' + k: v for k, v in sd.items()}, f'{out}/module_legacy.pth',
           _use_new_zipfile_serialization=False)
PYEOF
echo "seeds: $(ls "$SEEDS" | wc -l) files, $(du -sk "$SEEDS" | cut -f1) KB"

# -runs=0: run the inputs once (a libFuzzer binary would otherwise start fuzzing them).
out=$("$FUZZER" -runs=0 "$CRASHERS" "$SEEDS" 2>&1); rc=$?
[ $rc -eq 0 ] && ok "replayed $(ls "$CRASHERS" | wc -l) past crashers and the seeds" ||
  { fail "replay (exit $rc)"; printf '%s\n' "$out" | tail -30; }

seconds=${FUZZ_SECONDS:-0}
if [ "$seconds" -gt 0 ]; then
  mkdir -p "$T/corpus" "$T/artifacts"
  out=$("$FUZZER" -max_total_time="$seconds" -rss_limit_mb=2048 -timeout=20 -print_final_stats=1 \
    -artifact_prefix="$T/artifacts/" "$T/corpus" "$SEEDS" 2>&1); rc=$?
  printf '%s\n' "$out" | grep -E "^(#[0-9]+ +DONE|stat::number_of_executed_units|Done )" | tail -3
  if [ $rc -eq 0 ] && [ -z "$(ls "$T/artifacts")" ]; then
    ok "fuzzed ${seconds} s: no crash, sanitizer report or timeout"
  else
    fail "fuzzing found a problem (exit $rc)"
    printf '%s\n' "$out" | grep -vE "^#[0-9]+ " | tail -40
    for a in "$T"/artifacts/*; do echo "$(basename "$a"): $(base64 -w0 "$a" | cut -c1-2000)"; done
  fi
else
  echo "fuzzing skipped: FUZZ_SECONDS is 0 (bazel test --config=asan sets 60)"
fi
finish
