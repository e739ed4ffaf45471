#!/usr/bin/env bash
# The main job on the embedded default, end to end: sets up what is missing (packages, dockerd, offline
# images), builds acp-drill, starts a production-like stack with generated data (scale 1: the runbook's
# audit=12450 tenants=3 usage=8900) and its audit writer (20 chained rows a second, each row's receipt
# mirrored right after it commits), backs it up to a local folder with a freshly generated age key and
# signing key, lets more rows come, stops the stand-in (the "disaster"), runs the restore drill on the
# backup (its signature verified against the signing key) with the receipts replayed on top of the dump
# up to the disaster, prints the verdict and the recovery point, and removes everything it made except the
# evidence (demo-output/: the JSON report, the drill log, JUnit and Prometheus files, the pages).
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
log "1/5 production-like stack: acp_postgres + acp_redis on their own network, scale 1, and the audit writer (20 rows/s, receipts → $work/receipts)"
"$bin" demo prod up --scale 1 --json --writer-rate 20 --receipts "$work/receipts" > "$work/prod.json"
read -r host password < <(python3 -c 'import json,sys; c=json.load(open(sys.argv[1])); print(c["host"], c["password"])' "$work/prod.json")

log "2/5 nightly backup: pg_dump | age → $work/repo (a fresh age key and a fresh signing key, never in the repo)"
age-keygen -o "$work/age.key" 2>/dev/null
recipient=$(age-keygen -y "$work/age.key")
"$bin" keys generate --out "$work/signing" >/dev/null
ACP_BACKUP_AGE_RECIPIENT="$recipient" ACP_BACKUP_AGE_IDENTITY="$work/age.key" ACP_BACKUP_SIGNING_KEY="$work/signing.key" \
  PGPASSWORD="$password" POSTGRES_HOST="$host" "$bin" backup --repo "$work/repo"

log "3/5 after the backup: more audit rows are written, each receipt mirrored"
sleep 8
tail -n 1 "${TMPDIR:-/tmp}/acp-drill-prod-writer.log" 2>/dev/null || true
disaster=$(date -u +%Y-%m-%dT%H:%M:%S.%6NZ)
log "   the disaster at $disaster: production is gone (the stand-in and its writer stopped)"
"$bin" demo prod down

log "4/5 restore drill: the newest set, its signature verified, restored in an isolated sandbox, the receipts replayed up to the disaster, checked, torn down"
set +e
ACP_BACKUP_AGE_IDENTITY="$work/age.key" ACP_DRILL_OPERATOR="${ACP_DRILL_OPERATOR:-demo}" "$bin" run --repo "$work/repo" \
  --trusted-keys "$work/signing.pub" --receipts "$work/receipts" --until "$disaster" \
  --reports "$out/reports/restore_drill" --log "$out/restore_drill.md" --junit "$out/junit.xml" --metrics "$out/acp_drill.prom" \
  --html "$out/drill.html"
code=$?
"$bin" report --history "$out/reports/restore_drill" --html "$out/history.html"
set -e

report=$(ls -t "$out"/reports/restore_drill/*.json 2>/dev/null | head -n 1)
[ -n "$report" ] && python3 - "$report" <<'PY'
import json, sys
r = json.load(open(sys.argv[1])).get("rpo")
if r:
    print(f"\nrecovery point: {r['receiptsReplayed']} audit rows recovered beyond the dump of {r['dumpTakenAt']}; "
          f"the newest receipt replayed was written at {r['recoveredUntil']}; data loss {r['dataLossSeconds']:.2f} s "
          f"(to the disaster at {r['target']}; without the receipts it would have been the whole time since the dump)")
PY

log "5/5 cleanup: the stand-in, the keys, the receipts and the backup are removed"
cleanup
trap - EXIT
left=$("$bin" ls --json | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))')
echo
echo "evidence kept in demo-output/: reports/restore_drill/*.json, restore_drill.md, junit.xml, acp_drill.prom,"
echo "  drill.html (this drill as a page) and history.html (every drill in demo-output/reports)"
echo "sandbox projects left on the engine: $left"
echo "demo finished in $(( $(date +%s) - start )) s (setup excluded), drill exit code $code"
exit $code
