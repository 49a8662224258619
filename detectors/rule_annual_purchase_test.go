package detectors

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/voucherwatch/voucherwatch"
	"github.com/voucherwatch/voucherwatch/detectors/detectortest"
	"github.com/voucherwatch/voucherwatch/rules"
)

func TestAnnualPurchase(t *testing.T) {
	f := newFxDB(t)
	sup, sup2 := fxUSCC("S", 1), fxUSCC("S", 2)
	f.add(fxRec(fxSupplier(sup, true)), fxRec(fxSupplier(sup2, true)))
	type purchase struct {
		supplier  string
		from, to  string // service period; the invoice is dated three days after it ends
		items     []voucherwatch.Item
		contract  string // the contract's compute, when it differs from the invoice's
		invoiceOn string // the invoice date, when set
	}
	cases := []struct {
		name      string
		purchases []purchase
		want      []string
	}{
		{name: "exactly50000", purchases: []purchase{{from: "2026-06-01", to: "2026-06-30", items: []voucherwatch.Item{fxCompute("50000.00")}}}},
		{name: "oneFenBelow", purchases: []purchase{{from: "2026-06-01", to: "2026-06-30", items: []voucherwatch.Item{fxCompute("49999.99")}}},
			want: []string{"annual_purchase_below_minimum/medium"}},
		{name: "belowButContracted", purchases: []purchase{{from: "2026-06-01", to: "2026-06-30", items: []voucherwatch.Item{fxCompute("30000.00")}, contract: "90000.00"}},
			want: []string{"annual_purchase_below_minimum/low"}},
		{name: "bandwidthIsNotCompute", purchases: []purchase{{from: "2026-06-01", to: "2026-06-30",
			items: []voucherwatch.Item{fxCompute("45000.00"), fxItem(voucherwatch.ServiceBandwidth, "10000.00")}}},
			want: []string{"annual_purchase_below_minimum/medium"}},
		{name: "boughtBeforeTheYear", purchases: []purchase{
			{from: "2025-09-01", to: "2025-09-30", items: []voucherwatch.Item{fxCompute("100000.00")}, invoiceOn: "2025-10-20"},
			{supplier: sup2, from: "2026-06-01", to: "2026-06-30", items: []voucherwatch.Item{fxCompute("20000.00")}}},
			want: []string{"annual_purchase_below_minimum/medium"}},
		{name: "boughtOnTheYearsFirstDay", purchases: []purchase{
			{from: "2025-09-01", to: "2025-09-30", items: []voucherwatch.Item{fxCompute("30000.00")}, invoiceOn: "2025-10-21"},
			{supplier: sup2, from: "2026-06-01", to: "2026-06-30", items: []voucherwatch.Item{fxCompute("20000.00")}}}},
		{name: "twoSuppliers", purchases: []purchase{
			{from: "2026-05-01", to: "2026-05-31", items: []voucherwatch.Item{fxCompute("30000.00")}},
			{supplier: sup2, from: "2026-06-01", to: "2026-06-30", items: []voucherwatch.Item{fxCompute("25000.00")}}}},
		{name: "invoicedOnSubmissionDay", purchases: []purchase{{from: "2026-06-01", to: "2026-06-30", items: []voucherwatch.Item{fxCompute("60000.00")}, invoiceOn: "2026-10-20"}}},
		{name: "invoicedAfterSubmission", purchases: []purchase{{from: "2026-06-01", to: "2026-06-30", items: []voucherwatch.Item{fxCompute("60000.00")}, invoiceOn: "2026-10-21"}},
			want: []string{"annual_purchase_below_minimum/low"}},
	}
	for i, c := range cases {
		b := fxUSCC("B", i)
		f.add(fxRec(fxBuyer(b)))
		var invs []*voucherwatch.Settlement
		for j, p := range c.purchases {
			s := sup
			if p.supplier != "" {
				s = p.supplier
			}
			k := fxContract(fmt.Sprintf("HT-AP-%s-%d", c.name, j), s, b, p.from, p.to, p.items...)
			if p.contract != "" {
				k = fxContract(k.ContractNo, s, b, p.from, "2026-12-31", fxCompute(p.contract))
			}
			inv := fxInvoice(k, "", fmt.Sprintf("264320000000%04d%04d", i, j), p.from, p.to, p.items...)
			if p.invoiceOn != "" {
				inv.InvoiceDate = fxDate(p.invoiceOn)
			}
			invs = append(invs, inv)
			f.add(fxRec(k), fxRec(inv))
		}
		f.add(fxRec(fxClaim("SB-AP-"+c.name, b, "1.00", invs...)))
	}
	alerts := f.run(NewAnnualPurchase(f.env()))
	for i, c := range cases {
		for _, a := range fxWant(t, c.name, alerts, fxUSCC("B", i), c.want...) {
			if a.Subjects.ClaimID != "SB-AP-"+c.name || a.PolicyClause != "二 / D2" {
				t.Errorf("%s: got subjects %+v clause %q", c.name, a.Subjects, a.PolicyClause)
			}
		}
	}
	if a := fxAlertsOn(alerts, fxUSCC("B", 1)); len(a) == 1 {
		if got, want := evFacts(a[0].Evidence)["settled_compute"], "49999.99"; got != want {
			t.Errorf("oneFenBelow: got settled_compute %v, want %v", got, want)
		}
		if got, want := a[0].Subjects.ContractNo, "HT-AP-oneFenBelow-0"; got != want {
			t.Errorf("oneFenBelow: got contract %q, want %q", got, want)
		}
	}
}

// recChange is what storing recs changes, as the runner adds it up.
func recChange(recs ...voucherwatch.Record) voucherwatch.Changes {
	var c voucherwatch.Changes
	c.Add(recs)
	return c
}

// sameAsRun fails t unless each alert of got is in the full run, the same in JSON.
func sameAsRun(t *testing.T, full, got []voucherwatch.Alert) {
	t.Helper()
	byID := map[string][]byte{}
	for _, a := range full {
		byID[a.ID], _ = json.Marshal(a)
	}
	for _, a := range got {
		b, _ := json.Marshal(a)
		if fb, ok := byID[a.ID]; !ok {
			t.Errorf("got alert %s (%s %v), which the full run does not raise", a.ID, a.Kind, a.Subjects)
		} else if string(b) != string(fb) {
			t.Errorf("got alert\n%s\nwant, as the full run has it,\n%s", b, fb)
		}
	}
}

// pairChange is what a new contract or settlement version between buyer and supplier adds to
// Changes.Pairs.
func pairChange(buyer, supplier string) voucherwatch.Changes {
	return voucherwatch.Changes{Pairs: map[[2]string]bool{{buyer, supplier}: true}}
}

// TestAnnualPurchaseCheckCases: what a check of each change returns, and that it is the full
// run's alert about the claim byte for byte: a claim below the minimum, an amended claim (its
// latest version's submission date decides the year, either way), a settlement re-sent with
// the full amount, the applicant's registry row; and look-alikes that return nothing: a claim at
// exactly the minimum, another buyer's settlement, the supplier's registry row, usage, an
// unknown claim.
func TestAnnualPurchaseCheckCases(t *testing.T) {
	f := newFxDB(t)
	sup, other := fxUSCC("S", 1), fxUSCC("S", 2)
	f.add(fxRec(fxSupplier(sup, true)), fxRec(fxSupplier(other, true)))
	later := time.Date(2026, 10, 25, 9, 0, 0, 0, voucherwatch.CST)
	buyer := func(i int) string { return fxUSCC("B", 100+i) }
	purchase := func(i int, no, from, to, amount string) (*voucherwatch.Contract, *voucherwatch.Settlement) {
		k := fxContract(fmt.Sprintf("HT-APC-%d-%s", i, no), sup, buyer(i), from, to, fxCompute(amount))
		return k, fxInvoice(k, "", fmt.Sprintf("2643200000APC%03d%s", i, no), from, to, fxCompute(amount))
	}
	for i := range 6 {
		f.add(fxRec(fxBuyer(buyer(i))))
	}
	// 0 belowMinimum, 1 exactlyTheMinimum.
	k0, s0 := purchase(0, "1", "2026-06-01", "2026-06-30", "30000.00")
	k1, s1 := purchase(1, "1", "2026-06-01", "2026-06-30", "50000.00")
	f.add(fxRec(k0), fxRec(s0), fxRec(fxClaim("CL-APC-0", buyer(0), "1.00", s0)), fxRec(k1), fxRec(s1), fxRec(fxClaim("CL-APC-1", buyer(1), "1.00", s1)))
	// 2 amendedOutOfTheYear: bought in August 2025; the claim, first submitted within the
	// year, is amended to a submission after it.
	k2, s2 := purchase(2, "1", "2025-08-01", "2025-08-31", "60000.00")
	c2 := fxClaim("CL-APC-2", buyer(2), "1.00", s2)
	c2.SubmittedOn = fxDate("2026-08-01")
	c2b := *c2
	c2b.SubmittedOn = fxDate("2026-10-20")
	amended2 := fxVersionAt(fxRec(&c2b), later)
	f.add(fxRec(k2), fxRec(s2), fxRec(c2), amended2)
	// 3 amendedIntoTheYear: the other way round.
	k3, s3 := purchase(3, "1", "2025-08-01", "2025-08-31", "60000.00")
	c3 := fxClaim("CL-APC-3", buyer(3), "1.00", s3)
	c3b := *c3
	c3b.SubmittedOn = fxDate("2026-08-01")
	amended3 := fxVersionAt(fxRec(&c3b), later)
	f.add(fxRec(k3), fxRec(s3), fxRec(c3), amended3)
	// 4 settlementResentInFull: the invoice first settled at 30,000, re-sent at 60,000.
	k4, s4 := purchase(4, "1", "2026-06-01", "2026-06-30", "30000.00")
	s4b := *s4
	s4b.Items, s4b.Amount = []voucherwatch.Item{fxCompute("60000.00")}, fxYuan("60000.00")
	resent4 := fxVersionAt(fxRec(&s4b), later)
	f.add(fxRec(k4), fxRec(s4), resent4, fxRec(fxClaim("CL-APC-4", buyer(4), "1.00", s4)))
	// 5 anotherBuyersSettlement: a buyer with no claim buys from the same supplier.
	k5, s5 := purchase(5, "1", "2026-06-01", "2026-06-30", "10000.00")
	f.add(fxRec(k5), fxRec(s5))
	d := NewAnnualPurchase(f.env())
	full := f.run(d)

	ctx := context.Background()
	cases := []struct {
		name   string
		change voucherwatch.Changes
		want   []string // kind/severity/claim/submitted_on of the alerts Check returns
	}{
		{"belowMinimum", claimChange("CL-APC-0"), []string{"annual_purchase_below_minimum/medium/CL-APC-0/2026-10-20"}},
		{"itsSettlement", recChange(fxRec(s0)), []string{"annual_purchase_below_minimum/medium/CL-APC-0/2026-10-20"}},
		{"itsContract", recChange(fxRec(k0)), []string{"annual_purchase_below_minimum/medium/CL-APC-0/2026-10-20"}},
		{"applicantsRegistryRow", enterpriseChange(buyer(0)), []string{"annual_purchase_below_minimum/medium/CL-APC-0/2026-10-20"}},
		{"exactlyTheMinimum", recChange(fxRec(fxClaim("CL-APC-1", buyer(1), "1.00", s1))), nil},
		{"amendedOutOfTheYear", recChange(amended2), []string{"annual_purchase_below_minimum/medium/CL-APC-2/2026-10-20"}},
		{"amendedIntoTheYear", recChange(amended3), nil},
		{"settlementResentInFull", recChange(resent4), nil},
		{"anotherBuyersSettlement", recChange(fxRec(s5)), nil},
		{"suppliersRegistryRow", enterpriseChange(sup), nil},
		{"usageOnly", voucherwatch.Changes{Usage: 10}, nil},
		{"unknownClaim", claimChange("CL-APC-NONE"), nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := d.Check(ctx, fxAt, tc.change)
			if err != nil {
				t.Fatal(err)
			}
			var kinds []string
			for _, a := range got {
				kinds = append(kinds, a.Kind+"/"+string(a.Severity)+"/"+a.Subjects.ClaimID+"/"+fmt.Sprint(evFacts(a.Evidence)["submitted_on"]))
			}
			slices.Sort(kinds)
			if !slices.Equal(kinds, tc.want) {
				t.Errorf("got %v, want %v", kinds, tc.want)
			}
			sameAsRun(t, full, got)
		})
	}
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
