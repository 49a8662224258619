package store

import (
	"context"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"

	"github.com/voucherwatch/voucherwatch"
	"github.com/voucherwatch/voucherwatch/store/storetest"
	"github.com/voucherwatch/voucherwatch/synth"
)

// The usage sweeps as they read raw usage before migration 18: the reference that the sweeps
// on usage_runs must equal.

// rawUsageDedup is each usage record once: a record re-sent under a new id is the same window
// of the same resource and tenant.
const rawUsageDedup = `SELECT supplier_uscc, buyer_uscc, contract_no, chip_model, resource_id, cards, window_start, window_end
	FROM usage
	WHERE window_end > window_start
	LIMIT 1 BY supplier_uscc, resource_id, buyer_uscc, window_start, window_end`

// rawPeakCardsSQL is peakCardsSQL on raw usage's windows instead of usage_runs' units: the
// peak arithmetic is the one under test's, the units it adds up are not.
var rawPeakCardsSQL = peakCardsSQL(`SELECT supplier_uscc, resource_id, buyer_uscc, chip_model, cards,
		window_start AS ws, window_end AS we
	FROM usage
	WHERE window_end > window_start`)

// rawPeakTenantsSQL lists who was metered on a supplier's chip at an instant.
const rawPeakTenantsSQL = `SELECT buyer_uscc, contract_no, sum(cards), uniqExact(resource_id)
FROM (` + rawUsageDedup + `)
WHERE supplier_uscc = ? AND replaceAll(lower(chip_model), ' ', '') = ? AND toInt64(window_start) <= ? AND toInt64(window_end) > ?
GROUP BY buyer_uscc, contract_no
ORDER BY buyer_uscc, contract_no`

const rawInvoiceMeteringSQL = `SELECT supplier_uscc, contract_no, buyer_uscc, invoice_code, invoice_no, period_start, period_end, billed,
	sumIf(card_hours * (least(we, pe) - greatest(ws, ps)) / (we - ws), ws < pe AND we > ps) AS metered,
	countIf(ws < pe AND we > ps) AS windows,
	minIf(ws, ws < pe AND we > ps) AS first_ws,
	maxIf(we, ws < pe AND we > ps) AS last_we,
	max(we - ws) AS longest_window,
	ps, pe
FROM (
	SELECT supplier_uscc, contract_no, buyer_uscc, invoice_code, invoice_no, period_start, period_end,
		arraySum(arrayMap((u, q) -> multiIf(u = 'card_hour', q, u = 'card_month', q * ?, 0.), item_unit, item_quantity)) AS billed,
		toInt64(toDateTime(period_start, 'Asia/Shanghai')) AS ps,
		toInt64(toDateTime(period_end, 'Asia/Shanghai')) + 86400 AS pe
	FROM settlements
	WHERE period_start > toDate(0) AND period_end >= period_start
	ORDER BY invoice_code, invoice_no, event_time DESC, source DESC, id DESC
	LIMIT 1 BY invoice_code, invoice_no
) ALL LEFT JOIN (
	SELECT supplier_uscc, contract_no, ws, we, sum(card_hours) AS card_hours
	FROM (
		SELECT supplier_uscc, contract_no, toInt64(window_start) AS ws, toInt64(window_end) AS we, card_hours
		FROM usage
		WHERE window_end > window_start
		LIMIT 1 BY supplier_uscc, resource_id, buyer_uscc, window_start, window_end
	)
	GROUP BY supplier_uscc, contract_no, ws, we
) USING supplier_uscc, contract_no
WHERE billed > 0
GROUP BY supplier_uscc, contract_no, buyer_uscc, invoice_code, invoice_no, period_start, period_end, billed, ps, pe`

// rawOverlapCandidatesSQL are the resources that two buyers used in overlapping spans (first to
// last window): the only ones whose windows can overlap.
const rawOverlapCandidatesSQL = `SELECT supplier_uscc, resource_id
	FROM (SELECT supplier_uscc, resource_id, buyer_uscc AS buyer_a, min(window_start) AS start_a, max(window_end) AS end_a
		FROM usage GROUP BY supplier_uscc, resource_id, buyer_uscc)
	ALL INNER JOIN (SELECT supplier_uscc, resource_id, buyer_uscc AS buyer_b, min(window_start) AS start_b, max(window_end) AS end_b
		FROM usage GROUP BY supplier_uscc, resource_id, buyer_uscc)
	USING (supplier_uscc, resource_id)
	WHERE buyer_a < buyer_b AND start_a < end_b AND start_b < end_a`

// rawTenanciesSQL is each buyer's use of a candidate resource under one contract.
const rawTenanciesSQL = `SELECT supplier_uscc, resource_id, buyer_uscc, contract_no,
	toInt64(min(window_start)), toInt64(max(window_end)), toUInt32(max(cards)), count()
FROM usage
WHERE (supplier_uscc, resource_id) IN (` + rawOverlapCandidatesSQL + `)
GROUP BY supplier_uscc, resource_id, buyer_uscc, contract_no`

// rawOverlapSide is one side of the window self-join: the deduplicated windows of the
// candidate resources.
func rawOverlapSide(s string) string {
	return `(SELECT supplier_uscc, resource_id, buyer_uscc AS buyer_` + s + `, contract_no AS contract_` + s + `,
		toInt64(window_start) AS ws_` + s + `, toInt64(window_end) AS we_` + s + `,
		toInt64(cards) AS cards_` + s + `, card_hours AS ch_` + s + `
	FROM usage
	WHERE (supplier_uscc, resource_id) IN (` + rawOverlapCandidatesSQL + `)
	LIMIT 1 BY source, id)`
}

// rawOverlapsSQL sums, per pair of tenancies, the windows that overlap: the seconds of overlap,
// each side's card-hours pro rata within them, and the most cards metered at once.
var rawOverlapsSQL = `SELECT supplier_uscc, resource_id, buyer_a, contract_a, buyer_b, contract_b,
	count(), sum(ov), min(greatest(ws_a, ws_b)), max(least(we_a, we_b)),
	sum(ch_a * ov / (we_a - ws_a)), sum(ch_b * ov / (we_b - ws_b)), toUInt32(max(cards_a + cards_b))
FROM (SELECT *, least(we_a, we_b) - greatest(ws_a, ws_b) AS ov
	FROM ` + rawOverlapSide("a") + `
	ALL INNER JOIN ` + rawOverlapSide("b") + `
	USING (supplier_uscc, resource_id)
	WHERE buyer_a < buyer_b AND ws_a < we_b AND ws_b < we_a)
GROUP BY supplier_uscc, resource_id, buyer_a, contract_a, buyer_b, contract_b`

// The resale reads of logins as they read raw usage before migration 19.
const (
	rawResaleCandidatesSQL = `SELECT supplier_uscc FROM contracts
	UNION ALL SELECT supplier_uscc FROM settlements
	UNION ALL SELECT buyer_uscc FROM usage ARRAY JOIN login_orgs AS org WHERE org != '' AND org != buyer_uscc`
	rawResaleLoginsSQL = `SELECT buyer_uscc, supplier_uscc, contract_no, org, count() AS windows
FROM (
	SELECT buyer_uscc, supplier_uscc, contract_no, resource_id, tenant, window_start, login_orgs
	FROM usage
	WHERE arrayExists(o -> o != '' AND o != buyer_uscc, login_orgs)
	LIMIT 1 BY supplier_uscc, resource_id, tenant, window_start
)
ARRAY JOIN login_orgs AS org
WHERE org != '' AND org != buyer_uscc
GROUP BY buyer_uscc, supplier_uscc, contract_no, org`
	// rawResaleUsageSQL is the resale read's metered use per bought contract from raw
	// usage: each window once per group of usage_runs (resource, buyer, contract, chip,
	// cards), so that a window re-sent under another contract counts for both.
	rawResaleUsageSQL = `SELECT buyer_uscc, supplier_uscc, contract_no, count() AS windows, sum(card_hours) AS ch
FROM (
	SELECT buyer_uscc, supplier_uscc, contract_no, card_hours
	FROM usage
	WHERE window_end > window_start
	LIMIT 1 BY supplier_uscc, resource_id, buyer_uscc, contract_no, chip_model, cards, window_start, window_end
)
GROUP BY buyer_uscc, supplier_uscc, contract_no`
	// rawResaleOtherUseSQL is the windows with other organisations' logins as the resale
	// read counted them from raw usage before it read usage_foreign_logins.
	rawResaleOtherUseSQL = `SELECT buyer_uscc, supplier_uscc, contract_no, countIf(other) AS windows, sumIf(card_hours, other) AS ch
FROM (
	SELECT buyer_uscc, supplier_uscc, contract_no, resource_id, tenant, window_start, card_hours,
		arrayExists(o -> o != '' AND o != buyer_uscc, login_orgs) AS other
	FROM usage
	WHERE arrayExists(o -> o != '' AND o != buyer_uscc, login_orgs)
	LIMIT 1 BY supplier_uscc, resource_id, tenant, window_start
)
GROUP BY buyer_uscc, supplier_uscc, contract_no`
	rawResalePartiesSQL = `SELECT uscc, name, supplier_registered, capacity_chip_model, capacity_cards
FROM registry_latest
WHERE uscc IN (` + rawResaleCandidatesSQL + `)
	OR uscc IN (SELECT buyer_uscc FROM contracts)
	OR uscc IN (SELECT supplier_uscc FROM contracts)
	OR uscc IN (SELECT org FROM usage ARRAY JOIN login_orgs AS org WHERE org != '' AND org != buyer_uscc)`
)

// usageCopyColumns are usage's columns, for copying rows within it.
const usageCopyColumns = `source, id, rec_hash, event_time, kafka_topic, kafka_partition, kafka_offset, ingested_at,
	supplier_uscc, buyer_uscc, contract_no, tenant, resource_id, chip_model, chip_origin, cards, window_start, window_end,
	card_hours, util_avg, jobs, users, login_orgs, datacenter`

// TestUsageSweepsOnRunsMatchRawUsage stores the synthetic province and, on one of its
// contracts, usage of every shape the rollup must handle (an hourly run with a gap, hourly
// windows across midnight, quarter-hour windows, a week-long window, half-day windows, a second tenant on a
// resource, cards changing within a day, a day stored twice past the look-up as a killed
// process's INSERT would), and requires every usage sweep to return what the same sweep on
// raw usage returns, row for row. It does so on a new database, and on one that stored the
// first half of the usage before migration 32, whose long windows are then in usage_runs and
// usage_long_windows both, copies of them past the look-up included.
func TestUsageSweepsOnRunsMatchRawUsage(t *testing.T) {
	t.Run("new database", func(t *testing.T) { checkSweepsOnRuns(t, false) })
	t.Run("upgraded between the halves", func(t *testing.T) { checkSweepsOnRuns(t, true) })
}

func checkSweepsOnRuns(t *testing.T, upgrade bool) {
	ctx := testContext(t)
	var db *DB
	if upgrade {
		db = openTestDB(t, storetest.Database(t))
		i := slices.IndexFunc(migrations, func(m migration) bool { return m.version == 32 })
		if err := db.migrate(ctx, migrations[:i]); err != nil {
			t.Fatal(err)
		}
	} else {
		db = newTestDB(t)
	}
	p := synth.Generate(synth.DefaultConfig(1))
	byType := storetest.Decode(t, "usage-runs-test", p.Messages)
	// The edge cases go on the contract of one of the province's metered resources, so that
	// its settlements compare them with their periods.
	var tmpl voucherwatch.Record
	for _, r := range byType[voucherwatch.TypeUsage] {
		if r.Usage.CardHours > 0 {
			tmpl = r
			break
		}
	}
	if tmpl.Usage == nil {
		t.Fatal("the province has no usage")
	}
	ws := tmpl.Usage.WindowStart.In(voucherwatch.CST)
	day := time.Date(ws.Year(), ws.Month(), ws.Day(), 0, 0, 0, 0, voucherwatch.CST)
	other := byType[voucherwatch.TypeRegistry][0].Entity.USCC
	n := 0
	add := func(resource, buyer string, cards int, start time.Time, d time.Duration) {
		r := tmpl
		u := *tmpl.Usage
		r.Usage = &u
		n++
		r.ID = fmt.Sprintf("usage-edge-%04d", n)
		u.ResourceID, u.Cards, u.WindowStart, u.WindowEnd = resource, cards, start, start.Add(d)
		if buyer != "" {
			u.BuyerUSCC = buyer
		}
		if resource == "EDGE-COPY" { // another organisation logged in, in windows stored twice
			u.LoginOrgs = []string{u.BuyerUSCC, other}
		}
		u.CardHours = float64(cards) * d.Hours() * (0.3 + float64(n%7)/10)
		byType[voucherwatch.TypeUsage] = append(byType[voucherwatch.TypeUsage], r)
	}
	for h := 0; h < 48; h++ {
		if h != 5 {
			add("EDGE-GAP", "", 8, day.Add(time.Duration(h)*time.Hour), time.Hour)
		}
		add("EDGE-HALF", "", 8, day.Add(time.Duration(h)*time.Hour+30*time.Minute), time.Hour)
		cards := 8
		if h%24 >= 12 {
			cards = 4
		}
		add("EDGE-CARDS", "", cards, day.Add(time.Duration(h)*time.Hour), time.Hour)
		add("EDGE-COPY", "", 8, day.Add(time.Duration(h)*time.Hour), time.Hour)
	}
	for q := 0; q < 96; q++ {
		add("EDGE-QUARTER", "", 2, day.Add(time.Duration(q)*15*time.Minute), 15*time.Minute)
	}
	for h := 10; h < 20; h++ {
		add("EDGE-GAP", other, 8, day.Add(time.Duration(h)*time.Hour), time.Hour) // a second tenant
	}
	add("EDGE-WEEK", "", 8, day.Add(3*time.Hour), 7*24*time.Hour)
	// Windows of twelve hours, two a day in one group, get their states per record
	// (usage_runs_long_mv, migration 29); the one just short of it goes through the GROUP BY.
	for k := 0; k < 4; k++ {
		add("EDGE-HALFDAY", "", 8, day.Add(time.Duration(k)*12*time.Hour), 12*time.Hour)
	}
	add("EDGE-HALFDAY", "", 8, day.Add(48*time.Hour), 12*time.Hour-time.Second)
	// A day re-sent under another contract number (new ids, the same windows): two groups
	// of one resource, day and buyer holding the same windows, which the capacity sweep must
	// count once.
	for h := 0; h < 24; h++ {
		add("EDGE-RECONTRACT", "", 8, day.Add(time.Duration(h)*time.Hour), time.Hour)
	}
	for _, r := range slices.Clone(byType[voucherwatch.TypeUsage][len(byType[voucherwatch.TypeUsage])-24:]) {
		u := *r.Usage
		u.ContractNo += "-B"
		r.Usage, r.ID = &u, r.ID+"-B"
		byType[voucherwatch.TypeUsage] = append(byType[voucherwatch.TypeUsage], r)
	}
	// The kept units (usage_units) are built by a first pass on the first half of the usage
	// and refreshed by a second pass after the rest: the second pass must find what the rest
	// touched, including groups the first pass kept as one run that turn inexact.
	usage := byType[voucherwatch.TypeUsage]
	// The windows of twelve hours or more go first, into the first half: on the upgraded
	// database they are stored before migration 32.
	long := func(r voucherwatch.Record) int {
		if r.Usage.WindowEnd.Sub(r.Usage.WindowStart) >= 12*time.Hour {
			return 0
		}
		return 1
	}
	slices.SortStableFunc(usage, func(a, b voucherwatch.Record) int { return long(a) - long(b) })
	if long(usage[0]) != 0 {
		t.Fatal("no window of twelve hours or more")
	}
	half := len(usage) / 2
	byType[voucherwatch.TypeUsage] = usage[:half]
	for typ, recs := range byType {
		if _, err := db.StoreRecords(ctx, typ, recs); err != nil {
			t.Fatalf("store %s: %v", typ, err)
		}
	}
	// The upgrade comes with the build that reads both tables, before its first pass.
	if upgrade {
		if err := db.Migrate(ctx); err != nil {
			t.Fatal(err)
		}
	}
	// No slack: every pair written before the first pass's second is left to it. Stamps are
	// in seconds: the first pass starts a second after the last write, so that nothing the
	// first half wrote is stamped at its time and taken for new by the second.
	db.unitsSlack = 0
	// The first pass's units go back in three INSERTs, the last one short.
	db.unitsBatch = 5_000
	time.Sleep(time.Second)
	firstMeterings, err := db.refreshMeterings(ctx, 720)
	if err != nil {
		t.Fatal(err)
	}
	first := firstMeterings.Units
	if _, err := db.refreshPaidUsages(ctx, 0.3); err != nil {
		t.Fatal(err)
	}
	if !first.Full || !firstMeterings.Full {
		t.Fatalf("first pass on a new database: %+v, want a full build", firstMeterings)
	}
	var keptFirst uint64
	queryRow(t, db, `SELECT count() FROM usage_units FINAL`, &keptFirst)
	// Passes are stamped in seconds: the second's rows must be told apart from the first's.
	time.Sleep(time.Second)
	if _, err := db.StoreRecords(ctx, voucherwatch.TypeUsage, usage[half:]); err != nil {
		t.Fatalf("store usage: %v", err)
	}
	// The long windows of the first half stored a second time past the look-up (a killed
	// process's INSERT), on the upgraded database into the other table.
	if err := db.conn.Exec(ctx, `INSERT INTO usage (`+usageCopyColumns+`) SELECT `+usageCopyColumns+`
		FROM usage WHERE resource_id IN ('EDGE-WEEK', 'EDGE-HALFDAY') AND toUInt32(window_end) - toUInt32(window_start) >= 43200`); err != nil {
		t.Fatal(err)
	}
	var longRows [2]uint64
	queryRow(t, db, `SELECT (SELECT count() FROM usage_runs WHERE run_span >= 43200), (SELECT count() FROM usage_long_windows)`, &longRows[0], &longRows[1])
	if upgrade && (longRows[0] == 0 || longRows[1] == 0) || !upgrade && (longRows[0] != 0 || longRows[1] == 0) {
		t.Fatalf("long windows: %d rows in usage_runs, %d in usage_long_windows; want both, or the latter only on a new database", longRows[0], longRows[1])
	}
	// Two settlements change after the first pass: a new version bills twice the
	// card-hours, another's new version bills none (its invoice no longer compares).
	// A third's new version names another buyer: the paid periods of both contracts change.
	var rebilled, unbilled, moved voucherwatch.Record
	for _, r := range byType[voucherwatch.TypeSettlement] {
		st := r.Settlement
		if st.PeriodStart.IsZero() || len(st.Items) == 0 || st.Items[0].Unit != "card_hour" {
			continue
		}
		switch {
		case rebilled.Settlement == nil:
			rebilled = r
		case unbilled.Settlement == nil && st.InvoiceNo != rebilled.Settlement.InvoiceNo:
			unbilled = r
		case moved.Settlement == nil && unbilled.Settlement != nil && st.InvoiceNo != unbilled.Settlement.InvoiceNo &&
			st.InvoiceNo != rebilled.Settlement.InvoiceNo:
			moved = r
		}
	}
	if moved.Settlement == nil {
		t.Fatal("the province has no three settlements billing card-hours")
	}
	var changed []voucherwatch.Record
	for i, r := range []voucherwatch.Record{rebilled, unbilled, moved} {
		st := *r.Settlement
		st.Items = slices.Clone(st.Items)
		for j := range st.Items {
			switch i {
			case 0:
				st.Items[j].Quantity *= 2
			case 1:
				st.Items[j].Unit = "set"
			}
		}
		if i == 2 {
			st.BuyerUSCC = other
		}
		r.Settlement, r.ID, r.Time = &st, r.ID+"-v2", r.Time.Add(time.Hour)
		changed = append(changed, r)
	}
	if _, err := db.StoreRecords(ctx, voucherwatch.TypeSettlement, changed); err != nil {
		t.Fatalf("store settlements: %v", err)
	}
	// A day of EDGE-COPY stored a second time past the look-up: the INSERT of a killed
	// process that reached the server after the next life had stored the batch.
	if err := db.conn.Exec(ctx, `INSERT INTO usage (`+usageCopyColumns+`) SELECT `+usageCopyColumns+`
		FROM usage WHERE resource_id = 'EDGE-COPY' AND toDate(window_start) = toDate(toDateTime(?, 'Asia/Shanghai'))`, day.Unix()); err != nil {
		t.Fatal(err)
	}

	secondMeterings, err := db.refreshMeterings(ctx, 720)
	if err != nil {
		t.Fatal(err)
	}
	second := secondMeterings.Units
	paid, err := db.refreshPaidUsages(ctx, 0.3)
	if err != nil {
		t.Fatal(err)
	}
	if paid.Full || paid.Keys == 0 {
		t.Errorf("second paid-period pass: %+v, want the contracts the changes reach", paid)
	}
	var invoices uint64
	queryRow(t, db, `SELECT uniqExact(invoice_code, invoice_no) FROM settlements`, &invoices)
	if secondMeterings.Full || secondMeterings.Keys < 2 || uint64(secondMeterings.Keys) >= invoices {
		t.Errorf("second meterings pass: %+v of %d invoices, want the two changed settlements' and those the second half's usage reaches", secondMeterings, invoices)
	}
	t.Logf("kept meterings: the second pass rebuilt %d of %d invoices", secondMeterings.Keys, invoices)
	if second.Full || second.Since.IsZero() {
		t.Fatalf("second pass: %+v, want a refresh of the pairs written since the first", second)
	}
	var keptAll, groups, refreshed uint64
	queryRow(t, db, `SELECT count() FROM usage_units FINAL`, &keptAll)
	queryRow(t, db, `SELECT count() FROM (`+runGroupsSQL("1", upgrade)+`)`, &groups)
	queryRow(t, db, fmt.Sprintf(`SELECT count() FROM usage_units WHERE unit_version = toDateTime(%d, 'Asia/Shanghai')`, second.At.Unix()), &refreshed)
	if keptAll != groups || keptFirst == 0 || keptFirst >= groups {
		t.Errorf("usage_units holds %d groups after the first pass and %d after the second; the rollup %d: want a share, then all", keptFirst, keptAll, groups)
	}
	if refreshed == 0 || refreshed >= groups {
		t.Errorf("the second pass wrote %d of %d groups: want those the second half touched only", refreshed, groups)
	}
	t.Logf("kept units: first pass %d groups (%s), second pass wrote %d of %d (%s)", keptFirst, first.Took, refreshed, groups, second.Took)

	// Both paths are taken: groups read as runs and groups read from usage.
	var exact, inexact uint64
	queryRow(t, db, `SELECT countIf(exact), countIf(NOT exact) FROM (`+usageRunsSQL("1", upgrade)+`)`, &exact, &inexact)
	if exact == 0 || inexact < 5 {
		t.Fatalf("usage_runs: %d exact groups, %d read from usage; want both (the edge cases make at least 5 of the latter)", exact, inexact)
	}

	var rowsRead atomic.Uint64
	readCtx := clickhouse.Context(ctx, clickhouse.WithProgress(func(p *clickhouse.Progress) { rowsRead.Add(p.Rows) }))
	table := func(ctx context.Context, q string, args ...any) ([]string, uint64) {
		t.Helper()
		rowsRead.Store(0)
		rows, err := db.conn.Query(ctx, q, args...)
		if err != nil {
			t.Fatalf("%v\n%s", err, q)
		}
		defer rows.Close()
		var out []string
		types := rows.ColumnTypes()
		for rows.Next() {
			dest := make([]any, len(types))
			for i, ct := range types {
				dest[i] = reflect.New(ct.ScanType()).Interface()
			}
			if err := rows.Scan(dest...); err != nil {
				t.Fatal(err)
			}
			var line strings.Builder
			for _, d := range dest {
				switch v := reflect.ValueOf(d).Elem().Interface().(type) {
				case float64:
					fmt.Fprintf(&line, "%.6f|", v)
				case time.Time:
					fmt.Fprintf(&line, "%d|", v.Unix())
				default:
					fmt.Fprintf(&line, "%v|", v)
				}
			}
			out = append(out, line.String())
		}
		if err := rows.Err(); err != nil {
			t.Fatal(err)
		}
		slices.Sort(out)
		return out, rowsRead.Load()
	}
	same := func(name string, got, want []string) {
		t.Helper()
		if len(want) == 0 {
			t.Errorf("%s: the reference finds nothing: the comparison would prove nothing", name)
		}
		if !slices.Equal(got, want) {
			t.Errorf("%s on usage_runs differs from raw usage:\n got %d rows %q\nwant %d rows %q", name, len(got), got, len(want), want)
		}
	}
	units := func(where string, args ...any) (context.Context, string, []any) {
		t.Helper()
		uctx, q, uargs, err := db.usageUnits(readCtx, where, args...)
		if err != nil {
			t.Fatal(err)
		}
		return uctx, q, uargs
	}
	compare := func(name string, got func(units string) string, want string, args ...any) {
		t.Helper()
		uctx, q, uargs := units("1")
		g, gr := table(uctx, got(q), append(slices.Clone(args), uargs...)...)
		w, wr := table(readCtx, want, args...)
		same(name, g, w)
		t.Logf("%s: %d rows; %d rows read through usage_runs, %d from raw usage", name, len(g), gr, wr)
	}
	compare("invoice metering", invoiceMeteringSQL, rawInvoiceMeteringSQL, 720.0)
	compare("capacity peaks", peakCardsSQL, rawPeakCardsSQL)
	// The kept units are the units, and the sweeps on them what raw usage gives.
	{
		uctx, q, uargs := units("1")
		g, _ := table(uctx, q, uargs...)
		k, _ := table(readCtx, usageUnitsKept)
		same("kept units", k, g)
		for _, c := range []struct {
			name string
			sql  func(string) string
			raw  string
			args []any
		}{
			{"invoice metering on kept units", invoiceMeteringSQL, rawInvoiceMeteringSQL, []any{720.0}},
			{"capacity peaks on kept units", peakCardsSQL, rawPeakCardsSQL, nil},
		} {
			g, _ := table(readCtx, c.sql(usageUnitsKept), c.args...)
			w, _ := table(readCtx, c.raw, c.args...)
			same(c.name, g, w)
		}
		// The capacity sweep's windows: only the shared groups deduplicated.
		var shared uint64
		queryRow(t, db, `SELECT countIf(shared) FROM usage_units FINAL WHERE resource_id = 'EDGE-RECONTRACT'`, &shared)
		if shared != 2 {
			t.Errorf("EDGE-RECONTRACT: %d groups marked shared, want its 2", shared)
		}
		noPrewhere := clickhouse.Context(readCtx, clickhouse.WithSettings(clickhouse.Settings{"optimize_move_to_prewhere": 0}))
		g, _ = table(noPrewhere, peakCardsOf(keptWindowsSQL))
		w, _ := table(readCtx, rawPeakCardsSQL)
		same("capacity peaks on the kept windows", g, w)
		// Who was metered at a peak: one read for many instants gives what TenantsAt gives
		// at each (the province's peaks, and instants of the edge cases: a gap, cards
		// changing, a second tenant, midnight, the re-sent day, the week-long window).
		peaks, err := db.CapacityPeaks(ctx)
		if err != nil {
			t.Fatal(err)
		}
		chip := strings.ReplaceAll(strings.ToLower(tmpl.Usage.ChipModel), " ", "")
		for _, h := range []int{3, 5, 11, 13, 24, 30, 47, 72} {
			peaks = append(peaks, voucherwatch.CapacityPeak{SupplierUSCC: tmpl.Usage.SupplierUSCC, ChipKey: chip, PeakAt: day.Add(time.Duration(h)*time.Hour + 30*time.Minute)})
		}
		batch, err := db.TenantsAtPeaks(ctx, peaks)
		if err != nil {
			t.Fatal(err)
		}
		nonEmpty := 0
		for i, p := range peaks {
			one, err := db.TenantsAt(ctx, p.SupplierUSCC, p.ChipKey, p.PeakAt)
			if err != nil {
				t.Fatal(err)
			}
			if len(one) > 0 {
				nonEmpty++
			}
			if !reflect.DeepEqual(batch[i], one) {
				t.Errorf("tenants at %s %s %v: one read for all gives %+v, TenantsAt %+v", p.SupplierUSCC, p.ChipKey, p.PeakAt, batch[i], one)
			}
		}
		if nonEmpty < len(peaks)/2 {
			t.Errorf("tenants found at %d of %d instants: the comparison proves little", nonEmpty, len(peaks))
		}
		var windows, distinct uint64
		queryRow(t, db, `SELECT count() FROM (`+keptWindowsSQL+`)`, &windows)
		queryRow(t, db, `SELECT count() FROM (`+rawUsageDedup+`)`, &distinct)
		if windows >= distinct+24 {
			t.Errorf("the kept windows hold %d, distinct windows %d: EDGE-RECONTRACT's day counted twice?", windows, distinct)
		}
		// The kept paid-period usages are what one pass over everything gives.
		kp, _ := table(readCtx, keptPaidUsagesSQL, 0.3, uint64(0))
		wp, _ := table(readCtx, fmt.Sprintf(paidPeriodDaysSQL, "1"), 0.3)
		same("kept paid period usages", kp, wp)
		// The kept comparisons, two passes later, are what one comparison of everything gives,
		// the changed settlements included.
		k, _ = table(readCtx, keptMeteringsSQL, 720.0)
		w, _ = table(readCtx, rawInvoiceMeteringSQL, 720.0)
		same("kept invoice meterings", k, w)
		for _, c := range []struct {
			r    voucherwatch.Record
			want bool
		}{{changed[0], true}, {changed[1], false}} {
			found := slices.ContainsFunc(k, func(line string) bool {
				return strings.Contains(line, "|"+c.r.Settlement.InvoiceCode+"|"+c.r.Settlement.InvoiceNo+"|")
			})
			if found != c.want {
				t.Errorf("invoice %s %s in the kept meterings: %v, want %v", c.r.Settlement.InvoiceCode, c.r.Settlement.InvoiceNo, found, c.want)
			}
		}
	}
	{
		g, gr := table(readCtx, overlapCandidatesSQL)
		w, wr := table(readCtx, rawOverlapCandidatesSQL)
		same("overlap candidates", g, w)
		t.Logf("overlap candidates: %d rows; %d rows read through usage_runs without FINAL, %d from raw usage", len(g), gr, wr)
	}
	for _, q := range [][2]string{{resaleLoginsSQL, rawResaleLoginsSQL}, {resaleCandidatesSQL, rawResaleCandidatesSQL}, {resalePartiesSQL, rawResalePartiesSQL},
		{resaleUsageSQL, rawResaleUsageSQL}, {resaleOtherUseSQL, rawResaleOtherUseSQL}} {
		g, gr := table(readCtx, q[0])
		w, wr := table(readCtx, q[1])
		same("resale", g, w)
		t.Logf("resale: %d rows; %d rows read through usage_foreign_logins or usage_units, %d from raw usage", len(g), gr, wr)
	}
	// EDGE-RECONTRACT's day, re-sent under the contract number -B, counts for both contracts.
	{
		g, _ := table(readCtx, resaleUsageSQL)
		key := tmpl.Usage.BuyerUSCC + "|" + tmpl.Usage.SupplierUSCC + "|" + tmpl.Usage.ContractNo
		if !slices.ContainsFunc(g, func(line string) bool { return strings.HasPrefix(line, key+"|") }) ||
			!slices.ContainsFunc(g, func(line string) bool { return strings.HasPrefix(line, key+"-B|24|") }) {
			t.Errorf("resale usage: want %s and its re-sent day (%s-B, 24 windows) both: %q", key, key, g)
		}
	}
	// usage_days with the filter inside its parts gives what the view filtered outside gives.
	from, to := day.Format(time.DateOnly), day.AddDate(0, 0, 10).Format(time.DateOnly)
	const daysSum = `SELECT day, supplier_uscc, buyer_uscc, contract_no, round(sum(day_card_hours), 6), round(sum(util_card_hours), 6), sum(windows) FROM `
	const daysGroup = ` GROUP BY day, supplier_uscc, buyer_uscc, contract_no`
	g, _ := table(readCtx, daysSum+`(`+usageDaysSQL("(supplier_uscc = ? OR buyer_uscc = ?) AND day >= toDate(?) AND day < toDate(?)",
		"(supplier_uscc = ? OR buyer_uscc = ?) AND span_start < toDateTime(toDate(?), 'Asia/Shanghai') AND span_end > toDateTime(toDate(?), 'Asia/Shanghai')")+
		`) WHERE day >= toDate(?) AND day < toDate(?)`+daysGroup,
		append(usageDaysArgs([]any{tmpl.Usage.SupplierUSCC, tmpl.Usage.SupplierUSCC, from, to},
			[]any{tmpl.Usage.SupplierUSCC, tmpl.Usage.SupplierUSCC, to, from}), from, to)...)
	w, _ := table(readCtx, daysSum+`usage_days WHERE (supplier_uscc = ? OR buyer_uscc = ?) AND day >= toDate(?) AND day < toDate(?)`+daysGroup,
		tmpl.Usage.SupplierUSCC, tmpl.Usage.SupplierUSCC, from, to)
	same("usage_days filtered inside", g, w)
	chip := strings.ReplaceAll(strings.ToLower(tmpl.Usage.ChipModel), " ", "")
	for _, at := range []time.Time{day.Add(12*time.Hour + 10*time.Minute), day.Add(5*time.Hour + 45*time.Minute), day.Add(30 * time.Hour)} {
		uctx, q, uargs := units("supplier_uscc = ?", tmpl.Usage.SupplierUSCC)
		g, _ := table(uctx, peakTenantsSQL(q), append(uargs, chip, at.Unix(), at.Unix())...)
		w, _ := table(readCtx, rawPeakTenantsSQL, tmpl.Usage.SupplierUSCC, chip, at.Unix(), at.Unix())
		same(fmt.Sprintf("tenants at %v", at), g, w)
	}
	ts, err := db.ResourceTenancies(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var gotTs []string
	for _, x := range ts {
		gotTs = append(gotTs, fmt.Sprintf("%s|%s|%s|%s|%d|%d|%d|%d|", x.SupplierUSCC, x.ResourceID, x.BuyerUSCC, x.ContractNo,
			x.Start.Unix(), x.End.Unix(), x.MaxCards, x.Windows))
	}
	slices.Sort(gotTs)
	rawTs, _ := table(ctx, rawTenanciesSQL)
	same("tenancies", gotTs, rawTs)
	ovs, err := db.TenancyOverlaps(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var gotOvs []string
	for _, o := range ovs {
		gotOvs = append(gotOvs, fmt.Sprintf("%s|%s|%s|%s|%s|%s|%d|%d|%d|%d|%.6f|%.6f|%d|", o.SupplierUSCC, o.ResourceID, o.BuyerA, o.ContractA,
			o.BuyerB, o.ContractB, o.Windows, o.Seconds, o.First.Unix(), o.Last.Unix(), o.CardHoursA, o.CardHoursB, o.PeakCards))
	}
	slices.Sort(gotOvs)
	rawOvs, _ := table(ctx, rawOverlapsSQL)
	same("overlaps", gotOvs, rawOvs)
}
