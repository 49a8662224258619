package voucherwatch

import (
	"context"
	"slices"
	"strings"
	"time"
	"unicode/utf8"
)

// Spot checks (专项抽查) follow the national "双随机、一公开" practice: the enterprises to inspect
// and the inspectors who inspect them are both drawn at random, the draw is recorded so that
// anyone can repeat it, and the results are published.

// SpotCheckClaimant is one enterprise that may be drawn: an applicant of a subsidy claim, with
// what its risk score is computed from. The fields are the draw's recorded inputs, so they are
// plain numbers an auditor can read and feed back.
type SpotCheckClaimant struct {
	USCC string `json:"uscc"`
	Name string `json:"name,omitempty"` // the registry's name, where known; not used by the draw
	City string `json:"city"`           // 市州 division code; the stratum
	// OpenHigh, OpenMedium and OpenLow count the enterprise's alerts still open (neither
	// dismissed nor recovered) by severity.
	OpenHigh   int `json:"open_high"`
	OpenMedium int `json:"open_medium"`
	OpenLow    int `json:"open_low"`
	// AlertScore sums the detectors' scores (0..1 each) of those open alerts.
	AlertScore float64 `json:"alert_score"`
	// Requested sums the subsidy requested in the enterprise's claims.
	Requested Money `json:"requested"`
}

// Inspector is a person in the pool spot-check inspectors are drawn from. An inspector is
// never sent to an enterprise of their own city nor to one they declared a conflict with.
type Inspector struct {
	ID   string `json:"id"`
	Name string `json:"name"`
	City string `json:"city"` // 市州 division code
	// Conflicts are the USCCs of enterprises the inspector declared a conflict of interest
	// with (a relative works there, a former employer...).
	Conflicts []string  `json:"conflicts"`
	CreatedAt time.Time `json:"created_at,omitzero"`
	CreatedBy string    `json:"created_by,omitempty"`
}

// MaxInspectorConflicts bounds the conflicts one inspector declares.
const MaxInspectorConflicts = 1000

// CheckNewInspector validates an inspector about to be registered and normalises its city to
// the division code and its conflicts to a sorted set of upper-case USCCs. It returns EINVALID
// errors naming the field: name, city or conflicts.
func CheckNewInspector(in Inspector) (Inspector, error) {
	in.Name = strings.TrimSpace(in.Name)
	switch {
	case in.Name == "" || !utf8.ValidString(in.Name):
		return in, FieldErrorf("name", "required")
	case utf8.RuneCountInString(in.Name) > MaxUserNameRunes:
		return in, FieldErrorf("name", "at most %d characters", MaxUserNameRunes)
	}
	code, ok := CityCode(strings.TrimSpace(in.City))
	if !ok {
		return in, FieldErrorf("city", "want one of Hunan's 14 市州, got %q", in.City)
	}
	in.City = code
	if len(in.Conflicts) > MaxInspectorConflicts {
		return in, FieldErrorf("conflicts", "at most %d", MaxInspectorConflicts)
	}
	conflicts := []string{}
	for _, c := range in.Conflicts {
		c = strings.ToUpper(strings.TrimSpace(c))
		if !LooksLikeUSCC(c) {
			return in, FieldErrorf("conflicts", "want 18-character 统一社会信用代码, got %q", c)
		}
		conflicts = append(conflicts, c)
	}
	slices.Sort(conflicts)
	in.Conflicts = slices.Compact(conflicts)
	return in, nil
}

// LooksLikeUSCC checks the shape of a USCC (18 of 0-9 and A-Z); the checksum is ingest's
// business, and a conflict naming a mistyped code only makes the draw stricter.
func LooksLikeUSCC(s string) bool {
	if len(s) != 18 {
		return false
	}
	for _, c := range []byte(s) {
		if !(c >= '0' && c <= '9' || c >= 'A' && c <= 'Z') {
			return false
		}
	}
	return true
}

// SpotCheckParams are the draw's parameters.
type SpotCheckParams struct {
	// Share is the part of the claimants to inspect, 0 < Share ≤ 1.
	Share float64 `json:"share"`
	// Min is the fewest enterprises a draw inspects (fewer only when there are fewer claimants).
	Min int `json:"min"`
	// RiskFraction is the part of each city's quota drawn weighted by risk; the rest is drawn
	// uniformly so that every claimant has a fair chance of being checked.
	RiskFraction float64 `json:"risk_fraction"`
	// InspectorsPerItem is how many inspectors go to each enterprise.
	InspectorsPerItem int `json:"inspectors_per_item"`
}

// Default spot-check parameters.
const (
	DefaultSpotCheckShare        = 0.05
	DefaultSpotCheckMin          = 10
	DefaultSpotCheckRiskFraction = 0.5
	DefaultInspectorsPerItem     = 2
)

// DefaultSpotCheckParams are the parameters a draw uses where none are given.
func DefaultSpotCheckParams() SpotCheckParams {
	return SpotCheckParams{Share: DefaultSpotCheckShare, Min: DefaultSpotCheckMin,
		RiskFraction: DefaultSpotCheckRiskFraction, InspectorsPerItem: DefaultInspectorsPerItem}
}

// Check validates the parameters; EINVALID errors name the field.
func (p SpotCheckParams) Check() error {
	switch {
	case !(p.Share > 0 && p.Share <= 1):
		return FieldErrorf("share", "want a share in (0, 1], got %v", p.Share)
	case p.Min < 0 || p.Min > 100000:
		return FieldErrorf("min", "want 0..100000, got %d", p.Min)
	case !(p.RiskFraction >= 0 && p.RiskFraction <= 1):
		return FieldErrorf("risk_fraction", "want 0..1, got %v", p.RiskFraction)
	case p.InspectorsPerItem < 1 || p.InspectorsPerItem > 10:
		return FieldErrorf("inspectors_per_item", "want 1..10, got %d", p.InspectorsPerItem)
	}
	return nil
}

// SpotCheckInputs are everything a draw reads besides its parameters and seed. They are
// recorded with the draw so that it can be repeated exactly.
type SpotCheckInputs struct {
	Claimants  []SpotCheckClaimant `json:"claimants"`
	Inspectors []Inspector         `json:"inspectors"`
}

// How an item was drawn.
const (
	DrawnByRisk   = "risk"   // 风险加权
	DrawnAtRandom = "random" // 随机
)

// InspectorRef names an inspector on an item.
type InspectorRef struct {
	ID   string `json:"id"`
	Name string `json:"name"`
	City string `json:"city"`
}

// SpotCheckItem is one enterprise drawn for inspection and the inspectors drawn for it.
type SpotCheckItem struct {
	USCC string  `json:"uscc"`
	Name string  `json:"name,omitempty"`
	City string  `json:"city"`
	Risk float64 `json:"risk"`
	// DrawnBy is DrawnByRisk or DrawnAtRandom.
	DrawnBy    string         `json:"drawn_by"`
	Inspectors []InspectorRef `json:"inspectors"`
	// Note says why the item has fewer inspectors than asked for (nobody eligible); the rule
	// is never bent to fill the list.
	Note string `json:"note,omitempty"`
}

// How a draw was started.
const (
	SpotCheckScheduled = "scheduled"
	SpotCheckOnDemand  = "on_demand"
)

// SpotCheck is one recorded draw.
type SpotCheck struct {
	ID   string `json:"id"`
	Seed uint64 `json:"seed"`
	// Method names the draw algorithm and its version; a re-run uses the same one.
	Method string          `json:"method"`
	Params SpotCheckParams `json:"params"`
	// InputsDigest is the hex SHA-256 of the canonical JSON of the inputs.
	InputsDigest string `json:"inputs_digest"`
	// Inputs are the draw's inputs; lists leave them out.
	Inputs    *SpotCheckInputs `json:"inputs,omitempty"`
	Trigger   string           `json:"trigger"`
	CreatedAt time.Time        `json:"created_at"`
	CreatedBy string           `json:"created_by"`
	// ItemCount is how many enterprises were drawn (all cities).
	ItemCount int             `json:"item_count"`
	Items     []SpotCheckItem `json:"items"`
}

// InspectionOutcome is what an inspection found.
type InspectionOutcome string

// The outcomes of an inspection.
const (
	OutcomeNoProblem     InspectionOutcome = "no_problem"      // 未发现问题
	OutcomeProblemFound  InspectionOutcome = "problem_found"   // 发现问题
	OutcomeRectification InspectionOutcome = "rectify_ordered" // 责令整改
)

// InspectionOutcomes maps each outcome to its Chinese label, as published.
var InspectionOutcomes = map[InspectionOutcome]string{
	OutcomeNoProblem:     "未发现问题",
	OutcomeProblemFound:  "发现问题",
	OutcomeRectification: "责令整改",
}

// ParseInspectionOutcome accepts an outcome by code or by its Chinese label.
func ParseInspectionOutcome(s string) (InspectionOutcome, bool) {
	s = strings.TrimSpace(s)
	for o, label := range InspectionOutcomes {
		if s == string(o) || s == label {
			return o, true
		}
	}
	return "", false
}

// MaxInspectionCommentRunes bounds an inspection result's comment.
const MaxInspectionCommentRunes = 2000

// InspectionResult records the outcome of inspecting one drawn enterprise. Results are
// append-only; the newest one per enterprise is the one published.
type InspectionResult struct {
	SpotCheckID string            `json:"spotcheck_id"`
	USCC        string            `json:"uscc"`
	Result      InspectionOutcome `json:"result"`
	Comment     string            `json:"comment"`
	RecordedAt  time.Time         `json:"recorded_at"`
	ByID        string            `json:"by_id"`
	ByName      string            `json:"by_name"`
	ByRole      Role              `json:"by_role"`
}

// SpotCheckStore keeps inspectors, draws and inspection results, shared by every engine
// instance.
type SpotCheckStore interface {
	// SpotCheckClaimants gathers the claimants a draw chooses from: the applicants of claims
	// submitted in [from, to) (zero times do not bound), with their city, open alerts and
	// requested amounts, sorted by USCC.
	SpotCheckClaimants(ctx context.Context, from, to time.Time) ([]SpotCheckClaimant, error)
	// CreateInspector registers an inspector.
	CreateInspector(ctx context.Context, in Inspector) error
	// Inspectors lists the enabled inspectors by id.
	Inspectors(ctx context.Context) ([]Inspector, error)
	// DisableInspector takes an inspector out of the pool for later draws; ENOTFOUND when
	// there is no such enabled inspector. Recorded draws keep their inspectors.
	DisableInspector(ctx context.Context, id string, at time.Time) error
	// CreateSpotCheck records a draw with its items and inputs; ECONFLICT when a draw with
	// its id exists already.
	CreateSpotCheck(ctx context.Context, sc SpotCheck) error
	// SpotCheck returns one draw with its items and inputs; ENOTFOUND when there is none.
	SpotCheck(ctx context.Context, id string) (SpotCheck, error)
	// SpotChecks lists the draws, newest first, without items or inputs.
	SpotChecks(ctx context.Context) ([]SpotCheck, error)
	// RecordInspectionResult appends a result.
	RecordInspectionResult(ctx context.Context, r InspectionResult) error
	// InspectionResults lists a draw's results, oldest first.
	InspectionResults(ctx context.Context, spotCheckID string) ([]InspectionResult, error)
	// SpotCheckProgress counts, for every draw, its enterprises in city and those with a
	// result, without reading the draws whole: a city reviewer's list of draws needs it.
	SpotCheckProgress(ctx context.Context, city string) (map[string]SpotCheckProgress, error)
}

// SpotCheckProgress is how far the inspections of one draw have come in one city.
type SpotCheckProgress struct {
	Items    int // the draw's enterprises in the city
	Recorded int // those with an inspection result
}
