#!/usr/bin/env bash
# The packed tarball, installed globally into a temporary prefix, gives a working `hld`:
# help with examples, and a daemon that starts, answers and stops in a temporary HOME.
# Installing compiles better-sqlite3 from source (~60 s on 2 cores).
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
work="$(mktemp -d "${TMPDIR:-/tmp}/hld-pack-XXXXXX")"
hld="$work/prefix/bin/hld"

cleanup() {
  if [[ -x "$hld" ]]; then "$hld" daemon stop --force --timeout 5000 >/dev/null 2>&1 || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

echo "pack-smoke: packing $root"
tarball="$(cd "$root" && npm pack --silent --pack-destination "$work" | tail -n 1)"
echo "pack-smoke: installing $tarball into $work/prefix"
npm install --global --prefix "$work/prefix" --no-audit --no-fund --prefer-offline "$work/$tarball" >"$work/install.log" 2>&1 ||
  { tail -n 40 "$work/install.log"; exit 1; }

# npm needed the real HOME (its cache and ~/.npmrc); hld gets a fresh one.
export HOME="$work/home"
export XDG_CONFIG_HOME="$HOME/.config"
# Every path at its default, under that HOME.
unset HUMANLAYER_DAEMON_SOCKET HUMANLAYER_DATABASE_PATH HUMANLAYER_LOG_FILE HUMANLAYER_CONFIG_FILE HUMANLAYER_API_KEY

"$hld" --help | grep -q '\$ hld daemon start' || { echo "pack-smoke: hld --help shows no examples"; exit 1; }
"$hld" daemon start --json
"$hld" daemon status --json | grep -q '"status": "ok"' || { echo "pack-smoke: daemon status is not ok"; exit 1; }
[[ -S "$HOME/.humanlayer/daemon.sock" && -f "$HOME/.humanlayer/daemon.db" ]] ||
  { echo "pack-smoke: no socket or database at the default paths"; exit 1; }
"$hld" daemon stop --json
if "$hld" daemon status --json >/dev/null 2>&1; then echo "pack-smoke: daemon still answers after stop"; exit 1; fi
echo "pack-smoke: ok"
