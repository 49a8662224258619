package detectors

import (
	"context"
	"testing"
	"time"

	"github.com/voucherwatch/voucherwatch"
	"github.com/voucherwatch/voucherwatch/detectors/detectortest"
	"github.com/voucherwatch/voucherwatch/rules"
)

// pairChange is what a new contract or settlement version between buyer and supplier adds to
// Changes.Pairs.
func pairChange(buyer, supplier string) voucherwatch.Changes {
	return voucherwatch.Changes{Pairs: map[[2]string]bool{{buyer, supplier}: true}}
}

// TestAnnualPurchaseCheckMatchesRun checks annual_purchase's keyed path against its full run on
// the synthetic province: a flagged claim, its applicant's registry row, or a contract or
// settlement of its applicant (a pair with one of the suppliers in its evidence), changed one
// at a time, yields the full run's alert about the claim byte for byte; claims the full run
// does not flag raise nothing; every flagged claim changed at once yields the full run.
func TestAnnualPurchaseCheckMatchesRun(t *testing.T) {
	db, p := detectortest.Province(t, 1)
	ctx := context.Background()
	d := NewAnnualPurchase(Env{DB: db, Policy: rules.Default()})
	start := time.Now()
	full, err := d.Run(ctx, p.Config.End)
	if err != nil {
		t.Fatal(err)
	}
	runTook := time.Since(start)
	if len(full) < 2 {
		t.Fatalf("got %d annual_purchase alerts in the province's full run, want several to compare", len(full))
	}
	flagged := map[string]bool{}
	var changes []voucherwatch.Changes
	var all voucherwatch.Changes
	pairs := 0
	for _, a := range full {
		s := a.Subjects
		flagged[s.ClaimID] = true
		all.Merge(claimChange(s.ClaimID))
		changes = append(changes, claimChange(s.ClaimID), enterpriseChange(s.ApplicantUSCC))
		if sups, _ := evFacts(a.Evidence)["suppliers"].([]any); len(sups) > 0 {
			changes = append(changes, pairChange(s.ApplicantUSCC, sups[0].(string)))
			pairs++
		}
	}
	if pairs == 0 {
		t.Fatal("no checked alert names a supplier: the settlement-side change is not compared")
	}
	claims, err := db.LatestClaims(ctx, voucherwatch.ClaimQuery{All: true})
	if err != nil {
		t.Fatal(err)
	}
	var clean voucherwatch.Changes
	for _, c := range claims {
		if !flagged[c.ClaimID] && len(clean.Claims) < 20 {
			clean.Merge(claimChange(c.ClaimID))
		}
	}
	if len(clean.Claims) == 0 {
		t.Fatal("every claim of the province is flagged; want clean ones to compare")
	}
	changes = append(changes, clean)
	start = time.Now()
	checkAgainstRun(t, d, full, changes, func(ch voucherwatch.Changes, a voucherwatch.Alert) bool {
		s := a.Subjects
		if ch.Claims[s.ClaimID] || ch.Enterprises[s.ApplicantUSCC] {
			return true
		}
		for pr := range ch.Pairs {
			if pr[0] == s.ApplicantUSCC {
				return true
			}
		}
		return false
	})
	t.Logf("%d alerts, %d checks: %v a check; the full run %v", len(full), len(changes), time.Since(start)/time.Duration(len(changes)), runTook)
	checkAgainstRun(t, d, full, []voucherwatch.Changes{all}, func(voucherwatch.Changes, voucherwatch.Alert) bool { return true })
	for _, ch := range []voucherwatch.Changes{claimChange("no-such-claim"), {Usage: 100}} {
		if got, err := d.Check(ctx, p.Config.End, ch); err != nil || len(got) != 0 {
			t.Errorf("Check(%v): got %d alerts, %v; want none", ch, len(got), err)
		}
	}
}

// TestBilledAboveMeteredCheckMatchesRun checks billed_above_metered's keyed path against its
// full run on the synthetic province: a flagged contract, one of its invoices, its buyer's or
// supplier's registry row, or a claim of its buyer, changed one at a time, yields the full
// run's alert about the contract byte for byte (the claims citing it in its evidence read by
// key); contracts the full run does not flag raise nothing; every flagged contract changed at
// once yields the full run.
func TestBilledAboveMeteredCheckMatchesRun(t *testing.T) {
	db, p := detectortest.Province(t, 1)
	ctx := context.Background()
	d := NewBilledAboveMetered(Env{DB: db, Policy: rules.Default()})
	start := time.Now()
	full, err := d.Run(ctx, p.Config.End)
	if err != nil {
		t.Fatal(err)
	}
	runTook := time.Since(start)
	kinds := map[string]int{}
	for _, a := range full {
		kinds[a.Kind]++
	}
	if kinds["billed_above_metered"] == 0 {
		t.Fatalf("got no billed_above_metered alert in the province's full run (%v), want some to compare", kinds)
	}
	settlements, err := db.LatestSettlements(ctx, voucherwatch.SettlementQuery{All: true})
	if err != nil {
		t.Fatal(err)
	}
	invoiceOf := map[[2]string]voucherwatch.InvoiceKey{} // (supplier, contract) → one invoice
	contractOf := map[voucherwatch.InvoiceKey][2]string{}
	for _, s := range settlements {
		k := [2]string{s.SupplierUSCC, s.ContractNo}
		if _, ok := invoiceOf[k]; !ok {
			invoiceOf[k] = s.Key()
		}
		contractOf[s.Key()] = k
	}
	claims, err := db.LatestClaims(ctx, voucherwatch.ClaimQuery{All: true})
	if err != nil {
		t.Fatal(err)
	}
	claimsOf := map[string][]string{}
	applicantOf := map[string]string{}
	for _, c := range claims {
		claimsOf[c.ApplicantUSCC] = append(claimsOf[c.ApplicantUSCC], c.ClaimID)
		applicantOf[c.ClaimID] = c.ApplicantUSCC
	}
	flagged := map[[2]string]bool{}
	var changes []voucherwatch.Changes
	var all voucherwatch.Changes
	cited := 0
	for i, a := range full {
		s := a.Subjects
		k := [2]string{s.SupplierUSCC, s.ContractNo}
		flagged[k] = true
		all.Merge(contractChange(s.SupplierUSCC, s.ApplicantUSCC, s.ContractNo))
		changes = append(changes, contractChange(s.SupplierUSCC, s.ApplicantUSCC, s.ContractNo), enterpriseChange(s.ApplicantUSCC))
		if inv, ok := invoiceOf[k]; ok {
			changes = append(changes, invoiceChange(inv.Code, inv.No))
		}
		if i%2 == 0 {
			changes = append(changes, enterpriseChange(s.SupplierUSCC))
		}
		if cs := claimsOf[s.ApplicantUSCC]; len(cs) > 0 {
			changes = append(changes, claimChange(cs[0]))
			if _, ok := evFacts(a.Evidence)["claims"]; ok {
				cited++
			}
		}
	}
	if cited == 0 {
		t.Fatal("no checked alert names claims: the claim-side change is not compared")
	}
	var clean voucherwatch.Changes
	for k, inv := range invoiceOf {
		if !flagged[k] && len(clean.Invoices) < 20 {
			clean.Merge(invoiceChange(inv.Code, inv.No))
		}
	}
	changes = append(changes, clean)
	start = time.Now()
	checkAgainstRun(t, d, full, changes, func(ch voucherwatch.Changes, a voucherwatch.Alert) bool {
		s := a.Subjects
		k := [2]string{s.SupplierUSCC, s.ContractNo}
		if ch.Contracts[k] || ch.Enterprises[s.ApplicantUSCC] || ch.Enterprises[s.SupplierUSCC] {
			return true
		}
		for inv := range ch.Invoices {
			if contractOf[inv] == k {
				return true
			}
		}
		for id := range ch.Claims {
			if applicantOf[id] == s.ApplicantUSCC {
				return true
			}
		}
		return false
	})
	t.Logf("%d alerts, %d checks: %v a check; the full run %v", len(full), len(changes), time.Since(start)/time.Duration(len(changes)), runTook)
	checkAgainstRun(t, d, full, []voucherwatch.Changes{all}, func(voucherwatch.Changes, voucherwatch.Alert) bool { return true })
	for _, ch := range []voucherwatch.Changes{claimChange("no-such-claim"), contractChange(fxUSCC("S", 999), fxUSCC("B", 999), "no-such-contract"), {Usage: 100}} {
		if got, err := d.Check(ctx, p.Config.End, ch); err != nil || len(got) != 0 {
			t.Errorf("Check(%v): got %d alerts, %v; want none", ch, len(got), err)
		}
	}
}
