package synth

import (
	"math"
	"strings"
)

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
