#!/bin/bash
# Installs what ann needs from Debian 12 packages (idempotent; quiet when all are present).
# Nothing is downloaded at build or run time: Bazel builds offline against these.
set -euo pipefail

PACKAGES=(
  bazel-bootstrap bazel-rules-java default-jdk-headless
  g++ libtorch-dev libopencv-dev libabsl-dev libgflags-dev libgoogle-glog-dev
  libgtest-dev libgmock-dev libbenchmark-dev libopenblas0-openmp libgloo-dev
  libmatio-dev libzip-dev libpng-dev nlohmann-json3-dev zlib1g-dev
  python3-torch python3-torchvision python3-scipy python3-opencv zip unzip
  clang libclang-rt-14-dev lld
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
