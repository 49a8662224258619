package detectors

import (
	"fmt"
	"testing"

	"github.com/voucherwatch/voucherwatch"
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
