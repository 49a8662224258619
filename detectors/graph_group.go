package detectors

import (
	"context"
	"strings"
)

// This file gives the detectors other than related_party what the entity graph knows about
// control: which enterprises are under one control (a control group), and the path of the tie
// between two of them, for the evidence. The same act done through a sister company (resale by
// a company of the applicant's group, a claim citing a sister's invoice) is the applicant's
// act; the finding then shows the tie as related_party does.

// controlGroups maps enterprises to their control group: the enterprises under one ultimate
// controller (an enterprise or a person), the controller included when it is an enterprise.
type controlGroups struct {
	g     *entityGraph
	group map[string]nodeRef // uscc → ultimate controller; only members of groups of two or more
}

// loadControlGroups reads the registry and finds its control groups, with the policy's
// control threshold.
func loadControlGroups(ctx context.Context, env Env) (*controlGroups, error) {
	ents, err := relatedLoadRegistry(ctx, env.reads())
	if err != nil {
		return nil, err
	}
	return newControlGroups(buildEntityGraph(ents, relatedControlPct(env.Policy.RelatedParty))), nil
}

func newControlGroups(g *entityGraph) *controlGroups {
	size := map[nodeRef]int{}
	for i := range g.ents {
		size[g.ult[i]]++
	}
	cg := &controlGroups{g: g, group: map[string]nodeRef{}}
	for i, e := range g.ents {
		if u := g.ult[i]; size[u] > 1 && e.uscc != "" {
			cg.group[e.uscc] = u
		}
	}
	return cg
}

// same reports whether a and b are under one control (and not the same enterprise).
func (cg *controlGroups) same(a, b string) bool {
	if cg == nil || a == b {
		return false
	}
	ua, ok := cg.group[a]
	return ok && cg.group[b] == ua
}

// members lists the other enterprises under the control of a's controller.
func (cg *controlGroups) members(a string) []string {
	if cg == nil {
		return nil
	}
	u, ok := cg.group[a]
	if !ok {
		return nil
	}
	var out []string
	for i, e := range cg.g.ents {
		if cg.g.ult[i] == u && e.uscc != "" && e.uscc != a {
			out = append(out, e.uscc)
		}
	}
	return out
}

// name is the registered name of an enterprise, or its USCC.
func (cg *controlGroups) name(uscc string) string {
	if cg != nil {
		if i, ok := cg.g.byUSCC[uscc]; ok && cg.g.ents[i].name != "" {
			return cg.g.ents[i].name
		}
	}
	return uscc
}

// controlTie is the evidence of a control tie between two enterprises: the path in words
// (Chinese), the controller, and the graph of the holdings it runs through, drawn as
// related_party draws its ties.
type controlTie struct {
	Summary        string        `json:"summary"`
	Controller     string        `json:"controller"`
	ControllerName string        `json:"controller_name"`
	Graph          evidenceGraph `json:"graph"`
}

// tie returns the path by which a and b are under one control; ok is false when they are not.
func (cg *controlGroups) tie(a, b string) (controlTie, bool) {
	if !cg.same(a, b) {
		return controlTie{}, false
	}
	g := cg.g
	ia, ib := g.byUSCC[a], g.byUSCC[b]
	u := g.ult[ia]
	var ev evidenceGraph
	ev.node(g, nodeRef(ia), "")
	ev.node(g, nodeRef(ib), "")
	var sides []string
	for _, y := range []int32{ia, ib} {
		if nodeRef(y) == u {
			continue
		}
		chain := g.controlChain(y, u)
		var parts []string
		for k := len(chain) - 1; k >= 0; k-- {
			c := chain[k]
			parts = append(parts, ev.holds(g, c.holder, c.held, c.pct))
		}
		sides = append(sides, strings.Join(uniqueInOrder(parts), "，"))
	}
	ev.node(g, u, "")
	var text string
	switch u {
	case nodeRef(ia):
		text = g.label(u) + "控制" + g.label(nodeRef(ib))
	case nodeRef(ib):
		text = g.label(u) + "控制" + g.label(nodeRef(ia))
	default:
		text = g.label(nodeRef(ia)) + "与" + g.label(nodeRef(ib)) + "的实际控制人同为" + g.label(u)
	}
	summary := text
	if len(sides) > 0 {
		summary = strings.Join(sides, "；") + "：" + text
	}
	ctrl := map[string]string{"controller": g.nodeID(u)}
	labelPeople(&ev, nil, ctrl) // people by ordinal, never by key
	return controlTie{Summary: summary, Controller: ctrl["controller"], ControllerName: g.label(u), Graph: ev}, true
}

// evidence is the tie as an evidence value.
func (t controlTie) evidence() map[string]any {
	return map[string]any{"summary": t.Summary, "controller": t.Controller, "controller_name": t.ControllerName,
		"nodes": t.Graph.Nodes, "edges": t.Graph.Edges}
}
