package detectors

// This file finds who controls each enterprise of the entity graph: ultimate controllers
// through chains of majority holdings, and the holdings a control runs through.

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
