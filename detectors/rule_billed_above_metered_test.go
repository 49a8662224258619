package detectors

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/voucherwatch/voucherwatch"
	"github.com/voucherwatch/voucherwatch/detectors/detectortest"
	"github.com/voucherwatch/voucherwatch/rules"
)

// fxMeter meters cards of a resource from `from` (inclusive) to `to` (exclusive) in windows of
// days, perDay card-hours a day.
func fxMeter(c *voucherwatch.Contract, resource string, cards int, from, to string, days int, perDay float64) []*voucherwatch.Usage {
	var out []*voucherwatch.Usage
	end := fxDate(to)
	for ws := fxDate(from); ws.Before(end); ws = ws.AddDate(0, 0, days) {
		we := ws.AddDate(0, 0, days)
		if we.After(end) {
			we = end
		}
		out = append(out, &voucherwatch.Usage{SupplierUSCC: c.SupplierUSCC, BuyerUSCC: c.BuyerUSCC, ContractNo: c.ContractNo,
			Tenant: "t-" + c.BuyerUSCC[12:], ResourceID: resource, ChipModel: "Ascend 910B", ChipOrigin: voucherwatch.OriginDomestic,
			Cards: cards, WindowStart: ws, WindowEnd: we, CardHours: perDay * we.Sub(ws).Hours() / 24, UtilAvg: 0.6, Jobs: 3, Users: 2})
	}
	return out
}

func TestBilledAboveMetered(t *testing.T) {
	f := newFxDB(t)
	sup, unreg := fxUSCC("S", 1), fxUSCC("S", 2)
	f.add(fxRec(fxSupplier(sup, true)), fxRec(fxSupplier(unreg, false)))
	type bill struct {
		from, to string
		hours    float64 // billed card-hours; card-months when cardMonths
	}
	march, april := "2026-03-01", "2026-04-01"
	cases := []struct {
		name       string
		supplier   string
		cardMonths bool
		bills      []bill
		perDay     float64 // metered card-hours a day, from 2026-02-26
		meterFrom  string  // metering starts; "" 2026-02-26
		meterUntil string  // exclusive; "" no metering at all
		resent     bool    // every usage record is sent twice under two ids
		want       []string
	}{
		{name: "billed18TimesMetered", bills: []bill{{march, "2026-03-31", 5580}}, perDay: 100, meterUntil: "2026-04-08", want: []string{"billed_above_metered/high"}},
		{name: "billedAsMetered", bills: []bill{{march, "2026-03-31", 3100}}, perDay: 100, meterUntil: "2026-04-08"},
		{name: "billed12TimesMetered", bills: []bill{{march, "2026-03-31", 3720}}, perDay: 100, meterUntil: "2026-04-08"},
		{name: "twiceMeteredButSmallGap", bills: []bill{{march, "2026-03-31", 186}}, perDay: 3, meterUntil: "2026-04-08"},
		{name: "cardMonthReservedAroundTheClock", cardMonths: true, bills: []bill{{march, "2026-03-31", 8}}, perDay: 8 * 24 * 0.98, meterUntil: "2026-04-08"},
		{name: "cardMonthInFebruary", cardMonths: true, bills: []bill{{"2026-02-01", "2026-02-28", 8}}, perDay: 8 * 24 * 0.97, meterFrom: "2026-01-29", meterUntil: "2026-03-05"},
		{name: "lastPeriodNotYetMetered", bills: []bill{{"2026-10-01", "2026-10-31", 3100}, {"2026-11-01", "2026-11-30", 6000}}, perDay: 100,
			meterFrom: "2026-09-26", meterUntil: "2026-11-26"},
		{name: "meteringStoppedBillingWentOn", bills: []bill{{march, "2026-03-31", 3100}, {april, "2026-04-30", 3000}}, perDay: 100, meterUntil: "2026-04-08",
			want: []string{"billed_above_metered/high"}},
		{name: "resentUsageCountsOnce", bills: []bill{{march, "2026-03-31", 5580}}, perDay: 100, meterUntil: "2026-04-08", resent: true, want: []string{"billed_above_metered/high"}},
		{name: "billedWithoutMetering", bills: []bill{{march, "2026-03-31", 3100}}, want: []string{"billed_without_metering/low"}},
		{name: "unregisteredSupplierWithoutMetering", supplier: unreg, bills: []bill{{march, "2026-03-31", 3100}}},
	}
	for i, c := range cases {
		b := fxUSCC("B", i)
		s := sup
		if c.supplier != "" {
			s = c.supplier
		}
		f.add(fxRec(fxBuyer(b)))
		k := fxContract("HT-BM-"+c.name, s, b, "2026-02-01", "2026-11-30", fxCompute("300000.00"))
		f.add(fxRec(k))
		for j, bl := range c.bills {
			it := fxCardHours(bl.hours, "1000.00")
			if c.cardMonths {
				it.Unit = voucherwatch.UnitCardMonth
			}
			f.add(fxRec(fxInvoice(k, "", fmt.Sprintf("2643200000%06d%04d", i, j), bl.from, bl.to, it)))
		}
		if c.meterUntil == "" {
			continue
		}
		from := c.meterFrom
		if from == "" {
			from = "2026-02-26"
		}
		for _, u := range fxMeter(k, "R-"+c.name, 8, from, c.meterUntil, 7, c.perDay) {
			r := fxRec(u)
			r.Time = u.WindowEnd.Add(time.Hour)
			f.add(r)
			if c.resent {
				f.add(fxRec(u)) // a new envelope id: the same window again
			}
		}
	}
	alerts := f.run(NewBilledAboveMetered(f.env()))
	for i, c := range cases {
		for _, a := range fxWant(t, c.name, alerts, fxUSCC("B", i), c.want...) {
			if a.Subjects.ContractNo != "HT-BM-"+c.name || a.Subjects.SupplierUSCC != sup {
				t.Errorf("%s: got subjects %+v", c.name, a.Subjects)
			}
		}
	}
	if a := fxAlertsOn(alerts, fxUSCC("B", 0)); len(a) == 1 {
		if got, want := evFacts(a[0].Evidence)["metered_card_hours"], 3100.0; got != want {
			t.Errorf("billed18TimesMetered: got metered %v, want %v", got, want)
		}
		if got, want := evFacts(a[0].Evidence)["billed_over_metered"], 1.8; got != want {
			t.Errorf("billed18TimesMetered: got ratio %v, want %v", got, want)
		}
	}
}

// TestBilledAboveMeteredCheckCases: what a check of each change returns, and that it is the
// full run's alert about the contract byte for byte: an invoice billing far above the metering
// (through its settlement, its contract, a claim citing it, the buyer's or the supplier's
// registry row), an invoice re-sent to match the metering, an invoice re-sent under another
// contract (the old contract, which the change does not name, is flagged once the invoice
// that kept it under the ratio has left); and look-alikes that return nothing: billing as
// metered, an unregistered supplier without metering (unregistered_supplier's finding), usage
// alone, an unknown contract.
func TestBilledAboveMeteredCheckCases(t *testing.T) {
	f := newFxDB(t)
	sup, unreg := fxUSCC("S", 1), fxUSCC("S", 2)
	b := fxUSCC("B", 1)
	f.add(fxRec(fxSupplier(sup, true)), fxRec(fxSupplier(unreg, false)), fxRec(fxBuyer(b)))
	later := time.Date(2026, 6, 2, 9, 0, 0, 0, voucherwatch.CST)
	march, april := [2]string{"2026-03-01", "2026-03-31"}, [2]string{"2026-04-01", "2026-04-30"}
	n := 0
	bill := func(k *voucherwatch.Contract, period [2]string, hours float64) *voucherwatch.Settlement {
		n++
		return fxInvoice(k, "", fmt.Sprintf("2643200000BMC%06d", n), period[0], period[1], fxCardHours(hours, "1000.00"))
	}
	meter := func(k *voucherwatch.Contract, until string) {
		for _, u := range fxMeter(k, "R-"+k.ContractNo, 8, "2026-02-26", until, 7, 100) {
			r := fxRec(u)
			r.Time = u.WindowEnd.Add(time.Hour)
			f.add(r)
		}
	}
	contract := func(name, s string) *voucherwatch.Contract {
		k := fxContract("HT-BMC-"+name, s, b, "2026-02-01", "2026-11-30", fxCompute("300000.00"))
		f.add(fxRec(k))
		return k
	}
	over := contract("OVER", sup) // billed 1.8 times the metering
	overInv := bill(over, march, 5580)
	meter(over, "2026-04-08")
	asMetered := contract("ASMETERED", sup)
	asMeteredInv := bill(asMetered, march, 3100)
	meter(asMetered, "2026-04-08")
	resent := contract("RESENT", sup) // first billed 1.8 times, re-sent as metered
	resentInv := bill(resent, march, 5580)
	resentFixed := *resentInv
	resentFixed.Items = []voucherwatch.Item{fxCardHours(3100, "1000.00")}
	meter(resent, "2026-04-08")
	// moved: March billed 4,000 against 3,100 metered (1.29 times), April as metered: 1.15
	// times in all, under the ratio, until April's invoice is re-sent under another contract.
	moved := contract("MOVED", sup)
	movedMarch, movedApril := bill(moved, march, 4000), bill(moved, april, 3000)
	meter(moved, "2026-05-08")
	target := contract("TARGET", sup)
	movedAgain := *movedApril
	movedAgain.ContractNo = target.ContractNo
	unregistered := contract("UNREG", unreg)
	unregInv := bill(unregistered, march, 3100)
	claim := fxClaim("CL-BMC-1", b, "1000.00", overInv)
	f.add(fxRec(overInv), fxRec(asMeteredInv), fxRec(resentInv), fxVersionAt(fxRec(&resentFixed), later),
		fxRec(movedMarch), fxRec(movedApril), fxVersionAt(fxRec(&movedAgain), later), fxRec(unregInv), fxRec(claim))
	d := NewBilledAboveMetered(f.env())
	full := f.run(d)

	overAlert := "billed_above_metered/high/HT-BMC-OVER"
	everyAlert := []string{"billed_above_metered/high/HT-BMC-MOVED", overAlert, "billed_without_metering/low/HT-BMC-TARGET"}
	ctx := context.Background()
	cases := []struct {
		name   string
		change voucherwatch.Changes
		want   []string // kind/severity/contract of the alerts Check returns
	}{
		{"billedAboveMetered", recChange(fxRec(overInv)), []string{overAlert}},
		{"invoiceAlone", invoiceChange(overInv.InvoiceCode, overInv.InvoiceNo), []string{overAlert}},
		{"everyInvoice", recChange(fxRec(overInv), fxRec(&movedAgain), fxRec(asMeteredInv)), everyAlert},
		// Left to the full run (Check): they change the evidence, not the billing.
		{"itsContract", recChange(fxRec(over)), nil},
		{"claimCitingIt", claimChange("CL-BMC-1"), nil},
		{"buyersRegistryRow", enterpriseChange(b), nil},
		{"suppliersRegistryRow", enterpriseChange(sup), nil},
		{"billedAsMetered", recChange(fxRec(asMeteredInv)), nil},
		{"resentAsMetered", recChange(fxVersionAt(fxRec(&resentFixed), later)), nil},
		{"invoiceMovedToAnotherContract", recChange(fxVersionAt(fxRec(&movedAgain), later)),
			[]string{"billed_above_metered/high/HT-BMC-MOVED", "billed_without_metering/low/HT-BMC-TARGET"}},
		{"unregisteredSupplierWithoutMetering", recChange(fxRec(unregInv)), nil},
		{"unregisteredSuppliersRegistryRow", enterpriseChange(unreg), nil},
		{"usageOnly", voucherwatch.Changes{Usage: 10}, nil},
		{"unknownContract", contractChange(sup, b, "HT-BMC-NONE"), nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := d.Check(ctx, fxAt, tc.change)
			if err != nil {
				t.Fatal(err)
			}
			var kinds []string
			for _, a := range got {
				kinds = append(kinds, a.Kind+"/"+string(a.Severity)+"/"+a.Subjects.ContractNo)
			}
			slices.Sort(kinds)
			if !slices.Equal(kinds, tc.want) {
				t.Errorf("got %v, want %v", kinds, tc.want)
			}
			sameAsRun(t, full, got)
		})
	}
	for _, a := range full {
		if a.Subjects.ContractNo == over.ContractNo {
			if got, want := fmt.Sprint(evFacts(a.Evidence)["claims"]), "[CL-BMC-1]"; got != want {
				t.Errorf("%s: got claims %s in the evidence, want %s", over.ContractNo, got, want)
			}
		}
	}
}

// TestBilledAboveMeteredCheckMatchesRun checks billed_above_metered's keyed path against its
// full run on the synthetic province: an invoice of a flagged contract, changed one at a time,
// yields the full run's alert about the contract byte for byte (the claims citing it in its
// evidence read by key); the contract, its parties' registry rows and its buyer's claims,
// which Check leaves to the full run, raise nothing; invoices of contracts the full run does
// not flag raise nothing; every flagged contract's invoice changed at once yields the full run.
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
	for _, c := range claims {
		claimsOf[c.ApplicantUSCC] = append(claimsOf[c.ApplicantUSCC], c.ClaimID)
	}
	flagged := map[[2]string]bool{}
	var changes []voucherwatch.Changes
	var all voucherwatch.Changes
	for _, a := range full {
		s := a.Subjects
		k := [2]string{s.SupplierUSCC, s.ContractNo}
		flagged[k] = true
		inv, ok := invoiceOf[k]
		if !ok {
			t.Fatalf("%s: flagged without an invoice", s.ContractNo)
		}
		changes = append(changes, invoiceChange(inv.Code, inv.No))
		all.Merge(invoiceChange(inv.Code, inv.No))
		// Left to the full run: the contract, the parties' registry rows, their claims.
		changes = append(changes, contractChange(s.SupplierUSCC, s.ApplicantUSCC, s.ContractNo), enterpriseChange(s.ApplicantUSCC, s.SupplierUSCC))
		if cs := claimsOf[s.ApplicantUSCC]; len(cs) > 0 {
			changes = append(changes, claimChange(cs[0]))
		}
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
		k := [2]string{a.Subjects.SupplierUSCC, a.Subjects.ContractNo}
		for inv := range ch.Invoices {
			if contractOf[inv] == k {
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
