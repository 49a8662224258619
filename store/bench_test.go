package store

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/voucherwatch/voucherwatch"
)

// BenchmarkStoreUsage stores batches of new usage records, look-up included, into a table
// that grows as the benchmark runs. Compare rows/s with clickhouse-client's
// INSERT ... FORMAT JSONEachRow (about 345k rows/s on the 2-core machine of the notes);
// -benchtime=10x with the 100k batches stores 1,000,000 rows.
func BenchmarkStoreUsage(b *testing.B) {
	for _, size := range []int{10_000, 100_000} {
		b.Run(fmt.Sprintf("batch=%d", size), func(b *testing.B) {
			db := newTestDB(b)
			ctx := context.Background()
			b.ReportAllocs()
			var stored time.Duration
			next := 0
			for b.Loop() {
				b.StopTimer()
				recs := meteredCardHours(next, next+size)
				next += size
				b.StartTimer()
				start := time.Now()
				res, err := db.StoreRecords(ctx, voucherwatch.TypeUsage, recs)
				stored += time.Since(start)
				if err != nil {
					b.Fatal(err)
				}
				if res.Stored != size {
					b.Fatalf("stored %d, want %d", res.Stored, size)
				}
			}
			b.ReportMetric(float64(next)/stored.Seconds(), "rows/s")
		})
	}
}

// BenchmarkStoreUsageDuplicates stores batches that are all stored already, as after a
// consumer restart: the cost is the look-up alone.
func BenchmarkStoreUsageDuplicates(b *testing.B) {
	const size = 100_000
	db := newTestDB(b)
	ctx := context.Background()
	recs := meteredCardHours(0, size)
	if _, err := db.StoreRecords(ctx, voucherwatch.TypeUsage, recs); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	start := time.Now()
	n := 0
	for b.Loop() {
		res, err := db.StoreRecords(ctx, voucherwatch.TypeUsage, recs)
		if err != nil {
			b.Fatal(err)
		}
		if res.Duplicates != size {
			b.Fatalf("duplicates %d, want %d", res.Duplicates, size)
		}
		n += size
	}
	b.ReportMetric(float64(n)/time.Since(start).Seconds(), "rows/s")
}
