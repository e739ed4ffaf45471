#!/bin/bash
# Entrypoint of acp-drill/postgres: the official postgres image's contract, for an image built offline from
# Debian packages. POSTGRES_PASSWORD (or POSTGRES_HOST_AUTH_METHOD=trust), POSTGRES_USER (default postgres),
# POSTGRES_DB (default $POSTGRES_USER), POSTGRES_INITDB_ARGS, PGDATA (default /var/lib/postgresql/data);
# first start runs initdb with password auth, then /docker-entrypoint-initdb.d/*.sh|*.sql; the server runs
# as the postgres user and listens on all interfaces.
set -Eeo pipefail

if [ "${1:0:1}" = '-' ]; then set -- postgres "$@"; fi

if [ "$1" = 'postgres' ] && [ "$(id -u)" = '0' ]; then
  mkdir -p "$PGDATA" /var/run/postgresql
  chown postgres:postgres "$PGDATA" /var/run/postgresql
  chmod 700 "$PGDATA"; chmod 2777 /var/run/postgresql
  exec setpriv --reuid=postgres --regid=postgres --init-groups "$BASH_SOURCE" "$@"
fi

if [ "$1" = 'postgres' ] && [ ! -s "$PGDATA/PG_VERSION" ]; then
  : "${POSTGRES_USER:=postgres}"
  : "${POSTGRES_DB:=$POSTGRES_USER}"
  auth="${POSTGRES_HOST_AUTH_METHOD:-scram-sha-256}"
  if [ -z "${POSTGRES_PASSWORD:-}" ] && [ "$auth" != trust ]; then
    echo 'error: database is uninitialized and superuser password is not specified.' >&2
    echo '       Set POSTGRES_PASSWORD (or POSTGRES_HOST_AUTH_METHOD=trust).' >&2
    exit 1
  fi
  template=/usr/lib/postgresql/acp-template
  if [ -d "$template" ] && [ "$POSTGRES_USER" = postgres ] && [ -z "${POSTGRES_INITDB_ARGS:-}" ] \
     && [ "$auth" = scram-sha-256 ] && [ -z "$(ls -A /docker-entrypoint-initdb.d 2>/dev/null)" ] \
     && [ -z "$(ls -A "$PGDATA")" ]; then
    # Fast path: a cluster initialized when the image was built (same initdb settings as below), then the
    # password and database set in single-user mode. SQL goes through stdin (printf is a builtin): the
    # password is never in an argument list.
    cp -a "$template/." "$PGDATA/"
    {
      printf "ALTER USER postgres PASSWORD '%s';\n" "$(printf '%s' "$POSTGRES_PASSWORD" | sed "s/'/''/g")"
      if [ "$POSTGRES_DB" != postgres ]; then
        printf 'CREATE DATABASE "%s";\n' "$(printf '%s' "$POSTGRES_DB" | sed 's/"/""/g')"
      fi
    } | postgres --single -D "$PGDATA" -c fsync=off -c exit_on_error=on postgres >/dev/null
    echo 'PostgreSQL init process complete (from the image template); ready for start up.'
    exec "$@"
  fi
  # The password goes through a file descriptor, never an argument list.
  initdb --username="$POSTGRES_USER" --pwfile=<(printf '%s\n' "${POSTGRES_PASSWORD:-}") \
    --encoding=UTF8 --locale=C.UTF-8 --no-sync $POSTGRES_INITDB_ARGS >/dev/null
  printf "\nlisten_addresses = '*'\n" >> "$PGDATA/postgresql.conf"
  printf '\nhost all all all %s\n' "$auth" >> "$PGDATA/pg_hba.conf"
  export PGUSER="$POSTGRES_USER" PGPASSWORD="${POSTGRES_PASSWORD:-}"
  pg_ctl -D "$PGDATA" -o "-c listen_addresses='' -c fsync=off" -w start >/dev/null
  if [ "$POSTGRES_DB" != postgres ]; then
    psql -v ON_ERROR_STOP=1 -q --dbname postgres --set db="$POSTGRES_DB" <<<'CREATE DATABASE :"db";'
  fi
  for f in /docker-entrypoint-initdb.d/*; do
    case "$f" in
      *.sh)     echo "running $f"; . "$f" ;;
      *.sql)    echo "running $f"; psql -v ON_ERROR_STOP=1 -q --dbname "$POSTGRES_DB" -f "$f" ;;
      *.sql.gz) echo "running $f"; gunzip -c "$f" | psql -v ON_ERROR_STOP=1 -q --dbname "$POSTGRES_DB" ;;
      *) ;;
    esac
  done
  pg_ctl -D "$PGDATA" -m fast -w stop >/dev/null
  unset PGPASSWORD
  echo 'PostgreSQL init process complete; ready for start up.'
fi

exec "$@"
