#!/usr/bin/env bash
# Installs the Debian tools that sregistry's tests run against (registry server, skopeo, umoci,
# squashfs tools, siftool, compressors, htpasswd, sqlite3, openssl, runuser/setpriv).
#
# Run as root on Debian bookworm. Services are blocked while installing (policy-rc.d), and any
# docker-registry service the package may have started is stopped: tests start their own
# registries on 127.0.0.1 with random ports; nothing may listen on all interfaces.
# Idempotent: when every binary is already present, apt is not touched at all.
#
# Usage: bash .ci/install-deps.sh
set -euo pipefail

export DEBIAN_FRONTEND=noninteractive

PACKAGES=(
  docker-registry skopeo umoci squashfs-tools squashfs-tools-ng siftool zstd
  apache2-utils sqlite3 openssl util-linux ca-certificates python3 python3-sqlalchemy squashfuse fuse3
  postgresql python3-psycopg2 lz4
)
# One binary per package (ca-certificates: its bundle file), used to skip apt when all are present.
BINARIES=(
  docker-registry skopeo umoci mksquashfs sqfstar unsquashfs tar2sqfs sqfs2tar rdsquashfs siftool
  zstd htpasswd sqlite3 openssl runuser setpriv squashfuse_ll fusermount3 pg_ctlcluster lz4
)

all_present() {
  local bin
  for bin in "${BINARIES[@]}"; do
    command -v "$bin" >/dev/null 2>&1 || return 1
  done
  [ -f /etc/ssl/certs/ca-certificates.crt ] || return 1
  # SQLAlchemy lets a test open our catalog the way the original tool does.
  /usr/bin/python3 -c 'import sqlalchemy' >/dev/null 2>&1 || return 1
  # The PostgreSQL catalog tests start their own server from these (test/harness/postgres.ts).
  compgen -G '/usr/lib/postgresql/*/bin/postgres' >/dev/null || return 1
  /usr/bin/python3 -c 'import psycopg2' >/dev/null 2>&1
}

block_services() {
  # invoke-rc.d consults this file: exit 101 means "action forbidden", so no daemon starts.
  printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
  chmod 0755 /usr/sbin/policy-rc.d
}

install_packages() {
  echo "install-deps: installing ${PACKAGES[*]}"
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${PACKAGES[@]}" >/dev/null
}

# A registry left listening on :5000 (all interfaces) would be reachable from outside and would
# collide with nothing we need; stop the service and kill any stray process of it.
stop_stray_registry() {
  if command -v systemctl >/dev/null 2>&1 && [ -d /run/systemd/system ]; then
    systemctl disable --now docker-registry.service >/dev/null 2>&1 || true
  fi
  if [ -x /etc/init.d/docker-registry ]; then
    /etc/init.d/docker-registry stop >/dev/null 2>&1 || true
  fi
  local pids
  pids=$(pgrep -f '^/usr/bin/docker-registry serve /etc/docker/registry/config.yml' || true)
  if [ -n "$pids" ]; then
    echo "install-deps: stopping system docker-registry ($pids)"
    # shellcheck disable=SC2086
    kill $pids 2>/dev/null || true
    sleep 1
    # shellcheck disable=SC2086
    kill -9 $pids 2>/dev/null || true
  fi
}

block_services
if all_present; then
  echo "install-deps: all tools present"
else
  install_packages
  all_present || {
    echo "install-deps: some tools are still missing after apt-get install" >&2
    exit 1
  }
fi
stop_stray_registry
