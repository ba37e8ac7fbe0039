#!/usr/bin/env bash
# Lint, format and type checks, as CI runs them (scripts/test.sh runs this first): ruff and mypy from .venv.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
.venv/bin/ruff check hub tests bench scripts
.venv/bin/ruff format --check hub tests bench scripts
.venv/bin/mypy
.venv/bin/hub check streams.toml >/dev/null  # the top-level example config stays valid
