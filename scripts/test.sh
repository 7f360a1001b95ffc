#!/usr/bin/env bash
# Set up everything the test suite needs on a fresh machine, then run it.
# System packages (Chromium for the HTML checks, a CJK font for PDFs) are installed when possible;
# Python dependencies go into .venv from this project's own pyproject.toml.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup-system.sh
python3 -m venv .venv
.venv/bin/python -m pip install --quiet --upgrade pip
.venv/bin/python -m pip install --quiet -e ".[test]"
exec .venv/bin/python -m pytest "$@"
