package store

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/voucherwatch/voucherwatch"
)

// yearClaimsSQL is the latest version of each claim with the start of the year before it;
// %s is a WHERE clause narrowing the claim_ids (or "").
const yearClaimsSQL = `SELECT claim_id, applicant_uscc, round, submitted_on, addYears(submitted_on, -1) AS year_start
	FROM claims %s
	ORDER BY claim_id, event_time DESC, source DESC, id DESC
	LIMIT 1 BY claim_id`

// claimYearSettledOf sums each claim's applicant's settled compute in the year up to the
// claim, of the claims claimsWhere narrows and the settlements settlementsWhere narrows (WHERE
// clauses, or ""; the latest settlement of an invoice is taken among the rows selected).
// Arguments: those of claimsWhere, the compute service types, those of settlementsWhere, the
// threshold in fen.
func claimYearSettledOf(claimsWhere, settlementsWhere string) string {
	return `SELECT claim_id, applicant_uscc, round, submitted_on, year_start,
	sumIf(s_compute, s_date > year_start AND s_date <= submitted_on) AS compute,
	sumIf(s_amount, s_date > year_start AND s_date <= submitted_on) AS total,
	countIf(s_date > year_start AND s_date <= submitted_on) AS invoices,
	groupUniqArrayIf(s_contract, s_date > year_start AND s_date <= submitted_on) AS contracts,
	groupUniqArrayIf(s_supplier, s_date > year_start AND s_date <= submitted_on) AS suppliers
FROM (
	` + fmt.Sprintf(yearClaimsSQL, claimsWhere) + `
) ALL LEFT JOIN (
	SELECT buyer_uscc AS applicant_uscc, invoice_date AS s_date, toInt64(amount * 100) AS s_amount,
		if(length(item_amount) = 0, toInt64(amount * 100),
			arraySum(arrayMap((t, a) -> if(has(?, t), toInt64(a * 100), toInt64(0)), item_service_type, item_amount))) AS s_compute,
		contract_no AS s_contract, supplier_uscc AS s_supplier
	FROM settlements ` + settlementsWhere + `
	ORDER BY invoice_code, invoice_no, event_time DESC, source DESC, id DESC
	LIMIT 1 BY invoice_code, invoice_no
) USING applicant_uscc
GROUP BY claim_id, applicant_uscc, round, submitted_on, year_start
HAVING compute < ?`
}

// claimYearContractedOf sums the compute items of the contracts of each claim's applicant
// that were signed by the claim and whose service reaches into the year before it, of the
// claims claimsWhere narrows, the latest contracts being those of contracts (a table or a
// sub-query in parentheses). Arguments: those of claimsWhere, the compute service types, those
// of contracts, the claim ids.
func claimYearContractedOf(claimsWhere, contracts string) string {
	return `SELECT claim_id,
	sumIf(c_amount, c_signed <= submitted_on AND (c_end > year_start OR c_end = toDate(0))) AS contracted,
	groupUniqArrayIf(c_no, c_signed <= submitted_on AND (c_end > year_start OR c_end = toDate(0))) AS contracts
FROM (
	` + fmt.Sprintf(yearClaimsSQL, claimsWhere) + `
) ALL LEFT JOIN (
	SELECT buyer_uscc AS applicant_uscc, contract_no AS c_no, signed_on AS c_signed, service_end AS c_end,
		if(length(item_amount) = 0, toInt64(amount * 100),
			arraySum(arrayMap((t, a) -> if(has(?, t), toInt64(a * 100), toInt64(0)), item_service_type, item_amount))) AS c_amount
	FROM ` + contracts + `
) USING applicant_uscc
WHERE has(?, claim_id)
GROUP BY claim_id`
}

// ClaimYearPurchases returns the purchases in the year before each latest claim whose
// applicant's settled compute is below the threshold, with the contracts of that year.
func (db *DB) ClaimYearPurchases(ctx context.Context, computeServices []string, below voucherwatch.Money) ([]voucherwatch.ClaimYearPurchase, error) {
	return db.claimYearPurchases(ctx, computeServices, below,
		claimYearSettledOf("", ""), claimYearContractedOf("", "contracts_latest"), nil, nil, nil)
}

// ClaimYearPurchasesOf is ClaimYearPurchases of the claims q selects (their latest versions),
// by keyed look-ups: the claims through lookup_keys, their applicants' settlements (every
// version of the invoices ever issued to them, then the latest of each) through lookup_keys'
// (buyer/contract) prefixes, and their contracts by the contracts' buyer column, as
// LatestDeals finds a buyer's contracts. Each claim's sums are over its applicant's records
// alone, so they are the full query's.
func (db *DB) ClaimYearPurchasesOf(ctx context.Context, computeServices []string, below voucherwatch.Money, q voucherwatch.ClaimQuery) ([]voucherwatch.ClaimYearPurchase, error) {
	claims, err := db.LatestClaims(ctx, q)
	if err != nil || len(claims) == 0 {
		return nil, err
	}
	ids, buyers := make([]string, 0, len(claims)), map[string]bool{}
	for _, c := range claims {
		ids, buyers[c.ApplicantUSCC] = append(ids, c.ClaimID), true
	}
	applicants := make([]string, 0, len(buyers))
	for b := range buyers {
		applicants = append(applicants, b)
	}
	sort.Strings(ids)
	sort.Strings(applicants)
	const claimsWhere = `WHERE (applicant_uscc, claim_id) IN (SELECT owner, claim_id FROM lookup_keys WHERE kind = 'claim' AND k IN (SELECT arrayJoin(?)))`
	likes, prefixes := buyerKeyPrefixes(applicants)
	settled := claimYearSettledOf(claimsWhere, `WHERE (supplier_uscc, invoice_code, invoice_no) IN (
		SELECT owner, invoice_code, invoice_no FROM lookup_keys
		WHERE kind = 'settlement_contract' AND (`+strings.Join(likes, " OR ")+`))`)
	contracted := claimYearContractedOf(claimsWhere, `(SELECT * FROM contracts
		WHERE (supplier_uscc, contract_no) IN (SELECT supplier_uscc, contract_no FROM contracts WHERE has(?, buyer_uscc))
		ORDER BY supplier_uscc, contract_no, event_time DESC, source DESC, id DESC
		LIMIT 1 BY supplier_uscc, contract_no)`)
	return db.claimYearPurchases(ctx, computeServices, below, settled, contracted, []any{ids}, prefixes, []any{applicants})
}

// claimYearPurchases runs the settled query (claimYearSettledOf) and the contracted one
// (claimYearContractedOf) for the claims it returns, both with the same claims' filter; the
// arguments are those of the claims', settlements' and contracts' filters. The contracts and
// suppliers come sorted, so that evidence does not depend on how the query gathered them.
func (db *DB) claimYearPurchases(ctx context.Context, computeServices []string, below voucherwatch.Money,
	settled, contracted string, claimsArgs, settlementsArgs, contractsArgs []any) ([]voucherwatch.ClaimYearPurchase, error) {
	var out []voucherwatch.ClaimYearPurchase
	byClaim := map[string]int{}
	args := append(append(append(append([]any{}, claimsArgs...), any(computeServices)), settlementsArgs...), int64(below))
	err := db.scanRows(ctx, settled, args, func(scan func(...any) error) error {
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
		sort.Strings(p.Contracts)
		sort.Strings(p.Suppliers)
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
	args = append(append(append(append([]any{}, claimsArgs...), any(computeServices)), contractsArgs...), ids)
	err = db.scanRows(ctx, contracted, args, func(scan func(...any) error) error {
		var (
			id        string
			amount    int64
			contracts []string
		)
		if err := scan(&id, &amount, &contracts); err != nil {
			return err
		}
		if i, ok := byClaim[id]; ok {
			sort.Strings(contracts)
			out[i].Contracted, out[i].ContractsInYear = voucherwatch.Money(amount), contracts
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("store: contracts in the year before claims: %w", err)
	}
	return out, nil
}
