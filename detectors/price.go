package detectors

import (
	"context"
	"fmt"
	"math"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"gonum.org/v1/gonum/stat"

	"github.com/voucherwatch/voucherwatch"
	"github.com/voucherwatch/voucherwatch/rules"
)

// Kinds of price_out_of_range alerts (M1d, 算力单价).
const (
	// KindUnitPriceFarAbove: a unit price far above the market band: an inflated settled amount
	// inflates the subsidy.
	KindUnitPriceFarAbove = "unit_price_far_above"
	// KindUnitPriceFarBelow: a unit price far below the market band: a sham or circular contract.
	KindUnitPriceFarBelow = "unit_price_far_below"
)

// priceClause is the policy clause every price alert rests on.
const priceClause = "五.1 / M1d"

// priceMADScale makes the median absolute deviation a consistent estimate of the standard
// deviation of normally distributed log prices.
const priceMADScale = 1.4826

// Price flags unit prices outside the market range for their chip and unit (policy 五.1 M1d
// 算力单价; 三: compute bought "at a reasonable market price").
//
// Every priced item of the current version of each contract, and every settlement item whose
// price differs from its contract's, is one observation: card-month prices are normalised to
// yuan per card-hour (Policy.PerCardHour, 720 hours), and token_million prices are compared only
// with token_million prices. The market band of an observation comes from the first of these
// that applies:
//
//  1. the operator's reference table (Policy.Price.Reference) for the chip and unit;
//  2. the observations of the same chip and unit in the same half-year (by signing date);
//  3. the observations of the same chip and unit;
//  4. the observations of the chip's origin class (domestic / foreign) and unit;
//  5. all observations of the unit;
//
// where 2–5 need at least Policy.Price.MinSample observations (distinct contract prices).
// Token prices skip 2–4: a model service's price follows the model, not the chip serving it
// (which a contract need not name), so token prices form one market unless the reference table
// prices a chip's tokens. An
// estimated band is robust on log price: the median m and σ = 1.4826·MAD; a price p is far
// above when p > m·HighFactor and ln p − ln m > MADk·σ, far below when p < m·LowFactor and
// ln m − ln p > MADk·σ. Both tests must hold: the factor keeps tight markets from flagging
// ordinary discounts, the MAD keeps wide markets (token prices span a decade) from flagging
// ordinary spread. With a reference [low, high], m = (low+high)/2 and p must also lie outside
// [low, high]. Chip models are matched case-, space- and hyphen-insensitively.
//
// One alert per contract and direction, carrying its worst item: severity high when the band is
// the chip's own (1–3), medium when it is the origin class's or the whole market's (4–5).
// Subjects: contract_no, supplier_uscc and applicant_uscc (the buyer); the claims citing the
// contract are in the evidence.
type Price struct {
	env Env

	mu  sync.Mutex
	obs []*priceObs // of the last run or check, for the next check
}

var _ voucherwatch.IncrementalDetector = (*Price)(nil)

// NewPrice builds the price_out_of_range detector.
func NewPrice(env Env) *Price { return &Price{env: env} }

// Name returns "price_out_of_range".
func (p *Price) Name() string { return voucherwatch.DetectorPrice }

// Kinds are the kinds its alerts may carry (voucherwatch.AlertKinds has their labels).
func (p *Price) Kinds() []string { return []string{KindUnitPriceFarAbove, KindUnitPriceFarBelow} }

// priceObs is one priced item: a contract's, or a settlement's that differs from its contract.
type priceObs struct {
	Supplier, Contract, Buyer string
	ChipModel, ChipOrigin     string
	ServiceType               string
	Unit                      string             // as given
	UnitPrice                 voucherwatch.Money // as given
	Cards                     int
	Signed                    time.Time // contract signing, or the settlement's first period day
	FromSettlement            bool
	Invoices                  []string // the settlements' invoices carrying this price

	kind    string  // card_hour or token_million
	perUnit float64 // yuan per card-hour, or per million tokens
}

// Run checks every priced item against its market band. at stamps the alerts.
func (p *Price) Run(ctx context.Context, at time.Time) ([]voucherwatch.Alert, error) {
	rm := p.env.reads()
	cities, err := Cities(ctx, rm)
	if err != nil {
		return nil, err
	}
	obs, err := p.observations(ctx, voucherwatch.ContractQuery{All: true})
	if err != nil {
		return nil, err
	}
	claims, err := latestClaimsInOrder(ctx, rm, voucherwatch.ClaimQuery{All: true})
	if err != nil {
		return nil, err
	}
	p.mu.Lock()
	p.obs = obs
	p.mu.Unlock()
	return p.alerts(obs, nil, newClaimIndex(claims), cities, at), nil
}

// Warm reads the market's observations for the checks, unless a run or check has kept them.
func (p *Price) Warm(ctx context.Context) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.obs != nil {
		return nil
	}
	obs, err := p.observations(ctx, voucherwatch.ContractQuery{All: true})
	if err != nil {
		return err
	}
	p.obs = obs
	return nil
}

// Check judges the priced items of the contracts that new contracts and settlements touch, and
// of the contracts new claims cite (their alerts list the claims), each alert as Run returns
// it. The market bands are estimated from every observation, as in Run: the detector keeps the
// observations of its last run or check and re-reads only the changed contracts' items, a
// keyed look-up, so that a new contract is judged against the market it joins.
func (p *Price) Check(ctx context.Context, at time.Time, changed voucherwatch.Changes) ([]voucherwatch.Alert, error) {
	if len(changed.Contracts) == 0 && len(changed.Claims) == 0 {
		return nil, nil
	}
	rm := p.env.reads()
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.obs == nil {
		obs, err := p.observations(ctx, voucherwatch.ContractQuery{All: true})
		if err != nil {
			return nil, err
		}
		p.obs = obs
	} else if len(changed.Contracts) > 0 {
		fresh, err := p.observations(ctx, voucherwatch.ContractQuery{Contracts: changed.ContractList()})
		if err != nil {
			return nil, err
		}
		obs := make([]*priceObs, 0, len(p.obs)+len(fresh))
		for _, o := range p.obs {
			if !changed.Contracts[[2]string{o.Supplier, o.Contract}] {
				obs = append(obs, o)
			}
		}
		p.obs = priceSorted(append(obs, fresh...))
	}
	// The contracts to judge: the changed ones, and those the changed claims cite.
	targets := map[[2]string]bool{}
	for k := range changed.Contracts {
		targets[k] = true
	}
	if len(changed.Claims) > 0 {
		claims, err := rm.LatestClaims(ctx, voucherwatch.ClaimQuery{IDs: changed.ClaimIDs()})
		if err != nil {
			return nil, fmt.Errorf("detectors: price_out_of_range: %w", err)
		}
		cited := map[[2]string]bool{}
		for _, c := range claims {
			for _, no := range c.Contracts {
				cited[[2]string{c.ApplicantUSCC, no}] = true
			}
		}
		for _, o := range p.obs {
			if cited[[2]string{o.Buyer, o.Contract}] {
				targets[[2]string{o.Supplier, o.Contract}] = true
			}
		}
	}
	var buyers []string
	for _, o := range p.obs {
		if targets[[2]string{o.Supplier, o.Contract}] {
			buyers = append(buyers, o.Buyer)
		}
	}
	if len(buyers) == 0 {
		return nil, nil
	}
	claims, err := latestClaimsInOrder(ctx, rm, voucherwatch.ClaimQuery{Applicants: slices.Compact(slices.Sorted(slices.Values(buyers)))})
	if err != nil {
		return nil, err
	}
	cities, err := Cities(ctx, rm)
	if err != nil {
		return nil, err
	}
	return p.alerts(p.obs, targets, newClaimIndex(claims), cities, at), nil
}

// alerts judges the observations of the target contracts (nil: all) against the market of
// every observation: one alert per contract and direction, carrying its worst item.
func (p *Price) alerts(obs []*priceObs, targets map[[2]string]bool, ix *claimIndex, cities map[string]string, at time.Time) []voucherwatch.Alert {
	m := newPriceMarket(p.env.Policy, obs)
	type contractDir struct {
		supplier, contract, kind string
	}
	worst := map[contractDir]*priceVerdict{}
	all := map[contractDir][]*priceVerdict{}
	var order []contractDir
	for _, o := range obs {
		if targets != nil && !targets[[2]string{o.Supplier, o.Contract}] {
			continue
		}
		v := m.judge(o)
		if v == nil {
			continue
		}
		k := contractDir{o.Supplier, o.Contract, v.Kind}
		if _, ok := worst[k]; !ok {
			order = append(order, k)
		}
		all[k] = append(all[k], v)
		if w := worst[k]; w == nil || math.Abs(v.LogRatio) > math.Abs(w.LogRatio) {
			worst[k] = v
		}
	}
	out := make([]voucherwatch.Alert, 0, len(order))
	for _, k := range order {
		f := p.finding(worst[k], all[k], ix)
		out = append(out, f.alert(cities, at))
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

// observations reads the contract items and those settlement items whose price their contract
// does not already carry, of the contracts q selects; only priced items come into Go.
func (p *Price) observations(ctx context.Context, q voucherwatch.ContractQuery) ([]*priceObs, error) {
	rm := p.env.reads()
	items, err := rm.ContractPricedItems(ctx, q)
	if err != nil {
		return nil, fmt.Errorf("detectors: price_out_of_range: %w", err)
	}
	var obs []*priceObs
	type itemKey struct {
		supplier, contract, chip, unit string
		price                          voucherwatch.Money
	}
	known := map[itemKey]bool{}
	signed := map[[2]string]time.Time{}
	for _, it := range items {
		o := priceObsOf(it)
		p.normalise(o)
		k := itemKey{o.Supplier, o.Contract, priceChipKey(o.ChipModel), o.Unit, o.UnitPrice}
		if known[k] {
			continue // one contract, one price: one observation
		}
		known[k] = true
		signed[[2]string{o.Supplier, o.Contract}] = o.Signed
		obs = append(obs, o)
	}
	settled, err := rm.SettledPricedItems(ctx, q)
	if err != nil {
		return nil, fmt.Errorf("detectors: price_out_of_range: %w", err)
	}
	for _, it := range settled {
		o := priceObsOf(it)
		o.FromSettlement = true
		if known[itemKey{o.Supplier, o.Contract, priceChipKey(o.ChipModel), o.Unit, o.UnitPrice}] {
			continue // invoiced at the contract's price
		}
		if s, ok := signed[[2]string{o.Supplier, o.Contract}]; ok {
			o.Signed = s
		}
		p.normalise(o)
		obs = append(obs, o)
	}
	return priceSorted(obs), nil
}

func priceObsOf(it voucherwatch.PricedItem) *priceObs {
	return &priceObs{Supplier: it.SupplierUSCC, Contract: it.ContractNo, Buyer: it.BuyerUSCC, Signed: it.Signed,
		ChipModel: it.ChipModel, ChipOrigin: it.ChipOrigin, ServiceType: it.ServiceType, Unit: it.Unit,
		UnitPrice: it.UnitPrice, Cards: it.Cards, Invoices: it.Invoices}
}

// priceSorted puts observations in a fixed order, which keeps the evidence of an unchanged
// finding unchanged from run to run.
func priceSorted(obs []*priceObs) []*priceObs {
	sort.SliceStable(obs, func(i, j int) bool {
		a, b := obs[i], obs[j]
		switch {
		case a.Supplier != b.Supplier:
			return a.Supplier < b.Supplier
		case a.Contract != b.Contract:
			return a.Contract < b.Contract
		case a.FromSettlement != b.FromSettlement:
			return !a.FromSettlement
		case a.ChipModel != b.ChipModel:
			return a.ChipModel < b.ChipModel
		case a.Unit != b.Unit:
			return a.Unit < b.Unit
		}
		return a.UnitPrice < b.UnitPrice
	})
	return obs
}

// normalise sets the observation's comparable price: yuan per card-hour, or per million tokens.
func (p *Price) normalise(o *priceObs) {
	o.perUnit, o.kind = p.env.Policy.PerCardHour(o.UnitPrice.Yuan(), o.Unit)
}

// priceChipKey matches chip names as suppliers spell them: "Ascend 910B", "ascend-910b".
func priceChipKey(s string) string {
	return strings.Map(func(r rune) rune {
		switch r {
		case ' ', '-', '_', '\t', '　':
			return -1
		}
		return r
	}, strings.ToLower(strings.TrimSpace(s)))
}

// priceHalf labels the half-year of a date: "2026H1".
func priceHalf(t time.Time) string {
	if t.IsZero() || t.Year() <= 1970 {
		return ""
	}
	h := 1
	if t.Month() > 6 {
		h = 2
	}
	return fmt.Sprintf("%dH%d", t.Year(), h)
}

// priceCell is a set of comparable observations: a chip (or origin class, or the whole market)
// and unit, optionally within a half-year.
type priceCell struct {
	level  int    // 2 chip and half-year, 3 chip, 4 origin class, 5 all
	group  string // chip key or origin
	kind   string
	period string
}

// priceBand is a cell's market estimate.
type priceBand struct {
	Median, Sigma float64 // on log price
	N             int
	Label         string // what the band is of, for evidence
	Method        string
	Own           bool // the chip's own band (reference or its own sample)
	Low, High     float64
	Reference     *rules.ReferencePrice
	// Thin marks a thin-market band (price_thin.go): N is then the chip's prices outside the
	// judged contract, Pool the class they were pooled with ("" for none) and PoolChips its
	// chips.
	Thin      bool
	Pool      string
	PoolChips int
}

// priceMarket estimates bands from the observations and judges each against its own.
type priceMarket struct {
	policy rules.Policy
	logs   map[priceCell][]float64
	names  map[string]string // chip key → a name as given
	bands  map[priceCell]*priceBand
	refs   map[[2]string]rules.ReferencePrice // (chip key, kind)
	thin   *priceThin
}

func newPriceMarket(policy rules.Policy, obs []*priceObs) *priceMarket {
	m := &priceMarket{policy: policy, logs: map[priceCell][]float64{}, names: map[string]string{},
		bands: map[priceCell]*priceBand{}, refs: map[[2]string]rules.ReferencePrice{}, thin: newPriceThin(obs)}
	for _, r := range policy.Price.Reference {
		// A reference by the card-month is normalised like the prices it is compared with.
		low, kind := policy.PerCardHour(r.Low, r.Unit)
		high, _ := policy.PerCardHour(r.High, r.Unit)
		r.Low, r.High, r.Unit = low, high, kind
		m.refs[[2]string{priceChipKey(r.ChipModel), kind}] = r
	}
	spellings := map[string]map[string]int{}
	for _, o := range obs {
		if o.perUnit <= 0 {
			continue
		}
		x := math.Log(o.perUnit)
		for _, c := range m.cells(o) {
			m.logs[c] = append(m.logs[c], x)
		}
		if k := priceChipKey(o.ChipModel); k != "" {
			if spellings[k] == nil {
				spellings[k] = map[string]int{}
			}
			spellings[k][o.ChipModel]++
		}
	}
	// A chip is shown as most suppliers spell it.
	for k, byName := range spellings {
		best, n := "", 0
		for name, c := range byName {
			if c > n || (c == n && name < best) {
				best, n = name, c
			}
		}
		m.names[k] = best
	}
	return m
}

// cells lists the cells an observation belongs to, most specific first.
func (m *priceMarket) cells(o *priceObs) []priceCell {
	var cs []priceCell
	if o.kind == voucherwatch.UnitTokenMillion {
		// A model service's price follows the model, not the chip serving it (which the
		// contract may not even name): token prices form one market.
		return append(cs, priceCell{5, "", o.kind, ""})
	}
	chip := priceChipKey(o.ChipModel)
	if chip != "" {
		if half := priceHalf(o.Signed); half != "" {
			cs = append(cs, priceCell{2, chip, o.kind, half})
		}
		cs = append(cs, priceCell{3, chip, o.kind, ""})
	}
	if o.ChipOrigin == voucherwatch.OriginDomestic || o.ChipOrigin == voucherwatch.OriginForeign {
		cs = append(cs, priceCell{4, o.ChipOrigin, o.kind, ""})
	}
	return append(cs, priceCell{5, "", o.kind, ""})
}

// band returns the band an observation is judged by, nil when no cell has enough prices.
func (m *priceMarket) band(o *priceObs) *priceBand {
	if r, ok := m.refs[[2]string{priceChipKey(o.ChipModel), o.kind}]; ok && r.High > 0 && r.Low > 0 {
		mid := (r.Low + r.High) / 2
		return &priceBand{Median: math.Log(mid), N: 0, Own: true, Low: r.Low, High: r.High, Reference: &r,
			Label:  fmt.Sprintf("%s（%s）", o.ChipModel, priceUnitZh(o.kind)),
			Method: fmt.Sprintf("reference table [%.2f, %.2f], median (low+high)/2", r.Low, r.High)}
	}
	// A chip with fewer than MinSample prices outside the judged contract is a thin market.
	if chip := priceChipKey(o.ChipModel); chip != "" && o.kind != voucherwatch.UnitTokenMillion &&
		len(m.logs[priceCell{2, chip, o.kind, priceHalf(o.Signed)}]) < m.policy.Price.MinSample &&
		m.thin.own(o) < m.policy.Price.MinSample {
		if b := m.thin.band(o, m.policy.Price.MinSample, m.names); b != nil {
			b := *b
			pol := m.policy.Price
			b.High = math.Max(math.Exp(b.Median+pol.MADk*b.Sigma), math.Exp(b.Median)*pol.HighFactor)
			b.Low = math.Min(math.Exp(b.Median-pol.MADk*b.Sigma), math.Exp(b.Median)*pol.LowFactor)
			return &b
		}
	}
	for _, c := range m.cells(o) {
		if b, ok := m.bands[c]; ok {
			return b
		}
		xs := m.logs[c]
		if len(xs) < m.policy.Price.MinSample {
			continue
		}
		b := m.estimate(c, xs)
		m.bands[c] = b
		return b
	}
	return nil
}

// estimate computes the robust band of one cell: median and scaled MAD of log prices.
func (m *priceMarket) estimate(c priceCell, xs []float64) *priceBand {
	s := append([]float64(nil), xs...)
	sort.Float64s(s)
	med := priceMedian(s)
	dev := make([]float64, len(s))
	for i, x := range s {
		dev[i] = math.Abs(x - med)
	}
	sort.Float64s(dev)
	sigma := priceMADScale * priceMedian(dev)
	pol := m.policy.Price
	b := &priceBand{Median: med, Sigma: sigma, N: len(s), Own: c.level <= 3}
	b.High = math.Max(math.Exp(med+pol.MADk*sigma), math.Exp(med)*pol.HighFactor)
	b.Low = math.Min(math.Exp(med-pol.MADk*sigma), math.Exp(med)*pol.LowFactor)
	unit := priceUnitZh(c.kind)
	switch c.level {
	case 2:
		b.Label = fmt.Sprintf("%s（%s，%s）", m.names[c.group], unit, c.period)
	case 3:
		b.Label = fmt.Sprintf("%s（%s）", m.names[c.group], unit)
	case 4:
		b.Label = fmt.Sprintf("%s芯片（%s）", priceOriginZh(c.group), unit)
	default:
		b.Label = fmt.Sprintf("全部芯片（%s）", unit)
	}
	b.Method = fmt.Sprintf("median±%g·MAD on log price (σ=1.4826·MAD=%.3f), n=%d, and beyond ×%g / ×%g of the median",
		pol.MADk, sigma, len(s), pol.HighFactor, pol.LowFactor)
	return b
}

// priceMedian is the median of sorted xs: gonum's empirical quantile, averaged with the upper
// middle value for an even count.
func priceMedian(sorted []float64) float64 {
	lo := stat.Quantile(0.5, stat.Empirical, sorted, nil)
	if len(sorted)%2 == 0 {
		return (lo + sorted[len(sorted)/2]) / 2
	}
	return lo
}

// priceVerdict is one observation outside its band.
type priceVerdict struct {
	Obs      *priceObs
	Band     *priceBand
	Kind     string
	LogRatio float64 // ln(price / median)
}

// judge returns the verdict on an observation outside its band, nil when it is inside or
// there is no band.
func (m *priceMarket) judge(o *priceObs) *priceVerdict {
	if o.perUnit <= 0 {
		return nil
	}
	b := m.band(o)
	if b == nil {
		return nil
	}
	pol := m.policy.Price
	x := math.Log(o.perUnit)
	r := x - b.Median
	med := math.Exp(b.Median)
	var kind string
	if b.Reference != nil {
		switch {
		case o.perUnit > b.High && o.perUnit > med*pol.HighFactor:
			kind = KindUnitPriceFarAbove
		case o.perUnit < b.Low && o.perUnit < med*pol.LowFactor:
			kind = KindUnitPriceFarBelow
		}
	} else {
		switch {
		case o.perUnit > med*pol.HighFactor && r > pol.MADk*b.Sigma:
			kind = KindUnitPriceFarAbove
		case o.perUnit < med*pol.LowFactor && -r > pol.MADk*b.Sigma:
			kind = KindUnitPriceFarBelow
		}
	}
	if kind == "" {
		return nil
	}
	return &priceVerdict{Obs: o, Band: b, Kind: kind, LogRatio: r}
}

func (p *Price) finding(v *priceVerdict, all []*priceVerdict, ix *claimIndex) finding {
	o, b := v.Obs, v.Band
	pol := p.env.Policy.Price
	med := math.Exp(b.Median)
	ratio := o.perUnit / med
	sev := voucherwatch.SeverityHigh
	score := math.Abs(v.LogRatio) / (2 * math.Log(pol.HighFactor))
	if v.Kind == KindUnitPriceFarBelow {
		score = math.Abs(v.LogRatio) / (2 * math.Log(1/pol.LowFactor))
	}
	score = math.Min(1, score)
	if !b.Own {
		sev, score = voucherwatch.SeverityMedium, score*0.8
	}
	unit := priceUnitZh(o.kind)
	given := fmt.Sprintf("%s 元/%s", yuan(o.UnitPrice), priceUnitZh(o.Unit))
	if o.Unit != o.kind {
		given += fmt.Sprintf("（折合 %.2f 元/%s）", o.perUnit, unit)
	}
	where := "合同 " + o.Contract
	if o.FromSettlement {
		where = "合同 " + o.Contract + " 的结算发票（" + strings.Join(o.Invoices, "、") + "）"
	}
	title, dir, why := "算力单价明显高于市场价格区间", "高于", "抬高结算金额从而多领补贴"
	if v.Kind == KindUnitPriceFarBelow {
		title, dir, why = "算力单价明显低于市场价格区间", "低于", "疑似虚假或非真实交易的合同"
	}
	method := fmt.Sprintf("按对数价格的中位数±%g·MAD估计，样本 %d 个", pol.MADk, b.N)
	if b.Reference != nil {
		method = "运营方参考价格表"
	}
	if b.Thin {
		method = b.thinText() + "，按对数价格加权估计"
	}
	var items []map[string]any
	for _, w := range all {
		items = append(items, priceItemEvidence(w))
	}
	return finding{
		Detector:     voucherwatch.DetectorPrice,
		Kind:         v.Kind,
		Severity:     sev,
		Score:        voucherwatch.RoundTo(score, 2),
		Subjects:     voucherwatch.Subjects{ApplicantUSCC: o.Buyer, SupplierUSCC: o.Supplier, ContractNo: o.Contract},
		PolicyClause: priceClause,
		Title:        title,
		Reason: fmt.Sprintf("%s 中%s的单价为 %s，是 %s 市场中位价 %.2f 元/%s 的 %.2f 倍，%s市场区间 %.2f–%.2f 元/%s（%s），%s，不符合《实施细则》三“合理市场价格”的要求，依五.1 对算力单价的监管（M1d）予以预警",
			where, priceChipZh(o.ChipModel), given, b.Label, med, unit, ratio, dir, b.Low, b.High, unit, method, why),
		Evidence: map[string]any{
			"contract_no":   o.Contract,
			"supplier_uscc": o.Supplier,
			"buyer_uscc":    o.Buyer,
			"worst_item":    priceItemEvidence(v),
			"items":         items,
			"band": map[string]any{
				"of":     b.Label,
				"low":    voucherwatch.RoundTo(b.Low, 2),
				"median": voucherwatch.RoundTo(med, 2),
				"high":   voucherwatch.RoundTo(b.High, 2),
				"unit":   "yuan/" + o.kind,
				"n":      b.N,
				"method": b.Method,
				"pool":   priceBandPool(b),
			},
			"ratio_to_median": voucherwatch.RoundTo(ratio, 2),
			"claims":          ix.claimIDs(o.Buyer, o.Contract),
		},
	}
}

func priceItemEvidence(v *priceVerdict) map[string]any {
	o := v.Obs
	e := map[string]any{
		"chip_model":      o.ChipModel,
		"chip_origin":     o.ChipOrigin,
		"service_type":    o.ServiceType,
		"cards":           o.Cards,
		"unit":            o.Unit,
		"unit_price":      yuan(o.UnitPrice),
		"normalised":      voucherwatch.RoundTo(o.perUnit, 2),
		"normalised_unit": "yuan/" + o.kind,
		"ratio_to_median": voucherwatch.RoundTo(math.Exp(v.LogRatio), 2),
		"source":          "contract",
	}
	if o.FromSettlement {
		e["source"] = "settlement"
		e["invoices"] = o.Invoices
	}
	return e
}

func priceUnitZh(unit string) string {
	switch unit {
	case voucherwatch.UnitCardHour:
		return "卡时"
	case voucherwatch.UnitCardMonth:
		return "卡月"
	case voucherwatch.UnitTokenMillion:
		return "百万tokens"
	}
	return unit
}

func priceOriginZh(origin string) string {
	if origin == voucherwatch.OriginDomestic {
		return "国产"
	}
	return "非国产"
}

func priceChipZh(chip string) string {
	if chip == "" {
		return "未注明芯片的项目"
	}
	return " " + chip + " 项目"
}

// priceBandPool names the prices a band rests on, for the evidence: the chip's own sample, the
// class a thin market was pooled with, or the reference table.
func priceBandPool(b *priceBand) map[string]any {
	switch {
	case b.Reference != nil:
		return map[string]any{"kind": "reference"}
	case b.Thin:
		return map[string]any{"kind": "thin_market_pooled", "own_samples": b.N, "class": b.Pool, "class_chips": b.PoolChips,
			"leave_one_out": true}
	case b.Own:
		return map[string]any{"kind": "chip", "samples": b.N}
	}
	return map[string]any{"kind": "class", "of": b.Label, "samples": b.N}
}
