#!/usr/bin/env bash
# The runbook's backup script interface, kept as a thin wrapper around `acp-drill backup`:
#   ./backup.sh --dry-run       print plan, no pg_dump, no upload
#   ./backup.sh                 full run; exits non-zero on any failure
#   ./backup.sh --no-verify     skip the throw-away restore verify
# Environment and exit codes as in the runbook (0 ok, 1 a per-database failure, 2 configuration);
# extra flags pass through (e.g. --repo PATH for a local repository).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
bin=${ACP_DRILL:-}
if [ -z "$bin" ]; then
  # The newest build of this checkout (a stale release build must not shadow a fresh debug one), else PATH.
  bin=$(ls -t "$root/.build/release/acp-drill" "$root/.build/debug/acp-drill" 2>/dev/null | head -n 1 || true)
  [ -n "$bin" ] || bin=$(command -v acp-drill || true)
fi
[ -n "$bin" ] || { echo "error: acp-drill is not built: run 'swift build -c release' in $root" >&2; exit 2; }
exec "$bin" backup "$@"
