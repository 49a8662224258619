package store

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/voucherwatch/voucherwatch"
)

// maxDeadLetterValue bounds the stored copy of a rejected message; value_truncated says when
// it was cut and value_bytes gives the original length.
const maxDeadLetterValue = 64 << 10

// StoreDeadLetters keeps rejected messages for the data-quality views. A message is (topic,
// partition, offset): a repeat within dls is dropped, and a repeat of an earlier call is a
// second row that ReplacingMergeTree merges away; the counts below count each message once
// either way. The value kept is a redacted copy (voucherwatch.RedactMessage), and the key,
// source, id and reason are masked (voucherwatch.MaskText): identity numbers, mobile numbers
// and e-mail addresses never reach the table. PruneDeadLetters bounds how long rows stay.
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
		// Only a redacted copy is kept here; the raw bytes stay on the dead-letter topic.
		value := voucherwatch.RedactMessage(dl.Value)
		truncated := len(value) > maxDeadLetterValue
		if truncated {
			value = value[:maxDeadLetterValue]
		}
		at := dl.At
		if at.IsZero() {
			at = now
		}
		err := b.Append(dl.Topic, uint32(dl.Partition), uint64(dl.Offset),
			voucherwatch.MaskText(string(dl.Key)), string(value), flag(truncated), uint32(len(dl.Value)),
			voucherwatch.MaskText(dl.Source), voucherwatch.MaskText(dl.ID), dl.Supplier, voucherwatch.MaskText(dl.Reason), at, now)
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

// DefaultDeadLetterRetention is how long dead letters stay in the table when the operator
// sets no other retention: long enough for a supplier to be told and fix its feed, short
// enough that rejected personal data does not pile up.
const DefaultDeadLetterRetention = 90 * 24 * time.Hour

// PruneDeadLetters deletes the dead letters rejected before cutoff and returns how many rows
// it asked to delete. ClickHouse 18.16 has no TTL, so this is a mutation (ALTER TABLE ...
// DELETE), which runs in the background on the server; it is issued only when such rows
// exist, so that idle engines queue no mutations. Several engine instances may prune at the
// same time: deleting rows twice is harmless.
func (db *DB) PruneDeadLetters(ctx context.Context, cutoff time.Time) (uint64, error) {
	var n uint64
	if err := db.conn.QueryRow(ctx, "SELECT count() FROM dead_letters WHERE at < ?", cutoff).Scan(&n); err != nil {
		return 0, fmt.Errorf("store: prune dead letters: %w", err)
	}
	if n == 0 {
		return 0, nil
	}
	if err := db.conn.Exec(ctx, "ALTER TABLE dead_letters DELETE WHERE at < ?", cutoff); err != nil {
		return 0, fmt.Errorf("store: prune dead letters: %w", err)
	}
	return n, nil
}

// KeepDeadLetters prunes the dead letters older than retention every interval (and once at
// the start) until ctx ends. Failures are logged and retried at the next interval.
func (db *DB) KeepDeadLetters(ctx context.Context, retention, interval time.Duration, log *slog.Logger) {
	if retention <= 0 {
		return
	}
	if log == nil {
		log = slog.Default()
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		if n, err := db.PruneDeadLetters(ctx, db.now().Add(-retention)); err != nil {
			if ctx.Err() != nil {
				return
			}
			log.Warn("store: dead letters not pruned", "err", err)
		} else if n > 0 {
			log.Info("store: dead letters pruned", "rows", n, "retention", retention)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
