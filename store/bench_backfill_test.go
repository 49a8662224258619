package store

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/voucherwatch/voucherwatch"
)

// weeklyBackfill is a supplier's backfill: records from..to of resources reporting weekly
// windows over a year, one resource after the other, so that every batch spans the year.
func weeklyBackfill(from, to int) []voucherwatch.Record {
	recs := make([]voucherwatch.Record, 0, to-from)
	for n := from; n < to; n++ {
		r := meteredCardHour(n)
		r.Usage.ResourceID = fmt.Sprintf("node-%05d", n/52)
		r.Usage.ContractNo = fmt.Sprintf("HT-2026-%03d", n/52%40)
		r.Usage.WindowStart = time.Date(2025, 11, 3, 0, 0, 0, 0, voucherwatch.CST).AddDate(0, 0, 7*(n%52))
		r.Usage.WindowEnd = r.Usage.WindowStart.AddDate(0, 0, 7)
		recs = append(recs, r)
	}
	return recs
}

// BenchmarkStoreUsageBackfill stores 20,000-record batches of a year's weekly windows through
// StoreRecords (look-up, insert, keys and rollup), and inserts the same rows into a plain
// MergeTree partitioned by month as usage was before migration 13 ("record keys by time"), alternately, so that both
// see the same load: x_plain is the engine's time over the plain table's.
func BenchmarkStoreUsageBackfill(b *testing.B) {
	const size = 20_000
	db := newTestDB(b)
	ctx := testContext(b)
	if err := db.conn.Exec(ctx, "CREATE TABLE usage_plain AS usage ENGINE = MergeTree PARTITION BY toYYYYMM(window_start) ORDER BY (supplier_uscc, resource_id, window_start, source, id)"); err != nil {
		b.Fatal(err)
	}
	plainSQL := strings.Replace(insertSQLs[voucherwatch.TypeUsage], "INSERT INTO usage ", "INSERT INTO usage_plain ", 1)
	var engine, plain time.Duration
	next := 0
	for b.Loop() {
		b.StopTimer()
		recs := weeklyBackfill(next, next+size)
		next += size
		b.StartTimer()
		start := time.Now()
		res, err := db.StoreRecords(ctx, voucherwatch.TypeUsage, recs)
		engine += time.Since(start)
		if err != nil {
			b.Fatal(err)
		}
		if res.Stored != size {
			b.Fatalf("stored %d, want %d", res.Stored, size)
		}
		b.StopTimer()
		w := writeStates.Get().(*writeState)
		for i := range recs {
			w.pending = append(w.pending, pendingFor(usageTable, &recs[i]))
		}
		w.split()
		w.s.hashes, w.s.ingestedAt = w.hashes, time.Now()
		batch, err := db.conn.PrepareBatch(ctx, plainSQL)
		if err == nil {
			err = usageTable.write(batch, w.recs, &w.s)
		}
		start = time.Now()
		if err == nil {
			err = batch.Send()
		}
		plain += time.Since(start)
		w.release()
		if err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
	}
	b.ReportMetric(float64(next)/engine.Seconds(), "rows/s")
	b.ReportMetric(engine.Seconds()/plain.Seconds(), "x_plain")
}
