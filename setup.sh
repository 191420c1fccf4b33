#!/bin/bash
# Installs what ann needs from Debian 12 packages (idempotent; quiet when all are present).
# Nothing is downloaded at build or run time: Bazel builds offline against these.
set -euo pipefail

PACKAGES=(
  bazel-bootstrap bazel-rules-java default-jdk-headless
  g++ libtorch-dev libopencv-dev libabsl-dev libgflags-dev libgoogle-glog-dev
  libgtest-dev libgmock-dev libbenchmark-dev libopenblas0-openmp libgloo-dev
  libmatio-dev libzip-dev libpng-dev libssl-dev nlohmann-json3-dev zlib1g-dev
  python3-torch python3-torchvision python3-scipy python3-opencv zip unzip
  clang libclang-rt-14-dev lld
  libonnx-dev python3-onnx nodejs libdnnl-dev
)

missing=()
for p in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}"
  SUDO=""
  [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -q >/dev/null
  $SUDO apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null
  echo "setup: done"
fi

# ONNX Runtime (CPU) for the export tests and benchmark: npm's onnxruntime-node, whose install
# script (which fetches GPU add-ons from elsewhere, and fails here) is skipped; its CPU runtime
# is inside the package.
ORT_VERSION=1.31.1
if ! NODE_PATH="$(npm root -g)" node -e "
    const v = require('onnxruntime-node/package.json').version;
    process.exit(v === '$ORT_VERSION' ? 0 : 1)" 2>/dev/null; then
  echo "setup: installing onnxruntime-node@$ORT_VERSION (npm)"
  SUDO=""
  [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO npm install -g --ignore-scripts --no-audit --no-fund --loglevel=error \
    "onnxruntime-node@$ORT_VERSION" >/dev/null
fi
