package store

import (
	"context"
	"fmt"
	"time"

	"github.com/voucherwatch/voucherwatch"
)

// maxDeadLetterValue bounds the stored copy of a rejected message; value_truncated says when
// it was cut and value_bytes gives the original length.
const maxDeadLetterValue = 64 << 10

// StoreDeadLetters keeps rejected messages for the data-quality views. A message is (topic,
// partition, offset): a repeat within dls is dropped, and a repeat of an earlier call is a
// second row that ReplacingMergeTree merges away; the counts below count each message once
// either way.
func (db *DB) StoreDeadLetters(ctx context.Context, dls []voucherwatch.DeadLetter) error {
	if len(dls) == 0 {
		return nil
	}
	b, err := db.conn.PrepareBatch(ctx, `INSERT INTO dead_letters (kafka_topic, kafka_partition, kafka_offset,
		kafka_key, value, value_truncated, value_bytes, source, id, supplier, reason, at, ingested_at)`)
	if err != nil {
		return fmt.Errorf("store: insert dead letters: %w", err)
	}
	defer b.Abort() // a no-op once sent
	now := db.now()
	seen := make(map[voucherwatch.Origin]bool, len(dls))
	for _, dl := range dls {
		if seen[dl.Origin] {
			continue
		}
		seen[dl.Origin] = true
		value := dl.Value
		if len(value) > maxDeadLetterValue {
			value = value[:maxDeadLetterValue]
		}
		at := dl.At
		if at.IsZero() {
			at = now
		}
		err := b.Append(dl.Topic, uint32(dl.Partition), uint64(dl.Offset),
			string(dl.Key), string(value), flag(len(value) < len(dl.Value)), uint32(len(dl.Value)),
			dl.Source, dl.ID, dl.Supplier, dl.Reason, at, now)
		if err != nil {
			return fmt.Errorf("store: insert dead letters: %w", err)
		}
	}
	if err := b.Send(); err != nil {
		return fmt.Errorf("store: insert dead letters: %w", err)
	}
	return nil
}

// RejectedCount returns how many distinct messages of a topic were rejected.
func (db *DB) RejectedCount(ctx context.Context, topic string) (uint64, error) {
	var n uint64
	err := db.conn.QueryRow(ctx, "SELECT uniqExact(kafka_partition, kafka_offset) FROM dead_letters WHERE kafka_topic = ?", topic).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("store: count dead letters of %s: %w", topic, err)
	}
	return n, nil
}

// SupplierRejections sums up the messages rejected from one supplier on one topic.
type SupplierRejections struct {
	Supplier   string    `json:"supplier"` // the supplier's USCC; empty when the message did not name one
	Topic      string    `json:"topic"`
	Count      uint64    `json:"count"`       // distinct messages
	LastReason string    `json:"last_reason"` // the reason of the latest rejection
	LastAt     time.Time `json:"last_at"`
}

// DeadLettersBySupplier returns the rejections per supplier and topic, most first, for the
// data-quality view.
func (db *DB) DeadLettersBySupplier(ctx context.Context) ([]SupplierRejections, error) {
	rows, err := db.conn.Query(ctx, `SELECT supplier, kafka_topic,
		uniqExact(kafka_partition, kafka_offset) AS n,
		argMax(reason, (at, kafka_partition, kafka_offset)),
		max(at)
	FROM dead_letters
	GROUP BY supplier, kafka_topic
	ORDER BY n DESC, supplier, kafka_topic`)
	if err != nil {
		return nil, fmt.Errorf("store: dead letters by supplier: %w", err)
	}
	defer rows.Close()
	var out []SupplierRejections
	for rows.Next() {
		var r SupplierRejections
		if err := rows.Scan(&r.Supplier, &r.Topic, &r.Count, &r.LastReason, &r.LastAt); err != nil {
			return nil, fmt.Errorf("store: dead letters by supplier: %w", err)
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: dead letters by supplier: %w", err)
	}
	return out, nil
}
