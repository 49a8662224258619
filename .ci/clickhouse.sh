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
if ! command -v kcat >/dev/null; then
  # kcat is the independent Kafka client the ingest tests produce with.
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq kafkacat >/dev/null 2>&1 || {
    $SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq kafkacat >/dev/null; }
fi
if ! command -v promtool >/dev/null; then
  # Debian's prometheus package brings promtool, which the dashboards tests check the alerting
  # rules with. Only the tool is wanted: the package's service must not start, which
  # /usr/sbin/policy-rc.d (exit 101) already ensures in containers; elsewhere it is stopped
  # and disabled again if the install started it.
  may_start=1
  if [ -x /usr/sbin/policy-rc.d ]; then may_start=0; fi
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends prometheus >/dev/null 2>&1 || {
    $SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends prometheus >/dev/null; }
  if [ "$may_start" -eq 1 ] && command -v systemctl >/dev/null && [ -d /run/systemd/system ]; then
    $SUDO systemctl disable --now prometheus >/dev/null 2>&1 || true
  fi
fi
if [ ! -x /usr/bin/chromium ]; then
  # Debian's Chromium runs the web UI's browser test (cmd/voucherwatch, chromedp); the CJK fonts
  # let its screenshots show Chinese.
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium fonts-noto-cjk >/dev/null 2>&1 || {
    $SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium fonts-noto-cjk >/dev/null; }
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
