package detectors

import (
	"fmt"
	"testing"

	"github.com/voucherwatch/voucherwatch"
)

func TestNonSubsidisableItem(t *testing.T) {
	f := newFxDB(t)
	sup := fxUSCC("S", 1)
	f.add(fxRec(fxSupplier(sup, true)))
	type inv struct {
		from, to string
		items    []voucherwatch.Item
		claimed  string // "" claims the settled amount; "-" does not cite it
	}
	bandwidth := fxItem(voucherwatch.ServiceBandwidth, "8000.00")
	cases := []struct {
		name     string
		invoices []inv
		want     []string
		first    int // the invoice the alert names
	}{
		{name: "bandwidthInvoiceClaimed", first: 1, invoices: []inv{
			{from: "2026-03-01", to: "2026-03-31", items: []voucherwatch.Item{fxCompute("100000.00")}},
			{from: "2026-03-01", to: "2026-03-31", items: []voucherwatch.Item{bandwidth}}},
			want: []string{"non_subsidisable_invoice_claimed/high"}},
		{name: "mixedInvoiceClaimedInFull", invoices: []inv{
			{from: "2026-03-01", to: "2026-03-31", items: []voucherwatch.Item{fxCompute("100000.00"), fxItem(voucherwatch.ServiceSecurity, "5000.00")}}},
			want: []string{"mixed_invoice_claimed_in_full/high"}},
		{name: "mixedInvoiceComputePartClaimed", invoices: []inv{
			{from: "2026-03-01", to: "2026-03-31", items: []voucherwatch.Item{fxCompute("100000.00"), fxItem(voucherwatch.ServiceSecurity, "5000.00")}, claimed: "100000.00"}}},
		{name: "databaseSettledNotClaimed", invoices: []inv{
			{from: "2026-03-01", to: "2026-03-31", items: []voucherwatch.Item{fxCompute("100000.00")}},
			{from: "2026-03-01", to: "2026-03-31", items: []voucherwatch.Item{fxItem(voucherwatch.ServiceDatabase, "3000.00")}, claimed: "-"}}},
		{name: "twoBandwidthInvoicesOneAlert", first: 1, invoices: []inv{
			{from: "2026-03-01", to: "2026-04-30", items: []voucherwatch.Item{fxCompute("200000.00")}},
			{from: "2026-03-01", to: "2026-03-31", items: []voucherwatch.Item{bandwidth}},
			{from: "2026-04-01", to: "2026-04-30", items: []voucherwatch.Item{bandwidth}}},
			want: []string{"non_subsidisable_invoice_claimed/high"}},
		{name: "modelServiceAndAdaptationAreSubsidisable", invoices: []inv{
			{from: "2026-03-01", to: "2026-03-31", items: []voucherwatch.Item{fxItem(voucherwatch.ServiceModelService, "60000.00"),
				fxItem(voucherwatch.ServiceDomesticAdaptation, "30000.00"), fxItem(voucherwatch.ServiceComputeService, "20000.00")}}}},
	}
	for i, c := range cases {
		b := fxUSCC("B", i)
		f.add(fxRec(fxBuyer(b)))
		k := fxContract("HT-NS-"+c.name, sup, b, "2026-03-01", "2026-04-30", fxCompute("200000.00"), bandwidth)
		cl := fxClaim("SB-NS-"+c.name, b, "1.00")
		f.add(fxRec(k))
		for j, v := range c.invoices {
			s := fxInvoice(k, "", fmt.Sprintf("26432000%06d%06d", i, j), v.from, v.to, v.items...)
			f.add(fxRec(s))
			switch v.claimed {
			case "-":
				continue
			case "":
				cl.Invoices = append(cl.Invoices, voucherwatch.ClaimInvoice{InvoiceNo: s.InvoiceNo, Amount: s.Amount})
			default:
				cl.Invoices = append(cl.Invoices, voucherwatch.ClaimInvoice{InvoiceNo: s.InvoiceNo, Amount: fxYuan(v.claimed)})
			}
		}
		f.add(fxRec(cl))
	}
	alerts := f.run(NewNonSubsidisableItem(f.env()))
	for i, c := range cases {
		for _, a := range fxWant(t, c.name, alerts, fxUSCC("B", i), c.want...) {
			want := voucherwatch.Subjects{ApplicantUSCC: fxUSCC("B", i), SupplierUSCC: sup, ClaimID: "SB-NS-" + c.name,
				ContractNo: "HT-NS-" + c.name, InvoiceNo: fmt.Sprintf("26432000%06d%06d", i, c.first)}
			if a.Subjects != want || a.PolicyClause != "三 / C1" {
				t.Errorf("%s: got subjects %+v clause %q, want %+v", c.name, a.Subjects, a.PolicyClause, want)
			}
		}
	}
	if a := fxAlertsOn(alerts, fxUSCC("B", 4)); len(a) == 1 {
		if got, want := evFacts(a[0].Evidence)["claimed_not_subsidisable"], "16000.00"; got != want {
			t.Errorf("twoBandwidthInvoicesOneAlert: got claimed_not_subsidisable %v, want %v", got, want)
		}
	}
}
