#!/usr/bin/env bash
# Checks the simulator's SCIM endpoints with an independent compliance suite: scim2-tester
# (PyPI) run against `host-harness simulate`. Two passes:
#   atlassian    - the simulator as Atlassian answers (demo organization, extension advertised)
#   unadvertised - the atlassian-external extension neither advertised nor returned, so that the
#                  checks scim2-models cannot parse in the first pass run too
# Checks that do not apply to Atlassian's dialect are listed with the reason; any other failure
# makes the script exit non-zero.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(dirname "$here")
target=${CARGO_TARGET_DIR:-$root/target}

echo "== building host-harness"
cargo build --quiet -p host-harness --manifest-path "$root/Cargo.toml"
bin="$target/debug/host-harness"

venv="$target/scim-compliance-venv"
pins=("scim2-tester==0.5.2" "scim2-client[httpx2]==0.13.2" "scim2-models==0.12.3")
if ! "$venv/bin/python" -c 'import scim2_tester, httpx2' 2>/dev/null; then
    echo "== creating $venv"
    rm -rf "$venv"
    if ! python3 -m venv "$venv"; then
        echo "cannot create a Python venv: install python3 with venv support (Debian: python3-venv)" >&2
        exit 1
    fi
    "$venv/bin/pip" install --quiet --disable-pip-version-check "${pins[@]}"
fi

work=$(mktemp -d)
pids=()
cleanup() {
    for pid in "${pids[@]}"; do
        kill "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    done
    rm -rf "$work"
}
trap cleanup EXIT

cat >"$work/unadvertised.toml" <<'TOML'
[options]
advertise_atlassian_extension = false
account_id_pending_reads = 4294967295
TOML

status=0
run_pass() {
    local name=$1
    shift
    local cfg="$work/$name-config.toml" log="$work/$name-server.log"
    "$bin" simulate --port 0 --write-config "$cfg" "$@" >"$log" 2>&1 &
    local pid=$!
    pids+=("$pid")
    for _ in $(seq 1 100); do
        [ -s "$cfg" ] && break
        if ! kill -0 "$pid" 2>/dev/null; then
            echo "simulator exited early:" >&2
            cat "$log" >&2
            exit 1
        fi
        sleep 0.1
    done
    if [ ! -s "$cfg" ]; then
        echo "simulator did not write its config within 10 s" >&2
        cat "$log" >&2
        exit 1
    fi
    local url token
    url=$(sed -n 's/^scim_url = "\(.*\)"$/\1/p' "$cfg")
    token=$(sed -n 's/^scim_token = "\(.*\)"$/\1/p' "$cfg")
    echo "== scim2-tester pass '$name' against $url"
    SCIM_TOKEN="$token" timeout 120 "$venv/bin/python" "$here/scim_compliance.py" "$name" "$url" || status=1
    kill "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
}

run_pass atlassian
run_pass unadvertised --seed "$work/unadvertised.toml"

if [ "$status" -ne 0 ]; then
    echo "SCIM compliance: FAILED"
else
    echo "SCIM compliance: ok"
fi
exit "$status"
