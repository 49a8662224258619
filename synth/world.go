package synth

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/voucherwatch/voucherwatch"
)

// policyStart opens the subsidy window (三, W); the province's year of trade ends long
// before the window does.
var policyStart = time.Date(2025, 10, 27, 0, 0, 0, 0, cst)

type entityKind int

const (
	kindBuyer entityKind = iota
	kindSupplier
	kindHolding // 控股集团: controls firms through majority stakes
	kindFund    // 创业投资基金: minority stakes in many firms
	kindShell   // intermediate holders created by plants
)

// entity is an enterprise of the province: its registry record (final state) and what the
// generator needs to trade as it.
type entity struct {
	w        wEntity
	kind     entityKind
	city     *city
	slug     string // the brand's pinyin, for mail domains
	domain   int    // index into domains
	large    bool
	domestic bool // prefers domestic chips
	// older holds earlier registry versions, sent before the final one; final is sent at finalAt.
	older      []regVersion
	finalAt    time.Time
	noRegistry bool // never published (a supplier from outside the registry)

	// supplier side
	caps         []*capLine
	contractNo   int
	settleSeq    int
	oldInvoice   bool // issues 12-digit-code paper-era invoices instead of fully digital ones
	invoiceSeq   int
	invoiceBatch int // part of the 12-digit invoice code of its paper-era invoices
	windowDays   int // usage window its platform reports: 1 or 7 days
	meterCards   int // cards per resource_id: 8 (node) or a cluster of 32/64

	deals []*deal // as buyer
}

type regVersion struct {
	data wEntity
	at   time.Time // envelope time
	pos  time.Time // delivery position when it arrives out of order; zero means at
}

// capLine is one line of a supplier's registered capacity with the cards already let per day.
type capLine struct {
	chip  Chip
	cards int
	dc    string
	used  []int32
}

func (e *entity) uscc() string { return e.w.USCC }

// account is the enterprise's basic account (基本户), the one it pays from and is paid into.
func (e *entity) account() string { return e.w.BankAccounts[0].AccountNo }

// world is the generator's state. One rand stream per phase keeps a change in one phase from
// reshuffling every other phase's output.
type world struct {
	cfg        Config
	r          *rand.Rand // population
	tr         *rand.Rand // trade
	pr         *rand.Rand // plants
	start, end time.Time
	day0       time.Time // day index origin of capacity and usage arrays
	days       int

	entities  []*entity
	byUSCC    map[string]*entity
	suppliers []*entity // registered suppliers, those normal trade uses
	unregs    []*entity // suppliers that never completed registration
	buyers    []*entity // buyers that trade normally
	idle      []*entity // buyers kept aside for plants
	funds     []*entity
	holdings  []*entity

	taken  map[string]bool // every generated identifier that must be unique
	deals  []*deal
	claims []*claimSpec
	truth  []Case
	seq    map[string]int // global sequences: registry ids, claim ids, payment refs
}

func newWorld(cfg Config) *world {
	seed := uint64(cfg.Seed)
	w := &world{
		cfg:    cfg,
		r:      rand.New(rand.NewPCG(seed, 0x9e3779b97f4a7c15)),
		tr:     rand.New(rand.NewPCG(seed, 0xbf58476d1ce4e5b9)),
		pr:     rand.New(rand.NewPCG(seed, 0x94d049bb133111eb)),
		start:  cfg.Start.In(cst),
		end:    cfg.End.In(cst),
		byUSCC: map[string]*entity{},
		taken:  map[string]bool{},
		seq:    map[string]int{},
	}
	// Plants reach back before the policy window; contracts run up to three years.
	first := w.start
	if d := time.Date(2025, 8, 1, 0, 0, 0, 0, cst); d.Before(first) {
		first = d
	}
	w.day0 = midnight(first)
	w.days = int(midnight(w.end).AddDate(3, 3, 0).Sub(w.day0).Hours()/24) + 1
	return w
}

func midnight(t time.Time) time.Time {
	t = t.In(cst)
	return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, cst)
}

func (w *world) dayIndex(t time.Time) int {
	return int(math.Round(midnight(t).Sub(w.day0).Hours() / 24))
}

// unique draws from gen until it returns a value not used before; every identifier that other
// records are matched on goes through here, so no tie between enterprises arises by accident.
func (w *world) unique(gen func() string) string {
	for {
		s := gen()
		if !w.taken[s] {
			w.taken[s] = true
			return s
		}
	}
}

func (w *world) next(name string) int {
	w.seq[name]++
	return w.seq[name]
}

func (w *world) pickCity(r *rand.Rand) *city {
	total := 0
	for i := range cities {
		total += cities[i].weight
	}
	n := r.IntN(total)
	for i := range cities {
		if n < cities[i].weight {
			return &cities[i]
		}
		n -= cities[i].weight
	}
	panic("unreachable")
}

// person draws a natural person with a unique id number, phone and e-mail address.
func (w *world) person(r *rand.Rand, mailDomain string) wPerson {
	given := pick(r, givenNames)
	p := wPerson{Name: pick(r, surnames) + given, IDType: "id_card"}
	switch n := r.IntN(100); {
	case n < 97:
		p.IDNumber = w.unique(func() string { return newIDCard(r, femaleGiven[given]) })
	case n < 99:
		p.IDType = "passport"
		p.IDNumber = w.unique(func() string { return "E" + digits(r, 8) })
	default:
		p.IDType = "officer_card"
		p.IDNumber = w.unique(func() string { return "军字第" + digits(r, 7) + "号" })
	}
	p.Phone = w.unique(func() string { return newMobile(r) })
	p.Email = w.unique(func() string {
		if mailDomain != "" && r.IntN(2) == 0 {
			return fmt.Sprintf("%s%d@%s", pick(r, []string{"zhang", "li", "wang", "liu", "chen", "hr", "fin", "admin", "office"}), r.IntN(9000)+100, mailDomain)
		}
		return fmt.Sprintf("%s@%s", digits(r, 6+r.IntN(4)), pick(r, mailHosts))
	})
	if p.Email[0] == '0' { // QQ numbers do not start with 0
		p.Email = "1" + p.Email[1:]
	}
	return p
}

// address draws a street address in the city; the room number keeps it unique, so firms in one
// incubator building share a building but not an address.
func (w *world) address(r *rand.Rand, c *city, d district) string {
	return w.unique(func() string {
		s := fmt.Sprintf("%s%s%s%d号", c.name, d.name, pick(r, c.roads), 1+r.IntN(899))
		if r.IntN(2) == 0 {
			s += fmt.Sprintf("%s%d栋", pick(r, buildings), 1+r.IntN(12))
		}
		return s + fmt.Sprintf("%d%02d室", 1+r.IntN(28), 1+r.IntN(30))
	})
}

func (w *world) account(r *rand.Rand, c *city, d district) wAccount {
	b := banks[r.IntN(len(banks))]
	no := w.unique(func() string { return b.prefix + digits(r, b.length-len(b.prefix)) })
	branch := d.name
	if len([]rune(branch)) > 2 {
		branch = string([]rune(branch)[:len([]rune(branch))-1])
	}
	short := []rune(c.name)
	return wAccount{Bank: fmt.Sprintf("%s%s%s支行", b.name, string(short[:2]), branch), AccountNo: no}
}

// newEntity creates an enterprise with a unique USCC (also unique in its last four characters,
// which contract numbers embed), name, people, addresses and a basic account.
func (w *world) newEntity(r *rand.Rand, kind entityKind, c *city, name string, slug string) *entity {
	if c == nil {
		c = w.pickCity(r)
	}
	d := pick(r, c.districts)
	e := &entity{kind: kind, city: c, slug: slug}
	e.w.USCC = w.unique(func() string {
		for {
			u := newUSCC(r, d.code)
			if !w.taken["last4:"+u[14:]] {
				w.taken["last4:"+u[14:]] = true
				return u
			}
		}
	})
	e.w.Name = name
	e.w.City = c.code
	if r.IntN(10) == 0 { // some senders write the name, not the code
		e.w.City = cityShort[c.code]
	}
	e.w.RegisteredAddress = w.address(r, c, d)
	e.w.OfficeAddress = e.w.RegisteredAddress
	if r.IntN(3) == 0 {
		e.w.OfficeAddress = w.address(r, c, pick(r, c.districts))
	}
	age := 1 + r.IntN(15)
	if kind == kindBuyer && r.IntN(3) == 0 {
		age = 1 + r.IntN(4) // AI start-ups are young
	}
	e.w.RegisteredOn = date(time.Date(2025-age, time.Month(1+r.IntN(12)), 1+r.IntN(28), 0, 0, 0, 0, cst))
	mail := ""
	if slug != "" {
		mail = slug + pick(r, []string{".com", ".com.cn", ".cn", "-tech.com"})
	}
	rep := w.person(r, mail)
	e.w.LegalRep = &rep
	e.w.Officers = append(e.w.Officers, wOfficer{Role: "legal_rep", Person: rep})
	for i, n := 0, 1+r.IntN(3); i < n; i++ {
		role := pick(r, []string{"director", "director", "supervisor", "manager"})
		e.w.Officers = append(e.w.Officers, wOfficer{Role: role, Person: w.person(r, mail)})
	}
	e.w.Contacts = []wPerson{w.person(r, mail)}
	if r.IntN(4) == 0 {
		e.w.Contacts = append(e.w.Contacts, w.person(r, mail))
	}
	e.w.BankAccounts = []wAccount{w.account(r, c, d)}
	if r.IntN(5) == 0 {
		e.w.BankAccounts = append(e.w.BankAccounts, w.account(r, c, pick(r, c.districts)))
	}
	e.finalAt = w.snapshotTime(r)
	w.entities = append(w.entities, e)
	w.byUSCC[e.uscc()] = e
	return e
}

// snapshotTime is when the registry platform first published an entity: the initial load in
// the fortnight before trade starts.
func (w *world) snapshotTime(r *rand.Rand) time.Time {
	base := midnight(w.start).AddDate(0, 0, -20)
	return base.Add(time.Duration(r.IntN(14*24*60)) * time.Minute)
}

// firmName draws a unique enterprise name "<湖南|city><brand><trade><suffix>".
func (w *world) firmName(r *rand.Rand, c *city, trade string, suffixes []string) (string, brand) {
	var b brand
	tries := 0
	name := w.unique(func() string {
		b = pick(r, brands)
		if tries++; tries > 20 {
			// A province far larger than the default runs out of names of one 字号 (the
			// suppliers' first, at a few hundred): join two, as some firms do.
			b2 := pick(r, brands)
			b = brand{b.zh + b2.zh, b.py + b2.py}
		}
		prefix := "湖南"
		if r.IntN(3) == 0 {
			prefix = string([]rune(c.name)[:2])
		}
		// "医疗科技" + "科技有限公司" would say 科技 twice.
		return strings.Replace(prefix+b.zh+trade+pick(r, suffixes), "科技科技", "科技", 1)
	})
	return name, b
}

// populate creates suppliers, buyers, holding groups and funds, and the ordinary ownership
// among them: founders hold the majority, funds take minority stakes in many firms (on both the
// demand and the supply side, which is no tie), and groups control some buyers.
func (w *world) populate() {
	r := w.r
	cfg := w.cfg
	for i := 0; i < cfg.Suppliers; i++ {
		w.newSupplier(r, i >= cfg.Suppliers-2)
	}
	w.anchor(w.suppliers[0])
	// Plants need two suppliers on the paper-era invoice system.
	for i, old := 1, 0; i < len(w.suppliers); i++ {
		if w.suppliers[i].oldInvoice {
			old++
		} else if old < 2 {
			w.suppliers[i].oldInvoice = true
			old++
		}
	}
	for i := 0; i < cfg.Enterprises; i++ {
		w.newBuyer(r)
	}
	for i := 0; i < 6+cfg.Enterprises/50; i++ {
		c := w.pickCity(r)
		name, b := w.firmName(r, c, "", []string{"创业投资合伙企业(有限合伙)", "私募股权投资基金合伙企业(有限合伙)", "产业投资基金合伙企业(有限合伙)"})
		f := w.newEntity(r, kindFund, c, name, b.py)
		w.founders(r, f, 1)
		w.funds = append(w.funds, f)
	}
	for i := 0; i < 4+cfg.Enterprises/60; i++ {
		c := w.pickCity(r)
		name, b := w.firmName(r, c, "", []string{"控股集团有限公司", "投资控股有限公司", "实业集团有限公司"})
		h := w.newEntity(r, kindHolding, c, name, b.py)
		w.founders(r, h, 2)
		w.holdings = append(w.holdings, h)
	}
	// Groups control a share of the larger buyers; never a supplier, so no group ties a buyer to
	// its supplier unless a plant says so.
	for _, e := range w.buyers {
		if e.large && r.IntN(3) == 0 {
			g := pick(r, w.holdings)
			setStake(e, g, float64(51+r.IntN(49)))
		}
	}
	for _, e := range append(append([]*entity{}, w.buyers...), w.suppliers...) {
		if r.IntN(4) == 0 {
			f := pick(r, w.funds)
			setStake(e, f, float64(1+r.IntN(9))+float64(r.IntN(10))/10)
		}
	}
	// Keep a share of the buyers idle for the plants, so each planted case has enterprises of its
	// own and no two cases blur into one.
	if cfg.Plant {
		n := min(len(w.buyers)/4, 110)
		w.idle = append(w.idle, w.buyers[len(w.buyers)-n:]...)
		w.buyers = w.buyers[:len(w.buyers)-n]
	}
}

// founders gives an enterprise 1..3 natural-person shareholders holding 100 %.
func (w *world) founders(r *rand.Rand, e *entity, maxN int) {
	n := 1 + r.IntN(maxN)
	left := 100.0
	for i := 0; i < n; i++ {
		pct := left
		if i < n-1 {
			pct = math.Round(left * (0.5 + r.Float64()*0.3))
		}
		left -= pct
		var p wPerson
		if i == 0 && r.IntN(2) == 0 {
			p = *e.w.LegalRep // the founder is often the legal representative
		} else {
			p = w.person(r, "")
		}
		e.w.Shareholders = append(e.w.Shareholders, wHolder{Kind: "person", Person: &p, Name: p.Name, SharePct: pct})
	}
}

func (w *world) newBuyer(r *rand.Rand) *entity {
	c := w.pickCity(r)
	di := r.IntN(len(domains))
	trade := pick(r, domains[di].trades)
	large := r.IntN(6) == 0
	suffixes := []string{"科技有限公司", "有限公司", "技术有限公司"}
	if large {
		suffixes = []string{"股份有限公司", "科技股份有限公司", "集团有限公司", "有限公司"}
	}
	name, b := w.firmName(r, c, trade, suffixes)
	e := w.newEntity(r, kindBuyer, c, name, b.py)
	e.domain, e.large, e.domestic = di, large, r.IntN(100) < 62
	e.w.IsSME = !large
	w.founders(r, e, 3)
	w.buyers = append(w.buyers, e)
	return e
}

// newSupplier creates a compute supplier with an IDC licence and two to four capacity lines in
// one or two data centres. Unregistered suppliers exist but normal trade does not use them.
func (w *world) newSupplier(r *rand.Rand, unregistered bool) *entity {
	dc := pick(r, datacenters)
	var c *city
	for i := range cities {
		if cities[i].code == dc.city {
			c = &cities[i]
		}
	}
	name, b := w.firmName(r, c, "", []string{"算力科技有限公司", "云计算有限公司", "智算科技有限公司", "数据科技有限公司", "信息技术股份有限公司"})
	e := w.newEntity(r, kindSupplier, c, name, b.py)
	e.large = r.IntN(3) == 0
	e.w.IsSME = !e.large
	w.founders(r, e, 3)
	sites := []string{fmt.Sprintf("%s%d号楼", dc.name, 1+r.IntN(9))}
	if r.IntN(3) == 0 {
		sites = append(sites, fmt.Sprintf("%s%d号楼", pick(r, datacenters).name, 1+r.IntN(9)))
	}
	reg := policyStart.AddDate(0, 0, r.IntN(max(1, int(w.start.Sub(policyStart).Hours()/24)-5)+1))
	sup := &wSupplier{Registered: !unregistered, IDCLicense: r.IntN(8) != 0}
	if !unregistered {
		sup.RegisteredOn = date(reg)
	}
	n := 2 + r.IntN(3)
	seen := map[string]bool{}
	for len(e.caps) < n {
		ch := pickChip(r, "")
		if seen[ch.Model] {
			continue
		}
		seen[ch.Model] = true
		cards := 128 * (2 + r.IntN(15))
		if e.large {
			cards *= 2
		}
		cl := &capLine{chip: ch, cards: cards, dc: pick(r, sites), used: make([]int32, w.days)}
		e.caps = append(e.caps, cl)
		sup.Capacity = append(sup.Capacity, wCapacity{ChipModel: ch.Model, ChipOrigin: ch.Origin, Cards: cards, Datacenter: cl.dc})
	}
	e.w.Supplier = sup
	e.windowDays = 7
	if r.IntN(7) == 0 {
		e.windowDays = 1 // some platforms report day by day
	}
	e.meterCards = 8
	if r.IntN(4) == 0 {
		e.meterCards = 32 * (1 + r.IntN(2))
	}
	e.oldInvoice = r.IntN(5) == 0
	e.invoiceSeq = 100000 + r.IntN(5000000)
	e.invoiceBatch = 1000 + r.IntN(9000)
	e.contractNo = r.IntN(3)
	e.settleSeq = r.IntN(900)
	if unregistered {
		w.unregs = append(w.unregs, e)
	} else {
		w.suppliers = append(w.suppliers, e)
	}
	return e
}

// anchor makes s the province's big 智算中心: thousands of cards of the dearest chips, metered
// per 64-card cluster. The largest buyers (and the plants near the 10-million cap) need it.
func (w *world) anchor(s *entity) {
	s.large, s.w.IsSME = true, false
	dc := "长株潭算力中心7号楼"
	s.caps = nil
	s.w.Supplier.Capacity = nil
	for _, l := range []struct {
		model string
		cards int
	}{{"Ascend 910B", 4096}, {"H100", 2048}, {"H800", 1024}} {
		cl := &capLine{chip: chipByModel(l.model), cards: l.cards, dc: dc, used: make([]int32, w.days)}
		s.caps = append(s.caps, cl)
		s.w.Supplier.Capacity = append(s.w.Supplier.Capacity, wCapacity{ChipModel: l.model, ChipOrigin: cl.chip.Origin, Cards: l.cards, Datacenter: dc})
	}
	s.w.Supplier.IDCLicense = true
	s.meterCards, s.windowDays = 64, 7
}

// setStake makes holder own pct % of e, scaling the other holders down so the total stays at
// most 100 %. A holder already present is replaced.
func setStake(e, holder *entity, pct float64) {
	var others []wHolder
	sum := 0.0
	for _, h := range e.w.Shareholders {
		if h.Kind == "enterprise" && h.USCC == holder.uscc() {
			continue
		}
		others = append(others, h)
		sum += h.SharePct
	}
	if sum+pct > 100 && sum > 0 {
		f := (100 - pct) / sum
		for i := range others {
			others[i].SharePct = voucherwatch.RoundTo(others[i].SharePct*f, 2)
		}
	}
	e.w.Shareholders = append(others, wHolder{Kind: "enterprise", USCC: holder.uscc(), Name: holder.w.Name, SharePct: pct})
}

// freshBuyer returns a buyer that has not traded yet, for a plant; when the idle pool is empty it
// creates one.
func (w *world) freshBuyer() *entity {
	if len(w.idle) > 0 {
		e := w.idle[0]
		w.idle = w.idle[1:]
		return e
	}
	e := w.newBuyer(w.pr)
	w.buyers = w.buyers[:len(w.buyers)-1] // newBuyer registers it for normal trade; plants own it
	return e
}

// cloneEntity copies the registry record deeply enough that a version can change any field.
func cloneEntity(v wEntity) wEntity {
	c := v
	c.Contacts = append([]wPerson(nil), v.Contacts...)
	c.Shareholders = append([]wHolder(nil), v.Shareholders...)
	c.Officers = append([]wOfficer(nil), v.Officers...)
	c.BankAccounts = append([]wAccount(nil), v.BankAccounts...)
	if v.LegalRep != nil {
		p := *v.LegalRep
		c.LegalRep = &p
	}
	if v.Supplier != nil {
		s := *v.Supplier
		s.Capacity = append([]wCapacity(nil), v.Supplier.Capacity...)
		c.Supplier = &s
	}
	return c
}
