package store

import (
	"fmt"
	"testing"
	"time"

	"github.com/voucherwatch/voucherwatch"
)

// hourlyStream is a province's hourly telemetry: records from..to of 2,000 resources, each
// reporting its next hour, in time order.
func hourlyStream(from, to int) []voucherwatch.Record {
	recs := make([]voucherwatch.Record, 0, to-from)
	for n := from; n < to; n++ {
		r := meteredCardHour(n)
		r.Usage.ResourceID = fmt.Sprintf("node-%05d", n%2000)
		r.Usage.ContractNo = fmt.Sprintf("HT-2026-%03d", n%2000/4)
		r.Usage.WindowStart = time.Date(2026, 1, 5, 0, 0, 0, 0, voucherwatch.CST).Add(time.Duration(n/2000) * time.Hour)
		r.Usage.WindowEnd = r.Usage.WindowStart.Add(time.Hour)
		recs = append(recs, r)
	}
	return recs
}

// BenchmarkStoreUsageRunsCost is what the sweeps' rollups (usage_runs_short_mv, usage_long_windows_mv and
// usage_foreign_logins_mv, migrations 18, 19 and 32) add to storing usage: 20,000-record batches
// through StoreRecords into a database with them and one without, alternately, so that both see
// the same load; x_without is the time with them over the time without, per shape.
func BenchmarkStoreUsageRunsCost(b *testing.B) {
	for _, shape := range []struct {
		name string
		gen  func(from, to int) []voucherwatch.Record
	}{{"hourly", hourlyStream}, {"weekly_backfill", weeklyBackfill}} {
		b.Run(shape.name, func(b *testing.B) {
			const size = 20_000
			with, without := newTestDB(b), newTestDB(b)
			ctx := testContext(b)
			for _, mv := range []string{"usage_runs_short_mv", "usage_long_windows_mv", "usage_foreign_logins_mv"} {
				if err := without.conn.Exec(ctx, "DROP TABLE "+mv); err != nil {
					b.Fatal(err)
				}
			}
			var tWith, tWithout time.Duration
			next := 0
			for b.Loop() {
				recs := shape.gen(next, next+size)
				next += size
				for _, db := range []*DB{with, without} {
					start := time.Now()
					res, err := db.StoreRecords(ctx, voucherwatch.TypeUsage, recs)
					if db == with {
						tWith += time.Since(start)
					} else {
						tWithout += time.Since(start)
					}
					if err != nil {
						b.Fatal(err)
					}
					if res.Stored != size {
						b.Fatalf("stored %d, want %d", res.Stored, size)
					}
				}
			}
			b.ReportMetric(float64(next)/tWith.Seconds(), "rows/s")
			b.ReportMetric(tWith.Seconds()/tWithout.Seconds(), "x_without")
		})
	}
}
