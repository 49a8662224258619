package supervision

import (
	"context"

	"github.com/voucherwatch/voucherwatch"
	"github.com/voucherwatch/voucherwatch/rules"
)

// AlertDeps are the dependencies of the alert and detector routes.
type AlertDeps struct {
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
}

// registerAlertRoutes adds the alert, detector, rules and claim routes.
func (s *Server) registerAlertRoutes(d AlertDeps) {
	s.alerts = d
	s.api.Alerts, s.api.RunDetectors, s.api.DetectorHealth, s.api.Policy, s.api.Assess = d.Alerts, d.RunDetectors, d.DetectorHealth, d.Policy, d.Assess
	s.mux.Handle("GET /api/v1/alerts", s.authed(s.api.ListAlerts))
	s.mux.Handle("GET /api/v1/alerts/{id}", s.authed(s.api.GetAlert))
	s.mux.Handle("POST /api/v1/detectors/run", s.authed(s.api.PostDetectorsRun))
	s.mux.Handle("GET /api/v1/detectors", s.authed(s.api.GetDetectors))
	s.mux.Handle("GET /api/v1/rules", s.authed(s.api.GetRules))
	s.mux.Handle("GET /api/v1/claims/{id}/assessment", s.authed(s.api.GetAssessment))
}
