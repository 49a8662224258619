package voucherwatch

import "time"

// TopicStatus is the ingest state of one topic, for operators and the status endpoint.
type TopicStatus struct {
	Consumed   int64 `json:"consumed"`   // messages committed by the consumer group
	Stored     int64 `json:"stored"`     // distinct records stored
	Duplicates int64 `json:"duplicates"` // messages recognised as already stored
	Rejected   int64 `json:"rejected"`   // messages dead-lettered
	Lag        int64 `json:"lag"`        // messages not yet committed by the group

	// State is what the answering instance's readers of the topic do: consuming, rebalancing,
	// retrying (a dependency failed) or stalled (waiting while the lag does not fall, since
	// StalledSince). WatchdogRebuilds counts the readers the instance rebuilt for a stall.
	State            string     `json:"state"`
	StalledSince     *time.Time `json:"stalled_since,omitempty"`
	WatchdogRebuilds int        `json:"watchdog_rebuilds"`
}

// IngestStatus is the ingest state of every topic, keyed by topic name.
type IngestStatus struct {
	Topics map[string]TopicStatus `json:"topics"`
	// Cluster is the ClickHouse cluster's health in cluster mode, nil on one server.
	Cluster *ClusterStatus `json:"cluster,omitempty"`
}

// ClusterStatus is the health of the ClickHouse cluster in cluster mode: each node as the
// engine reaches it, and what the node says of its replicas of the engine's tables.
type ClusterStatus struct {
	Name  string              `json:"name"`
	Nodes []ClusterNodeStatus `json:"nodes"`
}

// ClusterNodeStatus is one ClickHouse node. The figures cover the engine's database only.
type ClusterNodeStatus struct {
	Addr    string `json:"addr"`
	Shard   uint32 `json:"shard"`
	Replica uint32 `json:"replica"`
	Up      bool   `json:"up"`
	Error   string `json:"error,omitempty"`
	// ReplicationQueue is the entries waiting in the node's replication queues (parts to
	// fetch, merges, mutations); ReplicationDelay how far, in seconds, its most lagging replica
	// is behind (system.replicas absolute_delay).
	ReplicationQueue uint64 `json:"replication_queue"`
	ReplicationDelay uint64 `json:"replication_delay_seconds"`
	// ReadonlyReplicas counts the node's tables whose replica is read-only (no ZooKeeper
	// session); InactiveReplicas the most replicas of one table the node sees inactive.
	ReadonlyReplicas uint64 `json:"readonly_replicas"`
	InactiveReplicas uint64 `json:"inactive_replicas"`
	// DistributedSendQueue is the files of Distributed inserts waiting on the node to go to
	// other shards (system.distribution_queue, ClickHouse 20.x and later); nil where the
	// server has no such table (18.16). DistributedSends is the connections sending them
	// now (system.metrics DistributedSend), which every version has.
	DistributedSendQueue *uint64 `json:"distributed_send_queue,omitempty"`
	DistributedSends     uint64  `json:"distributed_sends"`
}
