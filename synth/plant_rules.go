package synth

import (
	"fmt"
	"time"
)

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
