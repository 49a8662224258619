package detectors

import (
	"cmp"
	"slices"

	"github.com/voucherwatch/voucherwatch"
)

// This file builds the entity graph that related_party works on; graph_control.go finds the
// controllers in it, graph_ownership.go the integrated ownership (the Leontief inverse) and
// graph_contacts.go normalises the contacts enterprises can share. It is all pure Go: the
// detector loads the registry and the trading pairs through the read model and hands them here,
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
	nameKey    string // the canonical name stored at decode; empty for older records
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
		g.ents = append(g.ents, graphEnterprise{uscc: e.USCC, name: e.Name, nameKey: e.NameKey, inRegistry: true})
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

	// addAttr adds an attribute by its normal form, norm applied to key (the canonical form
	// stored at decode, or raw), and keeps raw, as registered, for the evidence.
	addAttr := func(k graphAttrKind, norm func([]byte, string) []byte, key, raw string) {
		if raw == "" || key == "" {
			return
		}
		prefix := graphAttrPrefix[k]
		buf = norm(append(buf[:0], prefix...), key)
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
		addAttr(graphAttrPhone, graphAppendPhone, p.CanonicalPhoneKey(), p.Phone)
		addAttr(graphAttrEmail, graphAppendEmail, p.CanonicalEmailKey(), p.Email)
		if p.Key == "" {
			return
		}
		flatRoles = append(flatRoles, personRole{person: g.personIndex(p), role: r, pct: pct})
	}

	var byName map[string]int32 // canonical name → enterprise, −1 when several share it
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
			addAttr(graphAttrAccount, graphAppendAccount, a.CanonicalAccountKey(), a.AccountNo)
		}
		addAttr(graphAttrAddress, graphAppendAddress, e.RegisteredAddress, e.RegisteredAddress)
		addAttr(graphAttrAddress, graphAppendAddress, e.OfficeAddress, e.OfficeAddress)

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
				// Named only: the registered enterprise of that name, compared on the canonical
				// form (traditional or full-width characters are one name), when exactly one
				// has it; otherwise an enterprise the registry does not hold.
				if byName == nil {
					byName = g.namesIndex()
				}
				if hi, ok := byName[h.CanonicalNameKey()]; ok && hi >= 0 && hi != int32(j) {
					ref = nodeRef(hi)
				} else {
					ref = nodeRef(g.stubEnterprise("", h.Name))
				}
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

// namesIndex maps the canonical name (voucherwatch.CanonicalName) of every registered
// enterprise to it, or to −1 when several share the name.
func (g *entityGraph) namesIndex() map[string]int32 {
	out := make(map[string]int32, len(g.ents))
	for i, e := range g.ents {
		if !e.inRegistry || e.name == "" {
			continue
		}
		k := e.nameKey
		if k == "" {
			k = voucherwatch.CanonicalName(e.name)
		}
		if _, dup := out[k]; dup {
			out[k] = -1
			continue
		}
		out[k] = int32(i)
	}
	return out
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

// hasEnterpriseHolder reports whether an enterprise holds part of j: only then can a chain of
// holdings run into j through another enterprise.
func (g *entityGraph) hasEnterpriseHolder(j int32) bool {
	for _, h := range g.holders[j] {
		if !h.node.isPerson() {
			return true
		}
	}
	return false
}

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
