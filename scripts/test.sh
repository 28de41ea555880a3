#!/usr/bin/env bash
# Runs Keydeck's whole test suite: `scripts/test.sh` (extra arguments go to `cargo test`, and
# then only the cargo tests run).
#
# The keychain tests talk to a real OS keychain. On Linux, when `dbus-run-session` and
# `gnome-keyring-daemon` are installed (Debian: dbus gnome-keyring), this script starts a private
# session bus with a fresh, unlocked keyring in a throw-away HOME, and then requires the keychain
# tests to reach it. Without them the keychain tests say they were skipped.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ -z "${KEYDECK_KEYRING_SESSION:-}" ] && [ "$(uname -s)" = Linux ] \
  && command -v dbus-run-session >/dev/null && command -v gnome-keyring-daemon >/dev/null; then
  # Keep cargo and rustup where they are while HOME moves.
  export CARGO_HOME="${CARGO_HOME:-$HOME/.cargo}" RUSTUP_HOME="${RUSTUP_HOME:-$HOME/.rustup}"
  export KEYDECK_KEYRING_SESSION=1 KEYDECK_REAL_HOME="$HOME"
  # No DISPLAY: with one, a keyring prompt would open a window and the call would hang.
  exec env -u DISPLAY -u DBUS_SESSION_BUS_ADDRESS HOME="$(mktemp -d)" \
    dbus-run-session -- bash "$0" "$@"
fi

if [ -n "${KEYDECK_KEYRING_SESSION:-}" ]; then
  if [ -z "${XDG_RUNTIME_DIR:-}" ] || [ ! -d "$XDG_RUNTIME_DIR" ]; then
    XDG_RUNTIME_DIR="$(mktemp -d)"
    export XDG_RUNTIME_DIR
  fi
  chmod 700 "$XDG_RUNTIME_DIR"
  # On a fresh HOME this creates the default ("login") collection, unlocked with this password.
  eval "$(printf '%s' keydeck-test | gnome-keyring-daemon --unlock --components=secrets)"
  export GNOME_KEYRING_CONTROL KEYDECK_REQUIRE_KEYCHAIN=1
  echo "scripts/test.sh: keychain tests run against gnome-keyring on a private session bus"
fi

cargo test --locked "$@"

# With no arguments this is the whole suite: the vendors' own tooling against the sandbox too
# (tests/sdk: ably-js 2.x with node, schemathesis in a venv), when node, npm and python3's venv
# are installed (.ci/run installs them).
if [ $# -eq 0 ]; then
  if command -v node >/dev/null && command -v npm >/dev/null \
    && python3 -c 'import ensurepip, venv' 2>/dev/null; then
    exe="$(cargo build --locked --bin keydeck --message-format=json 2>/dev/null \
      | sed -n 's/.*"executable":"\([^"]*\)".*/\1/p' | tail -1)"
    bash tests/sdk/run.sh "$exe"
  elif [ -n "${CI:-}" ]; then
    echo "scripts/test.sh: CI needs node, npm and python3-venv for tests/sdk" >&2
    exit 1
  else
    echo "scripts/test.sh: skipped tests/sdk (needs node, npm and python3-venv)"
  fi
fi
