package supervision

import (
	"context"
	"net/http"
	"time"
)

// Every request runs under a deadline, so that a slow query cannot hold a connection and a
// ClickHouse query for the driver's own read timeout (300 s): the store's queries take the
// request's context. The event log export streams for as long as the log is long, and a run
// of every detector on demand takes as long as the province is large, so these two have a
// deadline of their own, and extend the HTTP server's write timeout to match.
const (
	DefaultRequestTimeout = 30 * time.Second
	DefaultExportTimeout  = 10 * time.Minute
)

// longRunning reports whether r is one of the requests whose work grows with the data.
func longRunning(r *http.Request) bool {
	return (r.Method == http.MethodGet && r.URL.Path == "/api/v1/events/export") ||
		(r.Method == http.MethodPost && r.URL.Path == "/api/v1/detectors/run") ||
		(r.Method == http.MethodPost && (r.URL.Path == "/api/v1/backtests" || r.URL.Path == "/backtests"))
}

// Pattern is the route pattern the server's mux would serve r with, "" when none: the docs
// test checks every route a page names through it, since the deadline wraps the request.
func (s *Server) Pattern(r *http.Request) string {
	_, pattern := s.mux.Handler(r)
	return pattern
}

// serveWithDeadline serves r under its deadline.
func (s *Server) serveWithDeadline(w http.ResponseWriter, r *http.Request) {
	timeout := s.RequestTimeout
	if timeout <= 0 {
		timeout = DefaultRequestTimeout
	}
	if longRunning(r) {
		timeout = s.ExportTimeout
		if timeout <= 0 {
			timeout = DefaultExportTimeout
		}
		// Not every ResponseWriter supports deadlines (a test's recorder does not); the
		// server's own write timeout then stands.
		_ = http.NewResponseController(w).SetWriteDeadline(time.Now().Add(timeout))
	}
	ctx, cancel := context.WithTimeout(r.Context(), timeout)
	defer cancel()
	s.mux.ServeHTTP(w, r.WithContext(ctx))
}
