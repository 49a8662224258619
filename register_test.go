package voucherwatch

import (
	"encoding/json"
	"testing"
	"time"
)

// gappySupplier has one resource that missed 5 of its 48 hourly windows and one complete one,
// a card-hour price of 12.99 against a market of 10 and 20 (median 12.99), and 3 rejected
// of 70 messages.
func gappySupplier() RegisterSupplierInput {
	return RegisterSupplierInput{
		USCC: "91430100MA4L0XXXX1", Name: "湖南算力科技有限公司", Registered: true, RegisteredOn: "2025-09-01",
		Resources: []ResourceReporting{
			{ResourceID: "node-steady", ExpectedHours: 24, ReceivedHours: 24, Windows: 24, OnTime: 2},
			{ResourceID: "node-gappy", ExpectedHours: 48, ReceivedHours: 43, Windows: 43, OnTime: 3},
		},
		StoredRecords: 67, DeadLetters: 3, MeteredCardHours: 288, SoldCardHours: 5760, Buyers: 1,
		ContractAmount: 12800001, Settled: 500000,
		Prices:              []PriceSample{{ChipModel: "Ascend 910B", Unit: UnitCardHour, Price: 1299}},
		ConfirmedViolations: 1,
	}
}

func cheapAndDearSupplier() RegisterSupplierInput {
	return RegisterSupplierInput{USCC: "91430100MA4L0QQQQ3", Name: "对照算力有限公司", Prices: []PriceSample{
		{ChipModel: "Ascend 910B", Unit: UnitCardMonth, Price: 720000}, // 7200 a month = 10 an hour
		{ChipModel: "Ascend 910B", Unit: UnitCardHour, Price: 2000},
	}}
}

var registerParams = RegisterParams{OnTimeHours: 2, CardMonthHours: 720, BandLowFactor: 0.5, BandHighFactor: 2}

func TestComputeRegister(t *testing.T) {
	rows := ComputeRegister(RegisterInputs{Period: "2026-11", Params: registerParams,
		Suppliers: []RegisterSupplierInput{gappySupplier(), cheapAndDearSupplier()}})
	if len(rows) != 2 || rows[0].USCC != "91430100MA4L0QQQQ3" {
		t.Fatalf("got %+v, want two rows by USCC", rows)
	}
	g := rows[1]
	f := func(name string, got *float64, want float64) {
		t.Helper()
		if got == nil || *got != want {
			t.Errorf("%s: got %v, want %v", name, got, want)
		}
	}
	// 43 of 48 and 24 of 24: 67 of 72 hourly windows.
	f("completeness", g.Completeness, 0.9306)
	f("on time", g.OnTime, 0.0746)         // 5 of 67
	f("reject rate", g.RejectRate, 0.0429) // 3 / (67 + 3)
	f("utilisation", g.Utilisation, 0.05)
	f("price ratio", g.PriceRatio, 1)
	if g.Settled != "5000.00" || g.ContractAmount != "128000.01" || g.ConfirmedViolations != 1 {
		t.Errorf("business: got %q %q %d", g.Settled, g.ContractAmount, g.ConfirmedViolations)
	}
	want := ChipPrice{ChipModel: "Ascend 910B", Median: 12.99, MarketMedian: 12.99, BandLow: 6.495, BandHigh: 25.98, Ratio: 1, Position: BandWithin, Samples: 1}
	if len(g.Prices) != 1 || g.Prices[0] != want {
		t.Errorf("prices: got %+v, want %+v", g.Prices, want)
	}
	q := rows[0]
	if q.Completeness != nil || q.OnTime != nil || q.RejectRate != nil || q.Utilisation != nil {
		t.Errorf("no telemetry: got %+v, want unknown ratios (nil), not zero", q)
	}
	f("quiet price ratio", q.PriceRatio, 1.1547) // median(10, 20) = 15 against the market's 12.99
}

// TestCompletenessOfOneGappyResource: a resource missing 5 of 48 hourly windows is 43/48
// complete.
func TestCompletenessOfOneGappyResource(t *testing.T) {
	s := RegisterSupplierInput{USCC: "91430100MA4L0XXXX1", Resources: []ResourceReporting{{ResourceID: "n", ExpectedHours: 48, ReceivedHours: 43}}}
	rows := ComputeRegister(RegisterInputs{Suppliers: []RegisterSupplierInput{s}})
	if c := rows[0].Completeness; c == nil || *c != 0.8958 {
		t.Errorf("got %v, want 43/48 = 0.8958", c)
	}
}

func TestRegisterDigestFollowsTheFactsNotTheirOrder(t *testing.T) {
	a := RegisterInputs{Period: "2026-11", Params: registerParams, Suppliers: []RegisterSupplierInput{gappySupplier(), cheapAndDearSupplier()}}
	b := RegisterInputs{Period: "2026-11", Params: registerParams, Suppliers: []RegisterSupplierInput{cheapAndDearSupplier(), gappySupplier()}}
	slicesReverse := func(r []ResourceReporting) { r[0], r[1] = r[1], r[0] }
	slicesReverse(b.Suppliers[1].Resources)
	if a.Digest() != b.Digest() {
		t.Errorf("same facts in another order: digests differ")
	}
	// Recorded and read back (JSON), the inputs give the same digest and rows.
	raw, _ := json.Marshal(a.Canonical())
	var back RegisterInputs
	if err := json.Unmarshal(raw, &back); err != nil {
		t.Fatal(err)
	}
	if back.Digest() != a.Digest() {
		t.Errorf("read back: digest differs")
	}
	r1, _ := json.Marshal(ComputeRegister(a))
	r2, _ := json.Marshal(ComputeRegister(back))
	if string(r1) != string(r2) {
		t.Errorf("read back: rows differ:\n%s\n%s", r1, r2)
	}
	c := b
	c.Suppliers = append([]RegisterSupplierInput(nil), b.Suppliers...)
	c.Suppliers[0].DeadLetters++
	if c.Digest() == a.Digest() {
		t.Errorf("one more dead letter: digest unchanged")
	}
}

func TestRegisterPeriods(t *testing.T) {
	at := time.Date(2026, 12, 1, 4, 0, 0, 0, CST)
	if p := PreviousPeriod(at); p != "2026-11" {
		t.Errorf("previous period of %v: got %s", at, p)
	}
	if p := PreviousPeriod(time.Date(2026, 1, 1, 0, 30, 0, 0, CST)); p != "2025-12" {
		t.Errorf("previous period of January: got %s", p)
	}
	from, to := RegisterPeriod("2026-11").Bounds()
	if !from.Equal(time.Date(2026, 11, 1, 0, 0, 0, 0, CST)) || !to.Equal(time.Date(2026, 12, 1, 0, 0, 0, 0, CST)) {
		t.Errorf("bounds: got %v %v", from, to)
	}
	for _, bad := range []string{"2026-13", "2026-1", "202611", ""} {
		if _, err := ParseRegisterPeriod(bad); ErrorCode(err) != EINVALID {
			t.Errorf("%q: got %v, want EINVALID", bad, err)
		}
	}
}

// TestRegisterDigestOfRecordedEditions pins the digest's format: editions recorded before
// stay verifiable only while the same inputs give the same digest.
func TestRegisterDigestOfRecordedEditions(t *testing.T) {
	in := RegisterInputs{Period: "2026-11", Params: registerParams, Suppliers: []RegisterSupplierInput{gappySupplier(), cheapAndDearSupplier()}}
	if got, want := in.Digest(), "f35e07445f6eabc4545e0cb42509a353630472cc1e88f030af371802fde07e88"; got != want {
		t.Errorf("got %s, want %s", got, want)
	}
}
