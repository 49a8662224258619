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

// Env is what every detector is built from: the read model it reads the stored records
// through, and the policy. DB is the database the read model defaults to; detectors not yet
// moved to the read model run SQL in it (queries use unqualified table names; the
// connection's default database is the engine's).
type Env struct {
	DB     *store.DB
	Read   voucherwatch.ReadModel // nil: DB
	Policy rules.Policy
	Log    *slog.Logger
}

// reads is the read model the detectors read through.
func (e Env) reads() voucherwatch.ReadModel {
	if e.Read != nil {
		return e.Read
	}
	return e.DB
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
	// Evidence are the facts of a kind laid out as a table (voucherwatch.EvidenceFacts), or of
	// duplicate records and resale, keyed as the catalogue labels them (fact.<key>).
	Evidence map[string]any
	// Typed is the evidence of a kind with a layout of its own, made from its evidence type
	// (voucherwatch.RelatedPartyEvidence, IdleEvidence, TradeCycleEvidence); it wins over
	// Evidence.
	Typed voucherwatch.Evidence
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
		Evidence:     f.evidence(),
		Status:       voucherwatch.StatusNew,
		CreatedAt:    at,
		UpdatedAt:    at,
	}
}

// Cities maps every enterprise's USCC to its 市州 division code, from the latest registry
// version of each. Claims carry a city too, but the registry is the authority.
func Cities(ctx context.Context, rm voucherwatch.ReadModel) (map[string]string, error) {
	cities, err := rm.Cities(ctx)
	if err != nil {
		return nil, fmt.Errorf("detectors: %w", err)
	}
	return cities, nil
}

// evidence is the finding's evidence as the alert carries it.
func (f finding) evidence() voucherwatch.Evidence {
	if !f.Typed.Empty() {
		return f.Typed
	}
	return voucherwatch.EvidenceOf(f.Evidence)
}
