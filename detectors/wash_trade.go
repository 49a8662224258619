package detectors

import (
	"context"
	"fmt"
	"math"
	"sort"
	"strings"
	"time"

	"github.com/voucherwatch/voucherwatch"
)

// DetectorWashTrade is the name of the wash_trade detector.
const DetectorWashTrade = "wash_trade"

// Kinds of wash_trade findings: two enterprises buying from each other, or a ring of three.
const (
	KindMutualPurchase = "mutual_purchase"
	KindRingPurchase   = "ring_purchase"
)

// clauseWash: subsidy on the actually settled amount (三) for a real need (二（一）3).
const clauseWash = "三 / C2、二 / D3"

// WashTrade finds compute bought in a circle to inflate claimed purchases (对敲交易): A buys
// from B while B buys from A, or A from B, B from C and C from A, under deals whose service
// periods overlap, whose settled amounts are similar (the smallest at least
// Policy.RealUse.WashAmountRatio of the largest) and whose first payments lie within
// Policy.RealUse.WashPaybackDays of each other: the money goes round and comes back. It reports
// each deal of such a cycle that its buyer claims the subsidy on, with the cycle as a graph.
//
// Suppliers that buy overflow capacity from each other without claiming are not reported, nor
// mutual purchases far apart in time or of very different amounts. Only enterprises that both
// buy and sell can be on a cycle, so a sweep reads their deals alone; a check follows the
// changed deals two steps along the buyers' purchases.
type WashTrade struct{ env Env }

var _ voucherwatch.IncrementalDetector = (*WashTrade)(nil)

// NewWashTrade builds the wash_trade detector.
func NewWashTrade(env Env) *WashTrade { return &WashTrade{env: env} }

// Kinds are the kinds its alerts may carry.
func (d *WashTrade) Kinds() []string { return []string{KindMutualPurchase, KindRingPurchase} }

// Name is "wash_trade".
func (d *WashTrade) Name() string { return DetectorWashTrade }

// washEdges indexes deals by buyer: an edge runs from the buyer to the supplier.
type washEdges struct {
	byBuyer map[string][]*voucherwatch.ContractTrade
	seen    map[[3]string]bool
}

func newWashEdges() *washEdges {
	return &washEdges{byBuyer: map[string][]*voucherwatch.ContractTrade{}, seen: map[[3]string]bool{}}
}

func (g *washEdges) add(ts []voucherwatch.ContractTrade) {
	for i := range ts {
		t := &ts[i]
		k := washKey(t)
		if g.seen[k] || t.BuyerUSCC == t.SupplierUSCC {
			continue
		}
		g.seen[k] = true
		g.byBuyer[t.BuyerUSCC] = append(g.byBuyer[t.BuyerUSCC], t)
	}
}

func washKey(t *voucherwatch.ContractTrade) [3]string {
	return [3]string{t.BuyerUSCC, t.SupplierUSCC, t.ContractNo}
}

// cyclesThrough returns the cycles of two or three enterprises that run through e, e first.
func (g *washEdges) cyclesThrough(e *voucherwatch.ContractTrade) [][]*voucherwatch.ContractTrade {
	var out [][]*voucherwatch.ContractTrade
	a, b := e.BuyerUSCC, e.SupplierUSCC
	for _, f := range g.byBuyer[b] {
		switch c := f.SupplierUSCC; {
		case c == a:
			out = append(out, []*voucherwatch.ContractTrade{e, f})
		case c != b:
			for _, h := range g.byBuyer[c] {
				if h.SupplierUSCC == a {
					out = append(out, []*voucherwatch.ContractTrade{e, f, h})
				}
			}
		}
	}
	return out
}

// washCycle is a cycle that qualifies, with what qualifies it.
type washCycle struct {
	edges                []*voucherwatch.ContractTrade
	ratio                float64 // smallest settled over largest
	paybackDays          int     // from the first first payment to the last
	overlapFrom, overlap time.Time
}

// qualify reports whether the deals of a cycle overlap in time, are similar in amount and were
// paid within the payback days.
func (d *WashTrade) qualify(edges []*voucherwatch.ContractTrade) (washCycle, bool) {
	ru := d.env.Policy.RealUse
	c := washCycle{edges: edges}
	var lo, hi voucherwatch.Money
	var firstPaid, lastPaid time.Time
	for i, e := range edges {
		if e.Settled <= 0 || e.PeriodFrom.IsZero() || e.FirstPaid.IsZero() {
			return c, false
		}
		if i == 0 || e.Settled < lo {
			lo = e.Settled
		}
		hi = max(hi, e.Settled)
		if i == 0 || e.PeriodFrom.After(c.overlapFrom) {
			c.overlapFrom = e.PeriodFrom
		}
		if i == 0 || e.PeriodTo.Before(c.overlap) {
			c.overlap = e.PeriodTo
		}
		if i == 0 || e.FirstPaid.Before(firstPaid) {
			firstPaid = e.FirstPaid
		}
		if e.FirstPaid.After(lastPaid) {
			lastPaid = e.FirstPaid
		}
	}
	c.ratio = float64(lo) / float64(hi)
	c.paybackDays = ruleDaysBetween(firstPaid, lastPaid)
	return c, !c.overlap.Before(c.overlapFrom) && c.ratio >= ru.WashAmountRatio && c.paybackDays <= ru.WashPaybackDays
}

// best picks the cycle an edge's alert shows: the shortest, then the closest in amounts, then
// the first by its deals' keys, so that a run and a check agree.
func bestWashCycle(cs []washCycle) washCycle {
	sort.Slice(cs, func(i, j int) bool {
		if len(cs[i].edges) != len(cs[j].edges) {
			return len(cs[i].edges) < len(cs[j].edges)
		}
		if cs[i].ratio != cs[j].ratio {
			return cs[i].ratio > cs[j].ratio
		}
		return washCycleKey(cs[i]) < washCycleKey(cs[j])
	})
	return cs[0]
}

func washCycleKey(c washCycle) string {
	var parts []string
	for _, e := range c.edges {
		k := washKey(e)
		parts = append(parts, strings.Join(k[:], "/"))
	}
	return strings.Join(parts, "|")
}

// Run finds the cycles among the deals of enterprises that both buy and sell.
func (d *WashTrade) Run(ctx context.Context, at time.Time) ([]voucherwatch.Alert, error) {
	ts, err := d.env.reads().ContractTrades(ctx, voucherwatch.TradeQuery{Circular: true})
	if err != nil {
		return nil, fmt.Errorf("detectors: wash_trade: %w", err)
	}
	g := newWashEdges()
	g.add(ts)
	var edges []*voucherwatch.ContractTrade
	for _, es := range g.byBuyer {
		edges = append(edges, es...)
	}
	return d.report(ctx, at, g, edges)
}

// Check follows the changed deals, and the deals of the changed claims' applicants, to the
// cycles through them.
func (d *WashTrade) Check(ctx context.Context, at time.Time, changed voucherwatch.Changes) ([]voucherwatch.Alert, error) {
	rm := d.env.reads()
	buyers, claimants := map[string]bool{}, map[string]bool{}
	for _, p := range changed.PairList() {
		buyers[p[0]] = true
	}
	if ids := changed.ClaimIDs(); len(ids) > 0 {
		claims, err := rm.LatestClaims(ctx, voucherwatch.ClaimQuery{IDs: ids})
		if err != nil {
			return nil, fmt.Errorf("detectors: wash_trade: %w", err)
		}
		for _, c := range claims {
			buyers[c.ApplicantUSCC] = true
			claimants[c.ApplicantUSCC] = true
		}
	}
	if len(buyers) == 0 {
		return nil, nil
	}
	g, asked := newWashEdges(), map[string]bool{}
	starts := ruleSortedKeys(buyers)
	if err := d.expand(ctx, g, asked, starts); err != nil {
		return nil, err
	}
	// The seeds: deals of changed pairs, and every deal of a changed claim's applicant.
	var from []*voucherwatch.ContractTrade
	for _, b := range starts {
		for _, e := range g.byBuyer[b] {
			if changed.Pairs[[2]string{e.BuyerUSCC, e.SupplierUSCC}] || claimants[e.BuyerUSCC] {
				from = append(from, e)
			}
		}
	}
	// Every deal on a cycle through a seed may be the one claimed; its alert shows its best
	// cycle, which needs the deals two steps on from it too.
	onCycle := map[[3]string]*voucherwatch.ContractTrade{}
	var more []string
	for _, e := range from {
		for _, cyc := range g.cyclesThrough(e) {
			for _, x := range cyc {
				if onCycle[washKey(x)] == nil {
					onCycle[washKey(x)] = x
					more = append(more, x.BuyerUSCC)
				}
			}
		}
	}
	if len(onCycle) == 0 {
		return nil, nil
	}
	if err := d.expand(ctx, g, asked, more); err != nil {
		return nil, err
	}
	edges := make([]*voucherwatch.ContractTrade, 0, len(onCycle))
	for _, e := range onCycle {
		edges = append(edges, e)
	}
	return d.report(ctx, at, g, edges)
}

// expand adds to g the deals of the starts and of the enterprises up to two steps on along
// their purchases, asking the store only for buyers not asked yet: a second expansion from the
// deals found by the first reads little more.
func (d *WashTrade) expand(ctx context.Context, g *washEdges, asked map[string]bool, starts []string) error {
	frontier := starts
	for step := 0; step < 3 && len(frontier) > 0; step++ {
		seen := map[string]bool{}
		var q, here []string
		for _, b := range frontier {
			if seen[b] {
				continue
			}
			seen[b] = true
			here = append(here, b)
			if !asked[b] {
				asked[b] = true
				q = append(q, b)
			}
		}
		if len(q) > 0 {
			sort.Strings(q)
			ts, err := d.env.reads().ContractTrades(ctx, voucherwatch.TradeQuery{Buyers: q})
			if err != nil {
				return fmt.Errorf("detectors: wash_trade: %w", err)
			}
			g.add(ts)
		}
		frontier = nil
		for _, b := range here {
			for _, e := range g.byBuyer[b] {
				frontier = append(frontier, e.SupplierUSCC)
			}
		}
	}
	return nil
}

// report alerts on the claimed deals among edges that lie on a qualifying cycle.
func (d *WashTrade) report(ctx context.Context, at time.Time, g *washEdges, edges []*voucherwatch.ContractTrade) ([]voucherwatch.Alert, error) {
	best := map[[3]string]washCycle{}
	buyers := map[string]bool{}
	for _, e := range edges {
		var ok []washCycle
		for _, cyc := range g.cyclesThrough(e) {
			if c, q := d.qualify(cyc); q {
				ok = append(ok, c)
			}
		}
		if len(ok) > 0 {
			best[washKey(e)] = bestWashCycle(ok)
			for _, x := range best[washKey(e)].edges {
				buyers[x.BuyerUSCC] = true
			}
		}
	}
	if len(best) == 0 {
		return nil, nil
	}
	rm := d.env.reads()
	claims, err := rm.LatestClaims(ctx, voucherwatch.ClaimQuery{Applicants: ruleSortedKeys(buyers)})
	if err != nil {
		return nil, fmt.Errorf("detectors: wash_trade: %w", err)
	}
	citing := func(e *voucherwatch.ContractTrade) []string {
		var ss []voucherwatch.StoredSettlement
		for _, k := range e.InvoiceKeys {
			code, no, found := strings.Cut(k, "/")
			if !found {
				code, no = "", k
			}
			ss = append(ss, voucherwatch.StoredSettlement{Settlement: voucherwatch.Settlement{InvoiceCode: code, InvoiceNo: no}})
		}
		return claimsCitingDeal(claims, e.BuyerUSCC, e.ContractNo, ss)
	}
	cities, err := Cities(ctx, rm)
	if err != nil {
		return nil, err
	}
	var fs []finding
	for _, e := range edges {
		c, ok := best[washKey(e)]
		if !ok {
			continue
		}
		cl := citing(e)
		if len(cl) == 0 {
			continue // overflow capacity bought from each other and not claimed
		}
		fs = append(fs, d.finding(e, c, cl, citing))
	}
	return ruleAlerts(fs, cities, at), nil
}

// finding is the alert about claimed deal e on cycle c.
func (d *WashTrade) finding(e *voucherwatch.ContractTrade, c washCycle, claims []string, citing func(*voucherwatch.ContractTrade) []string) finding {
	ru := d.env.Policy.RealUse
	// Rotate the cycle so that it starts at e: the claimed purchase first.
	c.edges = append([]*voucherwatch.ContractTrade(nil), c.edges...)
	for c.edges[0] != e {
		c.edges = append(c.edges[1:], c.edges[0])
	}
	var nodes []voucherwatch.TradeNode
	var edges []voucherwatch.TradeEdge
	var path []string
	var total voucherwatch.Money
	for i, x := range c.edges {
		role := "party"
		if i == 0 {
			role = "applicant"
		}
		nodes = append(nodes, voucherwatch.TradeNode{ID: x.BuyerUSCC, USCC: x.BuyerUSCC, Role: role})
		edges = append(edges, voucherwatch.TradeEdge{From: x.BuyerUSCC, To: x.SupplierUSCC, Kind: "buys", ContractNo: x.ContractNo,
			Settled: x.Settled.String(), Invoices: x.Invoices, InvoiceKeys: x.InvoiceKeys, SettlementIDs: x.SettlementIDs,
			PeriodFrom: ruleDay(x.PeriodFrom), PeriodTo: ruleDay(x.PeriodTo), FirstPaid: ruleDay(x.FirstPaid),
			LastPaid: ruleDay(x.LastPaid), Claims: citing(x)})
		path = append(path, fmt.Sprintf("%s 向 %s 购买（合同 %s，结算 %s 元，首次付款 %s）", x.BuyerUSCC, x.SupplierUSCC,
			x.ContractNo, x.Settled.String(), ruleDay(x.FirstPaid)))
		total += x.Settled
	}
	kind, title := KindMutualPurchase, "供需双方互相购买算力，资金与算力循环流转后申报补贴（三 / C2、二 / D3）"
	if len(c.edges) == 3 {
		kind, title = KindRingPurchase, "三家企业环形互购算力，资金与算力循环流转后申报补贴（三 / C2、二 / D3）"
	}
	ev := voucherwatch.TradeCycleEvidence{
		ContractNo: e.ContractNo, SupplierUSCC: e.SupplierUSCC, BuyerUSCC: e.BuyerUSCC, Claims: claims,
		CycleLength: len(c.edges), Graph: voucherwatch.TradeGraph{Nodes: nodes, Edges: edges},
		AmountRatio: voucherwatch.RoundTo(c.ratio, 3), PaybackDays: c.paybackDays,
		OverlapFrom: ruleDay(c.overlapFrom), OverlapTo: ruleDay(c.overlap), CycleSettled: total.String(),
		WashAmountRatio: ru.WashAmountRatio, WashPaybackDays: ru.WashPaybackDays,
	}
	return finding{
		Detector: d.Name(), Kind: kind, Severity: voucherwatch.SeverityHigh,
		Score:        math.Min(1, 0.75+0.25*c.ratio),
		Subjects:     voucherwatch.Subjects{ApplicantUSCC: e.BuyerUSCC, SupplierUSCC: e.SupplierUSCC, ContractNo: e.ContractNo},
		PolicyClause: clauseWash,
		Title:        title,
		Reason: fmt.Sprintf("%s。各笔交易服务期在 %s 至 %s 重叠，结算金额相近（最小为最大的 %.0f%%，阈值 %.0f%%），首次付款相隔不超过 %d 天（阈值 %d 天）：资金与算力循环流转，购买并非真实算力需求（二（一）3 / D3）。"+
			"%s 以合同 %s 的购买申报补贴（%s），补贴按「购买算力实际结算金额」计算（三 / C2），循环交易虚增了可申报的结算金额。",
			strings.Join(path, "；"), ruleDay(c.overlapFrom), ruleDay(c.overlap), 100*c.ratio, 100*ru.WashAmountRatio,
			c.paybackDays, ru.WashPaybackDays, e.BuyerUSCC, e.ContractNo, joinIDs(claims)),
		Typed: voucherwatch.EvidenceOf(ev),
	}
}
