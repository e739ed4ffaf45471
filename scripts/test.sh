#!/usr/bin/env bash
# The test command: installs what is missing, starts dockerd when none runs, builds, runs the whole suite
# (integration tests against the real daemon are required, never skipped), checks that nothing with our
# label is left in the daemon, and stops what it started.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd); root=$(dirname "$here")
. "$here/lib.sh"
cd "$root"

"$here/setup.sh" --packages-only
started_docker=no
[ "$("$here/start-docker.sh")" = started ] && started_docker=yes
cleanup() {
  if [ "$started_docker" = yes ]; then "$here/stop-docker.sh" || true; fi
}
trap cleanup EXIT
"$here/build-images.sh"

# Leftovers of runs killed before their cleanup (a stopped session, a crashed CI) are gc's job: expired ones only.
log "building"
swift build --build-tests > "${TMPDIR:-/tmp}/acp-drill-build.log" 2>&1 || { tail -n 60 "${TMPDIR:-/tmp}/acp-drill-build.log"; exit 1; }

log "running the test suite"
export ACP_DRILL_REQUIRE_DOCKER=1
rc=0
swift test --skip-build "$@" || rc=$?

leaks() {
  local kind=$1
  curl -fsS --unix-socket "$DOCKER_SOCK" -G "http://localhost/$kind" \
    --data-urlencode 'filters={"label":["dev.acp-drill.kind=test"]}' --data-urlencode 'all=1' \
    | python3 -c 'import json,sys; d=json.load(sys.stdin); d=d.get("Volumes") or [] if isinstance(d,dict) else d; print(len(d))'
}
left="containers=$(leaks containers/json) networks=$(leaks networks) volumes=$(leaks volumes)"
if [ "$left" != "containers=0 networks=0 volumes=0" ]; then
  log "tests left resources labelled dev.acp-drill.kind=test behind: $left"
  rc=1
else
  log "no test resources left behind ($left)"
fi
exit $rc
