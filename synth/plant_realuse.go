package synth

import (
	"math"
	"time"
)

// Detector names of the real-use cases (真实使用).
const (
	DetIdle = "idle_consumption" // compute paid for and claimed, metered idle
	DetWash = "wash_trade"       // compute bought in a circle and claimed
)

// plantRealUse plants idle consumption and wash trades, with their look-alikes.
func (w *world) plantRealUse() {
	w.plantIdle()
	w.plantWash()
}

// idleDeal drafts a deal of reserved cards (card-months, metered around the clock) for a fresh
// buyer, with the utilisation of its days set by use.
func (w *world) idleDeal(months int, use func(i int) (float64, bool)) *deal {
	b := w.freshBuyer()
	d := w.plantDeal(b, w.plantSupplier(), months, 8*(1+w.pr.IntN(3)))
	d.unit = "card_month"
	d.price = marketPrice(w.pr, *d.chip, d.unit, d.cards)
	d.dayUse = use
	return d
}

// plantIdle plants claimed contracts idle for most of their paid period, and the look-alikes:
// a reserved cluster idle over a holiday week, a training job with low utilisation but steady
// jobs, and a contract early in its term idle while it is set up.
func (w *world) plantIdle() {
	r := w.pr
	idle := func(int) (float64, bool) { return 0.002 + r.Float64()*0.02, false }
	used := func(int) (float64, bool) { return 0.45 + r.Float64()*0.4, true }
	finding := func(d *deal, note string) {
		w.realise(r, d)
		cs := w.plantClaim(d.buyer, d)
		w.addCase(Case{Detector: DetIdle, Kind: "idle_paid_period", Clause: "D3", Severity: "high",
			Subjects: subjects(d, "claim_id", cs.id), Note: note})
	}
	lookAlike := func(d *deal, kind, note string) {
		w.realise(r, d)
		w.plantClaim(d.buyer, d)
		w.addCase(Case{Detector: DetIdle, Kind: kind, Clause: "D3", LookAlike: true, Subjects: subjects(d), Note: note})
	}
	for i := 0; i < 2; i++ {
		finding(w.idleDeal(4+i, idle), "reserved cards paid for and claimed, metered idle (no jobs, no users) the whole period")
	}
	{
		setup := 10 + r.IntN(8)
		finding(w.idleDeal(5, func(i int) (float64, bool) {
			if i < setup {
				return used(i)
			}
			return idle(i)
		}), "used for the first weeks, then idle for the rest of the paid period")
	}
	{
		from := 30 + r.IntN(20)
		lookAlike(w.idleDeal(4, func(i int) (float64, bool) {
			if i >= from && i < from+8 {
				return idle(i)
			}
			return used(i)
		}), "holiday_idle_week", "a reserved cluster idle over a holiday week, used before and after")
	}
	lookAlike(w.idleDeal(4, func(int) (float64, bool) { return 0.02 + r.Float64()*0.025, true }),
		"low_util_steady_jobs", "a training job with low average utilisation, but jobs every day")
	{
		// A year's contract that began some seven weeks before the claims close: its first
		// weeks idle while it is set up, its first invoices settled and claimed.
		d := w.idleDeal(12, nil)
		_, claimTo := w.claimWindow()
		start := claimTo.AddDate(0, 0, -50)
		d.reschedule(start.AddDate(0, 0, -4), start, start.AddDate(1, 0, -1))
		d.via, d.filed = true, nil
		if !w.capacityFree(d.cap, d.start, d.end, d.cards) {
			return // the market is full that late; nothing to compare with
		}
		setup := 20 + r.IntN(6)
		d.dayUse = func(i int) (float64, bool) {
			if i < setup {
				return idle(i)
			}
			return used(i)
		}
		w.realise(r, d)
		cs := w.draftClaim(r, d.buyer, []*deal{d}, claimTo, false)
		if cs == nil {
			return
		}
		w.claims = append(w.claims, cs)
		w.addCase(Case{Detector: DetIdle, Kind: "early_in_term", Clause: "D3", LookAlike: true, Subjects: subjects(d),
			Note: "a contract early in its term, idle while it is set up; too little of it is paid for to judge"})
	}
}

// washParties returns n registered suppliers (not the anchor) that buy nothing yet and are on
// no other wash plant, the next in turn, or nil when the province has too few left.
func (w *world) washParties(n int, used map[*entity]bool) []*entity {
	var out []*entity
	for k := 0; k < len(w.suppliers) && len(out) < n; k++ {
		s := w.suppliers[1+w.next("washParty")%(len(w.suppliers)-1)]
		if used[s] || len(s.deals) > 0 || s.noRegistry {
			continue
		}
		dup := false
		for _, o := range out {
			dup = dup || o == s
		}
		if !dup {
			out = append(out, s)
		}
	}
	if len(out) < n {
		return nil
	}
	return out
}

// washDeal drafts b buying cards of a chip b does not have itself from s, for months from
// start, by the card-month at a market price; nil when s has no such chip with room.
func (w *world) washDeal(b, s *entity, start time.Time, months, cards int) *deal {
	own := map[string]bool{}
	for _, c := range b.caps {
		own[c.chip.Model] = true
	}
	d := &deal{buyer: b, supplier: s, billFactor: 1, separateNonSubs: true, cards: cards, via: true,
		service: "compute_resource", unit: "card_month", plan: 0.7}
	d.reschedule(start.AddDate(0, 0, -6), start, start.AddDate(0, months, -1))
	for _, cl := range s.caps {
		if !own[cl.chip.Model] && w.capacityFree(cl, d.start, d.end, cards) {
			d.cap = cl
			break
		}
	}
	if d.cap == nil {
		return nil
	}
	ch := d.cap.chip
	d.chip = &ch
	d.price = marketPrice(w.pr, ch, d.unit, cards)
	return d
}

// matchAmount sizes d's cards so that it settles about as much as ref a month (at least one
// card), scaled by factor.
func matchAmount(d, ref *deal, factor float64) {
	target := float64(ref.price) * float64(ref.cards) * factor
	d.cards = max(1, int(math.Round(target/float64(d.price))))
}

// plantWash plants cycles of purchases between registered suppliers, claimed by one of them,
// and the look-alikes: overflow capacity bought from each other and not claimed, mutual
// purchases far apart in time, and of very different amounts.
func (w *world) plantWash() {
	r := w.pr
	used := map[*entity]bool{}
	claims, _ := w.claimWindow()
	// cycle finds n parties that can sell each other chips they lack, and realises the deals of
	// parties[i] buying from parties[i+1] (round the cycle), from starts[i] for months, sized to
	// the first deal's amount times factors[i]. nil when no parties fit.
	cycle := func(n int, starts []time.Time, months int, factors []float64) ([]*entity, []*deal) {
		for try := 0; try < len(w.suppliers); try++ {
			parties := w.washParties(n, used)
			if parties == nil {
				return nil, nil
			}
			var ds []*deal
			for i, b := range parties {
				s := parties[(i+1)%len(parties)]
				d := w.washDeal(b, s, starts[i], months, 12+r.IntN(8))
				if d == nil {
					break
				}
				if i > 0 {
					matchAmount(d, ds[0], factors[i])
					if !w.capacityFree(d.cap, d.start, d.end, d.cards) {
						break
					}
				}
				ds = append(ds, d)
			}
			if len(ds) < n {
				continue
			}
			for _, p := range parties {
				used[p] = true
			}
			for _, d := range ds {
				w.realise(r, d)
			}
			return parties, ds
		}
		return nil, nil
	}
	// start is a month start early enough for a few months of invoices before the claims.
	start := func(months int) time.Time {
		from := midnight(w.start).AddDate(0, 1, 0)
		to := claims.AddDate(0, -months, -45)
		t := from
		if span := int(to.Sub(from).Hours() / 24); span > 0 {
			t = from.AddDate(0, 0, r.IntN(span))
		}
		return time.Date(t.Year(), t.Month(), 1, 0, 0, 0, 0, cst)
	}
	same := func(n int, t time.Time) []time.Time {
		out := make([]time.Time, n)
		for i := range out {
			out[i] = t
		}
		return out
	}
	for i := 0; i < 2; i++ {
		ps, ds := cycle(2, same(2, start(3)), 3, []float64{1, 0.9 + r.Float64()*0.2})
		if ds == nil {
			continue
		}
		cs := w.plantClaim(ps[0], ds[0])
		w.addCase(Case{Detector: DetWash, Kind: "mutual_purchase", Clause: "C2", Severity: "high",
			Subjects: subjects(ds[0], "claim_id", cs.id), Context: kv("other_contract_no", ds[1].no),
			Note: "two suppliers buy from each other at the same time, for similar amounts; one claims its purchase"})
	}
	if ps, ds := cycle(3, same(3, start(3)), 3, []float64{1, 0.95, 1.05}); ds != nil {
		cs := w.plantClaim(ps[0], ds[0])
		w.addCase(Case{Detector: DetWash, Kind: "ring_purchase", Clause: "C2", Severity: "high",
			Subjects: subjects(ds[0], "claim_id", cs.id), Context: kv("other_contract_no", ds[1].no+","+ds[2].no),
			Note: "A buys from B, B from C, C from A, at the same time and for similar amounts; A claims"})
	}
	lookAlike := func(ds []*deal, kind, note string) {
		w.addCase(Case{Detector: DetWash, Kind: kind, Clause: "C2", LookAlike: true, Subjects: subjects(ds[0]), Note: note})
	}
	if _, ds := cycle(2, same(2, start(3)), 3, []float64{1, 1}); ds != nil {
		lookAlike(ds, "overflow_unclaimed", "two suppliers buy overflow capacity from each other at market prices and claim nothing")
	}
	t := start(8)
	if ps, ds := cycle(2, []time.Time{t, t.AddDate(0, 5, 0)}, 3, []float64{1, 1}); ds != nil {
		w.plantClaim(ps[0], ds[0])
		lookAlike(ds, "mutual_far_apart", "each buys from the other, five months apart; the first claims")
	}
	if ps, ds := cycle(2, same(2, start(3)), 3, []float64{1, 0.15 + r.Float64()*0.2}); ds != nil {
		w.plantClaim(ps[0], ds[0])
		lookAlike(ds, "mutual_different_amounts", "each buys from the other at the same time, one several times as much; the larger buyer claims")
	}
}
