package rules

import (
	"bytes"
	"testing"
	"time"

	"github.com/voucherwatch/voucherwatch"
)

func date(s string) time.Time {
	t, err := time.ParseInLocation(time.DateOnly, s, voucherwatch.CST)
	if err != nil {
		panic(err)
	}
	return t
}

func TestDefaultPolicyHasThePolicyNumbers(t *testing.T) {
	p := Default()
	if p.SubsidyRatePercent != 30 || p.CapPerEnterprise.Money != 1_000_000_000 || p.MinAnnualPurchase.Money != 5_000_000 || p.FilingDays != 30 {
		t.Fatalf("got rate %d cap %v min %v filing %d, want 30, 10000000.00, 50000.00, 30",
			p.SubsidyRatePercent, p.CapPerEnterprise, p.MinAnnualPurchase, p.FilingDays)
	}
	if got := p.WindowStart.Format(time.DateOnly) + ".." + p.WindowEnd.Format(time.DateOnly); got != "2025-10-27..2028-10-26" {
		t.Fatalf("got window %s, want 2025-10-27..2028-10-26", got)
	}
	for _, s := range []string{"bandwidth", "security", "database"} {
		if p.Subsidisable(s) {
			t.Errorf("got %s subsidisable, want not", s)
		}
	}
	if !p.Subsidisable("domestic_adaptation") {
		t.Errorf("got domestic_adaptation not subsidisable, want subsidisable")
	}
}

func TestInWindowProRataByDays(t *testing.T) {
	p := Default()
	f := func(name string, amount voucherwatch.Money, start, end string, want voucherwatch.Money, wantInside int) {
		t.Helper()
		got, inside, _ := p.InWindow(amount, date(start), date(end))
		if got != want || inside != wantInside {
			t.Errorf("%s: got %v (%d days inside), want %v (%d days)", name, got, inside, want, wantInside)
		}
	}
	f("wholly inside", 3_000_000, "2026-01-01", "2026-01-31", 3_000_000, 31)
	// 2025-10-18..2025-10-31 is 14 days, of which 10-27..10-31 (5) are inside.
	f("crosses the start", 1_400_000, "2025-10-18", "2025-10-31", 500_000, 5)
	// 2028-10-20..2028-10-29: 10 days, 10-20..10-26 (7) inside.
	f("crosses the end", 1_000_000, "2028-10-20", "2028-10-29", 700_000, 7)
	f("wholly before", 1_000_000, "2025-01-01", "2025-01-31", 0, 0)
	f("first day of the window", 100, "2025-10-27", "2025-10-27", 100, 1)
}

func TestMaxSubsidyRateAndCap(t *testing.T) {
	p := Default()
	f := func(eligible, want voucherwatch.Money) {
		t.Helper()
		if got := p.MaxSubsidy(eligible); got != want {
			t.Errorf("MaxSubsidy(%v): got %v, want %v", eligible, got, want)
		}
	}
	f(68_157_435, 20_447_230)        // 681574.35 yuan → 204472.30 (rounded down to the fen)
	f(10_000_000_000, 1_000_000_000) // 100 M yuan → capped at 10 M
	f(3_333_333_334, 1_000_000_000)  // 30 % is 10,000,000.00 exactly: the cap
	f(0, 0)
}

func TestPerCardHour(t *testing.T) {
	p := Default()
	if got, unit := p.PerCardHour(7200, voucherwatch.UnitCardMonth); got != 10 || unit != voucherwatch.UnitCardHour {
		t.Errorf("got %v %s, want 10 card_hour", got, unit)
	}
	if got, unit := p.PerCardHour(12, voucherwatch.UnitTokenMillion); got != 12 || unit != voucherwatch.UnitTokenMillion {
		t.Errorf("got %v %s, want 12 token_million", got, unit)
	}
}

func TestParseRejectsBadPolicy(t *testing.T) {
	for _, tc := range []struct{ name, json string }{
		{"no version", `{"window_start":"2025-10-27","window_end":"2028-10-26","subsidy_rate_percent":30,"card_month_hours":720}`},
		{"reversed window", `{"version":"x","window_start":"2028-10-27","window_end":"2025-10-26","subsidy_rate_percent":30,"card_month_hours":720}`},
		{"rate 0", `{"version":"x","window_start":"2025-10-27","window_end":"2028-10-26","subsidy_rate_percent":0,"card_month_hours":720}`},
		{"money as number", `{"version":"x","window_start":"2025-10-27","window_end":"2028-10-26","subsidy_rate_percent":30,"card_month_hours":720,"cap_per_enterprise":10000000}`},
	} {
		if _, err := Parse([]byte(tc.json)); err == nil {
			t.Errorf("%s: got no error, want one", tc.name)
		}
	}
}

func TestPolicyNeedsBudget(t *testing.T) {
	for _, c := range []struct {
		budget string
		ok     bool
	}{{`"500000000.00"`, true}, {`"0.00"`, false}, {`"-1.00"`, false}} {
		b := bytes.Replace(defaultPolicy, []byte(`"annual_budget": "500000000.00"`), []byte(`"annual_budget": `+c.budget), 1)
		_, err := Parse(b)
		if (err == nil) != c.ok {
			t.Errorf("annual_budget %s: got %v, want ok=%v", c.budget, err, c.ok)
		}
	}
	if got := Default().AnnualBudget.String(); got != "500000000.00" {
		t.Errorf("default budget %s", got)
	}
}

func TestRoundingTolerance(t *testing.T) {
	withTolerance := func(field string) []byte {
		return bytes.Replace(defaultPolicy, []byte(`  "rounding_tolerance_per_invoice": "0.01",`+"\n"), []byte(field), 1)
	}
	f := func(name string, b []byte, invoices int, want voucherwatch.Money, wantErr bool) {
		t.Helper()
		p, err := Parse(b)
		if (err != nil) != wantErr {
			t.Fatalf("%s: got error %v, want error %v", name, err, wantErr)
		}
		if err == nil && p.RoundingTolerance(invoices) != want {
			t.Errorf("%s: got tolerance %v over %d invoices, want %v", name, p.RoundingTolerance(invoices), invoices, want)
		}
	}
	f("default, one invoice", defaultPolicy, 1, 1, false)
	f("default, seven invoices", defaultPolicy, 7, 7, false)
	f("default, no invoice counts as one", defaultPolicy, 0, 1, false)
	f("missing from an older policy file", withTolerance(""), 3, 3, false)
	f("to the fen", withTolerance(`  "rounding_tolerance_per_invoice": "0.00",`+"\n"), 3, 0, false)
	f("negative", withTolerance(`  "rounding_tolerance_per_invoice": "-0.01",`+"\n"), 1, 0, true)
	f("more than a yuan", withTolerance(`  "rounding_tolerance_per_invoice": "5.00",`+"\n"), 1, 0, true)
}
