#!/usr/bin/env bash
# Run the benchmarks (`--smoke`: each once at its smallest size, as CI does; `--screenshots`: README images).
set -euo pipefail
source "$(dirname "$0")/setup.sh" test
apt_need chromium wrk
# GStreamer's RTSP server serves the natural footage of bench/diagnostics.py --set natural
apt_need python3 python3-gi gstreamer1.0-rtsp gir1.2-gst-rtsp-server-1.0 gstreamer1.0-plugins-good gstreamer1.0-plugins-bad
apt_need redis-server  # bench/cluster.py: the cluster's shared state
cd "$ROOT"
if [ "${1:-}" = "--screenshots" ]; then exec python scripts/screenshots.py; fi
exec python bench/run_all.py "$@"
