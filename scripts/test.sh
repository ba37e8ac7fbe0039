#!/usr/bin/env bash
# One command from a fresh clone to a full test run: installs what is missing, lints, then runs pytest.
# Arguments go to pytest: `./scripts/test.sh tests/unit` (the unit lane), `./scripts/test.sh -m "not chromium"`.
set -euo pipefail
source "$(dirname "$0")/setup.sh" test
# GStreamer's RTSP server, run by Debian's own python3, is the interop peer we did not write.
apt_need python3 python3-gi gstreamer1.0-rtsp gir1.2-gst-rtsp-server-1.0 gstreamer1.0-plugins-good gstreamer1.0-plugins-bad
apt_need vlc-bin vlc-plugin-base  # VLC's RTSP server, a camera we did not write (tests/e2e/test_vlc_interop.py)
# The UI tests drive Debian's Chromium (Playwright's own browser download is not used).
apt_need chromium
# Prometheus and promtool check, unit-test and run the shipped alert rules.
apt_need prometheus
apt_need redis-server  # the cluster's shared state (tests/e2e/test_cluster_store.py)
# systemd-analyze checks the shipped unit.
apt_need systemd
cd "$ROOT"
bash scripts/lint.sh
# The end-to-end tests mostly wait on cameras and browsers, not on the CPU: several run at once, each
# test file in one worker (its simulators and hubs are its own). Six at once on 2 cores: the whole suite
# measured 7 min 10 s with four and 5 min 58 s with six, all green. HUB_TEST_WORKERS=0 runs them in turn.
WORKERS="${HUB_TEST_WORKERS:-6}"
PARALLEL=()
if [ "$WORKERS" != "0" ]; then PARALLEL=(-n "$WORKERS" --dist loadfile); fi
set +e
python -m pytest "${PARALLEL[@]}" "$@"
status=$?
set -e
# pytest exits 5 when it collected no test: that is a failure of the suite, say so.
if [ "$status" = 5 ]; then echo "no tests were collected" >&2; exit 1; fi
exit "$status"
