package synth

import "fmt"

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
