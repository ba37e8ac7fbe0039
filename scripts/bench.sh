#!/usr/bin/env bash
# Run the benchmarks (`--smoke`: each once at its smallest size, as CI does; `--screenshots`: README images).
set -euo pipefail
source "$(dirname "$0")/setup.sh" test
apt_need chromium wrk
cd "$ROOT"
if [ "${1:-}" = "--screenshots" ]; then exec python scripts/screenshots.py; fi
exec python bench/run_all.py "$@"
