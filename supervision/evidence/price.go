package evidence

import (
	"fmt"
	"math"
	"strings"

	"github.com/voucherwatch/voucherwatch"
)

// unitZh names a price unit: card_hour, yuan/card_hour, ...
func unitZh(u string) string {
	u = strings.TrimPrefix(u, "yuan/")
	switch u {
	case "card_hour":
		return "卡时"
	case "card_month":
		return "卡月"
	case "token_million":
		return "百万tokens"
	case "":
		return "单位"
	}
	return u
}

// methodZh says in Chinese how the band was estimated.
func methodZh(b voucherwatch.PriceBand) string {
	switch {
	case strings.HasPrefix(b.Method, "reference table"):
		return "运营方参考价格表"
	case strings.HasPrefix(b.Method, "median"):
		return fmt.Sprintf("对数价格中位数 ± k·MAD 稳健估计，样本 %s 个", number(b.N))
	case b.Method == "":
		return "—"
	}
	return b.Method
}

// priceSection lays out a price_out_of_range alert: the market band as a plot with the
// contract's prices as dots, then the items and the band's figures.
func priceSection(p voucherwatch.PriceEvidence) string {
	if !(p.Band.Low > 0 && p.Band.High >= p.Band.Low && p.WorstItem.Normalised > 0) {
		return ""
	}
	unit := unitZh(p.Band.Unit)
	var b strings.Builder
	b.WriteString("<h3>单价与市场区间</h3>")
	b.WriteString(`<p class="ev-note">合同 ` + esc(p.ContractNo) + "，市场：" + esc(p.Band.Of) + "，估计方法：" + esc(methodZh(p.Band)) + "</p>")
	b.WriteString(`<div class="ev-figure">`)
	b.WriteString(pricePlot(p, unit))
	b.WriteString("</div>")

	b.WriteString(`<table class="ev-table ev-facts"><tbody>`)
	row := func(k, v string) {
		b.WriteString(`<tr><th class="ev-key" scope="row">` + esc(k) + "</th><td>" + esc(v) + "</td></tr>")
	}
	row("合同单价（折算）", yuanText(p.WorstItem.Normalised)+" 元/"+unit)
	row("市场中位价", yuanText(p.Band.Median)+" 元/"+unit)
	row("市场区间", yuanText(p.Band.Low)+" – "+yuanText(p.Band.High)+" 元/"+unit)
	row("与中位价之比", number(p.RatioToMedian)+" 倍")
	row("需求方代码", p.BuyerUSCC)
	row("供应商代码", p.SupplierUSCC)
	if len(p.Claims) > 0 {
		row("相关申报", strings.Join(p.Claims, "、"))
	}
	b.WriteString("</tbody></table>")

	items := p.Items
	if len(items) == 0 {
		items = []voucherwatch.PriceItem{p.WorstItem}
	}
	b.WriteString("<h4>合同价格明细</h4>")
	b.WriteString(`<table class="ev-table ev-records"><thead><tr><th>芯片型号</th><th>来源</th><th>卡数</th><th>合同单价</th><th>折算单价</th><th>与中位价之比</th><th>依据</th></tr></thead><tbody>`)
	for _, it := range items {
		src := "合同"
		if it.Source == "settlement" {
			src = "结算发票 " + strings.Join(it.Invoices, "、")
		}
		origin := map[string]string{"domestic": "国产", "foreign": "进口"}[it.ChipOrigin]
		if origin == "" {
			origin = it.ChipOrigin
		}
		b.WriteString("<tr><td>" + esc(it.ChipModel) + "</td><td>" + esc(origin) + `</td><td class="ev-num">` + esc(number(it.Cards)) +
			`</td><td class="ev-num">` + esc(moneyString(it.UnitPrice)+" 元/"+unitZh(it.Unit)) +
			`</td><td class="ev-num">` + esc(yuanText(it.Normalised)+" 元/"+unitZh(it.NormalisedUnit)) +
			`</td><td class="ev-num">` + esc(number(it.RatioToMedian)) + "</td><td>" + esc(src) + "</td></tr>")
	}
	b.WriteString("</tbody></table>")
	return b.String()
}

func moneyString(s string) string {
	v, ok := scalar("unit_price", s)
	if !ok {
		return s
	}
	return v
}

// Plot geometry, in SVG user units.
const (
	plotW, plotH           = 760, 170
	plotLeft, plotRight    = 40, 40
	bandTop, bandBottom    = 62, 102
	axisY                  = 128
	priceDotR              = 7.0
	otherDotR              = 5.0
	plotFontSize           = 12
	plotLabelCharW         = 12.5 // a CJK character at plotFontSize
	plotLabelASCIIW        = 7.0
	plotMinLabelSeparation = 6
)

// pricePlot draws the band on a log axis (the detector judges log prices), the median as a
// line, each item's normalised price as a dot: red for the worst, grey for the others.
func pricePlot(p voucherwatch.PriceEvidence, unit string) string {
	prices := []float64{p.Band.Low, p.Band.High, p.Band.Median, p.WorstItem.Normalised}
	for _, it := range p.Items {
		if it.Normalised > 0 {
			prices = append(prices, it.Normalised)
		}
	}
	lo, hi := math.Inf(1), 0.0
	for _, v := range prices {
		if v > 0 {
			lo, hi = math.Min(lo, v), math.Max(hi, v)
		}
	}
	lo, hi = lo/1.35, hi*1.35
	x := func(v float64) float64 {
		if v <= 0 {
			v = lo
		}
		return plotLeft + (math.Log(v)-math.Log(lo))/(math.Log(hi)-math.Log(lo))*(plotW-plotLeft-plotRight)
	}
	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" class="ev-price-plot" width="%d" height="%d" viewBox="0 0 %d %d" role="img" aria-label="%s">`,
		plotW, plotH, plotW, plotH, esc("市场价格区间与合同单价"))
	fmt.Fprintf(&b, `<title>%s</title>`, esc("市场价格区间与合同单价（对数刻度，元/"+unit+"）"))
	b.WriteString(`<style>.ev-price-plot text{font-family:"PingFang SC","Microsoft YaHei","Noto Sans CJK SC",sans-serif;font-size:12px;fill:#34495e}.ev-price-plot .ev-lbl-out{fill:#b3261e;font-weight:bold}</style>`)

	// Axis with ticks at round prices.
	fmt.Fprintf(&b, `<line x1="%d" y1="%d" x2="%d" y2="%d" stroke="#8a96a3" stroke-width="1"/>`, plotLeft, axisY, plotW-plotRight, axisY)
	for _, t := range ticks(lo, hi) {
		tx := x(t)
		fmt.Fprintf(&b, `<line x1="%.1f" y1="%d" x2="%.1f" y2="%d" stroke="#8a96a3"/>`, tx, axisY, tx, axisY+5)
		fmt.Fprintf(&b, `<text x="%.1f" y="%d" text-anchor="middle" class="ev-tick">%s</text>`, tx, axisY+19, esc(tickText(t)))
	}
	fmt.Fprintf(&b, `<text x="%d" y="%d" text-anchor="end" class="ev-axis-title">%s</text>`, plotW-plotRight, plotH-4, esc("单价（元/"+unit+"，对数刻度）"))

	// The band, its median, and the labels above them.
	bx0, bx1 := x(p.Band.Low), x(p.Band.High)
	fmt.Fprintf(&b, `<rect class="band" x="%.1f" y="%d" width="%.1f" height="%d" fill="#cfe3f7" stroke="#5b8fc7" stroke-width="1"/>`,
		bx0, bandTop, math.Max(1, bx1-bx0), bandBottom-bandTop)
	mx := x(p.Band.Median)
	fmt.Fprintf(&b, `<line class="median" x1="%.1f" y1="%d" x2="%.1f" y2="%d" stroke="#1f4e8c" stroke-width="2"/>`, mx, bandTop-4, mx, bandBottom+4)
	bandLabel := "市场区间 " + yuanText(p.Band.Low) + " – " + yuanText(p.Band.High)
	medLabel := "中位价 " + yuanText(p.Band.Median)
	fmt.Fprintf(&b, `<text x="%.1f" y="%d" text-anchor="middle">%s</text>`, clampLabel((bx0+bx1)/2, bandLabel), bandTop-26, esc(bandLabel))
	fmt.Fprintf(&b, `<text x="%.1f" y="%d" text-anchor="middle" fill="#1f4e8c">%s</text>`, clampLabel(mx, medLabel), bandTop-9, esc(medLabel))

	// Other items first, the worst on top.
	cy := float64(bandTop+bandBottom) / 2
	for _, it := range p.Items {
		if it.Normalised > 0 && it.Normalised != p.WorstItem.Normalised {
			fmt.Fprintf(&b, `<circle class="item-dot" cx="%.1f" cy="%.1f" r="%.1f" fill="#8a96a3" stroke="#fff"><title>%s</title></circle>`,
				x(it.Normalised), cy, otherDotR, esc(it.ChipModel+" "+yuanText(it.Normalised)+" 元/"+unit))
		}
	}
	px := x(p.WorstItem.Normalised)
	fmt.Fprintf(&b, `<circle class="price-dot" cx="%.1f" cy="%.1f" r="%.1f" fill="#d93025" stroke="#fff" stroke-width="2"><title>%s</title></circle>`,
		px, cy, priceDotR, esc("合同单价 "+yuanText(p.WorstItem.Normalised)))
	priceLabel := "合同单价 " + yuanText(p.WorstItem.Normalised)
	if p.RatioToMedian > 0 {
		priceLabel += "（中位价的 " + number(p.RatioToMedian) + " 倍）"
	}
	anchor, lx := "middle", px
	if w := labelWidth(priceLabel); px+w/2 > plotW-4 {
		anchor, lx = "end", math.Min(px+priceDotR, plotW-4)
	} else if px-w/2 < 4 {
		anchor, lx = "start", math.Max(px-priceDotR, 4)
	}
	fmt.Fprintf(&b, `<text x="%.1f" y="%d" text-anchor="%s" class="ev-lbl-out">%s</text>`, lx, bandBottom+17, anchor, esc(priceLabel))
	b.WriteString("</svg>")
	return b.String()
}

// labelWidth estimates a label's width at the plot's font size.
func labelWidth(s string) float64 { return textWidth(s, plotLabelCharW, plotLabelASCIIW) }

// clampLabel moves a centred label's x so that it stays inside the plot.
func clampLabel(x float64, s string) float64 {
	half := labelWidth(s)/2 + 2
	return math.Min(math.Max(x, half), plotW-half)
}

// ticks returns up to 6 round prices between lo and hi: 1, 2, 5 times powers of ten.
func ticks(lo, hi float64) []float64 {
	var all []float64
	for e := math.Floor(math.Log10(lo)) - 1; e <= math.Ceil(math.Log10(hi)); e++ {
		for _, m := range []float64{1, 2, 5} {
			if v := m * math.Pow(10, e); v >= lo && v <= hi {
				all = append(all, v)
			}
		}
	}
	for len(all) > 6 {
		var thin []float64
		for i := 0; i < len(all); i += 2 {
			thin = append(thin, all[i])
		}
		all = thin
	}
	return all
}

func tickText(v float64) string {
	if v >= 1 {
		return "¥" + groupThousands(fmt.Sprintf("%.0f", v))
	}
	return "¥" + strings.TrimRight(strings.TrimRight(fmt.Sprintf("%.3f", v), "0"), ".")
}
