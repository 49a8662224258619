package detectors

import (
	"fmt"
	"math/rand/v2"
	"runtime"
	"testing"

	"github.com/voucherwatch/voucherwatch"
	"github.com/voucherwatch/voucherwatch/rules"
)

// benchRegistry generates, in memory, a registry of n enterprises and about 10 n edges
// (holdings, officer and legal-representative roles, contacts' phones and e-mails, accounts,
// addresses), shaped like a province: groups of a holding company and its chains of
// subsidiaries with some cross-holdings, funds with minority stakes all over, one large
// conglomerate whose cross-holdings form a core component too big for a dense matrix, and
// about two trading pairs per enterprise, some of them related.
func benchRegistry(n int) ([]voucherwatch.Entity, []tradingPair) {
	r := rand.New(rand.NewPCG(uint64(n), 42))
	ents := make([]voucherwatch.Entity, n)
	people := 0
	person := func(phone, email bool) voucherwatch.Person {
		people++
		p := voucherwatch.Person{Name: "张伟", IDType: "id_card", Key: fmt.Sprintf("k%015x", people), Masked: "430***********" + fmt.Sprintf("%04d", people%10000)}
		if phone {
			p.Phone = fmt.Sprintf("1%010d", people)
		}
		if email {
			p.Email = fmt.Sprintf("u%d@example.cn", people)
		}
		return p
	}
	for i := range ents {
		e := &ents[i]
		e.USCC = fmt.Sprintf("91430100MA%08d", i)
		e.Name = fmt.Sprintf("湖南第%d科技有限公司", i)
		e.City = "430100"
		e.RegisteredAddress = fmt.Sprintf("长沙市岳麓区麓谷大道%d号%d室", i/100, i%100)
		e.OfficeAddress = e.RegisteredAddress
		if i%3 == 0 {
			e.OfficeAddress = fmt.Sprintf("长沙市开福区芙蓉中路%d号%d室", i/50, i%50)
		}
		rep := person(true, false)
		e.LegalRep = &rep
		e.Officers = []voucherwatch.Officer{{Role: "legal_rep", Person: rep}}
		if r.IntN(2) == 0 {
			e.Officers = append(e.Officers, voucherwatch.Officer{Role: "director", Person: person(false, false)})
		}
		e.Contacts = []voucherwatch.Person{person(true, true)}
		e.Shareholders = []voucherwatch.Holder{{Kind: "person", Person: &rep, Name: rep.Name, SharePct: 100}}
		e.BankAccounts = []voucherwatch.BankAccount{{AccountNo: fmt.Sprintf("6013%012d", i)}}
	}
	hold := func(holder, held int, pct float64) {
		e := &ents[held]
		e.Shareholders[0].SharePct -= pct
		e.Shareholders = append(e.Shareholders, voucherwatch.Holder{Kind: "enterprise", USCC: ents[holder].USCC, SharePct: pct})
	}

	// Groups of 20: a holding company controlling chains of subsidiaries, two of which hold
	// a little of each other.
	const group = 20
	big := min(1000, n/10) // the conglomerate at the end
	for g := 0; g+group <= n-big; g += group {
		top := g
		for k := 1; k < group; k++ {
			switch {
			case k < 6:
				hold(top, g+k, float64(51+r.IntN(40)))
			case k < 12:
				hold(g+1+r.IntN(5), g+k, float64(30+r.IntN(40)))
			case k < 15:
				hold(g+6+r.IntN(6), g+k, float64(20+r.IntN(40)))
			}
		}
		hold(g+2, g+3, 5)
		hold(g+3, g+2, 5)
	}
	// The conglomerate: every member holds a few per cent of two others.
	for i := n - big; i < n; i++ {
		for k := 0; k < 2; k++ {
			j := n - big + r.IntN(big)
			if j != i {
				hold(i, j, float64(3+r.IntN(8)))
			}
		}
	}
	// Funds (the 19th of each group, held by people only) take 1–9 % of twenty others each.
	for f := group - 2; f < n-big; f += group {
		for k := 0; k < 20; k++ {
			j := r.IntN(n)
			if j%group != group-2 && ents[j].Shareholders[0].SharePct > 10 {
				hold(f, j, float64(1+r.IntN(9)))
			}
		}
	}
	// Trading pairs: two purchases per enterprise from the suppliers (the last of each group);
	// one pair in a hundred inside a group; a few ties planted on top.
	pairs := make([]tradingPair, 0, 2*n+n/50)
	for i := 0; i < n; i++ {
		for k := 0; k < 2; k++ {
			s := 20*r.IntN(n/20) + 19
			if s != i {
				pairs = append(pairs, tradingPair{Buyer: ents[i].USCC, Supplier: ents[s].USCC, Contracts: []string{fmt.Sprintf("HT%d-%d", i, k)}})
			}
		}
		if i%100 == 50 {
			g := i - i%group
			pairs = append(pairs, tradingPair{Buyer: ents[i].USCC, Supplier: ents[g+1+r.IntN(9)].USCC})
		}
	}
	for k := 0; k < n/200; k++ {
		p := &pairs[r.IntN(len(pairs))]
		b, s := benchUSCCIndex(p.Buyer), benchUSCCIndex(p.Supplier)
		switch k % 3 {
		case 0:
			ents[b].BankAccounts = append(ents[b].BankAccounts, ents[s].BankAccounts[0])
		case 1:
			ents[b].Officers = append(ents[b].Officers, voucherwatch.Officer{Role: "supervisor", Person: *ents[s].LegalRep})
		default:
			ents[b].Contacts[0].Phone = ents[s].Contacts[0].Phone
		}
	}
	return ents, pairs
}

func benchUSCCIndex(u string) int {
	var i int
	fmt.Sscanf(u[10:], "%d", &i)
	return i
}

// benchGraphEdges counts the graph's edges: holdings, people's roles, shared-attribute memberships.
func benchGraphEdges(g *entityGraph) int {
	e := 0
	for j := range g.ents {
		e += len(g.holders[j]) + len(g.roles[j]) + len(g.attrs[j])
	}
	return e
}

// BenchmarkRelatedPartyGraph is the detector's pure-Go part on a whole province: the graph
// build, control, integrated ownership per core component, and every trading pair checked,
// with the evidence of the related ones. Besides time and allocations it reports the graph's
// size, the largest core component, the cells of the dense matrices it inverts (bounded by
// the dense limit squared per component, never the registry squared) and the heap the graph
// keeps once every pair has been checked.
func BenchmarkRelatedPartyGraph(b *testing.B) {
	policy := rules.Default().RelatedParty
	for _, n := range []int{10_000, 100_000} {
		ents, pairs := benchRegistry(n)
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		g := buildEntityGraph(ents, relatedControlPct(policy))
		for i := range pairs {
			g.relatedFinding(&pairs[i], policy)
		}
		runtime.GC()
		runtime.ReadMemStats(&after)
		liveMB := float64(int64(after.HeapAlloc)-int64(before.HeapAlloc)) / (1 << 20)
		largest, dense := 0, 0
		for c, m := range g.members {
			largest = max(largest, len(m))
			if l := g.inverses[int32(c)]; l != nil && l.dense != nil {
				dense += len(m) * len(m)
			}
		}
		edges := benchGraphEdges(g)
		runtime.KeepAlive(g)
		b.Run(fmt.Sprintf("enterprises=%d", n), func(b *testing.B) {
			b.ReportAllocs()
			var fs []finding
			for b.Loop() {
				fs = detectRelated(ents, pairs, policy)
			}
			b.ReportMetric(float64(edges), "edges")
			b.ReportMetric(float64(len(pairs)), "pairs")
			b.ReportMetric(float64(len(fs)), "alerts")
			b.ReportMetric(float64(largest), "largest-component")
			b.ReportMetric(float64(dense), "dense-cells")
			b.ReportMetric(liveMB, "graph-MB")
		})
	}
}

// BenchmarkEntityGraphBuild is the build alone: indexing, control, core components.
func BenchmarkEntityGraphBuild(b *testing.B) {
	for _, n := range []int{10_000, 100_000} {
		ents, _ := benchRegistry(n)
		b.Run(fmt.Sprintf("enterprises=%d", n), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				buildEntityGraph(ents, 50)
			}
		})
	}
}

// TestBenchRegistryShape keeps the benchmark honest: about ten edges per enterprise, core
// components mostly small, one too large for a dense inverse, and every planted tie found.
func TestBenchRegistryShape(t *testing.T) {
	ents, pairs := benchRegistry(10_000)
	g := buildEntityGraph(ents, 50)
	if e := benchGraphEdges(g); e < 8*len(ents) || e > 12*len(ents) {
		t.Errorf("got %d edges for %d enterprises, want about ten per enterprise", e, len(ents))
	}
	largest := 0
	for _, m := range g.members {
		largest = max(largest, len(m))
	}
	if largest <= g.denseLimit {
		t.Errorf("got largest core component %d, want one above the dense limit %d to walk", largest, g.denseLimit)
	}
	fs := detectRelated(ents, pairs, rules.Default().RelatedParty)
	kinds := map[string]int{}
	for _, f := range fs {
		kinds[f.Kind]++
	}
	for _, k := range []string{KindCommonController, KindSharedBankAccount, KindSharedOfficer, KindSharedContact} {
		if kinds[k] == 0 {
			t.Errorf("got kinds %v, want some %s", kinds, k)
		}
	}
}
