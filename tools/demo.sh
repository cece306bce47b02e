#!/usr/bin/env bash
# The README's first command: set up what is missing, generate the synthetic
# dataset, train the small CPU config semi-supervised (mean teacher) for a few
# minutes, evaluate the teacher (mIoU and per-class IoU) and write prediction
# images.
#   WORK_DIR (default work_dirs/demo); arguments go to tools/train.py,
#   e.g. bash tools/demo.sh --cfg-options randomness.seed=1
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
bash tools/setup_env.sh
PY=${VILADIFF_VENV:-$ROOT/.venv}/bin/python
# one thread unless told otherwise: the same arithmetic on any number of
# cores, so the teacher mIoU the README states reproduces (a run with
# more threads, e.g. OMP_NUM_THREADS=2, is faster and lands elsewhere)
export OMP_NUM_THREADS=${OMP_NUM_THREADS:-1} MKL_NUM_THREADS=${MKL_NUM_THREADS:-1}
CONFIG=configs/viladiff/meanteacher_effnetl0_synthetic.py
WORK_DIR=${WORK_DIR:-work_dirs/demo}

"$PY" tools/make_synthetic_data.py --out data/synthetic
"$PY" tools/train.py "$CONFIG" --work-dir "$WORK_DIR" "$@"
CKPT=$(cat "$WORK_DIR/last_checkpoint")
"$PY" tools/test.py "$CONFIG" "$CKPT" --work-dir "$WORK_DIR/test" \
  --show-dir "$WORK_DIR/predictions" 2>&1 | tee "$WORK_DIR/test.log"
echo
grep "Iter(test)" "$WORK_DIR/test.log" | tail -1
echo "prediction images (ground truth | prediction): $(find "$WORK_DIR/predictions" -name '*.png' | head -1 | xargs dirname)"
