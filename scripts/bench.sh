#!/usr/bin/env bash
# Benchmarks: figures measured against a baseline in the same run (never pass/fail).
#
#   scripts/bench.sh                  the drill benchmark (scale 1 and 50) — installs what it needs
#   scripts/bench.sh drill --scale 1  any `acp-drill bench` subcommand and its flags
#
# Installs, idempotently, on top of scripts/setup.sh: the PostgreSQL server binaries for the drill's
# floor (a tuned PostgreSQL on the host, no containers). No cluster is created or started by the package:
# the benchmark runs its own in a private folder and removes it.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd); root=$(dirname "$here")
. "$here/lib.sh"
cd "$root"
"$here/setup.sh"
if ! ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1; then
  log "installing the PostgreSQL server binaries (the benchmark's floor; no cluster is created)"
  mkdir -p /etc/postgresql-common/createcluster.d
  echo "create_main_cluster = false" > /etc/postgresql-common/createcluster.d/acp-drill-no-main.conf
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends postgresql-15 >/dev/null
fi
bin=$(build_release bench)
[ $# -gt 0 ] || set -- drill
exec "$bin" bench "$@"
