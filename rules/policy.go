// Package rules holds the policy's numbers (one versioned configuration file with the
// defaults of 湘工信信息软件〔2026〕168号) and the subsidy arithmetic built on them.
package rules

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"os"
	"slices"
	"time"

	"github.com/voucherwatch/voucherwatch"
)

//go:embed policy.json
var defaultPolicy []byte

// Date is a calendar date in China Standard Time, written YYYY-MM-DD.
type Date struct{ time.Time }

// UnmarshalJSON parses "YYYY-MM-DD" in CST.
func (d *Date) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return err
	}
	t, err := time.ParseInLocation(time.DateOnly, s, voucherwatch.CST)
	if err != nil {
		return err
	}
	d.Time = t
	return nil
}

// MarshalJSON writes "YYYY-MM-DD".
func (d Date) MarshalJSON() ([]byte, error) { return json.Marshal(d.Format(time.DateOnly)) }

// Money reads and writes yuan as the wire's decimal strings.
type Money struct{ voucherwatch.Money }

// UnmarshalJSON parses "10000000.00".
func (m *Money) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("money must be a decimal string: %w", err)
	}
	v, ok := voucherwatch.ParseMoney(s)
	if !ok {
		return fmt.Errorf("bad money %q", s)
	}
	m.Money = v
	return nil
}

// MarshalJSON writes "10000000.00".
func (m Money) MarshalJSON() ([]byte, error) { return json.Marshal(m.String()) }

// ReferencePrice is an operator's market price for a chip and unit; it takes precedence over
// the band estimated from the data.
type ReferencePrice struct {
	ChipModel string  `json:"chip_model"`
	Unit      string  `json:"unit"` // card_hour or token_million; card_month prices are normalised
	Low       float64 `json:"low"`  // yuan per unit
	High      float64 `json:"high"`
}

// PriceRules tune price_out_of_range.
type PriceRules struct {
	MinSample  int              `json:"min_sample"`  // prices needed to estimate a chip's own band
	HighFactor float64          `json:"high_factor"` // flag above median × HighFactor …
	LowFactor  float64          `json:"low_factor"`  // … or below median × LowFactor
	MADk       float64          `json:"mad_k"`       // … and beyond k robust deviations on log price
	Reference  []ReferencePrice `json:"reference"`
}

// BillingRules tune the billed-versus-metered check (P4).
type BillingRules struct {
	BilledOverMeteredRatio float64 `json:"billed_over_metered_ratio"`
	MinGapCardHours        float64 `json:"min_gap_card_hours"`
}

// RealUseRules tune the checks of real use (真实使用): idle_consumption and wash_trade.
type RealUseRules struct {
	// IdleUtilisation: a metered day whose card-hour-weighted utilisation is below it, and
	// whose windows ran no jobs and had no users, is idle.
	IdleUtilisation float64 `json:"idle_utilisation"`
	// IdleShare: a claimed contract is reported when its idle days are at least this share
	// of the metered days of its paid period (medium), IdleShareHigh and above high.
	IdleShare     float64 `json:"idle_share"`
	IdleShareHigh float64 `json:"idle_share_high"`
	// MinPaidDays is how many metered days of its paid period a contract needs before it is
	// judged: a contract early in its term is not.
	MinPaidDays int `json:"min_paid_days"`
	// WashAmountRatio: the deals of a cycle of trade are similar in amount when the
	// smallest settled is at least this share of the largest.
	WashAmountRatio float64 `json:"wash_amount_ratio"`
	// WashPaybackDays: the deals' first payments lie within this many days of each other.
	WashPaybackDays int `json:"wash_payback_days"`
}

// RelatedPartyRules tune related_party.
type RelatedPartyRules struct {
	IntegratedOwnershipThreshold float64 `json:"integrated_ownership_threshold"`
	ControlThreshold             float64 `json:"control_threshold"`
}

// Policy is the whole configuration.
type Policy struct {
	Version            string `json:"version"`
	Source             string `json:"source"`
	WindowStart        Date   `json:"window_start"`
	WindowEnd          Date   `json:"window_end"`
	SubsidyRatePercent int64  `json:"subsidy_rate_percent"`
	CapPerEnterprise   Money  `json:"cap_per_enterprise"`
	// AnnualBudget is the year's subsidy budget (年度预算额度, 实施细则 5). The policy text
	// fixes no figure: the provincial finance department sets it each year, so the shipped
	// 500,000,000 is a placeholder the department replaces in its policy file. The subsidy
	// dashboard restates it as its budget constant.
	AnnualBudget      Money `json:"annual_budget"`
	MinAnnualPurchase Money `json:"min_annual_purchase"`
	// RoundingTolerancePerInvoice is how far an amount an applicant computed may lie above
	// the engine's exact figure, per invoice it rests on, and still be a rounding difference
	// rather than a violation: applicants compute 30 % rounded half up, as accountants do,
	// where the policy's arithmetic truncates to the fen; one rounding per invoice moves a
	// figure by at most 0.01 yuan. The assessment still caps the payable amount at the
	// truncated figure; the rules alert only on an excess beyond the tolerance. Missing from a
	// policy file it is 0.01 yuan; "0.00" judges to the fen. See docs/rounding.md.
	RoundingTolerancePerInvoice Money             `json:"rounding_tolerance_per_invoice"`
	FilingDays                  int               `json:"filing_days"`
	SubsidisableServices        []string          `json:"subsidisable_services"`
	NonSubsidisableServices     []string          `json:"non_subsidisable_services"`
	CardMonthHours              float64           `json:"card_month_hours"`
	Price                       PriceRules        `json:"price"`
	Billing                     BillingRules      `json:"billing"`
	RelatedParty                RelatedPartyRules `json:"related_party"`
	RealUse                     RealUseRules      `json:"real_use"`
	ExplanationDays             int               `json:"explanation_days"`
}

// Default returns the policy's defaults.
func Default() Policy {
	p, err := Parse(defaultPolicy)
	if err != nil {
		panic("rules: embedded policy.json: " + err.Error())
	}
	return p
}

// Load reads a policy file; an empty path gives the defaults.
func Load(path string) (Policy, error) {
	if path == "" {
		return Default(), nil
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return Policy{}, fmt.Errorf("rules: %w", err)
	}
	return Parse(b)
}

// Parse reads a policy from JSON and checks it.
func Parse(b []byte) (Policy, error) {
	// real_use came later than the other sections: a policy file without it gets the shipped
	// numbers.
	p := Policy{RoundingTolerancePerInvoice: Money{1}, RealUse: RealUseRules{IdleUtilisation: 0.05, IdleShare: 0.6,
		IdleShareHigh: 0.8, MinPaidDays: 45, WashAmountRatio: 0.75, WashPaybackDays: 30}}
	if err := json.Unmarshal(b, &p); err != nil {
		return p, fmt.Errorf("rules: policy: %w", err)
	}
	switch {
	case p.Version == "":
		return p, fmt.Errorf("rules: policy: version is required")
	case !p.WindowEnd.After(p.WindowStart.Time):
		return p, fmt.Errorf("rules: policy: window_end must be after window_start")
	case p.SubsidyRatePercent <= 0 || p.SubsidyRatePercent > 100:
		return p, fmt.Errorf("rules: policy: subsidy_rate_percent must be in 1..100")
	case p.AnnualBudget.Money <= 0:
		return p, fmt.Errorf("rules: policy: annual_budget must be a positive amount")
	case p.CardMonthHours <= 0:
		return p, fmt.Errorf("rules: policy: card_month_hours must be positive")
	case p.RealUse.IdleShare <= 0 || p.RealUse.IdleShare > 1 || p.RealUse.IdleShareHigh < p.RealUse.IdleShare:
		return p, fmt.Errorf("rules: policy: real_use.idle_share must be in (0, 1] and at most idle_share_high")
	case p.RealUse.WashAmountRatio <= 0 || p.RealUse.WashAmountRatio > 1:
		return p, fmt.Errorf("rules: policy: real_use.wash_amount_ratio must be in (0, 1]")
	case p.RoundingTolerancePerInvoice.Money < 0 || p.RoundingTolerancePerInvoice.Money > 100:
		return p, fmt.Errorf("rules: policy: rounding_tolerance_per_invoice must be in 0.00..1.00")
	}
	return p, nil
}

// Subsidisable reports whether a service type may be subsidised (C1).
func (p Policy) Subsidisable(serviceType string) bool {
	return slices.Contains(p.SubsidisableServices, serviceType)
}

// InWindow returns the part of amount that falls inside the policy window (W), pro rata by
// days of the inclusive service period [start, end]. A period without dates is taken as inside.
func (p Policy) InWindow(amount voucherwatch.Money, start, end time.Time) (voucherwatch.Money, int, int) {
	if start.IsZero() || end.IsZero() || end.Before(start) {
		return amount, 0, 0
	}
	total := days(start, end)
	lo, hi := start, end
	if lo.Before(p.WindowStart.Time) {
		lo = p.WindowStart.Time
	}
	if hi.After(p.WindowEnd.Time) {
		hi = p.WindowEnd.Time
	}
	inside := 0
	if !hi.Before(lo) {
		inside = days(lo, hi)
	}
	if inside == total {
		return amount, inside, total
	}
	// Integer arithmetic in fen, rounded half up: money never goes through a float.
	return voucherwatch.Money((int64(amount)*int64(inside)*2 + int64(total)) / (2 * int64(total))), inside, total
}

// days counts the days of the inclusive period [a, b].
func days(a, b time.Time) int {
	a = time.Date(a.Year(), a.Month(), a.Day(), 0, 0, 0, 0, time.UTC)
	b = time.Date(b.Year(), b.Month(), b.Day(), 0, 0, 0, 0, time.UTC)
	return int(b.Sub(a).Hours()/24) + 1
}

// MaxSubsidy is the most a claim may receive (C2): the rate of the eligible settled amount,
// rounded down to the fen, and at most the per-enterprise cap.
func (p Policy) MaxSubsidy(eligible voucherwatch.Money) voucherwatch.Money {
	s := voucherwatch.Money(int64(eligible) * p.SubsidyRatePercent / 100)
	return min(s, p.CapPerEnterprise.Money)
}

// RoundingTolerance is the rounding tolerance of a figure computed over n invoices (at least
// one): RoundingTolerancePerInvoice × n.
func (p Policy) RoundingTolerance(n int) voucherwatch.Money {
	return p.RoundingTolerancePerInvoice.Money * voucherwatch.Money(max(1, n))
}

// PerCardHour normalises a unit price to yuan per card-hour; token prices are returned as they
// are and compared only with their own kind.
func (p Policy) PerCardHour(price float64, unit string) (float64, string) {
	switch unit {
	case voucherwatch.UnitCardMonth:
		return price / p.CardMonthHours, voucherwatch.UnitCardHour
	default:
		return price, unit
	}
}
