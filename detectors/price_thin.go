package detectors

import (
	"fmt"
	"math"
	"sort"
	"strings"

	"github.com/voucherwatch/voucherwatch"
)

// Thin markets. A chip with fewer than MinSample prices of other contracts may not set its own
// band from the very prices it should judge: a seller of a rare chip at three times its price
// would otherwise fall back to the band of all chips of its origin, whose spread (a cheap chip
// beside a premium one) hides the outlier, and a new premium chip at its normal price would be
// judged against cheaper chips. So a thin chip's band is estimated like this:
//
//   - the judged contract is left out of its own sample (leave-one-out);
//   - the chip's own prices (n of them, perhaps none) are pooled with its class: the other
//     chips of the same origin and family (the model's letters: Ascend, MLU, H, A ...), else of
//     the same origin, else all chips of the unit. The class gives a prior location (the median
//     of its chips' medians) with the spread between chips σb; the chip's own prices give their
//     median with the spread within a chip σw (the median of the chips' own robust spreads).
//     They are weighted by sample size: location = (n/σw²·own + 1/σb²·class) / (n/σw² + 1/σb²);
//   - the band's σ is √(σw² + the variance of that location): a chip with no price of its own
//     keeps the whole spread between chips (a new chip at its normal price is not flagged), one
//     with a few prices gets nearly the spread within a chip.
//
// The factor tests (HighFactor, LowFactor) apply as for every band, so ordinary discounts are
// never flagged. The evidence names the pool and how many prices the band rests on.

// priceThinMinSigma keeps a market without spread (every contract at one list price) from
// flagging a price a few percent off.
const priceThinMinSigma = 0.05

// priceThinMinClassSigma is the least spread between the chips of a class on log price (a
// factor of 1.5): one or two chips of a class say little about a third, and a new chip at its
// own price must not be flagged for differing from them.
const priceThinMinClassSigma = 0.4

// priceChipFamily is the family part of a chip key: its leading letters ("ascend910b" →
// "ascend", "h100" → "h", "hygonk100" → "hygonk").
func priceChipFamily(chip string) string {
	i := strings.IndexFunc(chip, func(r rune) bool { return r >= '0' && r <= '9' })
	if i < 0 {
		return chip
	}
	return chip[:i]
}

// priceChipStats is one chip's prices of one kind: per contract, and its median and spread.
type priceChipStats struct {
	chip, origin, kind string
	byContract         map[[2]string][]float64
	n                  int
	median, sigma      float64
}

// priceThin holds what thin-market bands are estimated from.
type priceThin struct {
	chips  map[[2]string]*priceChipStats // (chip key, kind)
	within map[string]float64            // kind → σw
}

func newPriceThin(obs []*priceObs) *priceThin {
	t := &priceThin{chips: map[[2]string]*priceChipStats{}, within: map[string]float64{}}
	for _, o := range obs {
		chip := priceChipKey(o.ChipModel)
		if o.perUnit <= 0 || chip == "" || o.kind == voucherwatch.UnitTokenMillion {
			continue
		}
		k := [2]string{chip, o.kind}
		s := t.chips[k]
		if s == nil {
			s = &priceChipStats{chip: chip, origin: o.ChipOrigin, kind: o.kind, byContract: map[[2]string][]float64{}}
			t.chips[k] = s
		}
		c := [2]string{o.Supplier, o.Contract}
		s.byContract[c] = append(s.byContract[c], math.Log(o.perUnit))
		s.n++
	}
	sigmas := map[string][]float64{}
	for _, s := range t.chips {
		xs := s.logs([2]string{})
		s.median, s.sigma = priceRobust(xs)
		if len(xs) >= 3 {
			sigmas[s.kind] = append(sigmas[s.kind], s.sigma)
		}
	}
	for kind, ss := range sigmas {
		sort.Float64s(ss)
		t.within[kind] = math.Max(priceThinMinSigma, priceMedian(ss))
	}
	return t
}

// logs returns the chip's log prices, those of contract skip left out.
func (s *priceChipStats) logs(skip [2]string) []float64 {
	var out []float64
	for c, xs := range s.byContract {
		if c != skip {
			out = append(out, xs...)
		}
	}
	sort.Float64s(out)
	return out
}

// priceRobust is the median and σ = 1.4826·MAD of sorted xs.
func priceRobust(sorted []float64) (median, sigma float64) {
	if len(sorted) == 0 {
		return 0, 0
	}
	median = priceMedian(sorted)
	dev := make([]float64, len(sorted))
	for i, x := range sorted {
		dev[i] = math.Abs(x - median)
	}
	sort.Float64s(dev)
	return median, priceMADScale * priceMedian(dev)
}

// own returns the number of prices of o's chip outside o's contract.
func (t *priceThin) own(o *priceObs) int {
	s := t.chips[[2]string{priceChipKey(o.ChipModel), o.kind}]
	if s == nil {
		return 0
	}
	return s.n - len(s.byContract[[2]string{o.Supplier, o.Contract}])
}

// band estimates the thin-market band of o, nil when neither the chip nor any class has prices.
func (t *priceThin) band(o *priceObs, minSample int, names map[string]string) *priceBand {
	chip := priceChipKey(o.ChipModel)
	self := t.chips[[2]string{chip, o.kind}]
	var own []float64
	if self != nil {
		own = self.logs([2]string{o.Supplier, o.Contract})
	}
	sw, ok := t.within[o.kind]
	if !ok {
		sw = 0.15 // no chip has three prices: a modest spread within a chip
	}
	// The class: the other chips of the family, of the origin, or of the unit, whichever
	// first has a chip with prices.
	family := priceChipFamily(chip)
	var classMedians []float64
	var pool string
	for level := 0; level < 3 && len(classMedians) == 0; level++ {
		classMedians = classMedians[:0]
		for _, s := range t.chips {
			if s.kind != o.kind || s.chip == chip || s.n == 0 {
				continue
			}
			switch level {
			case 0:
				if s.origin != o.ChipOrigin || priceChipFamily(s.chip) != family {
					continue
				}
			case 1:
				if s.origin != o.ChipOrigin {
					continue
				}
			}
			classMedians = append(classMedians, s.median)
		}
		switch level {
		case 0:
			pool = fmt.Sprintf("%s系列%s芯片", strings.ToUpper(family), priceOriginZh(o.ChipOrigin))
		case 1:
			pool = priceOriginZh(o.ChipOrigin) + "芯片"
		default:
			pool = "全部芯片"
		}
	}
	n := len(own)
	if n == 0 && len(classMedians) == 0 {
		return nil
	}
	sort.Float64s(classMedians)
	var mk, sb float64
	if len(classMedians) > 0 {
		mk, sb = priceRobust(classMedians)
		// Few chips give no spread worth the name: the chips of a class differ by at least
		// priceThinMinClassSigma, and by up to half the range of their medians.
		sb = math.Max(sb, math.Max(priceThinMinClassSigma, (classMedians[len(classMedians)-1]-classMedians[0])/2))
	}
	var loc, varLoc float64
	switch {
	case n == 0:
		// A new chip: the class locates it, with the whole spread between chips.
		loc, varLoc = mk, sb*sb
	case len(classMedians) == 0:
		ownMed, _ := priceRobust(own)
		loc, varLoc, pool = ownMed, sw*sw/float64(n), ""
	default:
		ownMed, _ := priceRobust(own)
		precOwn, precClass := float64(n)/(sw*sw), 1/(sb*sb)
		loc = (precOwn*ownMed + precClass*mk) / (precOwn + precClass)
		varLoc = 1 / (precOwn + precClass)
		// One other price cannot say which of the two is off: the one farther from the class
		// is. When it is the other price, that price locates nothing.
		if x := math.Log(o.perUnit); n == 1 && math.Abs(x-mk) <= math.Abs(ownMed-mk) {
			loc, varLoc = mk, sb*sb
		}
	}
	sigma := math.Sqrt(sw*sw + varLoc)
	b := &priceBand{Median: loc, Sigma: sigma, N: n, Own: n >= 2, Thin: true, Pool: pool, PoolChips: len(classMedians)}
	b.Label = fmt.Sprintf("%s（%s）", names[chip], priceUnitZh(o.kind))
	if pool != "" {
		b.Label = fmt.Sprintf("%s（%s，样本少，与%s合并估计）", names[chip], priceUnitZh(o.kind), pool)
	}
	b.Method = fmt.Sprintf("thin market: %d price(s) of the chip outside this contract (fewer than %d), pooled with %d chip(s) of the class %q weighted by sample size; σ=%.3f (within a chip %.3f)",
		n, minSample, len(classMedians), pool, sigma, sw)
	return b
}

// thinText says, in Chinese, what a thin-market band rests on.
func (b *priceBand) thinText() string {
	if b.Pool == "" {
		return fmt.Sprintf("该芯片样本较少：除本合同外仅 %d 个价格", b.N)
	}
	return fmt.Sprintf("该芯片样本较少：除本合同外仅 %d 个价格，已与同类（%s，%d 种芯片）按样本量加权合并估计", b.N, b.Pool, b.PoolChips)
}
