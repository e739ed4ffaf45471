#!/usr/bin/env bash
# A real multi-node Docker Swarm on this machine, for the swarm backend's tests and benchmark
# (docs/SWARM.md): each node is a dockerd in a network namespace of its own, on a host bridge of a private
# /24 that nothing else uses, with its own data and exec roots and socket, and the offline images copied in
# from the main engine. Node 1 is the manager; the others join it as workers. Nothing routes off the bridge.
#
#   scripts/swarm.sh up [N]   start N nodes (default 3) and form the swarm (idempotent); prints the
#                             manager's address (unix:///run/acp-swarm/node1.sock)
#   scripts/swarm.sh nodes    every running node's address, one per line (the manager first)
#   scripts/swarm.sh down     leave the swarm, stop every node, remove their namespaces, bridge and data
set -euo pipefail
. "$(dirname "$0")/lib.sh"

BASE=/run/acp-swarm
DATA=/var/lib/acp-swarm
BRIDGE=acpswarm0
PREFIX=10.213.7
IMAGES=(acp-drill/postgres:15 acp-drill/redis:7)

sock() { echo "$BASE/node$1.sock"; }
addr() { echo "$PREFIX.$((10 + $1))"; }
answers() { curl -fsS --max-time 3 --unix-socket "$(sock "$1")" http://localhost/_ping >/dev/null 2>&1; }
dk() { local k=$1; shift; docker -H "unix://$(sock "$k")" "$@"; }

bridge_up() {
  if ! ip link show "$BRIDGE" >/dev/null 2>&1; then
    ip link add "$BRIDGE" type bridge
    ip addr add "$PREFIX.1/24" dev "$BRIDGE"
  fi
  ip link set "$BRIDGE" up
  # The main dockerd sets FORWARD's policy to DROP; the nodes' traffic stays on this bridge, so only
  # bridge-internal forwarding is allowed (nothing is routed to or from any other interface).
  iptables -C FORWARD -i "$BRIDGE" -o "$BRIDGE" -j ACCEPT 2>/dev/null || iptables -I FORWARD -i "$BRIDGE" -o "$BRIDGE" -j ACCEPT
}

node_up() {
  local k=$1 ns=acp-swarm-$k veth=acpsw$k
  mkdir -p "$BASE/node$k" "$DATA/node$k" "$ACP_LOG_DIR"
  if [ ! -e "/run/netns/$ns" ]; then
    ip netns add "$ns"
    ip link add "$veth" type veth peer name eth0 netns "$ns"
    ip link set "$veth" master "$BRIDGE" up
    ip netns exec "$ns" ip addr add "$(addr "$k")/24" dev eth0
    ip netns exec "$ns" ip link set eth0 up
    ip netns exec "$ns" ip link set lo up
  fi
  answers "$k" && return 0
  local pidfile=$BASE/node$k/dockerd.pid
  if [ -e "$pidfile" ] && ! pid_alive "$pidfile"; then rm -f "$pidfile"; fi
  local flags=(--host "unix://$(sock "$k")" --data-root "$DATA/node$k" --exec-root "$BASE/node$k" --pidfile "$pidfile"
               --bridge none --ip6tables=false --ip-masq=false)
  log "starting swarm node $k ($(addr "$k"), netns $ns, log $ACP_LOG_DIR/swarm-node$k.log)"
  # As in engine2.sh: nsenter enters the network namespace only, and the daemon keeps no descriptor of ours.
  (
    for fd in $(ls "/proc/$BASHPID/fd"); do [ "$fd" -gt 2 ] && eval "exec $fd>&-" 2>/dev/null || true; done
    # Its own UTS namespace too, so that each node has a hostname of its own (acp-swarm-<k>): nodes, and
    # the drill's report of where each database ran, are told apart by it.
    exec setsid nsenter --net="/run/netns/$ns" unshare --uts sh -c 'hostname "$0" && exec dockerd "$@"' "acp-swarm-$k" "${flags[@]}" \
      >>"$ACP_LOG_DIR/swarm-node$k.log" 2>&1 < /dev/null
  ) &
  for _ in $(seq 1 120); do answers "$k" && return 0; sleep 0.5; done
  tail -n 30 "$ACP_LOG_DIR/swarm-node$k.log" >&2
  die "swarm node $k did not answer within 60 s"
}

copy_images() {
  local k=$1 image want have
  for image in "${IMAGES[@]}"; do
    want=$(docker image inspect -f '{{.Id}}' "$image" 2>/dev/null) || die "$image is not on the main engine: run scripts/build-images.sh"
    have=$(dk "$k" image inspect -f '{{.Id}}' "$image" 2>/dev/null || true)
    if [ "$want" != "$have" ]; then
      log "copying $image into swarm node $k"
      docker save "$image" | dk "$k" load >/dev/null
    fi
  done
}

up() {
  local n=${1:-3} k pid
  need_root
  [ "$n" -ge 1 ] && [ "$n" -le 9 ] || die "usage: scripts/swarm.sh up [N], 1 ≤ N ≤ 9"
  docker_answers || die "the main dockerd does not answer: the images are copied from it (scripts/start-docker.sh)"
  bridge_up
  for k in $(seq 1 "$n"); do node_up "$k"; done
  # Waited for by pid: a bare `wait` would also wait for the daemons started above.
  local copies=()
  for k in $(seq 1 "$n"); do copy_images "$k" & copies+=($!); done
  for pid in "${copies[@]}"; do wait "$pid" || die "copying the images into the swarm nodes failed"; done
  if [ "$(dk 1 info -f '{{.Swarm.LocalNodeState}}')" != active ]; then
    log "forming the swarm on node 1"
    dk 1 swarm init --advertise-addr "$(addr 1)" --listen-addr "$(addr 1):2377" >/dev/null
  fi
  local token
  token=$(dk 1 swarm join-token -q worker)
  for k in $(seq 2 "$n"); do
    if [ "$(dk "$k" info -f '{{.Swarm.LocalNodeState}}')" != active ]; then
      log "node $k joins the swarm"
      dk "$k" swarm join --token "$token" --advertise-addr "$(addr "$k")" --listen-addr "$(addr "$k"):2377" "$(addr 1):2377" >/dev/null
    fi
  done
  # Every node ready before anything is scheduled.
  for _ in $(seq 1 60); do
    [ "$(dk 1 node ls --filter role=worker -q | wc -l)" -ge "$((n - 1))" ] &&
      ! dk 1 node ls --format '{{.Status}}' | grep -qv Ready && break
    sleep 1
  done
  dk 1 node ls --format '{{.Status}}' | grep -qv Ready && die "not every swarm node is ready: $(dk 1 node ls)"
  echo "unix://$(sock 1)"
}

nodes() {
  local k
  for k in $(seq 1 9); do answers "$k" && echo "unix://$(sock "$k")"; done
  return 0
}

down() {
  local k ns pidfile pid
  for k in $(seq 9 -1 1); do
    ns=acp-swarm-$k
    pidfile=$BASE/node$k/dockerd.pid
    if answers "$k"; then dk "$k" swarm leave --force >/dev/null 2>&1 || true; fi
    if pid_alive "$pidfile"; then
      pid=$(cat "$pidfile")
      kill -TERM "$pid" 2>/dev/null || true
      for _ in $(seq 1 60); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
      kill -KILL "$pid" 2>/dev/null || true
    fi
    # The containerd it started under its exec root ends with it; its mounts go with the data.
    for m in $(awk -v r="$DATA/node$k" -v e="$BASE/node$k" '$2 ~ "^"r || $2 ~ "^"e {print $2}' /proc/mounts | sort -r); do umount -l "$m" 2>/dev/null || true; done
    rm -rf "${DATA:?}/node$k" "${BASE:?}/node$k" "$(sock "$k")"
    if [ -e "/run/netns/$ns" ]; then ip netns delete "$ns" || true; fi
    ip link delete "acpsw$k" 2>/dev/null || true
  done
  iptables -D FORWARD -i "$BRIDGE" -o "$BRIDGE" -j ACCEPT 2>/dev/null || true
  ip link delete "$BRIDGE" 2>/dev/null || true
  rmdir "$BASE" "$DATA" 2>/dev/null || true
  log "the test swarm is gone"
}

case "${1:-}" in
  up) up "${2:-3}" ;;
  nodes) nodes ;;
  down) down ;;
  *) die "usage: scripts/swarm.sh up [N] | nodes | down" ;;
esac
