package api

import (
	"context"
	"log/slog"
	"net/http"
	"time"

	"github.com/voucherwatch/voucherwatch"
	"github.com/voucherwatch/voucherwatch/rules"
	"github.com/voucherwatch/voucherwatch/supervision/workflow"
)

// Deps are what the JSON API's handlers need: the stores and operations they act through, as
// the domain's interfaces and package workflow's operations. A feature whose field is nil has
// no routes (package supervision mounts only those it has).
type Deps struct {
	// Alerts lists and reads alerts.
	Alerts voucherwatch.AlertStore
	// RunDetectors runs every detector now and answers a summary per detector.
	RunDetectors func(ctx context.Context) []voucherwatch.DetectorRun
	// DetectorHealth answers each detector's health.
	DetectorHealth func() voucherwatch.DetectorHealthReport
	// Policy is the policy configuration in force, served as is.
	Policy rules.Policy
	// Assess answers a claim's assessment; the applicant and its city (for access checks) are
	// in it. ENOTFOUND when there is no such claim.
	Assess func(ctx context.Context, claimID string) (voucherwatch.ClaimAssessment, error)
	// Workflow moves alerts through the workflow and manages users.
	Workflow workflow.Service
	// SpotChecks, Register, Rounds, Complaints and Backtests are the features' operations.
	SpotChecks *workflow.SpotChecks
	Register   *workflow.Register
	Rounds     *workflow.Rounds
	Complaints *workflow.Complaints
	Backtests  *workflow.Backtester
	// IngestStatus and DeadLetters answer GET /api/v1/status and /api/v1/deadletters; nil
	// says ingest is not running on this instance.
	IngestStatus func(ctx context.Context) (voucherwatch.IngestStatus, error)
	DeadLetters  func(ctx context.Context) (any, error)
	// UserDisabled is told the id of a user just disabled, so that its cached tokens and
	// sessions end on this instance at once.
	UserDisabled func(userID string)
	// Log is where the handlers log; it must not be nil.
	Log *slog.Logger
	// ListTTL is how long GET /api/v1/alerts keeps an answer at most when Alerts counts its
	// writes (listCache); zero: DefaultListTTL, negative: answers are not kept.
	ListTTL time.Duration
}

// Handler answers the JSON API's routes. Every method with the signature of an authenticated
// route takes the user the bearer token belongs to (package supervision checks the token).
type Handler struct {
	Deps
	lists listCache
}

// New is a handler over d; a nil d.Log logs to slog.Default().
func New(d Deps) *Handler {
	if d.Log == nil {
		d.Log = slog.Default()
	}
	if d.ListTTL == 0 {
		d.ListTTL = DefaultListTTL
	}
	return &Handler{Deps: d}
}

// flow is the workflow service the handlers act through.
func (h *Handler) flow() *workflow.Service { return &h.Workflow }

// Fail answers an error, logging the ones that are the engine's fault.
func (h *Handler) Fail(w http.ResponseWriter, err error) {
	if voucherwatch.ErrorCode(err) == voucherwatch.EINTERNAL {
		h.Log.Error("supervision: request failed", "err", err)
	}
	WriteError(w, err)
}
