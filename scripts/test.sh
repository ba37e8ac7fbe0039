#!/usr/bin/env bash
# One command from a fresh clone to a full test run: installs what is missing, then runs pytest.
set -euo pipefail
source "$(dirname "$0")/setup.sh" test
# GStreamer's RTSP server, run by Debian's own python3, is the interop peer we did not write.
apt_need python3 python3-gi gstreamer1.0-rtsp gir1.2-gst-rtsp-server-1.0 gstreamer1.0-plugins-good gstreamer1.0-plugins-bad
# The UI tests drive Debian's Chromium (Playwright's own browser download is not used).
apt_need chromium
# Prometheus and promtool check, unit-test and run the shipped alert rules.
apt_need prometheus
# systemd-analyze checks the shipped unit.
apt_need systemd
cd "$ROOT"
set +e
python -m pytest "$@"
status=$?
set -e
# pytest exits 5 when it collected no test: that is a failure of the suite, say so.
if [ "$status" = 5 ]; then echo "no tests were collected" >&2; exit 1; fi
exit "$status"
