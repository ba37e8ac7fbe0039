#!/usr/bin/env bash
# One command from a fresh clone to a full test run: installs what is missing, then runs pytest.
set -euo pipefail
source "$(dirname "$0")/setup.sh" test
cd "$ROOT"
set +e
python -m pytest "$@"
status=$?
set -e
# pytest exits 5 when it collected no test: that is a failure of the suite, say so.
if [ "$status" = 5 ]; then echo "no tests were collected" >&2; exit 1; fi
exit "$status"
