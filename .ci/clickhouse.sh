#!/usr/bin/env bash
# Installs Debian's ClickHouse server (18.16 on Debian 12) when missing and starts it on
# 127.0.0.1:9000 when it is not answering. Idempotent; run as root (or with sudo available).
set -euo pipefail

SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"

if ! command -v clickhouse-server >/dev/null || ! command -v clickhouse-client >/dev/null; then
  echo "installing clickhouse-server and clickhouse-client from Debian..."
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq clickhouse-server clickhouse-client >/dev/null
fi
if clickhouse-client -q "SELECT 1" >/dev/null 2>&1; then
  exit 0
fi
echo "starting clickhouse-server..."
$SUDO mkdir -p /var/lib/clickhouse /var/log/clickhouse-server
$SUDO chown -R clickhouse:clickhouse /var/lib/clickhouse /var/log/clickhouse-server
# No systemd here: start the daemon directly, as the clickhouse user.
(cd /var/lib/clickhouse && $SUDO su -s /bin/sh clickhouse -c \
  "clickhouse-server --config-file=/etc/clickhouse-server/config.xml --daemon --pid-file=/var/lib/clickhouse/clickhouse-server.pid")
for _ in $(seq 1 60); do
  if clickhouse-client -q "SELECT 1" >/dev/null 2>&1; then
    echo "clickhouse-server $(clickhouse-client -q 'SELECT version()') is up on 127.0.0.1:9000"
    exit 0
  fi
  sleep 0.5
done
echo "clickhouse-server did not start; see /var/log/clickhouse-server/" >&2
exit 1
