package detectors

import (
	"context"
	"time"

	"github.com/voucherwatch/voucherwatch"
)

// InvoiceMismatch checks 四.4 (P4): the settlement vouchers a claim carries must be the
// suppliers' invoices as settled. An invoice is (invoice_code, invoice_no), never the number
// alone. One alert per cited invoice:
//
//   - invoice_not_settled (high): no settlement carries the invoice. Medium when the same number
//     was settled to the applicant under another code, which is more likely a mistyped code.
//   - invoice_of_another_buyer (high): the invoice was issued to another enterprise.
//   - invoice_amount_differs: claimed above the settled amount (high; medium when the claim
//     states the amount with tax, which the settlement gives apart); claimed below it is low,
//     unless the claim states exactly the invoice's subsidisable part or its part inside the
//     policy window, which is how an honest applicant claims a mixed invoice or one whose service
//     crosses the window. Amounts within one invoice's rounding tolerance (the policy's
//     rounding_tolerance_per_invoice, 0.01 yuan) of each other count as equal.
type InvoiceMismatch struct{ env Env }

var _ voucherwatch.IncrementalDetector = (*InvoiceMismatch)(nil)

// NewInvoiceMismatch builds the invoice_mismatch rule.
func NewInvoiceMismatch(env Env) *InvoiceMismatch { return &InvoiceMismatch{env: env} }

// Name is "invoice_mismatch".
func (d *InvoiceMismatch) Name() string { return "invoice_mismatch" }

// Kinds are the kinds its alerts may carry (voucherwatch.AlertKinds has their labels).
func (d *InvoiceMismatch) Kinds() []string {
	return []string{"invoice_not_settled", "invoice_of_another_buyer", "invoice_amount_differs"}
}

// Run checks the invoices of every claim.
func (d *InvoiceMismatch) Run(ctx context.Context, at time.Time) ([]voucherwatch.Alert, error) {
	cities, f, err := ruleLoadCitiesAndClaimFacts(ctx, d.env)
	if err != nil {
		return nil, err
	}
	return d.judge(cities, f, at), nil
}

// Check judges the claims the changed records touch (ruleLoadChangedClaimFacts) as Run judges
// every claim.
func (d *InvoiceMismatch) Check(ctx context.Context, at time.Time, changed voucherwatch.Changes) ([]voucherwatch.Alert, error) {
	cities, f, err := ruleLoadChangedClaimFacts(ctx, d.env, changed)
	if err != nil || f == nil {
		return nil, err
	}
	return d.judge(cities, f, at), nil
}

// judge returns the alerts about the claims in f.
func (d *InvoiceMismatch) judge(cities map[string]string, f *ruleClaimFacts, at time.Time) []voucherwatch.Alert {
	var fs []finding
	// One invoice's rounding: a claimed amount within it of the settled, subsidisable or
	// pro-rata figure is the applicant's rounding (tax split, days in window), not a mismatch.
	tol := d.env.Policy.RoundingTolerance(1)
	near := func(a, b voucherwatch.Money) bool { return max(a-b, b-a) <= tol }
	for _, c := range f.claims {
		a := assessClaim(d.env.Policy, c, f)
		for _, ia := range a.Invoices {
			if ia.Repeated {
				continue // duplicate_claim's business
			}
			inv := ruleInvoiceKey{ia.InvoiceCode, ia.InvoiceNo}.String()
			fd := finding{Detector: d.Name(), Subjects: ruleInvoiceSubjects(c, ia), PolicyClause: clauseInvoice, Evidence: ruleClaimEvidence(c)}
			fd.Evidence["invoice"] = ruleInvoiceEvidence(ia)
			switch {
			case !ia.Settled:
				fd.Kind, fd.Severity, fd.Score = "invoice_not_settled", voucherwatch.SeverityHigh, 0.9
				fd.Title = "申请所列发票在供给方结算记录中不存在（《实施细则》四.4 / P4）"
				fd.Reason = "申请列示发票 " + inv + "（金额 " + yuan(ia.ClaimedFen) + " 元），但没有任何供给方的结算记录载有该发票代码和号码；按《实施细则》四.4 / P4，申请须附真实的结算凭证（发票、支付凭证）。"
				var others []map[string]any
				for _, o := range f.byNumber[ia.InvoiceNo] {
					others = append(others, map[string]any{"invoice_code": o.InvoiceCode, "invoice_no": o.InvoiceNo,
						"buyer_uscc": o.BuyerUSCC, "supplier_uscc": o.SupplierUSCC, "amount": yuan(o.Amount), "settlement": o.Ref})
					if o.BuyerUSCC == c.ApplicantUSCC {
						fd.Severity, fd.Score = voucherwatch.SeverityMedium, 0.6
					}
				}
				if len(others) > 0 {
					fd.Evidence["same_number_other_code"] = others
					fd.Reason += "同一号码另有以其他发票代码结算的发票（见证据），发票须以代码和号码共同识别。"
				}
			case !ia.BuyerIsApplicant:
				fd.Kind, fd.Severity, fd.Score = "invoice_of_another_buyer", voucherwatch.SeverityHigh, 0.95
				fd.Title = "申请所列发票开具给其他企业（《实施细则》四.4 / P4）"
				fd.Reason = "申请列示发票 " + inv + "，但该发票由 " + ruleEntityName(f.registry, ia.SupplierUSCC) + " 开具给 " +
					ruleEntityName(f.registry, ia.BuyerUSCC) + "（" + ia.BuyerUSCC + "），不是申请企业；按《实施细则》四.4 / P4，结算凭证须为申请企业本身的购买凭证。"
			case ia.ClaimedFen > ia.SettledFen+tol:
				fd.Kind, fd.Severity = "invoice_amount_differs", voucherwatch.SeverityHigh
				fd.Score = min(1, 0.8+float64(ia.ClaimedFen-ia.SettledFen)/float64(max(1, ia.SettledFen)))
				fd.Title = "申请所列发票金额高于结算金额（《实施细则》四.4 / P4）"
				fd.Reason = "申请按 " + yuan(ia.ClaimedFen) + " 元列示发票 " + inv + "，供给方结算金额为 " + yuan(ia.SettledFen) +
					" 元（不含税），多报 " + yuan(ia.ClaimedFen-ia.SettledFen) + " 元（《实施细则》四.4 / P4）。"
				if ia.ClaimedFen == ia.SettledFen+ia.TaxFen {
					fd.Severity, fd.Score = voucherwatch.SeverityMedium, 0.5
					fd.Reason += "申报金额恰为价税合计（税额 " + yuan(ia.TaxFen) + " 元），可能误按含税金额申报。"
				}
			case ia.ClaimedFen < ia.SettledFen-tol && !near(ia.ClaimedFen, ia.SubsidisableFen) && !near(ia.ClaimedFen, ia.InWindowFen):
				fd.Kind, fd.Severity, fd.Score = "invoice_amount_differs", voucherwatch.SeverityLow, 0.2
				fd.Title = "申请所列发票金额低于结算金额（《实施细则》四.4 / P4）"
				fd.Reason = "申请按 " + yuan(ia.ClaimedFen) + " 元列示发票 " + inv + "，供给方结算金额为 " + yuan(ia.SettledFen) +
					" 元，且不等于其可补贴项目金额 " + yuan(ia.SubsidisableFen) + " 元；请核对申报口径（《实施细则》四.4 / P4）。"
			default:
				continue
			}
			fs = append(fs, fd)
		}
	}
	return ruleAlerts(fs, cities, at)
}
