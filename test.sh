#!/bin/bash
# Installs dependencies (Debian packages) and runs every test: `bazel test //...`, then the
# I/O and pickle tests and 60 s of fuzzing the checkpoint reader under ASan + UBSan
# (--config=asan, see the README).
set -uo pipefail
cd "$(dirname "$0")"
./setup.sh || exit 1
status=0
bazel test //... --test_summary=short "$@" || status=$?
bazel test --config=asan //ann/io:all //tests:fuzz_test --test_summary=short "$@" || status=$?
exit $status
