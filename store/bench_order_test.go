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
