#!/usr/bin/env bash
# Create (or update) the project's virtual environment in ./.venv.
#
# Idempotent: a second run with unchanged requirements returns in seconds.
# mmcv 2.1.0 is source-only on PyPI; it is built once with CPU ops (or CUDA
# ops with FORCE_CUDA=1) and the wheel is kept in a cache outside the
# repository, so later set-ups on the same machine skip the ~9 minute build.
#
# Environment:
#   VILADIFF_VENV    venv path            (default: <repo>/.venv)
#   VILADIFF_CACHE   wheel cache          (default: ~/.cache/mmseg_viladiff)
#   PYTHON           interpreter for venv (default: python3)
#   FORCE_CUDA=1     build mmcv with CUDA ops (needs nvcc matching torch's CUDA)
#   VILADIFF_EXTRAS  extra requirement files to install, e.g. "optional"
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
VENV=${VILADIFF_VENV:-$ROOT/.venv}
CACHE=${VILADIFF_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/mmseg_viladiff}
PYTHON=${PYTHON:-python3}
FORCE_CUDA=${FORCE_CUDA:-0}
EXTRAS=${VILADIFF_EXTRAS:-optional}
MMCV_VERSION=2.1.0

log() { printf '[setup_env] %s\n' "$*" >&2; }

req_files=(requirements/torch.txt requirements/build.txt requirements/mminstall.txt
           requirements/runtime.txt requirements/tests.txt setup.py)
for extra in $EXTRAS; do req_files+=("requirements/$extra.txt"); done
stamp_value=$(cd "$ROOT" && cat "${req_files[@]}" tools/setup_env.sh | sha256sum | cut -c1-16)-cuda$FORCE_CUDA
stamp_file=$VENV/.viladiff_setup_stamp

# On the project machines the CamVid benchmark lives beside the checkout.
if [[ -d $ROOT/../shared/data/camvid && ! -e $ROOT/data/camvid ]]; then
  mkdir -p "$ROOT/data"
  ln -s ../../shared/data/camvid "$ROOT/data/camvid"
  log "linked data/camvid -> ../shared/data/camvid"
fi

if [[ -f $stamp_file && $(cat "$stamp_file") == "$stamp_value" ]] \
   && "$VENV/bin/python" -c 'import mmseg_viladiff' 2>/dev/null; then
  log "environment in $VENV is up to date"
  exit 0
fi

start=$(date +%s)
if [[ ! -x $VENV/bin/python ]]; then
  log "creating virtual environment $VENV"
  "$PYTHON" -m venv "$VENV"
fi
PY=$VENV/bin/python
pip_install() { "$PY" -m pip install --disable-pip-version-check -q "$@"; }

log "installing torch (PyPI build) ..."
pip_install -r "$ROOT/requirements/torch.txt"
# torch pulls setuptools 8x, which lacks pkg_resources needed by mmcv's setup.py.
pip_install -r "$ROOT/requirements/build.txt"

torch_tag=$("$PY" -c 'import sys, torch; v = torch.__version__.split("+")[0]; print("torch%s-py%d%d" % (v, *sys.version_info[:2]))')
variant=$([[ $FORCE_CUDA == 1 ]] && echo cuda || echo cpu)
wheel_dir=$CACHE/wheels/mmcv-$MMCV_VERSION-$torch_tag-$variant

if ! "$PY" -c "import mmcv, mmcv._ext, sys; sys.exit(mmcv.__version__ != '$MMCV_VERSION')" 2>/dev/null; then
  if ! compgen -G "$wheel_dir/mmcv-$MMCV_VERSION-*.whl" >/dev/null; then
    log "building mmcv $MMCV_VERSION with $variant ops (once per machine, ~9 min on 2 cores) ..."
    build=$(mktemp -d)
    trap 'rm -rf "$build"' EXIT
    "$PY" -m pip download -q --no-deps --no-binary :all: "mmcv==$MMCV_VERSION" -d "$build"
    tar -xzf "$build"/mmcv-$MMCV_VERSION.tar.gz -C "$build"
    # torch >= 2.10 headers need C++20; mmcv 2.1.0's setup.py forces C++17.
    sed -i 's/-std=c++17/-std=c++20/g' "$build/mmcv-$MMCV_VERSION/setup.py"
    mkdir -p "$wheel_dir"
    (cd "$build/mmcv-$MMCV_VERSION" && MMCV_WITH_OPS=1 FORCE_CUDA=$FORCE_CUDA MAX_JOBS=${MAX_JOBS:-2} \
      "$PY" -m pip wheel -q --no-build-isolation --no-deps . -w "$wheel_dir")
  else
    log "using cached mmcv wheel from $wheel_dir"
  fi
  pip_install --no-deps "$wheel_dir"/mmcv-$MMCV_VERSION-*.whl
fi

log "installing OpenMMLab stack and runtime requirements ..."
extra_args=()
for extra in $EXTRAS; do extra_args+=(-r "$ROOT/requirements/$extra.txt"); done
pip_install -r "$ROOT/requirements/mminstall.txt" -r "$ROOT/requirements/runtime.txt" \
  -r "$ROOT/requirements/tests.txt" "${extra_args[@]}" -r "$ROOT/requirements/torch.txt"
pip_install --no-build-isolation --no-deps -e "$ROOT"
"$PY" -c 'import mmseg_viladiff, mmcv._ext; print("mmseg_viladiff", mmseg_viladiff.__version__)'
echo "$stamp_value" > "$stamp_file"
log "done in $(( $(date +%s) - start )) s; activate with: source $VENV/bin/activate"
