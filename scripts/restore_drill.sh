#!/usr/bin/env bash
# The runbook's restore drill interface, kept as a thin wrapper around `acp-drill run`:
#   ./restore_drill.sh --dry-run    print plan, no docker
#   ./restore_drill.sh              full drill
#   ./restore_drill.sh --keep       keep drill containers for manual inspection
# Environment as in the runbook (ACP_BACKUP_AGE_IDENTITY or ACP_BACKUP_GPG_HOMEDIR, ACP_BACKUP_S3_BUCKET);
# exit codes 0 passed, 1 failed, 2 configuration, 3 passed over budget, 130 interrupted;
# extra flags pass through (e.g. --repo PATH for a local repository).
set -euo pipefail
. "$(dirname "$0")/lib.sh"
bin=$(acp_drill_bin)
exec "$bin" run "$@"
