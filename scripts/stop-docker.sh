#!/usr/bin/env bash
# Stops the dockerd that scripts/start-docker.sh started (SIGTERM, then waits), and removes its pid file.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
pidfile=/var/run/docker.pid
pid_alive "$pidfile" || { rm -f "$pidfile"; exit 0; }
pid=$(cat "$pidfile")
kill -TERM "$pid" 2>/dev/null || true
for _ in $(seq 1 60); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
kill -KILL "$pid" 2>/dev/null || true
rm -f "$pidfile"
log "dockerd stopped"
