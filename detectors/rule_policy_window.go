package detectors

import (
	"context"
	"sort"
	"strconv"
	"time"

	"github.com/voucherwatch/voucherwatch"
)

// PolicyWindow checks 三 (W): only service inside 2025-10-27 .. 2028-10-26 is subsidised, a
// period that crosses the window only for its days inside. It looks at the invoices a claim
// cites, not at contracts: a contract may run past the window as long as what is claimed so far
// lies inside it (the look-alike of a three-year contract invoiced month by month). An invoice
// is reported when its service period reaches outside the window and the claim asks for more of
// it than its in-window part; an applicant that already claimed only the in-window part is
// within the rule.
//
// One alert per claim and contract: its subjects name the earliest such invoice, its evidence
// lists them all with the days outside and the amount that is not eligible. Medium: part of the
// invoice may still be subsidised, and the reviewer prorates.
type PolicyWindow struct{ env Env }

var _ voucherwatch.IncrementalDetector = (*PolicyWindow)(nil)

// NewPolicyWindow builds the policy_window rule.
func NewPolicyWindow(env Env) *PolicyWindow { return &PolicyWindow{env: env} }

// Name is "policy_window".
func (d *PolicyWindow) Name() string { return "policy_window" }

// Kinds are the kinds its alerts may carry (voucherwatch.AlertKinds has their labels).
func (d *PolicyWindow) Kinds() []string {
	return []string{"service_before_window", "service_after_window"}
}

// Run checks the invoices of every claim.
func (d *PolicyWindow) Run(ctx context.Context, at time.Time) ([]voucherwatch.Alert, error) {
	cities, f, err := ruleLoadCitiesAndClaimFacts(ctx, d.env)
	if err != nil {
		return nil, err
	}
	return d.judge(cities, f, at), nil
}

// Check judges the claims the changed records touch (ruleLoadChangedClaimFacts) as Run judges
// every claim.
func (d *PolicyWindow) Check(ctx context.Context, at time.Time, changed voucherwatch.Changes) ([]voucherwatch.Alert, error) {
	cities, f, err := ruleLoadChangedClaimFacts(ctx, d.env, changed)
	if err != nil || f == nil {
		return nil, err
	}
	return d.judge(cities, f, at), nil
}

// judge returns the alerts about the claims in f.
func (d *PolicyWindow) judge(cities map[string]string, f *ruleClaimFacts, at time.Time) []voucherwatch.Alert {
	p := d.env.Policy
	start, end := p.WindowStart.Time, p.WindowEnd.Time
	var fs []finding
	for _, c := range f.claims {
		a := assessClaim(p, c, f)
		type group struct {
			supplier, contract string
			invoices           []voucherwatch.InvoiceAssessment
		}
		groups := map[string]*group{}
		for _, ia := range a.Invoices {
			if !ia.Settled || ia.Repeated || ia.PeriodDays == 0 || ia.DaysInWindow == ia.PeriodDays {
				continue
			}
			if ia.ClaimedFen <= ia.InWindowFen {
				continue // only the in-window part is claimed
			}
			k := ia.SupplierUSCC + "|" + ia.ContractNo
			if groups[k] == nil {
				groups[k] = &group{supplier: ia.SupplierUSCC, contract: ia.ContractNo}
			}
			groups[k].invoices = append(groups[k].invoices, ia)
		}
		for _, k := range ruleSortedKeys(groups) {
			g := groups[k]
			sort.SliceStable(g.invoices, func(i, j int) bool { return g.invoices[i].PeriodStart < g.invoices[j].PeriodStart })
			first := g.invoices[0]
			kind, where := "service_before_window", "早于政策期起始日 "+ruleDay(start)
			if first.PeriodStart >= ruleDay(start) {
				kind, where = "service_after_window", "晚于政策期截止日 "+ruleDay(end)
			}
			var outside voucherwatch.Money
			var list []map[string]any
			for _, ia := range g.invoices {
				outside += ia.ClaimedFen - ia.InWindowFen
				ev := ruleInvoiceEvidence(ia)
				ev["days_outside_window"] = ia.PeriodDays - ia.DaysInWindow
				ev["claimed_outside_window"] = yuan(ia.ClaimedFen - ia.InWindowFen)
				list = append(list, ev)
			}
			ev := ruleClaimEvidence(c)
			ev["window"] = ruleDay(start) + " ~ " + ruleDay(end)
			ev["invoices"] = list
			ev["claimed_outside_window"] = yuan(outside)
			subj := ruleInvoiceSubjects(c, first)
			fs = append(fs, finding{
				Detector: d.Name(), Kind: kind, Severity: voucherwatch.SeverityMedium,
				Score:        min(0.9, 0.5+float64(first.PeriodDays-first.DaysInWindow)/float64(2*first.PeriodDays)),
				Subjects:     subj,
				PolicyClause: clauseWindow,
				Title:        "申请补贴的发票服务期超出政策有效期（《实施细则》三 / W）",
				Reason: "申请所列 " + strconv.Itoa(len(g.invoices)) + " 张发票的服务期部分或全部" + where + "，例如发票 " +
					ruleInvoiceKey{first.InvoiceCode, first.InvoiceNo}.String() + " 服务期 " + first.PeriodStart + " 至 " + first.PeriodEnd +
					" 共 " + strconv.Itoa(first.PeriodDays) + " 天，仅 " + strconv.Itoa(first.DaysInWindow) + " 天在政策期内；按《实施细则》三 / W，跨越政策期的服务仅对期内部分按天折算补贴，申请却按全额申报，超出期内部分合计 " +
					yuan(outside) + " 元。",
				Evidence: ev,
			})
		}
	}
	return ruleAlerts(fs, cities, at)
}
