#!/usr/bin/env bash
# CI: build the Debian package, install it, run the installed binary and its sandbox, validate the
# desktop entry, then remove the package and check it is gone. Needs root and apt (Debian/Ubuntu).
# Honours CARGO_TARGET_DIR (the .deb lands in $CARGO_TARGET_DIR/debian/).
set -euo pipefail
cd "$(dirname "$0")/.."

CARGO_DEB_VERSION=3.8.0
pkg=keydeck
step() { printf '\n== ci-deb: %s\n' "$*"; }
fail() { printf 'ci-deb: FAIL: %s\n' "$*" >&2; exit 1; }

[ "$(id -u)" = 0 ] || fail "must run as root (dpkg -i)"
command -v apt-get >/dev/null || fail "needs apt-get (Debian/Ubuntu)"
export DEBIAN_FRONTEND=noninteractive

sandbox_pid=""
workdir=$(mktemp -d)
cleanup() {
  if [ -n "$sandbox_pid" ] && kill -0 "$sandbox_pid" 2>/dev/null; then
    kill "$sandbox_pid" 2>/dev/null || true
    wait "$sandbox_pid" 2>/dev/null || true
  fi
  rm -rf "$workdir"
}
trap cleanup EXIT

step "tools"
apt-get update -qq
apt-get install -y -qq --no-install-recommends desktop-file-utils curl ca-certificates >/dev/null
if ! cargo deb --version 2>/dev/null | grep -q "$CARGO_DEB_VERSION"; then
  cargo install cargo-deb --version "$CARGO_DEB_VERSION" --locked
fi
cargo deb --version

step "build the package (cargo deb)"
version=$(sed -n 's/^version = "\(.*\)"$/\1/p' Cargo.toml | head -n 1)
[ -n "$version" ] || fail "no version in Cargo.toml"
start=$SECONDS
deb=$(cargo deb --locked | tail -n 1)
[ -f "$deb" ] || fail "cargo deb did not print a .deb path (got '$deb')"
echo "built $deb ($(du -h "$deb" | cut -f1)) in $((SECONDS - start)) s"
dpkg-deb --info "$deb" | sed -n '/Package:/,$p'
dpkg-deb --contents "$deb" | awk '{print $6}' | grep -E '^\./usr/(bin|share/applications|share/icons)/' \
  | grep -Ev '/$' > "$workdir/contents"
cat "$workdir/contents"
for f in ./usr/bin/keydeck ./usr/share/applications/keydeck.desktop \
         ./usr/share/icons/hicolor/256x256/apps/keydeck.png \
         ./usr/share/icons/hicolor/scalable/apps/keydeck.svg; do
  grep -qx "$f" "$workdir/contents" || fail "$f missing from the package"
done

step "install (apt-get install ./$(basename "$deb"): dpkg -i plus its Depends)"
# A leftover install from an earlier run would hide a broken upgrade path; start clean.
if dpkg -s "$pkg" >/dev/null 2>&1; then dpkg -r "$pkg" >/dev/null; fi
apt-get install -y -qq --no-install-recommends "$(realpath "$deb")" >/dev/null
dpkg -s "$pkg" | grep -qx 'Status: install ok installed' || fail "dpkg does not report $pkg installed"
echo "dpkg: $(dpkg -s "$pkg" | grep -E '^(Package|Version|Status):' | tr '\n' ' ')"
[ -x /usr/bin/keydeck ] || fail "/usr/bin/keydeck not installed"

step "run the installed keydeck --version"
out=$(timeout 20 /usr/bin/keydeck --version) || fail "keydeck --version failed"
echo "$out"
case "$out" in *"$version"*) ;; *) fail "--version printed '$out', expected $version" ;; esac

step "start the installed keydeck sandbox and call it"
timeout 120 /usr/bin/keydeck sandbox --port 0 > "$workdir/sandbox.out" 2> "$workdir/sandbox.err" &
sandbox_pid=$!
line=""
for _ in $(seq 1 150); do  # up to 30 s for the first stdout line
  line=$(head -n 1 "$workdir/sandbox.out" 2>/dev/null || true)
  [ -n "$line" ] && break
  kill -0 "$sandbox_pid" 2>/dev/null || { cat "$workdir/sandbox.err" >&2; fail "sandbox exited early"; }
  sleep 0.2
done
[ -n "$line" ] || { cat "$workdir/sandbox.err" >&2; fail "sandbox printed no start-up line in 30 s"; }
base=$(printf '%s' "$line" | python3 -c 'import json,sys; print(json.load(sys.stdin)["cometchat"]["management"]["baseUrl"])') \
  || fail "start-up line is not the expected JSON: $line"
case "$base" in http://127.0.0.1:*) ;; *) fail "management baseUrl '$base' is not on loopback" ;; esac
code=$(curl -s -o "$workdir/apps.body" -w '%{http_code}' --max-time 10 "$base/apps") || fail "curl $base/apps failed"
echo "GET $base/apps without credentials -> HTTP $code: $(head -c 200 "$workdir/apps.body")"
[ "$code" = 401 ] || fail "expected HTTP 401 from $base/apps, got $code"
kill "$sandbox_pid"
wait "$sandbox_pid" 2>/dev/null || true
sandbox_pid=""

step "validate the installed desktop entry and icons"
desktop-file-validate /usr/share/applications/keydeck.desktop || fail "desktop-file-validate"
echo "desktop-file-validate: OK"
for s in 16x16 32x32 48x48 128x128 256x256 512x512; do
  [ -s "/usr/share/icons/hicolor/$s/apps/keydeck.png" ] || fail "icon $s not installed"
done

step "remove the package"
dpkg -r "$pkg" >/dev/null
if dpkg -s "$pkg" 2>/dev/null | grep -q '^Status: install ok installed'; then fail "$pkg still installed"; fi
[ ! -e /usr/bin/keydeck ] || fail "/usr/bin/keydeck still present after dpkg -r"
[ ! -e /usr/share/applications/keydeck.desktop ] || fail "desktop entry still present after dpkg -r"
echo "removed: /usr/bin/keydeck and the desktop entry are gone"

printf '\nci-deb: OK (%s %s built, installed, run, removed)\n' "$pkg" "$version"
