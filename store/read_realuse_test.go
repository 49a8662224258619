package store

import (
	"testing"
	"time"

	"github.com/voucherwatch/voucherwatch"
)

// TestRealUseReadsLatestVersions: a settlement corrected to another buyer leaves its first
// buyer's deals (by buyer, through lookup_keys) and moves the paid period; a buyer whose code
// another buyer's starts with is not taken for it; usage copies under two ids count once in the
// activity windows.
func TestRealUseReadsLatestVersions(t *testing.T) {
	db := newTestDB(t)
	ctx := testContext(t)
	other := buyerUSCC + "9" // starts with buyerUSCC: a prefix match must not take it
	first := fullyDigitalInvoice()
	moved := fullyDigitalInvoice()
	moved.ID, moved.Time = "settlement-1b", first.Time.Add(time.Hour)
	s := *moved.Settlement
	s.BuyerUSCC, s.PeriodStart, s.PeriodEnd = other, date(2026, 1, 1), date(2026, 1, 31)
	moved.Settlement = &s
	stay := fullyDigitalInvoice()
	stay.ID = "settlement-2"
	s2 := *stay.Settlement
	s2.InvoiceNo, s2.SettlementID = "26432000000012345679", "JS-2"
	stay.Settlement = &s2
	for _, r := range []voucherwatch.Record{first, stay} {
		if _, err := db.StoreRecords(ctx, voucherwatch.TypeSettlement, []voucherwatch.Record{r}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := db.StoreRecords(ctx, voucherwatch.TypeSettlement, []voucherwatch.Record{moved}); err != nil {
		t.Fatal(err)
	}
	f := func(q voucherwatch.TradeQuery, want map[string]int) {
		t.Helper()
		got, err := db.ContractTrades(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		m := map[string]int{}
		for _, tr := range got {
			m[tr.BuyerUSCC] = tr.Invoices
		}
		if len(m) != len(want) {
			t.Errorf("ContractTrades(%+v): got %v, want %v", q, m, want)
		}
		for k, v := range want {
			if m[k] != v {
				t.Errorf("ContractTrades(%+v): got %v, want %v", q, m, want)
			}
		}
	}
	f(voucherwatch.TradeQuery{Buyers: []string{buyerUSCC}}, map[string]int{buyerUSCC: 1})
	f(voucherwatch.TradeQuery{Buyers: []string{other}}, map[string]int{other: 1})
	f(voucherwatch.TradeQuery{}, map[string]int{})
	f(voucherwatch.TradeQuery{Circular: true}, map[string]int{}) // nobody both buys and sells

	// Metering of the contract for January, idle; the same windows again under other ids.
	var usage []voucherwatch.Record
	for _, src := range []string{"a", "b"} {
		for d := 1; d <= 31; d++ {
			r := envelope(voucherwatch.TypeUsage, supplierUSCC, src+"-"+time.Date(2026, 1, d, 0, 0, 0, 0, time.UTC).Format("0102"))
			r.Usage = &voucherwatch.Usage{SupplierUSCC: supplierUSCC, BuyerUSCC: other, ContractNo: "HT-2026-001", ResourceID: "R1",
				ChipModel: "Ascend 910B", Cards: 8, WindowStart: date(2026, 1, d), WindowEnd: date(2026, 1, d+1),
				CardHours: 192, UtilAvg: 0.01, Jobs: map[bool]int{true: 2, false: 0}[d <= 3], Users: 0}
			usage = append(usage, r)
		}
	}
	if _, err := db.StoreRecords(ctx, voucherwatch.TypeUsage, usage); err != nil {
		t.Fatal(err)
	}
	pp, err := db.PaidPeriodUsages(ctx, 0.05, 1)
	if err != nil {
		t.Fatal(err)
	}
	if len(pp) != 1 || pp[0].BuyerUSCC != other || !pp[0].PaidFrom.Equal(date(2026, 1, 1)) || pp[0].MeteredDays != 31 || pp[0].IdleDays != 31 {
		t.Errorf("PaidPeriodUsages: got %+v, want the moved settlement's buyer, from 2026-01-01, 31 metered and idle days", pp)
	}
	acts, err := db.UsageActivities(ctx, voucherwatch.ContractQuery{Contracts: [][2]string{{supplierUSCC, "HT-2026-001"}}})
	if err != nil {
		t.Fatal(err)
	}
	if len(acts) != 3 || acts[0].Jobs != 2 {
		t.Errorf("UsageActivities: got %+v, want the first three days once each, 2 jobs", acts)
	}
	days, err := db.ContractUsageDays(ctx, voucherwatch.ContractQuery{Contracts: [][2]string{{supplierUSCC, "HT-2026-001"}}})
	if err != nil {
		t.Fatal(err)
	}
	if len(days) != 31 || days[0].Windows != 2 {
		t.Errorf("ContractUsageDays: got %d days (first %+v), want 31 with both copies' windows (the rollup sums)", len(days), days)
	}
}
