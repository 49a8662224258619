// Package supervision is the engine's HTTP edge as wiring: one server (New) that builds the JSON
// API's handler (package api) and the web UI's (package ui) from its Deps and mounts them on
// their routes (routes.go), behind bearer tokens (tokens.go) and request deadlines
// (timeouts.go), with health and metrics. What the API and the UI both do is package
// workflow's; the lists they export are package export's; alerts' evidence is laid out by
// package evidence; the Chinese text is package locale's; spot checks are drawn by the
// top-level package spotcheck.
package supervision

import (
	"context"
	"crypto/sha256"
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/voucherwatch/voucherwatch"
	"github.com/voucherwatch/voucherwatch/supervision/api"
	"github.com/voucherwatch/voucherwatch/supervision/ui"
	"github.com/voucherwatch/voucherwatch/supervision/workflow"
)

// Server serves the API and the metrics. The function fields are its dependencies, so tests can
// start it with hand-written fakes.
type Server struct {
	// Gatherer serves /metrics.
	Gatherer prometheus.Gatherer
	Log      *slog.Logger
	// RequestTimeout bounds every request, and so the queries it makes; DefaultRequestTimeout
	// when zero. ExportTimeout bounds the streaming event export and the detector run on
	// demand instead; DefaultExportTimeout when zero (timeouts.go).
	RequestTimeout time.Duration
	ExportTimeout  time.Duration

	mu     sync.RWMutex
	tokens map[[32]byte]voucherwatch.User // SHA-256 of the token → user; raw tokens are not kept

	mux *http.ServeMux
	// api answers the JSON API's routes; the register functions below fill its Deps.
	api       *api.Handler
	alerts    AlertDeps
	backtests *workflow.Backtester
	workflow  WorkflowDeps
	// users caches the look-ups of tokens in the shared user store (users.go).
	users tokenCache
	// ui serves the web UI's pages, once registerUI built it.
	ui *ui.Handler
	// spotchecks are the spot-check operations, once registerSpotCheckRoutes added them; the
	// web UI's spot-check pages say the feature is not set up while they are nil.
	spotchecks *workflow.SpotChecks
	// register is the supplier register, once registerRegisterRoutes added it.
	register *workflow.Register
	// complaints are the complaint operations, once registerComplaintRoutes added them.
	complaints *workflow.Complaints
}

// Deps is everything the server serves. Alerts and Workflow are the core; the parts below them
// add their routes when set.
type Deps struct {
	Alerts   AlertDeps
	Workflow WorkflowDeps
	// SpotChecks adds the spot-check routes and pages.
	SpotChecks *workflow.SpotChecks
	// Register adds the supplier register's routes and public pages.
	Register *workflow.Register
	// UI adds the web UI; it needs Alerts.Alerts and Workflow.Users.
	UI *ui.Settings
	// Complaints adds the complaint route and, with the UI, the public complaint pages.
	Complaints *workflow.Complaints
	// Rounds adds the annual round's routes, its public notice and, with the UI, its pages.
	Rounds *workflow.Rounds
	// Backtests adds the backtest routes and, with the UI, their pages (docs/priorities.md).
	Backtests *workflow.Backtests
	// Health adds GET /healthz.
	Health HealthCheck
	// IngestStatus and DeadLetters answer GET /api/v1/status and /api/v1/deadletters.
	IngestStatus func(ctx context.Context) (voucherwatch.IngestStatus, error)
	DeadLetters  func(ctx context.Context) (any, error)
	// Gatherer serves /metrics; prometheus.DefaultGatherer when nil.
	Gatherer prometheus.Gatherer
	// Log is slog.Default() when nil.
	Log *slog.Logger
	// RequestTimeout and ExportTimeout: see Server.
	RequestTimeout, ExportTimeout time.Duration
}

// New builds the server with every route d asks for, in the order they depend on each other.
// It returns an error for a configuration that cannot work (a short session key, the UI
// without the stores it reads, complaints without their store, registry or contact box), so
// that it fails at start.
func New(d Deps) (*Server, error) {
	if d.UI != nil {
		if len(d.UI.SessionKey) < 16 {
			return nil, errors.New("supervision: web UI: session key shorter than 16 bytes")
		}
		if d.Workflow.Users == nil || d.Alerts.Alerts == nil {
			return nil, errors.New("supervision: web UI: the alert store and the user store are required")
		}
	}
	if c := d.Complaints; c != nil && (c.Store == nil || c.Registry == nil || c.Box == nil) {
		return nil, errors.New("supervision: complaints: store, registry and contact box are required")
	}
	s := newServer()
	if d.Log != nil {
		s.Log, s.api.Log = d.Log, d.Log
	}
	s.Gatherer, s.api.IngestStatus, s.api.DeadLetters = d.Gatherer, d.IngestStatus, d.DeadLetters
	s.RequestTimeout, s.ExportTimeout = d.RequestTimeout, d.ExportTimeout
	s.registerAlertRoutes(d.Alerts)
	s.registerWorkflowRoutes(d.Workflow)
	if d.SpotChecks != nil {
		s.registerSpotCheckRoutes(*d.SpotChecks)
	}
	if d.Register != nil {
		s.registerRegisterRoutes(*d.Register)
	}
	if d.UI != nil {
		if err := s.registerUI(*d.UI); err != nil {
			return nil, err
		}
	}
	if d.Complaints != nil {
		s.registerComplaintRoutes(*d.Complaints)
	}
	if d.Rounds != nil {
		if err := s.registerRoundRoutes(*d.Rounds); err != nil {
			return nil, err
		}
	}
	if d.Backtests != nil {
		s.registerBacktestRoutes(*d.Backtests)
	}
	if d.Health != nil {
		s.registerHealth(d.Health)
	}
	return s, nil
}

// newServer is a server with the status and metrics routes only; New adds the rest.
func newServer() *Server {
	s := &Server{tokens: map[[32]byte]voucherwatch.User{}, mux: http.NewServeMux(), Log: slog.Default()}
	s.api = api.New(api.Deps{Log: s.Log, UserDisabled: func(id string) {
		s.users.forget(id)
		s.forgetSessions(id)
	}})
	s.mux.HandleFunc("GET /metrics", s.serveMetrics)
	s.mux.Handle("GET /api/v1/status", s.authed(s.api.GetStatus))
	s.mux.Handle("GET /api/v1/deadletters", s.authed(s.api.GetDeadLetters))
	s.mux.Handle("/api/", s.authed(func(w http.ResponseWriter, r *http.Request, _ voucherwatch.User) {
		api.WriteError(w, voucherwatch.Errorf(voucherwatch.ENOTFOUND, "no such route: %s %s", r.Method, r.URL.Path))
	}))
	return s
}

// ServeHTTP implements http.Handler: every request under a deadline (timeouts.go).
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.serveWithDeadline(w, r) }

// AddToken lets the bearer of token act as u. Only a hash of the token is kept.
func (s *Server) AddToken(token string, u voucherwatch.User) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.tokens[sha256.Sum256([]byte(token))] = u
}

// userFor finds the bearer of the request's token: first among the tokens added with AddToken,
// then in the user store shared by the engine's instances (registerWorkflowRoutes). The error
// is the store's, for a look-up that could not be made.
func (s *Server) userFor(r *http.Request) (voucherwatch.User, bool, error) {
	h := r.Header.Get("Authorization")
	token, ok := strings.CutPrefix(h, "Bearer ")
	if !ok || token == "" {
		return voucherwatch.User{}, false, nil
	}
	// Looking up the digest, not the token, leaks nothing useful through timing.
	sum := sha256.Sum256([]byte(token))
	s.mu.RLock()
	u, ok := s.tokens[sum]
	s.mu.RUnlock()
	if ok {
		return u, true, nil
	}
	return s.storedUserFor(r.Context(), sum)
}

type authedHandler func(w http.ResponseWriter, r *http.Request, u voucherwatch.User)

// authed answers 401 to a request without a known bearer token.
func (s *Server) authed(h authedHandler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r = r.WithContext(voucherwatch.WithQueryLabel(r.Context(), "api:"+r.Pattern))
		u, ok, err := s.userFor(r)
		if err != nil {
			s.api.Fail(w, err)
			return
		}
		if !ok {
			w.Header().Set("WWW-Authenticate", `Bearer realm="voucherwatch"`)
			api.WriteError(w, voucherwatch.Errorf(voucherwatch.EUNAUTH, "missing or unknown bearer token"))
			return
		}
		h(w, r, u)
	})
}

func (s *Server) serveMetrics(w http.ResponseWriter, r *http.Request) {
	g := s.Gatherer
	if g == nil {
		g = prometheus.DefaultGatherer
	}
	promhttp.HandlerFor(g, promhttp.HandlerOpts{}).ServeHTTP(w, r)
}
