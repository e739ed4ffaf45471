#!/usr/bin/env bash
# A second, throw-away dockerd for the tests that restart an engine mid-drill: it runs in a network namespace
# of its own (only loopback: its bridges never meet the host's or the main dockerd's), with its own socket,
# data and exec roots, and the offline images copied in from the main engine. Restarting it disturbs no
# other suite.
#
#   scripts/engine2.sh start [--live-restore]   start it (idempotent); prints its socket
#   scripts/engine2.sh restart [--live-restore] stop it (SIGTERM, as a service manager does) and start it again
#   scripts/engine2.sh stop                     stop it, leaving its data (the images) for the next start
#   scripts/engine2.sh down                     stop it and remove its data and its namespace
#
# live-restore off (the default): containers stop with the daemon. On: they run through the restart.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

NAME=acp-drill-engine2
SOCK=/run/$NAME.sock
EXEC_ROOT=/run/$NAME
DATA_ROOT=/var/lib/$NAME
PIDFILE=$EXEC_ROOT/dockerd.pid
NETNS=$NAME
IMAGES=(acp-drill/postgres:15 acp-drill/redis:7)

answers() { curl -fsS --max-time 3 --unix-socket "$SOCK" http://localhost/_ping >/dev/null 2>&1; }

start() {
  local live=no
  [ "${1:-}" = --live-restore ] && live=yes
  need_root
  if answers; then echo "unix://$SOCK"; return 0; fi
  mkdir -p "$ACP_LOG_DIR" "$EXEC_ROOT" "$DATA_ROOT"
  [ -e "/run/netns/$NETNS" ] || ip netns add "$NETNS"
  ip netns exec "$NETNS" ip link set lo up
  if [ -e "$PIDFILE" ] && ! pid_alive "$PIDFILE"; then rm -f "$PIDFILE"; fi
  local flags=(--host "unix://$SOCK" --data-root "$DATA_ROOT" --exec-root "$EXEC_ROOT" --pidfile "$PIDFILE"
               --bridge none --iptables=false --ip6tables=false --ip-masq=false)
  [ "$live" = yes ] && flags+=(--live-restore)
  log "starting the second dockerd (live-restore $live, netns $NETNS, log $ACP_LOG_DIR/$NAME.log)"
  # nsenter enters the network namespace only (ip netns exec would also remount /sys and hide the cgroups).
  # The daemon keeps no descriptor of ours beyond 0-2: a caller reading our output to its end (a test's pipe,
  # inherited without close-on-exec) would otherwise wait for the daemon to exit.
  local mark
  mark=$(stat -c %s "$ACP_LOG_DIR/$NAME.log" 2>/dev/null || echo 0)
  launch() {
    (
      for fd in $(ls "/proc/$BASHPID/fd"); do [ "$fd" -gt 2 ] && eval "exec $fd>&-" 2>/dev/null || true; done
      exec setsid nsenter --net="/run/netns/$NETNS" dockerd "${flags[@]}" >>"$ACP_LOG_DIR/$NAME.log" 2>&1 < /dev/null
    ) &
  }
  launch
  for _ in $(seq 1 120); do
    answers && break
    # dockerd 20.10 can panic restoring its network store when a client's DELETE raced its shutdown
    # ("index out of range" in initNetworkController): that store holds nothing of ours once we restart,
    # so it is dropped and the daemon started once more, as an operator would.
    if [ -z "${retried:-}" ] && ! pid_alive "$PIDFILE" && tail -c +"$((mark + 1))" "$ACP_LOG_DIR/$NAME.log" | grep -q '^panic:'; then
      retried=yes
      log "the second dockerd panicked on start; dropping its network store and starting it again"
      rm -f "$DATA_ROOT/network/files/local-kv.db" "$PIDFILE"
      launch
    fi
    sleep 0.5
  done
  answers || { tail -n 30 "$ACP_LOG_DIR/$NAME.log" >&2; die "the second dockerd did not answer within 60 s"; }
  # The offline images, copied from the main engine when missing or of another recipe.
  for image in "${IMAGES[@]}"; do
    want=$(docker image inspect -f '{{.Id}}' "$image" 2>/dev/null) || die "$image is not on the main engine: run scripts/build-images.sh"
    have=$(docker -H "unix://$SOCK" image inspect -f '{{.Id}}' "$image" 2>/dev/null || true)
    if [ "$want" != "$have" ]; then
      log "copying $image into the second dockerd"
      docker save "$image" | docker -H "unix://$SOCK" load >/dev/null
    fi
  done
  echo "unix://$SOCK"
}

stop() {
  pid_alive "$PIDFILE" || { rm -f "$PIDFILE"; return 0; }
  local pid
  pid=$(cat "$PIDFILE")
  kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq 1 120); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
  kill -KILL "$pid" 2>/dev/null || true
  rm -f "$PIDFILE"
}

case "${1:-}" in
  start) start "${2:-}" ;;
  restart) stop; start "${2:-}" ;;
  stop) stop ;;
  down)
    stop
    # The containerd it started under its exec root ends with it; its mounts go with the data.
    for m in $(awk -v r="$DATA_ROOT" -v e="$EXEC_ROOT" '$2 ~ "^"r || $2 ~ "^"e {print $2}' /proc/mounts | sort -r); do umount -l "$m" 2>/dev/null || true; done
    rm -rf "$DATA_ROOT" "$EXEC_ROOT" "$SOCK"
    if [ -e "/run/netns/$NETNS" ]; then ip netns delete "$NETNS" || true; fi
    log "the second dockerd is gone"
    ;;
  *) die "usage: scripts/engine2.sh start|restart [--live-restore] | stop | down" ;;
esac
