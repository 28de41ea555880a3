#!/usr/bin/env bash
# Build the portable Linux tarball (the AppImage equivalent that builds offline):
#   keydeck-VERSION-ARCH-linux/{keydeck, keydeck.desktop, icons/hicolor/…, install.sh, README.md}
# Usage: packaging/build-tarball.sh [--no-build]
#   --no-build  package the existing ${CARGO_TARGET_DIR:-target}/release/keydeck as is.
# Prints the path of the .tar.gz (in ${CARGO_TARGET_DIR:-target}/dist/) on its last line.
set -euo pipefail
cd "$(dirname "$0")/.."

target_dir=${CARGO_TARGET_DIR:-target}
version=$(sed -n 's/^version = "\(.*\)"$/\1/p' Cargo.toml | head -n 1)
arch=$(uname -m)
name="keydeck-$version-$arch-linux"

if [ "${1:-}" != "--no-build" ]; then
  echo "build-tarball: cargo build --release --locked" >&2
  cargo build --release --locked --bin keydeck >&2
fi
bin="$target_dir/release/keydeck"
[ -x "$bin" ] || { echo "build-tarball: $bin not found; build it first" >&2; exit 1; }

stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
root="$stage/$name"
mkdir -p "$root"
install -m 755 "$bin" "$root/keydeck"
# cargo already strips ([profile.release] strip = true); strip again in case of another profile.
if command -v strip >/dev/null; then strip --strip-unneeded "$root/keydeck"; fi
install -m 644 packaging/keydeck.desktop "$root/keydeck.desktop"
install -m 755 packaging/install.sh "$root/install.sh"
install -m 644 README.md "$root/README.md"
for png in assets/icons/*x*.png; do
  size=$(basename "$png" .png)
  install -D -m 644 "$png" "$root/icons/hicolor/$size/apps/keydeck.png"
done
install -D -m 644 assets/icon.svg "$root/icons/hicolor/scalable/apps/keydeck.svg"

mkdir -p "$target_dir/dist"
out="$(cd "$target_dir/dist" && pwd)/$name.tar.gz"
# Reproducible archive: sorted names, fixed owner and time.
tar -C "$stage" --sort=name --owner=0 --group=0 --numeric-owner \
  --mtime="@${SOURCE_DATE_EPOCH:-0}" -cf - "$name" | gzip -n -9 > "$out"
echo "build-tarball: $(du -h "$out" | cut -f1) $out" >&2
echo "$out"
