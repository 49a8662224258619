package detectors

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/voucherwatch/voucherwatch"
	"github.com/voucherwatch/voucherwatch/detectors/detectortest"
	"github.com/voucherwatch/voucherwatch/rules"
)

func enterpriseChange(usccs ...string) voucherwatch.Changes {
	c := voucherwatch.Changes{Enterprises: map[string]bool{}}
	for _, u := range usccs {
		c.Enterprises[u] = true
	}
	return c
}

// contractChange is what a new version of contract no between buyer and supplier changes.
func contractChange(supplier, buyer, no string) voucherwatch.Changes {
	return voucherwatch.Changes{Contracts: map[[2]string]bool{{supplier, no}: true}, Pairs: map[[2]string]bool{{buyer, supplier}: true}}
}

// TestUnregisteredSupplierCheckMatchesRun checks unregistered_supplier's incremental path
// against its full run on the synthetic province: a registry row of the supplier or the buyer,
// a contract (or settlement) of the deal, a claim citing it, or a purchase of the seller
// (a new deal with the seller as buyer), changed one at a time, yields the alerts the full run
// raises about them, byte for byte; registered suppliers and clean claims changed raise only
// what the full run raises; every subject changed at once yields the full run.
func TestUnregisteredSupplierCheckMatchesRun(t *testing.T) {
	db, p := detectortest.Province(t, 1)
	ctx := context.Background()
	d := NewUnregisteredSupplier(Env{DB: db, Policy: rules.Default()})
	full, err := d.Run(ctx, p.Config.End)
	if err != nil {
		t.Fatal(err)
	}
	kinds := map[string]int{}
	flagged := map[string]bool{}
	var changes []voucherwatch.Changes
	var all voucherwatch.Changes
	for _, a := range full {
		kinds[a.Kind]++
		s := a.Subjects
		flagged[s.SupplierUSCC], flagged[s.ApplicantUSCC] = true, true
		cs := []voucherwatch.Changes{enterpriseChange(s.SupplierUSCC), enterpriseChange(s.ApplicantUSCC),
			contractChange(s.SupplierUSCC, s.ApplicantUSCC, s.ContractNo),
			// The seller bought something: its purchases are a reseller's evidence.
			{Pairs: map[[2]string]bool{{s.SupplierUSCC, "another-seller"}: true}}}
		if s.ClaimID != "" {
			cs = append(cs, claimChange(s.ClaimID))
		}
		var merged voucherwatch.Changes
		for _, c := range cs {
			merged.Merge(c)
		}
		all.Merge(merged)
		// Each subject alone for the first alert of a kind, all of them at once for the
		// others: a check costs a few keyed queries, and the test is to stay fast.
		if kinds[a.Kind] == 1 {
			changes = append(changes, cs...)
		} else {
			changes = append(changes, merged)
		}
	}
	for _, k := range []string{"supplier_not_registered", "supplier_not_in_registry", "bought_from_reseller"} {
		if kinds[k] == 0 {
			t.Fatalf("got no %s alert in the province's full run (%v), want some to compare", k, kinds)
		}
	}
	// Look-alikes: enterprises and claims the full run does not flag.
	ents, err := db.LatestEntities(ctx)
	if err != nil {
		t.Fatal(err)
	}
	clean := 0
	var cleanEnts, someClaims voucherwatch.Changes
	for _, e := range ents {
		if !flagged[e.USCC] && e.Supplier != nil && clean < 10 {
			cleanEnts.Merge(enterpriseChange(e.USCC))
			clean++
		}
	}
	claims, err := db.LatestClaims(ctx, voucherwatch.ClaimQuery{All: true})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range claims[:min(len(claims), 20)] {
		someClaims.Merge(claimChange(c.ClaimID))
	}
	changes = append(changes, cleanEnts, someClaims)
	if clean == 0 {
		t.Fatal("every supplier of the province is flagged; want registered ones to compare")
	}
	checkAgainstRun(t, d, full, changes, func(ch voucherwatch.Changes, a voucherwatch.Alert) bool {
		s := a.Subjects
		return ch.Enterprises[s.SupplierUSCC] || ch.Enterprises[s.ApplicantUSCC] || ch.Contracts[[2]string{s.SupplierUSCC, s.ContractNo}] ||
			ch.Claims[s.ClaimID] || ch.Pairs[[2]string{s.SupplierUSCC, "another-seller"}]
	})
	checkAgainstRun(t, d, full, []voucherwatch.Changes{all}, func(voucherwatch.Changes, voucherwatch.Alert) bool { return true })
	got, err := d.Check(ctx, p.Config.End, claimChange("no-such-claim"))
	if err != nil || len(got) != 0 {
		t.Errorf("Check(an unknown claim): got %d alerts, %v; want none", len(got), err)
	}
}

// TestUnregisteredSupplierCheckCases: each change is checked by keyed look-ups into the alerts
// the full run raises about what it touches, and look-alikes raise nothing: a supplier with
// the same name as an unregistered one but another USCC, a registration that covers the
// supplier in a newer version, a contract re-sent with the same buyer. A contract re-sent
// with another buyer alerts both deals: the new buyer's, and the old buyer's invoices, which
// now name a deal without a contract.
func TestUnregisteredSupplierCheckCases(t *testing.T) {
	f := newFxDB(t)
	b, c := fxUSCC("B", 1), fxUSCC("B", 2)
	registered, sameName, reseller, unknown, covered := fxUSCC("S", 1), fxUSCC("S", 2), fxUSCC("S", 3), fxUSCC("S", 4), fxUSCC("S", 5)
	f.add(fxRec(fxBuyer(b)), fxRec(fxBuyer(c)), fxRec(fxSupplier(registered, true)), fxRec(fxBuyer(reseller)))
	lookAlike := fxSupplier(sameName, false)
	lookAlike.Name = fxSupplier(registered, true).Name // sameNameDifferentUSCC
	f.add(fxRec(lookAlike))
	f.add(fxVersionAt(fxRec(fxSupplier(covered, false)), time.Date(2025, 10, 20, 9, 0, 0, 0, voucherwatch.CST)),
		fxVersionAt(fxRec(fxSupplier(covered, true)), time.Date(2026, 6, 1, 9, 0, 0, 0, voucherwatch.CST)))

	ok := fxContract("HT-OK", registered, b, "2026-03-01", "2026-05-31", fxCompute("200000.00"))
	okAgain := *ok // reContractSameBuyer
	okAgain.Amount, okAgain.Items = fxYuan("210000.00"), []voucherwatch.Item{fxCompute("210000.00")}
	named := fxContract("HT-SAMENAME", sameName, b, "2026-03-01", "2026-05-31", fxCompute("100000.00"))
	namedInv := fxInvoice(named, "", "26432000000000000201", "2026-03-01", "2026-05-31", fxCompute("100000.00"))
	resold := fxContract("HT-RESOLD", reseller, c, "2026-03-01", "2026-05-31", fxCompute("80000.00"))
	resellerBuys := fxContract("HT-RESELLER-BUYS", registered, reseller, "2026-02-01", "2026-05-31", fxCompute("90000.00"))
	moved := fxContract("HT-MOVED", unknown, b, "2026-03-01", "2026-05-31", fxCompute("60000.00"))
	movedInv := fxInvoice(moved, "", "26432000000000000401", "2026-03-01", "2026-05-31", fxCompute("60000.00"))
	movedAgain := *moved // reContractAnotherBuyer
	movedAgain.BuyerUSCC = c
	coveredDeal := fxContract("HT-COVERED", covered, c, "2026-07-01", "2026-08-31", fxCompute("70000.00"))
	f.add(fxRec(ok), fxRec(named), fxRec(namedInv), fxRec(resold), fxRec(resellerBuys), fxRec(moved), fxRec(movedInv), fxRec(coveredDeal),
		fxRec(fxClaim("CL-SAMENAME", b, "30000.00", namedInv)))
	f.add(fxVersionAt(fxRec(&okAgain), time.Date(2026, 6, 2, 9, 0, 0, 0, voucherwatch.CST)),
		fxVersionAt(fxRec(&movedAgain), time.Date(2026, 6, 2, 9, 0, 0, 0, voucherwatch.CST)))
	d := NewUnregisteredSupplier(f.env())
	full := f.run(d)

	ctx := context.Background()
	cases := []struct {
		name   string
		change voucherwatch.Changes
		want   []string // kind/severity/buyer tail/contract of the alerts Check returns
	}{
		{"newContractOfSameNameSupplier", contractChange(sameName, b, "HT-SAMENAME"), []string{
			"supplier_not_registered/high/0001/HT-SAMENAME", "supplier_not_registered/medium/0001/HT-SAMENAME"}},
		{"claimCitingIt", claimChange("CL-SAMENAME"), []string{"supplier_not_registered/high/0001/HT-SAMENAME"}},
		{"registeredSupplierOfTheSameName", enterpriseChange(registered), nil},
		{"reContractSameBuyer", contractChange(registered, b, "HT-OK"), nil},
		{"sellerIsAnOrdinaryEnterprise", contractChange(reseller, c, "HT-RESOLD"), []string{"bought_from_reseller/medium/0002/HT-RESOLD"}},
		{"resellersPurchase", contractChange(registered, reseller, "HT-RESELLER-BUYS"), []string{"bought_from_reseller/medium/0002/HT-RESOLD"}},
		{"reContractAnotherBuyer", contractChange(unknown, c, "HT-MOVED"), []string{
			"supplier_not_in_registry/medium/0001/HT-MOVED", "supplier_not_in_registry/medium/0002/HT-MOVED"}},
		{"registrationCoversSupplier", enterpriseChange(covered), nil},
		{"buyersRegistryRow", enterpriseChange(b), []string{"supplier_not_in_registry/medium/0001/HT-MOVED",
			"supplier_not_registered/high/0001/HT-SAMENAME", "supplier_not_registered/medium/0001/HT-SAMENAME"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := d.Check(ctx, fxAt, tc.change)
			if err != nil {
				t.Fatal(err)
			}
			var kinds []string
			for _, a := range got {
				kinds = append(kinds, a.Kind+"/"+string(a.Severity)+"/"+fxTail(a.Subjects.ApplicantUSCC)+"/"+a.Subjects.ContractNo)
			}
			slices.Sort(kinds)
			if !slices.Equal(kinds, tc.want) {
				t.Errorf("got %v, want %v", kinds, tc.want)
			}
			checkAgainstRun(t, d, full, []voucherwatch.Changes{tc.change}, func(voucherwatch.Changes, voucherwatch.Alert) bool { return false })
		})
	}
	for _, a := range full {
		if a.Subjects.ContractNo == "HT-MOVED" && a.Subjects.ApplicantUSCC == b {
			if _, ok := evFacts(a.Evidence)["contract"]; ok {
				t.Errorf("the old buyer's deal of a contract re-sent to another buyer: got a contract in its evidence %v, want none", evFacts(a.Evidence))
			}
		}
	}
}

// TestRunnerChecksRegistryBatch: a registry batch wakes unregistered_supplier's check, which
// alerts a deal whose supplier the new registry row says is not registered while the runner's
// full runs are held off; the same batch's row of a registered supplier raises nothing.
func TestRunnerChecksRegistryBatch(t *testing.T) {
	f := newFxDB(t)
	b, notYet, fine := fxUSCC("B", 1), fxUSCC("S", 6), fxUSCC("S", 7)
	f.add(fxRec(fxBuyer(b)),
		fxRec(fxContract("HT-NOTYET", notYet, b, "2026-03-01", "2026-05-31", fxCompute("50000.00"))),
		fxRec(fxContract("HT-FINE", fine, b, "2026-03-01", "2026-05-31", fxCompute("50000.00"))))
	f.store()

	r := NewRunner(f.db, nil, nil)
	r.Debounce = time.Hour
	r.Register(NewUnregisteredSupplier(f.env()))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if err := r.Start(ctx, "@every 24h"); err != nil {
		t.Fatal(err)
	}
	f.add(fxRec(fxSupplier(notYet, false)), fxRec(fxSupplier(fine, true)))
	batch := f.recs
	f.store()
	sent := time.Now()
	r.Changed(batch)
	r.Trigger() // the debounced full run waits an hour: only the check can alert

	var got []voucherwatch.Alert
	for time.Since(sent) < 20*time.Second {
		as, _, err := f.db.Alerts(ctx, voucherwatch.AlertFilter{Detector: "unregistered_supplier"})
		if err != nil {
			t.Fatal(err)
		}
		if len(as) > 0 {
			got = as
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if len(got) != 1 || got[0].Kind != "supplier_not_registered" || got[0].Subjects.SupplierUSCC != notYet || got[0].Subjects.ContractNo != "HT-NOTYET" {
		t.Fatalf("got alerts %+v, want one supplier_not_registered on HT-NOTYET", got)
	}
	t.Logf("alerted %.2fs after the registry batch was reported", time.Since(sent).Seconds())
	if h, _ := r.Health(); h[0].State != StateUnknown {
		t.Errorf("got %s's health %s, want no full run yet", h[0].Detector, h[0].State)
	}
}
