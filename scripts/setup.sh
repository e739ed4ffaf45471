#!/usr/bin/env bash
# Installs everything acp-drill needs on a fresh Debian bookworm machine, idempotently:
#   Debian packages (Podman among them), moto (S3 test server), a running dockerd, and the offline images.
#
#   scripts/setup.sh                  all of it
#   scripts/setup.sh --packages-only  only the packages (no daemon, no images)
#   ... --browser                     also headless Chromium and its DevTools client (the page tests, screenshots)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"

PACKAGES=(
  docker.io docker-compose iptables        # the engine (API 1.41), Compose for interoperability tests
  libcurl4-openssl-dev pkg-config          # the Engine/S3 client is libcurl
  libssl-dev                               # the audit chain's per-row SHA-256 (libcrypto)
  age gnupg                                # backup encryption
  postgresql-client libpq-dev              # pg_dump/pg_restore/psql on the backup host; libpq for the drill's bulk reads
  debootstrap tar curl ca-certificates     # offline image builds
  iproute2 util-linux                      # tests: a second dockerd in its own netns (ip, nsenter), setpriv, mount
  podman catatonit netavark aardvark-dns   # the second engine the suite runs against (scripts/podman.sh)
  podman-compose                           # bench sandbox's baseline on Podman
)

packages_only=no
browser=no
for arg in "$@"; do
  case "$arg" in
    --packages-only) packages_only=yes ;;
    --browser) browser=yes ;;
    *) die "unknown option $arg (see the header of scripts/setup.sh)" ;;
  esac
done
[ "$browser" = yes ] && PACKAGES+=(chromium fonts-dejavu-core)

need_root
missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  log "installing Debian packages: ${missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
else
  log "Debian packages present"
fi

if ! python3 -c 'import moto.server' >/dev/null 2>&1; then
  log "installing moto (S3-compatible test server) from PyPI"
  python3 -m pip install -q 'moto[server]'
fi
if [ "$browser" = yes ] && ! python3 -c 'import websocket' >/dev/null 2>&1; then
  log "installing websocket-client (drives headless Chromium over the DevTools protocol) from PyPI"
  python3 -m pip install -q websocket-client
fi
if ! command -v aws >/dev/null 2>&1; then
  log "installing the aws CLI (S3 interoperability tests) from PyPI"
  python3 -m pip install -q awscli
fi

[ "$packages_only" = yes ] && exit 0
"$here/start-docker.sh" >/dev/null
"$here/build-images.sh"
log "setup complete"
