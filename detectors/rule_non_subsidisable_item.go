package detectors

import (
	"context"
	"sort"
	"strconv"
	"time"

	"github.com/voucherwatch/voucherwatch"
)

// NonSubsidisableItem checks 三(二) (C1): stand-alone network bandwidth, security protection and
// databases are not subsidised. It reports a claim that cites an invoice with such items for
// more than the invoice's subsidisable part: an invoice of nothing but bandwidth, or a mixed
// invoice claimed in full. A mixed invoice claimed only for its compute lines is within the rule.
//
// One alert per claim and contract, high: the amount is plainly not subsidisable. Its subjects
// name the earliest such invoice; the evidence lists them all with their items.
type NonSubsidisableItem struct{ env Env }

var _ voucherwatch.IncrementalDetector = (*NonSubsidisableItem)(nil)

// NewNonSubsidisableItem builds the non_subsidisable_item rule.
func NewNonSubsidisableItem(env Env) *NonSubsidisableItem { return &NonSubsidisableItem{env: env} }

// Name is "non_subsidisable_item".
func (d *NonSubsidisableItem) Name() string { return "non_subsidisable_item" }

// Kinds are the kinds its alerts may carry (voucherwatch.AlertKinds has their labels).
func (d *NonSubsidisableItem) Kinds() []string {
	return []string{"non_subsidisable_invoice_claimed", "mixed_invoice_claimed_in_full"}
}

// Run checks the invoices of every claim.
func (d *NonSubsidisableItem) Run(ctx context.Context, at time.Time) ([]voucherwatch.Alert, error) {
	cities, f, err := ruleLoadCitiesAndClaimFacts(ctx, d.env)
	if err != nil {
		return nil, err
	}
	return d.judge(cities, f, at), nil
}

// Check judges the claims the changed records touch (ruleLoadChangedClaimFacts) as Run judges
// every claim.
func (d *NonSubsidisableItem) Check(ctx context.Context, at time.Time, changed voucherwatch.Changes) ([]voucherwatch.Alert, error) {
	cities, f, err := ruleLoadChangedClaimFacts(ctx, d.env, changed)
	if err != nil || f == nil {
		return nil, err
	}
	return d.judge(cities, f, at), nil
}

// judge returns the alerts about the claims in f.
func (d *NonSubsidisableItem) judge(cities map[string]string, f *ruleClaimFacts, at time.Time) []voucherwatch.Alert {
	p := d.env.Policy
	var fs []finding
	for _, c := range f.claims {
		a := assessClaim(p, c, f)
		type group struct {
			invoices []voucherwatch.InvoiceAssessment
		}
		groups := map[string]*group{}
		for _, ia := range a.Invoices {
			if !ia.Settled || ia.Repeated || ia.SubsidisableFen >= ia.SettledFen || ia.ClaimedFen <= ia.SubsidisableFen {
				continue
			}
			k := ia.SupplierUSCC + "|" + ia.ContractNo
			if groups[k] == nil {
				groups[k] = &group{}
			}
			groups[k].invoices = append(groups[k].invoices, ia)
		}
		for _, k := range ruleSortedKeys(groups) {
			g := groups[k]
			sort.SliceStable(g.invoices, func(i, j int) bool {
				if g.invoices[i].InvoiceDate != g.invoices[j].InvoiceDate {
					return g.invoices[i].InvoiceDate < g.invoices[j].InvoiceDate
				}
				return g.invoices[i].PeriodStart < g.invoices[j].PeriodStart
			})
			first := g.invoices[0]
			kind, what := "non_subsidisable_invoice_claimed", "只含"
			if first.SubsidisableFen > 0 {
				kind, what = "mixed_invoice_claimed_in_full", "含"
			}
			var excess voucherwatch.Money
			var list []map[string]any
			names := map[string]bool{}
			for _, ia := range g.invoices {
				excess += ia.ClaimedFen - ia.SubsidisableFen
				ev := ruleInvoiceEvidence(ia)
				var items []map[string]any
				for _, it := range ia.Items {
					items = append(items, map[string]any{"service_type": it.ServiceType, "service_type_name": it.ServiceTypeName,
						"subsidisable": it.Subsidisable, "amount": yuan(it.AmountFen)})
					if !it.Subsidisable {
						names[it.ServiceTypeName] = true
					}
				}
				ev["items"] = items
				ev["claimed_not_subsidisable"] = yuan(ia.ClaimedFen - ia.SubsidisableFen)
				list = append(list, ev)
			}
			ev := ruleClaimEvidence(c)
			ev["invoices"] = list
			ev["claimed_not_subsidisable"] = yuan(excess)
			ev["service_types"] = ruleSortedKeys(names)
			fs = append(fs, finding{
				Detector: d.Name(), Kind: kind, Severity: voucherwatch.SeverityHigh, Score: 0.9,
				Subjects:     ruleInvoiceSubjects(c, first),
				PolicyClause: clauseNonSubsidisable,
				Title:        "申请补贴的发票含不予补贴的网络带宽、安全防护或数据库（《实施细则》三 / C1）",
				Reason: "申请所列 " + strconv.Itoa(len(g.invoices)) + " 张发票" + what + "不予补贴的" + ruleJoinZh(ruleSortedKeys(names)) +
					"项目，例如发票 " + ruleInvoiceKey{first.InvoiceCode, first.InvoiceNo}.String() + " 结算 " + yuan(first.SettledFen) +
					" 元，其中可补贴项目仅 " + yuan(first.SubsidisableFen) + " 元，申请却按 " + yuan(first.ClaimedFen) +
					" 元申报；按《实施细则》三（二）/ C1，补贴内容不含独立的网络带宽、安全防护及数据库，多报合计 " + yuan(excess) + " 元。",
				Evidence: ev,
			})
		}
	}
	return ruleAlerts(fs, cities, at)
}
