package synth

import (
	"fmt"
	"math/rand/v2"
	"time"
)

// Subsidy limits of 三(二) (C2).
const (
	SubsidyRate = 0.30
	SubsidyCap  = fen(10_000_000_00)
)

// claimSpec is a subsidy claim before it is written: plants change it after the honest version
// is drafted.
type claimSpec struct {
	id        string
	applicant *entity
	submitted time.Time
	at        time.Time
	contracts []string
	invoices  []wClaimInvoice
	origins   map[string]bool
	via       bool
	usage     fen
	requested fen
	round     int
}

// claimWindow is when the 2026 round takes applications: the weeks before the end of the period.
func (w *world) claimWindow() (from, to time.Time) {
	to = midnight(w.end).AddDate(0, 0, -3)
	return to.AddDate(0, 0, -47), to
}

func (w *world) claimDate(r *rand.Rand, early bool) time.Time {
	from, to := w.claimWindow()
	span := int(to.Sub(from).Hours() / 24)
	if early {
		span /= 2
	}
	return from.AddDate(0, 0, r.IntN(max(1, span)))
}

// fileClaims drafts the honest claims of the normally trading buyers: about seven in ten of
// those who bought at least 60,000 yuan of subsidisable compute from registered suppliers.
func (w *world) fileClaims() {
	r := w.tr
	for _, b := range w.buyers {
		if len(b.deals) == 0 || r.IntN(100) >= 72 {
			continue
		}
		cs := w.draftClaim(r, b, b.deals, w.claimDate(r, false), false)
		if cs == nil || cs.usage < yuan(60000) {
			continue
		}
		if r.IntN(100) < 25 {
			cs.request(0.6 + r.Float64()*0.4) // some ask for less than the maximum
		}
		w.claims = append(w.claims, cs)
	}
}

// draftClaim cites every subsidisable invoice of the deals settled a day before submission, and
// asks for 30 % of it, at most 10 million. Invoices of unregistered suppliers are left out unless
// withUnregistered, as an honest applicant knows they do not count.
func (w *world) draftClaim(r *rand.Rand, b *entity, deals []*deal, submitted time.Time, withUnregistered bool) *claimSpec {
	cs := w.newClaim(r, b, submitted)
	cutoff := submitted.AddDate(0, 0, -1)
	for _, d := range deals {
		if !withUnregistered && (d.supplier.w.Supplier == nil || !d.supplier.w.Supplier.Registered || d.supplier.noRegistry) {
			continue
		}
		cited := false
		for _, s := range d.settlements {
			if !s.subsidised || s.at.After(cutoff) {
				continue
			}
			cs.cite(s)
			cited = true
		}
		if cited {
			cs.contracts = append(cs.contracts, d.no)
			cs.via = cs.via && d.via
			cs.noteOrigin(d)
		}
	}
	if len(cs.invoices) == 0 {
		return nil
	}
	cs.request(1)
	return cs
}

// newClaim is an empty claim of b, numbered.
func (w *world) newClaim(r *rand.Rand, b *entity, submitted time.Time) *claimSpec {
	cs := &claimSpec{applicant: b, submitted: submitted, origins: map[string]bool{}, via: true, round: submitted.Year()}
	cs.at = submitted.Add(time.Duration(8*60+r.IntN(10*60)) * time.Minute)
	cs.id = fmt.Sprintf("SB%d-%05d", cs.round, 100+w.next("claim"))
	return cs
}

func (cs *claimSpec) cite(s *settle) {
	cs.invoices = append(cs.invoices, wClaimInvoice{InvoiceCode: s.w.InvoiceCode, InvoiceNo: s.w.InvoiceNo, Amount: s.w.Amount})
	cs.usage += s.w.Amount
}

func (cs *claimSpec) noteOrigin(d *deal) {
	if d.chip != nil {
		cs.origins[d.chip.Origin] = true
	}
	for _, l := range d.lines {
		if l.chip != nil {
			cs.origins[l.chip.Origin] = true
		}
	}
}

// request asks for share of the maximum: 30 % of the cited amount, rounded down to the fen so it
// never exceeds 30 %, capped at 10 million.
func (cs *claimSpec) request(share float64) {
	max := cs.usage * 30 / 100
	if max > SubsidyCap {
		max = SubsidyCap
	}
	cs.requested = fen(float64(max) * share)
	if cs.requested > max {
		cs.requested = max
	}
}

// recount recomputes the cited amount after a plant changed the invoices.
func (cs *claimSpec) recount() {
	cs.usage = 0
	for _, inv := range cs.invoices {
		cs.usage += inv.Amount
	}
}

func (cs *claimSpec) wire() wClaim {
	origin := ""
	switch {
	case cs.origins["domestic"] && cs.origins["foreign"]:
		origin = "mixed"
	case cs.origins["domestic"]:
		origin = "domestic"
	case cs.origins["foreign"]:
		origin = "foreign"
	}
	city := cs.applicant.city.code
	if cs.applicant.w.City != city {
		city = cs.applicant.w.City // the applicant writes its city as the registry has it
	}
	return wClaim{
		ClaimID:       cs.id,
		ApplicantUSCC: cs.applicant.uscc(),
		Round:         cs.round,
		SubmittedOn:   date(cs.submitted),
		City:          city,
		ViaPlatform:   cs.via,
		Contracts:     cs.contracts,
		Invoices:      cs.invoices,
		UsageAmount:   cs.usage,
		Requested:     cs.requested,
		ChipOrigin:    origin,
		BankAccount:   cs.applicant.account(),
	}
}
