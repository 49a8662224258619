package spotcheck

import (
	"fmt"
	"math"
	"math/rand/v2"
	"reflect"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/voucherwatch/voucherwatch"
)

// cityCodes are Hunan's 14 市州 in code order.
func cityCodes() []string {
	var out []string
	for code := range voucherwatch.Cities {
		out = append(out, code)
	}
	sort.Strings(out)
	return out
}

// skewedProvince is a province shaped like the real one: claimants crowd into 长沙 and thin
// out towards the west; about one in eight has open alerts (a few high), and requested
// amounts spread log-uniformly from 50,000 to 10,000,000 yuan. Its inspectors are two per
// city, each declaring a conflict with a few enterprises of other cities.
func skewedProvince(seed uint64, n int) voucherwatch.SpotCheckInputs {
	r := rand.New(rand.NewPCG(seed, 42))
	cities := cityCodes()
	var in voucherwatch.SpotCheckInputs
	for i := range n {
		// City i gets weight 1/(i+1): 长沙 about a third.
		x := r.Float64() * 3.25
		ci := 0
		for acc := 1.0; acc < x && ci < len(cities)-1; {
			ci++
			acc += 1 / float64(ci+1)
		}
		c := voucherwatch.SpotCheckClaimant{
			USCC:      fmt.Sprintf("91%s%010dX", cities[ci], i),
			City:      cities[ci],
			Requested: voucherwatch.Money(math.Exp(math.Log(50_000)+r.Float64()*math.Log(200)) * 100),
		}
		if r.IntN(8) == 0 {
			c.OpenLow = r.IntN(3)
			c.OpenMedium = r.IntN(2)
			if r.IntN(3) == 0 {
				c.OpenHigh = 1 + r.IntN(2)
			}
			c.AlertScore = 0.7 * float64(c.OpenHigh+c.OpenMedium+c.OpenLow)
		}
		in.Claimants = append(in.Claimants, c)
	}
	for i, city := range cities {
		for k := range 2 {
			ins := voucherwatch.Inspector{ID: fmt.Sprintf("in_%02d_%d", i, k), Name: fmt.Sprintf("检查员%02d%d", i, k), City: city}
			for range 3 {
				ins.Conflicts = append(ins.Conflicts, in.Claimants[r.IntN(len(in.Claimants))].USCC)
			}
			in.Inspectors = append(in.Inspectors, ins)
		}
	}
	return in
}

// shuffled is the same inputs in another order, conflicts included.
func shuffled(in voucherwatch.SpotCheckInputs, seed uint64) voucherwatch.SpotCheckInputs {
	r := rand.New(rand.NewPCG(seed, 7))
	out := voucherwatch.SpotCheckInputs{Claimants: slices.Clone(in.Claimants)}
	for _, ins := range in.Inspectors {
		ins.Conflicts = slices.Clone(ins.Conflicts)
		r.Shuffle(len(ins.Conflicts), func(i, j int) { ins.Conflicts[i], ins.Conflicts[j] = ins.Conflicts[j], ins.Conflicts[i] })
		out.Inspectors = append(out.Inspectors, ins)
	}
	r.Shuffle(len(out.Claimants), func(i, j int) { out.Claimants[i], out.Claimants[j] = out.Claimants[j], out.Claimants[i] })
	r.Shuffle(len(out.Inspectors), func(i, j int) { out.Inspectors[i], out.Inspectors[j] = out.Inspectors[j], out.Inspectors[i] })
	return out
}

func mustDraw(t *testing.T, in voucherwatch.SpotCheckInputs, p voucherwatch.SpotCheckParams, seed uint64) []voucherwatch.SpotCheckItem {
	t.Helper()
	items, err := Draw(in, p, seed)
	if err != nil {
		t.Fatalf("Draw(seed %d): %v", seed, err)
	}
	return items
}

func TestSameSeedSameList(t *testing.T) {
	in := skewedProvince(1, 500)
	p := voucherwatch.DefaultSpotCheckParams()
	for _, seed := range []uint64{0, 1, 20261201, math.MaxUint64} {
		a := mustDraw(t, in, p, seed)
		b := mustDraw(t, shuffled(in, seed), p, seed)
		if !reflect.DeepEqual(a, b) {
			t.Errorf("seed %d: the same inputs in another order drew another list:\n%v\n%v", seed, a, b)
		}
		if Digest(in) != Digest(shuffled(in, seed)) {
			t.Errorf("seed %d: the digest depends on the inputs' order", seed)
		}
		c := mustDraw(t, in, p, seed+1)
		if reflect.DeepEqual(a, c) {
			t.Errorf("seeds %d and %d drew the same list", seed, seed+1)
		}
	}
	// A golden list pins the method: if this changes, Method must change too.
	small := skewedProvince(3, 40)
	got := mustDraw(t, small, voucherwatch.SpotCheckParams{Share: 0.1, Min: 3, RiskFraction: 0.5, InspectorsPerItem: 1}, 7)
	var ids []string
	for _, it := range got {
		ids = append(ids, it.USCC[len(it.USCC)-4:]+"/"+it.Inspectors[0].ID)
	}
	const golden = "013X/in_05_0 028X/in_04_1 003X/in_07_0 029X/in_13_0 011X/in_12_1 033X/in_02_1 036X/in_03_0 016X/in_03_1 037X/in_12_0 008X/in_06_0 018X/in_06_1 004X/in_08_1 017X/in_05_1"
	if g := strings.Join(ids, " "); g != golden {
		t.Errorf("the draw changed: got\n%s\nwant\n%s\n(a change that is meant must change Method)", g, golden)
	}
}

func TestDigestChangesWithInputs(t *testing.T) {
	in := skewedProvince(1, 50)
	d := Digest(in)
	in.Claimants[3].OpenHigh++
	if Digest(in) == d {
		t.Error("changing a claimant's alerts kept the digest")
	}
}

// TestNoInspectorOfOwnCityOrConflict draws over many seeds and checks every pairing.
func TestNoInspectorOfOwnCityOrConflict(t *testing.T) {
	in := skewedProvince(2, 400)
	// Conflicts with many drawn enterprises, so that the rule bites.
	for i := range in.Inspectors {
		for j := i; j < len(in.Claimants); j += 7 {
			in.Inspectors[i].Conflicts = append(in.Inspectors[i].Conflicts, in.Claimants[j].USCC)
		}
	}
	conflict := map[string]map[string]bool{}
	city := map[string]string{}
	for _, ins := range in.Inspectors {
		city[ins.ID] = ins.City
		conflict[ins.ID] = map[string]bool{}
		for _, c := range ins.Conflicts {
			conflict[ins.ID][c] = true
		}
	}
	p := voucherwatch.SpotCheckParams{Share: 0.2, Min: 10, RiskFraction: 0.5, InspectorsPerItem: 3}
	for seed := range uint64(200) {
		for _, it := range mustDraw(t, in, p, seed) {
			seen := map[string]bool{}
			for _, ins := range it.Inspectors {
				switch {
				case ins.City == it.City || city[ins.ID] == it.City:
					t.Fatalf("seed %d: inspector %s of %s sent to %s of the same city", seed, ins.ID, ins.City, it.USCC)
				case conflict[ins.ID][it.USCC]:
					t.Fatalf("seed %d: inspector %s declared a conflict with %s and was sent there", seed, ins.ID, it.USCC)
				case seen[ins.ID]:
					t.Fatalf("seed %d: inspector %s twice on %s", seed, ins.ID, it.USCC)
				}
				seen[ins.ID] = true
			}
			if len(it.Inspectors) != p.InspectorsPerItem {
				t.Fatalf("seed %d: %s has %d inspectors, want %d (the pool is large enough)", seed, it.USCC, len(it.Inspectors), p.InspectorsPerItem)
			}
		}
	}
}

func TestNobodyEligibleSaysSo(t *testing.T) {
	in := voucherwatch.SpotCheckInputs{
		Claimants: []voucherwatch.SpotCheckClaimant{
			{USCC: "914301000000000001", City: "430100"},
			{USCC: "914302000000000002", City: "430200"},
		},
		Inspectors: []voucherwatch.Inspector{
			{ID: "in_cs", Name: "长沙检查员", City: "430100"},
			{ID: "in_zz", Name: "株洲检查员", City: "430200", Conflicts: []string{"914301000000000001"}},
		},
	}
	items := mustDraw(t, in, voucherwatch.SpotCheckParams{Share: 1, RiskFraction: 0.5, InspectorsPerItem: 2}, 1)
	f := func(uscc string, wantIDs []string, wantNote string) {
		t.Helper()
		for _, it := range items {
			if it.USCC != uscc {
				continue
			}
			var ids []string
			for _, ins := range it.Inspectors {
				ids = append(ids, ins.ID)
			}
			if !slices.Equal(ids, wantIDs) || it.Note != wantNote {
				t.Errorf("%s: got inspectors %v note %q, want %v note %q", uscc, ids, it.Note, wantIDs, wantNote)
			}
			return
		}
		t.Errorf("%s not drawn (share 1)", uscc)
	}
	// 长沙's enterprise: the 长沙 inspector is of its city, the 株洲 one declared a conflict.
	f("914301000000000001", nil, noteNoInspector)
	f("914302000000000002", []string{"in_cs"}, fmt.Sprintf(noteFewInspectorsF, 2, 1))
}

func TestQuotas(t *testing.T) {
	for _, tc := range []struct {
		name  string
		sizes []int64
		share float64
		min   int
		want  []int64
	}{
		{"exact shares", []int64{100, 40, 60}, 0.05, 0, []int64{5, 2, 3}},
		{"largest remainder", []int64{50, 30, 20}, 0.05, 0, []int64{3, 1, 1}}, // 2.5, 1.5, 1 → total 5
		{"every city at least one", []int64{1000, 3, 2}, 0.05, 0, []int64{50, 1, 1}},
		{"minimum binds", []int64{60, 30, 10}, 0.01, 10, []int64{6, 3, 1}},
		{"minimum above the population", []int64{3, 2}, 0.05, 10, []int64{3, 2}},
		{"share one", []int64{3, 2}, 1, 0, []int64{3, 2}},
		{"empty city", []int64{10, 0}, 0.5, 0, []int64{5, 0}},
		{"nobody", nil, 0.05, 10, []int64{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := Quotas(tc.sizes, tc.share, tc.min)
			if !slices.Equal(got, tc.want) && !(len(got) == 0 && len(tc.want) == 0) {
				t.Errorf("got %v, want %v", got, tc.want)
			}
		})
	}
}

// TestEveryCityInProportion checks the drawn counts per city against share × claimants.
func TestEveryCityInProportion(t *testing.T) {
	for _, tc := range []struct {
		name  string
		n     int
		share float64
	}{
		{"default share", 2000, 0.05},
		{"a tenth", 700, 0.1},
		{"small province", 150, 0.05},
		{"a third", 400, 1.0 / 3},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in := skewedProvince(uint64(tc.n), tc.n)
			size := map[string]int{}
			for _, c := range in.Claimants {
				size[c.City]++
			}
			for seed := range uint64(20) {
				got := map[string]int{}
				for _, it := range mustDraw(t, in, voucherwatch.SpotCheckParams{Share: tc.share, RiskFraction: 0.5, InspectorsPerItem: 1}, seed) {
					got[it.City]++
				}
				for city, n := range size {
					exact := tc.share * float64(n)
					if math.Abs(float64(got[city])-exact) > 1 && !(exact < 1 && got[city] == 1) {
						t.Errorf("seed %d: %s has %d claimants and %d drawn, want %.2f ± 1", seed, voucherwatch.CityName(city), n, got[city], exact)
					}
					if got[city] < 1 {
						t.Errorf("seed %d: %s has claimants and none drawn", seed, voucherwatch.CityName(city))
					}
				}
			}
		})
	}
}

// TestRiskPartIsRiskier compares the mean risk of the risk-weighted part with that of the
// random part over 50 seeds on a skewed province.
func TestRiskPartIsRiskier(t *testing.T) {
	in := skewedProvince(9, 2000)
	p := voucherwatch.DefaultSpotCheckParams()
	var riskSum, randSum float64
	var riskN, randN int
	for seed := range uint64(50) {
		for _, it := range mustDraw(t, in, p, seed) {
			switch it.DrawnBy {
			case voucherwatch.DrawnByRisk:
				riskSum += it.Risk
				riskN++
			case voucherwatch.DrawnAtRandom:
				randSum += it.Risk
				randN++
			default:
				t.Fatalf("item drawn by %q", it.DrawnBy)
			}
		}
	}
	var popSum float64
	for _, c := range in.Claimants {
		popSum += Risk(c)
	}
	riskMean, randMean := riskSum/float64(riskN), randSum/float64(randN)
	t.Logf("mean risk: risk part %.3f (%d items), random part %.3f (%d items), population %.3f", riskMean, riskN, randMean, randN, popSum/float64(len(in.Claimants)))
	if riskMean < 1.5*randMean {
		t.Errorf("risk part mean %.3f is not 1.5 × the random part's %.3f", riskMean, randMean)
	}
	if math.Abs(float64(riskN-randN)) > 0.1*float64(riskN+randN) {
		t.Errorf("got %d risk items and %d random, want about half each", riskN, randN)
	}
}

// TestEveryoneCanBeDrawn draws often from a small province where two enterprises carry much
// risk: each claimant, however harmless, is drawn at least once.
func TestEveryoneCanBeDrawn(t *testing.T) {
	in := voucherwatch.SpotCheckInputs{}
	for i := range 30 {
		c := voucherwatch.SpotCheckClaimant{USCC: fmt.Sprintf("9143010000000000%02d", i), City: "430100", Requested: 6_000_000}
		if i < 2 {
			c.OpenHigh, c.AlertScore = 5, 5
		}
		in.Claimants = append(in.Claimants, c)
	}
	drawn := map[string]int{}
	for seed := range uint64(1000) {
		for _, it := range mustDraw(t, in, voucherwatch.SpotCheckParams{Share: 0.1, RiskFraction: 0.5, InspectorsPerItem: 1}, seed) {
			drawn[it.USCC]++
		}
	}
	for _, c := range in.Claimants {
		if drawn[c.USCC] == 0 {
			t.Errorf("%s never drawn in 1000 draws", c.USCC)
		}
	}
	if drawn[in.Claimants[0].USCC] < 5*drawn[in.Claimants[29].USCC] {
		t.Errorf("the risky enterprise drawn %d times, a harmless one %d: want the risky one far more often", drawn[in.Claimants[0].USCC], drawn[in.Claimants[29].USCC])
	}
}

func TestRisk(t *testing.T) {
	for _, tc := range []struct {
		name string
		c    voucherwatch.SpotCheckClaimant
		want int64
	}{
		{"nothing", voucherwatch.SpotCheckClaimant{}, 0},
		{"below ten thousand yuan", voucherwatch.SpotCheckClaimant{Requested: 9_999_99}, 0},
		{"fifty thousand yuan", voucherwatch.SpotCheckClaimant{Requested: 50_000_00}, 3 * riskPerDouble},
		{"ten million yuan", voucherwatch.SpotCheckClaimant{Requested: 10_000_000_00}, 10 * riskPerDouble},
		{"alerts", voucherwatch.SpotCheckClaimant{OpenHigh: 1, OpenMedium: 1, OpenLow: 2, AlertScore: 2.5}, 3000 + 2000 + 2000 + 2500},
	} {
		if got := RiskMilli(tc.c); got != tc.want {
			t.Errorf("%s: got %d, want %d", tc.name, got, tc.want)
		}
	}
}

func TestDrawRefuses(t *testing.T) {
	dup := voucherwatch.SpotCheckInputs{Claimants: []voucherwatch.SpotCheckClaimant{{USCC: "A", City: "430100"}, {USCC: "A", City: "430100"}}}
	for _, tc := range []struct {
		name      string
		in        voucherwatch.SpotCheckInputs
		p         voucherwatch.SpotCheckParams
		wantField string
	}{
		{"share zero", voucherwatch.SpotCheckInputs{}, voucherwatch.SpotCheckParams{Share: 0, InspectorsPerItem: 1}, "share"},
		{"share above one", voucherwatch.SpotCheckInputs{}, voucherwatch.SpotCheckParams{Share: 1.5, InspectorsPerItem: 1}, "share"},
		{"no inspectors per item", voucherwatch.SpotCheckInputs{}, voucherwatch.SpotCheckParams{Share: 0.1}, "inspectors_per_item"},
		{"negative minimum", voucherwatch.SpotCheckInputs{}, voucherwatch.SpotCheckParams{Share: 0.1, Min: -1, InspectorsPerItem: 1}, "min"},
		{"duplicate claimant", dup, voucherwatch.DefaultSpotCheckParams(), "claimants"},
	} {
		_, err := Draw(tc.in, tc.p, 1)
		var e *voucherwatch.Error
		if !asError(err, &e) || e.Field != tc.wantField {
			t.Errorf("%s: got %v, want an error naming %s", tc.name, err, tc.wantField)
		}
	}
	if items, err := Draw(voucherwatch.SpotCheckInputs{}, voucherwatch.DefaultSpotCheckParams(), 1); err != nil || len(items) != 0 {
		t.Errorf("no claimants: got %v, %v, want an empty list", items, err)
	}
}

func asError(err error, e **voucherwatch.Error) bool {
	v, ok := err.(*voucherwatch.Error)
	*e = v
	return ok
}

// BenchmarkDraw draws from a province of 50,000 claimants and 140 inspectors.
func BenchmarkDraw(b *testing.B) {
	in := skewedProvince(1, 50_000)
	for i := range 140 {
		in.Inspectors = append(in.Inspectors, voucherwatch.Inspector{ID: fmt.Sprintf("in_x%03d", i), Name: "检查员", City: cityCodes()[i%14]})
	}
	p := voucherwatch.DefaultSpotCheckParams()
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		if _, err := Draw(in, p, uint64(i)); err != nil {
			b.Fatal(err)
		}
	}
}

// TestDigestOfRecordedDraws pins the digest's format: draws recorded before stay verifiable
// (DigestMatches) only while the same inputs give the same digest.
func TestDigestOfRecordedDraws(t *testing.T) {
	if got, want := Digest(skewedProvince(7, 40)), "4da829ee5be3ba9b189bd112ca47fad6461be4b450c834ff1e71742a84f047d8"; got != want {
		t.Errorf("got %s, want %s", got, want)
	}
}
