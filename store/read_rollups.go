package store

import (
	"context"
	"fmt"
	"sort"
	"time"

	"github.com/voucherwatch/voucherwatch"
)

// claimYearSettledSQL sums each claim's applicant's settled compute in the year up to the
// claim. Arguments: the compute service types, the threshold in fen.
const claimYearSettledSQL = `SELECT claim_id, applicant_uscc, round, submitted_on, year_start,
	sumIf(s_compute, s_date > year_start AND s_date <= submitted_on) AS compute,
	sumIf(s_amount, s_date > year_start AND s_date <= submitted_on) AS total,
	countIf(s_date > year_start AND s_date <= submitted_on) AS invoices,
	groupUniqArrayIf(s_contract, s_date > year_start AND s_date <= submitted_on) AS contracts,
	groupUniqArrayIf(s_supplier, s_date > year_start AND s_date <= submitted_on) AS suppliers
FROM (
	SELECT claim_id, applicant_uscc, round, submitted_on, addYears(submitted_on, -1) AS year_start
	FROM claims
	ORDER BY claim_id, event_time DESC, source DESC, id DESC
	LIMIT 1 BY claim_id
) ALL LEFT JOIN (
	SELECT buyer_uscc AS applicant_uscc, invoice_date AS s_date, toInt64(amount * 100) AS s_amount,
		if(length(item_amount) = 0, toInt64(amount * 100),
			arraySum(arrayMap((t, a) -> if(has(?, t), toInt64(a * 100), toInt64(0)), item_service_type, item_amount))) AS s_compute,
		contract_no AS s_contract, supplier_uscc AS s_supplier
	FROM settlements
	ORDER BY invoice_code, invoice_no, event_time DESC, source DESC, id DESC
	LIMIT 1 BY invoice_code, invoice_no
) USING applicant_uscc
GROUP BY claim_id, applicant_uscc, round, submitted_on, year_start
HAVING compute < ?`

// claimYearContractedSQL sums the compute items of the contracts of each claim's applicant
// that were signed by the claim and whose service reaches into the year before it. Arguments:
// the compute service types, the claim ids.
const claimYearContractedSQL = `SELECT claim_id,
	sumIf(c_amount, c_signed <= submitted_on AND (c_end > year_start OR c_end = toDate(0))) AS contracted,
	groupUniqArrayIf(c_no, c_signed <= submitted_on AND (c_end > year_start OR c_end = toDate(0))) AS contracts
FROM (
	SELECT claim_id, applicant_uscc, submitted_on, addYears(submitted_on, -1) AS year_start
	FROM claims
	ORDER BY claim_id, event_time DESC, source DESC, id DESC
	LIMIT 1 BY claim_id
) ALL LEFT JOIN (
	SELECT buyer_uscc AS applicant_uscc, contract_no AS c_no, signed_on AS c_signed, service_end AS c_end,
		if(length(item_amount) = 0, toInt64(amount * 100),
			arraySum(arrayMap((t, a) -> if(has(?, t), toInt64(a * 100), toInt64(0)), item_service_type, item_amount))) AS c_amount
	FROM contracts_latest
) USING applicant_uscc
WHERE has(?, claim_id)
GROUP BY claim_id`

// ClaimYearPurchases returns the purchases in the year before each latest claim whose
// applicant's settled compute is below the threshold, with the contracts of that year.
func (db *DB) ClaimYearPurchases(ctx context.Context, computeServices []string, below voucherwatch.Money) ([]voucherwatch.ClaimYearPurchase, error) {
	var out []voucherwatch.ClaimYearPurchase
	byClaim := map[string]int{}
	err := db.scanRows(ctx, claimYearSettledSQL, []any{computeServices, int64(below)}, func(scan func(...any) error) error {
		var (
			p                voucherwatch.ClaimYearPurchase
			round            uint16
			submitted, start time.Time
			compute, total   int64
			invoices         uint64
		)
		if err := scan(&p.ClaimID, &p.ApplicantUSCC, &round, &submitted, &start, &compute, &total,
			&invoices, &p.Contracts, &p.Suppliers); err != nil {
			return err
		}
		p.Round, p.SubmittedOn, p.YearStart = int(round), dateOf(submitted), dateOf(start)
		p.Compute, p.Total, p.Invoices = voucherwatch.Money(compute), voucherwatch.Money(total), int(invoices)
		byClaim[p.ClaimID] = len(out)
		out = append(out, p)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("store: purchases in the year before claims: %w", err)
	}
	if len(out) == 0 {
		return nil, nil
	}
	ids := make([]string, 0, len(byClaim))
	for id := range byClaim {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	err = db.scanRows(ctx, claimYearContractedSQL, []any{computeServices, ids}, func(scan func(...any) error) error {
		var (
			id        string
			amount    int64
			contracts []string
		)
		if err := scan(&id, &amount, &contracts); err != nil {
			return err
		}
		if i, ok := byClaim[id]; ok {
			out[i].Contracted, out[i].ContractsInYear = voucherwatch.Money(amount), contracts
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("store: contracts in the year before claims: %w", err)
	}
	return out, nil
}
