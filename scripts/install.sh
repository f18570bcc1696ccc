#!/usr/bin/env bash
# Creates .venv with Python 3.11, installs the locked requirements and fetches the cutout models
# (u2netp, and ISNet unless STUDIO_CUTOUT_MODEL=fast; scripts/fetch_model.py).
# Usage: scripts/install.sh [requirements file]   (default requirements.txt)
# The pins people edit (requirements.txt, requirements-dev.txt) are installed from their locks
# (requirements.lock, requirements-dev.lock): every package, transitive ones included, at a fixed
# version and checked against its sha256 hashes (--require-hashes). After changing a pin, run
# scripts/lock.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON="${PYTHON:-python3.11}"
command -v "$PYTHON" >/dev/null 2>&1 || PYTHON=python3
requirements="${1:-requirements.txt}"
lock="${requirements%.txt}.lock"
if [ ! -f "$lock" ]; then
  echo "error: $lock is missing; regenerate the locks with scripts/lock.sh" >&2
  exit 1
fi
if [ ! -x .venv/bin/python ]; then
  "$PYTHON" -m venv .venv
fi
.venv/bin/python -m pip install --quiet --require-hashes -r "$lock"
.venv/bin/python scripts/fetch_model.py
