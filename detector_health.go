package voucherwatch

import "time"

// DetectorState is a detector's health.
type DetectorState int

// Detector health states.
const (
	DetectorStateUnknown DetectorState = iota // not run yet
	DetectorStateOK
	DetectorStateFailing
)

func (s DetectorState) String() string {
	switch s {
	case DetectorStateOK:
		return "ok"
	case DetectorStateFailing:
		return "failing"
	}
	return "unknown"
}

// MarshalText renders the state by name in JSON.
func (s DetectorState) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// DetectorHealth is what the UI and /metrics show about one detector.
type DetectorHealth struct {
	Detector     string        `json:"detector"`
	State        DetectorState `json:"state"`
	LastRun      time.Time     `json:"last_run"`
	LastDuration time.Duration `json:"last_duration_ns"`
	LastError    string        `json:"last_error,omitempty"`
	LastResult   UpsertResult  `json:"last_result"`
	Alerts       int           `json:"alerts"`
}

// DetectorHealthReport is every detector's health and the schedule slots missed, as
// GET /api/v1/detectors answers it.
type DetectorHealthReport struct {
	Detectors   []DetectorHealth `json:"detectors"`
	MissedSlots int              `json:"missed_slots"`
}

// DetectorRun is one detector's part of a run, as POST /api/v1/detectors/run answers it.
type DetectorRun struct {
	Detector string  `json:"detector"`
	Alerts   int     `json:"alerts"`
	New      int     `json:"new"`
	Updated  int     `json:"updated"`
	Seconds  float64 `json:"seconds"`
	Error    string  `json:"error,omitempty"`
}
