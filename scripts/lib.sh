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
