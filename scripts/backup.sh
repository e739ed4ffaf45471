#!/usr/bin/env bash
# The runbook's backup script interface, kept as a thin wrapper around `acp-drill backup`:
#   ./backup.sh --dry-run       print plan, no pg_dump, no upload
#   ./backup.sh                 full run; exits non-zero on any failure
#   ./backup.sh --no-verify     skip the throw-away restore verify
# Environment and exit codes as in the runbook (0 ok, 1 a per-database failure, 2 configuration);
# extra flags pass through (e.g. --repo PATH for a local repository).
set -euo pipefail
. "$(dirname "$0")/lib.sh"
bin=$(acp_drill_bin)
exec "$bin" backup "$@"
