package detectors

import (
	"fmt"
	"testing"
	"time"

	"github.com/voucherwatch/voucherwatch"
)

func TestUnregisteredSupplier(t *testing.T) {
	f := newFxDB(t)
	older, newer := time.Date(2025, 10, 20, 9, 0, 0, 0, voucherwatch.CST), time.Date(2026, 6, 1, 9, 0, 0, 0, voucherwatch.CST)
	registered := fxUSCC("S", 999)
	f.add(fxRec(fxSupplier(registered, true)))
	cases := []struct {
		name string
		// seller is the supplier's registry versions, oldest first; none: not in the registry.
		seller     []*voucherwatch.Entity
		claimed    bool // the buyer claims the contract's invoices
		noContract bool // only settlements name the contract
		signed     string
		want       []string
	}{
		{name: "registeredFalseClaimed", seller: []*voucherwatch.Entity{fxSupplier("", false)}, claimed: true,
			want: []string{"supplier_not_registered/high", "supplier_not_registered/medium"}},
		{name: "notInRegistryClaimed", claimed: true,
			want: []string{"supplier_not_in_registry/high", "supplier_not_in_registry/medium"}},
		{name: "sellerIsAnOrdinaryEnterprise", seller: []*voucherwatch.Entity{fxBuyer("")}, want: []string{"bought_from_reseller/medium"}},
		{name: "registeredSupplierClaimed", seller: []*voucherwatch.Entity{fxSupplier("", true)}, claimed: true},
		{name: "onlySettlementsNameTheContract", seller: []*voucherwatch.Entity{fxSupplier("", false)}, noContract: true,
			want: []string{"supplier_not_registered/medium"}},
		{name: "signedBeforeRegistration", seller: []*voucherwatch.Entity{fxSupplier("", true)}, signed: "2025-10-01",
			want: []string{"signed_before_registration/low"}},
		{name: "registrationRevokedInNewerVersion", seller: []*voucherwatch.Entity{fxSupplier("", true), fxSupplier("", false)},
			want: []string{"supplier_not_registered/medium"}},
		{name: "registeredInNewerVersion", seller: []*voucherwatch.Entity{fxSupplier("", false), fxSupplier("", true)}, claimed: true},
	}
	for i, c := range cases {
		b, s := fxUSCC("B", i), fxUSCC("S", i)
		f.add(fxRec(fxBuyer(b)))
		for j, e := range c.seller {
			e.USCC = s
			when := older
			if j > 0 {
				when = newer
			}
			f.add(fxVersionAt(fxRec(e), when))
		}
		k := fxContract("HT-UR-"+c.name, s, b, "2026-03-01", "2026-05-31", fxCompute("200000.00"))
		if c.signed != "" {
			k.SignedOn = fxDate(c.signed)
		}
		inv := fxInvoice(k, "", fmt.Sprintf("2643200000%010d", i), "2026-03-01", "2026-05-31", fxCompute("200000.00"))
		if !c.noContract {
			f.add(fxRec(k))
		}
		f.add(fxRec(inv))
		if c.claimed {
			f.add(fxRec(fxClaim("SB-UR-"+c.name, b, "60000.00", inv)))
		}
	}
	// A claim that cites an unregistered supplier's contract, but only a registered one's invoices.
	b, s := fxUSCC("B", 100), fxUSCC("S", 100)
	f.add(fxRec(fxBuyer(b)), fxRec(fxSupplier(s, false)))
	good := fxContract("HT-UR-good", registered, b, "2026-03-01", "2026-05-31", fxCompute("200000.00"))
	bad := fxContract("HT-UR-bad", s, b, "2026-03-01", "2026-05-31", fxCompute("50000.00"))
	inv := fxInvoice(good, "", "26432000000000000100", "2026-03-01", "2026-05-31", fxCompute("200000.00"))
	cl := fxClaim("SB-UR-contractOnly", b, "60000.00", inv)
	cl.Contracts = append(cl.Contracts, bad.ContractNo)
	f.add(fxRec(good), fxRec(bad), fxRec(inv), fxRec(cl))

	alerts := f.run(NewUnregisteredSupplier(f.env()))
	for i, c := range cases {
		for _, a := range fxWant(t, c.name, alerts, fxUSCC("B", i), c.want...) {
			if a.Subjects.SupplierUSCC != fxUSCC("S", i) || a.Subjects.ContractNo != "HT-UR-"+c.name || a.PolicyClause != "五.1 / M1a" {
				t.Errorf("%s: got subjects %+v clause %q", c.name, a.Subjects, a.PolicyClause)
			}
			if a.Severity == voucherwatch.SeverityHigh && a.Subjects.ClaimID != "SB-UR-"+c.name {
				t.Errorf("%s: got claim %q on the claim's alert", c.name, a.Subjects.ClaimID)
			}
		}
	}
	for _, a := range fxWant(t, "claimCitesUnregisteredContract", alerts, b, "supplier_not_registered/high", "supplier_not_registered/medium") {
		if a.Subjects.SupplierUSCC != s || a.Subjects.ContractNo != "HT-UR-bad" {
			t.Errorf("claimCitesUnregisteredContract: got subjects %+v", a.Subjects)
		}
	}
}

// TestUnregisteredSupplierSettledLatestVersion: a settlement corrected by a newer version
// (another amount, and moved to another contract) counts as its newest version in the deal's
// evidence, whatever order the versions were stored in; the corrected-away contract keeps no
// invoice. The old version is stored first and sorts first, the order in which a read without
// ORDER BY meets it.
func TestUnregisteredSupplierSettledLatestVersion(t *testing.T) {
	f := newFxDB(t)
	b, s := fxUSCC("B", 7), fxUSCC("S", 7)
	f.add(fxRec(fxBuyer(b)), fxRec(fxSupplier(s, false)))
	first := fxContract("HT-UR-first", s, b, "2026-03-01", "2026-05-31", fxCompute("200000.00"))
	second := fxContract("HT-UR-second", s, b, "2026-03-01", "2026-05-31", fxCompute("200000.00"))
	f.add(fxRec(first), fxRec(second))
	old := fxInvoice(first, "", "26432000000000000777", "2026-03-01", "2026-05-31", fxCompute("100000.00"))
	corrected := fxInvoice(second, "", "26432000000000000777", "2026-03-01", "2026-05-31", fxCompute("150000.00"))
	oldRec, newRec := fxRec(old), fxRec(corrected)
	oldRec.ID, newRec.ID = "settlement-1", "settlement-2"
	f.add(fxVersionAt(oldRec, time.Date(2026, 6, 1, 9, 0, 0, 0, voucherwatch.CST)))
	f.store()
	f.add(fxVersionAt(newRec, time.Date(2026, 6, 2, 9, 0, 0, 0, voucherwatch.CST)))

	settled := map[string]string{}
	for _, a := range f.run(NewUnregisteredSupplier(f.env())) {
		if a.Subjects.ApplicantUSCC == b {
			settled[a.Subjects.ContractNo] = fmt.Sprint(evFacts(a.Evidence)["invoices_settled"], " ", evFacts(a.Evidence)["settled"])
		}
	}
	want := map[string]string{"HT-UR-first": "0 0.00", "HT-UR-second": "1 150000.00"}
	for no, w := range want {
		if settled[no] != w {
			t.Errorf("%s: got invoices and amount settled %q, want %q", no, settled[no], w)
		}
	}
}
