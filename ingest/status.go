package ingest

import (
	"context"
	"fmt"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/voucherwatch/voucherwatch"
)

// Counts are the store's cluster-wide figures the status needs.
type Counts interface {
	StoredCount(ctx context.Context, typ voucherwatch.RecordType) (uint64, error)
	RejectedCount(ctx context.Context, topic string) (uint64, error)
}

// Status reports the ingest state of every topic, cluster-wide: consumed and lag from the
// group's committed offsets in Kafka, stored and rejected from ClickHouse. It does not depend
// on which instance answers, so any instance behind a load balancer gives the same figures.
// Duplicates are the committed messages that are neither a new record nor a dead letter.
func (c *Consumer) Status(ctx context.Context, counts Counts) (voucherwatch.IngestStatus, error) {
	client := &kafka.Client{Addr: kafka.TCP(c.cfg.Brokers...), Timeout: 10 * time.Second}
	st := voucherwatch.IngestStatus{Topics: map[string]voucherwatch.TopicStatus{}}
	var topics []string
	for _, t := range c.cfg.Topics {
		topics = append(topics, t)
	}
	meta, err := client.Metadata(ctx, &kafka.MetadataRequest{Topics: topics})
	if err != nil {
		return st, fmt.Errorf("ingest: status: metadata: %w", err)
	}
	parts := map[string][]int{}
	var offReq = map[string][]kafka.OffsetRequest{}
	for _, t := range meta.Topics {
		if t.Error != nil {
			continue // not created yet: reported as zeros
		}
		for _, p := range t.Partitions {
			parts[t.Name] = append(parts[t.Name], p.ID)
			offReq[t.Name] = append(offReq[t.Name], kafka.LastOffsetOf(p.ID))
		}
	}
	committed := map[string]map[int]int64{}
	last := map[string]map[int]int64{}
	if len(parts) > 0 {
		for topic, ps := range parts {
			fetched, err := client.OffsetFetch(ctx, &kafka.OffsetFetchRequest{GroupID: c.GroupID(topic), Topics: map[string][]int{topic: ps}})
			if err != nil {
				return st, fmt.Errorf("ingest: status: committed offsets of %s: %w", topic, err)
			}
			committed[topic] = map[int]int64{}
			for _, p := range fetched.Topics[topic] {
				committed[topic][p.Partition] = p.CommittedOffset
			}
		}
		lo, err := client.ListOffsets(ctx, &kafka.ListOffsetsRequest{Topics: offReq})
		if err != nil {
			return st, fmt.Errorf("ingest: status: end offsets: %w", err)
		}
		for topic, ps := range lo.Topics {
			last[topic] = map[int]int64{}
			for _, p := range ps {
				last[topic][p.Partition] = p.LastOffset
			}
		}
	}
	for typ, topic := range c.cfg.Topics {
		var ts voucherwatch.TopicStatus
		for _, p := range parts[topic] {
			cm := max(committed[topic][p], 0)
			ts.Consumed += cm
			ts.Lag += max(last[topic][p]-cm, 0)
		}
		stored, err := counts.StoredCount(ctx, typ)
		if err != nil {
			return st, err
		}
		rejected, err := counts.RejectedCount(ctx, topic)
		if err != nil {
			return st, err
		}
		ts.Stored, ts.Rejected = int64(stored), int64(rejected)
		ts.Duplicates = max(ts.Consumed-ts.Stored-ts.Rejected, 0)
		c.metrics.Lag.WithLabelValues(topic).Set(float64(ts.Lag))
		st.Topics[topic] = ts
	}
	return st, nil
}
