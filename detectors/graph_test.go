package detectors

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"gonum.org/v1/gonum/mat"

	"github.com/voucherwatch/voucherwatch"
)

// rpOwnedBy builds a registry entity held by the given holders: "E:<uscc>=<pct>" for
// enterprises, "P:<key>=<pct>" for people.
func rpOwnedBy(uscc string, holders ...string) voucherwatch.Entity {
	e := voucherwatch.Entity{USCC: uscc, Name: uscc + "公司"}
	for _, h := range holders {
		var kind, id string
		var pct float64
		if _, err := fmt.Sscanf(h, "%1s:%s", &kind, &id); err != nil {
			panic(h)
		}
		for i := len(h) - 1; i >= 0; i-- {
			if h[i] == '=' {
				id = h[2:i]
				fmt.Sscanf(h[i+1:], "%g", &pct)
				break
			}
		}
		if kind == "P" {
			p := voucherwatch.Person{Name: "自然人" + id, Key: id, Masked: "430***" + id}
			e.Shareholders = append(e.Shareholders, voucherwatch.Holder{Kind: "person", Person: &p, Name: p.Name, SharePct: pct})
		} else {
			e.Shareholders = append(e.Shareholders, voucherwatch.Holder{Kind: "enterprise", USCC: id, Name: id + "公司", SharePct: pct})
		}
	}
	return e
}

func rpNear(a, b float64) bool { return math.Abs(a-b) < 1e-9 }

func TestIntegratedOwnershipMatrix(t *testing.T) {
	f := func(name string, a *mat.Dense, want map[[2]int]float64) {
		t.Helper()
		got := IntegratedOwnership(a)
		for ij, w := range want {
			if v := got.At(ij[0], ij[1]); !rpNear(v, w) {
				t.Errorf("%s: got L[%d][%d] = %.12f, want %.12f", name, ij[0], ij[1], v, w)
			}
		}
	}
	// A holds 60 % of B, B holds 50 % of C: A holds 30 % of C through B.
	f("chain 60%×50%", mat.NewDense(3, 3, []float64{
		0, 0.6, 0,
		0, 0, 0.5,
		0, 0, 0,
	}), map[[2]int]float64{{0, 1}: 0.6, {1, 2}: 0.5, {0, 2}: 0.3, {2, 0}: 0, {0, 0}: 0})

	// A holds 20 % of B and B 30 % of A: the series 0.2 (1 + 0.06 + 0.06² + …) converges to
	// 0.2 / 0.94; A also holds 0.06 / 0.94 of itself through B.
	f("cross-holding A↔B", mat.NewDense(2, 2, []float64{
		0, 0.2,
		0.3, 0,
	}), map[[2]int]float64{{0, 1}: 0.2 / 0.94, {1, 0}: 0.3 / 0.94, {0, 0}: 0.06 / 0.94, {1, 1}: 0.06 / 0.94})

	// Two routes add up: A holds 10 % of C directly and 50 % of B, which holds 40 % of C.
	f("two routes", mat.NewDense(3, 3, []float64{
		0, 0.5, 0.1,
		0, 0, 0.4,
		0, 0, 0,
	}), map[[2]int]float64{{0, 2}: 0.3})

	// A closed ring of 100 % holdings has no inverse: the truncated series stays finite and
	// capped.
	ring := IntegratedOwnership(mat.NewDense(2, 2, []float64{0, 1, 1, 0}))
	for i := 0; i < 2; i++ {
		for j := 0; j < 2; j++ {
			if v := ring.At(i, j); math.IsNaN(v) || v < 0 || v > 1 {
				t.Errorf("ring: got L[%d][%d] = %v, want within [0, 1]", i, j, v)
			}
		}
	}
}

func TestIntegratedOwnershipSeriesMatchesInverse(t *testing.T) {
	// The truncated power series (the fallback, and the walk of large components) agrees with
	// the LU inverse on a matrix with cycles.
	a := mat.NewDense(4, 4, []float64{
		0, 0.3, 0, 0.2,
		0, 0, 0.7, 0,
		0.25, 0, 0, 0.1,
		0, 0.4, 0, 0,
	})
	inv := leontiefInverse(a)
	sum := graphEye(4)
	term := graphEye(4)
	for k := 0; k < 200; k++ {
		var next mat.Dense
		next.Mul(term, a)
		term.Copy(&next)
		sum.Add(sum, term)
	}
	for i := 0; i < 4; i++ {
		for j := 0; j < 4; j++ {
			if !rpNear(inv.At(i, j), sum.At(i, j)) {
				t.Errorf("got inverse[%d][%d] = %v, want series %v", i, j, inv.At(i, j), sum.At(i, j))
			}
		}
	}
}

func TestGraphIntegratedChainAndCrossHolding(t *testing.T) {
	g := buildEntityGraph([]voucherwatch.Entity{
		rpOwnedBy("A", "P:pa=100"),
		rpOwnedBy("B", "E:A=60", "P:pb=40"),
		rpOwnedBy("C", "E:B=50", "P:pc=50"),
		rpOwnedBy("X", "E:Y=30", "P:px=70"),
		rpOwnedBy("Y", "E:X=20", "P:py=80"),
	}, 50)
	id := func(u string) int32 { return g.byUSCC[u] }
	f := func(i, j string, want float64) {
		t.Helper()
		if got := g.integrated(id(i), id(j)); !rpNear(got, want) {
			t.Errorf("integrated(%s, %s): got %.12f, want %.12f", i, j, got, want)
		}
	}
	f("A", "C", 0.3)
	f("A", "B", 0.6)
	f("C", "A", 0)
	f("X", "Y", 0.2/0.94)
	f("Y", "X", 0.3/0.94)
}

// TestGraphIntegratedMatchesWholeMatrix checks the per-component computation (core
// components, dense or walked) against (I − A)⁻¹ − I of the whole registry at once.
func TestGraphIntegratedMatchesWholeMatrix(t *testing.T) {
	for _, seed := range []uint64{1, 2, 3} {
		r := rand.New(rand.NewPCG(seed, 7))
		const n = 40
		var ents []voucherwatch.Entity
		for j := 0; j < n; j++ {
			var hs []string
			left := 100.0
			for k := 0; k < 1+r.IntN(3); k++ {
				i := r.IntN(n)
				if i == j {
					continue
				}
				pct := math.Round(r.Float64()*left*0.7*10) / 10
				left -= pct
				hs = append(hs, fmt.Sprintf("E:U%02d=%g", i, pct))
			}
			hs = append(hs, fmt.Sprintf("P:p%02d=%g", j, left))
			ents = append(ents, rpOwnedBy(fmt.Sprintf("U%02d", j), hs...))
		}
		for _, limit := range []int{denseComponentLimit, 1} {
			g := buildEntityGraph(ents, 50)
			g.denseLimit = limit // 1: every component is walked as a large one
			a := mat.NewDense(n, n, nil)
			for j := 0; j < n; j++ {
				for _, h := range g.holders[j] {
					if !h.node.isPerson() {
						a.Set(int(h.node), j, a.At(int(h.node), j)+g.share(h, int32(j)))
					}
				}
			}
			want := IntegratedOwnership(a)
			for i := 0; i < n; i++ {
				for j := 0; j < n; j++ {
					if got := g.integrated(int32(i), int32(j)); math.Abs(got-want.At(i, j)) > 1e-9 {
						t.Fatalf("seed %d, dense limit %d: integrated(U%02d, U%02d): got %.12f, want %.12f", seed, limit, i, j, got, want.At(i, j))
					}
				}
			}
		}
	}
}

func TestGraphControl(t *testing.T) {
	g := buildEntityGraph([]voucherwatch.Entity{
		// A chain of majorities: P → G (100 %) → H (60 %) → B (51 %).
		rpOwnedBy("G", "P:p=100"),
		rpOwnedBy("H", "E:G=60", "P:h=40"),
		rpOwnedBy("B", "E:H=51", "P:b=49"),
		// Control by adding up: Q holds 30 % of S directly and 25 % through X, which Q
		// controls.
		rpOwnedBy("X", "P:q=80", "P:x=20"),
		rpOwnedBy("S", "P:q=30", "E:X=25", "P:s=45"),
		// Exactly 50 % is not control.
		rpOwnedBy("F", "E:G=50", "P:f=50"),
		// A cycle of majority stakes settles on one controller for both.
		rpOwnedBy("C1", "E:C2=60", "P:c1=40"),
		rpOwnedBy("C2", "E:C1=60", "P:c2=40"),
		// A keyless majority holder controls, but matches nobody.
		rpOwnedBy("K1", "P:=70", "P:k1=30"),
		rpOwnedBy("K2", "P:=70", "P:k2=30"),
	}, 50)
	ult := func(u string) string { return g.nodeID(g.ult[g.byUSCC[u]]) }
	person := func(key string) string { return "person:" + key }
	f := func(u, want string) {
		t.Helper()
		if got := ult(u); got != want {
			t.Errorf("ultimate controller of %s: got %s, want %s", u, got, want)
		}
	}
	f("B", person("p"))
	f("H", person("p"))
	f("S", person("q"))
	f("F", "F")
	if ult("C1") != ult("C2") {
		t.Errorf("cross-held majorities: got controllers %s and %s, want one", ult("C1"), ult("C2"))
	}
	if ult("K1") == ult("K2") || ult("K1") == "K1" {
		t.Errorf("keyless controllers: got %s and %s, want two distinct people", ult("K1"), ult("K2"))
	}
	chain := g.controlChain(g.byUSCC["B"], g.ult[g.byUSCC["B"]])
	if len(chain) != 3 {
		t.Errorf("control chain of B: got %d holdings, want 3 (P→G, G→H, H→B): %+v", len(chain), chain)
	}
}

func TestGraphNormalisation(t *testing.T) {
	f := func(name string, norm func([]byte, string) []byte, a, b string, same bool) {
		t.Helper()
		na, nb := string(norm(nil, a)), string(norm(nil, b))
		if (na == nb && na != "") != same {
			t.Errorf("%s: %q → %q and %q → %q: got same %v, want %v", name, a, na, b, nb, na == nb, same)
		}
	}
	f("address", graphAppendAddress, "长沙市岳麓区麓谷大道 6号（Ａ栋）1203室", "长沙市岳麓区麓谷大道６号(A栋)1203室", true)
	f("address", graphAppendAddress, "长沙市岳麓区麓谷大道6号A栋1203室", "长沙市岳麓区麓谷大道6号A栋1508室", false)
	f("address", graphAppendAddress, "", "", false)
	f("phone", graphAppendPhone, "+86 138-0000-1111", "13800001111", true)
	f("phone", graphAppendPhone, "0731-8888 6666", "073188886666", true)
	f("phone", graphAppendPhone, "123", "123", false)
	f("email", graphAppendEmail, " Fin@Example.COM", "fin@example.com", true)
	f("email", graphAppendEmail, "none", "none", false)
	f("account", graphAppendAccount, "6222 0210-0112 3456", "6222021001123456", true)
	f("account", graphAppendAccount, "12-3", "12-3", false)
	f("phone", graphAppendPhone, "0086 731 8888 6666", "73188886666", true)
}
