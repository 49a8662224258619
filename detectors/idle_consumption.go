package detectors

import (
	"context"
	"fmt"
	"math"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/voucherwatch/voucherwatch"
)

// DetectorIdleConsumption is the name of the idle_consumption detector.
const DetectorIdleConsumption = "idle_consumption"

// KindIdlePaidPeriod is idle_consumption's finding: a claimed contract idle for most of its
// paid period.
const KindIdlePaidPeriod = "idle_paid_period"

// clauseIdle: a real need for compute (二（一）3) and subsidy by real use (三).
const clauseIdle = "二 / D3、三 / C2"

// IdleConsumption finds compute paid for and claimed but not used (真实使用): a contract whose
// buyer was invoiced and paid for a service period (its latest settlements), and claims the
// subsidy on it, while the supplier's platform metered the contract idle for most of that
// period: days whose card-hour-weighted utilisation is below Policy.RealUse.IdleUtilisation and
// whose metering windows ran no jobs and had no users.
//
// The daily series comes from the rollup usage_days; only the contracts it shows idle often
// enough are read further (their windows' jobs and users, their settlements and claims), so a
// sweep costs the rollup plus the suspects. A contract is judged once Policy.RealUse.MinPaidDays
// days of its paid period are metered: a contract early in its term, or not settled yet, is
// not. A week idle over a holiday in an otherwise used period stays far below
// Policy.RealUse.IdleShare, and a training job with low utilisation but steady jobs has no idle
// days at all. Metered card-hours well below what was billed are billed_above_metered's
// finding; this detector compares what was paid for with what was used.
type IdleConsumption struct{ env Env }

var _ voucherwatch.IncrementalDetector = (*IdleConsumption)(nil)

// NewIdleConsumption builds the idle_consumption detector.
func NewIdleConsumption(env Env) *IdleConsumption { return &IdleConsumption{env: env} }

// Kinds are the kinds its alerts may carry.
func (d *IdleConsumption) Kinds() []string { return []string{KindIdlePaidPeriod} }

// Name is "idle_consumption".
func (d *IdleConsumption) Name() string { return DetectorIdleConsumption }

// idleDeal is one contract (supplier, buyer, contract number) as idle_consumption judges it.
type idleDeal struct {
	supplier, buyer, no string
	settlements         []voucherwatch.StoredSettlement
	days                []voucherwatch.ContractUsageDay
	active              map[time.Time]bool // days some window with jobs or users covered
	activeWindows       int
	claims              []string
}

// Run judges every contract whose paid period the rollup shows idle often enough.
func (d *IdleConsumption) Run(ctx context.Context, at time.Time) ([]voucherwatch.Alert, error) {
	ru := d.env.Policy.RealUse
	// The rollup counts idle days before jobs and users are read: a superset of the days
	// judged idle, so a contract it leaves out could not be reported.
	least := int(math.Floor(ru.IdleShare * float64(ru.MinPaidDays)))
	usages, err := d.env.reads().PaidPeriodUsages(ctx, ru.IdleUtilisation, least)
	if err != nil {
		return nil, fmt.Errorf("detectors: idle_consumption: %w", err)
	}
	var keys [][2]string
	for _, u := range usages {
		if u.MeteredDays >= ru.MinPaidDays && float64(u.IdleDays) >= ru.IdleShare*float64(u.MeteredDays) {
			keys = append(keys, [2]string{u.BuyerUSCC, u.ContractNo})
		}
	}
	return d.judge(ctx, at, keys)
}

// Check judges the contracts that changed records touch: changed contracts and settlements,
// and the contracts and invoices changed claims cite. Usage alone does not start a check; the
// next sweep reads it through the rollup.
func (d *IdleConsumption) Check(ctx context.Context, at time.Time, changed voucherwatch.Changes) ([]voucherwatch.Alert, error) {
	rm := d.env.reads()
	keys := map[[2]string]bool{}
	if cs := changed.ContractList(); len(cs) > 0 {
		contracts, err := rm.LatestContracts(ctx, voucherwatch.ContractQuery{Contracts: cs})
		if err != nil {
			return nil, fmt.Errorf("detectors: idle_consumption: %w", err)
		}
		for _, c := range contracts {
			keys[[2]string{c.BuyerUSCC, c.ContractNo}] = true
		}
	}
	invoices := changed.InvoiceKeys()
	if ids := changed.ClaimIDs(); len(ids) > 0 {
		claims, err := rm.LatestClaims(ctx, voucherwatch.ClaimQuery{IDs: ids})
		if err != nil {
			return nil, fmt.Errorf("detectors: idle_consumption: %w", err)
		}
		for _, c := range claims {
			for _, no := range c.Contracts {
				keys[[2]string{c.ApplicantUSCC, no}] = true
			}
			for _, inv := range c.Invoices {
				invoices = append(invoices, voucherwatch.InvoiceKey{Code: inv.InvoiceCode, No: inv.InvoiceNo})
			}
		}
	}
	if len(invoices) > 0 {
		ss, err := rm.LatestSettlements(ctx, voucherwatch.SettlementQuery{Invoices: invoices})
		if err != nil {
			return nil, fmt.Errorf("detectors: idle_consumption: %w", err)
		}
		for _, s := range ss {
			keys[[2]string{s.BuyerUSCC, s.ContractNo}] = true
		}
	}
	list := make([][2]string, 0, len(keys))
	for k := range keys {
		list = append(list, k)
	}
	return d.judge(ctx, at, list)
}

// judge reads what the deals of (buyer, contract number) keys need and reports the idle ones.
// Run and Check both end here, so that a check returns the alert a run would.
func (d *IdleConsumption) judge(ctx context.Context, at time.Time, keys [][2]string) ([]voucherwatch.Alert, error) {
	if len(keys) == 0 {
		return nil, nil
	}
	rm := d.env.reads()
	ss, err := rm.LatestSettlements(ctx, voucherwatch.SettlementQuery{BuyerContracts: keys})
	if err != nil {
		return nil, fmt.Errorf("detectors: idle_consumption: %w", err)
	}
	deals := map[[3]string]*idleDeal{}
	buyers := map[string]bool{}
	for _, s := range ss {
		k := [3]string{s.SupplierUSCC, s.BuyerUSCC, s.ContractNo}
		dl := deals[k]
		if dl == nil {
			dl = &idleDeal{supplier: k[0], buyer: k[1], no: k[2], active: map[time.Time]bool{}}
			deals[k] = dl
		}
		dl.settlements = append(dl.settlements, s)
		buyers[s.BuyerUSCC] = true
	}
	if len(deals) == 0 {
		return nil, nil
	}
	// The reads of a deal's metering grow with the contract's supplier and period, so they
	// come last, for the deals that can still be reported: a deal no claim cites is never
	// reported, and jobs and users can only make a day busy, so a deal not idle without them
	// is not idle with them. What is reported is what judging every deal with every read
	// reports.
	claims, err := rm.LatestClaims(ctx, voucherwatch.ClaimQuery{Applicants: ruleSortedKeys(buyers)})
	if err != nil {
		return nil, fmt.Errorf("detectors: idle_consumption: %w", err)
	}
	var from, to time.Time
	for k, dl := range deals {
		dl.claims = claimsCitingDeal(claims, dl.buyer, dl.no, dl.settlements)
		f, t, ok := idlePaidPeriod(dl.settlements)
		if len(dl.claims) == 0 || !ok {
			delete(deals, k)
			continue
		}
		if from.IsZero() || f.Before(from) {
			from = f
		}
		if t.After(to) {
			to = t
		}
	}
	if len(deals) == 0 {
		return nil, nil
	}
	cq := idleContracts(deals)
	// Only the days of the paid periods are judged: the rollup is read for those (a window
	// is at most 31 days long, so the spans that reach into them start at most that much
	// earlier), not for the contracts' whole history.
	cq.From, cq.To = from, to
	days, err := rm.ContractUsageDays(ctx, cq)
	if err != nil {
		return nil, fmt.Errorf("detectors: idle_consumption: %w", err)
	}
	for _, u := range days {
		if dl := deals[[3]string{u.SupplierUSCC, u.BuyerUSCC, u.ContractNo}]; dl != nil {
			dl.days = append(dl.days, u)
		}
	}
	for k, dl := range deals {
		if _, ok := d.judgeDeal(dl); !ok {
			delete(deals, k)
		}
	}
	if len(deals) == 0 {
		return nil, nil
	}
	acts, err := rm.UsageActivities(ctx, idleContracts(deals))
	if err != nil {
		return nil, fmt.Errorf("detectors: idle_consumption: %w", err)
	}
	for _, a := range acts {
		for _, dl := range deals {
			if dl.supplier != a.SupplierUSCC || dl.no != a.ContractNo {
				continue
			}
			dl.activeWindows++
			// Every day the window covers saw work; a window ending at midnight does not
			// cover the day it ends on.
			last := a.End.Add(-time.Second)
			if last.Before(a.Start) {
				last = a.Start
			}
			for day := idleDay(a.Start); !day.After(idleDay(last)); day = day.AddDate(0, 0, 1) {
				dl.active[day] = true
			}
		}
	}
	cities, err := Cities(ctx, rm)
	if err != nil {
		return nil, err
	}
	var fs []finding
	for _, dl := range deals {
		if f, ok := d.judgeDeal(dl); ok {
			fs = append(fs, f)
		}
	}
	return ruleAlerts(fs, cities, at), nil
}

// idleContracts is the contracts of deals, sorted.
func idleContracts(deals map[[3]string]*idleDeal) voucherwatch.ContractQuery {
	var cq voucherwatch.ContractQuery
	for k := range deals {
		cq.Contracts = append(cq.Contracts, [2]string{k[0], k[2]})
	}
	sort.Slice(cq.Contracts, func(i, j int) bool {
		return cq.Contracts[i][0]+"/"+cq.Contracts[i][1] < cq.Contracts[j][0]+"/"+cq.Contracts[j][1]
	})
	return cq
}

// idlePaidPeriod is the paid period of a deal's settlements: the first period's start to the
// last one's end, of the settlements with a period; false when none has one.
func idlePaidPeriod(ss []voucherwatch.StoredSettlement) (from, to time.Time, ok bool) {
	for _, s := range ss {
		if s.PeriodStart.IsZero() || s.PeriodEnd.Before(s.PeriodStart) {
			continue
		}
		if from.IsZero() || s.PeriodStart.Before(from) {
			from = s.PeriodStart
		}
		if s.PeriodEnd.After(to) {
			to = s.PeriodEnd
		}
	}
	return from, to, !from.IsZero()
}

// claimsCitingDeal returns the latest claims of buyer citing the contract or one of its
// invoices, sorted.
func claimsCitingDeal(claims []voucherwatch.StoredClaim, buyer, no string, ss []voucherwatch.StoredSettlement) []string {
	invoices := map[voucherwatch.InvoiceKey]bool{}
	for i := range ss {
		invoices[ss[i].Key()] = true
	}
	var out []string
	for _, c := range claims {
		if c.ApplicantUSCC != buyer {
			continue
		}
		cites := slices.Contains(c.Contracts, no)
		for _, inv := range c.Invoices {
			cites = cites || invoices[voucherwatch.InvoiceKey{Code: inv.InvoiceCode, No: inv.InvoiceNo}]
		}
		if cites {
			out = append(out, c.ClaimID)
		}
	}
	sort.Strings(out)
	return slices.Compact(out)
}

// idleDay is the CST date of an instant, as midnight CST.
func idleDay(t time.Time) time.Time {
	t = t.In(voucherwatch.CST)
	return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, voucherwatch.CST)
}

// judgeDeal reports a claimed deal idle for most of its metered paid period.
func (d *IdleConsumption) judgeDeal(dl *idleDeal) (finding, bool) {
	p := d.env.Policy
	ru := p.RealUse
	if len(dl.claims) == 0 {
		return finding{}, false
	}
	from, to, ok := idlePaidPeriod(dl.settlements)
	if !ok {
		return finding{}, false
	}
	var settled voucherwatch.Money
	var settledCardHours float64
	var invoices []string
	for _, s := range dl.settlements {
		if s.PeriodStart.IsZero() || s.PeriodEnd.Before(s.PeriodStart) {
			continue
		}
		settled += s.Amount
		for _, it := range s.Items {
			switch it.Unit {
			case voucherwatch.UnitCardHour:
				settledCardHours += it.Quantity
			case voucherwatch.UnitCardMonth:
				settledCardHours += it.Quantity * p.CardMonthHours
			}
		}
		invoices = append(invoices, ruleInvoiceKey{s.InvoiceCode, s.InvoiceNo}.String())
	}
	sort.Strings(invoices)
	var timeline []voucherwatch.IdleDay
	metered, idle, run, longest := 0, 0, 0, 0
	var cardHours, utilCardHours float64
	var prev time.Time
	for _, u := range dl.days {
		if u.Day.Before(from) || u.Day.After(to) || u.CardHours <= 0 {
			continue
		}
		metered++
		cardHours += u.CardHours
		utilCardHours += u.UtilCardHours
		isIdle := u.UtilCardHours < ru.IdleUtilisation*u.CardHours && !dl.active[u.Day]
		if isIdle {
			idle++
			if !prev.IsZero() && u.Day.Sub(prev) <= 25*time.Hour && run > 0 {
				run++
			} else {
				run = 1
			}
			longest = max(longest, run)
		} else {
			run = 0
		}
		prev = u.Day
		timeline = append(timeline, voucherwatch.IdleDay{Day: ruleDay(u.Day), CardHours: voucherwatch.RoundTo(u.CardHours, 1),
			Utilisation: voucherwatch.RoundTo(u.UtilCardHours/u.CardHours, 3), Windows: u.Windows,
			Active: dl.active[u.Day], Idle: isIdle})
	}
	if metered < ru.MinPaidDays || float64(idle) < ru.IdleShare*float64(metered) {
		return finding{}, false
	}
	share := float64(idle) / float64(metered)
	sev, score := voucherwatch.SeverityMedium, 0.5+share/4
	if share >= ru.IdleShareHigh {
		sev, score = voucherwatch.SeverityHigh, 0.6+share*0.4
	}
	util := utilCardHours / math.Max(cardHours, 1e-9)
	ev := voucherwatch.IdleEvidence{
		ContractNo: dl.no, SupplierUSCC: dl.supplier, BuyerUSCC: dl.buyer,
		PaidFrom: ruleDay(from), PaidTo: ruleDay(to), Invoices: invoices, Claims: dl.claims,
		Settled: settled.String(), SettledCardHours: voucherwatch.RoundTo(settledCardHours, 1),
		MeteredCardHours: voucherwatch.RoundTo(cardHours, 1), UsedCardHours: voucherwatch.RoundTo(utilCardHours, 1),
		Utilisation: voucherwatch.RoundTo(util, 3), MeteredDays: metered, IdleDays: idle,
		IdleShare: voucherwatch.RoundTo(share, 3), LongestIdleDays: longest, ActiveWindows: dl.activeWindows,
		IdleUtilisation: ru.IdleUtilisation, IdleShareLimit: ru.IdleShare, MinPaidDays: ru.MinPaidDays,
		Timeline: timeline,
	}
	used := ""
	if settledCardHours > 0 {
		ev.UsedOverSettled = voucherwatch.RoundTo(utilCardHours/settledCardHours, 3)
		used = fmt.Sprintf("结算 %.1f 卡时中实际利用约 %.1f 卡时（%.1f%%）；", settledCardHours, utilCardHours, 100*utilCardHours/settledCardHours)
	}
	return finding{
		Detector: d.Name(), Kind: KindIdlePaidPeriod, Severity: sev, Score: math.Min(1, score),
		Subjects:     voucherwatch.Subjects{ApplicantUSCC: dl.buyer, SupplierUSCC: dl.supplier, ContractNo: dl.no},
		PolicyClause: clauseIdle,
		Title:        "已结算并申报补贴的算力在付费期内大部分时间闲置（二 / D3、三 / C2）",
		Reason: fmt.Sprintf("合同 %s 的付费服务期 %s 至 %s 已结算 %s 元并被申报补贴（%s），调度平台计量的 %d 天中有 %d 天（%.0f%%）处于闲置：日均利用率低于 %.0f%%，且无作业、无用户，最长连续闲置 %d 天；%s全期平均利用率 %.1f%%。"+
			"政策要求需求方具有「真实的算力使用需求」（二（一）3 / D3），并「根据算力需求方的真实算力使用情况」按实际结算金额补贴（三 / C2）；所购算力基本未被使用，疑似为申领补贴而购买。",
			dl.no, ruleDay(from), ruleDay(to), settled.String(), joinIDs(dl.claims), metered, idle, 100*share,
			100*ru.IdleUtilisation, longest, used, 100*util),
		Typed: voucherwatch.EvidenceOf(ev),
	}, true
}

// joinIDs lists ids for a reason: the first three, then how many there are.
func joinIDs(ids []string) string {
	if len(ids) <= 3 {
		return strings.Join(ids, "、")
	}
	return fmt.Sprintf("%s 等 %d 项", strings.Join(ids[:3], "、"), len(ids))
}
