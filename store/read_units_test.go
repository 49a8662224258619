package store

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/voucherwatch/voucherwatch"
)

// TestTouchedPairsReadEveryTable: the pairs a units pass refreshes come from the table the
// views write now (usage_touched_log, migration 31) and from the two that held them before
// (usage_touched_days, usage_touched), each from the pass's time on; and the new table's
// merges stop at a mebibyte, which is why it exists.
func TestTouchedPairsReadEveryTable(t *testing.T) {
	ctx := testContext(t)
	db := newTestDB(t)

	since := time.Now().Add(-time.Hour).Truncate(time.Second)
	day := date(2026, 3, 1)
	// A record stored now: the view writes its pair into usage_touched_log only.
	rec := meteredCardHour(1)
	if _, err := db.StoreRecords(ctx, voucherwatch.TypeUsage, []voucherwatch.Record{rec}); err != nil {
		t.Fatal(err)
	}
	var logged, days uint64
	queryRow(t, db, `SELECT count() FROM usage_touched_log`, &logged)
	queryRow(t, db, `SELECT count() FROM usage_touched_days`, &days)
	if logged != 1 || days != 0 {
		t.Fatalf("after one record: usage_touched_log %d rows, usage_touched_days %d; want 1 and 0", logged, days)
	}
	// Pairs written before migration 31 and 29 (INSERT … SELECT: the driver takes an INSERT
	// … VALUES for a batch and waits for its rows), one before the pass's time and one after in each.
	for _, q := range []string{
		`INSERT INTO usage_touched_days (touched_at, supplier_uscc, resource_id, run_days) SELECT toDateTime(?, 'Asia/Shanghai'), 'S-DAYS', ?, [toDateTime(?, 'Asia/Shanghai')]`,
		`INSERT INTO usage_touched (touched_at, supplier_uscc, resource_id, run_day) SELECT toDateTime(?, 'Asia/Shanghai'), 'S-OLD', ?, toDateTime(?, 'Asia/Shanghai')`,
	} {
		for _, at := range []struct {
			res string
			t   time.Time
		}{{"R-AFTER", since.Add(time.Minute)}, {"R-BEFORE", since.Add(-time.Minute)}} {
			if err := db.conn.Exec(ctx, q, at.t.Unix(), at.res, day.Unix()); err != nil {
				t.Fatal(err)
			}
		}
	}
	rows, err := db.conn.Query(ctx, `SELECT supplier_uscc, resource_id FROM (`+touchedPairsSQL+`)`, touchedPairsArgs(since)...)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for rows.Next() {
		var s, r string
		if err := rows.Scan(&s, &r); err != nil {
			t.Fatal(err)
		}
		got = append(got, s+"/"+r)
	}
	rows.Close()
	slices.Sort(got)
	want := []string{"S-DAYS/R-AFTER", "S-OLD/R-AFTER", rec.Usage.SupplierUSCC + "/" + rec.Usage.ResourceID}
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("touched pairs since %v: %v, want %v", since, got, want)
	}

	var engine string
	queryRow(t, db, `SELECT engine_full FROM system.tables WHERE database = currentDatabase() AND name = 'usage_touched_log'`, &engine)
	if !strings.Contains(engine, "max_bytes_to_merge_at_max_space_in_pool = 1048576") {
		t.Errorf("usage_touched_log: %s, want merges capped at a mebibyte", engine)
	}
}

// TestUnitsRefreshedOncePerSweep: within one sweep (a full run, WithSweepStart) the kept units
// are refreshed by the first reader only; a sweep begun later refreshes again and sees what
// was stored before it began; a reader outside any sweep always refreshes.
func TestUnitsRefreshedOncePerSweep(t *testing.T) {
	ctx := testContext(t)
	db := newTestDB(t)
	if _, err := db.StoreRecords(ctx, voucherwatch.TypeUsage, meteredCardHours(0, 40)); err != nil {
		t.Fatal(err)
	}
	first := WithSweepStart(ctx, time.Now())
	p, err := db.refreshUnits(first)
	if err != nil {
		t.Fatal(err)
	}
	if p.Skipped || !p.Full {
		t.Fatalf("first refresh of the first sweep: %+v, want a full build", p)
	}
	if p, err = db.refreshUnits(first); err != nil || !p.Skipped {
		t.Fatalf("second refresh of the same sweep: %+v, %v; want it skipped", p, err)
	}

	// Passes are stamped in seconds: the next one must be told apart from the first.
	time.Sleep(time.Second)
	if _, err := db.StoreRecords(ctx, voucherwatch.TypeUsage, meteredCardHours(40, 80)); err != nil {
		t.Fatal(err)
	}
	second := WithSweepStart(ctx, time.Now())
	if p, err = db.refreshUnits(second); err != nil || p.Skipped || p.Full {
		t.Fatalf("first refresh of a later sweep: %+v, %v; want a refresh of what was written since", p, err)
	}
	var units, groups uint64
	queryRow(t, db, `SELECT count() FROM usage_units FINAL`, &units)
	queryRow(t, db, `SELECT count() FROM (SELECT DISTINCT `+usageRunKey+` FROM usage_runs)`, &groups)
	if units != groups || groups == 0 {
		t.Errorf("after the later sweep's refresh: %d kept units for %d usage_runs groups, want all", units, groups)
	}
	if p, err = db.refreshUnits(ctx); err != nil || p.Skipped {
		t.Errorf("refresh outside a sweep: %+v, %v; want it run", p, err)
	}
}
