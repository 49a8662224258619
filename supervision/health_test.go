package supervision

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

// TestHealthz: 200 "ok" when the check passes, 503 with the check's short reason when it fails
// or hangs; no token needed.
func TestHealthz(t *testing.T) {
	f := func(check HealthCheck, wantStatus int, wantBody string) {
		t.Helper()
		s := newServer()
		s.registerHealth(check)
		rec := httptest.NewRecorder()
		s.ServeHTTP(rec, httptest.NewRequest("GET", "/healthz", nil))
		body, _ := io.ReadAll(rec.Body)
		if rec.Code != wantStatus || string(body) != wantBody {
			t.Errorf("got %d %q, want %d %q", rec.Code, body, wantStatus, wantBody)
		}
		if ct := rec.Header().Get("Content-Type"); ct != "text/plain; charset=utf-8" {
			t.Errorf("got Content-Type %q, want text/plain", ct)
		}
	}
	f(func(context.Context) error { return nil }, http.StatusOK, "ok\n")
	f(func(context.Context) error { return errors.New("clickhouse unreachable") }, http.StatusServiceUnavailable, "unhealthy: clickhouse unreachable\n")
	f(func(context.Context) error { return errors.New("topic vw.usage stalled for 6m0s") }, http.StatusServiceUnavailable, "unhealthy: topic vw.usage stalled for 6m0s\n")
	start := time.Now()
	f(func(ctx context.Context) error { <-ctx.Done(); return nil }, http.StatusServiceUnavailable, "unhealthy: context deadline exceeded\n")
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("a hanging check took %v to answer, want about 3 s", d)
	}
}
