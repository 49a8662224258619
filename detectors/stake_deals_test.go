package detectors

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/voucherwatch/voucherwatch"
	"github.com/voucherwatch/voucherwatch/detectors/detectortest"
	"github.com/voucherwatch/voucherwatch/rules"
	"github.com/voucherwatch/voucherwatch/synth"
)

// fullStake stakes every alert from the full read of every claim and settlement.
func fullStake(t *testing.T, env Env, alerts []voucherwatch.Alert) []voucherwatch.Alert {
	t.Helper()
	f, err := loadStakeFacts(context.Background(), env)
	if err != nil {
		t.Fatal(err)
	}
	out := slices.Clone(alerts)
	for i := range out {
		stakeAlert(env, f, &out[i])
	}
	return out
}

// runAll runs every detector over the database as of at.
func runAll(t *testing.T, env Env, at time.Time) []voucherwatch.Alert {
	t.Helper()
	var all []voucherwatch.Alert
	for _, d := range All(env) {
		alerts, err := d.Run(context.Background(), at)
		if err != nil {
			t.Fatalf("%s: %v", d.Name(), err)
		}
		for i := range alerts {
			if alerts[i].Detector == "" {
				alerts[i].Detector = d.Name()
			}
		}
		all = append(all, alerts...)
	}
	return all
}

// sameStake reports whether two alerts carry the same money at stake, claim for claim.
func sameStake(a, b voucherwatch.Alert) bool {
	return a.AtStake == b.AtStake && a.AtStakePotential == b.AtStakePotential && slices.Equal(a.StakeClaims, b.StakeClaims)
}

// TestStakeKeyedDealsMatchFull: the money at stake of alerts naming no claim but a deal (a
// related-party pair, a contract out of the price band, a supplier), read by keyed look-ups of
// the deal's settlements and the claims citing them, is the full read's, alert for alert, on
// the demo province with look-alikes planted beside the deals: a settlement of another
// contract of the same pair that no claim cites, a settlement of the same supplier to another
// buyer, a claim's older version citing a settlement its latest version does not (which stays
// uncited), another applicant's claim citing a deal's settlement (which leaves the deal's
// potential stake), and a deal's uncited invoice settled again later by another supplier
// (which the full read keeps in the other supplier's version, so it leaves the deal).
func TestStakeKeyedDealsMatchFull(t *testing.T) {
	ctx := context.Background()
	db := detectortest.NewDB(t)
	p := synth.Generate(synth.DefaultConfig(synth.DemoSeed))
	detectortest.Load(t, db, p.Messages)
	env := Env{DB: db, Policy: rules.Default()}
	at := p.Config.End

	before := fullStake(t, env, runAll(t, env, at))
	facts, err := loadStakeFacts(ctx, env)
	if err != nil {
		t.Fatal(err)
	}
	// A pair alert touching claims, and a deal alert of a buyer with potential stake and
	// three uncited settlements.
	var pair, potential *voucherwatch.Alert
	var uncited []*ruleSettlement
	for i := range before {
		a := &before[i]
		s := a.Subjects
		if s.ClaimID != "" || a.AtStake <= 0 {
			continue
		}
		if pair == nil && !a.AtStakePotential && s.SupplierUSCC != "" && s.ApplicantUSCC != "" {
			pair = a
		}
		if potential == nil && a.AtStakePotential && s.ApplicantUSCC != "" {
			sel := stakeSelector{s: s, detector: a.Detector}
			var mine []*ruleSettlement
			for _, st := range facts.uncited {
				if sel.deal(st.BuyerUSCC, st.SupplierUSCC, st.ContractNo) {
					mine = append(mine, st)
				}
			}
			if len(mine) >= 3 {
				potential, uncited = a, mine
			}
		}
	}
	if pair == nil || potential == nil {
		t.Fatalf("demo province: pair alert with claims at stake %v, deal alert of potential stake with three uncited settlements %v; want both", pair != nil, potential != nil)
	}
	pairSettlements, err := db.LatestSettlements(ctx, voucherwatch.SettlementQuery{Suppliers: []string{pair.Subjects.SupplierUSCC}})
	if err != nil {
		t.Fatal(err)
	}
	var base *voucherwatch.StoredSettlement
	for i := range pairSettlements {
		if pairSettlements[i].BuyerUSCC == pair.Subjects.ApplicantUSCC {
			base = &pairSettlements[i]
			break
		}
	}
	if base == nil {
		t.Fatalf("no settlement of the pair %s → %s", pair.Subjects.SupplierUSCC, pair.Subjects.ApplicantUSCC)
	}
	claims, err := db.LatestClaims(ctx, voucherwatch.ClaimQuery{All: true})
	if err != nil {
		t.Fatal(err)
	}
	someClaim := claims[0]

	settlement := func(s voucherwatch.Settlement, id, contract, supplier, buyer, no string, tm time.Time) voucherwatch.Record {
		s.SettlementID, s.ContractNo, s.SupplierUSCC, s.BuyerUSCC, s.InvoiceNo = id, contract, supplier, buyer, no
		s.InvoiceKey, _ = voucherwatch.CanonicalInvoice(s.InvoiceCode, s.InvoiceNo)
		return voucherwatch.Record{Envelope: voucherwatch.Envelope{Type: voucherwatch.TypeSettlement, ID: "lookalike-" + id, Time: tm}, Settlement: &s}
	}
	otherBuyer := potential.Subjects.ApplicantUSCC
	if otherBuyer == "" || otherBuyer == pair.Subjects.ApplicantUSCC {
		otherBuyer = someClaim.ApplicantUSCC
	}
	cite := func(c voucherwatch.Claim, st *ruleSettlement) voucherwatch.Claim {
		c.Invoices = append(slices.Clone(c.Invoices), voucherwatch.ClaimInvoice{InvoiceCode: st.InvoiceCode, InvoiceNo: st.InvoiceNo, Amount: st.Amount})
		return c
	}
	var stranger voucherwatch.StoredClaim // a claim of another applicant than the deal's buyer
	for _, c := range claims {
		if c.ApplicantUSCC != potential.Subjects.ApplicantUSCC {
			stranger = c
			break
		}
	}
	older := cite(stranger.Claim, uncited[2])
	foreign := cite(stranger.Claim, uncited[0])
	foreign.ClaimID += "-LA"
	reissuer := pair.Subjects.SupplierUSCC
	if reissuer == uncited[1].SupplierUSCC {
		reissuer = someClaim.ApplicantUSCC
	}
	detectortest.Store(t, db,
		// Another contract of the same pair, cited by no claim.
		settlement(base.Settlement, "LA-PAIR", base.ContractNo+"-LA", base.SupplierUSCC, base.BuyerUSCC, "LA00000001", base.Time),
		// The same supplier's settlement to another buyer.
		settlement(base.Settlement, "LA-OTHER", base.ContractNo+"-LB", base.SupplierUSCC, otherBuyer, "LA00000002", base.Time),
		// The deal's second uncited invoice, settled again later by another supplier.
		settlement(uncited[1].Settlement, "LA-REISSUE", uncited[1].ContractNo, reissuer, uncited[1].BuyerUSCC, uncited[1].InvoiceNo, uncited[1].Ref.EventTime.Add(time.Hour)),
		// An older version of another applicant's claim citing the deal's third uncited
		// invoice: it stays uncited.
		voucherwatch.Record{Envelope: voucherwatch.Envelope{Type: voucherwatch.TypeClaim, Source: stranger.Source, ID: "lookalike-older-claim", Time: stranger.Time.Add(-time.Hour)}, Claim: &older},
		// Another applicant's claim citing the deal's first uncited invoice: cited, it leaves
		// the deal's potential stake, and the claim is not the deal buyer's.
		voucherwatch.Record{Envelope: voucherwatch.Envelope{Type: voucherwatch.TypeClaim, Source: stranger.Source, ID: "lookalike-foreign-claim", Time: stranger.Time}, Claim: &foreign},
	)

	alerts := runAll(t, env, at)
	full := fullStake(t, env, alerts)
	if facts, err = loadStakeFacts(ctx, env); err != nil {
		t.Fatal(err)
	}
	// dealUncited names the settlements of an alert's deal that no claim cites, which its
	// potential stake sums (below the cap, which may hide a difference in the sum).
	dealUncited := func(f *stakeFacts, s voucherwatch.Subjects) []string {
		sel := stakeSelector{s: s}
		var out []string
		for _, st := range f.uncited {
			if sel.deal(st.BuyerUSCC, st.SupplierUSCC, st.ContractNo) {
				out = append(out, st.SettlementID)
			}
		}
		return out
	}
	st := NewStaker(env)
	var deals []voucherwatch.Alert
	byID := map[string]voucherwatch.Alert{}
	for _, a := range full {
		byID[a.ID] = a
		if a.Subjects.ClaimID == "" && (stakeSelector{s: a.Subjects}).deal(a.Subjects.ApplicantUSCC, a.Subjects.SupplierUSCC, a.Subjects.ContractNo) {
			deals = append(deals, a)
		}
	}
	withStake, potentials := 0, 0
	for _, want := range deals {
		got := []voucherwatch.Alert{want}
		st.Invalidate() // a record stored since: the keyed read, as after a check
		f, err := st.keyed(ctx, got, at)
		if err != nil {
			t.Fatal(err)
		}
		if f == nil {
			if s := want.Subjects; s.SupplierUSCC != "" || s.ContractNo != "" && s.ApplicantUSCC != "" {
				t.Errorf("%s %s on %+v: read in full, want by key", want.Detector, want.Kind, s)
			}
			continue
		}
		if g, w := dealUncited(f, want.Subjects), dealUncited(facts, want.Subjects); !slices.Equal(g, w) {
			t.Errorf("%s %s on %+v: keyed read's uncited settlements %v, want the full read's %v", want.Detector, want.Kind, want.Subjects, g, w)
		}
		stakeAlert(env, f, &got[0])
		if !sameStake(got[0], want) {
			t.Errorf("%s %s on %+v: keyed stake %v potential %v (%v), want the full read's %v potential %v (%v)", want.Detector, want.Kind, want.Subjects,
				got[0].AtStake, got[0].AtStakePotential, got[0].StakeClaims, want.AtStake, want.AtStakePotential, want.StakeClaims)
		}
		if want.AtStake > 0 {
			withStake++
			if want.AtStakePotential {
				potentials++
			}
		}
	}
	t.Logf("%d deal alerts compared, %d with money at stake, %d of them potential", len(deals), withStake, potentials)
	if withStake < 5 || potentials == 0 {
		t.Fatalf("got %d deal alerts with money at stake, %d of them potential; want at least 5 and 1", withStake, potentials)
	}
	// The planted look-alikes changed what the full read gives where they should: the
	// reissued invoice and the one another applicant cites left the potential deal.
	if a, ok := byID[potential.ID]; !ok || a.AtStake >= potential.AtStake || a.AtStake <= 0 {
		t.Errorf("potential deal %+v after the look-alikes: at stake %v (found %v), want below %v and above 0", potential.Subjects, a.AtStake, ok, potential.AtStake)
	}
	if a := byID[pair.ID]; !sameStake(a, *pair) {
		t.Errorf("pair %+v after the look-alikes: at stake %v, want unchanged %v", pair.Subjects, a.AtStake, pair.AtStake)
	}
	// Together, as a check's alerts come (at most keyedStakeMost deals).
	batch := deals[:min(len(deals), 40)]
	st.Invalidate()
	got := slices.Clone(batch)
	if err := st.Annotate(ctx, got, at); err != nil {
		t.Fatal(err)
	}
	for i := range got {
		if !sameStake(got[i], batch[i]) {
			t.Errorf("in a batch of %d: %s on %+v: keyed stake %v, want %v", len(batch), got[i].Detector, got[i].Subjects, got[i].AtStake, batch[i].AtStake)
		}
	}
}
