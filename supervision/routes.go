package supervision

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/voucherwatch/voucherwatch"
	"github.com/voucherwatch/voucherwatch/rules"
	"github.com/voucherwatch/voucherwatch/supervision/ui"
	"github.com/voucherwatch/voucherwatch/supervision/workflow"
)

// The routes: each feature's register function hands its operations to the API's handler
// (and to the web UI's, once there is one) and mounts their methods: the API's behind a
// bearer token (authed), the UI's pages behind a session (ui.Handler.Page). New calls them in
// the order they depend on each other; docs/api.md and docs/ui.md list the routes.

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

// flow is the workflow service over the server's dependencies, which the API's routes and the
// web UI's forms act through. A password set ends the sessions of the old one on this instance.
func (s *Server) flow() workflow.Service {
	return workflow.Service{Alerts: s.workflow.Alerts, Events: s.workflow.Events, Users: s.workflow.Users,
		ExplanationDays: s.workflow.ExplanationDays, Now: s.workflow.Now, Log: s.Log, PasswordSet: s.forgetSessions}
}

// forgetSessions drops the web UI's cached sessions of a user on this instance.
func (s *Server) forgetSessions(id string) {
	if s.ui != nil {
		s.ui.ForgetUser(id)
	}
}

// registerWorkflowRoutes adds the workflow and user routes, and makes the server accept the
// tokens of the users in d.Users besides those added with AddToken.
func (s *Server) registerWorkflowRoutes(d WorkflowDeps) {
	s.workflow = d
	s.api.Workflow = s.flow()
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

// registerSpotCheckRoutes adds the spot-check, inspector and inspection-result routes; the
// web UI's spot-check pages (registerUI) call the same operations.
func (s *Server) registerSpotCheckRoutes(d workflow.SpotChecks) {
	s.spotchecks = &d
	s.api.SpotChecks = &d
	if s.ui != nil {
		s.ui.SpotChecks = &d
	}
	s.mux.Handle("POST /api/v1/spotchecks", s.authed(s.api.PostSpotCheck))
	s.mux.Handle("GET /api/v1/spotchecks", s.authed(s.api.ListSpotChecks))
	s.mux.Handle("GET /api/v1/spotchecks/{id}", s.authed(s.api.GetSpotCheck))
	s.mux.Handle("GET /api/v1/spotchecks/{id}/inputs", s.authed(s.api.GetSpotCheckInputs))
	s.mux.Handle("GET /api/v1/spotchecks/{id}/verify", s.authed(s.api.GetSpotCheckVerification))
	s.mux.Handle("GET /api/v1/spotchecks/{id}/export.csv", s.authed(s.api.SpotCheckCSV))
	s.mux.Handle("GET /api/v1/spotchecks/{id}/export.xlsx", s.authed(s.api.SpotCheckXLSX))
	s.mux.Handle("POST /api/v1/spotchecks/{id}/results", s.authed(s.api.PostSpotCheckResult))
	s.mux.Handle("GET /api/v1/spotchecks/{id}/results", s.authed(s.api.ListSpotCheckResults))
	s.mux.HandleFunc("GET /api/v1/spotchecks/{id}/public", s.api.PublicSpotCheck)
	s.mux.Handle("POST /api/v1/inspectors", s.authed(s.api.CreateInspector))
	s.mux.Handle("GET /api/v1/inspectors", s.authed(s.api.ListInspectors))
	s.mux.Handle("POST /api/v1/inspectors/{id}/disable", s.authed(s.api.DisableInspector))
}

// registerRegisterRoutes adds the supplier register's API, its public pages and exports. The
// public pages are the web UI's: without it they are not found, and only the JSON and the
// files answer.
func (s *Server) registerRegisterRoutes(d workflow.Register) {
	s.register = &d
	s.api.Register = &d
	if s.ui != nil {
		s.ui.Register = &d
	}
	s.mux.Handle("POST /api/v1/register/editions", s.authed(s.api.CreateEdition))
	s.mux.Handle("GET /api/v1/register/editions", s.authed(s.api.ListEditions))
	s.mux.Handle("GET /api/v1/register/editions/{id}", s.authed(s.api.GetEdition))
	s.mux.Handle("GET /api/v1/register/editions/{id}/inputs", s.authed(s.api.GetEditionInputs))
	s.mux.Handle("GET /api/v1/register/suppliers/{uscc}", s.authed(s.api.GetSupplierHistory))
	s.mux.HandleFunc("GET /public/register", s.uiPublic((*ui.Handler).ShowPublicRegister))
	s.mux.HandleFunc("GET /public/register/suppliers/{uscc}", s.uiPublic((*ui.Handler).ShowPublicRegisterSupplier))
	s.mux.HandleFunc("GET /public/register.json", s.api.PublicRegisterJSON)
	s.mux.HandleFunc("GET /public/register.csv", s.api.PublicRegisterFile("csv"))
	s.mux.HandleFunc("GET /public/register.xlsx", s.api.PublicRegisterFile("xlsx"))
}

// uiPublic serves a public page of the web UI, registered before the UI is: not found while
// there is no UI.
func (s *Server) uiPublic(page func(*ui.Handler, http.ResponseWriter, *http.Request)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if s.ui == nil {
			http.NotFound(w, r)
			return
		}
		page(s.ui, w, r)
	}
}

// registerUI adds the web UI (ui.New checks the session key and the stores, and parses every
// template): sign-in, the inbox, the alert, claim, enterprise and overdue pages, user
// management, the spot-check pages (over the operations registerSpotCheckRoutes adds; without
// them the pages say spot checks are not set up), the backtest pages, and the static assets.
func (s *Server) registerUI(d ui.Settings) error {
	h, err := ui.New(ui.Deps{
		Settings: d, Alerts: s.alerts.Alerts, Assess: s.alerts.Assess, Workflow: s.flow(),
		SpotChecks: s.spotchecks, Register: s.register, Backtests: s.backtests,
		Log: s.Log,
	})
	if err != nil {
		return err
	}
	s.ui = h
	s.mux.Handle("GET /static/", ui.Static())
	s.mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/alerts", http.StatusSeeOther)
	})
	s.mux.HandleFunc("GET /login", h.ShowLogin)
	s.mux.HandleFunc("POST /login", h.PostLogin)
	s.mux.HandleFunc("POST /logout", h.PostLogout)
	s.mux.Handle("GET /alerts", h.Page(h.ShowInbox))
	s.mux.Handle("GET /alerts/{id}", h.Page(h.ShowAlert))
	s.mux.Handle("POST /alerts/{id}/transitions", h.Page(h.PostAlertTransition))
	s.mux.Handle("POST /alerts/{id}/proposals", h.Page(h.PostAlertProposal))
	s.mux.Handle("POST /alerts/{id}/assign", h.Page(h.PostAlertAssign))
	s.mux.Handle("GET /claims/{id}", h.Page(h.ShowClaim))
	s.mux.Handle("GET /enterprises/{uscc}", h.Page(h.ShowEnterprise))
	s.mux.Handle("GET /explanations/overdue", h.Page(h.ShowOverdue))
	s.mux.Handle("GET /users", h.Page(h.ShowUsers))
	s.mux.Handle("POST /users", h.Page(h.PostUser))
	s.mux.Handle("POST /users/{id}/password", h.Page(h.PostUserPassword))
	s.mux.Handle("GET /spotchecks", h.Page(h.ShowSpotChecks))
	s.mux.Handle("POST /spotchecks", h.Page(h.PostSpotCheck))
	s.mux.Handle("GET /spotchecks/{id}", h.Page(h.ShowSpotCheck))
	s.mux.Handle("GET /spotchecks/{id}/verify", h.Page(h.ShowSpotCheckVerify))
	s.mux.Handle("POST /spotchecks/{id}/results", h.Page(h.PostSpotCheckResult))
	s.mux.Handle("GET /spotchecks/{id}/export.csv", h.Page(h.ExportSpotCheck("csv")))
	s.mux.Handle("GET /spotchecks/{id}/export.xlsx", h.Page(h.ExportSpotCheck("xlsx")))
	s.mux.Handle("POST /inspectors", h.Page(h.PostInspector))
	s.mux.Handle("POST /inspectors/{id}/disable", h.Page(h.PostInspectorDisable))
	s.mux.HandleFunc("GET /public/spotchecks/{id}", h.ShowPublicSpotCheck)
	s.mux.Handle("POST /alerts/bulk", h.Page(h.PostInboxBulk))
	s.mux.Handle("GET /enterprises", h.Page(h.ShowEnterprises))
	s.mux.Handle("GET /account", h.Page(h.ShowAccount))
	s.mux.Handle("POST /account/password", h.Page(h.PostAccountPassword))
	s.mux.Handle("GET /backtests", h.Page(h.ShowBacktests))
	s.mux.Handle("POST /backtests", h.Page(h.PostBacktestPage))
	s.mux.Handle("GET /backtests/{id}", h.Page(h.ShowBacktest))
	s.mux.Handle("GET /backtests/{id}/export.xlsx", h.Page(h.ExportBacktest))
	// Anything else outside the API is a Chinese 404 page (the API answers its own 404s).
	s.mux.HandleFunc("/", h.NotFoundPage)
	return nil
}

// registerComplaintRoutes adds POST /api/v1/complaints and, when the web UI is registered
// (registerUI first), the public pages /complaints/new and /complaints/status and the
// officials' form. New checks the store, the registry and the contact box first.
func (s *Server) registerComplaintRoutes(d workflow.Complaints) {
	if d.Now == nil {
		d.Now = s.workflow.Now
	}
	if d.Log == nil {
		d.Log = s.Log
	}
	s.complaints = &d
	s.api.Complaints = &d
	s.mux.Handle("POST /api/v1/complaints", s.authed(s.api.PostComplaint))
	if h := s.ui; h != nil {
		h.Complaints = &d
		s.mux.HandleFunc("GET /complaints/new", h.ShowComplaintForm)
		s.mux.HandleFunc("POST /complaints/new", h.PostComplaintForm)
		s.mux.HandleFunc("GET /complaints/status", h.ShowComplaintStatus)
		s.mux.HandleFunc("POST /complaints/status", h.PostComplaintStatus)
		s.mux.Handle("GET /complaints/register", h.Page(h.ShowComplaintRegister))
		s.mux.Handle("POST /complaints/register", h.Page(h.PostComplaintRegister))
	}
}

// registerRoundRoutes adds the annual round's API and, when the web UI is registered first,
// its pages, its public notice and the public objection route (which take JSON as well as the
// notice page's form). It refuses a configuration without a store or the claims' reader, so
// that it fails at start.
func (s *Server) registerRoundRoutes(d workflow.Rounds) error {
	if d.Store == nil || d.Claims == nil {
		return errors.New("supervision: rounds: store and claims are required")
	}
	s.api.Rounds = &d
	s.mux.Handle("POST /api/v1/rounds", s.authed(s.api.OpenRound))
	s.mux.Handle("GET /api/v1/rounds", s.authed(s.api.ListRounds))
	s.mux.Handle("GET /api/v1/rounds/{id}", s.authed(s.api.GetRound))
	s.mux.Handle("POST /api/v1/rounds/{id}/scores", s.authed(s.api.PostRoundScores))
	s.mux.Handle("POST /api/v1/rounds/{id}/allocate", s.authed(s.api.PostRoundAllocation))
	s.mux.Handle("POST /api/v1/rounds/{id}/freeze", s.authed(s.api.PostRoundFreeze))
	s.mux.Handle("POST /api/v1/rounds/{id}/publish", s.authed(s.api.PostRoundPublish))
	s.mux.Handle("POST /api/v1/rounds/{id}/finalise", s.authed(s.api.PostRoundFinal))
	s.mux.Handle("POST /api/v1/rounds/{id}/comments", s.authed(s.api.PostRoundComment))
	s.mux.Handle("POST /api/v1/rounds/{id}/objections", s.authed(s.api.PostRoundObjection))
	s.mux.Handle("GET /api/v1/rounds/{id}/list.xlsx", s.authed(s.api.RoundListXLSX))
	s.mux.Handle("GET /api/v1/rounds/{id}/payment.xlsx", s.authed(s.api.RoundPaymentXLSX))
	if h := s.ui; h != nil {
		h.Rounds = &d
		s.mux.HandleFunc("GET /public/rounds/{file}", h.ShowPublicRound)
		s.mux.HandleFunc("POST /public/rounds/{id}/objections", h.PostPublicObjection)
		s.mux.Handle("GET /rounds", h.Page(h.ShowRounds))
		s.mux.Handle("POST /rounds", h.Page(h.PostRound))
		s.mux.Handle("GET /rounds/{id}", h.Page(h.ShowRound))
		s.mux.Handle("POST /rounds/{id}/{action}", h.Page(h.PostRoundAction))
	}
	return nil
}

// registerBacktestRoutes adds the backtest routes of the API (docs/api.md); the web UI's
// backtest pages (registerUI) run them through the same Backtester.
func (s *Server) registerBacktestRoutes(d workflow.Backtests) {
	s.backtests = workflow.NewBacktester(d)
	s.api.Backtests = s.backtests
	if s.ui != nil {
		s.ui.Backtests = s.backtests
	}
	s.mux.Handle("POST /api/v1/backtests", s.authed(s.api.PostBacktest))
	s.mux.Handle("GET /api/v1/backtests", s.authed(s.api.ListBacktests))
	s.mux.Handle("GET /api/v1/backtests/{id}", s.authed(s.api.GetBacktest))
}
