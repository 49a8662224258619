package synth

import (
	"fmt"
	"math"
	"strings"
	"time"
)

// plant adds the fraud cases and their look-alikes. Every case gets enterprises of its own
// (freshBuyer), trades honestly in every respect but the one planted, files its claim like
// everybody else, and is recorded in the truth.
func (w *world) plant() {
	if w.end.Sub(w.start) < 300*24*time.Hour {
		return // the cases need months of invoices before the claims; see Config.Plant
	}
	w.plantDuplicates()
	w.plantPrices()
	w.plantRules()
	w.plantTies()
	w.plantResale()
	w.buyEnough()
}

// buyEnough keeps plants from breaching D2 by accident. A plant's deal is sized for what it
// plants (one 8-card node let twice, a price at 0.3 times the market, a few months of tokens),
// and may come to less than 50,000 yuan of compute in the year before its applicant's claim: a
// finding no plant meant and the truth would not name. Such an applicant also buys, as buyers
// do, an honest deal from a supplier it does not trade with yet; the deal is not cited, so the
// planted claim stays as planted. The applicants of the D2 cases are left short on purpose.
// Should an applicant still fall short, the breach is genuine and recorded as a D2 case.
func (w *world) buyEnough() {
	short := map[string]bool{}
	for _, c := range w.truth {
		if c.Detector == RuleAnnualPurchase && !c.LookAlike {
			short[c.Subjects["applicant_uscc"]] = true
		}
	}
	threshold := yuan(50000)
	for _, cs := range w.claims {
		b := cs.applicant
		if short[b.uscc()] {
			continue
		}
		for try := 0; try < 4 && annualCompute(b, cs.submitted) < threshold; try++ {
			trades := map[*entity]bool{}
			for _, d := range b.deals {
				trades[d.supplier] = true
			}
			s := w.plantSupplier()
			for i := 0; i < len(w.suppliers) && trades[s]; i++ {
				s = w.plantSupplier()
			}
			d := w.plantDeal(b, s, 4, 32)
			if trades[d.supplier] {
				break // every supplier with room already sells to b
			}
			w.realise(w.pr, d)
		}
		if got := annualCompute(b, cs.submitted); got < threshold {
			short[b.uscc()] = true
			w.addCase(Case{Detector: RuleAnnualPurchase, Kind: "annual_purchase_below_50000", Clause: "D2", Severity: "medium",
				Subjects: kv("applicant_uscc", b.uscc(), "claim_id", cs.id), Context: kv("settled", got.String()),
				Note: "side effect of another plant: the applicant's purchases stay below 50,000 yuan"})
		}
	}
}

// annualCompute is the compute (the subsidisable items) settled to b with an invoice date in the
// twelve months up to submitted, as D2 counts it.
func annualCompute(b *entity, submitted time.Time) fen {
	from, to := date(submitted.AddDate(-1, 0, 0)), date(submitted)
	var sum fen
	for _, d := range b.deals {
		for _, s := range d.settlements {
			if s.w.InvoiceDate <= from || s.w.InvoiceDate > to {
				continue
			}
			for _, it := range s.w.Items {
				if isCompute(it.ServiceType) {
					sum += it.Amount
				}
			}
		}
	}
	return sum
}

// Detector names of the truth. The four fixed by the contract, then the policy rules.
const (
	DetDuplicate = "duplicate_claim"
	DetPrice     = "price_out_of_range"
	DetRelated   = "related_party"
	DetResale    = "resale"

	RuleUnregistered    = "rule:unregistered_supplier" // M1a
	RuleCredit          = "rule:applicant_credit"      // D1
	RuleAnnualPurchase  = "rule:annual_purchase"       // D2
	RuleLateFiling      = "rule:late_filing"           // P3
	RuleNonSubsidisable = "rule:non_subsidisable_item" // C1
	RuleRequestLimit    = "rule:requested_over_limit"  // C2
	RulePolicyWindow    = "rule:policy_window"         // W
	RuleInvoiceMismatch = "rule:invoice_mismatch"      // P4: claimed invoice missing or different
	RuleBilledMetered   = "rule:billed_above_metered"  // D3, P4: billed well above metered use
	RuleOverCapacity    = "rule:usage_above_capacity"  // M1d: metered above registered capacity
)

func (w *world) addCase(c Case) { w.truth = append(w.truth, c) }

// subjects names the deal's parties and contract, plus extra key/value pairs.
func subjects(d *deal, kv ...string) map[string]string {
	m := map[string]string{"applicant_uscc": d.buyer.uscc(), "supplier_uscc": d.supplier.uscc(), "contract_no": d.no}
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i]] = kv[i+1]
	}
	return m
}

func kv(pairs ...string) map[string]string {
	m := map[string]string{}
	for i := 0; i+1 < len(pairs); i += 2 {
		m[pairs[i]] = pairs[i+1]
	}
	return m
}

// plantSupplier rotates through the registered suppliers other than the anchor, so that plants
// spread over the market.
func (w *world) plantSupplier() *entity {
	n := w.next("plantSupplier")
	return w.suppliers[1+n%(len(w.suppliers)-1)]
}

// tieSupplier gives each related-party plant a supplier of its own, so that one supplier's
// ownership changes never blur another case.
func (w *world) tieSupplier() *entity {
	n := w.next("tieSupplier")
	k := len(w.suppliers) - 1
	return w.suppliers[1+(k-1-n%k)] // from the other end than plantSupplier
}

// plantDeal drafts an honest deal of b with s (or another supplier when s has no room), signed
// early enough that its invoices precede the claims. The caller changes what the plant needs
// and then calls realise.
func (w *world) plantDeal(b, s *entity, months, cards int) *deal {
	r := w.pr
	if cards == 0 {
		cards = pickWeighted(r, []int{8, 16, 24, 32}, []int{3, 4, 2, 3})
	}
	d := &deal{buyer: b, supplier: s, billFactor: 1, separateNonSubs: true, cards: cards}
	w.plantSchedule(d, months)
	for try := 0; d.cap == nil; try++ {
		for _, cl := range d.supplier.caps {
			if w.capacityFree(cl, d.start, d.end, cards) && (d.cap == nil || r.IntN(2) == 0) {
				d.cap = cl
			}
		}
		if d.cap == nil {
			if try > 3*len(w.suppliers) {
				panic("synth: no capacity left for a plant")
			}
			d.supplier = w.plantSupplier()
			w.plantSchedule(d, months)
		}
	}
	ch := d.cap.chip
	d.chip = &ch
	d.service = "compute_resource"
	d.unit = "card_hour"
	if r.IntN(3) == 0 {
		d.unit = "card_month"
	}
	d.price = marketPrice(r, ch, d.unit, cards)
	d.plan = 0.6 + r.Float64()*0.3
	return d
}

func (w *world) plantSchedule(d *deal, months int) {
	r := w.pr
	from := midnight(w.start).AddDate(0, 0, 7)
	if reg := d.supplier.registeredOn(); !reg.IsZero() && !from.After(reg) {
		from = reg.AddDate(0, 0, 1)
	}
	claims, _ := w.claimWindow()
	to := claims.AddDate(0, -months, -45)
	d.signed = from
	if span := int(to.Sub(from).Hours() / 24); span > 0 {
		d.signed = from.AddDate(0, 0, r.IntN(span))
	}
	d.start = d.signed.AddDate(0, 0, 1+r.IntN(10))
	d.end = d.start.AddDate(0, months, -1)
	d.via = r.IntN(100) < 60
	d.filed, d.republishFiling = nil, false
	if !d.via {
		f := d.signed.AddDate(0, 0, 2+r.IntN(20))
		d.filed = &f
	}
}

// reschedule moves a drafted deal to new dates and keeps its filing consistent with them.
func (d *deal) reschedule(signed, start, end time.Time) {
	d.signed, d.start, d.end = signed, start, end
	if d.filed != nil {
		f := signed.AddDate(0, 0, 3)
		d.filed = &f
	}
}

// honest is a plant deal realised as drafted.
func (w *world) honest(b, s *entity, months int) *deal {
	d := w.plantDeal(b, s, months, 0)
	w.realise(w.pr, d)
	return d
}

// plantClaim files b's claim on the deals in the first half of the claim window, leaving room
// for later resubmissions.
func (w *world) plantClaim(b *entity, deals ...*deal) *claimSpec {
	cs := w.draftClaim(w.pr, b, deals, w.claimDate(w.pr, true), false)
	if cs == nil {
		panic("synth: a plant deal has no invoice before the claims; the period is too short")
	}
	w.claims = append(w.claims, cs)
	return cs
}

// resubmit moves cs to days after prev, within the claim window.
func (w *world) resubmit(cs, prev *claimSpec, days int) {
	_, to := w.claimWindow()
	cs.submitted = prev.submitted.AddDate(0, 0, days)
	if cs.submitted.After(to) {
		cs.submitted = to
	}
	cs.at = cs.submitted.Add(prev.at.Sub(prev.submitted) + 37*time.Minute)
}

func mainInvoices(d *deal) []*settle {
	var out []*settle
	for _, s := range d.settlements {
		if s.subsidised {
			out = append(out, s)
		}
	}
	return out
}

// plantDuplicates plants M1b: the same invoice, claim, payment or metered resource-time used
// twice; and the look-alikes: one invoice number under two codes, one node let twice in turn.
func (w *world) plantDuplicates() {
	r := w.pr
	for i := 0; i < 2; i++ {
		b := w.freshBuyer()
		d1, d2 := w.honest(b, w.plantSupplier(), 4), w.honest(b, w.plantSupplier(), 4)
		c1 := w.plantClaim(b, d1)
		c2 := w.draftClaim(r, b, []*deal{d2}, c1.submitted, false)
		w.resubmit(c2, c1, 8+r.IntN(12))
		w.claims = append(w.claims, c2)
		dup := c1.invoices[len(c1.invoices)-1]
		c2.invoices = append(c2.invoices, dup)
		c2.contracts = append(c2.contracts, d1.no)
		c2.recount()
		c2.request(1)
		w.addCase(Case{Detector: DetDuplicate, Kind: "invoice_in_two_claims", Clause: "M1b", Severity: "high",
			Subjects: subjects(d1, "claim_id", c2.id, "invoice_no", dup.InvoiceNo),
			Context: kv("other_claim_id", c1.id, "other_contract_no", d2.no, "other_supplier_uscc", d2.supplier.uscc(),
				"invoice_code", dup.InvoiceCode),
			Note: "the applicant cites an invoice of its first claim again in a supplementary claim"})
	}
	for i := 0; i < 2; i++ {
		a, b := w.freshBuyer(), w.freshBuyer()
		da, db := w.honest(a, w.plantSupplier(), 4), w.honest(b, w.plantSupplier(), 4)
		ca, cb := w.plantClaim(a, da), w.plantClaim(b, db)
		dup := ca.invoices[r.IntN(len(ca.invoices))]
		cb.invoices = append(cb.invoices, dup)
		cb.recount()
		cb.request(1)
		s := subjects(da, "applicant_uscc", b.uscc(), "claim_id", cb.id, "invoice_no", dup.InvoiceNo)
		w.addCase(Case{Detector: DetDuplicate, Kind: "invoice_in_two_claims", Clause: "M1b", Severity: "high",
			Subjects: s,
			Context: kv("other_claim_id", ca.id, "other_applicant_uscc", a.uscc(), "other_contract_no", db.no,
				"other_supplier_uscc", db.supplier.uscc(), "invoice_code", dup.InvoiceCode),
			Note: "another enterprise's invoice cited by a second applicant"})
		w.addCase(Case{Detector: RuleInvoiceMismatch, Kind: "invoice_of_another_buyer", Clause: "P4", Severity: "high",
			Subjects: kv("applicant_uscc", b.uscc(), "claim_id", cb.id, "invoice_no", dup.InvoiceNo),
			Note:     "companion of a duplicate claim: the cited invoice was issued to another buyer"})
	}
	for i := 0; i < 2; i++ {
		b := w.freshBuyer()
		d := w.honest(b, w.plantSupplier(), 4)
		c1 := w.plantClaim(b, d)
		c2 := *c1
		c2.invoices = append([]wClaimInvoice(nil), c1.invoices...)
		c2.contracts = append([]string(nil), c1.contracts...)
		c2.id = fmt.Sprintf("SB%d-%05d", c2.round, 100+w.next("claim"))
		w.resubmit(&c2, c1, 5+r.IntN(10))
		w.claims = append(w.claims, &c2)
		w.addCase(Case{Detector: DetDuplicate, Kind: "claim_resubmitted", Clause: "M1b", Severity: "high",
			Subjects: subjects(d, "claim_id", c2.id), Context: kv("other_claim_id", c1.id),
			Note: "the same claim filed again under a new claim_id"})
	}
	{
		// One payment voucher presented for invoices of two enterprises.
		s := w.plantSupplier()
		a, b := w.freshBuyer(), w.freshBuyer()
		da, db := w.honest(a, s, 4), w.honest(b, s, 4)
		ia, ib := mainInvoices(da)[1], mainInvoices(db)[1]
		// The earliest payment keeps the reference: the reuser, b, must be paid after a. The two
		// schedules are independent, so order them; on one day, b cites its next month's invoice.
		if ib.w.PaidOn < ia.w.PaidOn {
			a, b, da, db, ia, ib = b, a, db, da, ib, ia
		}
		if ib.w.PaidOn == ia.w.PaidOn {
			ib = mainInvoices(db)[2]
		}
		ib.w.PaymentRef = ia.w.PaymentRef
		ca := w.plantClaim(a, da)
		cb := w.plantClaim(b, db)
		w.addCase(Case{Detector: DetDuplicate, Kind: "payment_ref_shared", Clause: "M1b", Severity: "high",
			Subjects: subjects(db, "claim_id", cb.id, "invoice_no", ib.w.InvoiceNo),
			Context: kv("payment_ref", ia.w.PaymentRef, "other_invoice_no", ia.w.InvoiceNo, "other_applicant_uscc", a.uscc(),
				"other_contract_no", da.no, "other_claim_id", ca.id),
			Note: "one payment reference settles invoices of two different payers"})
	}
	{
		// One payment voucher for three monthly invoices paid on three different days.
		b := w.freshBuyer()
		d := w.honest(b, w.plantSupplier(), 5)
		inv := mainInvoices(d)
		for _, s := range inv[1:3] {
			s.w.PaymentRef = inv[0].w.PaymentRef
		}
		cs := w.plantClaim(b, d)
		w.addCase(Case{Detector: DetDuplicate, Kind: "payment_ref_shared", Clause: "M1b", Severity: "high",
			Subjects: subjects(d, "claim_id", cs.id, "invoice_no", inv[1].w.InvoiceNo),
			Context:  kv("payment_ref", inv[0].w.PaymentRef, "other_invoice_no", inv[0].w.InvoiceNo+","+inv[2].w.InvoiceNo),
			Note:     "one payment reference on three invoices paid on different days"})
	}
	for i := 0; i < 2; i++ {
		// A node metered to two tenants at once.
		s := w.plantSupplier()
		a, b := w.freshBuyer(), w.freshBuyer()
		da := w.plantDeal(a, s, 5, 16)
		da.unit, da.meterCards = "card_hour", 8
		da.price = marketPrice(r, *da.chip, da.unit, da.cards)
		w.realise(r, da)
		db := w.plantDeal(b, da.supplier, 2, 8)
		db.supplier, db.cap, db.chip, db.meterCards, db.unit = da.supplier, da.cap, da.chip, 8, "card_hour"
		db.price = marketPrice(r, *da.chip, "card_hour", 8)
		signed := da.start.AddDate(0, 0, 20+r.IntN(10))
		db.reschedule(signed, signed.AddDate(0, 0, 3), signed.AddDate(0, 2, 2))
		db.resources = []string{da.resources[i]}
		db.ignoreCapacity = true // the same physical cards: nothing new is let
		w.realise(r, db)
		ca := w.plantClaim(a, da)
		cb := w.plantClaim(b, db)
		w.addCase(Case{Detector: DetDuplicate, Kind: "resource_two_tenants_overlap", Clause: "M1b", Severity: "high",
			Subjects: subjects(db, "claim_id", cb.id, "resource_id", da.resources[i]),
			Context:  kv("other_applicant_uscc", a.uscc(), "other_contract_no", da.no, "other_claim_id", ca.id),
			Note:     "the same node is metered to two buyers in overlapping windows"})
	}

	// Look-alikes.
	var old []*entity
	for _, s := range w.suppliers[1:] {
		if s.oldInvoice {
			old = append(old, s)
		}
	}
	for i := 0; i < 2; i++ {
		s1, s2 := old[(2*i)%len(old)], old[(2*i+1)%len(old)]
		a := w.freshBuyer()
		b := a // the second time one applicant holds both invoices
		if i == 0 {
			b = w.freshBuyer()
		}
		da, db := w.honest(a, s1, 4), w.honest(b, s2, 4)
		ia, ib := mainInvoices(da)[0], mainInvoices(db)[0]
		if ia.w.InvoiceCode == ib.w.InvoiceCode || w.taken["inv:"+ib.w.InvoiceCode+ia.w.InvoiceNo] {
			continue
		}
		w.taken["inv:"+ib.w.InvoiceCode+ia.w.InvoiceNo] = true
		ib.w.InvoiceNo = ia.w.InvoiceNo
		ca := w.plantClaim(a, da)
		cb := ca
		if b == a {
			ca.invoices = append(ca.invoices, wClaimInvoice{InvoiceCode: ib.w.InvoiceCode, InvoiceNo: ib.w.InvoiceNo, Amount: ib.w.Amount})
			ca.contracts = append(ca.contracts, db.no)
			ca.noteOrigin(db)
			ca.recount()
			ca.request(1)
		} else {
			cb = w.plantClaim(b, db)
		}
		w.addCase(Case{Detector: DetDuplicate, Kind: "same_invoice_no_other_code", Clause: "M1b", LookAlike: true,
			Subjects: kv("applicant_uscc", b.uscc(), "supplier_uscc", db.supplier.uscc(), "claim_id", cb.id, "invoice_no", ib.w.InvoiceNo),
			Context: kv("invoice_code", ib.w.InvoiceCode, "other_invoice_code", ia.w.InvoiceCode, "other_claim_id", ca.id,
				"other_applicant_uscc", a.uscc(), "other_supplier_uscc", s1.uscc(), "other_contract_no", da.no),
			Note: "two paper-era invoices share an 8-digit number under different 12-digit codes: two invoices"})
	}
	for i := 0; i < 2; i++ {
		s := w.plantSupplier()
		a, b := w.freshBuyer(), w.freshBuyer()
		da := w.plantDeal(a, s, 3, 8)
		da.meterCards = 8
		w.realise(r, da)
		db := w.plantDeal(b, da.supplier, 3, 8)
		db.supplier, db.cap, db.chip, db.meterCards = da.supplier, da.cap, da.chip, 8
		db.price = marketPrice(r, *da.chip, db.unit, 8)
		// The first window starts the instant the last one of the first tenant ended.
		start := da.end.AddDate(0, 0, 1)
		db.reschedule(da.end.AddDate(0, 0, -10), start, start.AddDate(0, 3, -1))
		db.resources = da.resources
		w.realise(r, db)
		ca := w.plantClaim(a, da)
		cb := w.plantClaim(b, db)
		w.addCase(Case{Detector: DetDuplicate, Kind: "resource_let_in_turn", Clause: "M1b", LookAlike: true,
			Subjects: subjects(db, "claim_id", cb.id, "resource_id", da.resources[0]),
			Context:  kv("other_applicant_uscc", a.uscc(), "other_contract_no", da.no, "other_claim_id", ca.id),
			Note:     "one node let to one buyer and then to another; the windows touch but do not overlap"})
	}
}

// plantPrices plants M1d unit prices far from the market, and honest prices that only look odd.
func (w *world) plantPrices() {
	r := w.pr
	for i, f := range []float64{3, 3, 0.3, 0.3} {
		b := w.freshBuyer()
		d := w.plantDeal(b, w.plantSupplier(), 4, 0)
		d.unit = "card_hour"
		p := d.chip.Mid() * f
		if i%2 == 1 {
			d.unit = "card_month"
			p *= HoursPerCardMonth * (1 - CardMonthDiscount)
		}
		d.price = yuan(p)
		w.realise(r, d)
		cs := w.plantClaim(b, d)
		kind := "unit_price_far_above"
		if f < 1 {
			kind = "unit_price_far_below"
		}
		w.addCase(Case{Detector: DetPrice, Kind: kind, Clause: "M1d", Severity: "high",
			Subjects: subjects(d, "claim_id", cs.id),
			Context:  kv("chip_model", d.chip.Model, "unit", d.unit, "unit_price", d.price.String(), "market_card_hour", fmt.Sprintf("%.2f-%.2f", d.chip.Low, d.chip.High)),
			Note:     fmt.Sprintf("%.1f× the mid-market price of a %s", f, d.chip.Model)})
	}
	for i := 0; i < 2; i++ {
		b := w.freshBuyer()
		d := w.plantDeal(b, w.plantSupplier(), 6, 0)
		d.unit = "card_month"
		d.price = marketPrice(r, *d.chip, d.unit, d.cards)
		w.realise(r, d)
		w.plantClaim(b, d)
		w.addCase(Case{Detector: DetPrice, Kind: "card_month_price", Clause: "M1d", LookAlike: true,
			Subjects: subjects(d), Context: kv("chip_model", d.chip.Model, "unit_price", d.price.String()),
			Note: fmt.Sprintf("%s yuan per card-month is %.2f per card-hour over 720 hours", d.price, d.price.yuan()/HoursPerCardMonth)})
	}
	for i := 0; i < 2; i++ {
		b := w.freshBuyer()
		b.large, b.w.IsSME = true, false
		d := w.plantDeal(b, w.suppliers[0], 4, 256)
		d.unit = "card_hour"
		d.price = yuan(d.chip.Mid() * 0.8)
		w.realise(r, d)
		w.plantClaim(b, d)
		w.addCase(Case{Detector: DetPrice, Kind: "volume_discount_20pct", Clause: "M1d", LookAlike: true,
			Subjects: subjects(d), Context: kv("chip_model", d.chip.Model, "unit_price", d.price.String(), "cards", "256"),
			Note: "20 % off the mid-market price for 256 cards"})
	}
	for i, m := range []struct {
		chip  string
		price float64
	}{{"MLU370", 45}, {"H100", 58}} {
		b := w.freshBuyer()
		d := &deal{buyer: b, supplier: w.plantSupplier(), billFactor: 1, separateNonSubs: true}
		w.plantSchedule(d, 4)
		ch := chipByModel(m.chip)
		d.lines = []line{{typ: "model_service", chip: &ch, price: yuan(m.price), tokens: float64(300 + 200*i)}}
		d.contractName = "大模型推理服务合同"
		w.realise(r, d)
		w.plantClaim(b, d)
		w.addCase(Case{Detector: DetPrice, Kind: "token_million_price", Clause: "M1d", LookAlike: true,
			Subjects: subjects(d), Context: kv("chip_model", m.chip, "unit", "token_million", "unit_price", yuan(m.price).String()),
			Note: "a price per million tokens on a model served by " + m.chip + ": not a card-hour price"})
	}
}

// plantRules plants the policy's eligibility and claim rules.
func (w *world) plantRules() {
	r := w.pr
	// M1a: an unregistered supplier, and one the registry has never heard of.
	sellers := append([]*entity(nil), w.unregs...)
	ghost := w.newSupplier(r, false)
	w.suppliers = w.suppliers[:len(w.suppliers)-1]
	ghost.noRegistry = true
	sellers = append(sellers, ghost)
	for _, s := range sellers {
		b := w.freshBuyer()
		d := w.plantDeal(b, s, 4, 0)
		d.supplier, d.cap = s, s.caps[0] // never another one
		ch := d.cap.chip
		d.chip = &ch
		d.price = marketPrice(r, ch, d.unit, d.cards)
		d.noUsage = true // not connected to the scheduling platform: no telemetry
		w.realise(r, d)
		cs := w.draftClaim(r, b, []*deal{d}, w.claimDate(r, true), true)
		w.claims = append(w.claims, cs)
		kind, note := "supplier_not_registered", "the supplier's registry record says registered: false"
		if s.noRegistry {
			kind, note = "supplier_not_in_registry", "the supplier has no registry record at all"
		}
		w.addCase(Case{Detector: RuleUnregistered, Kind: kind, Clause: "M1a", Severity: "high",
			Subjects: subjects(d, "claim_id", cs.id), Note: note})
	}

	// D1: credit. The dishonest listing arrives as a newer registry version; the violation is in
	// the only version; the look-alike was listed once and is cleared in a newer version that
	// arrives first.
	for i := 0; i < 3; i++ {
		b := w.freshBuyer()
		d := w.honest(b, w.plantSupplier(), 4)
		cs := w.plantClaim(b, d)
		older := cloneEntity(b.w)
		later := cs.submitted.AddDate(0, -2, -r.IntN(60)).Add(10 * time.Hour)
		switch i {
		case 0:
			b.w.Credit.SeriouslyDishonest = true
			b.older = append(b.older, regVersion{data: older, at: b.finalAt})
			b.finalAt = later
			w.addCase(Case{Detector: RuleCredit, Kind: "seriously_dishonest", Clause: "D1", Severity: "high",
				Subjects: kv("applicant_uscc", b.uscc(), "claim_id", cs.id), Note: "listed as seriously dishonest in a newer registry version"})
		case 1:
			b.w.Credit.MajorViolation = true
			w.addCase(Case{Detector: RuleCredit, Kind: "major_violation", Clause: "D1", Severity: "high",
				Subjects: kv("applicant_uscc", b.uscc(), "claim_id", cs.id), Note: "a major violation within three years"})
		default:
			older.Credit.SeriouslyDishonest = true
			b.older = append(b.older, regVersion{data: older, at: b.finalAt, pos: later.Add(3 * time.Hour)})
			b.finalAt = later
			w.addCase(Case{Detector: RuleCredit, Kind: "credit_repaired", Clause: "D1", LookAlike: true,
				Subjects: kv("applicant_uscc", b.uscc(), "claim_id", cs.id),
				Note:     "listed in the first registry version, cleared in a newer one; the older arrives last"})
		}
	}

	// D2: buys less than 50,000 yuan a year; the look-alike buys exactly 50,000.00.
	for i := 0; i < 2; i++ {
		b := w.freshBuyer()
		d := w.cheapDeal(b)
		w.realise(r, d)
		cs := w.plantClaim(b, d)
		w.addCase(Case{Detector: RuleAnnualPurchase, Kind: "annual_purchase_below_50000", Clause: "D2", Severity: "medium",
			Subjects: subjects(d, "claim_id", cs.id), Context: kv("settled", cs.usage.String()),
			Note: "all the applicant bought in the year is below 50,000 yuan"})
	}
	{
		b := w.freshBuyer()
		d := w.exactDeal(b, yuan(50000))
		w.realise(r, d)
		cs := w.plantClaim(b, d)
		w.addCase(Case{Detector: RuleAnnualPurchase, Kind: "annual_purchase_exactly_50000", Clause: "D2", LookAlike: true,
			Subjects: subjects(d, "claim_id", cs.id), Context: kv("settled", cs.usage.String()),
			Note: "exactly 50,000.00 yuan: the threshold is inclusive (5万元(含)以上)"})
	}

	// P3: filing within 30 days of signing when not bought through the platform.
	for i, days := range []int{45, -1, 30, 30} {
		b := w.freshBuyer()
		d := w.plantDeal(b, w.plantSupplier(), 4, 0)
		d.via, d.republishFiling = false, i == 0
		d.filed = nil
		if days > 0 {
			f := d.signed.AddDate(0, 0, days)
			d.filed = &f
		}
		w.realise(r, d)
		cs := w.plantClaim(b, d)
		c := Case{Detector: RuleLateFiling, Clause: "P3", Subjects: subjects(d, "claim_id", cs.id)}
		switch days {
		case 45:
			c.Kind, c.Severity, c.Note = "filed_late", "medium", "filed 45 days after signing (sent unfiled first, then filed)"
		case -1:
			c.Kind, c.Severity, c.Note = "never_filed", "medium", "not bought through the platform and never filed"
		default:
			c.Kind, c.LookAlike, c.Note = "filed_on_day_30", true, "filed on the 30th day: in time"
		}
		w.addCase(c)
	}

	// C1: bandwidth, security or database claimed.
	for i := 0; i < 2; i++ {
		b := w.freshBuyer()
		d := w.plantDeal(b, w.plantSupplier(), 4, 0)
		d.lines = []line{nonSubsidisableLine(r)}
		d.separateNonSubs = i == 0 // the second supplier puts it on the compute invoice
		w.realise(r, d)
		cs := w.draftClaim(r, b, []*deal{d}, w.claimDate(r, true), false)
		if cs == nil { // mixed invoices only: an honest applicant would have nothing to cite
			cs = w.newClaim(r, b, w.claimDate(r, true))
		}
		w.claims = append(w.claims, cs)
		var first *settle
		for _, s := range d.settlements {
			if !s.subsidised && !s.at.After(cs.submitted.AddDate(0, 0, -1)) {
				cs.cite(s)
				if first == nil {
					first = s
				}
			}
		}
		if i == 1 {
			cs.contracts = []string{d.no}
		}
		cs.noteOrigin(d)
		cs.request(1)
		kind := "non_subsidisable_invoice_claimed"
		if i == 1 {
			kind = "mixed_invoice_claimed_in_full"
		}
		w.addCase(Case{Detector: RuleNonSubsidisable, Kind: kind, Clause: "C1", Severity: "high",
			Subjects: subjects(d, "claim_id", cs.id, "invoice_no", first.w.InvoiceNo),
			Context:  kv("service_type", d.lines[0].typ), Note: d.lines[0].typ + " is not subsidisable"})
	}

	// C2: more than 30 %, more than 10 million; look-alikes at exactly the limits.
	for i, share := range []float64{0.35, 0.40} {
		b := w.freshBuyer()
		d := w.honest(b, w.plantSupplier(), 4+i)
		cs := w.plantClaim(b, d)
		cs.requested = cs.usage.times(share)
		w.addCase(Case{Detector: RuleRequestLimit, Kind: "over_30_percent", Clause: "C2", Severity: "high",
			Subjects: subjects(d, "claim_id", cs.id), Context: kv("usage_amount", cs.usage.String(), "requested", cs.requested.String()),
			Note: fmt.Sprintf("asks %.0f %% of the settled amount", share*100)})
	}
	{
		b := w.freshBuyer()
		d := w.honest(b, w.plantSupplier(), 5)
		cs := w.plantClaim(b, d)
		w.addCase(Case{Detector: RuleRequestLimit, Kind: "exactly_30_percent", Clause: "C2", LookAlike: true,
			Subjects: subjects(d, "claim_id", cs.id), Context: kv("usage_amount", cs.usage.String(), "requested", cs.requested.String()),
			Note: "30 % of the settled amount rounded down to the fen"})
	}
	for i, req := range []fen{yuan(10_500_000), SubsidyCap} {
		b := w.freshBuyer()
		b.large, b.w.IsSME = true, false
		d := w.bigDeal(b, 9)
		w.realise(r, d)
		cs := w.plantClaim(b, d)
		if cs.usage*30/100 < req {
			continue // a period too short to settle that much: the claim stays honest
		}
		cs.requested = req
		c := Case{Detector: RuleRequestLimit, Clause: "C2", Subjects: subjects(d, "claim_id", cs.id),
			Context: kv("usage_amount", cs.usage.String(), "requested", cs.requested.String())}
		if i == 0 {
			c.Kind, c.Severity, c.Note = "over_10m_cap", "high", "asks 10.5 million: within 30 % but above the 10-million cap"
		} else {
			c.Kind, c.LookAlike, c.Note = "exactly_10m_cap", true, "asks exactly 10,000,000.00"
		}
		w.addCase(c)
	}

	// W: service before 2025-10-27 claimed in full; the look-alike runs past 2028-10-26 but only
	// in-window invoices exist yet.
	for i, start := range []time.Time{time.Date(2025, 9, 15, 0, 0, 0, 0, cst), time.Date(2025, 10, 8, 0, 0, 0, 0, cst)} {
		b := w.freshBuyer()
		d := w.plantDeal(b, w.plantSupplier(), 6, 0)
		d.via, d.filed = true, nil
		d.reschedule(start.AddDate(0, 0, -6-i), start, start.AddDate(0, 6, -1))
		w.realise(r, d)
		cs := w.plantClaim(b, d)
		w.addCase(Case{Detector: RulePolicyWindow, Kind: "service_before_window", Clause: "W", Severity: "medium",
			Subjects: subjects(d, "claim_id", cs.id, "invoice_no", d.settlements[0].w.InvoiceNo),
			Context:  kv("service_start", date(d.start), "window_start", date(policyStart)),
			Note:     "the claim cites invoices for service before 2025-10-27 in full"})
	}
	{
		b := w.freshBuyer()
		d := w.plantDeal(b, w.plantSupplier(), 4, 0)
		start := time.Date(2026, 3, 1, 0, 0, 0, 0, cst)
		if start.Before(w.start) {
			start = midnight(w.start)
		}
		d.reschedule(start.AddDate(0, 0, -9), start, time.Date(2028, 12, 31, 0, 0, 0, 0, cst))
		if !w.capacityFree(d.cap, d.start, d.end, d.cards) {
			d.cap = w.findLine(d.cards, d.start, d.end, "")
			d.supplier = w.supplierOf(d.cap)
			ch := d.cap.chip
			d.chip = &ch
		}
		d.unit = "card_month"
		d.price = marketPrice(r, *d.chip, d.unit, d.cards)
		w.realise(r, d)
		cs := w.plantClaim(b, d)
		w.addCase(Case{Detector: RulePolicyWindow, Kind: "service_beyond_window", Clause: "W", LookAlike: true,
			Subjects: subjects(d, "claim_id", cs.id), Context: kv("service_end", date(d.end)),
			Note: "service runs to 2028-12-31; only in-window months are invoiced and claimed so far"})
	}

	// P4: a claimed invoice that no settlement has, and one claimed for more than settled.
	{
		b := w.freshBuyer()
		d := w.honest(b, w.plantSupplier(), 4)
		cs := w.plantClaim(b, d)
		no := w.unique(func() string { return fmt.Sprintf("26432000%s", digits(r, 12)) })
		cs.invoices = append(cs.invoices, wClaimInvoice{InvoiceNo: no, Amount: cs.invoices[0].Amount})
		cs.recount()
		cs.request(1)
		w.addCase(Case{Detector: RuleInvoiceMismatch, Kind: "invoice_not_settled", Clause: "P4", Severity: "high",
			Subjects: subjects(d, "claim_id", cs.id, "invoice_no", no), Note: "the claim cites an invoice no settlement carries"})
	}
	{
		b := w.freshBuyer()
		d := w.honest(b, w.plantSupplier(), 4)
		cs := w.plantClaim(b, d)
		k := len(cs.invoices) / 2
		was := cs.invoices[k].Amount
		cs.invoices[k].Amount = was.times(1.5)
		cs.recount()
		cs.request(1)
		w.addCase(Case{Detector: RuleInvoiceMismatch, Kind: "invoice_amount_differs", Clause: "P4", Severity: "high",
			Subjects: subjects(d, "claim_id", cs.id, "invoice_no", cs.invoices[k].InvoiceNo),
			Context:  kv("settled_amount", was.String(), "claimed_amount", cs.invoices[k].Amount.String()),
			Note:     "the claim cites an invoice at 1.5 times its settled amount"})
	}

	// D3/P4: billed well above what the platform metered.
	for _, f := range []float64{1.8, 2.3} {
		b := w.freshBuyer()
		d := w.plantDeal(b, w.plantSupplier(), 4, 0)
		d.unit, d.billFactor = "card_hour", f
		d.price = marketPrice(r, *d.chip, d.unit, d.cards)
		w.realise(r, d)
		cs := w.plantClaim(b, d)
		w.addCase(Case{Detector: RuleBilledMetered, Kind: "billed_above_metered", Clause: "D3", Severity: "high",
			Subjects: subjects(d, "claim_id", cs.id), Context: kv("billed_over_metered", fmt.Sprintf("%.1f", f)),
			Note: fmt.Sprintf("invoices bill %.1f times the metered card-hours", f)})
	}

	// M1d: a supplier meters more cards of a chip than it registered. The line is new and only
	// these deals use it.
	{
		s := w.plantSupplier()
		have := map[string]bool{}
		for _, c := range s.caps {
			have[c.chip.Model] = true
		}
		ch := Chips[0]
		for _, c := range Chips {
			if !have[c.Model] {
				ch = c
				break
			}
		}
		cl := &capLine{chip: ch, cards: 64, dc: s.caps[0].dc, used: make([]int32, w.days)}
		s.w.Supplier.Capacity = append(s.w.Supplier.Capacity, wCapacity{ChipModel: ch.Model, ChipOrigin: ch.Origin, Cards: 64, Datacenter: cl.dc})
		first := w.plantDeal(w.freshBuyer(), s, 4, 48)
		for i := 0; i < 3; i++ {
			d := first
			if i > 0 {
				d = w.plantDeal(w.freshBuyer(), s, 4, 48)
				start := first.start.AddDate(0, 0, 4*i)
				d.reschedule(first.signed.AddDate(0, 0, 3*i), start, start.AddDate(0, 4, -1))
			}
			d.supplier, d.cap, d.chip, d.ignoreCapacity = s, cl, &cl.chip, true
			d.price = marketPrice(r, ch, d.unit, 48)
			w.realise(r, d)
			w.plantClaim(d.buyer, d)
		}
		w.addCase(Case{Detector: RuleOverCapacity, Kind: "metered_above_registered_capacity", Clause: "M1d", Severity: "high",
			Subjects: kv("supplier_uscc", s.uscc()), Context: kv("chip_model", ch.Model, "registered_cards", "64", "peak_cards", "144"),
			Note: "three 48-card tenants at once on a 64-card registered line"})
	}
}

// cheapDeal is a small purchase well below 50,000 yuan: a few cards of a cheap chip for two months.
func (w *world) cheapDeal(b *entity) *deal {
	r := w.pr
	for try := 0; try < 100; try++ {
		s := w.plantSupplier()
		for _, cl := range s.caps {
			if cl.chip.High > 8 {
				continue
			}
			d := &deal{buyer: b, supplier: s, billFactor: 1, separateNonSubs: true, cap: cl, unit: "card_month"}
			w.plantSchedule(d, 2)
			ch := cl.chip
			d.chip, d.service = &ch, "compute_resource"
			d.price = marketPrice(r, ch, d.unit, 8)
			d.cards = max(1, int(16000/d.price.yuan()))
			if w.capacityFree(cl, d.start, d.end, d.cards) && d.price.times(float64(d.cards)*2.2) < yuan(45000) {
				return d
			}
		}
	}
	panic("synth: no cheap chip on the market")
}

// exactDeal settles exactly total in one invoice: one calendar month of cards at a card-month
// price that divides total, within the chip's market.
func (w *world) exactDeal(b *entity, total fen) *deal {
	r := w.pr
	for try := 0; try < 200; try++ {
		s := w.plantSupplier()
		cl := pick(r, s.caps)
		for _, cards := range []int{8, 10, 16, 20, 25, 40, 4, 5} {
			if total%fen(cards) != 0 {
				continue
			}
			price := total / fen(cards)
			perHour := price.yuan() / HoursPerCardMonth / (1 - CardMonthDiscount)
			if perHour < cl.chip.Low || perHour > cl.chip.High {
				continue
			}
			d := &deal{buyer: b, supplier: s, billFactor: 1, separateNonSubs: true, cap: cl, unit: "card_month", cards: cards, price: price}
			ch := cl.chip
			d.chip, d.service = &ch, "compute_resource"
			w.plantSchedule(d, 1)
			d.start = time.Date(d.start.Year(), d.start.Month()+1, 1, 0, 0, 0, 0, cst)
			d.end = d.start.AddDate(0, 1, -1)
			d.via, d.filed = true, nil
			if w.capacityFree(cl, d.start, d.end, cards) {
				return d
			}
		}
	}
	panic("synth: no chip prices 50,000 yuan exactly")
}

// bigDeal is 512 cards of the dearest line with room, by the card-month, for up to months
// (fewer when the period is short): enough to reach the 10-million cap.
func (w *world) bigDeal(b *entity, months int) *deal {
	d := &deal{buyer: b, billFactor: 1, separateNonSubs: true, cards: 512, unit: "card_month", service: "compute_resource"}
	d.supplier = w.suppliers[0]
	from := midnight(w.start).AddDate(0, 0, 7)
	if reg := d.supplier.registeredOn(); !from.After(reg) {
		from = reg.AddDate(0, 0, 1)
	}
	claims, _ := w.claimWindow()
	for months > 3 && from.AddDate(0, months, 40).After(claims) {
		months--
	}
	d.signed = from
	d.start = from.AddDate(0, 0, 2)
	d.end = d.start.AddDate(0, months, -1)
	d.via = true
	d.cap = w.findLine(512, d.start, d.end, "")
	d.supplier = w.supplierOf(d.cap)
	ch := d.cap.chip
	d.chip = &ch
	d.price = yuan(ch.High * HoursPerCardMonth * (1 - CardMonthDiscount))
	return d
}

// findLine returns the capacity line with room for cards over the period, dearest chip first.
func (w *world) findLine(cards int, from, to time.Time, origin string) *capLine {
	var best *capLine
	for _, s := range w.suppliers {
		for _, cl := range s.caps {
			if (origin == "" || cl.chip.Origin == origin) && w.capacityFree(cl, from, to, cards) &&
				(best == nil || cl.chip.High > best.chip.High) {
				best = cl
			}
		}
	}
	if best == nil {
		panic(fmt.Sprintf("synth: no line has %d free cards", cards))
	}
	return best
}

func (w *world) supplierOf(cl *capLine) *entity {
	for _, s := range w.suppliers {
		for _, c := range s.caps {
			if c == cl {
				return s
			}
		}
	}
	panic("synth: orphan capacity line")
}

// shell creates an intermediate enterprise (a holding or investment vehicle) owned by people.
func (w *world) shell(suffixes ...string) *entity {
	r := w.pr
	c := w.pickCity(r)
	name, b := w.firmName(r, c, "", suffixes)
	e := w.newEntity(r, kindShell, c, name, b.py)
	w.founders(r, e, 2)
	return e
}

func setOfficer(e *entity, role string, p wPerson) {
	e.w.Officers = append(e.w.Officers, wOfficer{Role: role, Person: p})
}

// plantTies plants D4/S4 related parties between a buyer and its supplier, and ties that are
// not ties.
func (w *world) plantTies() {
	r := w.pr
	pair := func() (*entity, *entity, *deal, *claimSpec) {
		b, s := w.freshBuyer(), w.tieSupplier()
		d := w.honest(b, s, 4)
		s = d.supplier
		return b, s, d, w.plantClaim(b, d)
	}
	related := func(kind, sev string, d *deal, cs *claimSpec, ctx map[string]string, note string) {
		w.addCase(Case{Detector: DetRelated, Kind: kind, Clause: "D4", Severity: sev,
			Subjects: subjects(d, "claim_id", cs.id), Context: ctx, Note: note})
	}
	notRelated := func(kind string, d *deal, ctx map[string]string, note string) {
		w.addCase(Case{Detector: DetRelated, Kind: kind, Clause: "D4", LookAlike: true, Subjects: subjects(d), Context: ctx, Note: note})
	}
	{
		b, s, d, cs := pair()
		setStake(b, s, 15)
		related("direct_stake", "high", d, cs, kv("holder", s.uscc(), "share_pct", "15"), "the supplier holds 15 % of the buyer")
	}
	{
		b, s, d, cs := pair()
		setStake(s, b, 2.5)
		related("direct_stake", "high", d, cs, kv("holder", b.uscc(), "share_pct", "2.5"), "the buyer holds 2.5 % of the supplier: any direct stake is a tie")
	}
	for i := 0; i < 2; i++ {
		b, s, d, cs := pair()
		g := w.shell("控股集团有限公司", "投资控股集团有限公司")
		h2 := w.shell("投资有限公司", "企业管理有限公司")
		setStake(h2, g, float64(55+r.IntN(30)))
		setStake(s, h2, float64(51+r.IntN(20)))
		ctx := kv("controller", g.uscc(), "supplier_chain", g.uscc()+">"+h2.uscc()+">"+s.uscc())
		if i == 0 {
			h1 := w.shell("科技发展有限公司", "投资有限公司")
			setStake(h1, g, float64(60+r.IntN(30)))
			setStake(b, h1, float64(51+r.IntN(30)))
			ctx["buyer_chain"] = g.uscc() + ">" + h1.uscc() + ">" + b.uscc()
		} else {
			setStake(b, g, float64(52+r.IntN(30)))
			ctx["buyer_chain"] = g.uscc() + ">" + b.uscc()
		}
		related("common_controller", "high", d, cs, ctx, "one group controls both through chains of majority stakes")
	}
	{
		b, s, d, cs := pair()
		x := w.shell("投资有限公司", "实业有限公司")
		setStake(x, s, 45)
		setStake(b, x, 60)
		related("indirect_ownership_over_20pct", "medium", d, cs, kv("via", x.uscc(), "integrated_pct", "27"),
			"the supplier holds 45 % of a firm that holds 60 % of the buyer: 27 % integrated")
	}
	for i := 0; i < 2; i++ {
		b, s, d, cs := pair()
		p := w.person(r, "")
		if i == 0 {
			setOfficer(b, "director", p)
			setOfficer(s, "supervisor", p)
		} else {
			b.w.LegalRep = &p
			b.w.Officers[0] = wOfficer{Role: "legal_rep", Person: p}
			setOfficer(s, "manager", p)
		}
		related("same_person", "high", d, cs, kv("person", p.Name, "id_number", p.IDNumber),
			"one person (one id number) is an officer on both sides")
	}
	{
		b, s, d, cs := pair()
		b.w.BankAccounts = append(b.w.BankAccounts, s.w.BankAccounts[0])
		related("shared_bank_account", "high", d, cs, kv("account_no", s.account()), "the buyer lists the supplier's account as its own")
	}
	{
		b, s, d, cs := pair()
		b.w.Contacts[0].Phone = s.w.Contacts[0].Phone
		related("shared_phone", "medium", d, cs, kv("phone", s.w.Contacts[0].Phone), "the buyer's contact has the supplier's contact's phone")
	}
	{
		b, s, d, cs := pair()
		b.w.LegalRep.Email = s.w.Contacts[0].Email
		b.w.Officers[0].Person.Email = s.w.Contacts[0].Email
		related("shared_email", "medium", d, cs, kv("email", s.w.Contacts[0].Email), "the buyer's legal representative uses the supplier's contact's e-mail")
	}
	{
		b, s, d, cs := pair()
		b.w.RegisteredAddress = s.w.OfficeAddress
		related("shared_address", "low", d, cs, kv("address", s.w.OfficeAddress), "registered at the supplier's office address: a hint, not proof")
	}
	{
		b, s, d, cs := pair()
		setStake(b, s, 4)
		setStake(s, b, 3)
		related("cross_holding", "high", d, cs, kv("buyer_in_supplier", "3", "supplier_in_buyer", "4"), "buyer and supplier hold each other")
	}

	// Look-alikes.
	for i := 0; i < 2; i++ {
		b, s, d, _ := pair()
		p1, p2 := w.person(r, ""), w.person(r, "")
		p1.Name, p2.Name = "王伟", "王伟"
		setOfficer(b, "director", p1)
		setOfficer(s, pick(r, []string{"supervisor", "director"}), p2)
		notRelated("same_name_other_person", d, kv("name", "王伟"), "two different people called 王伟 (different id numbers)")
	}
	{
		b, s, d, _ := pair()
		f := pick(r, w.funds)
		setStake(b, f, 6)
		setStake(s, f, 8)
		notRelated("fund_minority_both", d, kv("fund", f.uscc()), "a fund holds 6 % of the buyer and 8 % of the supplier")
	}
	{
		b, s, d, _ := pair()
		x := w.shell("投资有限公司", "咨询有限公司")
		setStake(x, s, 10)
		setStake(b, x, 10)
		notRelated("indirect_1pct", d, kv("via", x.uscc(), "integrated_pct", "1"), "10 % of 10 %: a 1 % indirect stake")
	}
	{
		a, c := w.freshBuyer(), w.freshBuyer()
		da, dc := w.honest(a, w.plantSupplier(), 4), w.honest(c, w.plantSupplier(), 4)
		w.plantClaim(a, da)
		w.plantClaim(c, dc)
		setStake(a, c, 5)
		setStake(c, a, 5)
		notRelated("cross_holding_not_trading", da, kv("other", c.uscc()), "two buyers hold each other but neither sells to the other")
	}
	{
		b, s, d, _ := pair()
		cty := s.city
		dist := pick(r, cty.districts)
		base := w.unique(func() string {
			return fmt.Sprintf("%s%s%s%d号%s%d栋", cty.name, dist.name, pick(r, cty.roads), 1+r.IntN(899), pick(r, buildings), 1+r.IntN(12))
		})
		s.w.OfficeAddress = base + "1203室"
		b.w.OfficeAddress = base + "1508室"
		notRelated("same_building_other_room", d, kv("building", base), "offices in one building, different rooms")
	}
}

// plantResale plants M1c: buyers passing subsidised compute on to others, and a supplier that
// buys compute for its own use.
func (w *world) plantResale() {
	r := w.pr
	for i := 0; i < 3; i++ {
		reseller := w.freshBuyer()
		s := w.plantSupplier()
		var customers []*entity
		for k := 0; k < 2+i%2; k++ {
			customers = append(customers, w.freshBuyer())
		}
		d := w.plantDeal(reseller, s, 6, 64)
		d.unit = "card_hour"
		d.price = marketPrice(r, *d.chip, d.unit, d.cards)
		crossUnit := i == 2
		d.loginOrgs = []string{reseller.uscc()}
		if !crossUnit {
			for _, c := range customers {
				d.loginOrgs = append(d.loginOrgs, c.uscc())
			}
		}
		w.realise(r, d)
		cs := w.plantClaim(reseller, d)
		var sales []string
		for k, c := range customers {
			share := 1 / float64(len(customers))
			sd := &deal{buyer: c, supplier: reseller, chip: d.chip, service: "compute_resource", billFactor: 1,
				separateNonSubs: true, noUsage: true, dc: d.dc, plan: d.plan, unit: "card_hour"}
			sd.cards = max(8, d.cards/len(customers)/8*8)
			sd.signed = d.signed.AddDate(0, 0, 2+3*k)
			sd.start = d.start.AddDate(0, 0, 1+k)
			sd.end = d.end
			sd.filed = &sd.signed
			sd.price = yuan(math.Min(d.chip.High, d.price.yuan()*(1.06+r.Float64()*0.08)))
			days := int(sd.end.Sub(sd.start).Hours()/24) + 1
			sd.metered = make([]float64, days)
			off := int(sd.start.Sub(d.start).Hours() / 24)
			for j := range sd.metered {
				sd.metered[j] = d.metered[off+j] * share * 0.9 // what it sells approaches what it bought
			}
			if crossUnit {
				sd.unit = "card_month"
				sd.cards = max(1, int(float64(d.cards)*d.plan*0.9/float64(len(customers))))
				sd.price = yuan(d.price.yuan() * HoursPerCardMonth * 0.95)
			}
			w.realise(r, sd)
			sales = append(sales, sd.no)
			w.addCase(Case{Detector: RuleUnregistered, Kind: "bought_from_reseller", Clause: "M1a", Severity: "medium",
				Subjects: subjects(sd), Note: "companion of a resale case: the seller is a buyer, not a registered supplier"})
		}
		kind, sev, note := "resale_to_other_orgs", "high", "sells the same chip to others while buying it; other organisations log in on its tenant"
		if crossUnit {
			kind, sev, note = "resale_by_the_month", "medium", "buys card-hours and sells the same chip by the card-month; logins are its own"
		}
		var orgs []string
		for _, c := range customers {
			orgs = append(orgs, c.uscc())
		}
		w.addCase(Case{Detector: DetResale, Kind: kind, Clause: "M1c", Severity: sev,
			Subjects: subjects(d, "claim_id", cs.id),
			Context:  kv("customers", strings.Join(orgs, ","), "other_contract_no", strings.Join(sales, ",")),
			Note:     note})
	}
	for i := 0; i < 2; i++ {
		t := w.plantSupplier()
		var s *entity
		var cl *capLine
		for s == nil {
			cand := w.plantSupplier()
			if cand == t {
				continue
			}
			have := map[string]bool{}
			for _, c := range t.caps {
				have[c.chip.Model] = true
			}
			for _, c := range cand.caps {
				if !have[c.chip.Model] {
					s, cl = cand, c
					break
				}
			}
		}
		t.domain = 9 // 基础研究: its own R&D
		d := w.plantDeal(t, s, 5, 32)
		for d.supplier == t {
			d = w.plantDeal(t, s, 5, 32)
		}
		if d.supplier == s && w.capacityFree(cl, d.start, d.end, 32) {
			d.cap, d.chip = cl, &cl.chip
			d.price = marketPrice(r, cl.chip, d.unit, 32)
		}
		d.loginOrgs = []string{t.uscc()}
		w.realise(r, d)
		w.plantClaim(t, d)
		w.addCase(Case{Detector: DetResale, Kind: "supplier_buys_for_own_use", Clause: "M1c", LookAlike: true,
			Subjects: subjects(d), Context: kv("chip_model", d.chip.Model),
			Note: "a registered supplier with its own capacity buys another chip for its own work"})
	}
}
