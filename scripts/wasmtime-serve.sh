#!/usr/bin/env bash
# Runs the composed connector (connector + adapter + front, one wasi:http/proxy component) on
# the real `wasmtime serve`, installed from crates.io, against the simulator, and drives the
# lifecycle over HTTP with curl: describe, sync, groups, deprovision, delete.
#
#   scripts/wasmtime-serve.sh             install if needed, build, serve, run the demo, stop
#   scripts/wasmtime-serve.sh --keep      ... and keep serving until Ctrl-C
#
# The first run compiles wasmtime-cli 48.0.8 (`cargo install --locked`) into
# target/wasmtime-cli: it takes long (tens of minutes on two cores). The simulator's tenant
# (its URLs and demo secrets) is handed to the component as wasi:config values
# (`-S config-var=KEY=VALUE`); plain http to the simulator on loopback is allowed by
# `adapter_allow_loopback_http=true`. On a command line the values are visible to other local
# users: fine for the simulator's throw-away secrets, not for real ones.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(dirname "$here")
target=${CARGO_TARGET_DIR:-$root/target}
keep=${1:-}

tools="$target/wasmtime-cli"
wasmtime="$tools/bin/wasmtime"
if ! "$wasmtime" --version 2>/dev/null | grep -q '^wasmtime 48\.0\.8'; then
    echo "== installing wasmtime-cli 48.0.8 into $tools"
    cargo install wasmtime-cli --version 48.0.8 --locked --root "$tools"
fi
"$wasmtime" --version

echo "== building the components (host-harness's build composes them)"
cargo build --quiet -p host-harness --manifest-path "$root/Cargo.toml"
wasm="$target/connector-wasm/wasm32-wasip2/release/atlassian_connector_http.wasm"
ls -l "$wasm"

work=$(mktemp -d)
pids=()
cleanup() {
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
    rm -rf "$work"
}
trap cleanup EXIT

echo "== starting the simulator"
"$target/debug/host-harness" simulate --write-config "$work/tenant.toml" >"$work/sim.log" 2>&1 &
pids+=($!)
for _ in $(seq 100); do [ -s "$work/tenant.toml" ] && break; sleep 0.1; done
[ -s "$work/tenant.toml" ] || { cat "$work/sim.log"; exit 1; }

# `key = "value"` lines of the tenant file (settings, then [secrets]) as wasi:config values.
vars=(-S config -S "config-var=adapter_allow_loopback_http=true")
while IFS= read -r line; do
    if [[ $line =~ ^([a-z_]+)\ =\ \"(.*)\"$ ]]; then
        vars+=(-S "config-var=${BASH_REMATCH[1]}=${BASH_REMATCH[2]}")
    fi
done <"$work/tenant.toml"

addr=127.0.0.1:${WASMTIME_SERVE_PORT:-8080}
echo "== wasmtime serve -S cli -S config ... --addr $addr $(basename "$wasm")"
"$wasmtime" serve -S cli "${vars[@]}" --addr "$addr" "$wasm" >"$work/serve.log" 2>&1 &
pids+=($!)
for _ in $(seq 300); do curl -s -o /dev/null "http://$addr/v1/describe" && break; sleep 0.1; done

call() {
    local op=$1 body=${2:-}
    echo "-- $op"
    if [ -z "$body" ]; then
        curl -sS -w ' [%{http_code}]\n' "http://$addr/v1/$op"
    else
        curl -sS -w ' [%{http_code}]\n' -H 'content-type: application/json' -d "$body" \
            "http://$addr/v1/$op"
    fi
}

call describe | cut -c1-160
call check-health '{}'
call sync-identity '{"identity": {"email": "ann.new@example.com", "given_name": "Ann", "family_name": "New", "external_id": "hr-1001"}}'
call manage-relationships '{"user": {"email": "ann.new@example.com"}, "add": [{"group": "engineering"}, {"group": "jira-software-users"}]}'
call deprovision-identity '{"user": {"email": "ann.new@example.com"}}'
call delete-identity '{"user": {"email": "ann.new@example.com"}}'
call list-users '{"limit": 2}'
echo "-- wasmtime serve's log"
cat "$work/serve.log"

if [ "$keep" = "--keep" ]; then
    echo "== serving on http://$addr (Ctrl-C stops)"
    wait
fi
