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
}
