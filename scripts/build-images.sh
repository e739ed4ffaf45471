#!/usr/bin/env bash
# Builds acp-drill/postgres:15 and acp-drill/redis:7 offline from Debian packages (debootstrap + docker import),
# following the official images' contract (see images/*/docker-entrypoint.sh).
#
#   scripts/build-images.sh           build what is missing or whose recipe changed
#   scripts/build-images.sh --force   rebuild both
#   scripts/build-images.sh --pull    take the official postgres:15 / redis:7 from a registry instead
#
# Each image carries the label dev.acp-drill.recipe=<sha256 of its recipe>; an image whose label matches is
# not rebuilt. The debootstrap base is cached under $ACP_STATE_DIR/build.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd); root=$(dirname "$here")
. "$here/lib.sh"

MIRROR=${ACP_DEBIAN_MIRROR:-http://deb.debian.org/debian}
SUITE=bookworm
force=no; pull=no
for a in "$@"; do
  case "$a" in
    --force) force=yes ;;
    --pull) pull=yes ;;
    -h|--help) sed -n '2,11p' "$0"; exit 0 ;;
    *) die "unknown option $a" ;;
  esac
done
docker_answers || die "no Docker engine answers on $DOCKER_SOCK: run scripts/start-docker.sh"

if [ "$pull" = yes ]; then
  docker pull postgres:15 && docker tag postgres:15 acp-drill/postgres:15
  docker pull redis:7 && docker tag redis:7 acp-drill/redis:7
  exit 0
fi
need_root
command -v debootstrap >/dev/null || die "debootstrap is not installed: run scripts/setup.sh"

build="$ACP_STATE_DIR/build"; mkdir -p "$build"
recipe_hash() { # image-name: hash of this script, the image's folder, and the suite
  { cat "$0"; find "$root/images/$1" -type f -print0 | sort -z | xargs -0 cat; echo "$SUITE"; } | sha256sum | cut -c1-16
}
current_label() { docker image inspect --format '{{ index .Config.Labels "dev.acp-drill.recipe" }}' "$1" 2>/dev/null || true; }

base_tar="$build/base-$SUITE.tar"
ensure_base() {
  [ -s "$base_tar" ] && return 0
  log "debootstrap $SUITE (minbase) — once, then cached in $base_tar"
  local dir="$build/base.tmp"; rm -rf "$dir"
  debootstrap --variant=minbase "$SUITE" "$dir" "$MIRROR" > "$build/debootstrap.log" 2>&1 \
    || { tail -n 20 "$build/debootstrap.log" >&2; die "debootstrap failed (log: $build/debootstrap.log)"; }
  tar -C "$dir" -cf "$base_tar.tmp" . && mv "$base_tar.tmp" "$base_tar"
  rm -rf "$dir"
}

# build_image NAME TAG PACKAGES CHANGES...
build_image() {
  local name=$1 tag=$2 pkgs=$3; shift 3
  local ref="acp-drill/$name:$tag" hash; hash=$(recipe_hash "$name")
  if [ "$force" = no ] && [ "$(current_label "$ref")" = "$hash" ]; then
    log "$ref is up to date (recipe $hash)"; return 0
  fi
  ensure_base
  local dir="$build/$name.rootfs"
  rm -rf "$dir"; mkdir -p "$dir"; tar -C "$dir" -xf "$base_tar"
  # No service starts inside the chroot, and postgresql-common creates no cluster (the entrypoint does).
  printf '#!/bin/sh\nexit 101\n' > "$dir/usr/sbin/policy-rc.d"; chmod +x "$dir/usr/sbin/policy-rc.d"
  mkdir -p "$dir/etc/postgresql-common/createcluster.d"
  echo 'create_main_cluster = false' > "$dir/etc/postgresql-common/createcluster.d/acp-drill.conf"
  printf 'path-exclude /usr/share/doc/*\npath-exclude /usr/share/man/*\npath-exclude /usr/share/info/*\npath-exclude /usr/share/locale/*\n' \
    > "$dir/etc/dpkg/dpkg.cfg.d/acp-drill-nodoc"
  cp /etc/resolv.conf "$dir/etc/resolv.conf"
  mount -t proc proc "$dir/proc"
  trap "umount '$dir/proc' 2>/dev/null || true" RETURN
  log "installing $pkgs into $ref"
  chroot "$dir" /bin/sh -c "apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $pkgs" \
    > "$build/$name.apt.log" 2>&1 || { tail -n 20 "$build/$name.apt.log" >&2; die "installing packages for $ref failed"; }
  if [ "$name" = postgres ]; then
    # A cluster initialized now, with the entrypoint's own initdb settings, so that a sandbox's first start
    # copies it instead of running initdb and a temporary server (most of Postgres's time to ready).
    mkdir -p "$dir/dev/shm"; mount -t tmpfs tmpfs "$dir/dev/shm"
    chroot "$dir" /bin/sh -c 'install -d -o postgres -g postgres -m 0700 /usr/lib/postgresql/acp-template &&
      setpriv --reuid=postgres --regid=postgres --init-groups /usr/lib/postgresql/15/bin/initdb \
        -D /usr/lib/postgresql/acp-template --username=postgres --encoding=UTF8 --locale=C.UTF-8 --no-sync >/dev/null &&
      printf "\nlisten_addresses = '"'*'"'\n" >> /usr/lib/postgresql/acp-template/postgresql.conf &&
      printf "\nhost all all all scram-sha-256\n" >> /usr/lib/postgresql/acp-template/pg_hba.conf' \
      > "$build/$name.template.log" 2>&1 || { umount "$dir/dev/shm"; cat "$build/$name.template.log" >&2; die "initdb of the template failed"; }
    umount "$dir/dev/shm"
  fi
  umount "$dir/proc"
  # The JIT provider is the only user of LLVM (and LLVM of z3): a throw-away restore target runs without
  # JIT (PostgreSQL turns it off by itself when llvmjit.so is missing), which halves the image.
  rm -f "$dir"/usr/lib/postgresql/*/lib/llvmjit*.so "$dir"/usr/lib/x86_64-linux-gnu/libLLVM-*.so* \
        "$dir"/usr/lib/x86_64-linux-gnu/libz3.so*
  rm -rf "$dir"/usr/lib/postgresql/*/lib/bitcode
  install -m 0755 "$root/images/$name/docker-entrypoint.sh" "$dir/usr/local/bin/docker-entrypoint.sh"
  rm -rf "$dir/var/lib/apt/lists/"* "$dir/var/cache/apt/"*.bin "$dir/var/cache/apt/archives/"*.deb \
         "$dir/usr/sbin/policy-rc.d" "$dir/var/log/"*.log "$dir/etc/resolv.conf" "$dir/tmp/"*
  : > "$dir/etc/resolv.conf"
  local args=(); for c in "$@"; do args+=(--change "$c"); done
  log "importing $ref"
  tar -C "$dir" -c . | docker import "${args[@]}" \
      --change "LABEL dev.acp-drill.recipe=$hash" --change "LABEL dev.acp-drill.image=$name" \
      --message "acp-drill offline build of $name from Debian $SUITE" - "$ref" >/dev/null
  rm -rf "$dir"
  log "$ref built ($(docker image inspect --format '{{.Size}}' "$ref" | awk '{printf "%.0f MB", $1/1e6}'))"
}

build_image postgres 15 "postgresql-15" \
  'ENV PATH=/usr/lib/postgresql/15/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
  'ENV PGDATA=/var/lib/postgresql/data' 'ENV LANG=C.UTF-8' \
  'VOLUME /var/lib/postgresql/data' 'EXPOSE 5432' \
  'ENTRYPOINT ["docker-entrypoint.sh"]' 'CMD ["postgres"]'
build_image redis 7 "redis-server" \
  'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
  'WORKDIR /data' 'VOLUME /data' 'EXPOSE 6379' \
  'ENTRYPOINT ["docker-entrypoint.sh"]' 'CMD ["redis-server"]'
