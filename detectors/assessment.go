package detectors

import (
	"context"
	"fmt"

	"github.com/voucherwatch/voucherwatch"
	"github.com/voucherwatch/voucherwatch/rules"
)

// Assess assesses one claim against the settlements and the registry as stored now. It returns
// ENOTFOUND when no claim has the id.
func Assess(ctx context.Context, env Env, claimID string) (voucherwatch.ClaimAssessment, error) {
	f, err := ruleLoadClaimFacts(ctx, env, claimID)
	if err != nil {
		return voucherwatch.ClaimAssessment{}, err
	}
	if len(f.claims) == 0 {
		return voucherwatch.ClaimAssessment{}, voucherwatch.Errorf(voucherwatch.ENOTFOUND, "detectors: assess: no claim %q", claimID)
	}
	return assessClaim(env.Policy, f.claims[0], f), nil
}

// ruleServiceZh names the wire's service types as the 168号 text does.
var ruleServiceZh = map[string]string{
	voucherwatch.ServiceComputeResource:    "算力资源",
	voucherwatch.ServiceComputeService:     "算力服务",
	voucherwatch.ServiceModelService:       "模型服务",
	voucherwatch.ServiceDomesticAdaptation: "国产化算力适配服务",
	voucherwatch.ServiceBandwidth:          "独立网络带宽",
	voucherwatch.ServiceSecurity:           "安全防护",
	voucherwatch.ServiceDatabase:           "数据库",
}

func ruleServiceName(t string) string {
	if n, ok := ruleServiceZh[t]; ok {
		return n
	}
	if t == "" {
		return "未注明"
	}
	return t
}

// assessClaim is the arithmetic of Assess over facts already read; the rules use it for every
// claim.
func assessClaim(p rules.Policy, c ruleClaim, f *ruleClaimFacts) voucherwatch.ClaimAssessment {
	a := voucherwatch.ClaimAssessment{
		ClaimID: c.ClaimID, ApplicantUSCC: c.ApplicantUSCC, ApplicantName: ruleEntityName(f.registry, c.ApplicantUSCC),
		City: f.registry[c.ApplicantUSCC].City, Round: c.Round, SubmittedOn: ruleDay(c.SubmittedOn),
		PolicyVersion: p.Version, WindowStart: ruleDay(p.WindowStart.Time), WindowEnd: ruleDay(p.WindowEnd.Time),
		Invoices: make([]voucherwatch.InvoiceAssessment, 0, len(c.Invoices)),
	}
	if a.City == "" {
		a.City = c.City
	}
	seen := map[string]bool{}
	t := &a.Totals
	distinct := 0
	for _, inv := range c.Invoices {
		key := inv.CanonicalKey()
		ia := assessInvoice(p, c, inv, f, seen[key])
		if !seen[key] {
			distinct++
		}
		seen[key] = true
		t.ClaimedFen += ia.ClaimedFen
		if ia.Settled && !ia.Repeated {
			t.SettledFen += ia.SettledFen
			t.InvoicesSettled++
		}
		t.EligibleFen += ia.EligibleFen
		if ia.EligibleFen > 0 {
			t.InvoicesEligible++
		}
		a.Invoices = append(a.Invoices, ia)
	}
	t.InvoicesCited = len(c.Invoices)
	t.UsageAmountFen = c.UsageAmount
	t.RatePercent = p.SubsidyRatePercent
	t.RateOfEligible = voucherwatch.Money(int64(t.EligibleFen) * p.SubsidyRatePercent / 100)
	t.CapFen = p.CapPerEnterprise.Money
	t.MaxSubsidyFen = p.MaxSubsidy(t.EligibleFen)
	t.RequestedFen = c.Requested
	t.OverByFen = max(0, t.RequestedFen-t.MaxSubsidyFen)
	t.ToleranceFen = p.RoundingTolerance(distinct)
	return a
}

func assessInvoice(p rules.Policy, c ruleClaim, inv voucherwatch.ClaimInvoice, f *ruleClaimFacts, repeated bool) voucherwatch.InvoiceAssessment {
	ia := voucherwatch.InvoiceAssessment{InvoiceCode: inv.InvoiceCode, InvoiceNo: inv.InvoiceNo, ClaimedFen: inv.Amount,
		Items: []voucherwatch.ItemAssessment{}, Reasons: []string{}, Repeated: repeated}
	reason := func(format string, args ...any) { ia.Reasons = append(ia.Reasons, fmt.Sprintf(format, args...)) }
	s := f.settlements[inv.CanonicalKey()]
	if s == nil {
		reason("供给方结算记录中没有发票代码 %q、号码 %s 的发票，不计入可补贴金额（《实施细则》四.4 / P4）", inv.InvoiceCode, inv.InvoiceNo)
		for _, o := range f.byNumber[inv.InvoiceNo] {
			reason("同一号码的发票以发票代码 %q 结算（%s 开具给 %s，金额 %s 元），但发票以代码和号码共同识别", o.InvoiceCode,
				ruleEntityName(f.registry, o.SupplierUSCC), ruleEntityName(f.registry, o.BuyerUSCC), yuan(o.Amount))
		}
		return ia
	}
	ia.Settled, ia.SettledFen, ia.TaxFen = true, s.Amount, s.Tax
	ia.AmountsMatch = inv.Amount == s.Amount
	ia.SettlementID, ia.ContractNo, ia.InvoiceDate = s.SettlementID, s.ContractNo, ruleDay(s.InvoiceDate)
	ia.BuyerUSCC, ia.BuyerIsApplicant = s.BuyerUSCC, s.BuyerUSCC == c.ApplicantUSCC
	ia.SupplierUSCC, ia.SupplierName = s.SupplierUSCC, ruleEntityName(f.registry, s.SupplierUSCC)
	status := ruleRegistrationOf(f.registry, s.SupplierUSCC)
	ia.SupplierStatus, ia.SupplierRegistered = string(status), status == regRegistered
	ia.PeriodStart, ia.PeriodEnd = ruleDay(s.PeriodStart), ruleDay(s.PeriodEnd)

	// C1: only the subsidisable lines count.
	var subs, other voucherwatch.Money
	for _, it := range s.Items {
		ok := p.Subsidisable(it.ServiceType)
		ia.Items = append(ia.Items, voucherwatch.ItemAssessment{ServiceType: it.ServiceType, ServiceTypeName: ruleServiceName(it.ServiceType),
			Subsidisable: ok, ChipModel: it.ChipModel, Unit: it.Unit, Quantity: it.Quantity, AmountFen: it.Amount})
		if ok {
			subs += it.Amount
		} else {
			other += it.Amount
		}
	}
	switch {
	case len(s.Items) == 0:
		subs = s.Amount
		reason("结算未列明服务项目，按结算金额全额视为可补贴项目")
	case subs > s.Amount:
		reason("可补贴项目合计 %s 元高于结算金额 %s 元，按结算金额计", yuan(subs), yuan(s.Amount))
		subs = s.Amount
	}
	ia.SubsidisableFen = subs
	if other != 0 {
		reason("含不予补贴的%s %s 元，不计入（《实施细则》三 / C1）", ruleJoinZh(ruleNonSubsidisableNames(p, s.Items)), yuan(other))
	}

	// W: only the part of the service period inside the window, pro rata by days.
	inWin, inside, total := p.InWindow(subs, s.PeriodStart, s.PeriodEnd)
	ia.InWindowFen, ia.DaysInWindow, ia.PeriodDays = inWin, inside, total
	switch {
	case total == 0:
		reason("结算未注明服务期，按全部在政策期内计")
	case inside < total:
		reason("服务期 %s 至 %s 共 %d 天，其中 %d 天在政策期（%s 至 %s）内，按天折算为 %s 元（《实施细则》三 / W）",
			ia.PeriodStart, ia.PeriodEnd, total, inside, ruleDay(p.WindowStart.Time), ruleDay(p.WindowEnd.Time), yuan(inWin))
	}

	switch {
	case repeated:
		reason("同一发票在本申请中重复列示，只计一次")
		return ia
	case !ia.BuyerIsApplicant:
		reason("发票开具给 %s（%s），不是申请企业，不计入（《实施细则》四.4 / P4）", ruleEntityName(f.registry, s.BuyerUSCC), s.BuyerUSCC)
		return ia
	case status != regRegistered:
		reason("供给方 %s %s，其发票不予补贴（《实施细则》二(一)4、五.1 / M1a）", ia.SupplierName, ruleRegistrationZh[status])
		return ia
	}
	ia.EligibleFen = inWin
	if inv.Amount > s.Amount {
		reason("申报金额 %s 元高于结算金额 %s 元，按结算金额计（《实施细则》四.4 / P4）", yuan(inv.Amount), yuan(s.Amount))
	}
	if inv.Amount < ia.EligibleFen {
		ia.EligibleFen = inv.Amount
		reason("申报金额 %s 元低于可补贴部分 %s 元，以申报金额为限", yuan(inv.Amount), yuan(inWin))
	}
	return ia
}

// ruleNonSubsidisableNames lists the distinct non-subsidisable service types of items, in Chinese.
func ruleNonSubsidisableNames(p rules.Policy, items []voucherwatch.Item) []string {
	var out []string
	seen := map[string]bool{}
	for _, it := range items {
		if !p.Subsidisable(it.ServiceType) && !seen[it.ServiceType] {
			seen[it.ServiceType] = true
			out = append(out, ruleServiceName(it.ServiceType))
		}
	}
	return out
}

// Payable is the subsidy the assessment allows the claim: the maximum (C2) on its eligible
// amount, at most what it requests.
func Payable(a voucherwatch.ClaimAssessment) voucherwatch.Money {
	return min(a.Totals.RequestedFen, a.Totals.MaxSubsidyFen)
}

// PayableOn is the subsidy the claim would be allowed with an eligible amount of eligible
// instead of its own: the same arithmetic (rate, truncation to the fen, cap, the request as
// the ceiling) on another amount. Money at stake is the difference between two of these.
func PayableOn(p rules.Policy, a voucherwatch.ClaimAssessment, eligible voucherwatch.Money) voucherwatch.Money {
	return min(a.Totals.RequestedFen, p.MaxSubsidy(max(0, eligible)))
}

// SubsidyWithout is what the claim's subsidy falls by when the eligible amounts of removed
// go: removed maps an index into a.Invoices to the fen of that invoice's eligible amount taken
// away (more than the eligible amount takes all of it).
func SubsidyWithout(p rules.Policy, a voucherwatch.ClaimAssessment, removed map[int]voucherwatch.Money) voucherwatch.Money {
	var gone voucherwatch.Money
	for i, fen := range removed {
		gone += min(max(fen, 0), a.Invoices[i].EligibleFen)
	}
	return Payable(a) - PayableOn(p, a, a.Totals.EligibleFen-gone)
}

// Withheld is the part of an invoice the assessment keeps out of the eligible amount although
// the claim cites it: its claimed amount (at most the settled one, when settled) less its
// eligible part. A second citation of an invoice withholds nothing more.
func Withheld(ia voucherwatch.InvoiceAssessment) voucherwatch.Money {
	if ia.Repeated {
		return 0
	}
	base := ia.ClaimedFen
	if ia.Settled {
		base = min(base, ia.SettledFen)
	}
	return max(0, base-ia.EligibleFen)
}

// SubsidyWithheld is what the claim's subsidy would rise by if the assessment did not keep
// out what it withholds of the invoices idx (nil: every invoice): what a rule that withholds
// them removes from the request.
func SubsidyWithheld(p rules.Policy, a voucherwatch.ClaimAssessment, idx []int) voucherwatch.Money {
	var back voucherwatch.Money
	if idx == nil {
		for _, ia := range a.Invoices {
			back += Withheld(ia)
		}
	} else {
		for _, i := range idx {
			back += Withheld(a.Invoices[i])
		}
	}
	return PayableOn(p, a, a.Totals.EligibleFen+back) - Payable(a)
}

// StakeCeiling is the most the findings on the claim can put at stake together: the subsidy
// the claim's arithmetic gives on every cited invoice as claimed (nothing withheld), at most
// the subsidy requested. It is Payable plus SubsidyWithheld of every invoice.
func StakeCeiling(p rules.Policy, a voucherwatch.ClaimAssessment) voucherwatch.Money {
	return Payable(a) + SubsidyWithheld(p, a, nil)
}
