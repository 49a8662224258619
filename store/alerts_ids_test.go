package store

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/voucherwatch/voucherwatch"
)

// alertsForIDs stores n alerts (two versions of the first) and returns their ids.
func alertsForIDs(tb testing.TB, db *DB, n int) []string {
	tb.Helper()
	ctx := testContext(tb)
	t0 := time.Date(2026, 11, 1, 9, 0, 0, 0, voucherwatch.CST)
	var alerts []voucherwatch.Alert
	var ids []string
	for i := range n {
		a := testAlert("invoice_in_two_claims", "430100", voucherwatch.SeverityHigh, fmt.Sprint(i))
		alerts = append(alerts, a)
		ids = append(ids, a.ID)
	}
	if _, err := db.UpsertAlerts(ctx, alerts, t0); err != nil {
		tb.Fatal(err)
	}
	changed := alerts[0]
	changed.Score = 0.5
	if _, err := db.UpsertAlerts(ctx, []voucherwatch.Alert{changed}, t0.Add(time.Hour)); err != nil {
		tb.Fatal(err)
	}
	return ids
}

// TestAlertsByIDs: a filter on ids reads exactly those alerts, in their newest version, and
// leaves out ids that do not exist or do not match the rest of the filter.
func TestAlertsByIDs(t *testing.T) {
	db := newTestDB(t)
	ctx := testContext(t)
	ids := alertsForIDs(t, db, 20)
	want := []string{ids[0], ids[3], ids[7]}
	got, _, err := db.Alerts(ctx, voucherwatch.AlertFilter{IDs: append(slices.Clone(want), "al_missing"), Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	var gotIDs []string
	for _, a := range got {
		gotIDs = append(gotIDs, a.ID)
		if a.ID == ids[0] && a.Score != 0.5 {
			t.Errorf("%s: got score %v, want the newest version's 0.5", a.ID, a.Score)
		}
	}
	slices.Sort(gotIDs)
	slices.Sort(want)
	if !slices.Equal(gotIDs, want) {
		t.Errorf("got %v, want %v", gotIDs, want)
	}
	if got, _, err := db.Alerts(ctx, voucherwatch.AlertFilter{IDs: want, City: "430200"}); err != nil || len(got) != 0 {
		t.Errorf("another city: got %d alerts, %v; want none", len(got), err)
	}
}

// BenchmarkAlertsByIDs reads 100 alerts by id in one query and one by one, and reports the
// ratio of the two (one_by_one/one_query).
func BenchmarkAlertsByIDs(b *testing.B) {
	db := newTestDB(b)
	ctx := testContext(b)
	ids := alertsForIDs(b, db, 1000)[:100]
	var one, each time.Duration
	b.ResetTimer()
	for range b.N {
		t := time.Now()
		if got, _, err := db.Alerts(ctx, voucherwatch.AlertFilter{IDs: ids, Limit: 1000}); err != nil || len(got) != len(ids) {
			b.Fatalf("got %d, %v", len(got), err)
		}
		one += time.Since(t)
		t = time.Now()
		for _, id := range ids {
			if _, err := db.Alert(ctx, id); err != nil {
				b.Fatal(err)
			}
		}
		each += time.Since(t)
	}
	b.ReportMetric(float64(each)/float64(one), "one_by_one/one_query")
}
