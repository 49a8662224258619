package voucherwatch

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"time"
)

// Detector names with a fixed meaning in the wire contract.
const (
	DetectorDuplicateClaim = "duplicate_claim"
	DetectorResale         = "resale"
	DetectorRelatedParty   = "related_party"
	DetectorPrice          = "price_out_of_range"
)

// Severity ranks an alert for reviewers.
type Severity string

// Severities, highest first.
const (
	SeverityHigh   Severity = "high"
	SeverityMedium Severity = "medium"
	SeverityLow    Severity = "low"
)

// Status is where an alert stands in the supervision workflow.
type Status string

// The workflow's statuses.
const (
	StatusNew                  Status = "new"
	StatusReviewing            Status = "reviewing"
	StatusExplanationRequested Status = "explanation_requested"
	StatusConfirmed            Status = "confirmed"
	StatusDismissed            Status = "dismissed"
	StatusRecoveryOrdered      Status = "recovery_ordered"
	StatusRecovered            Status = "recovered"
)

// Subjects are the records an alert is about. Every key that applies is set; ApplicantUSCC is
// always the demand side (the buyer), SupplierUSCC the supply side.
type Subjects struct {
	ApplicantUSCC string `json:"applicant_uscc,omitempty"`
	SupplierUSCC  string `json:"supplier_uscc,omitempty"`
	ClaimID       string `json:"claim_id,omitempty"`
	ContractNo    string `json:"contract_no,omitempty"`
	InvoiceCode   string `json:"invoice_code,omitempty"`
	InvoiceNo     string `json:"invoice_no,omitempty"`
	ResourceID    string `json:"resource_id,omitempty"`
}

func (s Subjects) key() string {
	return strings.Join([]string{s.ApplicantUSCC, s.SupplierUSCC, s.ClaimID, s.ContractNo, s.InvoiceCode, s.InvoiceNo, s.ResourceID}, "\x1f")
}

// Alert is one finding of a detector, with the evidence a supervisor needs to act on it.
type Alert struct {
	ID           string   `json:"id"`
	Detector     string   `json:"detector"`
	Kind         string   `json:"kind"` // what exactly was found, e.g. "invoice_in_two_claims"
	Severity     Severity `json:"severity"`
	Score        float64  `json:"score"`
	Subjects     Subjects `json:"subjects"`
	City         string   `json:"city"` // the applicant's 市州 (division code)
	PolicyClause string   `json:"policy_clause"`
	Title        string   `json:"title"`  // one line, Chinese
	Reason       string   `json:"reason"` // why, Chinese, naming the clause
	Evidence     Evidence `json:"evidence"`
	// AtStake is the subsidy that would not be payable if the finding holds, computed by the
	// claim assessment's arithmetic (docs/priorities.md). On the wire a decimal string.
	AtStake Money `json:"-"`
	// AtStakePotential marks an AtStake on amounts no claim cites yet: what they would draw.
	AtStakePotential bool `json:"at_stake_potential"`
	// StakeClaims splits AtStake by the claims it falls on.
	StakeClaims []ClaimStake `json:"stake_claims,omitempty"`
	// Recovered is what the workflow recorded as recovered (the recovery orders of an alert
	// that reached recovered), apart from the estimate. On the wire a decimal string.
	Recovered Money `json:"-"`
	// Risk is the alert's risk score (RiskScore) when the store ranked by it; 0 otherwise.
	Risk      float64   `json:"risk,omitempty"`
	Status    Status    `json:"status"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

// AlertID derives the stable id of a finding: the same detector and subjects give the same id
// on every run, so a re-run updates the alert instead of adding a twin. The kind is not part of
// it: when a stronger tie or a worse excess appears for the same subjects, the alert changes
// kind and severity and keeps its workflow history. A detector reports one finding per
// subjects, its strongest.
//
// Alerts stored before ids left out the kind (LegacyAlertID) keep their ids: the store finds
// them by detector and subjects (store.DB.UpsertAlerts).
func AlertID(detector string, s Subjects) string {
	sum := sha256.Sum256([]byte(detector + "\x1e" + s.key()))
	return "al_" + hex.EncodeToString(sum[:10])
}

// LegacyAlertID is the id alerts had before AlertID left out the kind. Only tests and upgrade
// notes need it.
func LegacyAlertID(detector, kind string, s Subjects) string {
	sum := sha256.Sum256([]byte(detector + "\x1e" + kind + "\x1e" + s.key()))
	return "al_" + hex.EncodeToString(sum[:10])
}

// Detector finds alerts in the stored records. The evaluation time is passed in, never read
// inside, so tests can fix the clock.
type Detector interface {
	// Name is the detector's name as alerts carry it.
	Name() string
	// Run evaluates the detector as of at and returns every current finding.
	Run(ctx context.Context, at time.Time) ([]Alert, error)
}

// AlertFilter selects alerts for listing. Zero fields do not filter.
type AlertFilter struct {
	Detector string
	Status   Status
	Severity Severity
	City     string
	// ApplicantUSCC selects the alerts about one demand-side enterprise.
	ApplicantUSCC string
	// AssigneeID selects the alerts whose latest assignment names this user (a person's
	// own queue); an assignment to nobody takes an alert out of it.
	AssigneeID string
	// IDs selects these alerts only, read in one query (a bulk action names up to 1,000).
	IDs []string
	// Sort is the order: SortNewest (the default), SortRisk or SortAtStake.
	Sort   string
	Since  time.Time
	Limit  int
	Cursor string
}

// UpsertResult counts what a detector run changed.
type UpsertResult struct {
	New       int `json:"new"`
	Updated   int `json:"updated"`
	Unchanged int `json:"unchanged"`
}

// AlertStore keeps alerts.
type AlertStore interface {
	// UpsertAlerts stores a detector run's findings: new ids are added, known ids whose
	// evidence changed are updated. It keeps CreatedAt of known alerts.
	UpsertAlerts(ctx context.Context, alerts []Alert, at time.Time) (UpsertResult, error)
	// Alerts lists alerts, newest first, and the cursor of the next page ("" at the end).
	// It returns EINVALID for a malformed cursor.
	Alerts(ctx context.Context, f AlertFilter) ([]Alert, string, error)
	// Alert returns one alert; ENOTFOUND when there is none.
	Alert(ctx context.Context, id string) (Alert, error)
}

// AlertCounts counts the alerts a filter selects, by workflow status and by detector, for the
// filter chips of the inbox.
type AlertCounts struct {
	Total      int
	ByStatus   map[Status]int
	ByDetector map[string]int
}

// AlertCounter counts alerts. It is apart from AlertStore so that the stores and fakes that
// only list alerts need not count them.
type AlertCounter interface {
	// CountAlerts counts the alerts f selects; Limit and Cursor are ignored.
	CountAlerts(ctx context.Context, f AlertFilter) (AlertCounts, error)
}
