package detectors

import (
	"context"
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/voucherwatch/voucherwatch"
	"github.com/voucherwatch/voucherwatch/rules"
)

// RelatedParty finds buyers and suppliers that trade with each other although they are related
// (二 / D4): by investment either way, by a common controller, by integrated ownership through
// chains of holdings, or by sharing officers, bank accounts, contacts or addresses.
//
// It raises one alert per trading pair, whatever the number of ties: the pair is what a
// reviewer judges and what the policy forbids. The alert's kind is its strongest tie, its
// severity the highest of them, and its evidence lists every tie with the graph of the
// enterprises, people and holdings involved.
type RelatedParty struct {
	env Env

	// The graph of the registry as last read, for checks of new trades: a contract does not
	// change the registry. Guarded by mu; the graph computes inverses lazily.
	mu      sync.Mutex
	graph   *entityGraph
	cities  map[string]string
	graphAt time.Time // when the registry was read
}

// NewRelatedParty builds the related_party detector.
func NewRelatedParty(env Env) *RelatedParty { return &RelatedParty{env: env} }

var _ voucherwatch.IncrementalDetector = (*RelatedParty)(nil)

// Name is "related_party".
func (d *RelatedParty) Name() string { return voucherwatch.DetectorRelatedParty }

// Kinds are the kinds its alerts may carry (voucherwatch.AlertKinds has their labels).
func (d *RelatedParty) Kinds() []string {
	return append([]string(nil), relatedKindOrder...)
}

// Kinds of related_party alerts, strongest first: a pair's alert takes the first kind among
// its ties of the highest severity.
const (
	KindDirectStake         = "direct_stake"         // one holds shares of the other, any size
	KindCommonController    = "common_controller"    // one ultimate controller over both (or one controls the other)
	KindSharedOfficer       = "shared_officer"       // one person an officer on both sides
	KindSharedBankAccount   = "shared_bank_account"  // one account registered by both
	KindIntegratedOwnership = "integrated_ownership" // direct and indirect holdings above the policy's threshold
	KindSharedContact       = "shared_contact"       // one contact phone, e-mail or contact person
	KindSharedAddress       = "shared_address"       // one address: a hint, not proof
)

var relatedKindOrder = []string{KindDirectStake, KindCommonController, KindSharedOfficer,
	KindSharedBankAccount, KindIntegratedOwnership, KindSharedContact, KindSharedAddress}

const relatedClause = "二 / D4"

// Run evaluates the detector over the latest registry version of every enterprise and every
// buyer–supplier pair that trades (contracts, settlements, claims). at only stamps the
// alerts: a tie counts as the registry stands now, whenever the trade was.
func (d *RelatedParty) Run(ctx context.Context, at time.Time) ([]voucherwatch.Alert, error) {
	g, cities, readAt, err := d.readGraph(ctx)
	if err != nil {
		return nil, err
	}
	pairs, err := relatedLoadPairs(ctx, d.env.reads(), voucherwatch.PairQuery{All: true})
	if err != nil {
		return nil, err
	}
	alerts := relatedAlerts(g, pairs, d.env.Policy.RelatedParty, cities, at)
	d.keepGraph(g, cities, readAt)
	return alerts, nil
}

// Check returns the alerts of the trading pairs that new contracts, settlements and claims
// touch, each as Run returns it: the pair itself, looked up by its keys, against the graph of
// the registry as last read (the graph neighbourhood of the pair: holdings chains,
// controllers, people and attributes). A new registry record can change the ties, controllers
// and graph node names of any pair in its ownership group, and the numbering of enterprises
// and people without identifiers everywhere, so it re-reads the registry and checks every
// pair.
func (d *RelatedParty) Check(ctx context.Context, at time.Time, changed voucherwatch.Changes) ([]voucherwatch.Alert, error) {
	rm := d.env.reads()
	q := voucherwatch.PairQuery{Pairs: changed.PairList()}
	if len(changed.Claims) > 0 {
		claims, err := rm.LatestClaims(ctx, voucherwatch.ClaimQuery{IDs: changed.ClaimIDs()})
		if err != nil {
			return nil, fmt.Errorf("detectors: related_party: %w", err)
		}
		for _, c := range claims {
			q.Buyers = append(q.Buyers, c.ApplicantUSCC)
		}
	}
	if len(changed.Enterprises) > 0 {
		q = voucherwatch.PairQuery{All: true}
	}
	if q.IsZero() {
		return nil, nil
	}
	d.mu.Lock()
	g, cities := d.graph, d.cities
	d.mu.Unlock()
	if g == nil || len(changed.Enterprises) > 0 {
		var (
			readAt time.Time
			err    error
		)
		if g, cities, readAt, err = d.readGraph(ctx); err != nil {
			return nil, err
		}
		defer d.keepGraph(g, cities, readAt)
	}
	pairs, err := relatedLoadPairs(ctx, rm, q)
	if err != nil {
		return nil, err
	}
	// The cached graph computes inverses lazily: one evaluation at a time.
	d.mu.Lock()
	defer d.mu.Unlock()
	return relatedAlerts(g, pairs, d.env.Policy.RelatedParty, cities, at), nil
}

// Warm reads the registry's graph for the checks, unless a run or check has kept one.
func (d *RelatedParty) Warm(ctx context.Context) error {
	d.mu.Lock()
	kept := d.graph != nil
	d.mu.Unlock()
	if kept {
		return nil
	}
	g, cities, readAt, err := d.readGraph(ctx)
	if err != nil {
		return err
	}
	d.keepGraph(g, cities, readAt)
	return nil
}

// readGraph reads the registry and builds its graph; readAt is when the read began.
func (d *RelatedParty) readGraph(ctx context.Context) (g *entityGraph, cities map[string]string, readAt time.Time, err error) {
	readAt = time.Now()
	ents, err := relatedLoadRegistry(ctx, d.env.reads())
	if err != nil {
		return nil, nil, readAt, err
	}
	cities = make(map[string]string, len(ents))
	for i := range ents {
		cities[ents[i].USCC] = ents[i].City
	}
	return buildEntityGraph(ents, relatedControlPct(d.env.Policy.RelatedParty)), cities, readAt, nil
}

// keepGraph keeps g for checks unless a graph of a later read is kept already.
func (d *RelatedParty) keepGraph(g *entityGraph, cities map[string]string, readAt time.Time) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.graph == nil || !readAt.Before(d.graphAt) {
		d.graph, d.cities, d.graphAt = g, cities, readAt
	}
}

// relatedAlerts checks the pairs against the graph.
func relatedAlerts(g *entityGraph, pairs []tradingPair, r rules.RelatedPartyRules, cities map[string]string, at time.Time) []voucherwatch.Alert {
	var alerts []voucherwatch.Alert
	for i := range pairs {
		if f, ok := g.relatedFinding(&pairs[i], r); ok {
			alerts = append(alerts, f.alert(cities, at))
		}
	}
	if alerts == nil {
		alerts = []voucherwatch.Alert{}
	}
	return alerts
}

// tradingPair is a buyer and a supplier that trade, with the contracts and claims between them.
type tradingPair struct {
	Buyer, Supplier string
	Contracts       []string
	Claims          []string
}

// detectRelated is the detector without its database: the graph of ents, and the ties of every
// pair.
func detectRelated(ents []voucherwatch.Entity, pairs []tradingPair, r rules.RelatedPartyRules) []finding {
	g := buildEntityGraph(ents, relatedControlPct(r))
	var out []finding
	for i := range pairs {
		if f, ok := g.relatedFinding(&pairs[i], r); ok {
			out = append(out, f)
		}
	}
	return out
}

func relatedControlPct(r rules.RelatedPartyRules) float64 {
	if r.ControlThreshold <= 0 {
		return 50
	}
	return r.ControlThreshold * 100
}

// relatedTie is one way a buyer and a supplier are related.
type relatedTie = voucherwatch.RelatedTie

// graphNode and graphEdge are the evidence graph, ready to be drawn.
type (
	graphNode = voucherwatch.EvidenceNode
	graphEdge = voucherwatch.EvidenceEdge
)

// evidenceGraph is the graph of an alert while it is built: seen keeps nodes and edges once.
type evidenceGraph struct {
	voucherwatch.EvidenceGraph
	seen map[string]bool
}

func (g *entityGraph) nodeID(x nodeRef) string {
	if x.isPerson() {
		p := g.people[x.person()]
		if p.key != "" {
			return personNodePrefix + p.key // labelPeople replaces it (related_labels.go)
		}
		return "person#" + strconv.Itoa(int(x.person()))
	}
	if u := g.ents[x].uscc; u != "" {
		return u
	}
	return "enterprise#" + strconv.Itoa(int(x))
}

func (g *entityGraph) label(x nodeRef) string {
	if x.isPerson() {
		p := g.people[x.person()]
		if p.masked != "" {
			return p.name + "（" + p.masked + "）"
		}
		return p.name
	}
	e := g.ents[x]
	if e.name != "" {
		return e.name
	}
	return e.uscc
}

func (ev *evidenceGraph) node(g *entityGraph, x nodeRef, side string) string {
	id := g.nodeID(x)
	if ev.seen == nil {
		ev.seen = map[string]bool{}
	}
	if ev.seen["n"+id] {
		return id
	}
	ev.seen["n"+id] = true
	n := graphNode{ID: id, Side: side}
	if x.isPerson() {
		p := g.people[x.person()]
		n.Kind, n.Name, n.MaskedID = "person", p.name, p.masked
	} else {
		e := g.ents[x]
		n.Kind, n.Name, n.USCC, n.NotInRegistry = "enterprise", e.name, e.uscc, !e.inRegistry
	}
	ev.Nodes = append(ev.Nodes, n)
	return id
}

func (ev *evidenceGraph) edge(e graphEdge) {
	if ev.seen == nil {
		ev.seen = map[string]bool{}
	}
	k := "e" + e.From + "\x1f" + e.To + "\x1f" + e.Kind + "\x1f" + e.Role + "\x1f" + e.Value
	if ev.seen[k] {
		return
	}
	ev.seen[k] = true
	ev.Edges = append(ev.Edges, e)
}

// holds adds the holding holder → held to the evidence and returns its phrase.
func (ev *evidenceGraph) holds(g *entityGraph, holder nodeRef, held int32, pct float64) string {
	ev.edge(graphEdge{From: ev.node(g, holder, ""), To: ev.node(g, nodeRef(held), ""), Kind: "holds", Pct: voucherwatch.RoundTo(pct, 2)})
	return g.label(holder) + "持有" + g.label(nodeRef(held)) + " " + percentText(pct)
}

// relatedFinding checks one pair and, when it is related, returns the finding.
func (g *entityGraph) relatedFinding(p *tradingPair, r rules.RelatedPartyRules) (finding, bool) {
	b, okb := g.byUSCC[p.Buyer]
	s, oks := g.byUSCC[p.Supplier]
	if !okb || !oks || b == s {
		return finding{}, false
	}
	var scratch evidenceGraph // stays on the stack for the many pairs without a tie
	ties := g.pairTies(b, s, r, &scratch)
	if len(ties) == 0 {
		return finding{}, false
	}
	ev := new(evidenceGraph)
	*ev = scratch
	sort.SliceStable(ties, func(i, j int) bool {
		if ri, rj := relatedSeverityRank(ties[i].Severity), relatedSeverityRank(ties[j].Severity); ri != rj {
			return ri > rj
		}
		return relatedKindRank(ties[i].Kind) < relatedKindRank(ties[j].Kind)
	})
	top := ties[0]
	score := top.Score
	for _, t := range ties[1:] {
		score += 0.02 * t.Score
	}
	score = math.Min(0.99, score)
	summaries := make([]string, len(ties))
	for i, t := range ties {
		summaries[i] = t.Summary
	}
	summary := strings.Join(summaries, "；")
	buyer, supplier := g.ents[b], g.ents[s]
	reason := fmt.Sprintf("需求方%s（%s）与其供应商%s（%s）存在关联关系：%s。《湖南省算力券补贴政策实施细则》二 / D4 要求供需双方不存在直接投资、隶属、共建、产权纽带等关联关系。",
		buyer.name, buyer.uscc, supplier.name, supplier.uscc, summary)
	if top.Severity == voucherwatch.SeverityLow {
		reason += "该线索本身不足以认定关联，需核实。"
	}
	lbs, lsb := g.integrated(b, s), g.integrated(s, b)
	controllers := map[string]string{"buyer": g.nodeID(g.ult[b]), "supplier": g.nodeID(g.ult[s])}
	labelPeople(ev, ties, controllers)
	evidence := voucherwatch.RelatedPartyEvidence{
		Buyer:    voucherwatch.EvidenceParty{USCC: buyer.uscc, Name: buyer.name},
		Supplier: voucherwatch.EvidenceParty{USCC: supplier.uscc, Name: supplier.name},
		Ties:     ties,
		Graph:    ev.EvidenceGraph,
		Summary:  summary,
		IntegratedOwnership: voucherwatch.IntegratedOwnership{
			BuyerInSupplier: voucherwatch.RoundTo(lbs, 4), SupplierInBuyer: voucherwatch.RoundTo(lsb, 4),
		},
		Controllers: controllers,
		Contracts:   p.Contracts,
		Claims:      p.Claims,
	}
	return finding{
		Detector:     voucherwatch.DetectorRelatedParty,
		Kind:         top.Kind,
		Severity:     top.Severity,
		Score:        voucherwatch.RoundTo(score, 4),
		Subjects:     voucherwatch.Subjects{ApplicantUSCC: buyer.uscc, SupplierUSCC: supplier.uscc},
		PolicyClause: relatedClause,
		Title:        "供需双方存在关联关系：" + voucherwatch.KindLabel(voucherwatch.DetectorRelatedParty, top.Kind) + "（《实施细则》二 / D4）",
		Reason:       reason,
		Typed:        voucherwatch.EvidenceOf(evidence),
	}, true
}

func relatedSeverityRank(s voucherwatch.Severity) int {
	switch s {
	case voucherwatch.SeverityHigh:
		return 3
	case voucherwatch.SeverityMedium:
		return 2
	case voucherwatch.SeverityLow:
		return 1
	}
	return 0
}

func relatedKindRank(k string) int {
	for i, x := range relatedKindOrder {
		if x == k {
			return i
		}
	}
	return len(relatedKindOrder)
}

// pairTies returns every tie between buyer b and supplier s, adding what each rests on to ev.
func (g *entityGraph) pairTies(b, s int32, r rules.RelatedPartyRules, ev *evidenceGraph) []relatedTie {
	var ties []relatedTie
	side := func(x int32) string {
		switch x {
		case b:
			return "buyer"
		case s:
			return "supplier"
		}
		return ""
	}
	// Lazily: most pairs have no tie, and their check must stay cheap.
	mark := func() {
		if len(ev.Nodes) == 0 {
			ev.node(g, nodeRef(b), side(b))
			ev.node(g, nodeRef(s), side(s))
		}
	}

	// Direct investment either way, any size.
	if pbs, psb := g.directStake(b, s), g.directStake(s, b); pbs > 0 || psb > 0 {
		mark()
		var parts []string
		var facts voucherwatch.TieFacts
		if pbs > 0 {
			parts = append(parts, ev.holds(g, nodeRef(b), s, pbs))
			facts.BuyerInSupplierPct = voucherwatch.RoundTo(pbs, 2)
		}
		if psb > 0 {
			parts = append(parts, ev.holds(g, nodeRef(s), b, psb))
			facts.SupplierInBuyerPct = voucherwatch.RoundTo(psb, 2)
		}
		text := strings.Join(parts, "，")
		if pbs > 0 && psb > 0 {
			text += "（相互持股）"
			facts.CrossHolding = true
		}
		ties = append(ties, relatedTie{Kind: KindDirectStake, Severity: voucherwatch.SeverityHigh, Score: 0.95,
			Summary: text + "：双方存在直接投资关系", Facts: facts})
	}

	// One ultimate controller over both; or one of them controls the other.
	if u := g.ult[b]; u == g.ult[s] {
		mark()
		var sides []string
		for _, y := range []int32{b, s} {
			if nodeRef(y) == u {
				continue
			}
			chain := g.controlChain(y, u)
			var parts []string
			// Top down: the controller's holdings first.
			for k := len(chain) - 1; k >= 0; k-- {
				c := chain[k]
				parts = append(parts, ev.holds(g, c.holder, c.held, c.pct))
			}
			who := "需求方一侧："
			if y == s {
				who = "供应商一侧："
			}
			sides = append(sides, who+strings.Join(uniqueInOrder(parts), "，"))
		}
		ev.node(g, u, "")
		var text string
		switch u {
		case nodeRef(b):
			text = "需求方" + g.label(u) + "控制供应商"
		case nodeRef(s):
			text = "供应商" + g.label(u) + "控制需求方"
		default:
			text = "双方的实际控制人同为" + g.label(u)
		}
		ties = append(ties, relatedTie{Kind: KindCommonController, Severity: voucherwatch.SeverityHigh, Score: 0.95,
			Summary: strings.Join(sides, "；") + "：" + text,
			Facts:   voucherwatch.TieFacts{Controller: g.nodeID(u), ControllerName: g.label(u)}})
	}

	// Integrated ownership through chains and cross-holdings.
	threshold := r.IntegratedOwnershipThreshold
	if threshold <= 0 {
		threshold = 0.2
	}
	control := relatedControlPct(r) / 100
	for _, dir := range [][2]int32{{b, s}, {s, b}} {
		from, to := dir[0], dir[1]
		// Only pairs with an indirect route can exceed what the direct stake says.
		if len(g.holdings[from]) == 0 || !g.hasEnterpriseHolder(to) {
			continue
		}
		v := g.integrated(from, to)
		direct := 0.0
		for _, h := range g.holders[to] {
			if h.node == nodeRef(from) {
				direct += g.share(h, to)
			}
		}
		if v <= threshold || v-direct < 1e-6 {
			continue
		}
		mark()
		paths := g.stakePaths(from, to, 8, 0.001, 5)
		var chains []string
		var chainIDs [][]string
		for _, p := range paths {
			var parts []string
			ids := make([]string, len(p.nodes))
			for k := range p.nodes {
				ids[k] = g.nodeID(nodeRef(p.nodes[k]))
				if k+1 < len(p.nodes) {
					parts = append(parts, ev.holds(g, nodeRef(p.nodes[k]), p.nodes[k+1], p.pcts[k]))
				}
			}
			chains = append(chains, strings.Join(parts, "，")+"（该路径 "+percentText(p.product*100)+"）")
			chainIDs = append(chainIDs, ids)
		}
		directPart := voucherwatch.RoundTo(direct, 4)
		sev, score := voucherwatch.SeverityMedium, 0.6+0.3*math.Min(1, (v-threshold)/math.Max(1e-9, control-threshold))
		if v > control {
			sev, score = voucherwatch.SeverityHigh, 0.93
		}
		who := "需求方对供应商"
		if from == s {
			who = "供应商对需求方"
		}
		ties = append(ties, relatedTie{Kind: KindIntegratedOwnership, Severity: sev, Score: voucherwatch.RoundTo(score, 4),
			Summary: strings.Join(chains, "；") + "：" + who + "的综合（直接与间接）持股比例为 " + percentText(v*100) +
				"，超过 " + percentText(threshold*100),
			Facts: voucherwatch.TieFacts{Holder: g.nodeID(nodeRef(from)), Held: g.nodeID(nodeRef(to)),
				Integrated: voucherwatch.RoundTo(v, 4), Direct: &directPart, Threshold: threshold, Paths: chainIDs}})
	}

	// The same person (by identity key, never by name) on both sides.
	people, rb, rs := g.sharedRoles(b, s)
	for k, p := range people {
		ob, hb, cb := relatedRoleSet(rb[k])
		os, hs, cs := relatedRoleSet(rs[k])
		var kind string
		var sev voucherwatch.Severity
		var score float64
		switch {
		case ob && os:
			kind, sev, score = KindSharedOfficer, voucherwatch.SeverityHigh, 0.9
		case (ob && hs) || (hb && os):
			kind, sev, score = KindSharedOfficer, voucherwatch.SeverityMedium, 0.65
		case (cb && (os || hs || cs)) || (cs && (ob || hb)):
			kind, sev, score = KindSharedContact, voucherwatch.SeverityMedium, 0.6
		default:
			continue // a shareholder of both and nothing more is no tie, as a fund's minority stakes are not
		}
		mark()
		pn := personNode(p)
		ev.node(g, pn, "")
		describe := func(x int32, rs []personRole) string {
			var names []string
			for _, pr := range rs {
				edge := "officer"
				switch pr.role {
				case roleLegalRep:
					edge = "legal_rep"
				case roleHolder:
					edge = "holds"
				case roleContact:
					edge = "contact"
				}
				ev.edge(graphEdge{From: g.nodeID(pn), To: g.nodeID(nodeRef(x)), Kind: edge, Role: graphRoleNames[pr.role], Pct: voucherwatch.RoundTo(pr.pct, 2)})
				name := voucherwatch.OfficerRoleLabel(graphRoleNames[pr.role])
				if pr.role == roleHolder {
					name += " " + percentText(pr.pct)
				}
				names = append(names, name)
			}
			return strings.Join(names, "、")
		}
		text := g.label(pn) + "任需求方" + g.label(nodeRef(b)) + describe(b, rb[k]) + "，又任供应商" + g.label(nodeRef(s)) + describe(s, rs[k])
		ties = append(ties, relatedTie{Kind: kind, Severity: sev, Score: score, Summary: text + "（同一证件）",
			Facts: voucherwatch.TieFacts{Person: g.nodeID(pn), Name: g.people[p].name, MaskedID: g.people[p].masked,
				BuyerRoles: relatedRoleList(rb[k]), SupplierRoles: relatedRoleList(rs[k])}})
	}

	// Shared accounts, contact phones and e-mails, addresses.
	for _, a := range g.sharedAttrs(b, s) {
		k, id := graphAttrOf(a)
		v := g.attrVals[id]
		mark()
		switch k {
		case graphAttrAccount:
			ev.edge(graphEdge{From: g.nodeID(nodeRef(b)), To: g.nodeID(nodeRef(s)), Kind: "bank_account", Value: v})
			ties = append(ties, relatedTie{Kind: KindSharedBankAccount, Severity: voucherwatch.SeverityHigh, Score: 0.9,
				Summary: "双方登记了同一银行账户 " + v, Facts: voucherwatch.TieFacts{AccountNo: v}})
		case graphAttrPhone, graphAttrEmail:
			// The alert shows a person's phone or e-mail only in part, as every page does:
			// enough to recognise it in the registry, not to call the person.
			what, fact, shown := "联系电话", "phone", voucherwatch.MaskPhone(v)
			facts := voucherwatch.TieFacts{Phone: shown}
			if k == graphAttrEmail {
				what, fact, shown = "电子邮箱", "email", voucherwatch.MaskEmail(v)
				facts = voucherwatch.TieFacts{Email: shown}
			}
			ev.edge(graphEdge{From: g.nodeID(nodeRef(b)), To: g.nodeID(nodeRef(s)), Kind: "contact", Role: fact, Value: shown})
			ties = append(ties, relatedTie{Kind: KindSharedContact, Severity: voucherwatch.SeverityMedium, Score: 0.6,
				Summary: "双方登记的" + what + "相同：" + shown, Facts: facts})
		case graphAttrAddress:
			ev.edge(graphEdge{From: g.nodeID(nodeRef(b)), To: g.nodeID(nodeRef(s)), Kind: "address", Value: v})
			ties = append(ties, relatedTie{Kind: KindSharedAddress, Severity: voucherwatch.SeverityLow, Score: 0.3,
				Summary: "双方登记的地址相同：" + v, Facts: voucherwatch.TieFacts{Address: v}})
		}
	}
	return ties
}

// relatedRoleSet says whether the roles include an officer's (legal rep, director, supervisor,
// manager), a shareholding, and a contact's.
func relatedRoleSet(rs []personRole) (officer, holder, contact bool) {
	for _, r := range rs {
		switch r.role {
		case roleHolder:
			holder = true
		case roleContact:
			contact = true
		default:
			officer = true
		}
	}
	return
}

func relatedRoleList(rs []personRole) []string {
	out := make([]string, len(rs))
	for i, r := range rs {
		out[i] = graphRoleNames[r.role]
	}
	return out
}

// relatedLoadRegistry reads the latest registry version of every enterprise, the parts the graph
// needs. A legal representative with neither a name nor an identity key is no one the graph
// can place.
func relatedLoadRegistry(ctx context.Context, rm voucherwatch.ReadModel) ([]voucherwatch.Entity, error) {
	stored, err := rm.LatestEntities(ctx)
	if err != nil {
		return nil, fmt.Errorf("detectors: related_party: %w", err)
	}
	out := make([]voucherwatch.Entity, len(stored))
	for i := range stored {
		e := stored[i].Entity
		if e.LegalRep != nil && e.LegalRep.Name == "" && e.LegalRep.Key == "" {
			e.LegalRep = nil
		}
		out[i] = e
	}
	return out, nil
}

// relatedLoadPairs reads the trading pairs q selects, sorted by buyer and supplier.
func relatedLoadPairs(ctx context.Context, rm voucherwatch.ReadModel, q voucherwatch.PairQuery) ([]tradingPair, error) {
	ps, err := rm.TradingPairs(ctx, q)
	if err != nil {
		return nil, fmt.Errorf("detectors: related_party: %w", err)
	}
	out := make([]tradingPair, len(ps))
	for i, p := range ps {
		out[i] = tradingPair(p)
	}
	return out, nil
}
