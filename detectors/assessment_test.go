package detectors

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/voucherwatch/voucherwatch"
)

func TestAssess(t *testing.T) {
	f := newFxDB(t)
	b, other, sup, unreg := fxUSCC("B", 1), fxUSCC("O", 1), fxUSCC("S", 1), fxUSCC("S", 2)
	f.add(fxRec(fxBuyer(b)), fxRec(fxBuyer(other)), fxRec(fxSupplier(sup, true)), fxRec(fxSupplier(unreg, false)))
	k := fxContract("HT-AS-1", sup, b, "2025-10-01", "2026-03-31", fxCompute("400000.00"))
	ko := fxContract("HT-AS-2", sup, other, "2026-01-01", "2026-01-31", fxCompute("40000.00"))
	ku := fxContract("HT-AS-3", unreg, b, "2026-01-01", "2026-01-31", fxCompute("25000.00"))
	serviceCrossesWindowStart := fxInvoice(k, "", "26432000000000000001", "2025-10-01", "2025-10-31", fxCompute("100000.00"))
	mixedInvoice := fxInvoice(k, "", "26432000000000000002", "2025-11-01", "2025-11-30", fxCompute("50000.00"), fxItem(voucherwatch.ServiceBandwidth, "3000.00"))
	claimedBelowSettled := fxInvoice(k, "043002512345", "00000007", "2025-12-01", "2025-12-31", fxCompute("30000.00"))
	anotherBuyers := fxInvoice(ko, "", "26432000000000000004", "2026-01-01", "2026-01-31", fxCompute("40000.00"))
	unregistered := fxInvoice(ku, "", "26432000000000000005", "2026-01-01", "2026-01-31", fxCompute("25000.00"))
	f.add(fxRec(k), fxRec(ko), fxRec(ku), fxRec(serviceCrossesWindowStart), fxRec(mixedInvoice), fxRec(claimedBelowSettled),
		fxRec(anotherBuyers), fxRec(unregistered))
	cl := fxClaim("SB-AS-1", b, "40000.00", serviceCrossesWindowStart, mixedInvoice)
	cl.Invoices = append(cl.Invoices,
		voucherwatch.ClaimInvoice{InvoiceCode: "043002512345", InvoiceNo: "00000007", Amount: fxYuan("20000.00")},
		voucherwatch.ClaimInvoice{InvoiceNo: "26432000000000000003", Amount: fxYuan("10000.00")}, // never settled
		voucherwatch.ClaimInvoice{InvoiceNo: anotherBuyers.InvoiceNo, Amount: anotherBuyers.Amount},
		voucherwatch.ClaimInvoice{InvoiceNo: unregistered.InvoiceNo, Amount: unregistered.Amount},
		voucherwatch.ClaimInvoice{InvoiceNo: mixedInvoice.InvoiceNo, Amount: mixedInvoice.Amount}, // cited again
	)
	big := fxContract("HT-AS-4", sup, other, "2026-01-01", "2026-06-30", fxCompute("40000000.00"))
	bigInvoice := fxInvoice(big, "", "26432000000000000009", "2026-01-01", "2026-06-30", fxCompute("40000000.00"))
	f.add(fxRec(cl), fxRec(big), fxRec(bigInvoice), fxRec(fxClaim("SB-AS-2", other, "10000000.00", bigInvoice)))
	f.store()

	a, err := Assess(context.Background(), f.env(), "SB-AS-1")
	if err != nil {
		t.Fatal(err)
	}
	type inv struct {
		settled, registered, buyerIsApplicant, repeated bool
		eligible, subsidisable, inWindow                voucherwatch.Money
		days, inside                                    int
		reason                                          string // a reason mentions this
	}
	want := []inv{
		// 100,000.00 for 31 days, 5 of them from 2025-10-27: 10,000,000 fen × 5 / 31 = 1,612,903.2 fen.
		{settled: true, registered: true, buyerIsApplicant: true, eligible: 1612903, subsidisable: 10000000, inWindow: 1612903, days: 31, inside: 5, reason: "三 / W"},
		{settled: true, registered: true, buyerIsApplicant: true, eligible: 5000000, subsidisable: 5000000, inWindow: 5000000, days: 30, inside: 30, reason: "三 / C1"},
		{settled: true, registered: true, buyerIsApplicant: true, eligible: 2000000, subsidisable: 3000000, inWindow: 3000000, days: 31, inside: 31, reason: "以申报金额为限"},
		{reason: "四.4 / P4"},
		{settled: true, registered: true, eligible: 0, subsidisable: 4000000, inWindow: 4000000, days: 31, inside: 31, reason: "不是申请企业"},
		{settled: true, buyerIsApplicant: true, eligible: 0, subsidisable: 2500000, inWindow: 2500000, days: 31, inside: 31, reason: "M1a"},
		{settled: true, registered: true, buyerIsApplicant: true, repeated: true, subsidisable: 5000000, inWindow: 5000000, days: 30, inside: 30, reason: "重复"},
	}
	if len(a.Invoices) != len(want) {
		t.Fatalf("got %d invoices, want %d", len(a.Invoices), len(want))
	}
	for i, w := range want {
		g := a.Invoices[i]
		got := inv{g.Settled, g.SupplierRegistered, g.BuyerIsApplicant, g.Repeated, g.EligibleFen, g.SubsidisableFen, g.InWindowFen, g.PeriodDays, g.DaysInWindow, w.reason}
		if got != w {
			t.Errorf("invoice %d (%s): got %+v, want %+v", i, g.InvoiceNo, got, w)
		}
		if !strings.Contains(strings.Join(g.Reasons, "；"), w.reason) {
			t.Errorf("invoice %d (%s): got reasons %q, want one naming %q", i, g.InvoiceNo, g.Reasons, w.reason)
		}
	}
	if got := a.Invoices[5].SupplierStatus; got != "not_registered" {
		t.Errorf("unregistered supplier: got status %q", got)
	}
	if got := a.Invoices[1].Items; len(got) != 2 || !got[0].Subsidisable || got[1].Subsidisable || got[1].ServiceTypeName != "独立网络带宽" {
		t.Errorf("mixed invoice: got items %+v", got)
	}
	wantTotals := voucherwatch.AssessmentTotals{
		ClaimedFen: 30100000, UsageAmountFen: 15300000, SettledFen: 24800000,
		EligibleFen: 8612903, RatePercent: 30, RateOfEligible: 2583870, CapFen: 1000000000, MaxSubsidyFen: 2583870,
		RequestedFen: 4000000, OverByFen: 1416130, ToleranceFen: 6, InvoicesCited: 7, // 6 distinct invoices × 0.01
		InvoicesSettled: 5, InvoicesEligible: 3,
	}
	if a.Totals != wantTotals {
		t.Errorf("got totals %+v, want %+v", a.Totals, wantTotals)
	}
	if a.ApplicantUSCC != b || a.City != "430100" || a.WindowStart != "2025-10-27" || a.WindowEnd != "2028-10-26" || a.SubmittedOn != "2026-10-20" {
		t.Errorf("got header %+v", a)
	}

	// The cap: 30 % of 40,000,000.00 is 12,000,000.00, above the cap of 10,000,000.00.
	capped, err := Assess(context.Background(), f.env(), "SB-AS-2")
	if err != nil {
		t.Fatal(err)
	}
	if got := capped.Totals; got.RateOfEligible != 1200000000 || got.MaxSubsidyFen != 1000000000 || got.OverByFen != 0 {
		t.Errorf("capped claim: got totals %+v", got)
	}

	raw, err := json.Marshal(a)
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	totals, _ := doc["totals"].(map[string]any)
	for _, k := range []string{"settled_fen", "eligible_fen", "rate_of_eligible_fen", "cap_fen", "max_subsidy_fen", "requested_fen", "over_by_fen"} {
		if _, ok := totals[k]; !ok {
			t.Errorf("JSON totals lack %q: %s", k, raw)
		}
	}
	first := doc["invoices"].([]any)[0].(map[string]any)
	for _, k := range []string{"invoice_code", "invoice_no", "claimed_fen", "settled", "settled_fen", "supplier_registered", "items",
		"period_start", "period_end", "days_in_window", "eligible_fen", "reasons"} {
		if _, ok := first[k]; !ok {
			t.Errorf("JSON invoice lacks %q: %v", k, first)
		}
	}
	if got := first["eligible_fen"]; got != 1612903.0 {
		t.Errorf("JSON eligible_fen: got %v, want 1612903", got)
	}

	_, err = Assess(context.Background(), f.env(), "SB-NONE")
	if code := voucherwatch.ErrorCode(err); code != voucherwatch.ENOTFOUND {
		t.Errorf("unknown claim: got error %v (code %q), want %s", err, code, voucherwatch.ENOTFOUND)
	}
}
