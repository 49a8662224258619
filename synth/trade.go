package synth

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/voucherwatch/voucherwatch"
)

// line is a contract line besides the main compute line.
type line struct {
	typ     string  // service_type
	chip    *Chip   // the serving chip of a model service, when the supplier names it
	price   fen     // per million tokens (model_service); 0 for fixed fees
	tokens  float64 // million tokens a month (model_service)
	fee     fen     // fixed fee: monthly for bandwidth/security/database, one-off for adaptation
	monthly bool
}

// deal is one contract with everything that follows from it: capacity, metered usage,
// settlements. Plants build deals with the same code and change one thing.
type deal struct {
	no              string
	buyer, supplier *entity
	chip            *Chip // nil for a model-service-only contract
	service         string
	cards           int
	unit            string // card_hour | card_month
	price           fen    // per unit
	plan            float64
	start, end      time.Time // service period, dates, inclusive
	signed          time.Time
	via             bool
	filed           *time.Time
	republishFiling bool // sent first unfiled, then again with filed_on (a newer version)
	lines           []line
	cap             *capLine
	dc              string // datacenter when there is no capacity line (a reseller's sales)
	windowDays      int
	meterCards      int
	resources       []string
	loginOrgs       []string // overrides [buyer] in usage
	billFactor      float64  // billed card-hours over metered; 1 in honest trade
	ignoreCapacity  bool
	separateNonSubs bool // non-subsidisable lines get their own invoice (honest practice)
	contractName    string
	noUsage         bool // the seller has no platform telemetry (unregistered, reseller)
	// dayUse, when set, is the utilisation of each day of service (index from start) and
	// whether jobs ran: the real-use plants' idle and nearly idle days. A window's utilisation
	// is then its days' mean, and a window without a working day has no jobs and no users.
	dayUse func(i int) (util float64, working bool)

	contract    wContract
	contractAt  time.Time
	settlements []*settle
	usageRecs   []usageRec
	metered     []float64 // card-hours per day index offset from start (all resources)
}

type settle struct {
	w          wSettlement
	at         time.Time
	subsidised bool // only subsidisable lines: what an honest claim may cite
}

type usageRec struct {
	w  wUsage
	at time.Time
}

// trade lets the normal buyers sign contracts with registered suppliers.
func (w *world) trade() {
	r := w.tr
	for _, b := range w.buyers {
		if r.IntN(100) >= 88 {
			continue // registered but not buying this year
		}
		n := 1
		switch x := r.IntN(100); {
		case x < 30:
			n = 2
		case x < 40:
			n = 3
		case x < 43:
			n = 4
		}
		for i := 0; i < n; i++ {
			d := w.normalDeal(r, b)
			if d != nil {
				w.realise(r, d)
			}
		}
	}
}

// normalDeal drafts an honest contract for buyer b: a chip at market price from a registered
// supplier with free capacity, for one to twelve months.
func (w *world) normalDeal(r *rand.Rand, b *entity) *deal {
	d := &deal{buyer: b, billFactor: 1, separateNonSubs: true}
	if r.IntN(100) < 6 {
		d.supplier = pick(r, w.suppliers)
		w.schedule(r, d, 1+r.IntN(6))
		w.modelServiceOnly(r, d)
		return d
	}
	d.cards = pickCards(r, b.large)
	months := pickWeighted(r, []int{1, 2, 3, 6, 9, 12}, []int{6, 10, 20, 30, 12, 22})
	for try := 0; try < 30; try++ {
		s := pick(r, w.suppliers)
		origin := ""
		if r.IntN(100) < 80 {
			origin = "foreign"
			if b.domestic {
				origin = "domestic"
			}
		}
		cl := s.capLineFor(r, origin)
		if cl == nil {
			continue
		}
		d.supplier, d.cap = s, cl
		w.schedule(r, d, months)
		if w.capacityFree(cl, d.start, d.end, d.cards) {
			break
		}
		d.cap = nil
	}
	if d.cap == nil {
		return nil // the market is full; the buyer waits
	}
	ch := d.cap.chip
	d.chip = &ch
	d.service = "compute_resource"
	if r.IntN(4) == 0 {
		d.service = "compute_service"
	}
	d.unit = "card_hour"
	if r.IntN(100) < 25+months*3 {
		d.unit = "card_month"
	}
	d.price = marketPrice(r, ch, d.unit, d.cards)
	d.plan = 0.55 + r.Float64()*0.37
	if r.IntN(100) < 15 {
		d.lines = append(d.lines, w.modelLine(r, ch))
	}
	if ch.Origin == "domestic" && r.IntN(100) < 20 {
		d.lines = append(d.lines, line{typ: "domestic_adaptation", fee: yuan(float64(30000 + 10000*r.IntN(28)))})
	}
	if r.IntN(100) < 12 {
		d.lines = append(d.lines, nonSubsidisableLine(r))
	}
	return d
}

func nonSubsidisableLine(r *rand.Rand) line {
	switch r.IntN(3) {
	case 0:
		return line{typ: "bandwidth", fee: yuan(float64(2000 + 500*r.IntN(57))), monthly: true}
	case 1:
		return line{typ: "security", fee: yuan(float64(3000 + 500*r.IntN(35))), monthly: true}
	default:
		return line{typ: "database", fee: yuan(float64(1500 + 500*r.IntN(22))), monthly: true}
	}
}

func (w *world) modelLine(r *rand.Rand, ch Chip) line {
	l := line{typ: "model_service", tokens: math.Round(20 + r.Float64()*1500)}
	// Token prices spread over a decade (2..60 yuan per million tokens): log-uniform.
	l.price = yuan(TokenPriceLow * math.Pow(TokenPriceHigh/TokenPriceLow, r.Float64()))
	if r.IntN(2) == 0 {
		l.chip = &ch
	}
	return l
}

func (w *world) modelServiceOnly(r *rand.Rand, d *deal) {
	ch := pickChip(r, "")
	l := w.modelLine(r, ch)
	l.tokens *= 3
	d.lines = []line{l}
	d.contractName = "大模型API调用服务合同"
}

// schedule sets signing, service period, platform and filing of d.
func (w *world) schedule(r *rand.Rand, d *deal, months int) {
	from := midnight(w.start).AddDate(0, 0, -5)
	if reg := d.supplier.registeredOn(); !reg.IsZero() && !from.After(reg) {
		from = reg.AddDate(0, 0, 1)
	}
	if from.Before(policyStart) {
		from = policyStart
	}
	to := midnight(w.end).AddDate(0, 0, -45)
	span := int(to.Sub(from).Hours() / 24)
	d.signed = from.AddDate(0, 0, r.IntN(max(1, span)))
	d.start = d.signed.AddDate(0, 0, 1+r.IntN(14))
	d.end = d.start.AddDate(0, months, -1)
	d.via = r.IntN(100) < 55
	if !d.via {
		f := d.signed.AddDate(0, 0, 1+r.IntN(25))
		d.filed = &f
		d.republishFiling = r.IntN(100) < 35
	}
}

func (e *entity) registeredOn() time.Time {
	if e.w.Supplier == nil || e.w.Supplier.RegisteredOn == "" {
		return time.Time{}
	}
	t, _ := time.ParseInLocation(dateLayout, e.w.Supplier.RegisteredOn, cst)
	return t
}

// capLineFor picks a capacity line of the supplier, of the origin when given.
func (e *entity) capLineFor(r *rand.Rand, origin string) *capLine {
	var cands []*capLine
	for _, c := range e.caps {
		if origin == "" || c.chip.Origin == origin {
			cands = append(cands, c)
		}
	}
	if len(cands) == 0 {
		return nil
	}
	return pick(r, cands)
}

func (w *world) capacityFree(cl *capLine, from, to time.Time, cards int) bool {
	for i := w.dayIndex(from); i <= w.dayIndex(to) && i < len(cl.used); i++ {
		if int(cl.used[i])+cards > cl.cards {
			return false
		}
	}
	return true
}

func pickCards(r *rand.Rand, large bool) int {
	if large {
		return pickWeighted(r, []int{32, 64, 128, 256, 512}, []int{15, 30, 30, 20, 5})
	}
	return pickWeighted(r, []int{8, 16, 24, 32, 48, 64}, []int{30, 30, 10, 20, 5, 5})
}

func pickWeighted(r *rand.Rand, vals, weights []int) int {
	total := 0
	for _, x := range weights {
		total += x
	}
	n := r.IntN(total)
	for i, x := range weights {
		if n < x {
			return vals[i]
		}
		n -= x
	}
	return vals[len(vals)-1]
}

// marketPrice draws an honest unit price: a card-hour within the chip's market range, less a
// volume discount of up to 15 % for large orders; a card-month is 720 card-hours less 10-15 %.
func marketPrice(r *rand.Rand, ch Chip, unit string, cards int) fen {
	p := ch.Low + r.Float64()*(ch.High-ch.Low)
	switch {
	case cards >= 256:
		p *= VolumeDiscountFloor + r.Float64()*0.10
	case cards >= 64:
		p *= 0.90 + r.Float64()*0.10
	}
	if unit == "card_month" {
		p *= HoursPerCardMonth * (1 - CardMonthDiscount - r.Float64()*0.05)
	}
	return yuan(p)
}

// contractNo numbers a supplier's contracts "HT<last four of its USCC>-<seq>", as the example.
func (e *entity) nextContractNo() string {
	e.contractNo++
	return fmt.Sprintf("HT%s-%05d", e.uscc()[14:], e.contractNo)
}

// realise writes the contract, reserves capacity, meters usage day by day and bills it month by
// month. The order matters: settlements are computed from the metered days, so billed equals
// metered unless a plant says otherwise.
func (w *world) realise(r *rand.Rand, d *deal) {
	if d.no == "" {
		d.no = d.supplier.nextContractNo()
	}
	if d.billFactor == 0 {
		d.billFactor = 1
	}
	if d.cap != nil && !d.ignoreCapacity {
		for i := w.dayIndex(d.start); i <= w.dayIndex(d.end) && i < len(d.cap.used); i++ {
			d.cap.used[i] += int32(d.cards)
		}
	}
	w.writeContract(r, d)
	if d.chip != nil && d.metered == nil {
		w.meter(r, d)
	}
	w.bill(r, d)
	w.deals = append(w.deals, d)
	d.buyer.deals = append(d.buyer.deals, d)
}

func (w *world) writeContract(r *rand.Rand, d *deal) {
	b := d.buyer
	c := wContract{
		ContractNo:   d.no,
		SupplierUSCC: d.supplier.uscc(),
		BuyerUSCC:    b.uscc(),
		SignedOn:     date(d.signed),
		ServiceStart: date(d.start),
		ServiceEnd:   date(d.end),
		ViaPlatform:  d.via,
		Domains:      []string{domains[b.domain].name},
		Purposes:     []string{pick(r, domains[b.domain].purposes)},
	}
	if r.IntN(5) == 0 {
		c.Domains = append(c.Domains, pick(r, domains).name)
		if c.Domains[1] == c.Domains[0] {
			c.Domains = c.Domains[:1]
		}
	}
	if d.filed != nil {
		c.FiledOn = datePtr(*d.filed)
	}
	months := monthsBetween(d.start, d.end)
	if d.dc == "" && d.cap != nil {
		d.dc = d.cap.dc
	}
	c.Datacenter = d.dc
	if d.chip != nil {
		qty := float64(d.cards) * months
		if d.unit == "card_hour" {
			qty = voucherwatch.RoundTo(float64(d.cards)*24*(d.end.Sub(d.start).Hours()/24+1)*d.plan, 3)
		}
		it := wItem{ServiceType: d.service, ChipModel: d.chip.Model, ChipOrigin: d.chip.Origin, Cards: d.cards,
			UnitPrice: d.price, Unit: d.unit, Quantity: qty, Amount: d.price.times(qty)}
		c.Items = append(c.Items, it)
	}
	for _, l := range d.lines {
		it := wItem{ServiceType: l.typ}
		switch {
		case l.typ == "model_service":
			it.Unit, it.UnitPrice = "token_million", l.price
			it.Quantity = math.Round(l.tokens * months)
			it.Amount = l.price.times(it.Quantity)
			if l.chip != nil {
				it.ChipModel, it.ChipOrigin = l.chip.Model, l.chip.Origin
			}
		case l.monthly:
			it.Amount = l.fee.times(math.Ceil(months - 0.01))
		default:
			it.Amount = l.fee
			if d.chip != nil {
				it.ChipModel, it.ChipOrigin = d.chip.Model, d.chip.Origin
			}
		}
		c.Items = append(c.Items, it)
	}
	for _, it := range c.Items {
		c.Amount += it.Amount
	}
	c.Name = d.contractName
	if c.Name == "" && d.chip != nil {
		c.Name = d.chip.Model + pick(r, []string{"算力服务合同", "算力资源租赁合同", "智算服务采购合同", "算力卡租用合同"})
		if d.chip.Origin == "domestic" && r.IntN(3) == 0 {
			c.Name = "国产算力(" + d.chip.Model + ")服务合同"
		}
	}
	d.contract = c
	d.contractAt = d.signed.Add(time.Duration(9*60+r.IntN(9*60)) * time.Minute)
}

// monthsBetween is the service period in months, whole months counted as one each.
func monthsBetween(start, end time.Time) float64 {
	m := 0.0
	for cur := start; !cur.After(end); {
		next := cur.AddDate(0, 1, 0)
		if !next.After(end.AddDate(0, 0, 1)) {
			m++
			cur = next
			continue
		}
		days := end.Sub(cur).Hours()/24 + 1
		m += days / (next.Sub(cur).Hours() / 24)
		break
	}
	return voucherwatch.RoundTo(m, 3)
}

// meter computes card-hours per resource per day and writes the usage records, one per resource
// and window, for the windows that have ended (and been reported) by the end of the period. A
// seller without platform telemetry is metered all the same (its invoices bill the days) but
// reports nothing.
func (w *world) meter(r *rand.Rand, d *deal) {
	if d.windowDays == 0 {
		d.windowDays = d.supplier.windowDays
		if nodes := d.cards / max(1, d.supplier.meterCards); d.windowDays == 1 && nodes > 2 {
			d.windowDays = 7 // nobody reports a large cluster node by node and day by day
		}
	}
	if d.meterCards == 0 {
		d.meterCards = d.supplier.meterCards
		if d.cards >= 128 && d.meterCards < 32 {
			d.meterCards = 32 // a large allocation is a partition of a cluster, metered as one
		}
		d.meterCards = min(d.meterCards, d.cards)
	}
	nres := (d.cards + d.meterCards - 1) / d.meterCards
	if d.resources == nil {
		for i := 0; i < nres; i++ {
			if d.meterCards == 8 {
				d.resources = append(d.resources, fmt.Sprintf("%s-N%03d", d.no, i))
			} else {
				d.resources = append(d.resources, fmt.Sprintf("%s-C%02d", d.no, i))
			}
		}
	}
	from := d.start
	ndays := int(d.end.Sub(from).Hours()/24) + 1
	d.metered = make([]float64, ndays)
	horizon := w.end
	loginOrgs := d.loginOrgs
	if loginOrgs == nil && r.IntN(100) < 85 {
		loginOrgs = []string{d.buyer.uscc()}
	}
	util := 0.35 + r.Float64()*0.55
	for ri, res := range d.resources {
		cards := d.meterCards
		if ri == len(d.resources)-1 && d.cards%d.meterCards != 0 {
			cards = d.cards % d.meterCards
		}
		perDay := make([]float64, ndays)
		for i := range perDay {
			duty := 0.97 + r.Float64()*0.03 // reserved cards: held around the clock
			if d.unit == "card_hour" {
				duty = d.plan * (0.85 + r.Float64()*0.3)
				if wd := from.AddDate(0, 0, i).Weekday(); wd == time.Saturday || wd == time.Sunday {
					duty *= 0.8
				}
				duty = math.Min(1, math.Max(0.02, duty))
			}
			perDay[i] = float64(cards) * 24 * duty
			d.metered[i] += perDay[i]
		}
		for i := 0; i < ndays && !d.noUsage; i += d.windowDays {
			ws := from.AddDate(0, 0, i)
			we := from.AddDate(0, 0, min(i+d.windowDays, ndays))
			at := we.Add(time.Duration(5+r.IntN(180)) * time.Minute)
			if at.After(horizon) {
				break
			}
			ch := 0.0
			for j := i; j < min(i+d.windowDays, ndays); j++ {
				ch += perDay[j]
			}
			ch = voucherwatch.RoundTo(ch, 3)
			hours := we.Sub(ws).Hours()
			u := math.Min(0.99, math.Max(0.05, util+(r.Float64()-0.5)*0.2))
			working := true
			if d.dayUse != nil {
				u, working = 0, false
				n := min(i+d.windowDays, ndays) - i
				for j := i; j < i+n; j++ {
					du, wk := d.dayUse(j)
					u += du / float64(n)
					working = working || wk
				}
			}
			rec := wUsage{
				SupplierUSCC: d.supplier.uscc(),
				BuyerUSCC:    d.buyer.uscc(),
				ContractNo:   d.no,
				Tenant:       "t-" + strings.ToLower(d.buyer.uscc()[12:]),
				ResourceID:   res,
				ChipModel:    d.chip.Model,
				ChipOrigin:   d.chip.Origin,
				Cards:        cards,
				WindowStart:  stamp(ws),
				WindowEnd:    stamp(we),
				CardHours:    math.Min(ch, float64(cards)*hours),
				UtilAvg:      voucherwatch.RoundTo(u, 3),
				Jobs:         int(math.Round(ch / float64(min(cards, 8)) / (2 + r.Float64()*14))),
				Users:        1 + r.IntN(3+cards/8),
				LoginOrgs:    loginOrgs,
				Datacenter:   d.dc,
			}
			if !working {
				rec.Jobs, rec.Users = 0, 0
			}
			d.usageRecs = append(d.usageRecs, usageRec{w: rec, at: at})
		}
	}
}

// bill issues a monthly invoice per calendar month of service: the compute line at metered
// quantity (or reserved card-months), tokens used, the adaptation fee in the first month. A
// non-subsidisable line gets an invoice of its own, as honest suppliers do, so that the buyer can
// claim the rest.
func (w *world) bill(r *rand.Rand, d *deal) {
	first := true
	for ps := d.start; !ps.After(d.end); {
		pe := time.Date(ps.Year(), ps.Month()+1, 1, 0, 0, 0, 0, cst).AddDate(0, 0, -1)
		if pe.After(d.end) {
			pe = d.end
		}
		full := ps.Day() == 1 && pe.AddDate(0, 0, 1).Day() == 1
		frac := 1.0
		if !full {
			dim := float64(time.Date(ps.Year(), ps.Month()+1, 0, 0, 0, 0, 0, cst).Day())
			frac = (pe.Sub(ps).Hours()/24 + 1) / dim
		}
		issued := pe.AddDate(0, 0, 1+r.IntN(6))
		paid := issued.AddDate(0, 0, 2+r.IntN(18))
		at := paid.Add(time.Duration(10*60+r.IntN(7*60)) * time.Minute)
		if at.After(w.end) {
			return
		}
		var main, nonSubs []wItem
		if d.chip != nil {
			it := wItem{ServiceType: d.service, ChipModel: d.chip.Model, ChipOrigin: d.chip.Origin, Cards: d.cards,
				UnitPrice: d.price, Unit: d.unit}
			if d.unit == "card_month" {
				it.Quantity = voucherwatch.RoundTo(float64(d.cards)*frac, 3)
			} else {
				sum := 0.0
				for i := int(ps.Sub(d.start).Hours() / 24); i <= int(pe.Sub(d.start).Hours()/24); i++ {
					sum += d.metered[i]
				}
				it.Quantity = voucherwatch.RoundTo(sum*d.billFactor, 3)
			}
			it.Amount = d.price.times(it.Quantity)
			if it.Quantity > 0 {
				main = append(main, it)
			}
		}
		for _, l := range d.lines {
			it := wItem{ServiceType: l.typ}
			switch {
			case l.typ == "model_service":
				it.Unit, it.UnitPrice = "token_million", l.price
				it.Quantity = math.Round(l.tokens * frac * (0.7 + r.Float64()*0.5))
				it.Amount = l.price.times(it.Quantity)
				if l.chip != nil {
					it.ChipModel, it.ChipOrigin = l.chip.Model, l.chip.Origin
				}
				main = append(main, it)
			case l.monthly:
				it.Amount = l.fee.times(math.Ceil(frac - 0.01))
				nonSubs = append(nonSubs, it)
			case first:
				it.Amount = l.fee
				if d.chip != nil {
					it.ChipModel, it.ChipOrigin = d.chip.Model, d.chip.Origin
				}
				main = append(main, it)
			}
		}
		if !d.separateNonSubs {
			main = append(main, nonSubs...)
			nonSubs = nil
		}
		if len(main) > 0 {
			w.invoice(r, d, main, ps, pe, issued, paid, at, false)
		}
		if len(nonSubs) > 0 {
			w.invoice(r, d, nonSubs, ps, pe, issued, paid.AddDate(0, 0, r.IntN(3)), at.Add(time.Hour), true)
		}
		first = false
		ps = pe.AddDate(0, 0, 1)
	}
}

// invoice issues one settlement: a fully digital invoice (empty code, 20-digit number) or, for
// suppliers still on the older system, a 12-digit code with an 8-digit number; VAT 6 %.
func (w *world) invoice(r *rand.Rand, d *deal, items []wItem, ps, pe, issued, paid, at time.Time, nonSubsOnly bool) *settle {
	s := d.supplier
	st := wSettlement{
		ContractNo:   d.no,
		SupplierUSCC: s.uscc(),
		BuyerUSCC:    d.buyer.uscc(),
		InvoiceDate:  date(issued),
		PaidOn:       date(paid),
		PayerAccount: d.buyer.account(),
		PayeeAccount: s.account(),
		PeriodStart:  date(ps),
		PeriodEnd:    date(pe),
		Items:        items,
	}
	s.settleSeq++
	st.SettlementID = fmt.Sprintf("JS-%07d", s.settleSeq)
	w.invoiceNumber(r, s, issued, &st)
	for _, it := range items {
		st.Amount += it.Amount
	}
	st.Tax = st.Amount.times(0.06)
	st.PaymentRef = w.paymentRef(r)
	set := &settle{w: st, at: at, subsidised: !nonSubsOnly && subsidisable(items)}
	d.settlements = append(d.settlements, set)
	return set
}

func (w *world) invoiceNumber(r *rand.Rand, s *entity, issued time.Time, st *wSettlement) {
	if s.oldInvoice {
		st.InvoiceCode = fmt.Sprintf("04300%02d1%04d", issued.Year()%100, s.invoiceBatch)
		st.InvoiceNo = w.unique(func() string {
			s.invoiceSeq++
			return "inv:" + st.InvoiceCode + fixedDigits(uint64(s.invoiceSeq), 8)
		})[4+len(st.InvoiceCode):]
		return
	}
	st.InvoiceNo = w.unique(func() string {
		return fmt.Sprintf("%02d432000%s", issued.Year()%100, digits(r, 12))
	})
}

func (w *world) paymentRef(r *rand.Rand) string {
	return w.unique(func() string { return "ZF" + digits(r, 12) })
}

func subsidisable(items []wItem) bool {
	for _, it := range items {
		if !isCompute(it.ServiceType) {
			return false
		}
	}
	return true
}

// isCompute reports whether a service type is compute, as C1 subsidises and D2 counts it; not
// stand-alone bandwidth, security or databases.
func isCompute(serviceType string) bool {
	switch serviceType {
	case "bandwidth", "security", "database":
		return false
	}
	return true
}
