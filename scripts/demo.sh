#!/usr/bin/env bash
# The main job on the embedded default: sets up what is missing, builds acp-drill, and runs it.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd); root=$(dirname "$here")
. "$here/lib.sh"
cd "$root"
"$here/setup.sh"
swift build -c release --product acp-drill 2>&1 | tail -n 1
bin=$(swift build -c release --show-bin-path)/acp-drill
"$bin" engine info
