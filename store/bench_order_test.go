package store

import (
	"testing"
	"time"

	"github.com/voucherwatch/voucherwatch"
)

// BenchmarkStoreUsageInsertOrder is what ordering the INSERTs by the server's process list
// (insertQueryID: the running INSERTs listed by the look-up's query, and a wait when another
// writer's INSERT of the table runs) costs a single writer: 20,000-record batches through
// StoreRecords into a database with the ordering and one without, alternately and each first
// every other batch, so that both see the same load; x_unordered is the time with it over the time without, per shape. The
// rollups are the same in both.
func BenchmarkStoreUsageInsertOrder(b *testing.B) {
	for _, shape := range []struct {
		name string
		gen  func(from, to int) []voucherwatch.Record
	}{{"hourly", hourlyStream}, {"weekly_backfill", weeklyBackfill}} {
		b.Run(shape.name, func(b *testing.B) {
			const size = 20_000
			ordered, unordered := newTestDB(b), newTestDB(b)
			unordered.unordered = true
			ctx := testContext(b)
			var tOrdered, tUnordered time.Duration
			next := 0
			for b.Loop() {
				recs := shape.gen(next, next+size)
				next += size
				pair := []*DB{ordered, unordered}
				if next/size%2 == 0 {
					pair[0], pair[1] = unordered, ordered // each goes first every other batch
				}
				for _, db := range pair {
					start := time.Now()
					res, err := db.StoreRecords(ctx, voucherwatch.TypeUsage, recs)
					if db == ordered {
						tOrdered += time.Since(start)
					} else {
						tUnordered += time.Since(start)
					}
					if err != nil {
						b.Fatal(err)
					}
					if res.Stored != size {
						b.Fatalf("stored %d, want %d", res.Stored, size)
					}
				}
			}
			b.ReportMetric(float64(next)/tOrdered.Seconds(), "rows/s")
			b.ReportMetric(tOrdered.Seconds()/tUnordered.Seconds(), "x_unordered")
		})
	}
}

// BenchmarkStoreUsageBatchSize is what the batch size costs the server per record: each op
// stores 100,000 records into one database in batches of 20,000 (the default) and the next
// 100,000 into another in batches of 50,000, alternately and each first every other op.
// x_20k is the time of the first over the second, per shape.
func BenchmarkStoreUsageBatchSize(b *testing.B) {
	for _, shape := range []struct {
		name string
		gen  func(from, to int) []voucherwatch.Record
	}{{"hourly", hourlyStream}, {"weekly_backfill", weeklyBackfill}} {
		b.Run(shape.name, func(b *testing.B) {
			const total = 100_000
			small, large := newTestDB(b), newTestDB(b)
			ctx := testContext(b)
			var tSmall, tLarge time.Duration
			next := 0
			for b.Loop() {
				recs := shape.gen(next, next+total)
				next += total
				pair := []*DB{small, large}
				if next/total%2 == 0 {
					pair[0], pair[1] = large, small
				}
				for _, db := range pair {
					size := 50_000
					if db == small {
						size = 20_000
					}
					start := time.Now()
					for i := 0; i < total; i += size {
						if _, err := db.StoreRecords(ctx, voucherwatch.TypeUsage, recs[i:i+size]); err != nil {
							b.Fatal(err)
						}
					}
					if db == small {
						tSmall += time.Since(start)
					} else {
						tLarge += time.Since(start)
					}
				}
			}
			b.ReportMetric(float64(next)/tSmall.Seconds(), "rows/s")
			b.ReportMetric(tSmall.Seconds()/tLarge.Seconds(), "x_20k")
		})
	}
}
