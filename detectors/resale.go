package detectors

import (
	"context"
	"fmt"
	"maps"
	"math"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/voucherwatch/voucherwatch"
)

// Resale finds applicants that pass subsidised compute on to others (转租转售, 五.1 / M1c): a
// buyer that, while it buys a kind of compute, sells the same kind as a supplier itself
// (above all when it is no registered supplier with capacity of its own), whose tenant other
// organisations log in to, and whose sales come close to what it bought.
//
// It raises one alert per reseller and upstream contract: subjects are the reseller
// (applicant_uscc, the buyer of the subsidised compute), its upstream supplier and the
// contract it bought under.
type Resale struct {
	env Env

	// groups are the control groups of the registry as last read, for checks: read by full
	// runs and by checks of registry changes.
	mu       sync.Mutex
	groups   *controlGroups
	groupsAt time.Time
}

// NewResale builds the resale detector.
func NewResale(env Env) *Resale { return &Resale{env: env} }

var _ voucherwatch.IncrementalDetector = (*Resale)(nil)

// Name is "resale".
func (d *Resale) Name() string { return voucherwatch.DetectorResale }

// Kinds are the kinds its alerts may carry (voucherwatch.AlertKinds has their labels).
func (d *Resale) Kinds() []string {
	return []string{KindResaleToOtherOrgs, KindResaleSameKind, KindLoginsFromOtherOrgs}
}

// Kinds of resale alerts.
const (
	// KindResaleToOtherOrgs: it sells the kind it buys, and other organisations log in to the
	// compute it bought.
	KindResaleToOtherOrgs = "resale_to_other_orgs"
	// KindResaleSameKind: it sells the kind it buys while it buys it; logins are its own.
	KindResaleSameKind = "resale_same_kind"
	// KindLoginsFromOtherOrgs: other organisations log in to the compute it bought; no sale
	// of that kind is on record.
	KindLoginsFromOtherOrgs = "logins_from_other_orgs"
)

const resaleClause = "五.1 / M1c"

// resaleMediumRatio is the share of what it bought that an applicant must sell on, without
// other organisations' logins, for the sale to count as likely resale rather than a weak sign.
const resaleMediumRatio = 0.25

// resaleLine is one kind of compute on one contract, bought or sold.
type resaleLine struct {
	Seller, Buyer string
	ContractNo    string
	Kind          string // normalised: "card:<chip>" for card-hours and card-months, "token:<service>"
	Label         string // the chip model or service type as written
	Start, End    time.Time
	CardHours     float64 // card-months converted at the policy's card_month_hours
	Tokens        float64 // millions
	Amount        voucherwatch.Money
	// Settled figures, from the invoices (sold lines only).
	SettledCardHours float64
	SettledTokens    float64
	Settled          voucherwatch.Money
	Invoices         int
}

// resaleUsage is the metered use of one bought contract, and the other organisations whose
// logins it carried.
type resaleUsage struct {
	Buyer, Supplier, ContractNo string
	Windows                     int
	CardHours                   float64
	OtherWindows                int     // windows with a login from another organisation
	OtherCardHours              float64 // card-hours of those windows
	Orgs                        map[string]int
}

// resaleParty is what the registry says about an enterprise the detector names.
type resaleParty struct {
	Name               string
	RegisteredSupplier bool
	Capacity           map[string]int // normalised chip model → cards
}

// resaleInput is everything the detector reads, aggregated by SQL.
type resaleInput struct {
	Bought  []resaleLine           // lines of contracts the candidates bought
	Sold    []resaleLine           // lines of contracts and invoices the candidates sold
	Usage   []resaleUsage          // per bought contract
	Claims  map[[2]string][]string // (applicant, contract_no) → claim ids
	Parties map[string]resaleParty
	// Groups are the control groups of the registry: a company under the applicant's control
	// (or its controller's) sells and lets others log in on the applicant's behalf, and its
	// capacity is the applicant's own. Nil: every enterprise stands alone.
	Groups *controlGroups
}

// Run evaluates the detector over every contract, invoice, usage window and claim stored. at
// only stamps the alerts: a purchase and a sale are compared with each other, not with the
// clock.
func (d *Resale) Run(ctx context.Context, at time.Time) ([]voucherwatch.Alert, error) {
	readAt := time.Now()
	groups, err := loadControlGroups(ctx, d.env)
	if err != nil {
		return nil, err
	}
	f, err := d.env.reads().ResaleFacts(ctx)
	if err != nil {
		return nil, fmt.Errorf("detectors: resale: %w", err)
	}
	alerts, err := d.alerts(ctx, f, groups, nil, at)
	if err == nil {
		d.keepGroups(groups, readAt)
	}
	return alerts, err
}

// Warm reads the control groups for the checks, unless a run or check has kept them.
func (d *Resale) Warm(ctx context.Context) error {
	d.mu.Lock()
	kept := d.groups != nil
	d.mu.Unlock()
	if kept {
		return nil
	}
	readAt := time.Now()
	groups, err := loadControlGroups(ctx, d.env)
	if err != nil {
		return err
	}
	d.keepGroups(groups, readAt)
	return nil
}

// Check returns the alerts of the purchases of the enterprises that changed records name:
// both sides of a new contract or settlement (the seller may resell what it bought, the
// buyer what it buys), a new claim's applicant, an enterprise of a new registry record, and
// the companies under one control with each (whose sales count as theirs). Each alert is as
// Run returns it: the facts are read for those enterprises only (ResaleFactsOf), and the
// control groups are the registry's as last read, read again when a registry record
// changed. Logins of other organisations arrive with usage, which no check follows: an alert
// on logins alone comes with the next full run.
func (d *Resale) Check(ctx context.Context, at time.Time, changed voucherwatch.Changes) ([]voucherwatch.Alert, error) {
	seeds := map[string]bool{}
	for _, p := range changed.PairList() {
		seeds[p[0]], seeds[p[1]] = true, true
	}
	for e := range changed.Enterprises {
		seeds[e] = true
	}
	if ids := changed.ClaimIDs(); len(ids) > 0 {
		claims, err := d.env.reads().LatestClaims(ctx, voucherwatch.ClaimQuery{IDs: ids})
		if err != nil {
			return nil, fmt.Errorf("detectors: resale: %w", err)
		}
		for _, c := range claims {
			seeds[c.ApplicantUSCC] = true
		}
	}
	delete(seeds, "")
	if len(seeds) == 0 {
		return nil, nil
	}
	d.mu.Lock()
	groups := d.groups
	d.mu.Unlock()
	if groups == nil || len(changed.Enterprises) > 0 {
		readAt := time.Now()
		var err error
		if groups, err = loadControlGroups(ctx, d.env); err != nil {
			return nil, err
		}
		defer d.keepGroups(groups, readAt)
	}
	scope := map[string]bool{}
	for e := range seeds {
		scope[e] = true
		for _, m := range groups.members(e) {
			scope[m] = true
		}
	}
	rm := d.env.reads()
	f, err := rm.ResaleFactsOf(ctx, ruleSortedKeys(scope))
	if err != nil {
		return nil, fmt.Errorf("detectors: resale: %w", err)
	}
	// The metered use of a purchase is evidence, not a signal: read it for the purchases
	// found, then weigh them again with it (the findings are the same, their evidence
	// complete). Most checks find nothing and read no usage.
	in := resaleInputOf(f, d.cardMonthHours())
	in.Groups = groups
	var found [][3]string
	for _, fd := range detectResale(in) {
		if s := fd.Subjects; scope[s.ApplicantUSCC] {
			found = append(found, [3]string{s.ApplicantUSCC, s.SupplierUSCC, s.ContractNo})
		}
	}
	if len(found) == 0 {
		return []voucherwatch.Alert{}, nil
	}
	use, err := rm.PurchaseUse(ctx, found)
	if err != nil {
		return nil, fmt.Errorf("detectors: resale: %w", err)
	}
	have := map[[3]string]int{}
	for i, u := range f.Usage {
		have[[3]string{u.BuyerUSCC, u.SupplierUSCC, u.ContractNo}] = i
	}
	for _, u := range use {
		if i, ok := have[[3]string{u.BuyerUSCC, u.SupplierUSCC, u.ContractNo}]; ok {
			f.Usage[i].Windows, f.Usage[i].CardHours = u.Windows, u.CardHours
		} else {
			f.Usage = append(f.Usage, u)
		}
	}
	return d.alerts(ctx, f, groups, scope, at)
}

// alerts weighs the facts; scope, when set, keeps the alerts of its enterprises' purchases.
func (d *Resale) alerts(ctx context.Context, f voucherwatch.ResaleFacts, groups *controlGroups, scope map[string]bool, at time.Time) ([]voucherwatch.Alert, error) {
	in := resaleInputOf(f, d.cardMonthHours())
	in.Groups = groups
	fs := detectResale(in)
	alerts := []voucherwatch.Alert{}
	if len(fs) == 0 {
		return alerts, nil
	}
	cities, err := Cities(ctx, d.env.reads())
	if err != nil {
		return nil, err
	}
	for _, f := range fs {
		if scope == nil || scope[f.Subjects.ApplicantUSCC] {
			alerts = append(alerts, f.alert(cities, at))
		}
	}
	return alerts, nil
}

// keepGroups keeps g for checks unless groups of a later read are kept already.
func (d *Resale) keepGroups(g *controlGroups, readAt time.Time) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.groups == nil || !readAt.Before(d.groupsAt) {
		d.groups, d.groupsAt = g, readAt
	}
}

func (d *Resale) cardMonthHours() float64 {
	if h := d.env.Policy.CardMonthHours; h > 0 {
		return h
	}
	return 720
}

// resaleChip makes "Ascend 910B", "ascend-910b" and "ASCEND910B" one model.
func resaleChip(s string) string {
	return strings.Map(func(r rune) rune {
		r = halfWidth(r)
		switch r {
		case ' ', '-', '_', '\t':
			return -1
		}
		if r >= 'a' && r <= 'z' {
			return r - 'a' + 'A'
		}
		return r
	}, s)
}

// resaleKind is the kind of compute an item is: card rental of a chip model, or a
// token-priced service. Items priced otherwise (fixed fees) are no kind.
func resaleKind(chip, service string, cardHours, tokens float64) (kind, label string) {
	switch {
	case cardHours > 0 && chip != "":
		return "card:" + resaleChip(chip), chip
	case cardHours > 0:
		return "card:" + service, service
	case tokens > 0:
		return "token:" + service, service
	}
	return "", ""
}

// resaleInputOf sorts the facts' trade lines into kinds of compute; lines priced otherwise
// (fixed fees) are dropped.
func resaleInputOf(f voucherwatch.ResaleFacts, cardMonthHours float64) resaleInput {
	in := resaleInput{Claims: f.Claims, Parties: map[string]resaleParty{}}
	lines := func(ts []voucherwatch.TradeLine, settled bool) []resaleLine {
		var out []resaleLine
		for _, t := range ts {
			l := resaleLine{Seller: t.Seller, Buyer: t.Buyer, ContractNo: t.ContractNo}
			hours := t.CardHours + t.CardMonths*cardMonthHours
			l.Kind, l.Label = resaleKind(t.Chip, t.Service, hours, t.Tokens)
			if l.Kind == "" {
				continue
			}
			l.Start, l.End = resaleDate(t.Start), resaleDate(t.End)
			if l.Start.IsZero() {
				l.Start = resaleDate(t.Signed)
			}
			if l.End.IsZero() && !l.Start.IsZero() {
				l.End = l.Start.AddDate(1, 0, -1)
			}
			if settled {
				l.SettledCardHours, l.SettledTokens, l.Settled, l.Invoices = hours, t.Tokens, t.Amount, t.Invoices
			} else {
				l.CardHours, l.Tokens, l.Amount = hours, t.Tokens, t.Amount
			}
			out = append(out, l)
		}
		return out
	}
	in.Bought = lines(f.Bought, false)
	in.Sold = resaleMergeSold(lines(f.Sold, false), lines(f.Settled, true))
	// In one order whatever order the store returned them in, so that the evidence's lists
	// and sums are the same on every read, a full run's and a check's alike.
	for _, ls := range [][]resaleLine{in.Bought, in.Sold} {
		sort.SliceStable(ls, func(i, j int) bool {
			a, b := &ls[i], &ls[j]
			if a.Seller != b.Seller {
				return a.Seller < b.Seller
			}
			if a.Buyer != b.Buyer {
				return a.Buyer < b.Buyer
			}
			if a.ContractNo != b.ContractNo {
				return a.ContractNo < b.ContractNo
			}
			return a.Kind < b.Kind
		})
	}
	for _, u := range f.Usage {
		in.Usage = append(in.Usage, resaleUsage{Buyer: u.BuyerUSCC, Supplier: u.SupplierUSCC, ContractNo: u.ContractNo,
			Windows: u.Windows, CardHours: u.CardHours, OtherWindows: u.OtherWindows, OtherCardHours: u.OtherCardHours, Orgs: u.Logins})
	}
	for uscc, pc := range f.Parties {
		p := resaleParty{Name: pc.Name, RegisteredSupplier: pc.RegisteredSupplier, Capacity: map[string]int{}}
		for i, c := range pc.ChipModels {
			if i < len(pc.Cards) {
				p.Capacity[resaleChip(c)] += pc.Cards[i]
			}
		}
		in.Parties[uscc] = p
	}
	return in
}

// resaleDate drops ClickHouse's zero date (1970-01-01) to Go's zero time and keeps dates as
// CST calendar days.
func resaleDate(t time.Time) time.Time {
	if t.IsZero() || t.Year() <= 1970 {
		return time.Time{}
	}
	return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, voucherwatch.CST)
}

// resaleMergeSold joins each sold contract line with its invoices; invoices of a contract the store
// does not hold stand on their own.
func resaleMergeSold(contracts, settled []resaleLine) []resaleLine {
	type key struct{ seller, buyer, contract, kind string }
	index := map[key]int{}
	out := append([]resaleLine(nil), contracts...)
	for i, l := range out {
		index[key{l.Seller, l.Buyer, l.ContractNo, l.Kind}] = i
	}
	for _, s := range settled {
		k := key{s.Seller, s.Buyer, s.ContractNo, s.Kind}
		if i, ok := index[k]; ok {
			o := &out[i]
			o.SettledCardHours += s.SettledCardHours
			o.SettledTokens += s.SettledTokens
			o.Settled += s.Settled
			o.Invoices += s.Invoices
			continue
		}
		index[k] = len(out)
		out = append(out, s)
	}
	return out
}

// volume is what a line is worth for comparing bought with sold: contract figures where the
// contract is known, invoiced figures otherwise.
func (l *resaleLine) volume() (cardHours, tokens float64, amount voucherwatch.Money) {
	if l.CardHours > 0 || l.Tokens > 0 || l.Amount > 0 {
		return l.CardHours, l.Tokens, l.Amount
	}
	return l.SettledCardHours, l.SettledTokens, l.Settled
}

func resaleOverlap(a0, a1, b0, b1 time.Time) bool {
	if a0.IsZero() || b0.IsZero() {
		return true // an undated line is taken to run during the other
	}
	return !b0.After(a1) && !b1.Before(a0)
}

// resaleContract is one contract a candidate bought under, with its lines.
type resaleContract struct {
	buyer, supplier, no string
	lines               []resaleLine
	start, end          time.Time
}

// detectResale is the detector without its database.
func detectResale(in resaleInput) []finding {
	contracts := map[[3]string]*resaleContract{}
	var order [][3]string
	boughtByKind := map[[2]string][]*resaleLine{} // (buyer, kind)
	for i := range in.Bought {
		l := &in.Bought[i]
		k := [3]string{l.Buyer, l.Seller, l.ContractNo}
		c := contracts[k]
		if c == nil {
			c = &resaleContract{buyer: l.Buyer, supplier: l.Seller, no: l.ContractNo}
			contracts[k] = c
			order = append(order, k)
		}
		c.lines = append(c.lines, *l)
		if c.start.IsZero() || (!l.Start.IsZero() && l.Start.Before(c.start)) {
			c.start = l.Start
		}
		if l.End.After(c.end) {
			c.end = l.End
		}
		boughtByKind[[2]string{l.Buyer, l.Kind}] = append(boughtByKind[[2]string{l.Buyer, l.Kind}], l)
	}
	soldBy := map[string][]*resaleLine{}
	customers := map[string]map[string]bool{}
	for i := range in.Sold {
		l := &in.Sold[i]
		soldBy[l.Seller] = append(soldBy[l.Seller], l)
		if customers[l.Seller] == nil {
			customers[l.Seller] = map[string]bool{}
		}
		customers[l.Seller][l.Buyer] = true
	}
	usage := map[[3]string]*resaleUsage{}
	for i := range in.Usage {
		u := &in.Usage[i]
		k := [3]string{u.Buyer, u.Supplier, u.ContractNo}
		usage[k] = u
		if contracts[k] == nil && u.OtherWindows > 0 {
			// Logins from others on compute whose contract the store does not hold.
			contracts[k] = &resaleContract{buyer: u.Buyer, supplier: u.Supplier, no: u.ContractNo}
			order = append(order, k)
		}
	}
	sort.Slice(order, func(i, j int) bool {
		a, b := order[i], order[j]
		if a[0] != b[0] {
			return a[0] < b[0]
		}
		if a[1] != b[1] {
			return a[1] < b[1]
		}
		return a[2] < b[2]
	})

	var out []finding
	for _, k := range order {
		c := contracts[k]
		// The sales of the companies under one control with the buyer, to anyone outside it,
		// count as the buyer's, and so do their customers.
		sold, cust := soldBy[c.buyer], customers[c.buyer]
		if members := in.Groups.members(c.buyer); len(members) > 0 {
			sold = append([]*resaleLine(nil), sold...)
			cust = maps.Clone(cust)
			if cust == nil {
				cust = map[string]bool{}
			}
			for _, m := range members {
				for _, l := range soldBy[m] {
					if l.Buyer != c.buyer && !in.Groups.same(l.Buyer, c.buyer) {
						sold = append(sold, l)
						cust[l.Buyer] = true
					}
				}
			}
		}
		if f, ok := resaleFinding(c, usage[k], sold, boughtByKind, cust, in); ok {
			out = append(out, f)
		}
	}
	return out
}

// resaleFinding weighs the signals on one bought contract.
func resaleFinding(c *resaleContract, u *resaleUsage, sold []*resaleLine, boughtByKind map[[2]string][]*resaleLine,
	customers map[string]bool, in resaleInput) (finding, bool) {
	reseller := in.Parties[c.buyer]
	// Capacity of the group is the buyer's own: a sister company that is a registered supplier
	// with cards of the chip sells from them.
	capacity := func(chip string) bool {
		if reseller.RegisteredSupplier && reseller.Capacity[chip] > 0 {
			return true
		}
		for _, m := range in.Groups.members(c.buyer) {
			if p := in.Parties[m]; p.RegisteredSupplier && p.Capacity[chip] > 0 {
				return true
			}
		}
		return false
	}

	// Sales of a kind this contract buys, during the period it buys it. A registered supplier
	// with capacity of that chip can sell it from its own cards: those sales are no sign.
	kinds := map[string]bool{}
	for _, l := range c.lines {
		kinds[l.Kind] = true
	}
	var matched []*resaleLine
	var backed []string
	for _, s := range sold {
		if !kinds[s.Kind] || !resaleOverlap(c.start, c.end, s.Start, s.End) {
			continue
		}
		if chip, ok := strings.CutPrefix(s.Kind, "card:"); ok && capacity(chip) {
			backed = append(backed, s.Label)
			continue
		}
		matched = append(matched, s)
	}

	// What it sold of those kinds against what it bought of them (all its contracts of the
	// kinds, over the sales' period): card-hours where both sides have them, else tokens, else
	// amounts.
	var soldCH, soldTok, boughtCH, boughtTok float64
	var soldAmt, boughtAmt voucherwatch.Money
	soldKinds := map[string]bool{}
	for _, s := range matched {
		ch, tok, amt := s.volume()
		soldCH, soldTok, soldAmt = soldCH+ch, soldTok+tok, soldAmt+amt
		soldKinds[s.Kind] = true
	}
	var boughtContracts []string
	for kind := range soldKinds {
		for _, b := range boughtByKind[[2]string{c.buyer, kind}] {
			inPeriod := false
			for _, s := range matched {
				if s.Kind == kind && resaleOverlap(b.Start, b.End, s.Start, s.End) {
					inPeriod = true
					break
				}
			}
			if !inPeriod {
				continue
			}
			boughtCH, boughtTok, boughtAmt = boughtCH+b.CardHours, boughtTok+b.Tokens, boughtAmt+b.Amount
			boughtContracts = append(boughtContracts, b.ContractNo)
		}
	}
	ratio, basis := 0.0, ""
	switch {
	case soldCH > 0 && boughtCH > 0:
		ratio, basis = soldCH/boughtCH, "card_hours"
	case soldTok > 0 && boughtTok > 0:
		ratio, basis = soldTok/boughtTok, "tokens"
	case soldAmt > 0 && boughtAmt > 0:
		ratio, basis = float64(soldAmt)/float64(boughtAmt), "amount"
	}

	// Other organisations logging in to what it bought.
	var orgs []string
	customerLogins, groupLogins := 0, 0
	if u != nil {
		for org := range u.Orgs {
			if in.Groups.same(org, c.buyer) {
				groupLogins++ // a company of its own group: its own use
				continue
			}
			orgs = append(orgs, org)
			if customers[org] {
				customerLogins++
			}
		}
		sort.Strings(orgs)
	}
	logins := u != nil && u.OtherWindows > 0 && (len(orgs) > 0 || groupLogins == 0)

	sells := len(matched) > 0
	var kind string
	var sev voucherwatch.Severity
	var signals []string
	score := 0.0
	if sells {
		score += 0.5 + 0.3*math.Min(1, ratio)
		signals = append(signals, "sells_same_kind_while_buying")
		if !reseller.RegisteredSupplier {
			signals = append(signals, "not_a_registered_supplier")
			score += 0.05
		} else {
			signals = append(signals, "no_own_capacity_of_the_kind")
		}
		if ratio >= 0.5 {
			signals = append(signals, "sells_most_of_what_it_buys")
		}
	}
	if logins {
		score += 0.2
		signals = append(signals, "logins_from_other_orgs")
		if customerLogins > 0 {
			score += 0.1
			signals = append(signals, "logins_from_its_own_customers")
		}
	}
	claims := in.Claims[[2]string{c.buyer, c.no}]
	if len(claims) > 0 && (sells || logins) {
		score += 0.05
		signals = append(signals, "claimed_subsidy")
	}
	switch {
	case sells && logins:
		kind, sev = KindResaleToOtherOrgs, voucherwatch.SeverityHigh
	case sells && ratio >= resaleMediumRatio:
		kind, sev = KindResaleSameKind, voucherwatch.SeverityMedium
	case sells:
		kind, sev = KindResaleSameKind, voucherwatch.SeverityLow
	case logins && customerLogins > 0:
		kind, sev = KindLoginsFromOtherOrgs, voucherwatch.SeverityMedium
	case logins:
		kind, sev = KindLoginsFromOtherOrgs, voucherwatch.SeverityLow
	default:
		return finding{}, false
	}
	score = math.Min(0.99, score)

	name := func(uscc string) string {
		if p, ok := in.Parties[uscc]; ok && p.Name != "" {
			return p.Name
		}
		return uscc
	}
	var boughtCH0, boughtTok0 float64
	var boughtAmt0 voucherwatch.Money
	var labels []string
	for _, l := range c.lines {
		boughtCH0, boughtTok0, boughtAmt0 = boughtCH0+l.CardHours, boughtTok0+l.Tokens, boughtAmt0+l.Amount
		labels = append(labels, l.Label)
	}
	labels = uniqueInOrder(labels)
	bought := map[string]any{
		"contract_no": c.no, "supplier_uscc": c.supplier, "supplier_name": name(c.supplier),
		"kinds": labels, "card_hours": voucherwatch.RoundTo(boughtCH0, 2), "tokens_million": voucherwatch.RoundTo(boughtTok0, 2),
		"amount": yuan(boughtAmt0), "period": resalePeriod(c.start, c.end), "claims": claims,
	}
	if u != nil {
		bought["metered_card_hours"] = voucherwatch.RoundTo(u.CardHours, 2)
		bought["usage_windows"] = u.Windows
	}
	var soldList []map[string]any
	var buyers []string
	var ties []map[string]any
	var tieTexts []string
	tied := map[string]bool{}
	for _, s := range matched {
		if s.Seller != c.buyer && !tied[s.Seller] {
			tied[s.Seller] = true
			if t, ok := in.Groups.tie(c.buyer, s.Seller); ok {
				e := t.evidence()
				e["seller_uscc"], e["seller_name"] = s.Seller, name(s.Seller)
				ties = append(ties, e)
				tieTexts = append(tieTexts, fmt.Sprintf("%s（%s）与需求方受同一控制（%s）", name(s.Seller), s.Seller, t.Summary))
			}
		}
		soldList = append(soldList, map[string]any{
			"seller_uscc": s.Seller, "seller_name": name(s.Seller),
			"customer_uscc": s.Buyer, "customer_name": name(s.Buyer), "contract_no": s.ContractNo, "kind": s.Label,
			"period": resalePeriod(s.Start, s.End), "card_hours": voucherwatch.RoundTo(s.CardHours, 2), "tokens_million": voucherwatch.RoundTo(s.Tokens, 2),
			"amount": yuan(s.Amount), "settled_amount": yuan(s.Settled), "settled_card_hours": voucherwatch.RoundTo(s.SettledCardHours, 2),
			"invoices": s.Invoices,
		})
		buyers = append(buyers, name(s.Buyer))
	}
	buyers = uniqueInOrder(buyers)
	var loginList []map[string]any
	var loginNames []string
	for _, org := range orgs {
		loginList = append(loginList, map[string]any{"uscc": org, "name": name(org), "windows": u.Orgs[org], "is_customer": customers[org]})
		loginNames = append(loginNames, name(org))
	}
	evidence := map[string]any{
		"reseller": map[string]any{"uscc": c.buyer, "name": reseller.Name, "registered_supplier": reseller.RegisteredSupplier},
		"bought":   bought,
		"signals":  signals,
	}
	if sells {
		evidence["sold"] = soldList
		evidence["sold_total"] = map[string]any{"card_hours": voucherwatch.RoundTo(soldCH, 2), "tokens_million": voucherwatch.RoundTo(soldTok, 2), "amount": yuan(soldAmt)}
		evidence["bought_of_the_kinds"] = map[string]any{"contracts": uniqueInOrder(boughtContracts), "card_hours": voucherwatch.RoundTo(boughtCH, 2),
			"tokens_million": voucherwatch.RoundTo(boughtTok, 2), "amount": yuan(boughtAmt)}
		evidence["ratio"] = voucherwatch.RoundTo(ratio, 4)
		evidence["ratio_basis"] = basis
	}
	if len(backed) > 0 {
		evidence["sales_backed_by_own_capacity"] = uniqueInOrder(backed)
	}
	if len(ties) > 0 {
		evidence["control_ties"] = ties
		signals = append(signals, "sold_through_a_company_under_the_same_control")
		evidence["signals"] = signals
	}
	if u != nil && logins {
		evidence["logins_from_other_orgs"] = map[string]any{
			"windows": u.OtherWindows, "of_windows": u.Windows, "card_hours": voucherwatch.RoundTo(u.OtherCardHours, 2), "orgs": loginList,
		}
	}

	// The story, in Chinese.
	var parts []string
	parts = append(parts, fmt.Sprintf("需求方%s（%s）向%s购买%s算力（合同%s，%s，约%s卡时，%s元）",
		resaleOrDash(reseller.Name), c.buyer, name(c.supplier), strings.Join(labels, "、"), c.no, resalePeriodZh(c.start, c.end),
		strconv.FormatFloat(math.Round(boughtCH0), 'f', -1, 64), yuan(boughtAmt0)))
	if sells {
		share := ""
		if basis != "" {
			share = "，相当于同期购入量的 " + percentText(ratio*100)
		}
		who := "非登记算力供应商"
		if reseller.RegisteredSupplier {
			who = "登记为供应商但无该型号自有算力"
		}
		seller := "同期又作为卖方（" + who + "）"
		if len(ties) > 0 {
			seller = "同期其本身或同一控制下的关联企业作为卖方"
		}
		parts = append(parts, fmt.Sprintf("%s向%s出售同类算力 %d 笔（约%s卡时，%s元%s）",
			seller, strings.Join(buyers, "、"), len(matched), strconv.FormatFloat(math.Round(soldCH), 'f', -1, 64), yuan(soldAmt), share))
		if len(tieTexts) > 0 {
			parts = append(parts, "关联企业的销售视同需求方的销售："+strings.Join(tieTexts, "；"))
		}
	}
	if logins {
		text := fmt.Sprintf("其租户在 %d/%d 个计量窗口中有其他单位登录（%s）", u.OtherWindows, u.Windows, strings.Join(loginNames, "、"))
		if customerLogins > 0 {
			text += "，其中包括其自己的下游客户"
		}
		parts = append(parts, text)
	}
	if len(claims) > 0 {
		parts = append(parts, "该合同已申领补贴（"+strings.Join(claims, "、")+"）")
	}
	summary := strings.Join(parts, "；")
	evidence["summary"] = summary
	title := "疑似转租转售补贴算力（《实施细则》五.1 / M1c）"
	if kind == KindLoginsFromOtherOrgs {
		title = "补贴算力疑由其他单位使用（《实施细则》五.1 / M1c）"
	}
	reason := summary + "。《湖南省算力券补贴政策实施细则》五.1 / M1c 将转租转售列为监督重点：补贴算力应由申领企业自用。"
	if sev == voucherwatch.SeverityLow {
		reason += "单一信号，仅为线索，需核实。"
	}
	return finding{
		Detector:     voucherwatch.DetectorResale,
		Kind:         kind,
		Severity:     sev,
		Score:        voucherwatch.RoundTo(score, 4),
		Subjects:     voucherwatch.Subjects{ApplicantUSCC: c.buyer, SupplierUSCC: c.supplier, ContractNo: c.no},
		PolicyClause: resaleClause,
		Title:        title,
		Reason:       reason,
		Evidence:     evidence,
	}, true
}

func resaleOrDash(s string) string {
	if s == "" {
		return "—"
	}
	return s
}

func resalePeriod(start, end time.Time) map[string]string {
	m := map[string]string{}
	if !start.IsZero() {
		m["start"] = start.Format(time.DateOnly)
	}
	if !end.IsZero() {
		m["end"] = end.Format(time.DateOnly)
	}
	return m
}

func resalePeriodZh(start, end time.Time) string {
	if start.IsZero() || end.IsZero() {
		return "服务期未载明"
	}
	return start.Format(time.DateOnly) + "至" + end.Format(time.DateOnly)
}
