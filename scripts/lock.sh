#!/usr/bin/env bash
# Regenerates requirements.lock and requirements-dev.lock from the pins people edit
# (requirements.txt, requirements-dev.txt): every package, transitive ones included, pinned
# with its sha256 hashes. scripts/install.sh installs only from these locks (--require-hashes).
# Run it after changing a pin; tests/security/test_dependency_lock.py fails until you do.
# pip-tools runs from a throw-away virtualenv, never from .venv.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON="${PYTHON:-python3.11}"
tools="$(mktemp -d)"
trap 'rm -rf "$tools"' EXIT
"$PYTHON" -m venv "$tools/venv"
"$tools/venv/bin/python" -m pip install --quiet "pip-tools==7.7.0"
compile=("$tools/venv/bin/pip-compile" --quiet --generate-hashes --allow-unsafe --strip-extras
  --no-emit-index-url --no-emit-find-links)
"${compile[@]}" --output-file requirements.lock requirements.txt
"${compile[@]}" --output-file requirements-dev.lock requirements-dev.txt
echo "requirements.lock and requirements-dev.lock regenerated"
