package synth

import "fmt"

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
