package detectors

import (
	"fmt"
	"testing"

	"github.com/voucherwatch/voucherwatch"
)

func TestPolicyWindow(t *testing.T) {
	f := newFxDB(t)
	sup := fxUSCC("S", 1)
	f.add(fxRec(fxSupplier(sup, true)))
	type inv struct {
		from, to, amount string
		claimed          string // "" claims the settled amount
	}
	cases := []struct {
		name          string
		start, end    string // the contract's service
		invoices      []inv
		want          []string
		first         int    // the invoice the alert names
		outsideAmount string // claimed outside the window, over all invoices
	}{
		{name: "serviceCrossesWindowStart", start: "2025-10-01", end: "2026-01-31",
			invoices: []inv{{from: "2025-10-01", to: "2025-10-31", amount: "31000.00"}, {from: "2025-11-01", to: "2025-11-30", amount: "30000.00"}},
			want:     []string{"service_before_window/medium"}, outsideAmount: "26000.00"},
		{name: "serviceCrossesWindowStartProrated", start: "2025-10-01", end: "2026-01-31",
			invoices: []inv{{from: "2025-10-01", to: "2025-10-31", amount: "31000.00", claimed: "5000.00"}}},
		{name: "serviceBeforeAndAcrossWindowStart", start: "2025-09-15", end: "2026-01-31", first: 1, // September, the earlier period
			invoices: []inv{{from: "2025-10-01", to: "2025-10-31", amount: "31000.00"}, {from: "2025-09-15", to: "2025-09-30", amount: "16000.00"}},
			want:     []string{"service_before_window/medium"}, outsideAmount: "42000.00"},
		{name: "serviceBeyondWindowLookAlike", start: "2026-03-01", end: "2028-12-31",
			invoices: []inv{{from: "2026-03-01", to: "2026-03-31", amount: "62000.00"}, {from: "2026-04-01", to: "2026-04-30", amount: "60000.00"}}},
		{name: "invoiceCrossesWindowEnd", start: "2028-10-01", end: "2028-12-31",
			invoices: []inv{{from: "2028-10-01", to: "2028-10-31", amount: "31000.00"}},
			want:     []string{"service_after_window/medium"}, outsideAmount: "5000.00"},
		{name: "serviceStartsOnWindowStart", start: "2025-10-27", end: "2026-01-31",
			invoices: []inv{{from: "2025-10-27", to: "2025-11-26", amount: "31000.00"}}},
		{name: "serviceEndsTheDayBefore", start: "2025-10-01", end: "2025-10-26",
			invoices: []inv{{from: "2025-10-01", to: "2025-10-26", amount: "26000.00"}},
			want:     []string{"service_before_window/medium"}, outsideAmount: "26000.00"},
	}
	for i, c := range cases {
		b := fxUSCC("B", i)
		f.add(fxRec(fxBuyer(b)))
		k := fxContract("HT-PW-"+c.name, sup, b, c.start, c.end, fxCompute("500000.00"))
		cl := fxClaim("SB-PW-"+c.name, b, "1.00")
		f.add(fxRec(k))
		for j, v := range c.invoices {
			s := fxInvoice(k, "043002516353", fmt.Sprintf("%04d%04d", i, j), v.from, v.to, fxCompute(v.amount))
			f.add(fxRec(s))
			amount := s.Amount
			if v.claimed != "" {
				amount = fxYuan(v.claimed)
			}
			cl.Invoices = append(cl.Invoices, voucherwatch.ClaimInvoice{InvoiceCode: s.InvoiceCode, InvoiceNo: s.InvoiceNo, Amount: amount})
		}
		f.add(fxRec(cl))
	}
	alerts := f.run(NewPolicyWindow(f.env()))
	for i, c := range cases {
		for _, a := range fxWant(t, c.name, alerts, fxUSCC("B", i), c.want...) {
			want := voucherwatch.Subjects{ApplicantUSCC: fxUSCC("B", i), SupplierUSCC: sup, ClaimID: "SB-PW-" + c.name,
				ContractNo: "HT-PW-" + c.name, InvoiceCode: "043002516353", InvoiceNo: fmt.Sprintf("%04d%04d", i, c.first)}
			if a.Subjects != want || a.PolicyClause != "三 / W" {
				t.Errorf("%s: got subjects %+v clause %q, want %+v", c.name, a.Subjects, a.PolicyClause, want)
			}
			if got := evFacts(a.Evidence)["claimed_outside_window"]; got != c.outsideAmount {
				t.Errorf("%s: got claimed_outside_window %v, want %s", c.name, got, c.outsideAmount)
			}
		}
	}
}
