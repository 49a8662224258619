package store

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/voucherwatch/voucherwatch"
)

// Real use: the reads of idle_consumption and wash_trade. Daily metering comes from usage_days
// (the rollup, so that a sweep's cost follows the rollup, not the raw windows); the jobs and
// users of suspected contracts from the usage table, by the supplier prefix of its sorting key.

// latestSettlementDatesSQL is the latest settlement of each invoice, the columns the real-use
// reads need; %s narrows the invoices (or "").
const latestSettlementDatesSQL = `SELECT settlement_id, supplier_uscc, buyer_uscc, contract_no, invoice_code, invoice_no,
	amount, paid_on, period_start, period_end
FROM settlements %s
ORDER BY invoice_code, invoice_no, event_time DESC, source DESC, id DESC
LIMIT 1 BY invoice_code, invoice_no`

// paidPeriodDaysSQL joins each contract's daily metering with its paid period (the first to
// the last period of its latest settlements): the days metered, and idle, within it.
// It reads the contracts that %[1]s (a filter on supplier_uscc, buyer_uscc and contract_no, or 1) selects in the
// rollups and among the latest settlements (of every invoice that has a version under one of
// those contracts, so that the latest version is found among all of an invoice's).
// Argument: the idle utilisation.
var paidPeriodDaysSQL = `SELECT supplier_uscc, buyer_uscc, contract_no, paid_from, paid_to,
	countIf(ch > 0) AS metered_days, countIf(ch > 0 AND uch < ? * ch) AS idle_days,
	sum(ch) AS total_ch, sum(uch) AS total_uch
FROM (
	SELECT supplier_uscc, buyer_uscc, contract_no, day, sum(day_card_hours) AS ch, sum(util_card_hours) AS uch
	FROM (` + usageDaysSQL("%[1]s", "%[1]s") + `)
	GROUP BY supplier_uscc, buyer_uscc, contract_no, day
) ALL INNER JOIN (
	SELECT supplier_uscc, buyer_uscc, contract_no, min(period_start) AS paid_from, max(period_end) AS paid_to
	FROM (` + strings.Replace(latestSettlementDatesSQL, "%s",
	"WHERE (invoice_code, invoice_no) IN (SELECT invoice_code, invoice_no FROM settlements WHERE %[1]s)", 1) + `)
	WHERE period_start > toDate('1971-01-01') AND period_end >= period_start AND %[1]s
	GROUP BY supplier_uscc, buyer_uscc, contract_no
) USING supplier_uscc, buyer_uscc, contract_no
WHERE day >= paid_from AND day <= paid_to
GROUP BY supplier_uscc, buyer_uscc, contract_no, paid_from, paid_to`

// longestSpan is the longest span of usage_spans and usage_runs' spans: a window is at most
// voucherwatch.MaxUsageWindow long (ingest rejects longer ones), and one within a day is
// spread over the whole day.
const longestSpan = voucherwatch.MaxUsageWindow + 24*time.Hour

// ContractUsageDays returns the daily metering of the contracts q selects, of the days
// from q.From to q.To when they are set.
func (db *DB) ContractUsageDays(ctx context.Context, q voucherwatch.ContractQuery) ([]voucherwatch.ContractUsageDay, error) {
	if q.IsZero() {
		return nil, nil
	}
	// The filters go inside the view's parts (usageDaysSQL): on the view, 18.16 spread every
	// span of the rollup over its days before filtering (6.8 s for one contract on a 100 M
	// history). A span reaching into a period starts at most longestSpan before it, which
	// bounds the spans' sorting key (span_start) from below too.
	daily, spans, outer := []string{"1"}, []string{"1"}, "1"
	var dailyArgs, spansArgs, outerArgs []any
	if !q.All {
		daily, dailyArgs = append(daily, ofContractsSQL), append(dailyArgs, ofContractsArgs(q.Contracts)...)
		spans, spansArgs = append(spans, ofContractsSQL), append(spansArgs, ofContractsArgs(q.Contracts)...)
	}
	if !q.From.IsZero() {
		from := q.From.Format(time.DateOnly)
		daily, dailyArgs = append(daily, "day >= toDate(?)"), append(dailyArgs, from)
		spans, spansArgs = append(spans, "span_start >= toDateTime(toDate(?), 'Asia/Shanghai') - ?", "span_end > toDateTime(toDate(?), 'Asia/Shanghai')"),
			append(spansArgs, from, int64(longestSpan/time.Second), from)
		outer, outerArgs = outer+" AND day >= toDate(?)", append(outerArgs, from)
	}
	if !q.To.IsZero() {
		to := q.To.Format(time.DateOnly)
		daily, dailyArgs = append(daily, "day <= toDate(?)"), append(dailyArgs, to)
		spans, spansArgs = append(spans, "span_start < toDateTime(toDate(?) + 1, 'Asia/Shanghai')"), append(spansArgs, to)
		outer, outerArgs = outer+" AND day <= toDate(?)", append(outerArgs, to)
	}
	args := append(usageDaysArgs(dailyArgs, spansArgs), outerArgs...)
	var out []voucherwatch.ContractUsageDay
	err := db.scanRows(ctx, `SELECT supplier_uscc, buyer_uscc, contract_no, day,
	sum(day_card_hours), sum(util_card_hours), sum(windows)
FROM (`+usageDaysSQL(strings.Join(daily, " AND "), strings.Join(spans, " AND "))+`)
WHERE `+outer+`
GROUP BY supplier_uscc, buyer_uscc, contract_no, day
ORDER BY supplier_uscc, contract_no, day, buyer_uscc`, args, func(scan func(...any) error) error {
		var (
			d       voucherwatch.ContractUsageDay
			day     time.Time
			windows uint64
		)
		if err := scan(&d.SupplierUSCC, &d.BuyerUSCC, &d.ContractNo, &day, &d.CardHours, &d.UtilCardHours, &windows); err != nil {
			return err
		}
		d.Day, d.Windows = dateOf(day), int(windows)
		out = append(out, d)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("store: contract usage days: %w", err)
	}
	return out, nil
}

// UsageActivities returns the windows with jobs or users of the contracts q selects: each
// resource's window once (copies of a record collapse), summed over the contract's resources.
func (db *DB) UsageActivities(ctx context.Context, q voucherwatch.ContractQuery) ([]voucherwatch.UsageActivity, error) {
	if q.IsZero() {
		return nil, nil
	}
	where, args := "WHERE (jobs > 0 OR users > 0)", []any(nil)
	if !q.All {
		where, args = where+" AND "+ofContractsSQL, ofContractsArgs(q.Contracts)
	}
	var out []voucherwatch.UsageActivity
	err := db.scanRows(ctx, `SELECT supplier_uscc, contract_no, ws, we, sum(j), sum(u)
FROM (
	SELECT supplier_uscc, contract_no, resource_id, window_start AS ws, window_end AS we, max(jobs) AS j, max(users) AS u
	FROM usage `+where+`
	GROUP BY supplier_uscc, contract_no, resource_id, ws, we
)
GROUP BY supplier_uscc, contract_no, ws, we
ORDER BY supplier_uscc, contract_no, ws, we`, args, func(scan func(...any) error) error {
		var (
			a           voucherwatch.UsageActivity
			jobs, users uint64
		)
		if err := scan(&a.SupplierUSCC, &a.ContractNo, &a.Start, &a.End, &jobs, &users); err != nil {
			return err
		}
		a.Start, a.End = a.Start.In(voucherwatch.CST), a.End.In(voucherwatch.CST)
		a.Jobs, a.Users = int(jobs), int(users)
		out = append(out, a)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("store: usage activities: %w", err)
	}
	return out, nil
}

// ContractTrades returns the deals q selects, from the latest settlement of each invoice.
func (db *DB) ContractTrades(ctx context.Context, q voucherwatch.TradeQuery) ([]voucherwatch.ContractTrade, error) {
	if q.IsZero() {
		return nil, nil
	}
	var conds []string
	var innerArgs, outerArgs []any
	where := ""
	if q.Circular {
		conds = append(conds, "buyer_uscc IN (SELECT supplier_uscc FROM settlements) AND supplier_uscc IN (SELECT buyer_uscc FROM settlements)")
	}
	if len(q.Buyers) > 0 {
		conds, outerArgs = append(conds, "has(?, buyer_uscc)"), append(outerArgs, q.Buyers)
	}
	if !q.Circular {
		// A buyer's invoices through lookup_keys: its (buyer/contract) keys start with the
		// buyer, a range of the table's primary key.
		likes := make([]string, len(q.Buyers))
		for i, b := range q.Buyers {
			likes[i] = "k LIKE ?"
			innerArgs = append(innerArgs, strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(b)+"/%")
		}
		// The settlement_contract rows name the settlement's own (supplier, code, number),
		// the start of settlements' sorting key.
		where = `WHERE (supplier_uscc, invoice_code, invoice_no) IN (
	SELECT owner, invoice_code, invoice_no FROM lookup_keys
	WHERE kind = 'settlement_contract' AND (` + strings.Join(likes, " OR ") + `))`
	}
	args := append(innerArgs, outerArgs...)
	var out []voucherwatch.ContractTrade
	err := db.scanRows(ctx, `SELECT supplier_uscc, buyer_uscc, contract_no, count(), sum(toInt64(amount * 100)),
	min(period_start), max(period_end), min(paid_on), max(paid_on),
	arraySlice(arraySort(groupArray(if(invoice_code = '', invoice_no, concat(invoice_code, '/', invoice_no)))), 1, 20),
	arraySlice(arraySort(groupArray(settlement_id)), 1, 20)
FROM (`+fmt.Sprintf(latestSettlementDatesSQL, where)+`)
WHERE `+strings.Join(conds, " OR ")+`
GROUP BY supplier_uscc, buyer_uscc, contract_no
ORDER BY buyer_uscc, supplier_uscc, contract_no`, args, func(scan func(...any) error) error {
		var (
			t                            voucherwatch.ContractTrade
			n                            uint64
			settled                      int64
			from, to, firstPaid, lastPid time.Time
		)
		if err := scan(&t.SupplierUSCC, &t.BuyerUSCC, &t.ContractNo, &n, &settled, &from, &to, &firstPaid, &lastPid,
			&t.InvoiceKeys, &t.SettlementIDs); err != nil {
			return err
		}
		t.Invoices, t.Settled = int(n), voucherwatch.Money(settled)
		t.PeriodFrom, t.PeriodTo, t.FirstPaid, t.LastPaid = dateOf(from), dateOf(to), dateOf(firstPaid), dateOf(lastPid)
		out = append(out, t)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("store: contract trades: %w", err)
	}
	return out, nil
}
