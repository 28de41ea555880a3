#!/usr/bin/env bash
# The sandbox driven by the vendors' own tooling, as CI runs it (.ci/run, after the cargo tests):
#   1. ably-js (npm `ably` 2.x, pinned by package-lock.json) against `keydeck sandbox`;
#   2. schemathesis against the vendors' OpenAPI documents (tests/sdk/schemathesis.sh).
# Usage: tests/sdk/run.sh path/to/keydeck   (needs node + npm, python3 with venv)
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
bin="$(cd "$(dirname "$1")" && pwd)/$(basename "$1")"
[ -x "$bin" ] || { echo "tests/sdk/run.sh: no keydeck binary at $1" >&2; exit 2; }

cd "$here"
npm ci --no-audit --no-fund --loglevel=error
KEYDECK_BIN="$bin" node --test --test-reporter=spec ably.test.mjs
bash "$here/schemathesis.sh" "$bin"
