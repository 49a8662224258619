package store

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/voucherwatch/voucherwatch"
)

// The paid-period usages, kept (migration 27), the way read_meterings.go keeps the invoice
// meterings: each contract's metering within its paid period for one idle utilisation,
// rebuilt for the contracts (supplier, buyer, contract) that have a settlement stored since the
// last pass less the slack (every contract any version of its invoices names), or whose kept
// units were rebuilt since then on a day within the paid period; a contract that no longer
// has metered days in a paid period is tombstoned. The first pass for a utilisation builds
// every contract. The least idle days is applied when read.

func paidUsagesSweep(idleUtil float64) string {
	return "paid_period_usages:" + strconv.FormatFloat(idleUtil, 'g', -1, 64)
}

const paidUsageColumns = `idle_util, supplier_uscc, buyer_uscc, contract_no, paid_from, paid_to, metered_days, idle_days, total_ch, total_uch, present, usage_version`

// keptPaidUsagesSQL reads the kept rows of one utilisation (argMax, not FINAL: see
// keptMeteringsSQL). Arguments: the utilisation, the least idle days.
const keptPaidUsagesSQL = `SELECT supplier_uscc, buyer_uscc, contract_no, paid_from, paid_to, metered_days, idle_days, total_ch, total_uch
FROM (
	SELECT supplier_uscc, buyer_uscc, contract_no,
		argMax(present, usage_version) AS p,
		argMax(paid_from, usage_version) AS paid_from,
		argMax(paid_to, usage_version) AS paid_to,
		argMax(metered_days, usage_version) AS metered_days,
		argMax(idle_days, usage_version) AS idle_days,
		argMax(total_ch, usage_version) AS total_ch,
		argMax(total_uch, usage_version) AS total_uch
	FROM paid_period_usages
	WHERE idle_util = ?
	GROUP BY supplier_uscc, buyer_uscc, contract_no
	HAVING p = 1
)
WHERE idle_days >= ?`

func (db *DB) refreshPaidUsages(ctx context.Context, idleUtil float64) (keptPlan, error) {
	db.paidUsagesMu.Lock()
	defer db.paidUsagesMu.Unlock()
	sweep := paidUsagesSweep(idleUtil)
	p, err := db.planKept(ctx, keptKeys{sweep: sweep, dirty: dirtyContractsSQL, table: "dirty_contracts",
		columns: []string{"supplier_uscc", "buyer_uscc", "contract_no"}})
	if err != nil {
		return p, fmt.Errorf("store: paid period usages: %w", err)
	}
	if p.rebuilds() {
		// Tombstones for every contract a settlement names (the contracts with metering but
		// no paid period have no row to replace).
		tomb := `INSERT INTO paid_period_usages (` + paidUsageColumns + `)
SELECT ?, supplier_uscc, buyer_uscc, contract_no, toDate(0), toDate(0), 0, 0, 0, 0, 0, ?
FROM settlements WHERE ` + p.filter + `
GROUP BY supplier_uscc, buyer_uscc, contract_no`
		if err := db.conn.Exec(p.ctx, tomb, idleUtil, p.version()); err != nil {
			return p, fmt.Errorf("store: paid period usages: tombstones: %w", err)
		}
		rows := `INSERT INTO paid_period_usages (` + paidUsageColumns + `)
SELECT ?, supplier_uscc, buyer_uscc, contract_no, paid_from, paid_to, metered_days, idle_days, total_ch, total_uch, 1, ?
FROM (` + fmt.Sprintf(paidPeriodDaysSQL, p.filter) + `)`
		if err := db.conn.Exec(p.ctx, rows, idleUtil, p.version()+1, idleUtil); err != nil {
			return p, fmt.Errorf("store: paid period usages: rebuild: %w", err)
		}
	}
	if err := db.recordPass(ctx, sweep, p.At); err != nil {
		return p, fmt.Errorf("store: paid period usages: %w", err)
	}
	return p, nil
}

// dirtyContractsSQL are the contracts to rebuild since a Unix time (both arguments): every
// contract named by any version of an invoice with a settlement stored since, and every
// contract whose kept units were rebuilt since on a day of its paid period (the first to the
// last period of its settlements, any version: a superset).
const dirtyContractsSQL = `SELECT DISTINCT supplier_uscc, buyer_uscc, contract_no FROM (
	SELECT supplier_uscc, buyer_uscc, contract_no
	FROM settlements
	WHERE (invoice_code, invoice_no) IN (
		SELECT invoice_code, invoice_no FROM settlements WHERE ingested_at >= toDateTime(?, 'Asia/Shanghai'))
	UNION ALL
	SELECT supplier_uscc, buyer_uscc, contract_no
	FROM (
		SELECT supplier_uscc, buyer_uscc, contract_no, min(period_start) AS paid_from, max(period_end) AS paid_to
		FROM settlements
		GROUP BY supplier_uscc, buyer_uscc, contract_no
	) ALL INNER JOIN (
		SELECT supplier_uscc, buyer_uscc, contract_no, toInt64(min(run_day)) AS first_day, max(we) AS last_we
		FROM usage_units ARRAY JOIN unit_we AS we
		WHERE unit_version >= toDateTime(?, 'Asia/Shanghai')
		GROUP BY supplier_uscc, buyer_uscc, contract_no
	) USING supplier_uscc, buyer_uscc, contract_no
	WHERE toInt64(toDateTime(paid_from, 'Asia/Shanghai')) < last_we
		AND toInt64(toDateTime(paid_to, 'Asia/Shanghai')) + 86400 > first_day
)`

// PaidPeriodUsages returns each contract's metering within its paid period, for the contracts
// with at least minIdleDays days below idleUtil, read from the kept rows after a refresh.
func (db *DB) PaidPeriodUsages(ctx context.Context, idleUtil float64, minIdleDays int) ([]voucherwatch.PaidPeriodUsage, error) {
	if _, err := db.refreshPaidUsages(ctx, idleUtil); err != nil {
		return nil, err
	}
	var out []voucherwatch.PaidPeriodUsage
	err := db.scanRows(ctx, keptPaidUsagesSQL, []any{idleUtil, uint64(max(0, minIdleDays))}, func(scan func(...any) error) error {
		var (
			u              voucherwatch.PaidPeriodUsage
			from, to       time.Time
			metered, idled uint64
		)
		if err := scan(&u.SupplierUSCC, &u.BuyerUSCC, &u.ContractNo, &from, &to, &metered, &idled, &u.CardHours, &u.UtilCardHours); err != nil {
			return err
		}
		u.PaidFrom, u.PaidTo = dateOf(from), dateOf(to)
		u.MeteredDays, u.IdleDays = int(metered), int(idled)
		out = append(out, u)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("store: paid period usages: %w", err)
	}
	return out, nil
}
