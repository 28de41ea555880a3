#!/usr/bin/env bash
# CI (Windows release job): check a built .exe's PE header without running it.
#   packaging/ci-windows-exe.sh FILE console|gui
# The Subsystem field must be 3 (console: keydeck.exe, the command line) or 2 (gui:
# keydeckw.exe, which opens no console), and a resource section (.rsrc: the icon embedded by
# build.rs) must be there; rustc adds none of its own.
set -euo pipefail
[ $# -eq 2 ] || { echo "usage: $0 FILE console|gui" >&2; exit 2; }
file=$1 want=$2
fail() { printf 'ci-windows-exe: FAIL: %s: %s\n' "$file" "$*" >&2; exit 1; }

# Little-endian unsigned integer of $2 bytes at offset $1.
u() { od -An -tu"$2" -j "$1" -N "$2" --endian=little "$file" | tr -d ' '; }

[ "$(head -c 2 "$file")" = MZ ] || fail "not an MZ executable"
pe=$(u 60 4)
[ "$(od -An -c -j "$pe" -N 4 "$file" | tr -d ' ')" = 'PE\0\0' ] || fail "no PE signature"
sections=$(u $((pe + 6)) 2)
optional_size=$(u $((pe + 20)) 2)
optional=$((pe + 24))
subsystem=$(u $((optional + 68)) 2)
case $want in
  console) [ "$subsystem" = 3 ] || fail "subsystem $subsystem, not 3 (console)" ;;
  gui) [ "$subsystem" = 2 ] || fail "subsystem $subsystem, not 2 (Windows GUI)" ;;
  *) echo "usage: $0 FILE console|gui" >&2; exit 2 ;;
esac
table=$((optional + optional_size))
rsrc=no
for ((i = 0; i < sections; i++)); do
  name=$(dd if="$file" bs=1 skip=$((table + 40 * i)) count=8 2>/dev/null | tr -d '\0')
  [ "$name" = .rsrc ] && rsrc=yes
done
[ "$rsrc" = yes ] || fail "no .rsrc section: the icon is not embedded"
echo "ci-windows-exe: OK: $file ($want subsystem, resources embedded)"
