#!/usr/bin/env bash
# The README's test command: set up what is missing, then run pytest.
# Extra arguments go to pytest (e.g. `-m slow` for the end-to-end checks).
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
bash tools/setup_env.sh
exec "${VILADIFF_VENV:-$ROOT/.venv}/bin/python" -m pytest tests "$@"
