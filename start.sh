#!/usr/bin/env bash
# Install Photon into ./.venv (first run, or after pyproject.toml changed) and serve the
# dashboard: http://127.0.0.1:5006/app on the mock feed. The first command of README.md.
# Usage: bash start.sh [photon options]    e.g. bash start.sh --feed finnhub --port 5007
# Ctrl-C stops the server and everything it started.
set -euo pipefail
cd "$(dirname "$0")"
. scripts/venv.sh
ensure_venv
install_photon ""
exec .venv/bin/photon "$@"
