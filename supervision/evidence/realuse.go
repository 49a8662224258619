package evidence

import (
	"fmt"
	"math"
	"strings"

	"github.com/voucherwatch/voucherwatch"
)

// The real-use detectors' evidence: idle_consumption's paid period against the daily metering,
// as a bar per day, and wash_trade's cycle of purchases as a graph.

// idleSection lays out an idle_consumption alert: the figures, then the timeline.
func idleSection(e voucherwatch.IdleEvidence) string {
	if len(e.Timeline) == 0 {
		return ""
	}
	var b strings.Builder
	b.WriteString("<h3>付费期与计量用量</h3>")
	facts := map[string]any{
		"contract_no": e.ContractNo, "supplier_uscc": e.SupplierUSCC, "buyer_uscc": e.BuyerUSCC,
		"paid_period": e.PaidFrom + " 至 " + e.PaidTo, "settled": e.Settled,
		"idle": fmt.Sprintf("%d / %d 天（%.0f%%），最长连续 %d 天", e.IdleDays, e.MeteredDays, 100*e.IdleShare, e.LongestIdleDays),
		"card_hours": fmt.Sprintf("结算 %s 卡时；计量 %s 卡时；实际利用 %s 卡时（平均利用率 %.1f%%）",
			number(e.SettledCardHours), number(e.MeteredCardHours), number(e.UsedCardHours), 100*e.Utilisation),
		"claims": strings.Join(e.Claims, "、"),
	}
	writeFacts(&b, facts, []string{"contract_no", "buyer_uscc", "supplier_uscc", "paid_period", "settled", "idle", "card_hours", "claims"}, 0)
	b.WriteString(idleTimeline(e))
	b.WriteString(`<p class="ev-note">每日一柱：柱高为当日计量利用率；红色为闲置日（利用率低于 ` +
		esc(fmt.Sprintf("%.0f%%", 100*e.IdleUtilisation)) + ` 且无作业、无用户），灰色底为付费服务期。</p>`)
	return b.String()
}

// idleTimeline draws the paid period's days as bars of their utilisation, idle days in red.
func idleTimeline(e voucherwatch.IdleEvidence) string {
	const w, h, left, right, top, bottom = 760.0, 150.0, 36.0, 12.0, 10.0, 120.0
	n := len(e.Timeline)
	step := (w - left - right) / float64(n)
	var b strings.Builder
	fmt.Fprintf(&b, `<svg class="ev-timeline" viewBox="0 0 %.0f %.0f" width="100%%" role="img" aria-label="%s">`, w, h,
		esc("付费期 "+e.PaidFrom+" 至 "+e.PaidTo+" 每日利用率"))
	fmt.Fprintf(&b, `<rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="#eef1f4"/>`, left, top, w-left-right, bottom-top)
	for _, y := range []float64{0, 0.5, 1} {
		yy := bottom - y*(bottom-top)
		fmt.Fprintf(&b, `<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="#c9d1d9" stroke-width="0.5"/>`, left, yy, w-right, yy)
		fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" font-size="10" text-anchor="end" fill="#4a5968">%.0f%%</text>`, left-4, yy+3, 100*y)
	}
	month := ""
	for i, d := range e.Timeline {
		x := left + float64(i)*step
		u := math.Max(0, math.Min(1, d.Utilisation))
		bh := math.Max(1, u*(bottom-top))
		fill := "#2e7d32"
		if d.Idle {
			fill, bh = "#c62828", math.Max(bh, 3)
		}
		fmt.Fprintf(&b, `<rect x="%.2f" y="%.2f" width="%.2f" height="%.2f" fill="%s"><title>%s</title></rect>`,
			x, bottom-bh, math.Max(0.5, step*0.85), bh, fill,
			esc(fmt.Sprintf("%s：利用率 %.1f%%，计量 %s 卡时%s", d.Day, 100*d.Utilisation, number(d.CardHours), map[bool]string{true: "，闲置", false: ""}[d.Idle])))
		if len(d.Day) >= 7 && d.Day[:7] != month {
			month = d.Day[:7]
			fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" font-size="10" fill="#4a5968">%s</text>`, x, bottom+14, esc(month))
		}
	}
	b.WriteString(`</svg>`)
	return b.String()
}

// washSection lays out a wash_trade alert: the cycle as a graph, then its deals.
func washSection(e voucherwatch.TradeCycleEvidence) string {
	if len(e.Graph.Nodes) < 2 || len(e.Graph.Edges) < 2 {
		return ""
	}
	var b strings.Builder
	b.WriteString("<h3>循环交易</h3>")
	b.WriteString(washGraphSVG(e.Graph))
	fmt.Fprintf(&b, `<p class="ev-note">%s</p>`, esc(fmt.Sprintf("箭头由购买方指向供给方。服务期重叠 %s 至 %s；结算金额最小为最大的 %.0f%%；首次付款相隔 %d 天。",
		e.OverlapFrom, e.OverlapTo, 100*e.AmountRatio, e.PaybackDays)))
	b.WriteString(`<table class="ev-table"><thead><tr><th>购买方</th><th>供给方</th><th>合同</th><th>结算金额</th><th>服务期</th><th>首次付款</th><th>结算单</th><th>申报</th></tr></thead><tbody>`)
	for _, x := range e.Graph.Edges {
		fmt.Fprintf(&b, `<tr><td>%s</td><td>%s</td><td>%s</td><td>%s</td><td>%s</td><td>%s</td><td>%s</td><td>%s</td></tr>`,
			esc(x.From), esc(x.To), esc(x.ContractNo), esc(moneyString(x.Settled)), esc(x.PeriodFrom+" 至 "+x.PeriodTo),
			esc(x.FirstPaid), esc(strings.Join(x.SettlementIDs, "、")), esc(orDash(strings.Join(x.Claims, "、"))))
	}
	b.WriteString(`</tbody></table>`)
	return b.String()
}

// washGraphSVG places the enterprises on a circle, the claimant on the left, and draws each
// purchase as a curved arrow from buyer to supplier with its contract and amount.
func washGraphSVG(g voucherwatch.TradeGraph) string {
	const w, h, r = 760.0, 260.0, 95.0
	cx, cy := w/2, h/2
	pos := map[string][2]float64{}
	for i, n := range g.Nodes {
		a := math.Pi + 2*math.Pi*float64(i)/float64(len(g.Nodes))
		pos[n.ID] = [2]float64{cx + 2.4*r*math.Cos(a), cy + r*math.Sin(a)}
	}
	var b strings.Builder
	fmt.Fprintf(&b, `<svg class="ev-graph ev-cycle" viewBox="0 0 %.0f %.0f" width="100%%" role="img" aria-label="循环交易图">`, w, h)
	b.WriteString(`<defs><marker id="ev-cycle-arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="8" markerHeight="8" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="#c62828"/></marker></defs>`)
	for _, x := range g.Edges {
		p, q := pos[x.From], pos[x.To]
		// Bend each arrow to its left, so that the two of a mutual purchase do not overlap.
		mx, my := (p[0]+q[0])/2, (p[1]+q[1])/2
		dx, dy := q[0]-p[0], q[1]-p[1]
		l := math.Max(1, math.Hypot(dx, dy))
		kx, ky := mx+dy/l*40, my-dx/l*40
		// Stop short of the boxes.
		sx, sy := p[0]+dx/l*70, p[1]+dy/l*18
		ex, ey := q[0]-dx/l*70, q[1]-dy/l*18
		fmt.Fprintf(&b, `<g class="ev-edge"><path d="M%.1f,%.1f Q%.1f,%.1f %.1f,%.1f" fill="none" stroke="#c62828" stroke-width="1.6" marker-end="url(#ev-cycle-arrow)"><title>%s</title></path>`,
			sx, sy, kx, ky, ex, ey, esc(x.From+" 向 "+x.To+" 购买，合同 "+x.ContractNo))
		fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" font-size="11" text-anchor="middle" fill="#333">%s</text></g>`,
			kx, ky, esc(x.ContractNo+" · "+moneyString(x.Settled)))
	}
	for _, n := range g.Nodes {
		p := pos[n.ID]
		fill := "#e8eef6"
		if n.Role == "applicant" {
			fill = "#fdecea"
		}
		fmt.Fprintf(&b, `<g class="ev-node"><rect x="%.1f" y="%.1f" width="140" height="36" rx="6" fill="%s" stroke="#4a5968"/>`, p[0]-70, p[1]-18, fill)
		fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" font-size="11" text-anchor="middle">%s</text>`, p[0], p[1]-3, esc(n.USCC))
		role := "交易方"
		if n.Role == "applicant" {
			role = "申报企业"
		}
		fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" font-size="10" text-anchor="middle" fill="#4a5968">%s</text></g>`, p[0], p[1]+12, role)
	}
	b.WriteString(`</svg>`)
	return b.String()
}
