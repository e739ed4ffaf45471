#!/usr/bin/env bash
# The main job on the embedded default. Sets up what is missing (packages, dockerd, offline images), builds
# acp-drill, and runs it: today the isolated sandbox (issues 2-3); the full backup + restore drill replaces
# this when it lands.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd); root=$(dirname "$here")
. "$here/lib.sh"
cd "$root"
"$here/setup.sh"
log "building acp-drill (release)"
swift build -c release --product acp-drill > /tmp/acp-drill-demo-build.log 2>&1 || { tail -n 40 /tmp/acp-drill-demo-build.log; exit 1; }
bin=$(swift build -c release --show-bin-path)/acp-drill
"$bin" engine info
echo
project=$("$bin" up --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["project"])')
trap '"$bin" down "$project" >/dev/null 2>&1 || true' EXIT
"$bin" ls
echo
"$bin" exec "$project" postgres -- psql -c "select version()" -c "show fsync"
"$bin" run-in "$project" --image acp-drill/redis:7 -- redis-cli -h redis ping
"$bin" down "$project"
trap - EXIT
