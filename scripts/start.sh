#!/usr/bin/env bash
# Quick start: install everything, then start the app on the local engine (no API keys needed).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install.sh requirements.txt
exec .venv/bin/streamlit run app.py "$@"
