package detectors

import (
	"fmt"
	"testing"

	"github.com/voucherwatch/voucherwatch"
)

func TestInvoiceMismatch(t *testing.T) {
	f := newFxDB(t)
	sup := fxUSCC("S", 1)
	f.add(fxRec(fxSupplier(sup, true)))
	const code, otherCode = "043002512345", "043002519999"
	cases := []struct {
		name         string
		settledCode  string // "-": no settlement
		settledTo    string // "other": issued to another buyer
		items        []voucherwatch.Item
		citedCode    string
		claimed      string // "" the settled amount; "tax" amount plus tax
		citedTwice   bool
		from, to     string // the service period; "" March 2026
		want         []string
		wantSupplier bool // the alert names the settlement's supplier and contract
	}{
		{name: "exactMatch", settledCode: code, citedCode: code},
		{name: "digitalInvoiceExact", settledCode: "", citedCode: ""},
		{name: "invoiceNotSettled", settledCode: "-", citedCode: "", want: []string{"invoice_not_settled/high"}},
		{name: "sameNumberOtherCodeOwnInvoice", settledCode: otherCode, citedCode: code, want: []string{"invoice_not_settled/medium"}},
		{name: "sameNumberOtherCodeAnotherBuyer", settledCode: otherCode, settledTo: "other", citedCode: code, want: []string{"invoice_not_settled/high"}},
		{name: "invoiceOfAnotherBuyer", settledCode: code, settledTo: "other", citedCode: code, want: []string{"invoice_of_another_buyer/high"}, wantSupplier: true},
		{name: "claimedAboveSettled", settledCode: "", citedCode: "", claimed: "150000.00", want: []string{"invoice_amount_differs/high"}, wantSupplier: true},
		{name: "claimedWithTax", settledCode: "", citedCode: "", claimed: "tax", want: []string{"invoice_amount_differs/medium"}, wantSupplier: true},
		{name: "claimedSubsidisablePartOfMixed", settledCode: "", citedCode: "", claimed: "100000.00",
			items: []voucherwatch.Item{fxCompute("100000.00"), fxItem(voucherwatch.ServiceBandwidth, "6000.00")}},
		{name: "claimedInWindowPartOfCrossingInvoice", settledCode: "", citedCode: "", claimed: "16129.03", from: "2025-10-01", to: "2025-10-31"},
		// One fen is the applicant's rounding (tax split, days in the window); two are not.
		{name: "claimedOneFenAboveSettled", settledCode: "", citedCode: "", claimed: "100000.01"},
		{name: "claimedTwoFenAboveSettled", settledCode: "", citedCode: "", claimed: "100000.02", want: []string{"invoice_amount_differs/high"}, wantSupplier: true},
		{name: "claimedInWindowPartRoundedUp", settledCode: "", citedCode: "", claimed: "16129.04", from: "2025-10-01", to: "2025-10-31"},
		{name: "claimedInWindowPartTwoFenOff", settledCode: "", citedCode: "", claimed: "16129.05", from: "2025-10-01", to: "2025-10-31", want: []string{"invoice_amount_differs/low"}, wantSupplier: true},
		{name: "claimedBelowSettled", settledCode: "", citedCode: "", claimed: "90000.00", want: []string{"invoice_amount_differs/low"}, wantSupplier: true},
		{name: "citedTwiceInOneClaim", settledCode: code, citedCode: code, citedTwice: true},
	}
	for i, c := range cases {
		b, other := fxUSCC("B", i), fxUSCC("O", i)
		f.add(fxRec(fxBuyer(b)), fxRec(fxBuyer(other)))
		to := b
		if c.settledTo == "other" {
			to = other
		}
		items := c.items
		if items == nil {
			items = []voucherwatch.Item{fxCompute("100000.00")}
		}
		k := fxContract("HT-IM-"+c.name, sup, to, "2026-03-01", "2026-03-31", items...)
		no := fmt.Sprintf("%08d", 10000+i)
		if c.citedCode == "" {
			no = fmt.Sprintf("264320000000%08d", i)
		}
		from, to := "2026-03-01", "2026-03-31"
		if c.from != "" {
			from, to = c.from, c.to
		}
		s := fxInvoice(k, c.settledCode, no, from, to, items...)
		if c.settledCode != "-" {
			f.add(fxRec(k), fxRec(s))
		}
		amount := s.Amount
		switch c.claimed {
		case "":
		case "tax":
			amount = s.Amount + s.Tax
		default:
			amount = fxYuan(c.claimed)
		}
		cl := fxClaim("SB-IM-"+c.name, b, "1.00")
		cl.Invoices = []voucherwatch.ClaimInvoice{{InvoiceCode: c.citedCode, InvoiceNo: no, Amount: amount}}
		if c.citedTwice {
			cl.Invoices = append(cl.Invoices, cl.Invoices[0])
		}
		f.add(fxRec(cl))
	}
	alerts := f.run(NewInvoiceMismatch(f.env()))
	for i, c := range cases {
		for _, a := range fxWant(t, c.name, alerts, fxUSCC("B", i), c.want...) {
			s := a.Subjects
			if s.ClaimID != "SB-IM-"+c.name || s.InvoiceCode != c.citedCode || s.InvoiceNo == "" || a.PolicyClause != "四.4 / P4" {
				t.Errorf("%s: got subjects %+v clause %q", c.name, s, a.PolicyClause)
			}
			if got := s.SupplierUSCC == sup && s.ContractNo == "HT-IM-"+c.name; got != c.wantSupplier {
				t.Errorf("%s: got supplier and contract %q %q, want them named: %v", c.name, s.SupplierUSCC, s.ContractNo, c.wantSupplier)
			}
		}
	}
}
