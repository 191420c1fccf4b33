#!/bin/bash
# Data-parallel training on this machine, as mmseg's tools/dist_train.sh:
#   tools/dist_train.sh CONFIG NPROC [ann_train flags...]
# PORT (default: a free one) sets the rendezvous port. Each process runs --batch_size images;
# with N processes the effective batch is N x --batch_size. On several machines, start
# ann_train on each with torchrun's variables: WORLD_SIZE, RANK, MASTER_ADDR, MASTER_PORT.
set -euo pipefail
if [ $# -lt 2 ]; then
  echo "usage: tools/dist_train.sh CONFIG NPROC [ann_train flags...]" >&2
  exit 2
fi
CONFIG=$1
NPROC=$2
shift 2
BIN=${ANN_TRAIN:-$(dirname "$0")/../bazel-bin/tools/ann_train}
exec "$BIN" --config="$CONFIG" --nproc="$NPROC" --dist_port="${PORT:-0}" "$@"
