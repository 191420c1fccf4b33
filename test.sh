#!/bin/bash
# Installs dependencies (Debian packages) and runs every test: `bazel test //...`.
set -euo pipefail
cd "$(dirname "$0")"
./setup.sh
bazel test //... --test_summary=short "$@"
