package store

import (
	"context"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/voucherwatch/voucherwatch"
)

// ClusterStatus asks every node of the cluster, a few seconds each, for its health: whether it
// answers, its replication queue and delay, and the Distributed send queue. A node that does
// not answer is reported down, not as an error.
func (db *DB) ClusterStatus(ctx context.Context) (voucherwatch.ClusterStatus, error) {
	st := voucherwatch.ClusterStatus{Name: db.cluster}
	nodes, err := db.Nodes(ctx)
	if err != nil {
		return st, err
	}
	for _, n := range nodes {
		ns := voucherwatch.ClusterNodeStatus{Addr: n.Addr, Shard: n.Shard, Replica: n.Replica}
		if err := db.nodeStatus(ctx, n, &ns); err != nil {
			ns.Up, ns.Error = false, err.Error()
		}
		st.Nodes = append(st.Nodes, ns)
	}
	return st, nil
}

func (db *DB) nodeStatus(ctx context.Context, n Node, ns *voucherwatch.ClusterNodeStatus) error {
	if err := db.pingNode(ctx, n); err != nil {
		return err
	}
	ns.Up = true
	c, err := db.nodeConn(n)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if err := c.QueryRow(ctx, `SELECT toUInt64(sum(queue_size)), toUInt64(max(absolute_delay)), toUInt64(sum(is_readonly)),
	toUInt64(max(total_replicas - active_replicas)) FROM system.replicas WHERE database = ?`, db.database).Scan(
		&ns.ReplicationQueue, &ns.ReplicationDelay, &ns.ReadonlyReplicas, &ns.InactiveReplicas); err != nil {
		return err
	}
	if err := c.QueryRow(ctx, "SELECT toUInt64(sum(value)) FROM system.metrics WHERE metric = 'DistributedSend'").Scan(&ns.DistributedSends); err != nil {
		return err
	}
	var has uint64
	if err := c.QueryRow(ctx, "SELECT count() FROM system.tables WHERE database = 'system' AND name = 'distribution_queue'").Scan(&has); err != nil {
		return err
	}
	if has > 0 {
		var files uint64
		if err := c.QueryRow(ctx, "SELECT toUInt64(sum(data_files)) FROM system.distribution_queue WHERE database = ?", db.database).Scan(&files); err != nil {
			return err
		}
		ns.DistributedSendQueue = &files
	}
	return nil
}

// NewClusterMetrics registers the cluster's health gauges, read from status at each scrape
// (vw_clickhouse_*, docs/metrics.md). Every instance reports the whole cluster, as it sees it.
func NewClusterMetrics(reg prometheus.Registerer, status func(context.Context) (voucherwatch.ClusterStatus, error)) {
	reg.MustRegister(&clusterCollector{status: status})
}

var (
	nodeLabels          = []string{"node", "shard", "replica"}
	descNodeUp          = prometheus.NewDesc("vw_clickhouse_node_up", "1 when the ClickHouse node answers the engine, 0 when not.", nodeLabels, nil)
	descReplQueue       = prometheus.NewDesc("vw_clickhouse_replication_queue", "Entries in the node's replication queues of the engine's tables.", nodeLabels, nil)
	descReplDelay       = prometheus.NewDesc("vw_clickhouse_replication_delay_seconds", "How far the node's most lagging replica of the engine's tables is behind.", nodeLabels, nil)
	descReadonly        = prometheus.NewDesc("vw_clickhouse_readonly_replicas", "The node's replicas of the engine's tables that are read-only (no ZooKeeper session).", nodeLabels, nil)
	descInactive        = prometheus.NewDesc("vw_clickhouse_inactive_replicas", "The most replicas of one of the engine's tables the node sees inactive.", nodeLabels, nil)
	descSendQueue       = prometheus.NewDesc("vw_clickhouse_distributed_send_queue", "Files of Distributed inserts waiting on the node for other shards (servers with system.distribution_queue).", nodeLabels, nil)
	descDistributedSend = prometheus.NewDesc("vw_clickhouse_distributed_sends", "Connections the node has open sending Distributed inserts to other shards.", nodeLabels, nil)
	descStatusErrors    = prometheus.NewDesc("vw_clickhouse_cluster_status_errors", "1 when the cluster's node list could not be read at this scrape.", nil, nil)
)

type clusterCollector struct {
	status func(context.Context) (voucherwatch.ClusterStatus, error)
}

func (c *clusterCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descNodeUp, descReplQueue, descReplDelay, descReadonly, descInactive, descSendQueue, descDistributedSend, descStatusErrors} {
		ch <- d
	}
}

func (c *clusterCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	st, err := c.status(ctx)
	failed := 0.0
	if err != nil {
		failed = 1
	}
	ch <- prometheus.MustNewConstMetric(descStatusErrors, prometheus.GaugeValue, failed)
	for _, n := range st.Nodes {
		l := []string{n.Addr, strconv.FormatUint(uint64(n.Shard), 10), strconv.FormatUint(uint64(n.Replica), 10)}
		up := 0.0
		if n.Up {
			up = 1
		}
		ch <- prometheus.MustNewConstMetric(descNodeUp, prometheus.GaugeValue, up, l...)
		if !n.Up {
			continue
		}
		ch <- prometheus.MustNewConstMetric(descReplQueue, prometheus.GaugeValue, float64(n.ReplicationQueue), l...)
		ch <- prometheus.MustNewConstMetric(descReplDelay, prometheus.GaugeValue, float64(n.ReplicationDelay), l...)
		ch <- prometheus.MustNewConstMetric(descReadonly, prometheus.GaugeValue, float64(n.ReadonlyReplicas), l...)
		ch <- prometheus.MustNewConstMetric(descInactive, prometheus.GaugeValue, float64(n.InactiveReplicas), l...)
		ch <- prometheus.MustNewConstMetric(descDistributedSend, prometheus.GaugeValue, float64(n.DistributedSends), l...)
		if n.DistributedSendQueue != nil {
			ch <- prometheus.MustNewConstMetric(descSendQueue, prometheus.GaugeValue, float64(*n.DistributedSendQueue), l...)
		}
	}
}
