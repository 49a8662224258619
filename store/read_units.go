package store

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"
	"github.com/ClickHouse/clickhouse-go/v2/ext"
	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/voucherwatch/voucherwatch"
)

// The usage sweeps' units, kept (migration 25). A full run of capacity peaks and of metering
// against invoices used to build every unit of the history from usage_runs with FINAL, twice per
// sweep: the merge of the aggregate states was most of the run and grew with the history.
// usage_units holds the units of every usage_runs group, finalized; a sweep first refreshes
// the groups of the (resource, day) pairs that usage_touched says were written since the last
// pass (or every group, when those pairs are a quarter of them or more), then reads
// usage_units. The refresh costs what was written since the last pass; the read is a plain
// scan of one row per group.
//
// Exactness. usage_touched is written by a view in the same INSERT as usage, stamped with the
// server's time at the insert. A pass at time T records T once its units are stored; the next
// pass refreshes every pair touched at or after T - unitsSlack. An INSERT that was under way at
// T (its stamp before T, its rows visible after the pass read them) is refreshed again by the
// next pass as long as it took less than the slack (defaultUnitsSlack), which also covers clocks of a cluster's
// nodes that disagree. Two instances refreshing at once write the same groups with their own
// times; ReplacingMergeTree keeps the later pass's, and a group either read stale is refreshed
// again by the next pass, since its pair's stamp is within the slack of both passes. Nothing
// ever deletes from usage_runs, so a group never has to be removed.

// defaultUnitsSlack is how far before the last pass a refresh looks for written pairs
// (DB.unitsSlack; tests shorten it).
const defaultUnitsSlack = 10 * time.Minute

// A refresh that finds at least defaultUnitsFullShare as many pairs written as the kept units
// hold groups, and at least defaultUnitsFullMin pairs, builds every group instead
// (DB.unitsFullShare, DB.unitsFullMin; tests change them). Narrowing usage_runs by an IN set
// costs about 10 s per million pairs on this machine, a full build about 3 s per million
// groups: on the 100 M history (5.8 M groups) a refresh by 1.2, 2.0 and 3.0 M pairs took 12.7,
// 22.4 and 30.5 s, a full build 17.2 s (docs/benchmarks.md, twelfth session). Both read the
// groups twice then; since they read them once (fourteenth session) a refresh by 1.09 M pairs
// takes about 10 s, and the share was not measured again.
const (
	defaultUnitsFullShare = 0.25
	defaultUnitsFullMin   = 100_000
)

// unitsSweep names the units' passes in sweep_passes.
const unitsSweep = "usage_units"

// touchedPairsSQL is the (supplier, resource, day) pairs written since a time (its argument,
// three times, touchedPairsArgs): usage_touched_log's rows since migration 31,
// usage_touched_days' since migration 29, usage_touched's before.
const touchedPairsSQL = `SELECT supplier_uscc, resource_id, run_day FROM usage_touched_log ARRAY JOIN run_days AS run_day
		WHERE touched_at >= toDateTime(?, 'Asia/Shanghai')
		UNION ALL
		SELECT supplier_uscc, resource_id, run_day FROM usage_touched_days ARRAY JOIN run_days AS run_day
		WHERE touched_at >= toDateTime(?, 'Asia/Shanghai')
		UNION ALL
		SELECT supplier_uscc, resource_id, run_day FROM usage_touched WHERE touched_at >= toDateTime(?, 'Asia/Shanghai')`

// touchedPairsArgs are touchedPairsSQL's arguments for the pairs written since since.
func touchedPairsArgs(since time.Time) []any {
	return []any{since.Unix(), since.Unix(), since.Unix()}
}

// usageUnitsKept is the query of the kept units, in the columns of usageUnits.
const usageUnitsKept = `SELECT supplier_uscc, resource_id, buyer_uscc, contract_no, chip_model, cards, run_day, run_span, run_phase,
		ws, we, windows, ch, slots
	FROM usage_units FINAL
	ARRAY JOIN unit_ws AS ws, unit_we AS we, unit_windows AS windows, unit_ch AS ch, unit_slots AS slots`

// keptWindowsSQL is the kept units' windows for the capacity sweep, each once: copies of a
// window can only come from groups that share their resource, day and buyer (shared), so
// only those pay the deduplication (LIMIT 1 BY over every unit took 14 of the sweep's 60 s
// on a 100 M history). The filters on shared must be applied after FINAL's merge (a row an
// older version of its group replaced would come back if they were moved before it), so the
// query runs with optimize_move_to_prewhere = 0.
const keptWindowsSQL = `SELECT supplier_uscc, resource_id, chip_model, cards, ws, we
	FROM usage_units FINAL ARRAY JOIN unit_ws AS ws, unit_we AS we
	WHERE NOT shared
	UNION ALL
	SELECT supplier_uscc, resource_id, chip_model, cards, ws, we
	FROM (SELECT supplier_uscc, resource_id, buyer_uscc, chip_model, cards, ws, we
		FROM usage_units FINAL ARRAY JOIN unit_ws AS ws, unit_we AS we
		WHERE shared)
	LIMIT 1 BY supplier_uscc, resource_id, buyer_uscc, ws, we`

// sweepStartKey carries, in a context, when the sweep its queries belong to began.
type sweepStartKey struct{}

// WithSweepStart marks ctx as a sweep's (a full detector run's) that began at start. Its
// readers of the kept units then skip the refresh when one that began after start has
// completed in this process: it covers every usage record whose INSERT ended before the sweep
// began, which is what a sweep promises. Without it, each of a full run's five readers
// (capacity peaks, tenants at peaks, resale, meterings, paid periods) refreshed in turn, and
// each refresh redid the pairs written in the slack before the one just done: after a burst of
// 1 M weekly records, four refreshes of 6 s each in one run on the 100 M history (query log,
// docs/benchmarks.md, eleventh session).
func WithSweepStart(ctx context.Context, start time.Time) context.Context {
	return context.WithValue(ctx, sweepStartKey{}, start)
}

// UnitsPass is what one refresh of the kept units did.
type UnitsPass struct {
	// Skipped says that a refresh begun after the caller's sweep had completed, so none ran.
	Skipped bool
	// Full says that every group was built: no pass was recorded before, or the pairs
	// written since the last were many against the groups kept (Touched, Kept).
	Full bool
	// Touched is about how many (supplier, resource, day) pairs were written since the last
	// pass less the slack, and Kept about how many groups usage_units held before this one
	// (both 0 on a first pass).
	Touched, Kept uint64
	// Since is the time from which written pairs were refreshed (the last pass less the slack).
	Since time.Time
	// At is the pass's time, recorded for the next one.
	At   time.Time
	Took time.Duration
}

// RefreshUsageUnits brings usage_units up to what usage_runs holds: the groups of the pairs
// written since the last pass, or every group on the first pass. Concurrent refreshes in one
// process run one after the other (the second finds little to do); across processes they are
// safe (see above).
func (db *DB) RefreshUsageUnits(ctx context.Context) error {
	_, err := db.refreshUnits(ctx)
	return err
}

func (db *DB) refreshUnits(ctx context.Context) (UnitsPass, error) {
	db.unitsMu.Lock()
	defer db.unitsMu.Unlock()
	start := time.Now()
	if sweep, ok := ctx.Value(sweepStartKey{}).(time.Time); ok && db.unitsBegan.After(sweep) {
		return UnitsPass{Skipped: true}, nil
	}
	var (
		p    UnitsPass
		last time.Time
		err  error
	)
	if p.At, last, err = db.lastPass(ctx, unitsSweep); err != nil {
		return p, fmt.Errorf("store: usage units: %w", err)
	}
	runsWhere, args := "1", []any(nil)
	usageWhere := "1"
	if last.Unix() <= 0 {
		p.Full = true
	} else {
		p.Since = last.Add(-db.unitsSlack)
		if p.Touched, p.Kept, err = db.touchedShare(ctx, p.Since); err != nil {
			return p, fmt.Errorf("store: usage units: %w", err)
		}
		p.Full = db.unitsFullShare > 0 && p.Touched >= db.unitsFullMin && float64(p.Touched) >= db.unitsFullShare*float64(p.Kept)
	}
	if !p.Full {
		// The pairs are few against the groups; the IN set is built once per query and narrows usage_runs by
		// its key's prefix (supplier_uscc, resource_id, run_day).
		runsWhere = `(supplier_uscc, resource_id, run_day) IN (` + touchedPairsSQL + `)`
		usageWhere = `(supplier_uscc, resource_id) IN (SELECT supplier_uscc, resource_id FROM (` + touchedPairsSQL + `))`
		args = touchedPairsArgs(p.Since)
	}
	oldLong, err := db.hasOldLongRuns(ctx)
	if err != nil {
		return p, fmt.Errorf("store: usage units: %w", err)
	}
	const insert = `INSERT INTO usage_units (run_day, unit_key, supplier_uscc, resource_id, buyer_uscc, contract_no, chip_model, cards,
	run_span, run_phase, shared, unit_ws, unit_we, unit_windows, unit_ch, unit_slots, unit_version)`
	// The groups of the pairs refreshed that share their resource, day and buyer with another
	// (the pass rebuilds every group of a pair): those whose rows (runKeysSQL) carry more than
	// one key. Comparing the least and the greatest hash of the rest of the key asks that of
	// each (resource, day, buyer) in one aggregation; the distinct keys first, then their count,
	// took 3.5 s more of a refresh by 1.4 M pairs on the 100 M history (0.55 s this way). Two
	// keys of one resource, day and buyer with equal 64-bit hashes would go unmarked.
	shared := `(supplier_uscc, resource_id, run_day, buyer_uscc) IN (
		SELECT supplier_uscc, resource_id, run_day, buyer_uscc
		FROM (` + runKeysSQL(runsWhere) + `)
		GROUP BY supplier_uscc, resource_id, run_day, buyer_uscc
		HAVING min(cityHash64(contract_no, chip_model, cards, run_span, run_phase))
			!= max(cityHash64(contract_no, chip_model, cards, run_span, run_phase)))`
	sharedArgs := append(slices.Clone(args), args...)
	const key = `cityHash64(supplier_uscc, resource_id, buyer_uscc, contract_no, chip_model, cards, run_span, run_phase)`

	// One read of the pairs' groups: an exact group is one unit, which goes back to
	// usage_units in batches as the rows stream in (no GROUP BY holding every group: a first
	// pass on a 100 M history has millions); the keys of the others (usually none) are kept
	// for the windows' read below. The read and the write were two statements that each
	// evaluated the groups, the first only to find the inexact ones: 10 s of a 21 s refresh by
	// 1.44 M pairs on the 100 M history.
	var inexact inexactRuns
	w := unitsWriter{db: db, ctx: ctx, insert: insert, version: p.At}
	err = db.scanRows(ctx, `SELECT `+usageRunKey+`, `+key+`, `+shared+`,
	toInt64(first_start), toInt64(last_start + run_span), toUInt64(n), ch, slots, exact
FROM (`+usageRunsSQL(runsWhere, oldLong)+`)`, append(slices.Clone(sharedArgs), runGroupsArgs(args, oldLong)...), func(scan func(...any) error) error {
		var (
			k                      runKey
			unitKey, windows, slot uint64
			sharedFlag, exact      uint8
			ws, we                 int64
			ch                     float64
		)
		if err := scan(&k.supplier, &k.resource, &k.day, &k.buyer, &k.contract, &k.chip, &k.cards, &k.span, &k.phase,
			&unitKey, &sharedFlag, &ws, &we, &windows, &ch, &slot, &exact); err != nil {
			return err
		}
		if exact == 0 {
			inexact.add(k)
			return nil
		}
		return w.add(k, unitKey, sharedFlag, ws, we, windows, ch, slot)
	})
	if err == nil {
		err = w.flush()
	}
	if err != nil {
		w.abort()
		return p, fmt.Errorf("store: usage units: refresh the runs: %w", err)
	}
	if inexact.n > 0 {
		// Their windows, read from usage by key, gathered per group.
		wctx, err := inexact.context(ctx)
		if err != nil {
			return p, fmt.Errorf("store: usage units: %w", err)
		}
		windows := insert + `
SELECT run_day, ` + key + `, supplier_uscc, resource_id, buyer_uscc, contract_no, chip_model, cards, run_span, run_phase,
	any(` + shared + `), groupArray(ws), groupArray(we), groupArray(windows), groupArray(ch), groupArray(slots), toDateTime(?, 'Asia/Shanghai')
FROM (` + inexactWindowsSQL(usageWhere) + `)
GROUP BY supplier_uscc, resource_id, run_day, buyer_uscc, contract_no, chip_model, cards, run_span, run_phase`
		if err := db.conn.Exec(wctx, windows, append(append(slices.Clone(sharedArgs), p.At.Unix()), args...)...); err != nil {
			return p, fmt.Errorf("store: usage units: refresh the windows: %w", err)
		}
	}
	if err := db.recordPass(ctx, unitsSweep, p.At); err != nil {
		return p, fmt.Errorf("store: usage units: %w", err)
	}
	db.unitsBegan = start
	p.Took = time.Since(start)
	return p, nil
}

// defaultUnitsBatch is how many units a refresh sends per INSERT (DB.unitsBatch): about 30 MB
// of the engine's memory.
const defaultUnitsBatch = 100_000

// unitsWriter sends a refresh's exact units to usage_units in batches of DB.unitsBatch, each
// stamped with the pass's version.
type unitsWriter struct {
	db      *DB
	ctx     context.Context
	insert  string
	version time.Time
	batch   driver.Batch
	rows    int
}

func (w *unitsWriter) add(k runKey, unitKey uint64, shared uint8, ws, we int64, windows uint64, ch float64, slots uint64) error {
	if w.batch == nil {
		b, err := w.db.conn.PrepareBatch(w.ctx, w.insert)
		if err != nil {
			return err
		}
		w.batch = b
	}
	if err := w.batch.Append(k.day, unitKey, k.supplier, k.resource, k.buyer, k.contract, k.chip, k.cards, k.span, k.phase,
		shared, []int64{ws}, []int64{we}, []uint64{windows}, []float64{ch}, []uint64{slots}, w.version); err != nil {
		return err
	}
	if w.rows++; w.rows >= w.db.unitsBatch {
		return w.flush()
	}
	return nil
}

// abort drops the batch in hand, if any, and the connection it holds.
func (w *unitsWriter) abort() {
	if w.batch != nil {
		_ = w.batch.Abort()
		w.batch, w.rows = nil, 0
	}
}

// flush sends the batch in hand, if any.
func (w *unitsWriter) flush() error {
	if w.batch == nil {
		return nil
	}
	b := w.batch
	w.batch, w.rows = nil, 0
	return b.Send()
}

// tenantsAtPeaksSQL is peakTenantsSQL at many instants over the kept units: the peaks travel
// as the external table peaks (i, supplier_uscc, chip, at), and the kept units are narrowed
// to their suppliers (a group's supplier is part of its key, so that filter may come before
// FINAL; the one on the windows must come after it, hence optimize_move_to_prewhere = 0).
const tenantsAtPeaksSQL = `SELECT i, buyer_uscc, contract_no, sum(cards), uniqExact(resource_id)
FROM (
	SELECT i, supplier_uscc, resource_id, buyer_uscc, contract_no, cards, ws, we
	FROM (
		SELECT supplier_uscc, replaceAll(lower(chip_model), ' ', '') AS chip, resource_id, buyer_uscc, contract_no, cards, ws, we
		FROM usage_units FINAL ARRAY JOIN unit_ws AS ws, unit_we AS we
		WHERE supplier_uscc IN (SELECT supplier_uscc FROM peaks)
	) ALL INNER JOIN peaks USING supplier_uscc, chip
	WHERE ws <= at AND we > at
	LIMIT 1 BY i, supplier_uscc, resource_id, buyer_uscc, ws, we
)
GROUP BY i, buyer_uscc, contract_no
ORDER BY i, buyer_uscc, contract_no`

// TenantsAtPeaks returns who was metered on each peak's supplier and chip at its instant, in
// one pass over the kept units (the capacity sweep asked TenantsAt once per peak, two FINAL
// passes over a supplier's usage_runs each: 40 s for a 100 M history's 400 peaks).
func (db *DB) TenantsAtPeaks(ctx context.Context, peaks []voucherwatch.CapacityPeak) ([][]voucherwatch.TenantCards, error) {
	out := make([][]voucherwatch.TenantCards, len(peaks))
	if len(peaks) == 0 {
		return out, nil
	}
	if err := db.RefreshUsageUnits(ctx); err != nil {
		return nil, fmt.Errorf("store: tenants at peaks: %w", err)
	}
	t, err := ext.NewTable("peaks", ext.Column("i", "UInt32"), ext.Column("supplier_uscc", "String"), ext.Column("chip", "String"), ext.Column("at", "Int64"))
	for i := 0; err == nil && i < len(peaks); i++ {
		err = t.Append(uint32(i), peaks[i].SupplierUSCC, peaks[i].ChipKey, peaks[i].PeakAt.Unix())
	}
	if err != nil {
		return nil, fmt.Errorf("store: tenants at peaks: %w", err)
	}
	ctx = clickhouse.Context(ctx, clickhouse.WithExternalTable(t), clickhouse.WithSettings(clickhouse.Settings{"optimize_move_to_prewhere": 0}))
	err = db.scanRows(ctx, tenantsAtPeaksSQL, nil, func(scan func(...any) error) error {
		var (
			i          uint32
			tc         voucherwatch.TenantCards
			cards, res uint64
		)
		if err := scan(&i, &tc.BuyerUSCC, &tc.ContractNo, &cards, &res); err != nil {
			return err
		}
		tc.Cards, tc.Resources = int(cards), int(res)
		out[i] = append(out[i], tc)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("store: tenants at peaks: %w", err)
	}
	return out, nil
}

// touchedShare returns about how many pairs were written since a time, and how many groups
// the kept units hold. Both follow what they count, not the history: the pairs' logs are read
// from since on, and the groups are two narrow columns of a table every sweep reads whole
// anyway (0.13 s on the 100 M history). Groups, not rows: every pass adds a version of the
// groups it rebuilds, and a full build doubles the rows until the merges catch up.
func (db *DB) touchedShare(ctx context.Context, since time.Time) (touched, kept uint64, err error) {
	q := `SELECT (SELECT uniq(supplier_uscc, resource_id, run_day) FROM (` + touchedPairsSQL + `)), (SELECT uniq(run_day, unit_key) FROM usage_units)`
	if err := db.conn.QueryRow(ctx, q, touchedPairsArgs(since)...).Scan(&touched, &kept); err != nil {
		return 0, 0, fmt.Errorf("pairs touched since %s: %w", since.Format(time.RFC3339), err)
	}
	return touched, kept, nil
}

// lastPass returns the server's time and the time of a sweep's last recorded pass (the Unix
// epoch when there was none).
func (db *DB) lastPass(ctx context.Context, sweep string) (now, last time.Time, err error) {
	if err := db.conn.QueryRow(ctx, `SELECT now(), max(pass_at) FROM sweep_passes WHERE sweep = ?`, sweep).Scan(&now, &last); err != nil {
		return now, last, fmt.Errorf("last pass: %w", err)
	}
	return now, last, nil
}

// recordPass records a sweep's pass at a time (its lastPass's now), once what it kept is
// stored.
func (db *DB) recordPass(ctx context.Context, sweep string, at time.Time) error {
	if err := db.conn.Exec(ctx, `INSERT INTO sweep_passes (sweep, pass_at) SELECT ?, toDateTime(?, 'Asia/Shanghai')`, sweep, at.Unix()); err != nil {
		return fmt.Errorf("record the pass: %w", err)
	}
	return nil
}

// scanKeys reads the string columns of q's rows, column by column.
func (db *DB) scanKeys(ctx context.Context, q string, args []any, columns int) ([][]string, error) {
	cols := make([][]string, columns)
	row := make([]string, columns)
	dest := make([]any, columns)
	for i := range row {
		dest[i] = &row[i]
	}
	err := db.scanRows(ctx, q, args, func(scan func(...any) error) error {
		if err := scan(dest...); err != nil {
			return err
		}
		for i, v := range row {
			cols[i] = append(cols[i], v)
		}
		return nil
	})
	return cols, err
}

// keysTable is an external table of string columns named names, holding cols.
func keysTable(name string, names []string, cols [][]string) (*ext.Table, error) {
	spec := make([]func(*ext.Table) error, len(names))
	for i, n := range names {
		spec[i] = ext.Column(n, "String")
	}
	t, err := ext.NewTable(name, spec...)
	for i := 0; err == nil && i < len(cols); i++ {
		_, err = t.Block().Columns[i].Append(cols[i])
	}
	return t, err
}

// keptKeys says how a kept comparison (read_meterings.go, read_paid_usages.go) finds what a
// pass rebuilds.
type keptKeys struct {
	sweep   string   // its passes' name in sweep_passes
	dirty   string   // the keys to rebuild since a Unix time (both arguments), string columns
	table   string   // the external table the keys travel in
	columns []string // the keys' columns
}

// keptPlan is what a pass of a kept comparison rebuilds.
type keptPlan struct {
	Units UnitsPass
	At    time.Time // the pass's time, recorded by recordPass once its rows are stored
	Full  bool      // no pass before: everything
	Keys  int       // keys rebuilt (0 on a full pass)
	// ctx carries the keys' external table; filter selects them ("1" on a full pass).
	ctx    context.Context
	filter string
}

// rebuilds says that the pass has something to write.
func (k keptPlan) rebuilds() bool { return k.Full || k.Keys > 0 }

// version is the pass's tombstones' version; its rows take one more, so that a key that
// still compares wins over its tombstone within the pass.
func (k keptPlan) version() uint64 { return uint64(k.At.Unix()) * 2 }

// planKept refreshes the kept units, then finds what a pass of a kept comparison rebuilds:
// everything on its first pass, else the keys written since its last pass less the slack.
func (db *DB) planKept(ctx context.Context, k keptKeys) (keptPlan, error) {
	var (
		p    = keptPlan{ctx: ctx, filter: "1"}
		last time.Time
		err  error
	)
	if p.Units, err = db.refreshUnits(ctx); err != nil {
		return p, err
	}
	if p.At, last, err = db.lastPass(ctx, k.sweep); err != nil {
		return p, err
	}
	if p.Full = last.Unix() <= 0; p.Full {
		return p, nil
	}
	since := last.Add(-db.unitsSlack).Unix()
	keys, err := db.scanKeys(ctx, k.dirty, []any{since, since}, len(k.columns))
	if err != nil {
		return p, fmt.Errorf("keys to rebuild: %w", err)
	}
	if p.Keys = len(keys[0]); p.Keys == 0 {
		return p, nil
	}
	t, err := keysTable(k.table, k.columns, keys)
	if err != nil {
		return p, err
	}
	cols := strings.Join(k.columns, ", ")
	p.ctx = clickhouse.Context(ctx, clickhouse.WithExternalTable(t))
	p.filter = "(" + cols + ") IN (SELECT " + cols + " FROM " + k.table + ")"
	return p, nil
}
