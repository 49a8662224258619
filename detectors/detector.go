package detectors

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/voucherwatch/voucherwatch"
	"github.com/voucherwatch/voucherwatch/rules"
	"github.com/voucherwatch/voucherwatch/store"
)

// Env is what every detector is built from: the database its SQL runs in (queries use
// unqualified table names; the connection's default database is the engine's), and the policy.
type Env struct {
	DB     *store.DB
	Policy rules.Policy
	Log    *slog.Logger
}

// finding is the part of an alert a detector fills in; alert() derives the rest.
type finding struct {
	Detector     string
	Kind         string
	Severity     voucherwatch.Severity
	Score        float64
	Subjects     voucherwatch.Subjects
	PolicyClause string
	Title        string
	Reason       string
	Evidence     map[string]any
}

// alert turns a finding into an alert with its stable id and the applicant's city.
func (f finding) alert(cities map[string]string, at time.Time) voucherwatch.Alert {
	return voucherwatch.Alert{
		ID:           voucherwatch.AlertID(f.Detector, f.Subjects),
		Detector:     f.Detector,
		Kind:         f.Kind,
		Severity:     f.Severity,
		Score:        f.Score,
		Subjects:     f.Subjects,
		City:         cities[f.Subjects.ApplicantUSCC],
		PolicyClause: f.PolicyClause,
		Title:        f.Title,
		Reason:       f.Reason,
		Evidence:     f.Evidence,
		Status:       voucherwatch.StatusNew,
		CreatedAt:    at,
		UpdatedAt:    at,
	}
}

// Cities maps every enterprise's USCC to its 市州 division code, from the latest registry
// version of each. Claims carry a city too, but the registry is the authority.
func Cities(ctx context.Context, db *store.DB) (map[string]string, error) {
	rows, err := db.Conn().Query(ctx, "SELECT uscc, city FROM registry_latest")
	if err != nil {
		return nil, fmt.Errorf("detectors: cities: %w", err)
	}
	defer rows.Close()
	out := map[string]string{}
	for rows.Next() {
		var uscc, city string
		if err := rows.Scan(&uscc, &city); err != nil {
			return nil, fmt.Errorf("detectors: cities: %w", err)
		}
		out[uscc] = city
	}
	return out, rows.Err()
}

// yuan formats fen as the wire's yuan string, for evidence and reasons.
func yuan(m voucherwatch.Money) string { return m.String() }
