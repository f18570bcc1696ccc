#!/usr/bin/env bash
# Installs the test dependencies and runs the whole suite (unit, page, browser tests).
# Browser tests need Debian's chromium at /usr/bin/chromium (.ci/run installs it).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install.sh requirements-dev.txt
exec .venv/bin/python -m pytest "$@"
