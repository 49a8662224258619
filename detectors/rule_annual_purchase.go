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

var _ voucherwatch.IncrementalDetector = (*AnnualPurchase)(nil)

// NewAnnualPurchase builds the annual_purchase rule.
func NewAnnualPurchase(env Env) *AnnualPurchase { return &AnnualPurchase{env: env} }

// Name is "annual_purchase".
func (d *AnnualPurchase) Name() string { return "annual_purchase" }

// Kinds are the kinds its alerts may carry (voucherwatch.AlertKinds has their labels).
func (d *AnnualPurchase) Kinds() []string {
	return []string{"annual_purchase_below_minimum"}
}

// Run checks the applicant of every claim.
func (d *AnnualPurchase) Run(ctx context.Context, at time.Time) ([]voucherwatch.Alert, error) {
	cities, err := Cities(ctx, d.env.reads())
	if err != nil {
		return nil, err
	}
	p := d.env.Policy
	found, err := d.env.reads().ClaimYearPurchases(ctx, p.SubsidisableServices, p.MinAnnualPurchase.Money)
	if err != nil {
		return nil, fmt.Errorf("detectors: annual_purchase: %w", err)
	}
	return d.judge(found, cities, at), nil
}

// Check judges, by keyed look-ups (ClaimYearPurchasesOf, LatestEntitiesOf), the claims the
// changed records touch, as Run judges every claim: the changed claims, and every claim of
// the buyers of changed contracts and settlements (Changes.Pairs: their year's purchases are
// what the rule sums) and of enterprises whose registry row changed (the alert's city). A
// claim's purchases are its applicant's alone, so these are the full run's alerts about them.
// A contract or settlement re-sent under another buyer reaches the former buyer's claims only
// at the next full run: the change names the new buyer.
func (d *AnnualPurchase) Check(ctx context.Context, at time.Time, changed voucherwatch.Changes) ([]voucherwatch.Alert, error) {
	q := voucherwatch.ClaimQuery{IDs: changed.ClaimIDs(), Applicants: changed.EnterpriseList()}
	for _, pr := range changed.PairList() {
		q.Applicants = append(q.Applicants, pr[0])
	}
	if q.IsZero() {
		return nil, nil // usage alone: no claim's purchases changed
	}
	p, rm := d.env.Policy, d.env.reads()
	found, err := rm.ClaimYearPurchasesOf(ctx, p.SubsidisableServices, p.MinAnnualPurchase.Money, q)
	if err != nil {
		return nil, fmt.Errorf("detectors: annual_purchase: %w", err)
	}
	if len(found) == 0 {
		return nil, nil
	}
	applicants := map[string]bool{}
	for _, s := range found {
		applicants[s.ApplicantUSCC] = true
	}
	ents, err := rm.LatestEntitiesOf(ctx, ruleSortedKeys(applicants))
	if err != nil {
		return nil, fmt.Errorf("detectors: annual_purchase: %w", err)
	}
	cities := make(map[string]string, len(ents))
	for _, e := range ents {
		cities[e.USCC] = e.City
	}
	return d.judge(found, cities, at), nil
}

// judge returns the alerts about the claims whose year's purchases are found (each below the
// threshold).
func (d *AnnualPurchase) judge(found []voucherwatch.ClaimYearPurchase, cities map[string]string, at time.Time) []voucherwatch.Alert {
	if len(found) == 0 {
		return nil
	}
	threshold := d.env.Policy.MinAnnualPurchase.Money
	var fs []finding
	for _, s := range found {
		subj := voucherwatch.Subjects{ApplicantUSCC: s.ApplicantUSCC, ClaimID: s.ClaimID}
		if len(s.Suppliers) == 1 && len(s.Contracts) == 1 {
			subj.SupplierUSCC, subj.ContractNo = s.Suppliers[0], s.Contracts[0]
		}
		from, to := ruleDay(s.YearStart.AddDate(0, 0, 1)), ruleDay(s.SubmittedOn)
		sev, score := voucherwatch.SeverityMedium, 0.7
		reason := "申请企业在申请前一年（" + from + " 至 " + to + "）结算的算力购买费用合计 " + yuan(s.Compute) +
			" 元（" + fmt.Sprint(s.Invoices) + " 张发票），低于《实施细则》二（一）2 / D2 要求的年购买算力费用 " + yuan(threshold) + " 元（含）。"
		if s.Contracted >= threshold {
			sev, score = voucherwatch.SeverityLow, 0.3
			reason += "其在该期间有效的合同金额合计 " + yuan(s.Contracted) + " 元，达到标准，可能尚未全部结算。"
		}
		ev := map[string]any{
			"claim_id": s.ClaimID, "round": s.Round, "submitted_on": to, "year": from + " ~ " + to,
			"settled_compute": yuan(s.Compute), "settled_total": yuan(s.Total),
			"invoices": s.Invoices, "settled_contracts": s.Contracts, "suppliers": s.Suppliers,
			"contracted": yuan(s.Contracted), "contracts_in_year": s.ContractsInYear,
			"threshold": yuan(threshold), "shortfall": yuan(threshold - s.Compute),
		}
		fs = append(fs, finding{
			Detector: d.Name(), Kind: "annual_purchase_below_minimum", Severity: sev, Score: score,
			Subjects: subj, PolicyClause: clauseAnnualPurchase,
			Title:  "申请企业年购买算力费用不足" + ruleWan(threshold) + "（《实施细则》二 / D2）",
			Reason: reason, Evidence: ev,
		})
	}
	return ruleAlerts(fs, cities, at)
}
