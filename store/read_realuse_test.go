package store

import (
	"fmt"
	"math"
	"reflect"
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

// TestContractUsageDaysOfAPeriod: the daily metering of a period is the whole history's,
// those days only, a window that started before the period included (its share of each day);
// a contract of another supplier with the same number is not taken.
func TestContractUsageDaysOfAPeriod(t *testing.T) {
	db := newTestDB(t)
	ctx := testContext(t)
	var usage []voucherwatch.Record
	add := func(id, supplier string, start time.Time, d time.Duration, cardHours float64) {
		r := envelope(voucherwatch.TypeUsage, supplier, id)
		r.Usage = &voucherwatch.Usage{SupplierUSCC: supplier, BuyerUSCC: buyerUSCC, ContractNo: "HT-2026-002", ResourceID: "R1",
			ChipModel: "Ascend 910B", Cards: 8, WindowStart: start, WindowEnd: start.Add(d), CardHours: cardHours, UtilAvg: 0.5}
		usage = append(usage, r)
	}
	for d := 1; d <= 31; d++ {
		add(fmt.Sprintf("hourly-%02d", d), supplierUSCC, date(2026, 1, d).Add(9*time.Hour), time.Hour, 8)
	}
	// A ten-day window from 2 January 12:00, and one of 31 days ending in the period.
	add("ten-days", supplierUSCC, date(2026, 1, 2).Add(12*time.Hour), 10*24*time.Hour, 1920)
	add("month", supplierUSCC, date(2025, 12, 12), voucherwatch.MaxUsageWindow, 5952)
	add("look-alike", buyerUSCC, date(2026, 1, 12), time.Hour, 8) // same number, another supplier
	if _, err := db.StoreRecords(ctx, voucherwatch.TypeUsage, usage); err != nil {
		t.Fatal(err)
	}
	contract := [][2]string{{supplierUSCC, "HT-2026-002"}}
	all, err := db.ContractUsageDays(ctx, voucherwatch.ContractQuery{Contracts: contract})
	if err != nil {
		t.Fatal(err)
	}
	from, to := date(2026, 1, 10), date(2026, 1, 20)
	var want []voucherwatch.ContractUsageDay
	for _, d := range all {
		if d.SupplierUSCC != supplierUSCC {
			t.Errorf("ContractUsageDays: got %+v, want only %s's contract", d, supplierUSCC)
		}
		if !d.Day.Before(from) && !d.Day.After(to) {
			want = append(want, d)
		}
	}
	got, err := db.ContractUsageDays(ctx, voucherwatch.ContractQuery{Contracts: contract, From: from, To: to})
	if err != nil {
		t.Fatal(err)
	}
	if len(want) != 11 || !reflect.DeepEqual(got, want) {
		t.Errorf("ContractUsageDays from %v to %v:\n got %+v\nwant %+v (11 days)", from, to, got, want)
	}
	// 10 January: the hourly window, 24 of the ten-day window's card-hours and 192 of the month's.
	if len(got) > 0 && math.Abs(got[0].CardHours-(8+192+192)) > 1e-6 {
		t.Errorf("10 January: got %.3f card-hours, want 392 (hourly 8, ten-day 192, month 192)", got[0].CardHours)
	}
}
