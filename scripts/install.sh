#!/usr/bin/env bash
# Creates .venv with Python 3.11, installs the pinned requirements and fetches the cutout models
# (u2netp, and ISNet unless STUDIO_CUTOUT_MODEL=fast; scripts/fetch_model.py).
# Usage: scripts/install.sh [requirements file]   (default requirements.txt)
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON="${PYTHON:-python3.11}"
command -v "$PYTHON" >/dev/null 2>&1 || PYTHON=python3
if [ ! -x .venv/bin/python ]; then
  "$PYTHON" -m venv .venv
fi
.venv/bin/python -m pip install --quiet -r "${1:-requirements.txt}"
.venv/bin/python scripts/fetch_model.py
