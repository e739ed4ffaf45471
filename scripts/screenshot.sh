#!/usr/bin/env bash
# The README's screenshots, made the way the page tests look at pages: the newest drill report in demo-output/
# (run scripts/demo.sh first) rendered by `acp-drill report`, then shot in headless Chromium by
# scripts/browser_check.py. Writes docs/images/drill-report.png and docs/images/drill-history.png.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd); root=$(dirname "$here")
. "$here/lib.sh"
cd "$root"
"$here/setup.sh" --packages-only --browser
bin=$(build_release screenshot)
reports="$root/demo-output/reports/restore_drill"
report=$(ls "$reports"/*.json 2>/dev/null | tail -n 1 || true)
[ -n "$report" ] || die "no drill report in $reports: run scripts/demo.sh first"
work=$(mktemp -d /tmp/acp-drill-shot.XXXXXX)
trap 'rm -rf "$work"' EXIT
mkdir -p docs/images
"$bin" report "$report" --html "$work/drill.html" >/dev/null
python3 "$here/browser_check.py" "$work/drill.html" --screenshot docs/images/drill-report.png --width 1200 --height 1000 >/dev/null
"$bin" report --history "$reports" --html "$work/history.html" >/dev/null
python3 "$here/browser_check.py" "$work/history.html" --screenshot docs/images/drill-history.png --width 1200 --height 900 >/dev/null
log "wrote docs/images/drill-report.png and docs/images/drill-history.png from $(basename "$report")"
