#!/usr/bin/env sh
# Install Keydeck from the portable tarball for the current user (no root, no package manager):
#   ./install.sh              install into ~/.local (bin, applications, icons)
#   ./install.sh --uninstall  remove what it installed
# PREFIX=/some/dir ./install.sh installs under another prefix (e.g. /usr/local, as root).
set -eu

here=$(cd "$(dirname "$0")" && pwd)
prefix=${PREFIX:-$HOME/.local}
bin="$prefix/bin/keydeck"
desktop="$prefix/share/applications/keydeck.desktop"
icons="$prefix/share/icons/hicolor"

refresh() {
  if command -v update-desktop-database >/dev/null 2>&1; then
    update-desktop-database -q "$prefix/share/applications" 2>/dev/null || true
  fi
  if [ -f "$icons/index.theme" ] && command -v gtk-update-icon-cache >/dev/null 2>&1; then
    gtk-update-icon-cache -q -t -f "$icons" 2>/dev/null || true
  fi
}

if [ "${1:-}" = "--uninstall" ]; then
  rm -f "$bin" "$desktop"
  for f in "$icons"/*/apps/keydeck.png "$icons"/scalable/apps/keydeck.svg; do
    [ -e "$f" ] && rm -f "$f"
  done
  refresh
  echo "Keydeck removed from $prefix (your settings and keychain entries were kept)."
  exit 0
fi

[ -x "$here/keydeck" ] || { echo "install.sh: no keydeck binary next to this script" >&2; exit 1; }

install -d "$prefix/bin" "$prefix/share/applications"
install -m 755 "$here/keydeck" "$bin"
# The menu entry runs the binary by its full path, so ~/.local/bin need not be on PATH.
sed "s|^Exec=keydeck|Exec=$bin|; s|^TryExec=.*||" "$here/keydeck.desktop" > "$desktop.tmp"
chmod 644 "$desktop.tmp"
mv "$desktop.tmp" "$desktop"
(cd "$here/icons/hicolor" && for f in */apps/keydeck.*; do
  install -d "$icons/$(dirname "$f")"
  install -m 644 "$f" "$icons/$f"
done)
refresh

echo "Keydeck $("$bin" --version 2>/dev/null | awk '{print $2}') installed:"
echo "  $bin"
echo "  $desktop (menu entry)"
case ":$PATH:" in
  *":$prefix/bin:"*) ;;
  *) echo "Note: $prefix/bin is not on your PATH; the menu entry works anyway." ;;
esac
