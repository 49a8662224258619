package store

import (
	"fmt"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"

	"github.com/voucherwatch/voucherwatch"
	"github.com/voucherwatch/voucherwatch/store/storetest"
)

// hourOfProvince is the usage of resources resource-0000 .. resource-(n-1) in hour h after
// 2026-03-01 00:00, one record each, as the province's hourly stream delivers it.
func hourOfProvince(h, n int) []voucherwatch.Record {
	recs := make([]voucherwatch.Record, n)
	for i := range recs {
		r := meteredCardHour(h*n + i)
		r.ID = fmt.Sprintf("usage-h%05d-r%05d", h, i)
		r.Usage.ResourceID = fmt.Sprintf("resource-%05d", i)
		r.Usage.WindowStart = time.Date(2026, 3, 1, 0, 0, 0, 0, voucherwatch.CST).Add(time.Duration(h) * time.Hour)
		r.Usage.WindowEnd = r.Usage.WindowStart.Add(time.Hour)
		recs[i] = r
	}
	return recs
}

// TestLookupReadsTheBatchTimesOnly: the look-up of a batch reads the keys stored at the
// batch's windows, not the history. With 200 hours of 500 resources stored, looking up one
// new hour and one stored hour reads about one hour's keys; a look-up that scanned the keys
// (as ingest_keys, ordered by hash, made every batch do) reads all 100,000.
func TestLookupReadsTheBatchTimesOnly(t *testing.T) {
	db := newTestDB(t)
	ctx := testContext(t)
	const hours, resources = 200, 500
	for h := 0; h < hours; h += 50 {
		var batch []voucherwatch.Record
		for hh := h; hh < h+50; hh++ {
			batch = append(batch, hourOfProvince(hh, resources)...)
		}
		store(t, db, voucherwatch.TypeUsage, batch...)
	}

	var read atomic.Uint64
	ctx = clickhouse.Context(ctx, clickhouse.WithProgress(func(p *clickhouse.Progress) { read.Add(p.Rows) }))
	lookUp := func(recs []voucherwatch.Record) map[recordKey]bool {
		t.Helper()
		read.Store(0)
		var ats []time.Time
		var hashes []uint64
		for i := range recs {
			ats = append(ats, recs[i].Usage.WindowStart)
			hashes = append(hashes, RecordHash(recs[i].Source, recs[i].ID))
		}
		// The look-up as StoreRecords makes it, for an INSERT of its own (not registered
		// here), the running INSERTs listed in the same query: none but the DB's own that
		// ended, which the server may list for a moment after.
		stored, earlier, err := db.lookUpKeys(ctx, "usage", db.insertQueryID("usage"), ats, hashes)
		if err != nil {
			t.Fatal(err)
		}
		if earlier = slices.DeleteFunc(earlier, func(id string) bool { return slices.Contains(db.ended[voucherwatch.TypeUsage], id) }); len(earlier) != 0 {
			t.Errorf("earlier INSERTs: got %v, want none", earlier)
		}
		return stored
	}

	if got := lookUp(hourOfProvince(hours, resources)); len(got) != 0 {
		t.Errorf("new hour: got %d stored, want 0", len(got))
	}
	if r := read.Load(); r > 4*resources+8192 {
		t.Errorf("new hour: the look-up read %d key rows, want about one hour's (%d), not the %d stored", r, resources, hours*resources)
	}
	redelivered := hourOfProvince(hours/2, resources)
	if got := lookUp(redelivered); len(got) != resources {
		t.Errorf("stored hour: got %d stored, want %d", len(got), resources)
	}
	if r := read.Load(); r > 4*resources+8192 {
		t.Errorf("stored hour: the look-up read %d key rows, want about one hour's (%d), not the %d stored", r, resources, hours*resources)
	}
	check(t, "redelivered hour", store(t, db, voucherwatch.TypeUsage, redelivered...), voucherwatch.WriteResult{Duplicates: resources})
}

// TestStoreUsageResentInOtherWindow states the limit of the guarantee: a usage record is
// found by its window, so a copy re-sent under the same (source, id) with another window
// (which no redelivery and no re-send of an unchanged record makes) is stored beside it, and
// StoredCount, counting distinct (source, id), still counts one record.
func TestStoreUsageResentInOtherWindow(t *testing.T) {
	db := newTestDB(t)
	first := meteredCardHour(1)
	moved := meteredCardHour(1)
	u := *first.Usage
	moved.Usage = &u
	moved.Usage.WindowStart = moved.Usage.WindowStart.Add(24 * time.Hour)
	moved.Usage.WindowEnd = moved.Usage.WindowEnd.Add(24 * time.Hour)
	check(t, "first", store(t, db, voucherwatch.TypeUsage, first), voucherwatch.WriteResult{Stored: 1})
	check(t, "same window again", store(t, db, voucherwatch.TypeUsage, meteredCardHour(1)), voucherwatch.WriteResult{Duplicates: 1})
	check(t, "other window", store(t, db, voucherwatch.TypeUsage, moved), voucherwatch.WriteResult{Stored: 1})
	n, err := db.StoredCount(testContext(t), voucherwatch.TypeUsage)
	if err != nil {
		t.Fatal(err)
	}
	check(t, "stored count", n, uint64(1))

	// The other types are looked up whole: a contract re-sent with another envelope time is
	// the same record.
	c := unfiledDirectPurchase()
	later := unfiledDirectPurchase()
	later.Time = later.Time.Add(48 * time.Hour)
	check(t, "contract", store(t, db, voucherwatch.TypeContract, c), voucherwatch.WriteResult{Stored: 1})
	check(t, "contract re-sent later", store(t, db, voucherwatch.TypeContract, later), voucherwatch.WriteResult{Duplicates: 1})
}

// weeklyWindows is a supplier's backfill: resources weekly windows each, from Monday
// 2025-11-03 on, one contract.
func weeklyWindows(resources, weeks int) []voucherwatch.Record {
	var recs []voucherwatch.Record
	for r := 0; r < resources; r++ {
		for w := 0; w < weeks; w++ {
			rec := meteredCardHour(r*weeks + w)
			rec.ID = fmt.Sprintf("usage-weekly-r%03d-w%02d", r, w)
			rec.Usage.ResourceID = fmt.Sprintf("resource-%03d", r)
			rec.Usage.WindowStart = time.Date(2025, 11, 3, 0, 0, 0, 0, voucherwatch.CST).AddDate(0, 0, 7*w)
			rec.Usage.WindowEnd = rec.Usage.WindowStart.AddDate(0, 0, 7)
			rec.Usage.CardHours = 7 * 24 * 8
			recs = append(recs, rec)
		}
	}
	return recs
}

// TestUsageRolledUpBySpan: a batch of week-long windows writes no usage_spans row, nor one per
// day of each window (as usage_daily_block_mv did, one per day and key), nor a usage_runs
// group: since migration 32 each window is one row of usage_long_windows (a tuple of its
// usage_runs group since migration 30 before); usage_days spreads them over their days with
// the same sums; a redelivered batch adds nothing.
func TestUsageRolledUpBySpan(t *testing.T) {
	db := newTestDB(t)
	const resources, weeks = 10, 52
	recs := weeklyWindows(resources, weeks)
	check(t, "stored", store(t, db, voucherwatch.TypeUsage, recs...), voucherwatch.WriteResult{Stored: resources * weeks})

	var spans, runs, tuples, rows, windows, days uint64
	var cardHours, minDay, maxDay float64
	queryRow(t, db, "SELECT count() FROM usage_spans", &spans)
	check(t, "usage_spans rows", spans, uint64(0))
	queryRow(t, db, "SELECT count(), (SELECT count() FROM usage_long_windows) FROM usage_runs", &runs, &tuples)
	check(t, "usage_runs rows and usage_long_windows rows", []any{runs, tuples}, []any{uint64(0), uint64(resources * weeks)})
	queryRow(t, db, "SELECT count(), sum(windows), uniqExact(day), sum(day_card_hours) FROM usage_days",
		&rows, &windows, &days, &cardHours)
	check(t, "days", days, uint64(weeks*7))
	check(t, "usage_days rows: a window's days", rows, uint64(resources*weeks*7))
	check(t, "windows", windows, uint64(resources*weeks))
	check(t, "card-hours", cardHours, float64(resources*weeks*7*24*8))
	// Each day holds a seventh of each resource's window: 24 h × 8 cards × 10 resources.
	queryRow(t, db, "SELECT min(c), max(c) FROM (SELECT day, sum(day_card_hours) AS c FROM usage_days GROUP BY day)", &minDay, &maxDay)
	if want := float64(resources * 24 * 8); minDay < want-1e-6 || maxDay > want+1e-6 {
		t.Errorf("card-hours per day: got %v to %v, want %v", minDay, maxDay, want)
	}

	check(t, "redelivered", store(t, db, voucherwatch.TypeUsage, recs...), voucherwatch.WriteResult{Duplicates: resources * weeks})
	queryRow(t, db, "SELECT sum(windows), sum(day_card_hours) FROM usage_days", &windows, &cardHours)
	check(t, "after redelivery", []any{windows, cardHours}, []any{uint64(resources * weeks), float64(resources * weeks * 7 * 24 * 8)})
}

// perWindowDaysSQL spreads each stored record (FINAL) over its days as usage_daily_block_mv
// did (migration 13), window by window: what usage_days must equal.
const perWindowDaysSQL = `SELECT day, contract_no, round(sum(dch), 6), round(sum(uch), 6), sum(w) FROM (
SELECT
	arrayJoin(arrayMap(i -> toDate(window_start) + i,
		range(toUInt32(dateDiff('day', toDate(window_start), toDate(greatest(window_end, window_start + 1) - 1, 'Asia/Shanghai')) + 1)))) AS day,
	contract_no,
	card_hours
		* (least(toUInt32(greatest(window_end, window_start + 1)), toUInt32(toDateTime(day + 1, 'Asia/Shanghai')))
			- greatest(toUInt32(window_start), toUInt32(toDateTime(day, 'Asia/Shanghai'))))
		/ (toUInt32(greatest(window_end, window_start + 1)) - toUInt32(window_start)) AS dch,
	dch * util_avg AS uch,
	toUInt64(day = toDate(window_start)) AS w
FROM usage FINAL)
GROUP BY day, contract_no ORDER BY day, contract_no`

// TestUsageDaysMatchesPerWindowSpread: usage_days gives, per day and key, what spreading every
// stored record over its days gives, for hourly windows (rolled up per day), windows across
// midnight, a 36-hour window starting mid-morning, a week-long one, and a window of no length;
// rows the table usage_daily kept from before migration 16 are added in.
func TestUsageDaysMatchesPerWindowSpread(t *testing.T) {
	db := newTestDB(t)
	ctx := testContext(t)
	day0 := time.Date(2026, 3, 1, 0, 0, 0, 0, voucherwatch.CST)
	var recs []voucherwatch.Record
	add := func(contract string, start time.Time, d time.Duration, cardHours float64) {
		r := meteredCardHour(len(recs))
		r.ID = fmt.Sprintf("usage-span-%03d", len(recs))
		r.Usage.ContractNo, r.Usage.WindowStart, r.Usage.WindowEnd, r.Usage.CardHours = contract, start, start.Add(d), cardHours
		r.Usage.UtilAvg = 0.5 + float64(len(recs)%5)/10
		recs = append(recs, r)
	}
	for h := 0; h < 60; h++ { // hourly, across two midnights
		add("HT-HOURLY", day0.Add(time.Duration(h)*time.Hour), time.Hour, 7.5)
	}
	add("HT-HOURLY", day0.Add(23*time.Hour+30*time.Minute), time.Hour, 8) // across midnight
	add("HT-LONG", day0.Add(10*time.Hour), 36*time.Hour, 288)
	add("HT-LONG", day0.Add(10*time.Hour), 36*time.Hour, 144) // same span, added up
	add("HT-WEEK", day0.Add(3*time.Hour), 7*24*time.Hour, 1344)
	add("HT-ZERO", day0.Add(5*time.Hour), 0, 3)
	// Windows of a day or more are spread from usage_runs (migration 30): one from midnight,
	// one across it, one just short of a day (usage_spans), and a week-long one of another
	// chip origin in the week-long one's group.
	add("HT-DAY", day0.Add(48*time.Hour), 24*time.Hour, 192)
	add("HT-DAY", day0.Add(56*time.Hour), 24*time.Hour, 96)
	add("HT-DAY", day0.Add(80*time.Hour), 24*time.Hour-time.Second, 90)
	add("HT-WEEK", day0.Add(3*time.Hour), 7*24*time.Hour, 672)
	for _, r := range recs {
		if r.Usage.ContractNo == "HT-WEEK" {
			recs[len(recs)-1].Usage.ResourceID = r.Usage.ResourceID
			break
		}
	}
	recs[len(recs)-1].Usage.ChipOrigin = voucherwatch.OriginForeign
	check(t, "stored", store(t, db, voucherwatch.TypeUsage, recs...), voucherwatch.WriteResult{Stored: len(recs)})
	// A row usage_daily kept from before migration 16 (INSERT … SELECT: an INSERT … VALUES sent
	// with Exec hangs on 18.16).
	if err := db.conn.Exec(ctx, `INSERT INTO usage_daily (day, supplier_uscc, buyer_uscc, contract_no, chip_model, chip_origin,
	day_card_hours, util_card_hours, windows) SELECT toDate('2026-02-27'), 'S', 'B', 'HT-OLD', 'Ascend 910B', 'domestic', 24, 12, 1`); err != nil {
		t.Fatal(err)
	}
	table := func(q string) []string {
		t.Helper()
		rows, err := db.conn.Query(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		var out []string
		for rows.Next() {
			var day time.Time
			var contract string
			var ch, uch float64
			var w uint64
			if err := rows.Scan(&day, &contract, &ch, &uch, &w); err != nil {
				t.Fatal(err)
			}
			out = append(out, fmt.Sprintf("%s %s %.6f %.6f %d", day.Format(time.DateOnly), contract, ch, uch, w))
		}
		return out
	}
	got := table(`SELECT day, contract_no, round(sum(day_card_hours), 6), round(sum(util_card_hours), 6), sum(windows)
FROM usage_days GROUP BY day, contract_no ORDER BY day, contract_no`)
	want := append([]string{"2026-02-27 HT-OLD 24.000000 12.000000 1"}, table(perWindowDaysSQL)...)
	if !slices.Equal(got, want) {
		t.Errorf("usage_days:\n got %v\nwant %v", got, want)
	}
	var spans uint64
	queryRow(t, db, "SELECT count() FROM usage_spans WHERE contract_no = 'HT-HOURLY'", &spans)
	// Hourly windows are added up per day: three days, and the window across midnight.
	check(t, "hourly spans", spans, uint64(4))
	// Windows of a day or more (HT-LONG's 36 hours too) are in usage_long_windows only; the one just
	// short of a day is in usage_spans.
	queryRow(t, db, "SELECT count() FROM usage_spans WHERE contract_no IN ('HT-DAY', 'HT-WEEK', 'HT-LONG')", &spans)
	check(t, "spans of the windows under a day", spans, uint64(1))
	var domestic, foreign float64
	queryRow(t, db, `SELECT sumIf(day_card_hours, chip_origin = 'domestic'), sumIf(day_card_hours, chip_origin = 'foreign')
FROM usage_days WHERE contract_no = 'HT-WEEK'`, &domestic, &foreign)
	check(t, "a week's card-hours by chip origin", []any{domestic, foreign}, []any{1344.0, 672.0})

	// What the rollup does not do: a second copy of a stored record, inserted past
	// StoreRecords' look-up and its ordering of INSERTs (by hand, or two INSERTs registered
	// within microseconds: docs/ingest-dedup.md), is counted twice by usage_days, while
	// usage FINAL keeps one. The rebuild in dashboards/README.md repairs it.
	w := writeStates.Get().(*writeState)
	w.pending = append(w.pending, pendingFor(usageTable, &recs[0]))
	w.split()
	b, err := db.prepare(ctx, voucherwatch.TypeUsage, usageTable, w)
	if err == nil {
		err = b.Send()
	}
	w.release()
	if err != nil {
		t.Fatal(err)
	}
	var rollup, final float64
	queryRow(t, db, "SELECT sum(day_card_hours) FROM usage_days WHERE contract_no = 'HT-HOURLY'", &rollup)
	queryRow(t, db, "SELECT sum(card_hours) FROM usage FINAL WHERE contract_no = 'HT-HOURLY'", &final)
	check(t, "a copy past the look-up: usage_days over usage FINAL", rollup-final, recs[0].Usage.CardHours)
}

// TestMigrateKeysOfStoredRecords upgrades a database that ingest_keys served, resuming an
// upgrade that died half-way: usage and usage_daily keep their rows in yearly partitions, the
// records stored before the upgrade are found by the new look-up, and the old views are gone.
func TestMigrateKeysOfStoredRecords(t *testing.T) {
	db := openTestDB(t, storetest.Database(t))
	ctx := testContext(t)
	i := slices.IndexFunc(migrations, func(m migration) bool {
		return m.name == "record keys by time, usage by year, daily usage rolled up per insert"
	})
	if err := db.migrate(ctx, migrations[:i]); err != nil {
		t.Fatal(err)
	}
	// The records as the build before stored them: one INSERT, its views writing the rest.
	insert := func(typ voucherwatch.RecordType, recs []voucherwatch.Record) {
		t.Helper()
		w := writeStates.Get().(*writeState)
		defer w.release()
		for i := range recs {
			w.pending = append(w.pending, pendingFor(recordTables[typ], &recs[i]))
		}
		w.split()
		b, err := db.prepare(ctx, typ, recordTables[typ], w)
		if err != nil {
			t.Fatal(err)
		}
		if err := b.Send(); err != nil {
			t.Fatal(err)
		}
	}
	insert(voucherwatch.TypeUsage, meteredCardHours(0, 100))
	insert(voucherwatch.TypeContract, []voucherwatch.Record{unfiledDirectPurchase()})
	var keys uint64
	queryRow(t, db, "SELECT count() FROM ingest_keys", &keys)
	check(t, "ingest_keys before the upgrade", keys, uint64(101))
	// An earlier upgrade died right after taking usage for its rebuild.
	if err := db.conn.Exec(ctx, "RENAME TABLE usage TO usage_repartitioning"); err != nil {
		t.Fatal(err)
	}
	defer func(q time.Duration) { repartitionQuiet = q }(repartitionQuiet)
	repartitionQuiet = 2 * time.Second
	if err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	checkSchema(t, db)
	for table, want := range map[string]string{"usage": "toYear(window_start)", "usage_daily": "toYear(day)"} {
		var key string
		queryRow(t, db, "SELECT partition_key FROM system.tables WHERE database = '"+db.database+"' AND name = '"+table+"'", &key)
		check(t, table+" partition key", key, want)
	}
	var rows, windows0 uint64
	queryRow(t, db, "SELECT count() FROM usage", &rows)
	queryRow(t, db, "SELECT sum(windows) FROM usage_daily", &windows0)
	check(t, "usage and usage_daily rows kept", []uint64{rows, windows0}, []uint64{100, 100})
	check(t, "usage after the upgrade", store(t, db, voucherwatch.TypeUsage, meteredCardHours(50, 150)...), voucherwatch.WriteResult{Stored: 50, Duplicates: 50})
	check(t, "contract after the upgrade", store(t, db, voucherwatch.TypeContract, unfiledDirectPurchase()), voucherwatch.WriteResult{Duplicates: 1})
	var windows uint64
	queryRow(t, db, "SELECT sum(windows) FROM usage_days", &windows)
	check(t, "windows in usage_days", windows, uint64(150))
}
