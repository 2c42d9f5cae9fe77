#!/usr/bin/env bash
# The action's install step: stockade from the action's own checkout, in a virtual
# environment of its own under $RUNNER_TEMP (the job's Python stays untouched).
set -euo pipefail
venv="$RUNNER_TEMP/stockade-venv"
python3 -m venv "$venv"
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check "$GITHUB_ACTION_PATH"
"$venv/bin/stockade" --version
