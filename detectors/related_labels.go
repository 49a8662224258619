package detectors

import (
	"sort"
	"strconv"
	"strings"
)

// Evidence names the people of a related-party alert by an ordinal within the alert
// (person:1, person:2, ...), never by their person key or a part of it. A person key is a
// keyed hash of an identity number; shown next to the masked number, any part of it lets
// whoever knows the key confirm the full number among the few thousand candidates the mask
// leaves. The ordinals follow the order of the people's keys, so the same people get the same
// labels on every run, and the evidence (and its hash) is stable.

// personNodePrefix starts the node id of a keyed person while the evidence is built; labelPeople
// replaces it before the evidence leaves the detector.
const personNodePrefix = "person:"

// labelPeople replaces, in the evidence of one alert, every keyed person's node id by its
// ordinal label.
func labelPeople(ev *evidenceGraph, ties []relatedTie, controllers map[string]string) {
	var keys []string
	seen := map[string]bool{}
	collect := func(s string) {
		if strings.HasPrefix(s, personNodePrefix) && !seen[s] {
			seen[s] = true
			keys = append(keys, s)
		}
	}
	walkNodeIDs(ev, ties, controllers, func(s string) string { collect(s); return s })
	sort.Strings(keys)
	label := make(map[string]string, len(keys))
	for i, k := range keys {
		label[k] = personNodePrefix + strconv.Itoa(i+1)
	}
	walkNodeIDs(ev, ties, controllers, func(s string) string {
		if l, ok := label[s]; ok {
			return l
		}
		return s
	})
}

// walkNodeIDs calls f on every node id of the evidence and stores what it returns.
func walkNodeIDs(ev *evidenceGraph, ties []relatedTie, controllers map[string]string, f func(string) string) {
	for i := range ev.Nodes {
		ev.Nodes[i].ID = f(ev.Nodes[i].ID)
	}
	for i := range ev.Edges {
		ev.Edges[i].From, ev.Edges[i].To = f(ev.Edges[i].From), f(ev.Edges[i].To)
	}
	for i := range ties {
		tf := &ties[i].Facts
		for _, id := range []*string{&tf.Person, &tf.Holder, &tf.Held, &tf.Controller} {
			if *id != "" {
				*id = f(*id)
			}
		}
		for _, path := range tf.Paths {
			for j := range path {
				path[j] = f(path[j])
			}
		}
	}
	for k, v := range controllers {
		controllers[k] = f(v)
	}
}
