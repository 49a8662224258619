#!/usr/bin/env bash
# Installs ZooKeeper (Debian's package, no service) when missing and starts a fresh two-node
# ClickHouse test cluster beside the single server: LAYOUT=1x2 (default, one shard of two
# replicas) or LAYOUT=2x1 (two shards of one replica), cluster "vw", nodes 127.0.0.1:9101 and
# :9102, state under CHC_ROOT (default /tmp/chcluster). The scripts in .ci/cluster/ are the
# tested ones from the project's shared folder, copied because CI has only the checkout.
# Idempotent; run as root (or with sudo available). .ci/cluster/stop-cluster.sh stops it.
set -euo pipefail
cd "$(dirname "$0")"

SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"

if [ ! -f /usr/share/java/zookeeper.jar ]; then
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends zookeeper >/dev/null 2>&1 || {
    $SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends zookeeper >/dev/null; }
fi
# --fresh: the layouts' ZooKeeper paths differ ({shard}), and the tests want empty nodes.
exec bash cluster/start-cluster.sh --fresh
