package store

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"
	"github.com/ClickHouse/clickhouse-go/v2/ext"

	"github.com/voucherwatch/voucherwatch"
)

// The usage sweeps. Each compares windows with periods, instants or other windows, which a
// daily rollup cannot answer exactly. They read usage_runs (migration 18) through usageUnits:
// an unbroken run of a resource's windows within a day is one unit, [first start, last end),
// and every other window is a unit of its own, read from usage by key.

// usageRunsSQL reads the rollup's groups, filtered by where (on the key columns), and says
// which are exact: one unbroken run of distinct windows, each stored once, within the day or a
// single window. oldLong says whether usage_runs holds long windows (hasOldLongRuns). Its
// arguments are runGroupsArgs'.
func usageRunsSQL(where string, oldLong bool) string {
	return `SELECT supplier_uscc, resource_id, run_day, buyer_uscc, contract_no, chip_model, cards, run_span, run_phase,
		first_start, last_start, slots, records, ch,
		intDiv(last_start - first_start, run_span) + 1 AS n,
		run_span >= 1800 AND records = n
			AND slots = toUInt64(bitShiftLeft(toUInt64(bitShiftLeft(toUInt64(1), n) - 1), intDiv(first_start - toUInt32(run_day), run_span)))
			AND (n = 1 OR last_start + run_span <= toUInt32(run_day) + 86400) AS exact
	FROM (` + runGroupsSQL(where, oldLong) + `)`
}

// longWindowSpan is the shortest window that usage_long_windows holds (migration 32; usage_runs
// held them as groups of their own before, usage_runs_long_mv of migration 29).
const longWindowSpan = 43200

// runGroupsSQL is every group of the rollup that where selects (on usage_runs' key columns),
// finalized: its key, first_start and last_start (Unix seconds), slots, records and ch
// (card-hours). Groups of shorter windows are usage_runs' alone: FINAL merges their parts'
// states in the table's order, about four times cheaper on 18.16 than a GROUP BY of as many
// keys. Windows of twelve hours or more make groups of one or two windows (a day holds at most
// two starts of one length and phase), in usage_runs before migration 32 and rows of
// usage_long_windows since: those are grouped across both tables, so that a window found in
// both counts as two records. A database that holds no long window in usage_runs (oldLong
// false: made at migration 32 or later, or upgraded before any was stored) skips that table's
// part, which read usage_runs a second time under where (with its IN set built again) to find
// nothing. Its arguments are runGroupsArgs'.
func runGroupsSQL(where string, oldLong bool) string {
	old := ""
	if oldLong {
		old = `SELECT ` + usageRunKey + `, ` + runStatesFinalized + `
		FROM usage_runs
		WHERE run_span >= ` + fmt.Sprint(longWindowSpan) + ` AND (` + where + `)
		UNION ALL
		`
	}
	return `SELECT ` + usageRunKey + `, ` + runStatesFinalized + `
	FROM usage_runs FINAL
	WHERE run_span < ` + fmt.Sprint(longWindowSpan) + ` AND (` + where + `)
	UNION ALL
	SELECT ` + usageRunKey + `,
		min(first_start) AS first_start, max(last_start) AS last_start, groupBitOr(slots) AS slots, sum(records) AS records, sum(ch) AS ch
	FROM (
		` + old + `SELECT ` + usageRunKey + `,
			toUInt32(window_start) AS first_start, first_start AS last_start,
			toUInt64(bitShiftLeft(toUInt64(1), intDiv(first_start - toUInt32(run_day), run_span))) AS slots,
			toUInt64(1) AS records, card_hours AS ch
		FROM usage_long_windows
		WHERE ` + where + `
	)
	GROUP BY ` + usageRunKey
}

// runStatesFinalized is a usage_runs row's states as runGroupsSQL's columns first_start,
// last_start, slots, records and ch.
const runStatesFinalized = `toUInt32(finalizeAggregation(run_first)) AS first_start, toUInt32(finalizeAggregation(run_last)) AS last_start,
		finalizeAggregation(run_slots) AS slots, finalizeAggregation(run_records) AS records, finalizeAggregation(run_card_hours) AS ch`

// runGroupsArgs are runGroupsSQL's (and usageRunsSQL's) arguments for those of its where:
// where's three times, or twice when oldLong is false.
func runGroupsArgs(args []any, oldLong bool) []any {
	n := 2
	if oldLong {
		n = 3
	}
	out := make([]any, 0, n*len(args))
	for range n {
		out = append(out, args...)
	}
	return out
}

// hasOldLongRuns says whether usage_runs holds windows of twelve hours or more, which only a
// database that stored them before migration 32 does. Once none is found, none can come (no
// view writes them there since, and nothing rebuilds usage_runs), so the answer is kept; while
// some are there it is asked again, a read of one column.
func (db *DB) hasOldLongRuns(ctx context.Context) (bool, error) {
	if db.noOldLongRuns.Load() {
		return false, nil
	}
	var n uint64
	if err := db.conn.QueryRow(ctx, `SELECT count() FROM usage_runs WHERE run_span >= `+fmt.Sprint(longWindowSpan)).Scan(&n); err != nil {
		return false, fmt.Errorf("long windows in usage_runs: %w", err)
	}
	if n == 0 {
		db.noOldLongRuns.Store(true)
	}
	return n > 0, nil
}

// runKeysSQL is the keys of the rollup's rows that where selects, a group's key once per row
// (states not merged yet, windows); its arguments are where's twice.
func runKeysSQL(where string) string {
	return `SELECT ` + usageRunKey + ` FROM usage_runs WHERE ` + where + `
		UNION ALL
		SELECT ` + usageRunKey + ` FROM usage_long_windows WHERE ` + where
}

// usageRunKey is the key of a usage_runs group.
const usageRunKey = `supplier_uscc, resource_id, run_day, buyer_uscc, contract_no, chip_model, cards, run_span, run_phase`

// usageUnits returns the query of the deduplicated usage as units, and ctx with what it needs:
// supplier_uscc, resource_id, buyer_uscc, contract_no, chip_model, cards, run_day, run_span,
// run_phase, ws and we (Unix seconds), windows, ch (card-hours) and slots (the windows' bits
// of the day, 0 for windows shorter than half an hour). The groups that are not exact are
// looked up first and travel as an external table, so that their windows are read from usage
// by its primary key (supplier_uscc, resource_id, window_start); usually there are none. where
// filters on supplier_uscc and resource_id; args are its arguments, returned with the
// query's.
func (db *DB) usageUnits(ctx context.Context, where string, args ...any) (context.Context, string, []any, error) {
	u, err := db.usageUnitsOf(ctx, where, args, where, args)
	if err != nil {
		return ctx, "", nil, err
	}
	if u.windows == "" {
		return ctx, u.runs, u.runsArgs, nil
	}
	return u.ctx, u.runs + `
	UNION ALL
	` + u.windows, append(slices.Clone(u.runsArgs), u.windowsArgs...), nil
}

// unitsQuery is the units in two queries: the exact groups as runs, and the windows of the
// inexact ones (empty when there are none), which needs ctx (it carries their keys).
type unitsQuery struct {
	ctx                   context.Context
	runs, windows         string
	runsArgs, windowsArgs []any
}

// usageUnitsOf is usageUnits in its two parts, with separate filters for usage_runs
// (runsWhere, which may also name run_day) and for usage (usageWhere, on supplier_uscc and
// resource_id; the inexact groups' keys narrow it further).
func (db *DB) usageUnitsOf(ctx context.Context, runsWhere string, runsArgs []any, usageWhere string, usageArgs []any) (unitsQuery, error) {
	oldLong, err := db.hasOldLongRuns(ctx)
	if err != nil {
		return unitsQuery{}, err
	}
	where, args := runsWhere, runGroupsArgs(runsArgs, oldLong)
	var inexact inexactRuns
	err = db.scanRows(ctx, `SELECT `+usageRunKey+` FROM (`+usageRunsSQL(where, oldLong)+`) WHERE NOT exact`, args, func(scan func(...any) error) error {
		var k runKey
		if err := scan(&k.supplier, &k.resource, &k.day, &k.buyer, &k.contract, &k.chip, &k.cards, &k.span, &k.phase); err != nil {
			return err
		}
		inexact.add(k)
		return nil
	})
	if err != nil {
		return unitsQuery{}, fmt.Errorf("runs read from usage: %w", err)
	}
	q := `SELECT supplier_uscc, resource_id, buyer_uscc, contract_no, chip_model, cards, run_day, run_span, run_phase,
		toInt64(first_start) AS ws, toInt64(last_start + run_span) AS we, toUInt64(n) AS windows, ch, slots
	FROM (` + usageRunsSQL(where, oldLong) + `)
	WHERE exact`
	u := unitsQuery{ctx: ctx, runs: q, runsArgs: args}
	if inexact.n == 0 {
		return u, nil
	}
	if u.ctx, err = inexact.context(ctx); err != nil {
		return unitsQuery{}, fmt.Errorf("runs read from usage: %w", err)
	}
	u.windows, u.windowsArgs = inexactWindowsSQL(usageWhere), usageArgs
	return u, nil
}

// runKey is a group's key, usageRunKey's columns.
type runKey struct {
	supplier, resource    string
	day                   time.Time
	buyer, contract, chip string
	cards, span, phase    uint32
}

// inexactRuns gathers the keys of the groups read from usage.
type inexactRuns struct {
	cols [9][]any
	n    int
}

func (r *inexactRuns) add(k runKey) {
	for i, v := range []any{k.supplier, k.resource, k.day, k.buyer, k.contract, k.chip, k.cards, k.span, k.phase} {
		r.cols[i] = append(r.cols[i], v)
	}
	r.n++
}

// context returns ctx carrying the keys as the external table inexact_runs, which
// inexactWindowsSQL reads.
func (r *inexactRuns) context(ctx context.Context) (context.Context, error) {
	t, err := ext.NewTable("inexact_runs", ext.Column("supplier_uscc", "String"), ext.Column("resource_id", "String"),
		ext.Column("run_day", "DateTime('Asia/Shanghai')"), ext.Column("buyer_uscc", "String"), ext.Column("contract_no", "String"),
		ext.Column("chip_model", "String"), ext.Column("cards", "UInt32"), ext.Column("run_span", "UInt32"), ext.Column("run_phase", "UInt32"))
	for i := 0; err == nil && i < len(r.cols); i++ {
		for _, v := range r.cols[i] {
			if err = t.Block().Columns[i].AppendRow(v); err != nil {
				break
			}
		}
	}
	if err != nil {
		return ctx, err
	}
	return clickhouse.Context(ctx, clickhouse.WithExternalTable(t)), nil
}

// inexactWindowsSQL is the windows of the groups in inexact_runs, each once, read from usage
// by its primary key and filtered by usageWhere (on supplier_uscc and resource_id), in the
// units' columns.
func inexactWindowsSQL(usageWhere string) string {
	return `SELECT supplier_uscc, resource_id, buyer_uscc, contract_no, chip_model, cards, toStartOfDay(window_start) AS run_day,
		toUInt32(toUInt32(window_end) - toUInt32(window_start)) AS run_span,
		toUInt32((toUInt32(window_start) - toUInt32(run_day)) % run_span) AS run_phase,
		toInt64(window_start) AS ws, toInt64(window_end) AS we, toUInt64(1) AS windows, card_hours AS ch,
		if(run_span >= 1800, toUInt64(bitShiftLeft(toUInt64(1), intDiv(ws - toUInt32(run_day), run_span))), toUInt64(0)) AS slots
	FROM usage
	WHERE window_end > window_start AND ` + usageWhere + `
		AND (supplier_uscc, resource_id) IN (SELECT supplier_uscc, resource_id FROM inexact_runs)
		AND (supplier_uscc, resource_id, toStartOfDay(window_start), buyer_uscc, contract_no, chip_model, cards,
			toUInt32(toUInt32(window_end) - toUInt32(window_start)),
			toUInt32((toUInt32(window_start) - toUInt32(toStartOfDay(window_start))) % (toUInt32(window_end) - toUInt32(window_start))))
			IN (SELECT ` + usageRunKey + ` FROM inexact_runs)
	LIMIT 1 BY supplier_uscc, resource_id, buyer_uscc, window_start, window_end`
}

// peakCardsSQL finds, per supplier and chip, the most cards metered at once, when, for how long
// above the registered capacity, and that capacity. A run of windows adds its cards at its
// start and takes them off at its end, as its windows would one after another.
func peakCardsSQL(units string) string {
	return peakCardsOf(`SELECT supplier_uscc, resource_id, chip_model, cards, ws, we
					FROM (` + units + `)
					LIMIT 1 BY supplier_uscc, resource_id, buyer_uscc, ws, we`)
}

// peakCardsOf is peakCardsSQL on windows: supplier_uscc, resource_id, chip_model, cards, ws
// and we of the units, each window once.
func peakCardsOf(windows string) string {
	return `SELECT supplier_uscc, chip, chip_model, capacity,
	arrayReduce('max', cum) AS peak,
	times[indexOf(cum, peak)] AS peak_at,
	times[arrayFirstIndex(c -> c > capacity, cum)] AS first_over,
	arraySum(arrayMap((c, span) -> if(c > capacity, span, 0), cum,
		arrayMap((a, b) -> b - a, times, arrayPushBack(arrayPopFront(times), arrayReduce('max', times))))) AS over_secs
FROM (
	SELECT supplier_uscc, chip, any(chip_model) AS chip_model,
		arraySort(groupArray((t, dl))) AS evs,
		arrayCumSum(arrayMap(x -> x.2, evs)) AS cum,
		arrayMap(x -> x.1, evs) AS times
	FROM (
		SELECT supplier_uscc, chip, chip_model, t, dl
		FROM (
			SELECT supplier_uscc, chip, any(chip_model) AS chip_model, resource_id,
				arraySort(groupArray(ev)) AS evs,
				arrayReduce('max', arrayMap(x -> x.2, evs)) AS resource_cards,
				arrayMap(c -> least(c, resource_cards), arrayCumSum(arrayMap(x -> x.2, evs))) AS clipped,
				arrayMap(x -> x.1, evs) AS ts,
				arrayPushFront(arrayPopFront(arrayDifference(clipped)), clipped[1]) AS dls
			FROM (
				SELECT supplier_uscc, replaceAll(lower(chip_model), ' ', '') AS chip, chip_model, resource_id,
					arrayJoin([(toInt64(ws), toInt64(cards)), (toInt64(we), -toInt64(cards))]) AS ev
				FROM (` + windows + `)
			)
			GROUP BY supplier_uscc, chip, resource_id
		)
		ARRAY JOIN ts AS t, dls AS dl
		WHERE dl != 0
	)
	GROUP BY supplier_uscc, chip
) ALL LEFT JOIN (
	SELECT uscc AS supplier_uscc, replaceAll(lower(capacity_chip_model), ' ', '') AS chip, toInt64(sum(capacity_cards)) AS capacity
	FROM registry_latest
	ARRAY JOIN capacity_chip_model, capacity_cards
	GROUP BY supplier_uscc, chip
) USING supplier_uscc, chip
WHERE peak > capacity`
}

// peakTenantsSQL lists who was metered on a supplier's chip at an instant.
func peakTenantsSQL(units string) string {
	return `SELECT buyer_uscc, contract_no, sum(cards), uniqExact(resource_id)
FROM (
	SELECT buyer_uscc, contract_no, resource_id, cards
	FROM (` + units + `)
	WHERE replaceAll(lower(chip_model), ' ', '') = ? AND toInt64(ws) <= ? AND toInt64(we) > ?
	LIMIT 1 BY supplier_uscc, resource_id, buyer_uscc, ws, we
)
GROUP BY buyer_uscc, contract_no
ORDER BY buyer_uscc, contract_no`
}

// popcount counts the bits of a UInt64 column (18.16 has no bitCount, and a lambda there
// loses the columns it names from a subquery's required columns).
func popcount(x string) string {
	terms := make([]string, 64)
	for i := range terms {
		terms[i] = fmt.Sprintf("bitAnd(bitShiftRight(%s, %d), 1)", x, i)
	}
	return strings.Join(terms, " + ")
}

// meteredSlotsSQL is each contract's metering as groups of windows: the windows of a day of
// one length and phase (every window within the day, so a period of whole days holds all of
// the group or none of it), the distinct windows counted over the contract's resources, and
// every other window (across midnight, or shorter than half an hour) alone.
func meteredSlotsSQL(units string) string {
	return `SELECT supplier_uscc, contract_no, from_s, to_s, card_hours,
		if(in_day, toUInt64(` + popcount("slot_bits") + `), toUInt64(1)) AS slot_count, span
	FROM (
		SELECT supplier_uscc, contract_no, in_day, min(ws) AS from_s, max(we) AS to_s, sum(ch) AS card_hours,
			groupBitOr(slots) AS slot_bits, any(run_span) AS span
		FROM (SELECT supplier_uscc, contract_no, run_day, run_span, run_phase, ws, we, ch, slots,
			slots != 0 AND we <= toUInt32(run_day) + 86400 AS in_day FROM (` + units + `))
		GROUP BY supplier_uscc, contract_no, run_day, run_span, run_phase, in_day, if(in_day, 0, ws), if(in_day, 0, we)
	)`
}

func invoiceMeteringSQL(units string) string { return invoiceMeteringOf(units, "1") }

// invoiceMeteringOf is invoiceMeteringSQL for the settlements that settlements (a filter on
// the settlements table) selects.
func invoiceMeteringOf(units, settlements string) string {
	return `SELECT supplier_uscc, contract_no, buyer_uscc, invoice_code, invoice_no, period_start, period_end, billed,
	sumIf(card_hours * (least(we, pe) - greatest(ws, ps)) / (we - ws), ws < pe AND we > ps) AS metered,
	sumIf(windows, ws < pe AND we > ps) AS windows,
	minIf(ws, ws < pe AND we > ps) AS first_ws,
	maxIf(we, ws < pe AND we > ps) AS last_we,
	max(span) AS longest_window,
	ps, pe
FROM (
	SELECT supplier_uscc, contract_no, buyer_uscc, invoice_code, invoice_no, period_start, period_end,
		arraySum(arrayMap((u, q) -> multiIf(u = 'card_hour', q, u = 'card_month', q * ?, 0.), item_unit, item_quantity)) AS billed,
		toInt64(toDateTime(period_start, 'Asia/Shanghai')) AS ps,
		toInt64(toDateTime(period_end, 'Asia/Shanghai')) + 86400 AS pe
	FROM settlements
	WHERE period_start > toDate(0) AND period_end >= period_start AND ` + settlements + `
	ORDER BY invoice_code, invoice_no, event_time DESC, source DESC, id DESC
	LIMIT 1 BY invoice_code, invoice_no
) ALL LEFT JOIN (
	SELECT supplier_uscc, contract_no, toInt64(from_s) AS ws, toInt64(to_s) AS we, card_hours, slot_count AS windows, toInt64(span) AS span
	FROM (` + meteredSlotsSQL(units) + `)
) USING supplier_uscc, contract_no
WHERE billed > 0
GROUP BY supplier_uscc, contract_no, buyer_uscc, invoice_code, invoice_no, period_start, period_end, billed, ps, pe`
}

// overlapCandidatesSQL are the resources that two buyers used in overlapping spans (first to
// last window): the only ones whose windows can overlap. A span needs no exact runs: its first
// window start and last window end are the least run_first and the greatest run_last plus
// run_span over the rollup's groups, merged or not (an inexact group's windows start within
// [run_first, run_last] and are run_span long, and a copy stored twice changes neither). So it
// reads usage_runs without FINAL, in one pass: the units' two FINAL passes over the whole
// rollup were the dearest part of duplicate_claim's sweep, paid once by each of
// ResourceTenancies and TenancyOverlaps. Windows of twelve hours or more stored since
// migration 32 are usage_long_windows' rows.
const overlapCandidatesSQL = `SELECT supplier_uscc, resource_id
	FROM (SELECT supplier_uscc, resource_id, buyer_uscc, min(first_s) AS first_s, max(last_e) AS last_e
		FROM (SELECT supplier_uscc, resource_id, buyer_uscc,
				toInt64(toUInt32(min(finalizeAggregation(run_first)))) AS first_s,
				toInt64(max(toUInt32(finalizeAggregation(run_last)) + run_span)) AS last_e
			FROM usage_runs GROUP BY supplier_uscc, resource_id, buyer_uscc
			UNION ALL
			SELECT supplier_uscc, resource_id, buyer_uscc,
				toInt64(min(toUInt32(window_start))) AS first_s, toInt64(max(toUInt32(window_start) + run_span)) AS last_e
			FROM usage_long_windows GROUP BY supplier_uscc, resource_id, buyer_uscc)
		GROUP BY supplier_uscc, resource_id, buyer_uscc)
	GROUP BY supplier_uscc, resource_id
	HAVING count() > 1 AND arrayExists((s1, e1, i) -> arrayExists((s2, e2, j) -> j != i AND s1 < e2 AND s2 < e1,
		groupArray(first_s), groupArray(last_e), arrayEnumerate(groupArray(first_s))),
		groupArray(first_s), groupArray(last_e), arrayEnumerate(groupArray(first_s)))`

// tenanciesSQL is each buyer's use of a candidate resource under one contract.
func tenanciesSQL(units string) string {
	return `SELECT supplier_uscc, resource_id, buyer_uscc, contract_no,
	toInt64(min(ws)), toInt64(max(we)), toUInt32(max(cards)), sum(windows)
FROM (` + units + `)
GROUP BY supplier_uscc, resource_id, buyer_uscc, contract_no`
}

// overlapSide is one side of the window self-join: the deduplicated windows of the
// candidate resources, read from usage by its key.
func overlapSide(s string) string {
	return `(SELECT supplier_uscc, resource_id, buyer_uscc AS buyer_` + s + `, contract_no AS contract_` + s + `,
		toInt64(window_start) AS ws_` + s + `, toInt64(window_end) AS we_` + s + `,
		toInt64(cards) AS cards_` + s + `, card_hours AS ch_` + s + `
	FROM usage
	WHERE (supplier_uscc, resource_id) IN (SELECT supplier_uscc, resource_id FROM candidates)
	LIMIT 1 BY source, id)`
}

// overlapsSQL sums, per pair of tenancies, the windows that overlap: the seconds of overlap,
// each side's card-hours pro rata within them, and the most cards metered at once.
var overlapsSQL = `SELECT supplier_uscc, resource_id, buyer_a, contract_a, buyer_b, contract_b,
	count(), sum(ov), min(greatest(ws_a, ws_b)), max(least(we_a, we_b)),
	sum(ch_a * ov / (we_a - ws_a)), sum(ch_b * ov / (we_b - ws_b)), toUInt32(max(cards_a + cards_b))
FROM (SELECT *, least(we_a, we_b) - greatest(ws_a, ws_b) AS ov
	FROM ` + overlapSide("a") + `
	ALL INNER JOIN ` + overlapSide("b") + `
	USING (supplier_uscc, resource_id)
	WHERE buyer_a < buyer_b AND ws_a < we_b AND ws_b < we_a)
GROUP BY supplier_uscc, resource_id, buyer_a, contract_a, buyer_b, contract_b`

// withCandidates returns ctx carrying the resources that two buyers used in overlapping spans
// as the external table candidates, and false when there are none.
func (db *DB) withCandidates(ctx context.Context) (context.Context, bool, error) {
	var sups, res []string
	err := db.scanRows(ctx, overlapCandidatesSQL, nil, func(scan func(...any) error) error {
		var s, r string
		if err := scan(&s, &r); err != nil {
			return err
		}
		sups, res = append(sups, s), append(res, r)
		return nil
	})
	if err != nil || len(sups) == 0 {
		return ctx, false, err
	}
	t, err := ext.NewTable("candidates", ext.Column("supplier_uscc", "String"), ext.Column("resource_id", "String"))
	if err == nil {
		_, err = t.Block().Columns[0].Append(sups)
	}
	if err == nil {
		_, err = t.Block().Columns[1].Append(res)
	}
	if err != nil {
		return ctx, false, err
	}
	return clickhouse.Context(ctx, clickhouse.WithExternalTable(t)), true, nil
}

// CapacityPeaks returns, per supplier and chip, the peak of metered cards where it exceeds the
// registered capacity.
func (db *DB) CapacityPeaks(ctx context.Context) ([]voucherwatch.CapacityPeak, error) {
	if err := db.RefreshUsageUnits(ctx); err != nil {
		return nil, fmt.Errorf("store: capacity peaks: %w", err)
	}
	// The filters on shared stay after FINAL's merge (see keptWindowsSQL).
	ctx = clickhouse.Context(ctx, clickhouse.WithSettings(clickhouse.Settings{"optimize_move_to_prewhere": 0}))
	out, err := db.capacityPeaks(ctx, peakCardsOf(keptWindowsSQL), nil)
	if err != nil {
		return nil, fmt.Errorf("store: capacity peaks: %w", err)
	}
	return out, nil
}

// CapacityPeaksOf is CapacityPeaks of these suppliers, over their units read from usage_runs
// by supplier (its sorting key's lead), as PurchaseUse reads them: exact without the refresh of
// the kept units, which costs what was written since the last pass and belongs to the sweep.
func (db *DB) CapacityPeaksOf(ctx context.Context, suppliers []string) ([]voucherwatch.CapacityPeak, error) {
	if len(suppliers) == 0 {
		return nil, nil
	}
	ctx, units, args, err := db.usageUnits(ctx, "supplier_uscc IN (SELECT arrayJoin(?))", suppliers)
	if err != nil {
		return nil, fmt.Errorf("store: capacity peaks of suppliers: %w", err)
	}
	out, err := db.capacityPeaks(ctx, peakCardsSQL(units), args)
	if err != nil {
		return nil, fmt.Errorf("store: capacity peaks of suppliers: %w", err)
	}
	return out, nil
}

// capacityPeaks reads the rows of a peakCardsOf query.
func (db *DB) capacityPeaks(ctx context.Context, query string, args []any) ([]voucherwatch.CapacityPeak, error) {
	var out []voucherwatch.CapacityPeak
	err := db.scanRows(ctx, query, args, func(scan func(...any) error) error {
		p, err := scanCapacityPeak(scan)
		out = append(out, p)
		return err
	})
	return out, err
}

// scanCapacityPeak reads a row of peakCardsOf.
func scanCapacityPeak(scan func(...any) error) (voucherwatch.CapacityPeak, error) {
	var (
		p                           voucherwatch.CapacityPeak
		capacity, peak              int64
		peakAt, firstOver, overSecs int64
	)
	if err := scan(&p.SupplierUSCC, &p.ChipKey, &p.ChipModel, &capacity, &peak, &peakAt, &firstOver, &overSecs); err != nil {
		return p, err
	}
	p.Capacity, p.Peak = int(capacity), int(peak)
	p.PeakAt, p.FirstOver = time.Unix(peakAt, 0).In(voucherwatch.CST), time.Unix(firstOver, 0).In(voucherwatch.CST)
	p.Over = time.Duration(overSecs) * time.Second
	return p, nil
}

// TenantsAt returns who was metered on a supplier's chip at an instant, by buyer and contract.
func (db *DB) TenantsAt(ctx context.Context, supplier, chipKey string, at time.Time) ([]voucherwatch.TenantCards, error) {
	var out []voucherwatch.TenantCards
	ctx, units, args, err := db.usageUnits(ctx, "supplier_uscc = ?", supplier)
	if err != nil {
		return nil, fmt.Errorf("store: tenants at an instant: %w", err)
	}
	err = db.scanRows(ctx, peakTenantsSQL(units), append(args, chipKey, at.Unix(), at.Unix()), func(scan func(...any) error) error {
		var (
			t          voucherwatch.TenantCards
			cards, res uint64
		)
		if err := scan(&t.BuyerUSCC, &t.ContractNo, &cards, &res); err != nil {
			return err
		}
		t.Cards, t.Resources = int(cards), int(res)
		out = append(out, t)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("store: tenants at an instant: %w", err)
	}
	return out, nil
}

// ResourceTenancies returns the tenancies of every resource that two buyers used in
// overlapping spans.
func (db *DB) ResourceTenancies(ctx context.Context) ([]voucherwatch.Tenancy, error) {
	var out []voucherwatch.Tenancy
	ctx, found, err := db.withCandidates(ctx)
	if err != nil || !found {
		return nil, err
	}
	ctx, units, args, err := db.usageUnits(ctx, "(supplier_uscc, resource_id) IN (SELECT supplier_uscc, resource_id FROM candidates)")
	if err != nil {
		return nil, fmt.Errorf("store: resource tenancies: %w", err)
	}
	err = db.scanRows(ctx, tenanciesSQL(units), args, func(scan func(...any) error) error {
		var (
			t          voucherwatch.Tenancy
			start, end int64
			cards      uint32
			n          uint64
		)
		if err := scan(&t.SupplierUSCC, &t.ResourceID, &t.BuyerUSCC, &t.ContractNo, &start, &end, &cards, &n); err != nil {
			return err
		}
		t.Start, t.End = time.Unix(start, 0).In(voucherwatch.CST), time.Unix(end, 0).In(voucherwatch.CST)
		t.MaxCards, t.Windows = int(cards), int(n)
		out = append(out, t)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("store: resource tenancies: %w", err)
	}
	return out, nil
}

// TenancyOverlaps returns the overlapping windows of the tenancies of one resource, summed per
// pair of tenancies.
func (db *DB) TenancyOverlaps(ctx context.Context) ([]voucherwatch.TenancyOverlap, error) {
	var out []voucherwatch.TenancyOverlap
	ctx, found, err := db.withCandidates(ctx)
	if err != nil || !found {
		return nil, err
	}
	err = db.scanRows(ctx, overlapsSQL, nil, func(scan func(...any) error) error {
		var (
			o           voucherwatch.TenancyOverlap
			n           uint64
			first, last int64
			peak        uint32
		)
		if err := scan(&o.SupplierUSCC, &o.ResourceID, &o.BuyerA, &o.ContractA, &o.BuyerB, &o.ContractB, &n, &o.Seconds,
			&first, &last, &o.CardHoursA, &o.CardHoursB, &peak); err != nil {
			return err
		}
		o.Windows, o.PeakCards = int(n), int(peak)
		o.First, o.Last = time.Unix(first, 0).In(voucherwatch.CST), time.Unix(last, 0).In(voucherwatch.CST)
		out = append(out, o)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("store: tenancy overlaps: %w", err)
	}
	return out, nil
}
