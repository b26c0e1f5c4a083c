#!/usr/bin/env bash
# Meets the project the way a newcomer does: the pinned toolchain installed WITHOUT the
# wasm32-wasip2 target (the normal state of a machine that had 1.95.0 before this checkout),
# a fresh clone, an empty target directory, and the README's first command. The target is
# put back afterwards whatever happens.
#
#   bash scripts/fresh-machine.sh            # the demo (README's main job)
#   bash scripts/fresh-machine.sh --tests    # the demo, then the README's test command
#
# Prints what it did and how long each step took; exits non-zero when a step fails.
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
toolchain="$(sed -n 's/^channel *= *"\(.*\)"/\1/p' "$here/rust-toolchain.toml")"
target=wasm32-wasip2
run_tests=false
[ "${1:-}" = "--tests" ] && run_tests=true

command -v rustup >/dev/null || { echo "rustup is required" >&2; exit 1; }
# The pinned toolchain as the toolchain file describes it (a no-op when it is installed).
rustup run "$toolchain" rustc --version >/dev/null 2>&1 || (cd "$here" && rustup toolchain install)
had_target=false
rustup target list --installed --toolchain "$toolchain" | grep -qx "$target" && had_target=true
restore() {
  if $had_target; then rustup target add "$target" --toolchain "$toolchain" >/dev/null 2>&1 || true; fi
  [ -n "${work:-}" ] && rm -rf "$work"
}
trap restore EXIT

rustup target remove "$target" --toolchain "$toolchain" >/dev/null 2>&1 || true
if rustup target list --installed --toolchain "$toolchain" | grep -qx "$target"; then
  echo "could not remove $target from $toolchain" >&2; exit 1
fi
echo "toolchain $toolchain without $target: ok"

work="$(mktemp -d)"
git clone --quiet "$here" "$work/clone"
echo "fresh clone of $(git -C "$here" rev-parse --short HEAD) in $work/clone"
cd "$work/clone"

step() {
  local what="$1"; shift
  local start=$SECONDS
  echo "\$ $*"
  if "$@" > "$work/$what.log" 2>&1; then
    echo "$what: ok in $((SECONDS - start)) s"
  else
    echo "$what: FAILED after $((SECONDS - start)) s; the last lines:" >&2
    tail -n 30 "$work/$what.log" >&2
    exit 1
  fi
}

step demo cargo run -p host-harness -- demo
grep -m1 "installed the $target target" "$work/demo.log" || true
tail -n 3 "$work/demo.log"
if $run_tests; then
  step tests cargo test --workspace
  grep -E "^test result:" "$work/tests.log" | awk '{p+=$4; f+=$6} END {print p " passed, " f " failed"}'
fi
