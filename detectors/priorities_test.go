package detectors

import (
	"context"
	"encoding/json"
	"slices"
	"sort"
	"testing"

	"github.com/voucherwatch/voucherwatch"
	"github.com/voucherwatch/voucherwatch/detectors/detectortest"
	"github.com/voucherwatch/voucherwatch/rules"
	"github.com/voucherwatch/voucherwatch/synth"
)

// TestPrioritiesOnDemoProvince stores the demo province's alerts as the engine does (the
// runner with the staker) and checks the inbox's default order and a backtest over them.
func TestPrioritiesOnDemoProvince(t *testing.T) {
	p := synth.Generate(synth.DefaultConfig(synth.DemoSeed))
	db := detectortest.NewDB(t)
	detectortest.Load(t, db, p.Messages)
	env := Env{DB: db, Policy: rules.Default()}
	ctx := context.Background()
	at := p.Config.End
	r := NewRunner(db, nil, nil)
	r.Stake = NewStaker(env).Annotate
	r.Register(All(env)...)
	for _, s := range r.RunAll(ctx, at) {
		if s.Error != "" {
			t.Fatalf("%s: %s", s.Detector, s.Error)
		}
	}

	// The inbox's first page by default order holds the high alerts with the most money at
	// stake: all of them first when the page has room, the five largest in any case.
	t.Run("InboxFirstPage", func(t *testing.T) {
		const pageSize = 50 // supervision's inboxPageSize
		all, _, err := db.Alerts(ctx, voucherwatch.AlertFilter{Limit: 1000})
		if err != nil {
			t.Fatal(err)
		}
		var high []voucherwatch.Alert
		for _, a := range all {
			if a.Severity == voucherwatch.SeverityHigh {
				high = append(high, a)
			}
		}
		sort.SliceStable(high, func(i, j int) bool { return high[i].AtStake > high[j].AtStake })
		first, _, err := db.Alerts(ctx, voucherwatch.AlertFilter{Sort: voucherwatch.SortRisk, Limit: pageSize})
		if err != nil {
			t.Fatal(err)
		}
		onPage := map[string]bool{}
		for i, a := range first {
			onPage[a.ID] = true
			if i < min(len(high), pageSize) && a.Severity != voucherwatch.SeverityHigh {
				t.Errorf("position %d: got a %s alert (%s, %s at stake) before every high one", i, a.Severity, a.Detector, a.AtStake)
			}
		}
		for _, a := range high[:min(5, len(high))] {
			if !onPage[a.ID] {
				t.Errorf("high alert %s (%s, %s at stake) is not on the first page", a.ID, a.Detector, a.AtStake)
			}
		}
		if len(high) == 0 || high[0].AtStake == 0 {
			t.Fatalf("got %d high alerts, the largest with %v at stake: nothing to order", len(high), high)
		}
		t.Logf("%d alerts, %d high; the first page's first: %s %s (%s at stake, risk %.2f)", len(all), len(high),
			first[0].Severity, first[0].Detector, first[0].AtStake, first[0].Risk)
	})

	// A backtest raising the annual threshold from 50,000 to 100,000 yuan reports as newly
	// below exactly the applicants whose settled 12-month total lies between the two, and
	// leaves the live alerts as they were.
	t.Run("BacktestAnnualThreshold", func(t *testing.T) {
		live := func() string {
			t.Helper()
			all, _, err := db.Alerts(ctx, voucherwatch.AlertFilter{Limit: 1000})
			if err != nil {
				t.Fatal(err)
			}
			b, err := json.Marshal(all)
			if err != nil {
				t.Fatal(err)
			}
			return string(b)
		}
		before := live()
		changed := env.Policy
		changed.MinAnnualPurchase.Money = 100_000_00
		diff, err := Backtest(ctx, env, changed, at)
		if err != nil {
			t.Fatal(err)
		}
		if after := live(); after != before {
			t.Errorf("the live alerts changed during the backtest")
		}

		years, err := db.ClaimYearPurchases(ctx, env.Policy.SubsidisableServices, voucherwatch.Money(1)<<50)
		if err != nil {
			t.Fatal(err)
		}
		wantSet := map[string]bool{}
		for _, y := range years {
			if y.Compute >= 50_000_00 && y.Compute < 100_000_00 {
				wantSet[y.ApplicantUSCC] = true
			}
		}
		gotSet := map[string]bool{}
		for _, a := range diff.Appeared {
			if a.Detector == "annual_purchase" {
				gotSet[a.ApplicantUSCC] = true
			}
		}
		for _, a := range diff.Disappeared {
			if a.Detector == "annual_purchase" {
				t.Errorf("annual_purchase alert %s on %s disappeared when the threshold rose", a.ID, a.ApplicantUSCC)
			}
		}
		got, want := ruleSortedKeys(gotSet), ruleSortedKeys(wantSet)
		if !slices.Equal(got, want) {
			t.Errorf("newly below: got %v, want %v", got, want)
		}
		if len(want) == 0 {
			t.Fatalf("no applicant of the demo province settled between 50,000 and 100,000 yuan: nothing to test")
		}
		var province voucherwatch.BacktestSubsidy
		for _, s := range diff.Subsidy {
			if s.City == "" {
				province = s
			}
		}
		if province.Claims == 0 || province.After >= province.Before || province.AssessedAfter != province.AssessedBefore {
			t.Errorf("got province subsidy %+v, want less payable when applicants fall below the threshold, the same assessed", province)
		}
		if len(diff.Failed) > 0 {
			t.Errorf("got failed detectors %v", diff.Failed)
		}
		t.Logf("%d applicants newly below 100,000 yuan; %d alerts appear, %d disappear; payable %s → %s",
			len(got), len(diff.Appeared), len(diff.Disappeared), voucherwatch.Money(province.Before), voucherwatch.Money(province.After))
	})
}
