package detectors

import (
	"context"
	"fmt"
	"testing"

	"github.com/voucherwatch/voucherwatch"
	"github.com/voucherwatch/voucherwatch/detectors/detectortest"
	"github.com/voucherwatch/voucherwatch/rules"
	"github.com/voucherwatch/voucherwatch/synth"
)

// provinceAlertsWithStake runs every detector over the demo province and sets the money at
// stake of their alerts.
func provinceAlertsWithStake(t *testing.T) (Env, []voucherwatch.Alert) {
	t.Helper()
	db, p := detectortest.Province(t, synth.DemoSeed)
	env := Env{DB: db, Policy: rules.Default()}
	ctx := context.Background()
	var all []voucherwatch.Alert
	for _, d := range All(env) {
		alerts, err := d.Run(ctx, p.Config.End)
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
	if err := NewStaker(env).Annotate(ctx, all, p.Config.End); err != nil {
		t.Fatal(err)
	}
	return env, all
}

// TestStakeNeverAboveClaimSubsidy: on the demo province the alerts of a claim together never
// put more at stake than the claim's assessed subsidy: each finding that removes money from
// the payable subsidy stays within it, each withheld amount within the ceiling above it, and
// the combined stake (capped per claim) within the ceiling. At least one claim must have
// several alerts whose plain sum exceeds its ceiling, or the cap was never exercised.
func TestStakeNeverAboveClaimSubsidy(t *testing.T) {
	env, all := provinceAlertsWithStake(t)
	ctx := context.Background()
	byClaim := map[string][]voucherwatch.Alert{}
	withStake, potential := 0, 0
	for _, a := range all {
		if a.AtStake < 0 {
			t.Errorf("alert %s (%s): got at_stake %s, want ≥ 0", a.ID, a.Kind, a.AtStake)
		}
		if a.AtStake > 0 {
			withStake++
		}
		if a.AtStakePotential {
			potential++
			if len(a.StakeClaims) > 0 {
				t.Errorf("alert %s: potential stake with claims %v", a.ID, a.StakeClaims)
			}
		}
		var sum voucherwatch.Money
		for _, cs := range a.StakeClaims {
			byClaim[cs.ClaimID] = append(byClaim[cs.ClaimID], a)
			sum += cs.AtStake
		}
		if !a.AtStakePotential && sum != a.AtStake {
			t.Errorf("alert %s: got at_stake %s, want the sum of its claims' shares %s", a.ID, a.AtStake, sum)
		}
	}
	if withStake < len(all)/3 {
		t.Errorf("got %d of %d alerts with money at stake, want at least a third", withStake, len(all))
	}
	capped := 0
	for id, alerts := range byClaim {
		as, err := Assess(ctx, env, id)
		if err != nil {
			t.Fatalf("assess %s: %v", id, err)
		}
		payable, ceiling := Payable(as), StakeCeiling(env.Policy, as)
		var plain voucherwatch.Money
		for _, a := range alerts {
			for _, cs := range a.StakeClaims {
				if cs.ClaimID != id {
					continue
				}
				plain += cs.AtStake
				if cs.Ceiling != ceiling {
					t.Errorf("alert %s on %s: got ceiling %s, want %s", a.ID, id, cs.Ceiling, ceiling)
				}
				limit := payable
				if withheldByAssessment[a.Detector] || a.Detector == "unregistered_supplier" && a.Subjects.ClaimID != "" {
					limit = ceiling - payable
				}
				if cs.AtStake > limit {
					t.Errorf("alert %s (%s) on %s: got %s at stake, want at most %s", a.ID, a.Kind, id, cs.AtStake, limit)
				}
			}
		}
		if plain > ceiling {
			capped++
		}
		if got := CombinedStake(onlyClaim(alerts, id)); got > ceiling {
			t.Errorf("claim %s: got %s at stake together, want at most its ceiling %s (payable %s)", id, got, ceiling, payable)
		}
	}
	if capped == 0 {
		t.Errorf("no claim's alerts add up above its ceiling: the cap is never exercised on the demo province")
	}
	t.Logf("%d alerts, %d with money at stake (%d potential), %d claims with alerts, %d capped", len(all), withStake, potential, len(byClaim), capped)
}

// onlyClaim keeps of alerts their shares on one claim.
func onlyClaim(alerts []voucherwatch.Alert, id string) []voucherwatch.Alert {
	out := make([]voucherwatch.Alert, 0, len(alerts))
	for _, a := range alerts {
		b := a
		b.StakeClaims = nil
		for _, cs := range a.StakeClaims {
			if cs.ClaimID == id {
				b.StakeClaims = append(b.StakeClaims, cs)
			}
		}
		out = append(out, b)
	}
	return out
}

// TestStakeDuplicateInvoice: for a claim with one duplicate invoice, at_stake is the subsidy on
// that invoice to the fen as the assessment computes it: the claim's payable subsidy less the
// payable subsidy on its eligible amount without the invoice's eligible part (30 % truncated,
// capped, at most the request).
func TestStakeDuplicateInvoice(t *testing.T) {
	env, all := provinceAlertsWithStake(t)
	ctx := context.Background()
	dups := map[string][]voucherwatch.Alert{}
	for _, a := range all {
		if a.Detector == voucherwatch.DetectorDuplicateClaim && a.Subjects.InvoiceNo != "" {
			dups[a.Subjects.ClaimID] = append(dups[a.Subjects.ClaimID], a)
		}
	}
	checked := 0
	for id, alerts := range dups {
		if len(alerts) != 1 {
			continue
		}
		a := alerts[0]
		as, err := Assess(ctx, env, id)
		if err != nil {
			t.Fatal(err)
		}
		var invEligible voucherwatch.Money
		for _, ia := range as.Invoices {
			if ia.InvoiceCode == a.Subjects.InvoiceCode && ia.InvoiceNo == a.Subjects.InvoiceNo {
				invEligible += ia.EligibleFen
			}
		}
		rate := func(e voucherwatch.Money) voucherwatch.Money {
			s := voucherwatch.Money(int64(e) * env.Policy.SubsidyRatePercent / 100)
			return min(s, env.Policy.CapPerEnterprise.Money, as.Totals.RequestedFen)
		}
		want := rate(as.Totals.EligibleFen) - rate(as.Totals.EligibleFen-invEligible)
		if a.AtStake != want || a.AtStakePotential {
			t.Errorf("claim %s, invoice %s-%s (eligible %s of %s): got at_stake %s (potential %v), want %s",
				id, a.Subjects.InvoiceCode, a.Subjects.InvoiceNo, invEligible, as.Totals.EligibleFen, a.AtStake, a.AtStakePotential, want)
		}
		if want > 0 {
			checked++
		}
	}
	if checked == 0 {
		t.Fatalf("no claim with one duplicate invoice and money on it in the demo province (%d claims with duplicates)", len(dups))
	}
	t.Logf("%d claims with one duplicate invoice checked", checked)
}

// TestStakeKeyedMatchesFull: the money at stake of alerts naming a claim, read by keyed
// look-ups of those claims once records were stored since the last read (an incremental
// check's alerts), is the full read's, claim for claim. Alerts naming a buyer alone, and a set
// naming more claims than the keyed read takes, still take the full read.
func TestStakeKeyedMatchesFull(t *testing.T) {
	env, all := provinceAlertsWithStake(t)
	ctx := context.Background()
	var named []voucherwatch.Alert
	for _, a := range all {
		if a.Subjects.ClaimID != "" && a.AtStake > 0 {
			named = append(named, a)
		}
	}
	if len(named) < 5 {
		t.Fatalf("got %d alerts naming a claim with money at stake on the demo province, want at least 5", len(named))
	}
	st := NewStaker(env)
	at := named[0].CreatedAt
	for i, want := range named {
		got := []voucherwatch.Alert{want}
		got[0].AtStake, got[0].StakeClaims = 0, nil
		st.Invalidate() // a record stored since: the keyed read, as after a check
		if f, err := st.keyed(ctx, got, at); err != nil || f == nil {
			t.Fatalf("alert %d (%s %s): keyed facts %v, %v; want them read by key", i, want.Detector, want.Subjects.ClaimID, f, err)
		}
		if err := st.Annotate(ctx, got, at); err != nil {
			t.Fatal(err)
		}
		if got[0].AtStake != want.AtStake || len(got[0].StakeClaims) != len(want.StakeClaims) {
			t.Errorf("%s %s on %s: keyed stake %v (%v), want the full read's %v (%v)", want.Detector, want.Kind, want.Subjects.ClaimID,
				got[0].AtStake, got[0].StakeClaims, want.AtStake, want.StakeClaims)
		}
	}
	// A buyer alone reaches its deals by no key; more claims and deals than the keyed read
	// takes go to the full read.
	st.Invalidate()
	buyerOnly := voucherwatch.Alert{Subjects: voucherwatch.Subjects{ApplicantUSCC: named[0].Subjects.ApplicantUSCC}}
	if f, _ := st.keyed(ctx, []voucherwatch.Alert{named[0], buyerOnly}, at); f != nil {
		t.Errorf("alerts with one naming a buyer alone: got keyed facts, want the full read")
	}
	many := make([]voucherwatch.Alert, keyedStakeMost+1)
	for i := range many {
		many[i].Subjects.ClaimID = fmt.Sprintf("C%d", i)
	}
	if f, _ := st.keyed(ctx, many, at); f != nil {
		t.Errorf("alerts naming %d claims: got keyed facts, want the full read", len(many))
	}
}
