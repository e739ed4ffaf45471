# Shared helpers for acp-drill's scripts. Sourced, never run.
# shellcheck shell=bash

ACP_STATE_DIR=${ACP_STATE_DIR:-/var/lib/acp-drill}
ACP_LOG_DIR=${ACP_LOG_DIR:-/var/log/acp-drill}
DOCKER_SOCK=${DOCKER_SOCK:-/var/run/docker.sock}

log() { printf '[%s] %s\n' "$(date -u +%H:%M:%S)" "$*" >&2; }
die() { log "error: $*"; exit 2; }

need_root() {
  [ "$(id -u)" = 0 ] || die "this step installs packages and starts dockerd: run it as root"
}

# docker_answers: true when an engine answers /_ping on the socket.
docker_answers() {
  curl -fsS --max-time 3 --unix-socket "$DOCKER_SOCK" http://localhost/_ping >/dev/null 2>&1
}

# pid_alive FILE: true when FILE names a running process.
pid_alive() {
  local pid
  [ -s "$1" ] || return 1
  pid=$(cat "$1" 2>/dev/null) || return 1
  [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null
}

# acp_drill_bin: the acp-drill to run — $ACP_DRILL, else the newest build of this checkout (a stale
# release build must not shadow a fresh debug one), else PATH. Exits 2 when there is none.
acp_drill_bin() {
  local root bin=${ACP_DRILL:-}
  root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
  if [ -z "$bin" ]; then
    bin=$(ls -t "$root/.build/release/acp-drill" "$root/.build/debug/acp-drill" 2>/dev/null | head -n 1 || true)
    [ -n "$bin" ] || bin=$(command -v acp-drill || true)
  fi
  [ -n "$bin" ] || { echo "error: acp-drill is not built: run 'swift build -c release' in $root" >&2; exit 2; }
  printf '%s\n' "$bin"
}

# build_release NAME: builds acp-drill in release mode (the log's tail on failure) and prints its path.
build_release() {
  local log="${TMPDIR:-/tmp}/acp-drill-$1-build.log"
  log "building acp-drill (release)"
  swift build -c release --product acp-drill > "$log" 2>&1 || { tail -n 40 "$log" >&2; exit 1; }
  printf '%s\n' "$(swift build -c release --show-bin-path)/acp-drill"
}
