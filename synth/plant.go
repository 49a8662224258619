package synth

import "time"

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
	w.plantRealUse()
	if w.cfg.Evasive {
		w.plantEvasive()
	}
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
