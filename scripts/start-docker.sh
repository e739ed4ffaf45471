#!/usr/bin/env bash
# Starts dockerd in the background unless an engine already answers on the socket.
# Handles what a stopped session leaves behind: a stale /var/run/docker.pid (and containerd's) whose
# process is gone, which makes a new dockerd refuse to start.
# Prints "started" when it started the daemon (the caller then owns stopping it), "running" otherwise.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

if docker_answers; then echo running; exit 0; fi
need_root
command -v dockerd >/dev/null || die "dockerd is not installed: run scripts/setup.sh"
mkdir -p "$ACP_LOG_DIR"

for pidfile in /var/run/docker.pid /var/run/docker/containerd/containerd.pid; do
  if [ -e "$pidfile" ] && ! pid_alive "$pidfile"; then
    log "removing stale $pidfile (its process is gone)"
    rm -f "$pidfile"
  fi
done
if pid_alive /var/run/docker.pid; then
  log "a dockerd is running but does not answer yet; waiting for it"
else
  log "starting dockerd (log: $ACP_LOG_DIR/dockerd.log)"
  # setsid: the daemon must not die with this script's process group.
  setsid dockerd >>"$ACP_LOG_DIR/dockerd.log" 2>&1 < /dev/null &
fi
for _ in $(seq 1 120); do
  if docker_answers; then echo started; exit 0; fi
  sleep 0.5
done
tail -n 30 "$ACP_LOG_DIR/dockerd.log" >&2 || true
die "dockerd did not answer /_ping within 60 s (log above)"
