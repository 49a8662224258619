package detectors

import (
	"context"
	"fmt"
	"time"

	"github.com/voucherwatch/voucherwatch"
)

// AnnualPurchase checks 二(一)2 (D2): an applicant buys compute for at least 50,000 yuan a year
// (5万元(含)以上: exactly 50,000.00 qualifies).
//
// What counts: the compute the applicant was invoiced for (settlements, the 实际结算 the policy
// measures subsidies by, not contracts, which may never be settled), that is the compute items
// of its invoices (compute resources and services, model services, domestic adaptation; not
// stand-alone bandwidth, security or databases, which are not compute), from any supplier, each
// invoice once. The year: the review period of a round is announced separately (三(一)), so the
// rule takes the twelve months up to the claim's submission, invoice date after the same day a
// year before and at most the submission date.
//
// Medium: the applicant is likely not eligible. Low when its contracts active in that year
// amount to 50,000 yuan or more: the purchase may be real and not yet settled in full.
type AnnualPurchase struct{ env Env }

var _ voucherwatch.Detector = (*AnnualPurchase)(nil)

// NewAnnualPurchase builds the annual_purchase rule.
func NewAnnualPurchase(env Env) *AnnualPurchase { return &AnnualPurchase{env: env} }

// Name is "annual_purchase".
func (d *AnnualPurchase) Name() string { return "annual_purchase" }

// annualSettledSQL sums each claim's applicant's settled compute in the year up to the claim.
// Arguments: the subsidisable service types, the threshold in fen.
const annualSettledSQL = `SELECT claim_id, applicant_uscc, round, submitted_on, year_start,
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

// annualContractedSQL sums the compute items of the contracts of each claim's applicant that
// were signed by the claim and whose service reaches into the year before it. Arguments: the
// subsidisable service types, the claim ids.
const annualContractedSQL = `SELECT claim_id,
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

// Run checks the applicant of every claim.
func (d *AnnualPurchase) Run(ctx context.Context, at time.Time) ([]voucherwatch.Alert, error) {
	cities, err := Cities(ctx, d.env.reads())
	if err != nil {
		return nil, err
	}
	p := d.env.Policy
	threshold := p.MinAnnualPurchase.Money
	type short struct {
		claimID, applicant                string
		round                             uint16
		submitted, yearStart              time.Time
		compute, total                    int64
		invoices                          uint64
		contracts, suppliers, allContract []string
		contracted                        int64
	}
	rows, err := d.env.DB.Conn().Query(ctx, annualSettledSQL, p.SubsidisableServices, int64(threshold))
	if err != nil {
		return nil, fmt.Errorf("detectors: annual_purchase: %w", err)
	}
	var found []*short
	byClaim := map[string]*short{}
	for rows.Next() {
		s := &short{}
		if err := rows.Scan(&s.claimID, &s.applicant, &s.round, &s.submitted, &s.yearStart, &s.compute, &s.total,
			&s.invoices, &s.contracts, &s.suppliers); err != nil {
			rows.Close()
			return nil, fmt.Errorf("detectors: annual_purchase: %w", err)
		}
		found = append(found, s)
		byClaim[s.claimID] = s
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("detectors: annual_purchase: %w", err)
	}
	if len(found) == 0 {
		return nil, nil
	}
	ids := ruleSortedKeys(byClaim)
	rows, err = d.env.DB.Conn().Query(ctx, annualContractedSQL, p.SubsidisableServices, ids)
	if err != nil {
		return nil, fmt.Errorf("detectors: annual_purchase contracts: %w", err)
	}
	for rows.Next() {
		var (
			id        string
			amount    int64
			contracts []string
		)
		if err := rows.Scan(&id, &amount, &contracts); err != nil {
			rows.Close()
			return nil, fmt.Errorf("detectors: annual_purchase contracts: %w", err)
		}
		if s := byClaim[id]; s != nil {
			s.contracted, s.allContract = amount, contracts
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("detectors: annual_purchase contracts: %w", err)
	}

	var fs []finding
	for _, s := range found {
		subj := voucherwatch.Subjects{ApplicantUSCC: s.applicant, ClaimID: s.claimID}
		if len(s.suppliers) == 1 && len(s.contracts) == 1 {
			subj.SupplierUSCC, subj.ContractNo = s.suppliers[0], s.contracts[0]
		}
		from, to := ruleDay(ruleDate(s.yearStart).AddDate(0, 0, 1)), ruleDay(ruleDate(s.submitted))
		sev, score := voucherwatch.SeverityMedium, 0.7
		reason := "申请企业在申请前一年（" + from + " 至 " + to + "）结算的算力购买费用合计 " + yuan(voucherwatch.Money(s.compute)) +
			" 元（" + fmt.Sprint(s.invoices) + " 张发票），低于《实施细则》二（一）2 / D2 要求的年购买算力费用 " + yuan(threshold) + " 元（含）。"
		if s.contracted >= int64(threshold) {
			sev, score = voucherwatch.SeverityLow, 0.3
			reason += "其在该期间有效的合同金额合计 " + yuan(voucherwatch.Money(s.contracted)) + " 元，达到标准，可能尚未全部结算。"
		}
		ev := map[string]any{
			"claim_id": s.claimID, "round": s.round, "submitted_on": to, "year": from + " ~ " + to,
			"settled_compute": yuan(voucherwatch.Money(s.compute)), "settled_total": yuan(voucherwatch.Money(s.total)),
			"invoices": s.invoices, "settled_contracts": s.contracts, "suppliers": s.suppliers,
			"contracted": yuan(voucherwatch.Money(s.contracted)), "contracts_in_year": s.allContract,
			"threshold": yuan(threshold), "shortfall": yuan(threshold - voucherwatch.Money(s.compute)),
		}
		fs = append(fs, finding{
			Detector: d.Name(), Kind: "annual_purchase_below_minimum", Severity: sev, Score: score,
			Subjects: subj, PolicyClause: clauseAnnualPurchase,
			Title:  "申请企业年购买算力费用不足" + ruleWan(threshold) + "（《实施细则》二 / D2）",
			Reason: reason, Evidence: ev,
		})
	}
	return ruleAlerts(fs, cities, at), nil
}
