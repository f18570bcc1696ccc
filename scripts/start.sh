#!/usr/bin/env bash
# Quick start: install everything, then start the app on the local engine (no API keys needed).
# It listens on 127.0.0.1 (this computer only) unless sign-in ([auth] in .streamlit/secrets.toml)
# or STUDIO_OPEN_TO_NETWORK=true / [studio] open_to_network = true is set: see README,
# "Sharing with a team". `python -m studio serve-address` prints the address it will use.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install.sh requirements.txt
address="$(.venv/bin/python -m studio serve-address)"
extra=()
if [ -n "${STUDIO_SECRETS_FILE:-}" ]; then
  extra+=(--secrets.files "$STUDIO_SECRETS_FILE")
fi
exec .venv/bin/streamlit run app.py --server.address "$address" "${extra[@]}" "$@"
