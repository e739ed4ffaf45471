#!/bin/bash
# Entrypoint of acp-drill/redis: the official redis image's contract. `redis-server` runs as the redis user
# in /data; without a config file protected mode is turned off so that other containers on the (internal)
# network can connect, as the official image does.
set -e
if [ "${1#-}" != "$1" ] || [ "${1%.conf}" != "$1" ]; then set -- redis-server "$@"; fi
if [ "$1" = 'redis-server' ]; then
  has_conf=no
  for a in "$@"; do case "$a" in *.conf) has_conf=yes ;; esac; done
  [ "$has_conf" = yes ] || set -- "$@" --protected-mode no
  if [ "$(id -u)" = '0' ]; then
    chown -R redis:redis /data 2>/dev/null || true
    exec setpriv --reuid=redis --regid=redis --init-groups "$0" "$@"
  fi
fi
umask 0077
exec "$@"
