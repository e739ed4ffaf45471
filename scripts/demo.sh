#!/usr/bin/env bash
# The main job on the embedded default, end to end: sets up what is missing (packages, dockerd, offline
# images), builds acp-drill, starts a production-like stack with generated data (scale 1: the runbook's
# audit=12450 tenants=3 usage=8900), backs it up to a local folder with a freshly generated age key and
# signing key, runs the restore drill on that backup (its signature verified against the signing key),
# prints the verdict, and removes everything it made except the evidence (demo-output/: the JSON report,
# the drill log, JUnit and Prometheus files, the pages).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd); root=$(dirname "$here")
. "$here/lib.sh"
cd "$root"
"$here/setup.sh"
bin=$(build_release demo)
start=$(date +%s)

work=$(mktemp -d /tmp/acp-drill-demo.XXXXXX)   # 0700: the age key and the backup live here
out="$root/demo-output"
mkdir -p "$out"
cleanup() {
  "$bin" demo prod down >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT

"$bin" engine info
echo
log "1/4 production-like stack: acp_postgres + acp_redis on their own network, scale 1"
"$bin" demo prod up --scale 1 --json > "$work/prod.json"
read -r host password < <(python3 -c 'import json,sys; c=json.load(open(sys.argv[1])); print(c["host"], c["password"])' "$work/prod.json")

log "2/4 nightly backup: pg_dump | age → $work/repo (a fresh age key and a fresh signing key, never in the repo)"
age-keygen -o "$work/age.key" 2>/dev/null
recipient=$(age-keygen -y "$work/age.key")
"$bin" keys generate --out "$work/signing" >/dev/null
ACP_BACKUP_AGE_RECIPIENT="$recipient" ACP_BACKUP_AGE_IDENTITY="$work/age.key" ACP_BACKUP_SIGNING_KEY="$work/signing.key" \
  PGPASSWORD="$password" POSTGRES_HOST="$host" "$bin" backup --repo "$work/repo"

log "3/4 restore drill: the newest set, its signature verified, restored in an isolated sandbox, checked, torn down"
set +e
ACP_BACKUP_AGE_IDENTITY="$work/age.key" ACP_DRILL_OPERATOR="${ACP_DRILL_OPERATOR:-demo}" "$bin" run --repo "$work/repo" \
  --trusted-keys "$work/signing.pub" \
  --reports "$out/reports/restore_drill" --log "$out/restore_drill.md" --junit "$out/junit.xml" --metrics "$out/acp_drill.prom" \
  --html "$out/drill.html"
code=$?
"$bin" report --history "$out/reports/restore_drill" --html "$out/history.html"
set -e

log "4/4 cleanup: the stand-in, the key and the backup are removed"
cleanup
trap - EXIT
left=$("$bin" ls --json | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))')
echo
echo "evidence kept in demo-output/: reports/restore_drill/*.json, restore_drill.md, junit.xml, acp_drill.prom,"
echo "  drill.html (this drill as a page) and history.html (every drill in demo-output/reports)"
echo "sandbox projects left on the engine: $left"
echo "demo finished in $(( $(date +%s) - start )) s (setup excluded), drill exit code $code"
exit $code
