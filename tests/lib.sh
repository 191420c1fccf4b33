#!/bin/bash
# Shared by the end-to-end tests: sourced after `set -u` with the test's scratch folder name.
#   source "${TEST_SRCDIR}/${TEST_WORKSPACE}/tests/lib.sh" NAME
# sets ROOT (the runfiles root, also the working directory), PY (Debian's python3 with torch),
# BIN (the built tools), T (an empty scratch folder), and defines ok / fail / check / finish.
ROOT="${TEST_SRCDIR}/${TEST_WORKSPACE}"
cd "$ROOT" || exit 1
PY=/usr/bin/python3
BIN="$ROOT/tools"
T="${TEST_TMPDIR}/$1"
rm -rf "$T" && mkdir -p "$T"
fails=0

ok() { echo "ok: $1"; }
fail() { echo "FAIL: $1"; fails=$((fails + 1)); }
# check NAME COMMAND...: the command must succeed.
check() { if "${@:2}"; then ok "$1"; else fail "$1"; fi; }
# The closing line and exit status.
finish() {
  echo "$fails failure(s)"
  [ "$fails" -eq 0 ]
}
# toy_data RAW DATA SIZE SPLITS SEED: a generated toy Cityscapes in the raw download layout (RAW),
# converted to the training layout (DATA); exits the test if either step fails.
toy_data() {
  "$BIN/ann_preprocess" --dataset=toy_cityscapes --dst="$1" --toy_size="$3" --toy_splits="$4" \
    --seed="$5" >/dev/null 2>&1 &&
    "$BIN/ann_preprocess" --dataset=cityscapes --src="$1" --dst="$2" >/dev/null 2>&1 ||
    { echo "FAIL: toy data"; exit 1; }
}
