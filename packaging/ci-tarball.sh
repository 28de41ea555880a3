#!/usr/bin/env bash
# CI: build the portable tarball from the release binary (run after ci-deb.sh, which builds it),
# install it with its install.sh into a throwaway $HOME, run it, validate the desktop entry,
# uninstall, and check nothing is left. No root needed. Honours CARGO_TARGET_DIR.
set -euo pipefail
cd "$(dirname "$0")/.."

fail() { printf 'ci-tarball: FAIL: %s\n' "$*" >&2; exit 1; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

target_dir=${CARGO_TARGET_DIR:-target}
if [ -x "$target_dir/release/keydeck" ]; then
  tarball=$(packaging/build-tarball.sh --no-build | tail -n 1)
else
  tarball=$(packaging/build-tarball.sh | tail -n 1)
fi
[ -f "$tarball" ] || fail "no tarball built"
echo "ci-tarball: $(du -h "$tarball" | cut -f1) $tarball"
tar -tzf "$tarball" | sed 's/^/  /'

tar -xzf "$tarball" -C "$work"
dir=$(find "$work" -mindepth 1 -maxdepth 1 -type d -name 'keydeck-*')
home="$work/home"
mkdir -p "$home"
HOME="$home" PATH="/usr/bin:/bin" "$dir/install.sh"

bin="$home/.local/bin/keydeck"
desktop="$home/.local/share/applications/keydeck.desktop"
[ -x "$bin" ] || fail "$bin not installed"
timeout 20 "$bin" --version || fail "installed keydeck --version failed"
grep -qx "Exec=$bin" "$desktop" || fail "desktop entry does not run $bin"
[ -s "$home/.local/share/icons/hicolor/256x256/apps/keydeck.png" ] || fail "256 px icon not installed"
[ -s "$home/.local/share/icons/hicolor/scalable/apps/keydeck.svg" ] || fail "SVG icon not installed"
if command -v desktop-file-validate >/dev/null; then
  desktop-file-validate "$desktop" || fail "desktop-file-validate $desktop"
  echo "ci-tarball: desktop-file-validate OK"
fi

HOME="$home" "$dir/install.sh" --uninstall
left=$(find "$home" -type f -name 'keydeck*')
[ -z "$left" ] || fail "left behind after --uninstall: $left"
echo "ci-tarball: OK (installed into ~/.local, ran, uninstalled cleanly)"
