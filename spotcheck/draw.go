// Package spotcheck draws the spot-check lists (专项抽查, "双随机、一公开"): which enterprises
// are inspected and by whom. Draw is a pure function of its inputs, parameters and seed, so
// that anyone holding a recorded draw's inputs can repeat it and get the same list; Conduct
// and Scheduler gather the inputs from the store, draw, and record the draw.
package spotcheck

import (
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"math"
	"math/bits"
	"math/rand/v2"
	"slices"
	"strings"

	"github.com/voucherwatch/voucherwatch"
)

// Method names the algorithm below. Change it whenever a change to this file could change the
// list drawn from the same inputs and seed, so that a recorded draw says which rules made it.
//
// The draw is integer arithmetic throughout (risk in milli-points, the share in parts per
// million, weights as integers, ChaCha8 for randomness) so that it gives the same list on
// every machine: floating-point rounding or a fused multiply-add on another CPU cannot move
// an enterprise in or out.
const Method = "vw-spotcheck/1 (city strata, Hamilton quotas, sequential integer-weighted risk part + uniform rest, least-loaded eligible inspectors, ChaCha8)"

// Risk weights, in milli-points. An enterprise's risk is
//
//	3 × open high alerts + 2 × open medium + 1 × open low
//	+ the sum of the open alerts' detector scores (each 0..1)
//	+ 0.15 × ⌊log₂(requested yuan / 10,000)⌋+1 (0 below 10,000 yuan)
//
// Open alerts dominate on purpose: they are the engine's own evidence. The amount term is
// logarithmic so that money matters (a 10-million claim is a bigger loss if it is false) but
// one large claimant does not crowd out every small one with findings: doubling the amount
// adds 0.15, one low alert adds 1 and more.
const (
	riskHigh      = 3000
	riskMedium    = 2000
	riskLow       = 1000
	riskPerDouble = 150
	// riskFloor is added to every weight so that an enterprise with no risk at all still has a
	// chance in the weighted part (and the uniform part gives it a fair one).
	riskFloor = 100
)

// RiskMilli is the risk score of a claimant in thousandths of a point.
func RiskMilli(c voucherwatch.SpotCheckClaimant) int64 {
	r := riskHigh*int64(max(c.OpenHigh, 0)) + riskMedium*int64(max(c.OpenMedium, 0)) + riskLow*int64(max(c.OpenLow, 0))
	if c.AlertScore > 0 && !math.IsInf(c.AlertScore, 0) {
		r += int64(math.Round(min(c.AlertScore, 1e6) * 1000)) // rounding is exact: portable
	}
	if c.Requested > 0 {
		tenThousands := uint64(c.Requested) / (10_000 * 100) // Money is in fen
		r += riskPerDouble * int64(bits.Len64(tenThousands))
	}
	return r
}

// Risk is RiskMilli in points, as items show it.
func Risk(c voucherwatch.SpotCheckClaimant) float64 { return float64(RiskMilli(c)) / 1000 }

// Canonical returns the inputs sorted (claimants by USCC, inspectors by id, conflicts sorted),
// so that the order the store answered in does not matter. It copies; in is not changed.
func Canonical(in voucherwatch.SpotCheckInputs) voucherwatch.SpotCheckInputs {
	out := voucherwatch.SpotCheckInputs{
		Claimants:  slices.Clone(in.Claimants),
		Inspectors: make([]voucherwatch.Inspector, len(in.Inspectors)),
	}
	if out.Claimants == nil {
		out.Claimants = []voucherwatch.SpotCheckClaimant{}
	}
	slices.SortFunc(out.Claimants, func(a, b voucherwatch.SpotCheckClaimant) int { return strings.Compare(a.USCC, b.USCC) })
	for i, ins := range in.Inspectors {
		ins.Conflicts = slices.Clone(ins.Conflicts)
		if ins.Conflicts == nil {
			ins.Conflicts = []string{}
		}
		slices.Sort(ins.Conflicts)
		// When and by whom an inspector was registered does not change a draw; leaving it
		// out keeps the digest about what matters.
		out.Inspectors[i] = voucherwatch.Inspector{ID: ins.ID, Name: ins.Name, City: ins.City, Conflicts: ins.Conflicts}
	}
	slices.SortFunc(out.Inspectors, func(a, b voucherwatch.Inspector) int { return strings.Compare(a.ID, b.ID) })
	return out
}

// Digest is the hex SHA-256 of the canonical JSON of the inputs: what an auditor compares to
// know that they re-run the draw on what it was drawn from.
func Digest(in voucherwatch.SpotCheckInputs) string {
	return voucherwatch.InputsDigest(Canonical(in))
}

// rng returns a ChaCha8 stream for one purpose of one draw. Each city and the inspector
// assignment have their own stream, so that adding a claimant in one city does not reshuffle
// another city's draw.
func rng(seed uint64, purpose string) *rand.Rand {
	h := sha256.New()
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], seed)
	h.Write([]byte("voucherwatch spot check\x00"))
	h.Write(b[:])
	h.Write([]byte(purpose))
	var key [32]byte
	copy(key[:], h.Sum(nil))
	return rand.New(rand.NewChaCha8(key))
}

// Draw draws the list: which claimants are inspected and by which inspectors. The same
// inputs (in any order), parameters and seed give the same items.
//
//   - Strata: each city is drawn on its own. The total is Share of the claimants (rounded),
//     at least Min; it is split between the cities in proportion to their claimants by the
//     largest-remainder (Hamilton) method, so every city's quota is within one of its exact
//     share; a city with claimants gets at least one, even when that takes the total over.
//     Claimants whose city is unknown ("") form a stratum of their own rather than be left out.
//   - Within a city, RiskFraction of the quota (the fractional part decided by the seed) is
//     drawn weighted by risk without replacement (sequentially, each pick with probability
//     proportional to riskFloor + risk among those left), and the rest uniformly from those
//     left, so that nobody is certain to escape.
//   - Inspectors: each item, in (city, USCC) order, gets InspectorsPerItem distinct
//     inspectors among those of another city who declared no conflict with it, the least
//     loaded first, ties broken at random. When fewer are eligible the item gets those and a
//     note; the rule is never bent.
//
// Items are sorted by city and USCC.
func Draw(in voucherwatch.SpotCheckInputs, p voucherwatch.SpotCheckParams, seed uint64) ([]voucherwatch.SpotCheckItem, error) {
	if err := p.Check(); err != nil {
		return nil, err
	}
	in = Canonical(in)
	for i := 1; i < len(in.Claimants); i++ {
		if in.Claimants[i].USCC == in.Claimants[i-1].USCC {
			return nil, voucherwatch.FieldErrorf("claimants", "claimant %s appears twice", in.Claimants[i].USCC)
		}
	}
	for i := 1; i < len(in.Inspectors); i++ {
		if in.Inspectors[i].ID == in.Inspectors[i-1].ID {
			return nil, voucherwatch.FieldErrorf("inspectors", "inspector %s appears twice", in.Inspectors[i].ID)
		}
	}

	// Strata, in city order; claimants stay in USCC order within each.
	byCity := map[string][]voucherwatch.SpotCheckClaimant{}
	var cities []string
	for _, c := range in.Claimants {
		if byCity[c.City] == nil {
			cities = append(cities, c.City)
		}
		byCity[c.City] = append(byCity[c.City], c)
	}
	slices.Sort(cities)
	sizes := make([]int64, len(cities))
	for i, city := range cities {
		sizes[i] = int64(len(byCity[city]))
	}
	quotas := Quotas(sizes, p.Share, p.Min)

	riskPerMille := int64(math.Round(p.RiskFraction * 1000))
	var items []voucherwatch.SpotCheckItem
	for i, city := range cities {
		r := rng(seed, "city "+city)
		pool := byCity[city]
		q := quotas[i]
		riskPart := q * riskPerMille / 1000
		if rem := q * riskPerMille % 1000; rem > 0 && r.Int64N(1000) < rem {
			riskPart++
		}
		weights := make([]int64, len(pool))
		for j, c := range pool {
			weights[j] = riskFloor + RiskMilli(c)
		}
		picked := make([]bool, len(pool))
		for range riskPart {
			j := weightedPick(r, weights, picked)
			picked[j] = true
			items = append(items, item(pool[j], voucherwatch.DrawnByRisk))
		}
		var rest []int
		for j := range pool {
			if !picked[j] {
				rest = append(rest, j)
			}
		}
		// A partial Fisher–Yates shuffle: the first q-riskPart of rest are a uniform sample.
		for k := int64(0); k < q-riskPart; k++ {
			s := k + r.Int64N(int64(len(rest))-k)
			rest[k], rest[s] = rest[s], rest[k]
			items = append(items, item(pool[rest[k]], voucherwatch.DrawnAtRandom))
		}
	}
	slices.SortFunc(items, func(a, b voucherwatch.SpotCheckItem) int {
		if c := strings.Compare(a.City, b.City); c != 0 {
			return c
		}
		return strings.Compare(a.USCC, b.USCC)
	})
	assignInspectors(items, in.Inspectors, p.InspectorsPerItem, rng(seed, "inspectors"))
	return items, nil
}

func item(c voucherwatch.SpotCheckClaimant, by string) voucherwatch.SpotCheckItem {
	return voucherwatch.SpotCheckItem{USCC: c.USCC, Name: c.Name, City: c.City, Risk: Risk(c), DrawnBy: by, Inspectors: []voucherwatch.InspectorRef{}}
}

// weightedPick picks an index not yet picked with probability proportional to its weight.
// Weights are positive integers, so the pick is exact and portable.
func weightedPick(r *rand.Rand, weights []int64, picked []bool) int {
	var total int64
	for j, w := range weights {
		if !picked[j] {
			total += w
		}
	}
	x := r.Int64N(total)
	last := -1
	for j, w := range weights {
		if picked[j] {
			continue
		}
		last = j
		if x < w {
			return j
		}
		x -= w
	}
	return last // not reached: x < total
}

// Quotas splits the draw between strata of the given sizes: a total of round(share × Σsizes),
// at least min and at most Σsizes, apportioned by largest remainder (ties to the larger
// stratum, then the earlier), then raised to one for every non-empty stratum.
func Quotas(sizes []int64, share float64, min int) []int64 {
	var n int64
	for _, s := range sizes {
		n += s
	}
	quotas := make([]int64, len(sizes))
	if n == 0 {
		return quotas
	}
	ppm := int64(math.Round(share * 1e6))
	// Each stratum's exact quota is num[i]/den.
	num := make([]int64, len(sizes))
	den := int64(1e6)
	for i, s := range sizes {
		num[i] = ppm * s
	}
	target := (ppm*n + 500_000) / 1_000_000 // round half up
	if target < int64(min) {
		target = int64(min)
		den = n
		for i, s := range sizes {
			num[i] = target * s
		}
	}
	if target > n {
		target = n
		den = 1
		copy(num, sizes)
	}
	var assigned int64
	order := make([]int, len(sizes))
	for i := range sizes {
		quotas[i] = num[i] / den
		assigned += quotas[i]
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int {
		ra, rb := num[a]%den, num[b]%den
		if ra != rb {
			if ra > rb {
				return -1
			}
			return 1
		}
		if sizes[a] != sizes[b] {
			if sizes[a] > sizes[b] {
				return -1
			}
			return 1
		}
		return 0
	})
	for _, i := range order {
		if assigned >= target {
			break
		}
		if num[i]%den != 0 && quotas[i] < sizes[i] {
			quotas[i]++
			assigned++
		}
	}
	for i, s := range sizes {
		if s > 0 && quotas[i] == 0 {
			quotas[i] = 1
		}
	}
	return quotas
}

// Why an item has fewer inspectors than asked for.
const (
	noteNoInspector    = "没有符合回避规则的检查人员（非本市州、无申报利益冲突）"
	noteFewInspectors  = "符合回避规则的检查人员不足"
	noteFewInspectorsF = noteFewInspectors + "：需要 %d 名，仅 %d 名"
)

// assignInspectors gives each item k inspectors. Eligible: of another city, no declared
// conflict with the item's enterprise. Among the eligible, the least loaded so far go first,
// ties in a random order, so that work spreads evenly and nobody can predict a pairing.
func assignInspectors(items []voucherwatch.SpotCheckItem, pool []voucherwatch.Inspector, k int, r *rand.Rand) {
	load := make([]int, len(pool))
	for i := range items {
		it := &items[i]
		var eligible []int
		for j, ins := range pool {
			if ins.City != it.City && !slices.Contains(ins.Conflicts, it.USCC) {
				eligible = append(eligible, j)
			}
		}
		r.Shuffle(len(eligible), func(a, b int) { eligible[a], eligible[b] = eligible[b], eligible[a] })
		slices.SortStableFunc(eligible, func(a, b int) int { return load[a] - load[b] })
		n := min(k, len(eligible))
		for _, j := range eligible[:n] {
			load[j]++
			ins := pool[j]
			it.Inspectors = append(it.Inspectors, voucherwatch.InspectorRef{ID: ins.ID, Name: ins.Name, City: ins.City})
		}
		switch {
		case n == 0:
			it.Note = noteNoInspector
		case n < k:
			it.Note = fmt.Sprintf(noteFewInspectorsF, k, n)
		}
	}
}
