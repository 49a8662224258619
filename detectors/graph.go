package detectors

import (
	"cmp"
	"math"
	"slices"
	"sort"
	"strings"
	"unicode"
	"unicode/utf8"

	"gonum.org/v1/gonum/mat"

	"github.com/voucherwatch/voucherwatch"
)

// This file holds the entity graph that related_party works on, and its ownership maths. It is
// pure Go: the detector loads the registry and the trading pairs with SQL and hands them here,
// so the graph can be built and benchmarked without a database.
//
// The graph has two kinds of nodes, enterprises (by USCC) and people (by Person.Key, never by
// name), and these edges: shareholdings with their percentages (enterprise or person holders),
// officer and legal-representative roles, and the attributes two enterprises can share:
// contact phones and e-mails, bank accounts, normalised addresses.

// nodeRef names a node: an enterprise index (≥ 0) or a person index p as −1 − p.
type nodeRef int32

func personNode(p int32) nodeRef { return nodeRef(-1 - p) }

func (n nodeRef) isPerson() bool { return n < 0 }

func (n nodeRef) person() int32 { return int32(-1 - n) }

// graphStake is one shareholding edge. In an enterprise's holders, node is the holder; in its
// holdings, node is the enterprise held. pct is the share as registered (0..100).
type graphStake struct {
	node nodeRef
	pct  float64
}

// graphEnterprise is an enterprise node. Enterprises that appear only as holders get a node
// too (inRegistry false); a holder without a USCC (a foreign investor) gets a node of its own
// that nothing else can match.
type graphEnterprise struct {
	uscc       string
	name       string
	inRegistry bool
}

// graphPerson is a person node. Key is empty for a person the sender gave no identity number
// for: such a person has a node of their own (their stake still counts for control) but
// matches nobody.
type graphPerson struct {
	key, name, masked string
}

// graphRole is what a person is to an enterprise.
type graphRole uint8

const (
	roleLegalRep graphRole = iota + 1
	roleDirector
	roleSupervisor
	roleManager
	roleHolder
	roleContact
)

var graphRoleNames = map[graphRole]string{
	roleLegalRep: "legal_rep", roleDirector: "director", roleSupervisor: "supervisor",
	roleManager: "manager", roleHolder: "holder", roleContact: "contact",
}

var graphRoleZh = map[graphRole]string{
	roleLegalRep: "法定代表人", roleDirector: "董事", roleSupervisor: "监事",
	roleManager: "经理", roleHolder: "股东", roleContact: "联系人",
}

func graphOfficerRole(s string) graphRole {
	switch s {
	case "legal_rep":
		return roleLegalRep
	case "director":
		return roleDirector
	case "supervisor":
		return roleSupervisor
	case "manager":
		return roleManager
	}
	return 0
}

// personRole is one role of a keyed person in an enterprise.
type personRole struct {
	person int32
	role   graphRole
	pct    float64 // for roleHolder
}

// graphAttrKind is the kind of an attribute two enterprises may share.
type graphAttrKind uint64

const (
	graphAttrPhone graphAttrKind = iota + 1
	graphAttrEmail
	graphAttrAccount
	graphAttrAddress
)

var graphAttrPrefix = [...]string{graphAttrPhone: "p:", graphAttrEmail: "e:", graphAttrAccount: "a:", graphAttrAddress: "d:"}

// entityGraph is the graph of the latest registry version of every enterprise.
type entityGraph struct {
	ents   []graphEnterprise
	byUSCC map[string]int32
	people []graphPerson
	byKey  map[string]int32

	holders  [][]graphStake // per enterprise: who holds it
	holdings [][]graphStake // per enterprise: the enterprises it holds
	scale    []float64      // per enterprise: 1, or 100/Σ shares when its holders sum above 100 %
	roles    [][]personRole // per enterprise, sorted by person
	attrs    [][]uint64     // per enterprise, sorted: kind<<32 | value id
	attrVals []string       // value id → the value as the first enterprise with it registered it

	controlPct float64   // more than this (percent) controls
	ult        []nodeRef // per enterprise: its ultimate controller, itself when none

	// Integrated ownership. Only enterprises that both hold and are held by enterprises can
	// carry ownership through (the core); the core's connected components are small, and each
	// gets its own Leontief inverse, computed when a trading pair first needs it.
	denseLimit int       // largest component inverted densely
	comp       []int32   // per enterprise: core component, −1 outside the core
	local      []int32   // per enterprise: index within its component
	members    [][]int32 // per component
	inverses   map[int32]*leontief
}

// denseComponentLimit is the largest core component whose Leontief inverse is computed as a
// dense matrix (n² floats); larger ones are walked row by row with a truncated power series.
const denseComponentLimit = 400

// buildEntityGraph builds the graph of the given enterprises. controlPct is the share (percent)
// above which a holder controls an enterprise: 50 under the policy.
func buildEntityGraph(ents []voucherwatch.Entity, controlPct float64) *entityGraph {
	g := &entityGraph{
		ents:       make([]graphEnterprise, 0, len(ents)),
		byUSCC:     make(map[string]int32, len(ents)),
		controlPct: controlPct,
		denseLimit: denseComponentLimit,
		inverses:   map[int32]*leontief{},
	}
	first := make([]int32, 0, len(ents)) // per enterprise node: its entity, the first with its USCC
	for i := range ents {
		e := &ents[i]
		if _, dup := g.byUSCC[e.USCC]; dup || e.USCC == "" {
			continue // registry_latest has one row per USCC; a repeat here is ignored
		}
		g.byUSCC[e.USCC] = int32(len(g.ents))
		g.ents = append(g.ents, graphEnterprise{uscc: e.USCC, name: e.Name, inRegistry: true})
		first = append(first, int32(i))
	}
	n := len(g.ents)
	g.holders = make([][]graphStake, n, n+n/8)
	g.roles = make([][]personRole, n, n+n/8)
	g.attrs = make([][]uint64, n, n+n/8)

	// Size the indexes once: people and attribute values are about half their mentions (a
	// legal representative is also an officer and often a holder).
	mentions, values := 0, 0
	for _, i := range first {
		e := &ents[i]
		mentions += 1 + len(e.Officers) + len(e.Contacts) + len(e.Shareholders)
		values += 2 + len(e.BankAccounts) + 2*(1+len(e.Officers)+len(e.Contacts))
	}
	g.byKey = make(map[string]int32, mentions/2)
	g.people = make([]graphPerson, 0, mentions/2)
	g.attrVals = make([]string, 0, values/2)
	attrIDs := make(map[string]uint32, values/2)
	var buf []byte

	// Every enterprise's roles, attributes and holders go into one array each, one enterprise
	// after the other; each enterprise's part is sliced out at the end. Three allocations in
	// all, instead of three per enterprise.
	flatRoles := make([]personRole, 0, 6*n)
	flatAttrs := make([]uint64, 0, 6*n)
	flatHolders := make([]graphStake, 0, 2*n)
	type span struct{ roles, attrs, holders [2]int }
	spans := make([]span, n)

	addAttr := func(k graphAttrKind, norm func([]byte, string) []byte, raw string) {
		if raw == "" {
			return
		}
		prefix := graphAttrPrefix[k]
		buf = norm(append(buf[:0], prefix...), raw)
		if len(buf) == len(prefix) {
			return
		}
		id, ok := attrIDs[string(buf)]
		if !ok {
			key := string(buf)
			id = uint32(len(g.attrVals))
			attrIDs[key] = id
			g.attrVals = append(g.attrVals, raw)
		}
		flatAttrs = append(flatAttrs, uint64(k)<<32|uint64(id))
	}
	addPerson := func(p *voucherwatch.Person, r graphRole, pct float64) {
		if p == nil {
			return
		}
		addAttr(graphAttrPhone, graphAppendPhone, p.Phone)
		addAttr(graphAttrEmail, graphAppendEmail, p.Email)
		if p.Key == "" {
			return
		}
		flatRoles = append(flatRoles, personRole{person: g.personIndex(p), role: r, pct: pct})
	}

	for j, i := range first {
		e := &ents[i]
		sp := &spans[j]
		sp.roles[0], sp.attrs[0], sp.holders[0] = len(flatRoles), len(flatAttrs), len(flatHolders)
		addPerson(e.LegalRep, roleLegalRep, 0)
		for k := range e.Officers {
			if r := graphOfficerRole(e.Officers[k].Role); r != 0 {
				addPerson(&e.Officers[k].Person, r, 0)
			}
		}
		for k := range e.Contacts {
			addPerson(&e.Contacts[k], roleContact, 0)
		}
		for _, a := range e.BankAccounts {
			addAttr(graphAttrAccount, graphAppendAccount, a.AccountNo)
		}
		addAttr(graphAttrAddress, graphAppendAddress, e.RegisteredAddress)
		addAttr(graphAttrAddress, graphAppendAddress, e.OfficeAddress)

		for k := range e.Shareholders {
			h := &e.Shareholders[k]
			if h.SharePct <= 0 {
				continue
			}
			var ref nodeRef
			switch {
			case h.Kind == "person":
				p := h.Person
				if p == nil || p.Key == "" {
					// Unknown but real: their stake counts against anyone else's control.
					anon := voucherwatch.Person{Name: h.Name}
					if p != nil {
						anon = *p
					}
					ref = personNode(g.anonymousPerson(anon))
				} else {
					ref = personNode(g.personIndex(p))
					flatRoles = append(flatRoles, personRole{person: ref.person(), role: roleHolder, pct: h.SharePct})
				}
			case h.USCC == "":
				ref = nodeRef(g.stubEnterprise("", h.Name))
			case h.USCC == e.USCC:
				continue // an enterprise's own shares (treasury stock) carry no tie
			default:
				hi, ok := g.byUSCC[h.USCC]
				if !ok {
					hi = g.stubEnterprise(h.USCC, h.Name)
				}
				ref = nodeRef(hi)
			}
			flatHolders = append(flatHolders, graphStake{node: ref, pct: h.SharePct})
		}
		sp.roles[1], sp.attrs[1], sp.holders[1] = len(flatRoles), len(flatAttrs), len(flatHolders)
	}
	for j := range spans {
		sp := &spans[j]
		g.roles[j] = graphSortRoles(flatRoles[sp.roles[0]:sp.roles[1]:sp.roles[1]])
		attrs := flatAttrs[sp.attrs[0]:sp.attrs[1]:sp.attrs[1]]
		slices.Sort(attrs)
		g.attrs[j] = slices.Compact(attrs)
		g.holders[j] = flatHolders[sp.holders[0]:sp.holders[1]:sp.holders[1]]
	}

	// Holdings: the holders turned around, in one array.
	n = len(g.ents)
	outDeg := make([]int32, n+1)
	for j := range g.holders {
		for _, h := range g.holders[j] {
			if !h.node.isPerson() {
				outDeg[h.node+1]++
			}
		}
	}
	for i := 1; i <= n; i++ {
		outDeg[i] += outDeg[i-1]
	}
	flatHoldings := make([]graphStake, outDeg[n])
	g.holdings = make([][]graphStake, n)
	for i := range g.holdings {
		g.holdings[i] = flatHoldings[outDeg[i]:outDeg[i]:outDeg[i+1]]
	}
	g.scale = make([]float64, n)
	for j := range g.holders {
		sum := 0.0
		for _, h := range g.holders[j] {
			sum += h.pct
			if !h.node.isPerson() {
				g.holdings[h.node] = append(g.holdings[h.node], graphStake{node: nodeRef(j), pct: h.pct})
			}
		}
		g.scale[j] = 1
		if sum > 100 {
			g.scale[j] = 100 / sum // registries carry stale, overlapping holdings
		}
	}
	g.computeControl()
	g.computeCore()
	return g
}

func (g *entityGraph) personIndex(p *voucherwatch.Person) int32 {
	if i, ok := g.byKey[p.Key]; ok {
		if g.people[i].masked == "" {
			g.people[i].masked = p.Masked
		}
		return i
	}
	i := int32(len(g.people))
	g.byKey[p.Key] = i
	g.people = append(g.people, graphPerson{key: p.Key, name: p.Name, masked: p.Masked})
	return i
}

func (g *entityGraph) anonymousPerson(p voucherwatch.Person) int32 {
	g.people = append(g.people, graphPerson{name: p.Name, masked: p.Masked})
	return int32(len(g.people) - 1)
}

func (g *entityGraph) stubEnterprise(uscc, name string) int32 {
	i := int32(len(g.ents))
	g.ents = append(g.ents, graphEnterprise{uscc: uscc, name: name})
	g.holders = append(g.holders, nil)
	g.roles = append(g.roles, nil)
	g.attrs = append(g.attrs, nil)
	if uscc != "" {
		g.byUSCC[uscc] = i
	}
	return i
}

func graphSortRoles(rs []personRole) []personRole {
	if len(rs) < 2 {
		return rs
	}
	slices.SortFunc(rs, func(a, b personRole) int {
		if c := cmp.Compare(a.person, b.person); c != 0 {
			return c
		}
		return cmp.Compare(a.role, b.role)
	})
	out := rs[:1]
	for _, r := range rs[1:] {
		if last := &out[len(out)-1]; last.person == r.person && last.role == r.role {
			last.pct += r.pct
			continue
		}
		out = append(out, r)
	}
	return out
}

// share is the fraction of j that holder h holds after scaling over-full registers, 0..1.
func (g *entityGraph) share(h graphStake, j int32) float64 { return h.pct / 100 * g.scale[j] }

// directStake returns the percentage of j that enterprise i holds as registered, 0 if none.
func (g *entityGraph) directStake(i, j int32) float64 {
	pct := 0.0
	for _, h := range g.holders[j] {
		if h.node == nodeRef(i) {
			pct += h.pct
		}
	}
	return pct
}

// computeControl finds every enterprise's ultimate controller. A holder controls an
// enterprise when it holds more than controlPct of it directly or together with the companies
// it controls; so each enterprise's holders are grouped by their own ultimate controller, and
// a group above the threshold controls it. The passes repeat until nothing changes (once per
// level of the deepest chain); cross-holdings that never settle stop after maxControlPasses.
func (g *entityGraph) computeControl() {
	n := len(g.ents)
	g.ult = make([]nodeRef, n)
	for i := range g.ult {
		g.ult[i] = nodeRef(i)
	}
	const maxControlPasses = 64
	type group struct {
		key nodeRef
		pct float64
	}
	var groups []group
	for pass := 0; pass < maxControlPasses; pass++ {
		changed := false
		for j := 0; j < n; j++ {
			hs := g.holders[j]
			if len(hs) == 0 {
				continue
			}
			groups = groups[:0]
			for _, h := range hs {
				key := h.node
				if !key.isPerson() {
					key = g.ult[key]
				}
				pct := h.pct * g.scale[j]
				found := false
				for k := range groups {
					if groups[k].key == key {
						groups[k].pct += pct
						found = true
						break
					}
				}
				if !found {
					groups = append(groups, group{key, pct})
				}
			}
			best := group{key: nodeRef(j)}
			for _, gr := range groups {
				if gr.pct > best.pct || (gr.pct == best.pct && gr.key < best.key) {
					best = gr
				}
			}
			next := nodeRef(j)
			if best.pct > g.controlPct+1e-9 {
				next = best.key
			}
			if g.ult[j] != next {
				g.ult[j] = next
				changed = true
			}
		}
		if !changed {
			break
		}
	}
	// A pointer into a controlled enterprise (left by a cycle of majority stakes) is followed
	// up to a top; a cycle is represented by its smallest member, so all of it shares one.
	for j := range g.ult {
		g.ult[j] = g.topOf(nodeRef(j))
	}
}

func (g *entityGraph) topOf(x nodeRef) nodeRef {
	const maxDepth = 64
	var path []nodeRef
	for steps := 0; steps < maxDepth; steps++ {
		if x.isPerson() || g.ult[x] == x {
			return x
		}
		for k, y := range path {
			if y == x { // a cycle of majority stakes: its smallest member stands for it
				least := x
				for _, z := range path[k:] {
					least = min(least, z)
				}
				return least
			}
		}
		path = append(path, x)
		x = g.ult[x]
	}
	return x
}

// computeCore marks the enterprises that both hold and are held by enterprises, and splits
// them into connected components. Only they can be intermediate links of a chain.
func (g *entityGraph) computeCore() {
	n := len(g.ents)
	g.comp = make([]int32, n)
	g.local = make([]int32, n)
	core := func(i int) bool {
		if len(g.holdings[i]) == 0 {
			return false
		}
		for _, h := range g.holders[i] {
			if !h.node.isPerson() {
				return true
			}
		}
		return false
	}
	parent := make([]int32, n)
	for i := range parent {
		g.comp[i] = -1
		parent[i] = -1
		if core(i) {
			parent[i] = int32(i)
		}
	}
	find := func(x int32) int32 {
		for parent[x] != x {
			parent[x] = parent[parent[x]]
			x = parent[x]
		}
		return x
	}
	for i := 0; i < n; i++ {
		if parent[i] < 0 {
			continue
		}
		for _, h := range g.holdings[i] {
			if j := int32(h.node); parent[j] >= 0 {
				if a, b := find(int32(i)), find(j); a != b {
					parent[a] = b
				}
			}
		}
	}
	ids := map[int32]int32{}
	for i := 0; i < n; i++ {
		if parent[i] < 0 {
			continue
		}
		r := find(int32(i))
		c, ok := ids[r]
		if !ok {
			c = int32(len(g.members))
			ids[r] = c
			g.members = append(g.members, nil)
		}
		g.comp[i] = c
		g.local[i] = int32(len(g.members[c]))
		g.members[c] = append(g.members[c], int32(i))
	}
}

// leontief holds (I − A)⁻¹ of one core component: dense for small components, rows computed
// on demand for large ones.
type leontief struct {
	dense *mat.Dense
	rows  map[int32]sparseRow // local row → its non-zero entries

	// Scratch for the rows' walks, one slot per member.
	acc, cur, next         []float64
	touched, front, fringe []int32
}

// sparseRow is a row's non-zero entries, by ascending local column.
type sparseRow struct {
	cols []int32
	vals []float64
}

func (r sparseRow) at(col int32) float64 {
	i := sort.Search(len(r.cols), func(i int) bool { return r.cols[i] >= col })
	if i < len(r.cols) && r.cols[i] == col {
		return r.vals[i]
	}
	return 0
}

// IntegratedOwnership returns the integrated (direct plus indirect) ownership matrix
// (I − A)⁻¹ − I of the share matrix a, where a[i][j] is the share (0..1) of j held by i: the
// sum over every chain of holdings from i to j of the product of its shares, cross-holdings
// included. When I − A cannot be inverted (a closed ring of 100 % holdings) it falls back to
// the power series A + A² + … truncated after maxSeriesTerms, each entry capped at 1.
func IntegratedOwnership(a mat.Matrix) *mat.Dense {
	n, _ := a.Dims()
	m := leontiefInverse(a)
	out := mat.NewDense(n, n, nil)
	for i := 0; i < n; i++ {
		for j := 0; j < n; j++ {
			v := m.At(i, j)
			if i == j {
				v--
			}
			out.Set(i, j, graphClamp01(v))
		}
	}
	return out
}

const (
	graphMaxSeriesTerms = 256
	graphSeriesEpsilon  = 1e-12
)

// leontiefInverse returns (I − A)⁻¹, through an LU inverse when I − A is well conditioned and
// by the truncated series I + A + A² + … otherwise.
func leontiefInverse(a mat.Matrix) *mat.Dense {
	n, _ := a.Dims()
	ia := mat.NewDense(n, n, nil)
	ia.Sub(graphEye(n), a)
	var inv mat.Dense
	if err := inv.Inverse(ia); err == nil && graphFiniteNonNegative(&inv) {
		return &inv
	}
	sum := graphEye(n)
	term := graphEye(n)
	var next mat.Dense
	for k := 0; k < graphMaxSeriesTerms; k++ {
		next.Mul(term, a)
		term.Copy(&next)
		sum.Add(sum, term)
		if mat.Norm(term, math.Inf(1)) < graphSeriesEpsilon {
			break
		}
	}
	return sum
}

func graphEye(n int) *mat.Dense {
	m := mat.NewDense(n, n, nil)
	for i := 0; i < n; i++ {
		m.Set(i, i, 1)
	}
	return m
}

func graphFiniteNonNegative(m *mat.Dense) bool {
	r, c := m.Dims()
	for i := 0; i < r; i++ {
		for j := 0; j < c; j++ {
			v := m.At(i, j)
			if math.IsNaN(v) || math.IsInf(v, 0) || v < -1e-9 {
				return false
			}
		}
	}
	return true
}

func graphClamp01(v float64) float64 { return math.Max(0, math.Min(1, v)) }

// inverse returns the Leontief inverse of core component c, building it on first use.
func (g *entityGraph) inverse(c int32) *leontief {
	if l, ok := g.inverses[c]; ok {
		return l
	}
	l := &leontief{}
	members := g.members[c]
	if n := len(members); n <= g.denseLimit {
		a := mat.NewDense(n, n, nil)
		for _, i := range members {
			for _, h := range g.holdings[i] {
				j := int32(h.node)
				if g.comp[j] == c {
					li, lj := int(g.local[i]), int(g.local[j])
					a.Set(li, lj, a.At(li, lj)+g.share(h, j))
				}
			}
		}
		l.dense = leontiefInverse(a)
	} else {
		l.rows = map[int32]sparseRow{}
		l.acc, l.cur, l.next = make([]float64, n), make([]float64, n), make([]float64, n)
	}
	g.inverses[c] = l
	return l
}

// at returns (I − A)⁻¹[k][m] of component c for enterprises k and m in it.
func (g *entityGraph) at(c int32, l *leontief, k, m int32) float64 {
	if l.dense != nil {
		return l.dense.At(int(g.local[k]), int(g.local[m]))
	}
	row, ok := l.rows[g.local[k]]
	if !ok {
		row = g.seriesRow(c, l, k)
		l.rows[g.local[k]] = row
	}
	return row.at(g.local[m])
}

// graphWalkFloor is the smallest share a walk still carries on: a chain worth less than
// 10⁻¹² of an enterprise changes no decision.
const graphWalkFloor = 1e-12

// seriesRow walks the power series e_k (I + A + A² + …) of a large component and keeps its
// non-zero entries: memory grows with what k reaches, never with the component squared.
func (g *entityGraph) seriesRow(c int32, l *leontief, k int32) sparseRow {
	members := g.members[c]
	lk := g.local[k]
	l.acc[lk], l.cur[lk] = 1, 1
	l.touched = append(l.touched[:0], lk)
	l.front = append(l.front[:0], lk)
	for it := 0; it < graphMaxSeriesTerms && len(l.front) > 0; it++ {
		l.fringe = l.fringe[:0]
		mass := 0.0
		for _, x := range l.front {
			v := l.cur[x]
			l.cur[x] = 0
			for _, h := range g.holdings[members[x]] {
				j := int32(h.node)
				if g.comp[j] != c {
					continue
				}
				w := v * g.share(h, j)
				if w < graphWalkFloor {
					continue
				}
				lj := g.local[j]
				if l.next[lj] == 0 {
					l.fringe = append(l.fringe, lj)
				}
				l.next[lj] += w
				mass += w
			}
		}
		for _, y := range l.fringe {
			if l.acc[y] == 0 {
				l.touched = append(l.touched, y)
			}
			l.acc[y] += l.next[y]
		}
		l.cur, l.next = l.next, l.cur
		l.front, l.fringe = l.fringe, l.front
		if mass < graphSeriesEpsilon {
			break
		}
	}
	for _, x := range l.front {
		l.cur[x] = 0
	}
	sort.Slice(l.touched, func(a, b int) bool { return l.touched[a] < l.touched[b] })
	row := sparseRow{cols: make([]int32, len(l.touched)), vals: make([]float64, len(l.touched))}
	for i, y := range l.touched {
		row.cols[i], row.vals[i] = y, l.acc[y]
		l.acc[y] = 0
	}
	return row
}

// integrated returns the integrated ownership (0..1) enterprise i has in enterprise j: the
// entry [i][j] of (I − A)⁻¹ − I. Every chain i → k … l → j runs through core enterprises only
// (k and l hold and are held), so it is A[i][j] + Σ A[i][k] · M[k][l] · A[l][j] over k, l in one
// core component, M that component's Leontief inverse.
func (g *entityGraph) integrated(i, j int32) float64 {
	v := 0.0
	for _, h := range g.holders[j] {
		if h.node == nodeRef(i) {
			v += g.share(h, j)
		}
	}
	for _, ik := range g.holdings[i] {
		k := int32(ik.node)
		c := g.comp[k]
		if c < 0 {
			continue
		}
		aik := g.share(ik, k)
		var l *leontief
		for _, lj := range g.holders[j] {
			if lj.node.isPerson() {
				continue
			}
			m := int32(lj.node)
			if g.comp[m] != c {
				continue
			}
			if l == nil {
				l = g.inverse(c)
			}
			v += aik * g.at(c, l, k, m) * g.share(lj, j)
		}
	}
	return graphClamp01(v)
}

// stakePath is one chain of holdings from one enterprise to another.
type stakePath struct {
	nodes   []int32
	pcts    []float64 // pcts[k] is the share nodes[k] holds in nodes[k+1], as registered
	product float64   // fraction, after scaling
}

// stakePaths lists the simple chains of holdings from i to j, largest product first, for the
// evidence: at most limit of them, none longer than maxDepth links or below minProduct.
func (g *entityGraph) stakePaths(i, j int32, maxDepth int, minProduct float64, limit int) []stakePath {
	var out []stakePath
	onPath := map[int32]bool{i: true}
	nodes := []int32{i}
	var pcts []float64
	budget := 20000 // edges explored: a bound for pathological registries
	var walk func(x int32, prod float64)
	walk = func(x int32, prod float64) {
		for _, h := range g.holdings[x] {
			if budget--; budget < 0 {
				return
			}
			y := int32(h.node)
			p := prod * g.share(h, y)
			if onPath[y] || p < minProduct {
				continue
			}
			if y == j {
				out = append(out, stakePath{
					nodes:   append(append([]int32(nil), nodes...), y),
					pcts:    append(append([]float64(nil), pcts...), h.pct),
					product: p,
				})
				continue
			}
			if len(nodes) >= maxDepth {
				continue
			}
			onPath[y] = true
			nodes = append(nodes, y)
			pcts = append(pcts, h.pct)
			walk(y, p)
			nodes, pcts = nodes[:len(nodes)-1], pcts[:len(pcts)-1]
			delete(onPath, y)
		}
	}
	walk(i, 1)
	sort.SliceStable(out, func(a, b int) bool { return out[a].product > out[b].product })
	if len(out) > limit {
		out = out[:limit]
	}
	return out
}

// controlEdge is one holding through which a controller's control of an enterprise runs.
type controlEdge struct {
	holder nodeRef
	held   int32
	pct    float64
}

// controlChain returns the holdings through which u controls y: the holders of y in u's group,
// and recursively the holdings through which u controls those of them that are enterprises.
func (g *entityGraph) controlChain(y int32, u nodeRef) []controlEdge {
	var out []controlEdge
	seen := map[int32]bool{}
	var walk func(x int32, depth int)
	walk = func(x int32, depth int) {
		if seen[x] || depth > 16 {
			return
		}
		seen[x] = true
		for _, h := range g.holders[x] {
			key := h.node
			if !key.isPerson() {
				key = g.ult[key]
			}
			if key != u && h.node != u {
				continue
			}
			out = append(out, controlEdge{holder: h.node, held: x, pct: h.pct})
			if !h.node.isPerson() && h.node != u {
				walk(int32(h.node), depth+1)
			}
		}
	}
	walk(y, 0)
	return out
}

// sharedRoles returns the keyed people who have roles in both a and b, with their roles.
func (g *entityGraph) sharedRoles(a, b int32) (people []int32, ra, rb [][]personRole) {
	x, y := g.roles[a], g.roles[b]
	i, j := 0, 0
	for i < len(x) && j < len(y) {
		switch {
		case x[i].person < y[j].person:
			i++
		case x[i].person > y[j].person:
			j++
		default:
			p := x[i].person
			i0, j0 := i, j
			for i < len(x) && x[i].person == p {
				i++
			}
			for j < len(y) && y[j].person == p {
				j++
			}
			people = append(people, p)
			ra = append(ra, x[i0:i])
			rb = append(rb, y[j0:j])
		}
	}
	return people, ra, rb
}

// sharedAttrs returns the attributes a and b both have.
func (g *entityGraph) sharedAttrs(a, b int32) []uint64 {
	x, y := g.attrs[a], g.attrs[b]
	var out []uint64
	i, j := 0, 0
	for i < len(x) && j < len(y) {
		switch {
		case x[i] < y[j]:
			i++
		case x[i] > y[j]:
			j++
		default:
			out = append(out, x[i])
			i++
			j++
		}
	}
	return out
}

func graphAttrOf(v uint64) (graphAttrKind, uint32) { return graphAttrKind(v >> 32), uint32(v) }

// The normalisers append the normal form of an attribute to dst and return it, or return dst
// unchanged when the value is too short or malformed to identify anything: building the graph
// normalises a million values, and appending into one buffer spares an allocation each.

// graphAppendAddress makes two spellings of one address compare equal: full-width characters
// become half-width, spaces and punctuation go, Latin letters are lower-cased. An address of
// fewer than six characters is dropped.
func graphAppendAddress(dst []byte, s string) []byte {
	start, runes := len(dst), 0
	for _, r := range s {
		r = graphHalfWidth(r)
		if unicode.IsSpace(r) || unicode.IsPunct(r) || unicode.IsSymbol(r) {
			continue
		}
		dst = utf8.AppendRune(dst, unicode.ToLower(r))
		runes++
	}
	if runes < 6 {
		return dst[:start]
	}
	return dst
}

// graphHalfWidth maps full-width ASCII variants (Ａ, １, （) and the ideographic space to their
// half-width forms.
func graphHalfWidth(r rune) rune {
	switch {
	case r == '\u3000':
		return ' '
	case r >= '\uFF01' && r <= '\uFF5E':
		return r - 0xFEE0
	}
	return r
}

// graphAppendPhone keeps the digits of a phone number without the country code; a number of
// fewer than 7 digits is dropped.
func graphAppendPhone(dst []byte, s string) []byte {
	start := len(dst)
	for _, r := range s {
		if r = graphHalfWidth(r); r >= '0' && r <= '9' {
			dst = append(dst, byte(r))
		}
	}
	d := dst[start:]
	cut := 0
	switch {
	case len(d) > 4 && string(d[:4]) == "0086":
		cut = 4
	case len(d) == 13 && string(d[:2]) == "86":
		cut = 2
	}
	if len(d)-cut < 7 {
		return dst[:start]
	}
	copy(d, d[cut:])
	return dst[:len(dst)-cut]
}

// graphAppendEmail lower-cases and trims an e-mail address; one without '@' is dropped.
func graphAppendEmail(dst []byte, s string) []byte {
	start, at := len(dst), false
	for _, r := range strings.TrimSpace(s) {
		r = unicode.ToLower(graphHalfWidth(r))
		at = at || r == '@'
		dst = utf8.AppendRune(dst, r)
	}
	if !at {
		return dst[:start]
	}
	return dst
}

// graphAppendAccount drops spaces and dashes from a bank account number; one of fewer than 6
// characters is dropped.
func graphAppendAccount(dst []byte, s string) []byte {
	start := len(dst)
	for _, r := range s {
		r = graphHalfWidth(r)
		if unicode.IsSpace(r) || r == '-' {
			continue
		}
		dst = utf8.AppendRune(dst, unicode.ToUpper(r))
	}
	if len(dst)-start < 6 {
		return dst[:start]
	}
	return dst
}
