package supervision

import (
	"time"

	"github.com/voucherwatch/voucherwatch"
	"github.com/voucherwatch/voucherwatch/supervision/workflow"
)

// WorkflowDeps are the dependencies of the workflow routes: moving alerts through the
// workflow, their history, assignment, proposals, bulk actions, overdue explanations, the
// export of the log, and the users.
type WorkflowDeps struct {
	// Alerts reads alerts, with their current status, for the access checks.
	Alerts voucherwatch.AlertStore
	// Events keeps the append-only workflow log.
	Events voucherwatch.EventStore
	// Users keeps the users and their token hashes, shared by the engine's instances.
	Users voucherwatch.UserStore
	// ExplanationDays is the time to explain when a request names no deadline (the policy's
	// explanation_days); voucherwatch.DefaultExplanationDays when not positive.
	ExplanationDays int
	// Now is the clock; time.Now when nil.
	Now func() time.Time
	// TokenCacheTTL is how long a token looked up in Users is trusted without asking again,
	// so also how long a disabled user's token keeps working on other instances;
	// DefaultTokenCacheTTL when zero, no caching when negative.
	TokenCacheTTL time.Duration
}

func (d WorkflowDeps) now() time.Time {
	if d.Now == nil {
		return time.Now()
	}
	return d.Now()
}

// flow is the workflow service over the server's dependencies; the API's routes and the web
// UI's forms act through it.
func (s *Server) flow() *workflow.Service {
	return &workflow.Service{Alerts: s.workflow.Alerts, Events: s.workflow.Events, Users: s.workflow.Users,
		ExplanationDays: s.workflow.ExplanationDays, Now: s.workflow.Now, Log: s.Log, PasswordSet: s.sessions.forget}
}

// registerWorkflowRoutes adds the workflow and user routes, and makes the server accept the
// tokens of the users in d.Users besides those added with AddToken.
func (s *Server) registerWorkflowRoutes(d WorkflowDeps) {
	s.workflow = d
	s.api.Workflow = *s.flow()
	s.mux.Handle("POST /api/v1/alerts/{id}/transitions", s.authed(s.api.PostTransition))
	s.mux.Handle("POST /api/v1/alerts/{id}/proposals", s.authed(s.api.PostProposal))
	s.mux.Handle("POST /api/v1/alerts/{id}/assign", s.authed(s.api.PostAssign))
	s.mux.Handle("GET /api/v1/alerts/{id}/history", s.authed(s.api.GetHistory))
	s.mux.Handle("POST /api/v1/alerts/bulk", s.authed(s.api.PostBulk))
	s.mux.Handle("GET /api/v1/events/export", s.authed(s.api.ExportEvents))
	s.mux.Handle("GET /api/v1/explanations/overdue", s.authed(s.api.GetOverdue))
	s.mux.Handle("GET /api/v1/me", s.authed(s.api.GetMe))
	s.mux.Handle("GET /api/v1/users", s.authed(s.api.ListUsers))
	s.mux.Handle("POST /api/v1/users", s.authed(s.api.CreateUser))
	s.mux.Handle("POST /api/v1/users/{id}/disable", s.authed(s.api.DisableUser))
	s.mux.Handle("POST /api/v1/users/{id}/password", s.authed(s.api.SetPassword))
}
