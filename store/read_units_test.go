package store

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/voucherwatch/voucherwatch"
	"github.com/voucherwatch/voucherwatch/store/storetest"
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
	pairs, err := db.scanKeys(ctx, `SELECT supplier_uscc, resource_id FROM (`+touchedPairsSQL+`)`, touchedPairsArgs(since), 2)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for i, s := range pairs[0] {
		got = append(got, s+"/"+pairs[1][i])
	}
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
	queryRow(t, db, `SELECT count() FROM (`+runKeysSQL("1")+`)`, &groups)
	if units != groups || groups == 0 {
		t.Errorf("after the later sweep's refresh: %d kept units for %d groups of the rollup, want all", units, groups)
	}
	if p, err = db.refreshUnits(ctx); err != nil || p.Skipped {
		t.Errorf("refresh outside a sweep: %+v, %v; want it run", p, err)
	}
}

// TestUnitsRefreshBuildsAllWhenMostTouched: a refresh that finds most of the kept units'
// pairs written since the last pass builds every group (an IN set of millions of pairs costs
// more than that), one that finds a few refreshes those; either way the kept units are what a
// first pass over the same usage keeps.
func TestUnitsRefreshBuildsAllWhenMostTouched(t *testing.T) {
	checkUnitsRefreshPaths(t, newTestDB(t), newTestDB(t))
}

// TestClusterUnitsRefreshPaths: the same on the test cluster, where the pairs, the groups and
// the kept units are read through Distributed tables.
func TestClusterUnitsRefreshPaths(t *testing.T) {
	c := storetest.RequireCluster(t)
	var dbs [2]*DB
	for i := range dbs {
		dbs[i] = openClusterDB(t, c, c.Database(t))
		if err := dbs[i].Migrate(testContext(t)); err != nil {
			t.Fatal(err)
		}
	}
	checkUnitsRefreshPaths(t, dbs[0], dbs[1])
}

// checkUnitsRefreshPaths stores usage on db in four steps with a pass after each, checks which
// passes built every group, and compares the kept units with one pass over the same usage on
// once, an empty database.
func checkUnitsRefreshPaths(t *testing.T, db, once *DB) {
	t.Helper()
	ctx := testContext(t)
	// No slack: a pass refreshes only what was written after the one before. The minimum
	// of pairs is the province's; here a handful decides.
	db.unitsSlack, db.unitsFullMin = 0, 1
	// Half-hours reported late: the same resources and days, new windows (the second half of
	// each hour, under new ids).
	late := func(from, to int) []voucherwatch.Record {
		recs := meteredCardHours(from, to)
		for i := range recs {
			recs[i].ID = strings.Replace(recs[i].ID, "usage-", "usage-late-", 1)
			u := *recs[i].Usage
			u.WindowStart = u.WindowStart.Add(30 * time.Minute)
			u.CardHours = 3
			recs[i].Usage = &u
		}
		return recs
	}
	steps := []struct {
		name     string
		recs     []voucherwatch.Record
		wantFull bool
	}{
		{"first pass", meteredCardHours(0, 400), true},
		{"a few new pairs", meteredCardHours(400, 420), false},
		{"a few late half-hours", late(0, 10), false},
		{"most pairs with late half-hours", late(20, 400), true},
	}
	var all []voucherwatch.Record
	for _, s := range steps {
		if _, err := db.StoreRecords(ctx, voucherwatch.TypeUsage, s.recs); err != nil {
			t.Fatal(err)
		}
		all = append(all, s.recs...)
		// Stamps are in seconds: a pass must begin after the second of the last write, and
		// the next write after the pass's.
		time.Sleep(time.Second)
		p, err := db.refreshUnits(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if p.Full != s.wantFull {
			t.Errorf("%s: full build %v (%d pairs touched, %d kept rows), want %v", s.name, p.Full, p.Touched, p.Kept, s.wantFull)
		}
		time.Sleep(time.Second)
	}

	if _, err := once.StoreRecords(ctx, voucherwatch.TypeUsage, all); err != nil {
		t.Fatal(err)
	}
	if p, err := once.refreshUnits(ctx); err != nil || !p.Full {
		t.Fatalf("one pass over the same usage: %+v, %v; want a full build", p, err)
	}
	got, want := keptUnitRows(t, db), keptUnitRows(t, once)
	if len(want) == 0 || !slices.Equal(got, want) {
		t.Errorf("kept units after the passes: %d windows, want the %d of one pass over the same usage; first difference: %s",
			len(got), len(want), firstDifference(got, want))
	}
}

// keptUnitRows is every window of the kept units with its group, in order, as text; sums to
// six decimals (a group's card-hours add up in the order its parts merged).
func keptUnitRows(t *testing.T, db *DB) []string {
	t.Helper()
	cols, err := db.scanKeys(testContext(t), `SELECT toString(run_day), toString(unit_key), supplier_uscc, resource_id, buyer_uscc, contract_no,
		toString(cards), toString(run_span), toString(run_phase), toString(shared), toString(ws), toString(we), toString(w),
		toString(round(ch, 6)), toString(sl)
	FROM usage_units FINAL ARRAY JOIN unit_ws AS ws, unit_we AS we, unit_windows AS w, unit_ch AS ch, unit_slots AS sl
	ORDER BY run_day, unit_key, ws, we`, nil, 15)
	if err != nil {
		t.Fatal(err)
	}
	rows := make([]string, len(cols[0]))
	for i := range rows {
		f := make([]string, len(cols))
		for c := range cols {
			f[c] = cols[c][i]
		}
		rows[i] = strings.Join(f, "|")
	}
	return rows
}

// firstDifference names the first row where got and want part.
func firstDifference(got, want []string) string {
	for i := 0; i < max(len(got), len(want)); i++ {
		switch {
		case i >= len(got):
			return "missing " + want[i]
		case i >= len(want):
			return "extra " + got[i]
		case got[i] != want[i]:
			return "got " + got[i] + ", want " + want[i]
		}
	}
	return "none"
}
