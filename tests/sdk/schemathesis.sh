#!/usr/bin/env bash
# schemathesis, every check, against `keydeck sandbox`, from each of the vendors' own OpenAPI
# documents (../shared/reference/vendor-openapi/ beside the clone, or SPEC_DIR: CometChat's chat
# and Management APIs, Ably's Control API) with the known mistakes in them corrected by name
# (spec_quirks.py). Installs schemathesis into tests/sdk/.venv.
# Usage: tests/sdk/schemathesis.sh path/to/keydeck
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
bin="$1"
spec_dir="${SPEC_DIR:-$here/../../../shared/reference/vendor-openapi}"
[ -d "$spec_dir" ] || { echo "schemathesis.sh: no vendor specs at $spec_dir" >&2; exit 2; }

venv="$here/.venv"
if [ ! -x "$venv/bin/schemathesis" ]; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check 'schemathesis==4.32.5'
fi

work="$(mktemp -d)"
line="$work/start-up.json"
"$bin" sandbox --port 0 --ably-rest-port 0 --print-secrets >"$line" 2>"$work/sandbox.log" &
pid=$!
trap 'kill "$pid" 2>/dev/null || true; rm -rf "$work"' EXIT
for _ in $(seq 100); do
  [ -s "$line" ] && break
  sleep 0.1
done
[ -s "$line" ] || { echo "schemathesis.sh: keydeck sandbox printed no start-up line" >&2; exit 1; }
field() { python3 -c "import json,sys; i=json.loads(open(sys.argv[1]).readline()); print(eval(sys.argv[2]))" "$line" "$1"; }

run() { # run NAME URL EXTRA-CONFIG [schemathesis options…]
  local name="$1" url="$2" extra="$3"
  shift 3
  python3 "$here/spec_quirks.py" "$spec_dir/$name.subset.json" "$work/$name.json" "$work/$name.toml"
  printf '%s\n' "$extra" >>"$work/$name.toml"
  # No --checks: every check runs by default, and an explicit `--checks all` would override the
  # per-operation settings of the behaviour quirks.
  # From the scratch folder, so that schemathesis's own cache stays out of the work tree.
  (cd "$work" && "$venv/bin/schemathesis" --config-file "$work/$name.toml" run "$work/$name.json" --url "$url" \
    --seed 20261202 --max-examples "${ST_MAX_EXAMPLES:-40}" --workers 1 --no-color \
    --generation-database none "$@")
}

status=0
run cometchat-chat "$(field "i['cometchat']['apps'][0]['baseUrl']")" "" \
  -H "apikey: $(field "i['cometchat']['apps'][0]['restApiKey']")" || status=1
run cometchat-mgmt "$(field "i['cometchat']['management']['baseUrl']")" "" \
  -H "key: $(field "i['cometchat']['management']['key']")" \
  -H "secret: $(field "i['cometchat']['management']['secret']")" || status=1
# Ably's Control API, with the account's own id so that the calls reach its core logic (a
# random id only ever meets 404).
run ably-control "$(field "i['ably']['controlUrl']")" \
  "$(printf '[parameters]\n"path.account_id" = "%s"' "$(field "i['ably']['accountId']")")" \
  -H "Authorization: Bearer $(field "i['ably']['accessToken']")" || status=1
exit "$status"
