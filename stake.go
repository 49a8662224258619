package voucherwatch

import (
	"encoding/json"
	"fmt"
	"math"
	"time"
)

// ClaimStake is the part of an alert's money at stake that falls on one claim, with the
// claim's own ceiling: combining the alerts of a claim never puts more at stake than Ceiling
// (docs/priorities.md).
type ClaimStake struct {
	ClaimID string
	AtStake Money
	// Ceiling is the most the claim can put at stake: the subsidy the claim's arithmetic
	// gives on its amounts as claimed, at most the subsidy requested.
	Ceiling Money
}

type claimStakeJSON struct {
	ClaimID string `json:"claim_id"`
	AtStake string `json:"at_stake"`
	Ceiling string `json:"ceiling"`
}

// MarshalJSON writes the amounts as yuan ("1234.56").
func (c ClaimStake) MarshalJSON() ([]byte, error) {
	return json.Marshal(claimStakeJSON{c.ClaimID, c.AtStake.String(), c.Ceiling.String()})
}

// UnmarshalJSON reads what MarshalJSON writes.
func (c *ClaimStake) UnmarshalJSON(b []byte) error {
	var j claimStakeJSON
	if err := json.Unmarshal(b, &j); err != nil {
		return err
	}
	c.ClaimID = j.ClaimID
	var err error
	if c.AtStake, err = parseYuanField("at_stake", j.AtStake); err != nil {
		return err
	}
	c.Ceiling, err = parseYuanField("ceiling", j.Ceiling)
	return err
}

// alertJSON is an alert on the wire: money as decimal strings in yuan.
type alertJSON struct {
	alertPlain
	AtStake   string `json:"at_stake"`
	Recovered string `json:"recovered"`
}

// alertPlain is Alert without its methods, so that alertJSON can embed it.
type alertPlain Alert

// MarshalJSON writes the alert with its money as decimal strings in yuan ("at_stake":
// "1234.56", "recovered": "0.00").
func (a Alert) MarshalJSON() ([]byte, error) {
	return json.Marshal(alertJSON{alertPlain: alertPlain(a), AtStake: a.AtStake.String(), Recovered: a.Recovered.String()})
}

// UnmarshalJSON reads what MarshalJSON writes.
func (a *Alert) UnmarshalJSON(b []byte) error {
	var j alertJSON
	if err := json.Unmarshal(b, &j); err != nil {
		return err
	}
	*a = Alert(j.alertPlain)
	var err error
	if a.AtStake, err = parseYuanField("at_stake", j.AtStake); err != nil {
		return err
	}
	a.Recovered, err = parseYuanField("recovered", j.Recovered)
	return err
}

func parseYuanField(field, s string) (Money, error) {
	if s == "" {
		return 0, nil
	}
	m, ok := ParseMoney(s)
	if !ok {
		return 0, fmt.Errorf("%s: bad amount %q", field, s)
	}
	return m, nil
}

// Alert orders for listing (AlertFilter.Sort).
const (
	SortNewest  = "created"  // newest first, the store's default
	SortRisk    = "risk"     // the risk score, highest first: the inbox's and the API's default
	SortAtStake = "at_stake" // money at stake, most first
)

// SeverityRank is the severity's part of the risk score: high 2, medium 1, low 0.
func SeverityRank(s Severity) int {
	switch s {
	case SeverityHigh:
		return 2
	case SeverityMedium:
		return 1
	}
	return 0
}

// RiskScore ranks an alert for the inbox (docs/priorities.md):
//
//	10 × severity rank + log10(1 + at stake in yuan) + 0.5 × min(detectors − 1, 3)
//
// where detectors is how many distinct detectors have open alerts (not dismissed) on the
// same enterprise. The severity's step of 10 is larger than the other two terms can ever add
// (log10 of the 10,000,000-yuan cap is 7, the detectors add at most 1.5), so every high alert
// ranks above every medium one; within a severity a tenfold amount counts as much as two more
// independent detectors. store.alertRiskSQL computes the same in SQL.
func RiskScore(s Severity, atStake Money, detectors int) float64 {
	d := min(max(detectors-1, 0), 3)
	return 10*float64(SeverityRank(s)) + math.Log10(1+math.Max(0, atStake.Yuan())) + 0.5*float64(d)
}

// Yuan is an amount in fen that JSON writes as the wire's decimal string in yuan ("1234.56"),
// for answers that are not records.
type Yuan Money

// MarshalJSON writes "1234.56".
func (y Yuan) MarshalJSON() ([]byte, error) { return json.Marshal(Money(y).String()) }

// UnmarshalJSON reads "1234.56".
func (y *Yuan) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return err
	}
	m, err := parseYuanField("amount", s)
	*y = Yuan(m)
	return err
}

// Backtest outcomes (BacktestLog.Status).
const (
	BacktestOK       = "ok"
	BacktestFailed   = "failed"
	BacktestTimedOut = "timed_out"
)

// BacktestLog is the record of one backtest: who ran it, with which policy file (its SHA-256
// digest and version), when, how it ended and its diff (JSON, empty unless it ended ok).
type BacktestLog struct {
	ID            string          `json:"id"`
	At            time.Time       `json:"at"`
	UserID        string          `json:"user_id"`
	UserName      string          `json:"user_name"`
	Role          Role            `json:"role"`
	PolicyDigest  string          `json:"policy_digest"`
	PolicyVersion string          `json:"policy_version"`
	Status        string          `json:"status"`
	Error         string          `json:"error,omitempty"`
	Seconds       float64         `json:"seconds"`
	Diff          json.RawMessage `json:"-"`
}

// A backtest (detectors.Backtest, docs/priorities.md) re-runs the detectors and the claim
// assessment with a changed policy, in memory, and answers a BacktestDiff.

// BacktestAlert is one alert that appears or disappears under the changed policy.
type BacktestAlert struct {
	ID            string   `json:"id"`
	Detector      string   `json:"detector"`
	Kind          string   `json:"kind"`
	Severity      Severity `json:"severity"`
	City          string   `json:"city"`
	ApplicantUSCC string   `json:"applicant_uscc,omitempty"`
	SupplierUSCC  string   `json:"supplier_uscc,omitempty"`
	ClaimID       string   `json:"claim_id,omitempty"`
	Title         string   `json:"title"`
	AtStake       Yuan     `json:"at_stake"`
}

// BacktestCount counts the alerts of one detector and city that appear and disappear.
type BacktestCount struct {
	Detector    string `json:"detector"`
	City        string `json:"city"`
	Appeared    int    `json:"appeared"`
	Disappeared int    `json:"disappeared"`
}

// BacktestSubsidy is the subsidy payable before and after, for one city ("" for the
// province): each claim's assessed subsidy (Payable) less what its alerts put at
// stake of it, capped at it (what remains payable if the findings hold). Assessed is the
// assessed subsidy alone.
type BacktestSubsidy struct {
	City           string `json:"city"`
	Claims         int    `json:"claims"`
	Before         Yuan   `json:"before"`
	After          Yuan   `json:"after"`
	AssessedBefore Yuan   `json:"assessed_before"`
	AssessedAfter  Yuan   `json:"assessed_after"`
}

// BacktestEnterprise is one enterprise the change affects: its payable subsidy before and
// after and its alerts that appear and disappear.
type BacktestEnterprise struct {
	USCC        string `json:"uscc"`
	Name        string `json:"name"`
	City        string `json:"city"`
	Before      Yuan   `json:"before"`
	After       Yuan   `json:"after"`
	Appeared    int    `json:"appeared"`
	Disappeared int    `json:"disappeared"`
}

// BacktestDiff is what a backtest answers.
type BacktestDiff struct {
	At          time.Time            `json:"at"`
	Appeared    []BacktestAlert      `json:"appeared"`
	Disappeared []BacktestAlert      `json:"disappeared"`
	Counts      []BacktestCount      `json:"counts"`      // by detector and city
	Subsidy     []BacktestSubsidy    `json:"subsidy"`     // the province first, then by city
	Enterprises []BacktestEnterprise `json:"enterprises"` // the most affected, most first
	// Failed names the detectors that failed in either run; their alerts are left out of
	// both sides, so that a failure is not read as disappearing alerts.
	Failed []string `json:"failed,omitempty"`
}

// ForCity is the part of the diff about one city: its alerts, counts, subsidy and
// enterprises (a city reviewer's view).
func (d BacktestDiff) ForCity(city string) BacktestDiff {
	out := BacktestDiff{At: d.At, Failed: d.Failed, Appeared: []BacktestAlert{}, Disappeared: []BacktestAlert{},
		Counts: []BacktestCount{}, Subsidy: []BacktestSubsidy{}, Enterprises: []BacktestEnterprise{}}
	for _, x := range d.Appeared {
		if x.City == city {
			out.Appeared = append(out.Appeared, x)
		}
	}
	for _, x := range d.Disappeared {
		if x.City == city {
			out.Disappeared = append(out.Disappeared, x)
		}
	}
	for _, x := range d.Counts {
		if x.City == city {
			out.Counts = append(out.Counts, x)
		}
	}
	for _, x := range d.Subsidy {
		if x.City == city {
			out.Subsidy = append(out.Subsidy, x)
		}
	}
	for _, x := range d.Enterprises {
		if x.City == city {
			out.Enterprises = append(out.Enterprises, x)
		}
	}
	return out
}
