#!/usr/bin/env bash
# Render assets/icon.svg (the one icon source) to every size the platforms need, and commit the
# results so that builds need no image tool:
#   assets/icon.png                  256x256, embedded by the app as its window icon
#   assets/icons/NxN.png             16 … 512 (Linux hicolor theme, cargo-packager, tarball)
#   assets/icons/keydeck.ico         Windows: 16, 24, 32, 48, 64, 256 (256 stored as PNG)
#   assets/icons/keydeck.icns        macOS: 16, 32, 48, 128, 256, 512
# Tools (Debian): librsvg2-bin (rsvg-convert), icoutils (icotool), icnsutils (png2icns).
#   apt-get install -y --no-install-recommends librsvg2-bin icoutils icnsutils
# Usage: packaging/make-icons.sh [--check]
#   --check  render to a temporary directory and fail if the committed files differ.
set -euo pipefail
cd "$(dirname "$0")/.."

src=assets/icon.svg
sizes=(16 22 24 32 48 64 128 256 512)

for tool in rsvg-convert icotool png2icns; do
  command -v "$tool" >/dev/null || {
    echo "make-icons: '$tool' not found; apt-get install -y librsvg2-bin icoutils icnsutils" >&2
    exit 1
  }
done

check=0
[ "${1:-}" = "--check" ] && check=1
if [ "$check" = 1 ]; then
  out=$(mktemp -d)
  trap 'rm -rf "$out"' EXIT
else
  out=assets
fi
mkdir -p "$out/icons"

for s in "${sizes[@]}"; do
  rsvg-convert --width "$s" --height "$s" --keep-aspect-ratio "$src" --output "$out/icons/${s}x${s}.png"
done
cp "$out/icons/256x256.png" "$out/icon.png"

icotool --create --output "$out/icons/keydeck.ico" \
  "$out/icons/16x16.png" "$out/icons/24x24.png" "$out/icons/32x32.png" \
  "$out/icons/48x48.png" "$out/icons/64x64.png" --raw="$out/icons/256x256.png"

# png2icns picks the icns type from each PNG's size.
png2icns "$out/icons/keydeck.icns" \
  "$out/icons/16x16.png" "$out/icons/32x32.png" "$out/icons/48x48.png" \
  "$out/icons/128x128.png" "$out/icons/256x256.png" "$out/icons/512x512.png" >/dev/null

if [ "$check" = 1 ]; then
  if ! diff -r "$out/icons" assets/icons >/dev/null || ! cmp -s "$out/icon.png" assets/icon.png; then
    echo "make-icons: committed icons differ from $src; run packaging/make-icons.sh" >&2
    exit 1
  fi
  echo "make-icons: committed icons match $src"
else
  echo "make-icons: wrote assets/icon.png and assets/icons/ (${sizes[*]} px, .ico, .icns)"
fi
