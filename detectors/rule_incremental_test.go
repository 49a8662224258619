package detectors

import (
	"context"
	"slices"
	"testing"

	"github.com/voucherwatch/voucherwatch"
	"github.com/voucherwatch/voucherwatch/detectors/detectortest"
	"github.com/voucherwatch/voucherwatch/rules"
)

// TestClaimRulesCheckMatchRun checks the incremental path of the claim rules against their full
// runs on a synthetic province: one claim, one cited invoice's settlement or one applicant's
// registry row changed at a time yields the alerts about the claims it touches exactly as the
// full run has them (none the full run lacks: a settlement or registry row missing from the
// narrowed load would raise invoice_not_settled or change a limit), clean claims changed raise
// only what the full run raises, and every claim changed at once yields the full run.
func TestClaimRulesCheckMatchRun(t *testing.T) {
	db, p := detectortest.Province(t, 1)
	env := Env{DB: db, Policy: rules.Default()}
	ctx := context.Background()
	claims, err := db.LatestClaims(ctx, voucherwatch.ClaimQuery{All: true})
	if err != nil {
		t.Fatal(err)
	}
	var all voucherwatch.Changes
	for _, c := range claims {
		all.Merge(claimChange(c.ClaimID))
	}
	total := 0
	for _, d := range []voucherwatch.IncrementalDetector{NewPolicyWindow(env), NewNonSubsidisableItem(env), NewRequestedOverLimit(env), NewInvoiceMismatch(env)} {
		t.Run(d.Name(), func(t *testing.T) {
			full, err := d.Run(ctx, p.Config.End)
			if err != nil {
				t.Fatal(err)
			}
			if len(full) == 0 {
				t.Skipf("no %s alert in the province's full run", d.Name())
			}
			total += len(full)
			flagged := map[string]bool{}
			var changes []voucherwatch.Changes
			for _, a := range full {
				flagged[a.Subjects.ClaimID] = true
				changes = append(changes, claimChange(a.Subjects.ClaimID))
				if a.Subjects.InvoiceNo != "" {
					changes = append(changes, invoiceChange(a.Subjects.InvoiceCode, a.Subjects.InvoiceNo))
				}
				changes = append(changes, voucherwatch.Changes{Enterprises: map[string]bool{a.Subjects.ApplicantUSCC: true}})
			}
			// Look-alikes: claims the full run does not flag.
			clean := 0
			for _, c := range claims {
				if !flagged[c.ClaimID] && clean < 20 {
					changes = append(changes, claimChange(c.ClaimID))
					clean++
				}
			}
			if clean == 0 {
				t.Fatalf("every claim of the province is flagged by %s; want clean ones to compare", d.Name())
			}
			checkAgainstRun(t, d, full, changes, func(ch voucherwatch.Changes, a voucherwatch.Alert) bool {
				return ch.Claims[a.Subjects.ClaimID] || ch.Enterprises[a.Subjects.ApplicantUSCC] ||
					(a.Subjects.InvoiceNo != "" && ch.Invoices[voucherwatch.InvoiceKey{Code: a.Subjects.InvoiceCode, No: a.Subjects.InvoiceNo}])
			})
			checkAgainstRun(t, d, full, []voucherwatch.Changes{all}, func(voucherwatch.Changes, voucherwatch.Alert) bool { return true })
			got, err := d.Check(ctx, p.Config.End, claimChange("no-such-claim"))
			if err != nil || len(got) != 0 {
				t.Errorf("Check(an unknown claim): got %d alerts, %v; want none", len(got), err)
			}
		})
	}
	if total == 0 {
		t.Fatal("got no alert from any claim rule in the province's full run, want some to compare")
	}
}

// TestRoundTotalCheckMatchesRun: the cap is per applicant and round, so a check of one claim
// reads the applicant's other claims of the round: a second claim that takes the round's total
// just above the cap (each claim alone under it) is alerted by a check of the first claim
// alone, exactly as the full run alerts it.
func TestRoundTotalCheckMatchesRun(t *testing.T) {
	db, p := detectortest.Province(t, 1)
	env := Env{DB: db, Policy: rules.Default()}
	ctx := context.Background()
	claims, err := db.LatestClaims(ctx, voucherwatch.ClaimQuery{All: true})
	if err != nil {
		t.Fatal(err)
	}
	capFen := env.Policy.CapPerEnterprise.Money
	perApplicant := map[string]int{}
	for _, c := range claims {
		perApplicant[c.ApplicantUSCC]++
	}
	var first *voucherwatch.StoredClaim
	for i := range claims {
		if c := &claims[i]; perApplicant[c.ApplicantUSCC] == 1 && c.Requested > 0 && c.Requested < capFen {
			first = c
			break
		}
	}
	if first == nil {
		t.Fatal("no applicant with one claim under the cap in the province")
	}
	second := voucherwatch.Record{Envelope: voucherwatch.Envelope{Source: "test", ID: "round-total-2",
		Type: voucherwatch.TypeClaim, Time: p.Config.End}, Claim: &voucherwatch.Claim{ClaimID: "ROUND-TOTAL-2",
		ApplicantUSCC: first.ApplicantUSCC, Round: first.Round, SubmittedOn: first.SubmittedOn.AddDate(0, 0, 1), City: first.City,
		Invoices: first.Invoices[:min(1, len(first.Invoices))], Requested: capFen - first.Requested + 100}}
	detectortest.Store(t, db, second)
	d := NewRequestedOverLimit(env)
	full, err := d.Run(ctx, p.Config.End)
	if err != nil {
		t.Fatal(err)
	}
	isRoundTotal := func(a voucherwatch.Alert) bool {
		return a.Kind == "round_total_over_10m_cap" && a.Subjects.ApplicantUSCC == first.ApplicantUSCC
	}
	if !slices.ContainsFunc(full, isRoundTotal) {
		t.Fatalf("full run: got no round_total_over_10m_cap for %s, want one", first.ApplicantUSCC)
	}
	checkAgainstRun(t, d, full, []voucherwatch.Changes{claimChange(first.ClaimID), claimChange("ROUND-TOTAL-2")},
		func(_ voucherwatch.Changes, a voucherwatch.Alert) bool { return isRoundTotal(a) })
}
