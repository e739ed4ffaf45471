#!/usr/bin/env bash
# The test command: installs what is missing, starts dockerd when none runs, builds, runs the whole suite
# (integration tests against the real daemon are required, never skipped), checks that nothing with our
# label is left in the daemon, and stops what it started.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd); root=$(dirname "$here")
. "$here/lib.sh"
cd "$root"

"$here/setup.sh" --packages-only --browser
started_docker=no
[ "$("$here/start-docker.sh")" = started ] && started_docker=yes
# A real S3-compatible server on loopback for the repository tests (moto, from PyPI).
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
moto_port=${ACP_TEST_MOTO_PORT:-$(free_port)}
mkdir -p "$ACP_LOG_DIR"
python3 -m moto.server -H 127.0.0.1 -p "$moto_port" > "$ACP_LOG_DIR/moto.log" 2>&1 &
moto_pid=$!
moto_auth_pid=
cleanup() {
  kill "$moto_pid" ${moto_auth_pid:+"$moto_auth_pid"} 2>/dev/null || true
  wait "$moto_pid" 2>/dev/null || true
  # The second dockerd of the engine-restart tests, if one was left running by a failed test.
  if [ -e /run/acp-drill-engine2.sock ] || [ -e /run/netns/acp-drill-engine2 ]; then "$here/engine2.sh" down || true; fi
  [ "${started_podman:-no}" = yes ] && { "$here/podman.sh" stop || true; }
  [ "${started_swarm:-no}" = yes ] && { "$here/swarm.sh" down || true; }
  if [ "$started_docker" = yes ]; then "$here/stop-docker.sh" || true; fi
}
trap cleanup EXIT
for _ in $(seq 1 100); do curl -fsS -o /dev/null "http://127.0.0.1:$moto_port/" && break; sleep 0.1; done
curl -fsS -o /dev/null "http://127.0.0.1:$moto_port/" || die "moto did not start on 127.0.0.1:$moto_port (log: $ACP_LOG_DIR/moto.log)"
export ACP_TEST_S3_ENDPOINT="http://127.0.0.1:$moto_port"
# A second moto that verifies SigV4 signatures (IAM auth), for the signing tests.
auth_env=$("$here/moto-auth.sh" "${ACP_TEST_MOTO_AUTH_PORT:-$(free_port)}") || die "the signature-checking moto server did not start (log: $ACP_LOG_DIR/moto-auth.log)"
eval "$auth_env"
moto_auth_pid=$ACP_TEST_S3_AUTH_PID
"$here/build-images.sh"

# Leftovers of runs killed before their cleanup (a stopped session, a crashed CI) are gc's job: expired ones only.
log "building"
swift build --build-tests > "${TMPDIR:-/tmp}/acp-drill-build.log" 2>&1 || { tail -n 60 "${TMPDIR:-/tmp}/acp-drill-build.log"; exit 1; }

log "running the test suite"
export ACP_DRILL_REQUIRE_DOCKER=1
before=$(python3 "$here/leaks.py" snapshot)
rc=0
swift test --skip-build "$@" || rc=$?
# The suites that load both cores (the chaos test, the proxied engine loss, dockerd restarted on a second
# engine, headless Chromium) run apart: beside the others they would push those suites' timed assertions.
if [ $# -eq 0 ]; then
  log "running the chaos, engine-loss, engine-restart and browser suites apart"
  ACP_DRILL_APART=1 swift test --skip-build --filter 'ChaosTests|EngineLossTests|EngineRestartTests|PagesInABrowserTests' || rc=1
fi

# The swarm backend on a real 3-node swarm (dockerds in network namespaces, scripts/swarm.sh): every test
# looks at each node's own engine afterwards, so the leak check is theirs.
if [ $# -eq 0 ] && [ "${ACP_TEST_SWARM_SUITE:-1}" = 1 ]; then
  log "running the swarm suite on a 3-node swarm"
  started_swarm=yes
  manager=$("$here/swarm.sh" up 3 | tail -n 1)
  ACP_TEST_SWARM=$manager ACP_TEST_SWARM_NODES="$("$here/swarm.sh" nodes | tr '\n' ' ')" \
    swift test --skip-build --filter SwarmTests || rc=1
  "$here/swarm.sh" down
  started_swarm=no
fi

# The engine-facing suites again, against Podman's Docker-compatible API (what is engine-specific is found
# from _ping's headers; the tests say where an engine differs). The apart suites restart dockerd itself.
if [ $# -eq 0 ] && [ "${ACP_TEST_PODMAN:-1}" = 1 ]; then
  log "running the integration suites against Podman"
  started_podman=yes
  "$here/podman.sh" start
  podman_leaks() { ACP_LEAKS_SOCK=/run/podman/podman.sock ACP_LEAKS_ALL_VOLUMES=1 python3 "$here/leaks.py" "$@"; }
  pbefore=$(podman_leaks snapshot)
  DOCKER_HOST=unix:///run/podman/podman.sock ACP_TEST_ENGINE=podman swift test --skip-build --filter IntegrationTests || rc=1
  pleft=$(podman_leaks diff "$pbefore")
  if [ -n "$pleft" ]; then log "the tests left resources behind on Podman: $pleft"; rc=1; else log "nothing left behind on Podman"; fi
  "$here/podman.sh" stop
  started_podman=no
fi

left=$(python3 "$here/leaks.py" diff "$before")
if [ -n "$left" ]; then
  log "the tests left resources with our label behind: $left"
  rc=1
else
  log "no test resources left behind"
fi
exit $rc
