#!/usr/bin/env bash
# Installs what the tests need besides ClickHouse (.ci/clickhouse.sh): kcat, promtool and
# Chromium, from Debian, when missing. Idempotent; run as root (or with sudo available). The
# demo and the engine need none of them, so `make demo` does not wait for them.
set -euo pipefail

SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"

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
  # Debian's Chromium runs the web UI's browser test (cmd/voucherwatch, chromedp).
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium >/dev/null 2>&1 || {
    $SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium >/dev/null; }
fi
if [ "${VW_SCREENSHOTS:-}" = "1" ] && [ ! -d /usr/share/fonts/opentype/noto ]; then
  # The CJK fonts let the docs' screenshots show Chinese; the test's assertions read the
  # page's text and need no fonts, so CI does without the 57 MB download.
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq fonts-noto-cjk >/dev/null 2>&1 || {
    $SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq fonts-noto-cjk >/dev/null; }
fi

