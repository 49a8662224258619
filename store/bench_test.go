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

// BenchmarkUpsertAlertsLegacyIDs re-upserts a run of unchanged findings, as every detector run
// does: stored under the current ids (the look-up alone) and stored under legacy ids, from
// before ids left out the kind (the look-up, then adoption by detector and subjects). The
// first run of a process adopts (legacy-first); later runs find the adopted ids remembered
// (legacy). The ratios to current are the upgrade's cost per run.
func BenchmarkUpsertAlertsLegacyIDs(b *testing.B) {
	const n = 5000
	findings := func() []voucherwatch.Alert {
		out := make([]voucherwatch.Alert, n)
		for i := range out {
			out[i] = testAlert("invoice_in_two_claims", "430100", voucherwatch.SeverityHigh, fmt.Sprintf("2643200000%010d", i))
		}
		return out
	}
	t0 := time.Date(2026, 11, 1, 9, 0, 0, 0, voucherwatch.CST)
	per := map[string]float64{}
	for _, name := range []string{"current", "legacy", "legacy-first"} {
		legacy := name != "current"
		b.Run(name, func(b *testing.B) {
			db := newTestDB(b)
			ctx := context.Background()
			stored := findings()
			if legacy {
				for i := range stored {
					stored[i].ID = voucherwatch.LegacyAlertID(stored[i].Detector, stored[i].Kind, stored[i].Subjects)
				}
			}
			if _, err := db.upsertAlerts(ctx, stored, t0, false); err != nil {
				b.Fatal(err)
			}
			runs := 0
			start := time.Now()
			for b.Loop() {
				if name == "legacy-first" {
					db.legacyIDs.Clear() // every run the first of its process
				}
				res, err := db.UpsertAlerts(ctx, findings(), t0.Add(time.Hour))
				if err != nil || res.Unchanged != n {
					b.Fatalf("got %+v, %v, want %d unchanged", res, err, n)
				}
				runs++
			}
			per[name] = time.Since(start).Seconds() / float64(runs)
			if c := per["current"]; legacy && c > 0 {
				b.ReportMetric(per[name]/c, "x_current")
			}
		})
	}
}
