#!/usr/bin/env bash
# One command from a fresh clone to a running demo: installs what is missing, then runs `hub demo`.
set -euo pipefail
source "$(dirname "$0")/setup.sh"
cd "$ROOT"
exec hub demo "$@"
