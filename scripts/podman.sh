#!/usr/bin/env bash
# Podman's Docker-compatible API on a socket of its own, for acp-drill and its tests (Podman 4.3 from
# Debian bookworm). Idempotent.
#
#   scripts/podman.sh start    configure Podman for this machine, start its API service on
#                              /run/podman/podman.sock, load the offline images into it
#   scripts/podman.sh stop     stop the service (what it ran stays; `acp-drill gc` with DOCKER_HOST set removes ours)
#   scripts/podman.sh images   (re)load acp-drill/postgres:15 and acp-drill/redis:7 from dockerd
#
# What this machine kind needs (found by running it):
#   - /etc/containers/containers.conf: ulimits Podman may set (it cannot raise them here), runc (crun 1.8
#     refuses the hybrid cgroups), and the netavark backend (its aardvark-dns names the network's
#     containers; acp-drill gives sandbox containers no DNS server at all and their peers' names in
#     /etc/hosts, since aardvark-dns forwards every other name off the machine, internal network or not);
#   - catatonit, Podman's init for `--init`, which Debian does not pull in when docker.io's tini is there;
#   - a FORWARD rule for traffic within a Podman bridge: dockerd loads br_netfilter and sets the FORWARD
#     policy to DROP, which cuts containers of one Podman network off from each other.
# Use it: DOCKER_HOST=unix:///run/podman/podman.sock acp-drill …
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"

SOCK=/run/podman/podman.sock
PIDFILE=/run/acp-drill-podman.pid
LOG="$ACP_LOG_DIR/podman.log"
CONF=/etc/containers/containers.conf
IMAGES=(acp-drill/postgres:15 acp-drill/redis:7)

podman_answers() { curl -fsS --max-time 3 --unix-socket "$SOCK" http://localhost/_ping >/dev/null 2>&1; }

configure() {
  command -v podman >/dev/null || die "podman is not installed: run scripts/setup.sh"
  mkdir -p /etc/containers "$ACP_LOG_DIR"
  local want
  want=$(cat <<'CONF'
# Written by acp-drill's scripts/podman.sh: what Podman needs on this machine kind.
[containers]
default_ulimits = ["nofile=20000:20000", "nproc=32768:32768"]
[engine]
runtime = "runc"
[network]
network_backend = "netavark"
CONF
)
  if [ ! -e "$CONF" ] || ! grep -q "acp-drill's scripts/podman.sh" "$CONF"; then
    [ -e "$CONF" ] && cp "$CONF" "$CONF.before-acp-drill"
    printf '%s\n' "$want" > "$CONF"
    log "wrote $CONF"
  fi
  iptables -C FORWARD -i podman+ -o podman+ -j ACCEPT 2>/dev/null || iptables -I FORWARD -i podman+ -o podman+ -j ACCEPT
}

load_images() {
  docker_answers || die "dockerd does not answer on $DOCKER_SOCK: the offline images are loaded from it (scripts/start-docker.sh)"
  local missing=()
  for i in "${IMAGES[@]}"; do
    local want have
    want=$(docker image inspect --format '{{.Id}}' "$i")
    have=$(podman image inspect --format '{{.Id}}' "$i" 2>/dev/null || true)
    [ "sha256:$have" = "$want" ] || [ "$have" = "$want" ] || missing+=("$i")
  done
  [ ${#missing[@]} -eq 0 ] && { log "Podman has the offline images"; return 0; }
  log "loading ${missing[*]} into Podman"
  docker save "${missing[@]}" | podman load -q >/dev/null
}

start() {
  configure
  if ! podman_answers; then
    if pid_alive "$PIDFILE"; then kill "$(cat "$PIDFILE")" 2>/dev/null || true; sleep 1; fi
    rm -f "$PIDFILE" "$SOCK"; mkdir -p "$(dirname "$SOCK")"
    log "starting Podman's API service on $SOCK (log: $LOG)"
    # Every descriptor above 2 closed: a caller's pipe must not stay open in the daemon.
    (
      for fd in $(ls "/proc/$BASHPID/fd"); do [ "$fd" -gt 2 ] && { eval "exec $fd>&-"; } 2>/dev/null || true; done
      exec setsid podman system service --time=0 "unix://$SOCK" > "$LOG" 2>&1 < /dev/null
    ) &
    echo $! > "$PIDFILE"
    for _ in $(seq 1 100); do podman_answers && break; sleep 0.1; done
    podman_answers || die "Podman's API service did not answer on $SOCK (log: $LOG)"
  fi
  load_images
  log "Podman answers on unix://$SOCK ($(podman version --format '{{.Server.Version}}' 2>/dev/null || echo '?'))"
}

stop() {
  if pid_alive "$PIDFILE"; then
    local pid; pid=$(cat "$PIDFILE")
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
    log "stopped Podman's API service"
  fi
  rm -f "$PIDFILE" "$SOCK"
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  images) load_images ;;
  *) die "usage: scripts/podman.sh start | stop | images" ;;
esac
