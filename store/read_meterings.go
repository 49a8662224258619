package store

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/voucherwatch/voucherwatch"
)

// The invoice meterings, kept (migration 26). Comparing every invoice with its contract's
// metering read every unit of the history on every full run. invoice_meterings keeps each
// invoice's comparison for one card-month rate; a pass rebuilds the invoices
//   - whose settlement was stored since the last pass (less the slack of read_units.go), and
//   - whose contract's kept units were rebuilt since then on a day within its period,
//
// after refreshing the kept units. An invoice that no longer compares (its latest settlement
// lost its period or its billed card-hours) is tombstoned. The first pass for a rate builds
// every invoice. What a full run of the comparison gave is what the kept rows give, with the
// contract's longest window (which any of its windows can change, in or out of a period)
// read at the sweep from the key columns of usage_runs and usage_long_windows.

// meteringsSweep names the meterings' passes in sweep_passes, per card-month rate.
func meteringsSweep(cardMonthHours float64) string {
	return "invoice_meterings:" + strconv.FormatFloat(cardMonthHours, 'g', -1, 64)
}

// invoiceMeteringColumns are invoice_meterings' columns as written.
const invoiceMeteringColumns = `card_month_hours, invoice_code, invoice_no, supplier_uscc, contract_no, buyer_uscc, period_start, period_end,
	billed, metered, windows, first_ws, last_we, ps, pe, present, metering_version`

// keptMeteringsSQL reads the kept comparisons of one rate (the latest row of each invoice,
// tombstones dropped) with each contract's longest window. The latest row is chosen by argMax,
// not FINAL: a filter on present could be moved before FINAL's merge and bring back a row a
// tombstone replaced.
const keptMeteringsSQL = `SELECT supplier_uscc, contract_no, buyer_uscc, invoice_code, invoice_no, period_start, period_end, billed,
	metered, windows, first_ws, last_we, longest_window, ps, pe
FROM (
	SELECT invoice_code, invoice_no,
		argMax(present, metering_version) AS p,
		argMax(supplier_uscc, metering_version) AS supplier_uscc,
		argMax(contract_no, metering_version) AS contract_no,
		argMax(buyer_uscc, metering_version) AS buyer_uscc,
		argMax(period_start, metering_version) AS period_start,
		argMax(period_end, metering_version) AS period_end,
		argMax(billed, metering_version) AS billed,
		argMax(metered, metering_version) AS metered,
		argMax(windows, metering_version) AS windows,
		argMax(first_ws, metering_version) AS first_ws,
		argMax(last_we, metering_version) AS last_we,
		argMax(ps, metering_version) AS ps,
		argMax(pe, metering_version) AS pe
	FROM invoice_meterings
	WHERE card_month_hours = ?
	GROUP BY invoice_code, invoice_no
	HAVING p = 1
) ALL LEFT JOIN (
	SELECT supplier_uscc, contract_no, toInt64(max(run_span)) AS longest_window
	FROM (SELECT supplier_uscc, contract_no, run_span FROM usage_runs
		UNION ALL
		SELECT supplier_uscc, contract_no, run_span FROM usage_long_windows)
	GROUP BY supplier_uscc, contract_no
) USING supplier_uscc, contract_no`

// refreshMeterings brings invoice_meterings up to date for one card-month rate.
func (db *DB) refreshMeterings(ctx context.Context, cardMonthHours float64) (keptPlan, error) {
	db.meteringsMu.Lock()
	defer db.meteringsMu.Unlock()
	sweep := meteringsSweep(cardMonthHours)
	p, err := db.planKept(ctx, keptKeys{sweep: sweep, dirty: dirtyInvoicesSQL, table: "dirty_invoices", columns: []string{"invoice_code", "invoice_no"}})
	if err != nil {
		return p, fmt.Errorf("store: invoice meterings: %w", err)
	}
	if p.rebuilds() {
		// Tombstones first, one version below the comparisons: an invoice that still
		// compares is written again just after.
		tomb := `INSERT INTO invoice_meterings (` + invoiceMeteringColumns + `)
SELECT ?, invoice_code, invoice_no, '', '', '', toDate(0), toDate(0), 0, 0, 0, 0, 0, 0, 0, 0, ?
FROM settlements WHERE ` + p.filter + `
GROUP BY invoice_code, invoice_no`
		if err := db.conn.Exec(p.ctx, tomb, cardMonthHours, p.version()); err != nil {
			return p, fmt.Errorf("store: invoice meterings: tombstones: %w", err)
		}
		units := usageUnitsKept
		if !p.Full {
			// The units of the invoices' contracts.
			units += `
	WHERE supplier_uscc IN (SELECT supplier_uscc FROM settlements WHERE ` + p.filter + `)
		AND (supplier_uscc, contract_no) IN (SELECT supplier_uscc, contract_no FROM settlements WHERE ` + p.filter + `)`
		}
		rows := `INSERT INTO invoice_meterings (` + invoiceMeteringColumns + `)
SELECT ?, invoice_code, invoice_no, supplier_uscc, contract_no, buyer_uscc, period_start, period_end,
	billed, metered, windows, first_ws, last_we, ps, pe, 1, ?
FROM (` + invoiceMeteringOf(units, p.filter) + `)`
		if err := db.conn.Exec(p.ctx, rows, cardMonthHours, p.version()+1, cardMonthHours); err != nil {
			return p, fmt.Errorf("store: invoice meterings: rebuild: %w", err)
		}
	}
	if err := db.recordPass(ctx, sweep, p.At); err != nil {
		return p, fmt.Errorf("store: invoice meterings: %w", err)
	}
	return p, nil
}

// dirtyInvoicesSQL are the invoices to rebuild since a Unix time (both arguments): those
// with a settlement stored since, and those whose contract has a unit rebuilt since that
// reaches into their period (a kept unit's version is its pass's time; the scan reads that
// column of usage_units).
const dirtyInvoicesSQL = `SELECT DISTINCT invoice_code, invoice_no FROM (
	SELECT invoice_code, invoice_no FROM settlements WHERE ingested_at >= toDateTime(?, 'Asia/Shanghai')
	UNION ALL
	SELECT invoice_code, invoice_no
	FROM settlements
	ALL INNER JOIN (
		SELECT supplier_uscc, contract_no, toInt64(min(run_day)) AS first_day, max(we) AS last_we
		FROM usage_units ARRAY JOIN unit_we AS we
		WHERE unit_version >= toDateTime(?, 'Asia/Shanghai')
		GROUP BY supplier_uscc, contract_no
	) USING supplier_uscc, contract_no
	WHERE toInt64(toDateTime(period_start, 'Asia/Shanghai')) < last_we
		AND toInt64(toDateTime(period_end, 'Asia/Shanghai')) + 86400 > first_day
)`

// InvoiceMeterings compares every latest settlement with a service period and billed
// card-hours with the metering of its contract, read from the kept comparisons after a
// refresh.
func (db *DB) InvoiceMeterings(ctx context.Context, cardMonthHours float64) ([]voucherwatch.InvoiceMetering, error) {
	if _, err := db.refreshMeterings(ctx, cardMonthHours); err != nil {
		return nil, err
	}
	return db.keptMeterings(ctx, keptMeteringsSQL, []any{cardMonthHours})
}

// InvoiceMeteringsOf is InvoiceMeterings of the invoices whose latest settlement names one of
// these contracts (supplier, contract number) or one that any version of these invoices
// named: an invoice re-sent under another contract changes both contracts' comparisons. It
// compares them as the kept comparisons' passes do (invoiceMeteringOf), over the contracts'
// units read from usage_runs by their suppliers, which lead its sorting key, as PurchaseUse
// reads them: exact without the refresh of the kept units and comparisons, which costs what
// was written since the last pass (ten minutes of usage at least) and belongs to the full
// sweeps.
func (db *DB) InvoiceMeteringsOf(ctx context.Context, cardMonthHours float64, contracts [][2]string, invoices []voucherwatch.InvoiceKey) ([]voucherwatch.InvoiceMetering, error) {
	keys := map[[2]string]bool{}
	for _, c := range contracts {
		keys[c] = true
	}
	if len(invoices) > 0 {
		err := db.scanRows(ctx, `SELECT DISTINCT supplier_uscc, contract_no FROM settlements WHERE `+settlementsKeyedSQL+` IN (SELECT arrayJoin(?)))`,
			[]any{invoiceKeyStrings(invoices)}, func(scan func(...any) error) error {
				var c [2]string
				if err := scan(&c[0], &c[1]); err != nil {
					return err
				}
				keys[c] = true
				return nil
			})
		if err != nil {
			return nil, fmt.Errorf("store: invoice metering of contracts: %w", err)
		}
	}
	if len(keys) == 0 {
		return nil, nil
	}
	pairs := make([][2]string, 0, len(keys))
	for c := range keys {
		pairs = append(pairs, c)
	}
	slices.SortFunc(pairs, func(a, b [2]string) int { return cmp.Or(cmp.Compare(a[0], b[0]), cmp.Compare(a[1], b[1])) })
	of := ofContractsArgs(pairs)
	ctx, units, unitsArgs, err := db.usageUnits(ctx, ofContractsSQL, of...)
	if err != nil {
		return nil, fmt.Errorf("store: invoice metering of contracts: %w", err)
	}
	// Every version of the contracts' invoices, under their supplier (the settlements' sorting
	// key), of which the comparison takes the latest; one whose latest version names another
	// contract is left out below.
	q := invoiceMeteringOf(units, `(supplier_uscc, invoice_code, invoice_no) IN (SELECT supplier_uscc, invoice_code, invoice_no FROM settlements WHERE `+ofContractsSQL+`)`)
	out, err := db.keptMeterings(ctx, q, slices.Concat([]any{cardMonthHours}, of, unitsArgs))
	if err != nil {
		return nil, err
	}
	return slices.DeleteFunc(out, func(m voucherwatch.InvoiceMetering) bool { return !keys[[2]string{m.SupplierUSCC, m.ContractNo}] }), nil
}

// keptMeterings reads the rows of keptMeteringsSQL, or of invoiceMeteringOf's query, whose
// columns are the same.
func (db *DB) keptMeterings(ctx context.Context, q string, args []any) ([]voucherwatch.InvoiceMetering, error) {
	var out []voucherwatch.InvoiceMetering
	err := db.scanRows(ctx, q, args, func(scan func(...any) error) error {
		var (
			m                                voucherwatch.InvoiceMetering
			from, to                         time.Time
			windows                          uint64
			firstWS, lastWE, longest, ps, pe int64
		)
		if err := scan(&m.SupplierUSCC, &m.ContractNo, &m.BuyerUSCC, &m.Invoice.Code, &m.Invoice.No, &from, &to,
			&m.Billed, &m.Metered, &windows, &firstWS, &lastWE, &longest, &ps, &pe); err != nil {
			return err
		}
		m.PeriodStart, m.PeriodEnd, m.Windows = dateOf(from), dateOf(to), int(windows)
		m.FirstWindowStart, m.LastWindowEnd = time.Unix(firstWS, 0), time.Unix(lastWE, 0)
		m.LongestWindow = time.Duration(longest) * time.Second
		m.From, m.To = time.Unix(ps, 0), time.Unix(pe, 0)
		out = append(out, m)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("store: invoice metering: %w", err)
	}
	return out, nil
}
