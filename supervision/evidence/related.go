package evidence

import (
	"fmt"
	"math"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/voucherwatch/voucherwatch"
	"github.com/voucherwatch/voucherwatch/supervision/locale"
)

// edgeLabel is the short relation an edge is drawn with; edgeDetail the full one for the table.
func edgeLabel(e voucherwatch.EvidenceEdge) string {
	switch e.Kind {
	case "holds":
		if e.Pct > 0 {
			return "股东 " + pctText(e.Pct)
		}
		return "股东"
	case "legal_rep":
		return "法定代表人"
	case "officer":
		if zh := voucherwatch.OfficerRoleLabel(e.Role); zh != e.Role {
			return zh
		}
		return "董事/高管"
	case "contact":
		switch e.Role {
		case "phone":
			return "共用联系电话 " + voucherwatch.MaskPhone(e.Value)
		case "email":
			return "共用电子邮箱 " + voucherwatch.MaskEmail(e.Value)
		}
		return "联系人"
	case "bank_account":
		v := e.Value
		if len(v) > 4 {
			v = "尾号" + v[len(v)-4:]
		}
		return "共用银行账户 " + v
	case "address":
		return "共用地址"
	}
	if e.Value != "" {
		return e.Kind + " " + e.Value
	}
	return e.Kind
}

func edgeDetail(e voucherwatch.EvidenceEdge) string {
	switch e.Kind {
	case "holds":
		if e.Pct > 0 {
			return "持股 " + pctText(e.Pct)
		}
	case "contact":
		if e.Role == "phone" {
			return "联系电话 " + voucherwatch.MaskPhone(e.Value)
		}
		if e.Role == "email" {
			return "电子邮箱 " + voucherwatch.MaskEmail(e.Value)
		}
	case "bank_account":
		return "银行账号 " + e.Value
	case "address":
		return e.Value
	}
	return ""
}

func pctText(p float64) string {
	return strconv.FormatFloat(voucherwatch.RoundTo(p, 2), 'f', -1, 64) + "%"
}

// Graph geometry, in SVG user units.
const (
	nodeH        = 50.0
	nodePadX     = 14.0
	nodeMinW     = 120.0
	colGap       = 100.0
	rowGap       = 34.0
	graphMargin  = 20.0
	badgeH       = 20.0
	arcStep      = 30.0
	arcTop       = 22.0 // the lowest arc's peak above the nodes' top
	charW        = 13.0 // a CJK character at 13px
	asciiW       = 7.2
	edgeLabelPad = 6.0
)

// textWidth estimates a text's width from the widths of a CJK character and of an ASCII one.
func textWidth(s string, cjk, ascii float64) float64 {
	w := 0.0
	for _, r := range s {
		if r < 0x2E80 {
			w += ascii
		} else {
			w += cjk
		}
	}
	return w
}

// truncate cuts a label to n CJK characters' width, a Latin letter counting as about half.
func truncate(s string, n int) string {
	if textWidth(s, 1, 0.55) <= float64(n) {
		return s
	}
	w := 0.0
	for i, r := range s {
		if r < 0x2E80 {
			w += 0.55
		} else {
			w++
		}
		if w > float64(n)-1 {
			return s[:i] + "…"
		}
	}
	return s
}

// laidNode is a node with its place in the drawing.
type laidNode struct {
	voucherwatch.EvidenceNode
	lines      [2]string
	badge      string
	class      string
	col        int
	x, y, w, h float64 // top-left corner and size
}

func (n *laidNode) cx() float64 { return n.x + n.w/2 }
func (n *laidNode) cy() float64 { return n.y + n.h/2 }

// relatedSection lays out a related_party alert: the graph of the ties, then its links and the
// ties as tables.
func relatedSection(r voucherwatch.RelatedPartyEvidence) string {
	if len(r.Graph.Nodes) == 0 && len(r.Ties) == 0 {
		return ""
	}
	var b strings.Builder
	b.WriteString("<h3>关联关系图</h3>")
	b.WriteString(`<p class="ev-note">需求方 ` + esc(r.Buyer.Name) + "（" + esc(r.Buyer.USCC) + "）与供应商 " + esc(r.Supplier.Name) + "（" + esc(r.Supplier.USCC) + "）之间的关联路径；人员证件号仅显示脱敏形式。</p>")
	nodes, edges := layoutGraph(r)
	if len(nodes) > 0 {
		b.WriteString(`<div class="ev-figure">`)
		b.WriteString(drawGraph(nodes, edges))
		b.WriteString("</div>")
	}

	byID := map[string]*laidNode{}
	for _, n := range nodes {
		byID[n.ID] = n
	}
	name := func(id string) string {
		if n, ok := byID[id]; ok {
			return n.lines[0]
		}
		return "（未列明）"
	}
	if len(edges) > 0 {
		b.WriteString("<h4>关系明细</h4>")
		b.WriteString(`<table class="ev-table ev-links"><thead><tr><th>起点</th><th>关系</th><th>终点</th><th>详情</th></tr></thead><tbody>`)
		for _, e := range edges {
			b.WriteString("<tr><td>" + esc(name(e.From)) + "</td><td>" + esc(edgeLabel(e)) + "</td><td>" + esc(name(e.To)) + "</td><td>" + esc(edgeDetail(e)) + "</td></tr>")
		}
		b.WriteString("</tbody></table>")
	}
	if len(r.Ties) > 0 {
		b.WriteString("<h4>关联认定</h4>")
		b.WriteString(`<table class="ev-table ev-ties"><thead><tr><th>关联类型</th><th>严重程度</th><th>说明</th></tr></thead><tbody>`)
		for _, t := range r.Ties {
			kind, ok := locale.Lookup("kind." + voucherwatch.DetectorRelatedParty + "." + t.Kind)
			if !ok {
				kind = t.Kind
			}
			sev, ok := locale.Lookup("severity." + string(t.Severity))
			if !ok {
				sev = string(t.Severity)
			}
			b.WriteString("<tr><td>" + esc(kind) + `</td><td class="ev-sev-` + classOf(string(t.Severity)) + `">` + esc(sev) + "</td><td>" + esc(t.Summary) + "</td></tr>")
		}
		b.WriteString("</tbody></table>")
	}
	var facts []string
	if io := r.IntegratedOwnership; io.BuyerInSupplier > 0 || io.SupplierInBuyer > 0 {
		facts = append(facts, fmt.Sprintf("综合（直接与间接）持股比例：需求方对供应商 %s，供应商对需求方 %s",
			pctText(io.BuyerInSupplier*100), pctText(io.SupplierInBuyer*100)))
	}
	if len(r.Contracts) > 0 {
		facts = append(facts, "双方合同："+strings.Join(r.Contracts, "、"))
	}
	if len(r.Claims) > 0 {
		facts = append(facts, "相关申报："+strings.Join(r.Claims, "、"))
	}
	if len(facts) > 0 {
		b.WriteString(`<ul class="ev-list">`)
		for _, f := range facts {
			b.WriteString("<li>" + esc(f) + "</li>")
		}
		b.WriteString("</ul>")
	}
	return b.String()
}

// layoutGraph places the nodes in columns from the buyer (left) to the supplier (right): a
// node's column follows its distance from each, so a chain of holdings reads along the page
// and a person or controller tied to both stands between them.
func layoutGraph(r voucherwatch.RelatedPartyEvidence) ([]*laidNode, []voucherwatch.EvidenceEdge) {
	var nodes []*laidNode
	byID := map[string]*laidNode{}
	add := func(g voucherwatch.EvidenceNode) *laidNode {
		if n, ok := byID[g.ID]; ok {
			return n
		}
		n := &laidNode{EvidenceNode: g}
		byID[g.ID] = n
		nodes = append(nodes, n)
		return n
	}
	for _, g := range r.Graph.Nodes {
		if g.ID == "" {
			continue
		}
		add(g)
	}
	// Without a graph, the two parties still stand for the ties.
	if len(nodes) == 0 {
		add(voucherwatch.EvidenceNode{ID: r.Buyer.USCC, Kind: "enterprise", Name: r.Buyer.Name, USCC: r.Buyer.USCC, Side: "buyer"})
		add(voucherwatch.EvidenceNode{ID: r.Supplier.USCC, Kind: "enterprise", Name: r.Supplier.Name, USCC: r.Supplier.USCC, Side: "supplier"})
	}
	var edges []voucherwatch.EvidenceEdge
	for _, e := range r.Graph.Edges {
		if e.From == "" || e.To == "" {
			continue
		}
		for _, id := range []string{e.From, e.To} {
			if _, ok := byID[id]; !ok {
				add(voucherwatch.EvidenceNode{ID: id, Kind: "unknown"})
			}
		}
		edges = append(edges, e)
	}

	buyer, supplier := findSide(nodes, "buyer", r.Buyer.USCC), findSide(nodes, "supplier", r.Supplier.USCC)
	controllers := map[string]bool{}
	for _, id := range r.Controllers {
		controllers[id] = true
	}
	adj := map[string][]string{}
	for _, e := range edges {
		adj[e.From] = append(adj[e.From], e.To)
		adj[e.To] = append(adj[e.To], e.From)
	}
	dist := func(from *laidNode) map[string]int {
		d := map[string]int{}
		if from == nil {
			return d
		}
		d[from.ID] = 0
		queue := []string{from.ID}
		for len(queue) > 0 {
			x := queue[0]
			queue = queue[1:]
			for _, y := range adj[x] {
				if _, seen := d[y]; !seen {
					d[y] = d[x] + 1
					queue = append(queue, y)
				}
			}
		}
		return d
	}
	db, ds := dist(buyer), dist(supplier)
	pos := map[*laidNode]float64{}
	for _, n := range nodes {
		a, okA := db[n.ID]
		s, okS := ds[n.ID]
		switch {
		case n == buyer:
			pos[n] = 0
		case n == supplier:
			pos[n] = 1
		case okA && okS && a+s > 0:
			pos[n] = float64(a) / float64(a+s)
		case okA:
			pos[n] = math.Min(0.45, 0.2*float64(a))
		case okS:
			pos[n] = 1 - math.Min(0.45, 0.2*float64(s))
		default:
			pos[n] = 0.5
		}
	}
	// Columns: the distinct positions, in order.
	keys := make([]float64, 0, len(nodes))
	for _, n := range nodes {
		p := voucherwatch.RoundTo(pos[n], 3)
		pos[n] = p
		keys = append(keys, p)
	}
	slices.Sort(keys)
	keys = slices.Compact(keys)
	colOf := map[float64]int{}
	for i, k := range keys {
		colOf[k] = i
	}

	// Labels and sizes.
	for _, n := range nodes {
		n.col = colOf[pos[n]]
		switch n.Kind {
		case "person":
			n.lines = [2]string{truncate(orDash(n.Name), 12), "证件 " + maskedID(n.MaskedID)}
			n.class = "ev-node-person"
		case "enterprise":
			title := n.Name
			if title == "" {
				title = n.USCC
			}
			n.lines = [2]string{truncate(title, 20), n.USCC}
			if n.Name == "" {
				n.lines[1] = ""
			}
			n.class = "ev-node-ent"
		default:
			n.lines = [2]string{"（未列明）", ""}
			n.class = "ev-node-unknown"
		}
		n.lines[0], n.lines[1] = mask(n.lines[0]), mask(n.lines[1])
		switch {
		case n == buyer:
			n.badge, n.class = "需求方（申报单位）", n.class+" ev-node-buyer"
		case n == supplier:
			n.badge, n.class = "供应商", n.class+" ev-node-supplier"
		case controllers[n.ID]:
			n.badge, n.class = "实际控制人", n.class+" ev-node-controller"
		}
		if n.NotInRegistry {
			n.lines[1] = strings.TrimSpace(n.lines[1] + " 未在登记库")
		}
		n.w = math.Max(nodeMinW, math.Max(textWidth(n.lines[0], charW, asciiW), textWidth(n.lines[1], 12, 6.6))+2*nodePadX)
		n.h = nodeH
	}

	// Columns' widths and heights; rows centred.
	ncol := len(keys)
	colW := make([]float64, ncol)
	colNodes := make([][]*laidNode, ncol)
	for _, n := range nodes {
		colW[n.col] = math.Max(colW[n.col], n.w)
		colNodes[n.col] = append(colNodes[n.col], n)
	}
	maxRows := 0
	for _, c := range colNodes {
		// A controller heads its column: its holdings run down from it.
		sort.SliceStable(c, func(i, j int) bool {
			if controllers[c[i].ID] != controllers[c[j].ID] {
				return controllers[c[i].ID]
			}
			if (c[i].Kind == "enterprise") != (c[j].Kind == "enterprise") {
				return c[i].Kind == "enterprise"
			}
			return c[i].Name < c[j].Name
		})
		maxRows = max(maxRows, len(c))
	}
	// Edges that skip columns arc above the nodes between; reserve room for them.
	arcs := 0
	for _, e := range edges {
		if a, b := byID[e.From], byID[e.To]; a != nil && b != nil && abs(a.col-b.col) > 1 {
			arcs++
		}
	}
	// Room above the nodes for their badges, and for the arcs and their labels.
	above := badgeH + 10
	if arcs > 0 {
		above = badgeH + arcTop + float64(min(arcs, 6)-1)*arcStep + 12
	}
	top := graphMargin + above
	areaH := float64(maxRows)*nodeH + float64(max(0, maxRows-1))*rowGap
	// A gap between neighbouring columns fits the widest label of an edge across it.
	gaps := make([]float64, ncol)
	for i := range gaps {
		gaps[i] = colGap
	}
	for _, e := range edges {
		a, c := byID[e.From], byID[e.To]
		if a == nil || c == nil || abs(a.col-c.col) != 1 {
			continue
		}
		g := min(a.col, c.col)
		gaps[g] = math.Max(gaps[g], textWidth(edgeLabel(e), 12, 6.8)+2*edgeLabelPad+40)
	}
	x := graphMargin
	for c := 0; c < ncol; c++ {
		h := float64(len(colNodes[c]))*nodeH + float64(max(0, len(colNodes[c])-1))*rowGap
		y := top + (areaH-h)/2
		for _, n := range colNodes[c] {
			n.x, n.y = x+(colW[c]-n.w)/2, y
			y += nodeH + rowGap
		}
		x += colW[c] + gaps[c]
	}
	return nodes, edges
}

func abs(v int) int {
	if v < 0 {
		return -v
	}
	return v
}

func orDash(s string) string {
	if s == "" {
		return "—"
	}
	return s
}

// maskedID shows the stored masked number; should a full number have arrived instead, it is
// masked here.
func maskedID(s string) string {
	if s == "" {
		return "未提供"
	}
	if strings.Contains(s, "*") {
		return s
	}
	return voucherwatch.MaskIDNumber(s)
}

// between says whether a node of a's column lies between a and c.
func between(nodes []*laidNode, a, c *laidNode) bool {
	lo, hi := math.Min(a.y, c.y), math.Max(a.y, c.y)
	for _, n := range nodes {
		if n != a && n != c && n.col == a.col && n.y > lo && n.y < hi {
			return true
		}
	}
	return false
}

func findSide(nodes []*laidNode, side, uscc string) *laidNode {
	for _, n := range nodes {
		if n.Side == side {
			return n
		}
	}
	for _, n := range nodes {
		if uscc != "" && n.USCC == uscc {
			return n
		}
	}
	return nil
}

// drawGraph writes the laid-out graph as SVG.
func drawGraph(nodes []*laidNode, edges []voucherwatch.EvidenceEdge) string {
	byID := map[string]*laidNode{}
	W, H := 0.0, 0.0
	for _, n := range nodes {
		byID[n.ID] = n
		W, H = math.Max(W, n.x+n.w), math.Max(H, n.y+n.h)
	}
	for _, e := range edges {
		if a, c := byID[e.From], byID[e.To]; a != nil && c != nil && a != c && a.col == c.col && between(nodes, a, c) {
			W = math.Max(W, math.Max(a.x+a.w, c.x+c.w)+60)
		}
	}
	W += graphMargin
	H += graphMargin + 10

	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" class="ev-graph" width="%.0f" height="%.0f" viewBox="0 0 %.0f %.0f" role="img" aria-label="%s">`,
		W, H, W, H, esc("关联关系图"))
	b.WriteString(`<title>关联关系图</title>`)
	b.WriteString(`<defs><marker id="ev-arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="8" markerHeight="8" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="#4a5968"/></marker></defs>`)
	b.WriteString(`<style>.ev-graph text{font-family:"PingFang SC","Microsoft YaHei","Noto Sans CJK SC",sans-serif;fill:#1f2d3d}` +
		`.ev-graph .ev-node rect{fill:#fff;stroke:#7f8c9a;stroke-width:1.2}` +
		`.ev-graph .ev-node-person rect{fill:#f4f0fb;stroke:#7a5fa8}` +
		`.ev-graph .ev-node-unknown rect{fill:#f4f4f4;stroke:#aaa;stroke-dasharray:4 3}` +
		`.ev-graph .ev-node-controller rect{fill:#fff8e6;stroke:#b26a00;stroke-width:1.6}` +
		`.ev-graph .ev-node-buyer rect{fill:#e8f1fb;stroke:#1f5fa8;stroke-width:2.4}` +
		`.ev-graph .ev-node-supplier rect{fill:#fdecea;stroke:#b3261e;stroke-width:2.4}` +
		`.ev-graph .ev-badge{font-size:12px;font-weight:bold}` +
		`.ev-graph .ev-node-buyer .ev-badge{fill:#1f5fa8}.ev-graph .ev-node-supplier .ev-badge{fill:#b3261e}.ev-graph .ev-node-controller .ev-badge{fill:#b26a00}` +
		`.ev-graph .ev-name{font-size:13px;font-weight:bold}.ev-graph .ev-sub{font-size:11px;fill:#5c6b7a}` +
		`.ev-graph .ev-edge path{fill:none;stroke-width:1.6}` +
		`.ev-graph .ev-edge-holds path{stroke:#1f4e8c}.ev-graph .ev-edge-officer path,.ev-graph .ev-edge-legal_rep path{stroke:#2e7d32}` +
		`.ev-graph .ev-edge-contact path,.ev-graph .ev-edge-bank_account path,.ev-graph .ev-edge-address path{stroke:#c75b00;stroke-dasharray:6 4}` +
		`.ev-graph .ev-elabel rect{fill:#fff;stroke:#d5dce4}.ev-graph .ev-elabel text{font-size:12px}</style>`)

	// Edges first, under the nodes; labels after the nodes, on top.
	type pair struct{ a, b string }
	count, index := map[pair]int{}, make([]int, len(edges))
	key := func(e voucherwatch.EvidenceEdge) pair {
		if e.From < e.To {
			return pair{e.From, e.To}
		}
		return pair{e.To, e.From}
	}
	for i, e := range edges {
		index[i] = count[key(e)]
		count[key(e)]++
	}
	var labelsSVG strings.Builder
	arcLevel := 0
	minTop := math.Inf(1)
	for _, n := range nodes {
		minTop = math.Min(minTop, n.y)
	}
	for i, e := range edges {
		a, c := byID[e.From], byID[e.To]
		if a == nil || c == nil || a == c {
			continue
		}
		// Endpoints on the facing sides of the two boxes.
		var x0, y0, x1, y1 float64
		switch {
		case a.col < c.col:
			x0, y0, x1, y1 = a.x+a.w, a.cy(), c.x, c.cy()
		case a.col > c.col:
			x0, y0, x1, y1 = a.x, a.cy(), c.x+c.w, c.cy()
		case a.y < c.y: // one column: from the upper box's bottom to the lower's top
			x0, y0, x1, y1 = a.cx(), a.y+a.h, c.cx(), c.y
		default:
			x0, y0, x1, y1 = a.cx(), a.y, c.cx(), c.y+c.h
		}
		n, k := count[key(e)], index[i]
		var qx, qy float64
		switch {
		case a.col == c.col && between(nodes, a, c):
			// Past the boxes between: leave and enter on the right, bowing out.
			x0, y0, x1, y1 = a.x+a.w, a.cy(), c.x+c.w, c.cy()
			qx, qy = math.Max(x0, x1)+70, (y0+y1)/2
		case a.col == c.col:
			qx, qy = (x0+x1)/2, (y0+y1)/2
		case abs(a.col-c.col) > 1:
			// Over the nodes between: a quadratic curve whose peak is above them.
			peak := minTop - badgeH - arcTop + 10 - float64(arcLevel%6)*arcStep
			arcLevel++
			qx, qy = (x0+x1)/2, 2*peak-(y0+y1)/2
		default:
			// Neighbours: straight, or fanned out when several edges join one pair.
			off := (float64(k) - float64(n-1)/2) * 36
			qx, qy = (x0+x1)/2, (y0+y1)/2+off
		}
		marker := ""
		if e.Kind == "holds" || e.Kind == "officer" || e.Kind == "legal_rep" || (e.Kind == "contact" && e.Role == "contact") {
			marker = ` marker-end="url(#ev-arrow)"`
		}
		fmt.Fprintf(&b, `<g class="ev-edge ev-edge-%s"><path d="M%.1f,%.1f Q%.1f,%.1f %.1f,%.1f"%s><title>%s</title></path></g>`,
			classOf(e.Kind), x0, y0, qx, qy, x1, y1, marker, esc(edgeLabel(e)+" "+edgeDetail(e)))
		// The label at the curve's midpoint.
		mx, my := (x0+2*qx+x1)/4, (y0+2*qy+y1)/4
		text := edgeLabel(e)
		lw := textWidth(text, 12, 6.8) + 2*edgeLabelPad
		fmt.Fprintf(&labelsSVG, `<g class="ev-elabel"><rect x="%.1f" y="%.1f" width="%.1f" height="18" rx="3"/><text x="%.1f" y="%.1f" text-anchor="middle">%s</text></g>`,
			mx-lw/2, my-9, lw, mx, my+4.5, esc(text))
	}
	for _, n := range nodes {
		fmt.Fprintf(&b, `<g class="ev-node %s">`, n.class)
		fmt.Fprintf(&b, `<rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" rx="%d"/>`, n.x, n.y, n.w, n.h, map[bool]int{true: 22, false: 4}[n.Kind == "person"])
		if n.badge != "" {
			fmt.Fprintf(&b, `<text class="ev-badge" x="%.1f" y="%.1f" text-anchor="middle">%s</text>`, n.cx(), n.y-7, esc(n.badge))
		}
		if n.lines[1] == "" {
			fmt.Fprintf(&b, `<text class="ev-name" x="%.1f" y="%.1f" text-anchor="middle">%s</text>`, n.cx(), n.cy()+5, esc(n.lines[0]))
		} else {
			fmt.Fprintf(&b, `<text class="ev-name" x="%.1f" y="%.1f" text-anchor="middle">%s</text>`, n.cx(), n.y+21, esc(n.lines[0]))
			fmt.Fprintf(&b, `<text class="ev-sub" x="%.1f" y="%.1f" text-anchor="middle">%s</text>`, n.cx(), n.y+39, esc(n.lines[1]))
		}
		b.WriteString("</g>")
	}
	b.WriteString(labelsSVG.String())
	b.WriteString("</svg>")
	return b.String()
}
