package detectors

import (
	"context"
	"fmt"
	"sort"
	"strconv"
	"time"

	"github.com/voucherwatch/voucherwatch"
)

// RequestedOverLimit checks 三 (C2, with W and C1): a claim may ask at most 30 % of the eligible
// settled amount, rounded down to the fen, and at most 10,000,000 yuan per enterprise and round.
// The eligible amount is the claim assessment's (assessment.go): invoices found in the
// settlements and issued to the applicant, by registered suppliers, their subsidisable items
// only, and only the part of each service period inside the policy window, pro rata by days.
//
// Severity follows what the excess rests on. Asking more than 30 % of the invoices as the claim
// itself states them, or more than the cap, is a plain breach of C2 (high). Asking 30 % of
// stated invoices of which some are not eligible is a consequence of those invoices, which
// their own rules report (policy_window, non_subsidisable_item, invoice_mismatch,
// unregistered_supplier): it is reported low, with the arithmetic, so that the review sees the
// reduced maximum without a second high alert for one fault. Claims of one applicant in one
// round that together ask more than the cap are medium.
//
// An excess within the policy's rounding tolerance (rounding_tolerance_per_invoice, 0.01 yuan
// per invoice counted) is not reported: applicants round 30 % half up where the policy
// truncates. The caps are round figures and are judged to the fen.
type RequestedOverLimit struct{ env Env }

var _ voucherwatch.IncrementalDetector = (*RequestedOverLimit)(nil)

// NewRequestedOverLimit builds the requested_over_limit rule.
func NewRequestedOverLimit(env Env) *RequestedOverLimit { return &RequestedOverLimit{env: env} }

// Name is "requested_over_limit".
func (d *RequestedOverLimit) Name() string { return "requested_over_limit" }

// Kinds are the kinds its alerts may carry (voucherwatch.AlertKinds has their labels).
func (d *RequestedOverLimit) Kinds() []string {
	return []string{"over_10m_cap", "over_30_percent", "over_eligible_limit", "round_total_over_10m_cap"}
}

// Run assesses every claim.
func (d *RequestedOverLimit) Run(ctx context.Context, at time.Time) ([]voucherwatch.Alert, error) {
	cities, f, err := ruleLoadCitiesAndClaimFacts(ctx, d.env)
	if err != nil {
		return nil, err
	}
	return d.judge(cities, f, at), nil
}

// Check judges the claims the changed records touch (ruleLoadChangedClaimFacts) as Run judges
// every claim.
func (d *RequestedOverLimit) Check(ctx context.Context, at time.Time, changed voucherwatch.Changes) ([]voucherwatch.Alert, error) {
	cities, f, err := ruleLoadChangedClaimFacts(ctx, d.env, changed)
	if err != nil || f == nil {
		return nil, err
	}
	return d.judge(cities, f, at), nil
}

// judge returns the alerts about the claims in f.
func (d *RequestedOverLimit) judge(cities map[string]string, f *ruleClaimFacts, at time.Time) []voucherwatch.Alert {
	p := d.env.Policy
	var fs []finding
	type roundKey struct {
		applicant string
		round     int
	}
	rounds := map[roundKey][]ruleClaim{}
	for _, c := range f.claims {
		rounds[roundKey{c.ApplicantUSCC, c.Round}] = append(rounds[roundKey{c.ApplicantUSCC, c.Round}], c)
		a := assessClaim(p, c, f)
		t := a.Totals
		if t.OverByFen <= t.ToleranceFen {
			continue // none, or a rounding difference (rounding_tolerance_per_invoice)
		}
		stated := ruleStatedAmount(a, c)
		statedMax := p.MaxSubsidy(stated)
		fd := finding{
			Detector: d.Name(), Subjects: ruleClaimSubjects(a, c), PolicyClause: clauseRequestLimit,
			Evidence: ruleClaimEvidence(c),
		}
		ev := fd.Evidence
		ev["stated_invoices_total"] = yuan(stated)
		ev["settled"] = yuan(t.SettledFen)
		ev["eligible"] = yuan(t.EligibleFen)
		ev["rate_percent"] = t.RatePercent
		ev["rate_of_eligible"] = yuan(t.RateOfEligible)
		ev["cap"] = yuan(t.CapFen)
		ev["max_subsidy"] = yuan(t.MaxSubsidyFen)
		ev["over_by"] = yuan(t.OverByFen)
		ev["rounding_tolerance"] = yuan(t.ToleranceFen)
		ev["arithmetic"] = "min(" + yuan(t.EligibleFen) + " × " + strconv.FormatInt(t.RatePercent, 10) + "% = " + yuan(t.RateOfEligible) + ", " + yuan(t.CapFen) + ") = " +
			yuan(t.MaxSubsidyFen) + " < " + yuan(c.Requested)
		var reduced []map[string]any
		for _, ia := range a.Invoices {
			if ia.EligibleFen != ia.ClaimedFen {
				reduced = append(reduced, ruleInvoiceEvidence(ia))
			}
		}
		if len(reduced) > 0 {
			ev["reduced_invoices"] = reduced
		}
		switch {
		case c.Requested > p.CapPerEnterprise.Money:
			fd.Kind, fd.Severity, fd.Score = "over_10m_cap", voucherwatch.SeverityHigh, 0.95
			fd.Title = "申请金额超过每家企业" + ruleWan(t.CapFen) + "的补贴上限（《实施细则》三 / C2）"
			fd.Reason = "申报补贴 " + yuan(c.Requested) + " 元，超过每家企业每轮最高 " + yuan(t.CapFen) +
				" 元的上限（《实施细则》三（二）/ C2），超出 " + yuan(c.Requested-p.CapPerEnterprise.Money) + " 元。"
		case c.Requested-statedMax > t.ToleranceFen:
			fd.Kind, fd.Severity = "over_30_percent", voucherwatch.SeverityHigh
			fd.Score = min(1, 0.8+float64(c.Requested-statedMax)/float64(max(1, c.Requested)))
			fd.Title = fmt.Sprintf("申请金额超过可补贴结算金额的%d%%（《实施细则》三 / C2）", t.RatePercent)
			fd.Reason = "申报补贴 " + yuan(c.Requested) + " 元，按申请所列发票合计 " + yuan(stated) + " 元计，最多可补贴 " +
				yuan(statedMax) + " 元（" + strconv.FormatInt(t.RatePercent, 10) + "%，向下取整到分）；按可补贴结算金额 " + yuan(t.EligibleFen) + " 元计最多 " +
				yuan(t.MaxSubsidyFen) + " 元，超出 " + yuan(t.OverByFen) + " 元（《实施细则》三（二）/ C2：按不超过实际结算金额的" + strconv.FormatInt(t.RatePercent, 10) + "%补贴）。"
		default:
			fd.Kind, fd.Severity, fd.Score = "over_eligible_limit", voucherwatch.SeverityLow, 0.3
			fd.Title = fmt.Sprintf("扣除不予补贴部分后，申请金额超过可补贴结算金额的%d%%（《实施细则》三 / C2）", t.RatePercent)
			fd.Reason = "申请所列发票合计 " + yuan(stated) + " 元，其中可补贴结算金额为 " + yuan(t.EligibleFen) +
				" 元（未结算、非本企业、供给方未登记、不予补贴项目或政策期外的部分已扣除，详见各发票原因），最多可补贴 " +
				yuan(t.MaxSubsidyFen) + " 元，申报 " + yuan(c.Requested) + " 元，超出 " + yuan(t.OverByFen) +
				" 元（《实施细则》三 / C2、W、C1）。扣除原因由相应规则另行预警。"
		}
		fs = append(fs, fd)
	}

	// The cap is per enterprise and round: claims of one round together.
	for k, cs := range rounds {
		if len(cs) < 2 {
			continue
		}
		var total voucherwatch.Money
		over := false
		for _, c := range cs {
			total += c.Requested
			over = over || c.Requested > p.CapPerEnterprise.Money
		}
		if over || total <= p.CapPerEnterprise.Money {
			continue // a single claim above the cap is reported above
		}
		sort.Slice(cs, func(i, j int) bool {
			if !cs[i].SubmittedOn.Equal(cs[j].SubmittedOn) {
				return cs[i].SubmittedOn.Before(cs[j].SubmittedOn)
			}
			return cs[i].ClaimID < cs[j].ClaimID
		})
		last := cs[len(cs)-1]
		var ids []string
		var each []map[string]any
		for _, c := range cs {
			ids = append(ids, c.ClaimID)
			each = append(each, map[string]any{"claim_id": c.ClaimID, "submitted_on": ruleDay(c.SubmittedOn), "requested": yuan(c.Requested)})
		}
		fs = append(fs, finding{
			Detector: d.Name(), Kind: "round_total_over_10m_cap", Severity: voucherwatch.SeverityMedium, Score: 0.7,
			Subjects:     voucherwatch.Subjects{ApplicantUSCC: k.applicant, ClaimID: last.ClaimID},
			PolicyClause: clauseRequestLimit,
			Title:        "同一企业本轮各项申请合计超过" + ruleWan(p.CapPerEnterprise.Money) + "补贴上限（《实施细则》三 / C2）",
			Reason: "申请企业在 " + strconv.Itoa(k.round) + " 年度评审中共提交 " + strconv.Itoa(len(cs)) + " 项申请（" + ruleJoinZh(ids) + "），合计申报 " +
				yuan(total) + " 元，超过每家企业最高 " + yuan(p.CapPerEnterprise.Money) + " 元的上限（《实施细则》三（二）/ C2）。",
			Evidence: map[string]any{"round": k.round, "claims": each, "total_requested": yuan(total), "cap": yuan(p.CapPerEnterprise.Money)},
		})
	}
	return ruleAlerts(fs, cities, at)
}

// ruleStatedAmount is what the claim itself says it paid: its invoices as stated, each invoice once,
// and no more than the declared usage amount when that is given.
func ruleStatedAmount(a voucherwatch.ClaimAssessment, c ruleClaim) voucherwatch.Money {
	var sum voucherwatch.Money
	for _, ia := range a.Invoices {
		if !ia.Repeated {
			sum += ia.ClaimedFen
		}
	}
	if c.UsageAmount > 0 && c.UsageAmount < sum {
		return c.UsageAmount
	}
	return sum
}
