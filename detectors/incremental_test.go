package detectors

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/voucherwatch/voucherwatch"
	"github.com/voucherwatch/voucherwatch/detectors/detectortest"
	"github.com/voucherwatch/voucherwatch/rules"
)

// checkAgainstRun runs an incremental detector's Check for each change and requires its answer
// to be part of the full run's, alert for alert byte for byte in JSON (ids, kinds, subjects,
// evidence), and to contain every alert want names for that change.
func checkAgainstRun(t *testing.T, d voucherwatch.IncrementalDetector, full []voucherwatch.Alert,
	changes []voucherwatch.Changes, want func(voucherwatch.Changes, voucherwatch.Alert) bool) {
	t.Helper()
	ctx := context.Background()
	byID := map[string][]byte{}
	var at = full[0].CreatedAt
	for _, a := range full {
		b, err := json.Marshal(a)
		if err != nil {
			t.Fatal(err)
		}
		byID[a.ID] = b
	}
	for _, ch := range changes {
		got, err := d.Check(ctx, at, ch)
		if err != nil {
			t.Fatalf("Check(%v): %v", ch, err)
		}
		gotIDs := map[string]bool{}
		for _, a := range got {
			gotIDs[a.ID] = true
			b, _ := json.Marshal(a)
			if fb, ok := byID[a.ID]; !ok {
				t.Errorf("Check(%v): got alert %s (%s %v), which the full run does not raise", ch, a.ID, a.Kind, a.Subjects)
			} else if string(b) != string(fb) {
				t.Errorf("Check(%v): got alert\n%s\nwant, as the full run has it,\n%s", ch, b, fb)
			}
		}
		for _, a := range full {
			if want(ch, a) && !gotIDs[a.ID] {
				t.Errorf("Check(%v): got no alert %s (%s %v), want it as the full run raises it", ch, a.ID, a.Kind, a.Subjects)
			}
		}
	}
}

func claimChange(ids ...string) voucherwatch.Changes {
	var c voucherwatch.Changes
	for _, id := range ids {
		c.Merge(voucherwatch.Changes{Claims: map[string]bool{id: true}})
	}
	return c
}

func invoiceChange(code, no string) voucherwatch.Changes {
	return voucherwatch.Changes{Invoices: map[voucherwatch.InvoiceKey]bool{{Code: code, No: no}: true}}
}

// TestDuplicateClaimCheckMatchesRun checks the incremental path against the full run on a
// synthetic province: one claim or one settlement changed at a time yields the alerts about it
// exactly as the full run has them, and every claim and settlement changed at once yields every
// alert but the resource overlaps, which come from usage in the full run.
func TestDuplicateClaimCheckMatchesRun(t *testing.T) {
	db, p := detectortest.Province(t, 1)
	d := NewDuplicateClaim(Env{DB: db, Policy: rules.Default()})
	ctx := context.Background()
	full, err := d.Run(ctx, p.Config.End)
	if err != nil {
		t.Fatal(err)
	}
	var changes []voucherwatch.Changes
	kinds := map[string]int{}
	for _, a := range full {
		kinds[a.Kind]++
		switch {
		case a.Kind == KindPaymentRefShared:
			changes = append(changes, invoiceChange(a.Subjects.InvoiceCode, a.Subjects.InvoiceNo))
		case a.Subjects.ClaimID != "":
			changes = append(changes, claimChange(a.Subjects.ClaimID))
		}
	}
	for _, k := range []string{KindInvoiceInTwoClaims, KindClaimResubmitted, KindPaymentRefShared} {
		if kinds[k] == 0 {
			t.Fatalf("got no %s alert in the province's full run (%v), want some to compare", k, kinds)
		}
	}
	checkAgainstRun(t, d, full, changes, func(ch voucherwatch.Changes, a voucherwatch.Alert) bool {
		if a.Kind == KindPaymentRefShared {
			return ch.Invoices[voucherwatch.InvoiceKey{Code: a.Subjects.InvoiceCode, No: a.Subjects.InvoiceNo}]
		}
		return ch.Claims[a.Subjects.ClaimID]
	})

	// Everything changed at once.
	claims, err := db.LatestClaims(ctx, voucherwatch.ClaimQuery{All: true})
	if err != nil {
		t.Fatal(err)
	}
	settlements, err := db.LatestSettlements(ctx, voucherwatch.SettlementQuery{All: true})
	if err != nil {
		t.Fatal(err)
	}
	var all voucherwatch.Changes
	for _, c := range claims {
		all.Merge(claimChange(c.ClaimID))
	}
	for _, s := range settlements {
		all.Merge(invoiceChange(s.InvoiceCode, s.InvoiceNo))
	}
	checkAgainstRun(t, d, full, []voucherwatch.Changes{all}, func(_ voucherwatch.Changes, a voucherwatch.Alert) bool {
		return a.Kind != KindResourceTwoTenantsOverlap
	})

	// A change that touches no duplicate raises nothing.
	got, err := d.Check(ctx, p.Config.End, claimChange("no-such-claim"))
	if err != nil || len(got) != 0 {
		t.Errorf("Check(an unknown claim): got %d alerts, %v; want none", len(got), err)
	}
}

// TestRunnerChecksChangedClaim: the runner alerts a claim that re-uses an already-claimed
// invoice from the changed records alone, within seconds, while its full runs are held off (a
// debounce of an hour and no schedule slot), and a look-alike claim of other invoices raises
// nothing.
func TestRunnerChecksChangedClaim(t *testing.T) {
	db := detectortest.NewDB(t)
	f := newDupFixture()
	f.contract(dupSupplierS, dupBuyerA, "HT-A", "H100", "20.00")
	f.settlement(dupSettle{supplier: dupSupplierS, buyer: dupBuyerA, contract: "HT-A", code: "4300", no: "0001", amount: "1000.00", paid: "2026-03-10"})
	f.settlement(dupSettle{supplier: dupSupplierS, buyer: dupBuyerA, contract: "HT-A", code: "4300", no: "0002", amount: "500.00", paid: "2026-03-11"})
	f.claim("SB-1", dupBuyerA, "2026-04-01", []string{"HT-A"}, "4300/0001=1000.00")
	detectortest.Store(t, db, f.recs...)

	r := NewRunner(db, nil, nil)
	r.Debounce = time.Hour
	r.Register(All(Env{DB: db, Policy: rules.Default()})...)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if err := r.Start(ctx, "@every 24h"); err != nil {
		t.Fatal(err)
	}

	later := newDupFixture()
	later.next = f.next
	later.recs = nil
	later.claim("SB-2", dupBuyerB, "2026-04-02", []string{"HT-A"}, "4300/0001=1000.00") // re-uses SB-1's invoice
	later.claim("SB-3", dupBuyerA, "2026-04-03", []string{"HT-A"}, "4300/0002=500.00")  // look-alike: an invoice nobody claimed
	for i := range later.recs {
		later.recs[i].ID = fmt.Sprintf("later-%d", i)
	}
	detectortest.Store(t, db, later.recs...)
	sent := time.Now()
	r.Changed(later.recs)
	r.Trigger() // the debounced full run waits an hour: only the check can alert

	var got []voucherwatch.Alert
	for time.Since(sent) < 20*time.Second {
		as, _, err := db.Alerts(ctx, voucherwatch.AlertFilter{Detector: voucherwatch.DetectorDuplicateClaim})
		if err != nil {
			t.Fatal(err)
		}
		if len(as) > 0 {
			got = as
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if len(got) != 1 || got[0].Kind != KindInvoiceInTwoClaims || got[0].Subjects.ClaimID != "SB-2" || got[0].Subjects.InvoiceNo != "0001" {
		t.Fatalf("got alerts %+v, want one invoice_in_two_claims on SB-2 and invoice 0001", got)
	}
	t.Logf("alerted %.2fs after the records were reported", time.Since(sent).Seconds())
	if h, _ := r.Health(); h[0].State != StateUnknown {
		t.Errorf("got %s's health %s, want no full run yet", h[0].Detector, h[0].State)
	}
}

// TestRelatedPartyCheckMatchesRun: a new contract or settlement between two enterprises (their
// trading pair changed) or a new claim of the buyer yields the pair's alert exactly as the
// full run has it, from the registry graph the detector keeps; a registry change re-reads the
// registry and yields every alert.
func TestRelatedPartyCheckMatchesRun(t *testing.T) {
	db, p := detectortest.Province(t, 1)
	ctx := context.Background()
	full, err := NewRelatedParty(Env{DB: db, Policy: rules.Default()}).Run(ctx, p.Config.End)
	if err != nil {
		t.Fatal(err)
	}
	if len(full) < 5 {
		t.Fatalf("got %d related_party alerts in the province, want some to compare", len(full))
	}
	pairChange := func(buyer, supplier string) voucherwatch.Changes {
		return voucherwatch.Changes{Pairs: map[[2]string]bool{{buyer, supplier}: true}}
	}
	var changes []voucherwatch.Changes
	for _, a := range full {
		changes = append(changes, pairChange(a.Subjects.ApplicantUSCC, a.Subjects.SupplierUSCC))
	}
	// A fresh detector, which has read no registry yet, and one that has run once.
	ran := NewRelatedParty(Env{DB: db, Policy: rules.Default()})
	if _, err := ran.Run(ctx, p.Config.End); err != nil {
		t.Fatal(err)
	}
	for _, d := range []*RelatedParty{NewRelatedParty(Env{DB: db, Policy: rules.Default()}), ran} {
		checkAgainstRun(t, d, full, changes, func(ch voucherwatch.Changes, a voucherwatch.Alert) bool {
			return ch.Pairs[[2]string{a.Subjects.ApplicantUSCC, a.Subjects.SupplierUSCC}]
		})
	}

	// Claims: a claim's applicant is the buyer of the pairs it may cite.
	claims, err := db.LatestClaims(ctx, voucherwatch.ClaimQuery{All: true})
	if err != nil {
		t.Fatal(err)
	}
	byApplicant := map[string]string{}
	for _, c := range claims {
		byApplicant[c.ApplicantUSCC] = c.ClaimID
	}
	var claimChanges []voucherwatch.Changes
	for _, a := range full {
		if id, ok := byApplicant[a.Subjects.ApplicantUSCC]; ok {
			claimChanges = append(claimChanges, claimChange(id))
		}
	}
	if len(claimChanges) == 0 {
		t.Fatal("got no related pair whose buyer claims, want some")
	}
	d := NewRelatedParty(Env{DB: db, Policy: rules.Default()})
	checkAgainstRun(t, d, full, claimChanges[:min(5, len(claimChanges))], func(ch voucherwatch.Changes, a voucherwatch.Alert) bool {
		return ch.Claims[byApplicant[a.Subjects.ApplicantUSCC]]
	})

	// A registry change: every alert.
	reg := voucherwatch.Changes{Enterprises: map[string]bool{full[0].Subjects.SupplierUSCC: true}}
	checkAgainstRun(t, d, full, []voucherwatch.Changes{reg}, func(voucherwatch.Changes, voucherwatch.Alert) bool { return true })
}

// TestPriceCheckMatchesRun: a new contract or settlement (its contract changed) is judged
// against the market of every observation, with the contract's items re-read by its key, and a
// new claim re-judges the contracts it cites; each alert as the full run has it.
func TestPriceCheckMatchesRun(t *testing.T) {
	db, p := detectortest.Province(t, 1)
	ctx := context.Background()
	env := Env{DB: db, Policy: rules.Default()}
	full, err := NewPrice(env).Run(ctx, p.Config.End)
	if err != nil {
		t.Fatal(err)
	}
	if len(full) < 3 {
		t.Fatalf("got %d price alerts in the province, want some to compare", len(full))
	}
	var changes []voucherwatch.Changes
	for _, a := range full {
		changes = append(changes, voucherwatch.Changes{Contracts: map[[2]string]bool{{a.Subjects.SupplierUSCC, a.Subjects.ContractNo}: true}})
	}
	ran := NewPrice(env)
	if _, err := ran.Run(ctx, p.Config.End); err != nil {
		t.Fatal(err)
	}
	for _, d := range []*Price{NewPrice(env), ran} {
		checkAgainstRun(t, d, full, changes, func(ch voucherwatch.Changes, a voucherwatch.Alert) bool {
			return ch.Contracts[[2]string{a.Subjects.SupplierUSCC, a.Subjects.ContractNo}]
		})
	}

	claims, err := db.LatestClaims(ctx, voucherwatch.ClaimQuery{All: true})
	if err != nil {
		t.Fatal(err)
	}
	citing := map[[2]string]string{} // (buyer, contract) → a claim citing it
	for _, c := range claims {
		for _, no := range c.Contracts {
			citing[[2]string{c.ApplicantUSCC, no}] = c.ClaimID
		}
	}
	var claimChanges []voucherwatch.Changes
	for _, a := range full {
		if id, ok := citing[[2]string{a.Subjects.ApplicantUSCC, a.Subjects.ContractNo}]; ok {
			claimChanges = append(claimChanges, claimChange(id))
		}
	}
	if len(claimChanges) == 0 {
		t.Fatal("got no price alert on a claimed contract, want some")
	}
	checkAgainstRun(t, ran, full, claimChanges, func(ch voucherwatch.Changes, a voucherwatch.Alert) bool {
		return ch.Claims[citing[[2]string{a.Subjects.ApplicantUSCC, a.Subjects.ContractNo}]]
	})
}

// TestDuplicateClaimCheckOtherBuyers: Check finds a changed claim's (or a changed settlement's
// claims') use of another buyer's purchase from keyed look-ups, alert for alert as Run has it,
// high when the applicant and the buyer are under one control (A and B, both held by G) and
// medium otherwise; the look-alikes raise no such alert.
func TestDuplicateClaimCheckOtherBuyers(t *testing.T) {
	f := newDupFixture()
	g := voucherwatch.CompleteUSCC("91430100MA4L00009")
	f.add(voucherwatch.Record{Envelope: voucherwatch.Envelope{Source: "platform:hunan-registry", Type: voucherwatch.TypeRegistry},
		Entity: &voucherwatch.Entity{USCC: g, Name: "集团公司", City: "430100"}})
	for _, u := range []string{dupBuyerA, dupBuyerB} {
		f.add(voucherwatch.Record{Envelope: voucherwatch.Envelope{Source: "platform:hunan-registry", Type: voucherwatch.TypeRegistry},
			Entity: &voucherwatch.Entity{USCC: u, Name: "企业" + u[14:], City: dupCities[u],
				Shareholders: []voucherwatch.Holder{{Kind: "enterprise", USCC: g, Name: "集团公司", SharePct: 100}}}})
	}
	S, T, A, B, C := dupSupplierS, dupSupplierT, dupBuyerA, dupBuyerB, dupBuyerC
	f.contract(S, B, "HT-B1", "A800", "12")
	f.contract(S, B, "HT-B2", "A800", "12")
	f.contract(T, C, "HT-C1", "A800", "12")
	f.contract(S, A, "HT-A3", "A800", "12")
	f.contract(S, C, "HT-SHARED", "A800", "12") // the number another supplier also uses
	f.contract(T, A, "HT-SHARED", "A800", "12")
	f.settlement(dupSettle{supplier: S, buyer: B, contract: "HT-B1", code: "4300261130", no: "10001001", amount: "10000", paid: "2026-03-20"})
	f.settlement(dupSettle{supplier: T, buyer: A, contract: "HT-C1", code: "4300261130", no: "10002001", amount: "10000", paid: "2026-03-21"})
	f.settlement(dupSettle{supplier: S, buyer: A, contract: "HT-A3", code: "4300261130", no: "10003001", amount: "10000", paid: "2026-03-22"})
	f.settlement(dupSettle{supplier: S, buyer: A, contract: "HT-A3", code: "4300261130", no: "10004001", amount: "10000", paid: "2026-03-23"})
	f.settlement(dupSettle{supplier: S, buyer: B, contract: "HT-B1", code: "4300261130", no: "10005001", amount: "10000", paid: "2026-03-24"})
	f.settlement(dupSettle{supplier: S, buyer: B, contract: "HT-B2", code: "4300261130", no: "10006001", amount: "10000", paid: "2026-03-25"})
	f.claim("CL-1", A, "2026-04-01", []string{"HT-B1"}, "4300261130/10001001=10000")
	f.claim("CL-2", A, "2026-04-02", []string{"HT-C1"}, "4300261130/10002001=10000")
	f.claim("CL-3", A, "2026-04-03", []string{"HT-B2"}, "4300261130/10003001=10000")
	f.claim("CL-4", A, "2026-04-04", []string{"HT-SHARED"}, "4300261130/10004001=10000")
	f.claim("CL-5B", B, "2026-04-05", []string{"HT-B1"}, "4300261130/10005001=10000")
	f.claim("CL-5", A, "2026-04-06", []string{"HT-B1"}, "4300261130/10005001=10000")
	f.claim("CL-6", B, "2026-04-07", []string{"HT-B2"}, "4300261130/10006001=10000")

	db := detectortest.NewDB(t)
	detectortest.Store(t, db, f.recs...)
	d := NewDuplicateClaim(Env{DB: db, Policy: rules.Default()})
	full, err := d.Run(context.Background(), dupAt)
	if err != nil {
		t.Fatal(err)
	}
	other := func(a voucherwatch.Alert) bool {
		return a.Kind == KindInvoiceOfAnotherBuyer || a.Kind == KindSettlementNotToContractBuyer || a.Kind == KindContractOfAnotherBuyer
	}
	cases := []struct {
		name   string
		change voucherwatch.Changes
		want   []string // the other-buyer alerts Check raises: kind/severity/claim
	}{
		{"anotherBuyersInvoice", claimChange("CL-1"), []string{"invoice_of_another_buyer/high/CL-1"}},
		{"anotherBuyersInvoiceSettled", invoiceChange("4300261130", "10001001"), []string{"invoice_of_another_buyer/high/CL-1"}},
		{"invoiceUnderAnotherBuyersContract", claimChange("CL-2"), []string{"settlement_not_to_contract_buyer/medium/CL-2"}},
		{"anotherBuyersContract", claimChange("CL-3"), []string{"contract_of_another_buyer/high/CL-3"}},
		{"ownContractUnderSharedNumber", claimChange("CL-4"), nil},
		{"invoiceTheBuyersClaimCites", claimChange("CL-5"), nil},
		{"groupCompanysOwnContract", claimChange("CL-6"), nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := d.Check(context.Background(), dupAt, tc.change)
			if err != nil {
				t.Fatal(err)
			}
			var kinds []string
			for _, a := range got {
				if other(a) {
					kinds = append(kinds, fmt.Sprintf("%s/%s/%s", a.Kind, a.Severity, a.Subjects.ClaimID))
				}
			}
			if fmt.Sprint(kinds) != fmt.Sprint(tc.want) {
				t.Errorf("Check: got other-buyer alerts %v, want %v", kinds, tc.want)
			}
			checkAgainstRun(t, d, full, []voucherwatch.Changes{tc.change}, func(ch voucherwatch.Changes, a voucherwatch.Alert) bool {
				return other(a) && ch.Claims[a.Subjects.ClaimID]
			})
		})
	}
	// The look-alike a claim of the real buyer makes is invoice_in_two_claims, which Run raises.
	var twoClaims bool
	for _, a := range full {
		twoClaims = twoClaims || a.Kind == KindInvoiceInTwoClaims && a.Subjects.ClaimID == "CL-5"
	}
	if !twoClaims {
		t.Errorf("Run: got no invoice_in_two_claims for CL-5 (%v), want it", dupGot(full))
	}
}
