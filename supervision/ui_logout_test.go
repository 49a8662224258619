package supervision

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/voucherwatch/voucherwatch"
	"github.com/voucherwatch/voucherwatch/store"
	"github.com/voucherwatch/voucherwatch/store/storetest"
	"github.com/voucherwatch/voucherwatch/supervision/ui"
)

// memRevocations is a hand-written SessionRevocations shared by the instances of a test.
type memRevocations struct {
	mu      sync.Mutex
	revoked map[string]time.Time
}

func (m *memRevocations) RevokeSession(_ context.Context, digest string, expires time.Time) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.revoked == nil {
		m.revoked = map[string]time.Time{}
	}
	m.revoked[digest] = expires
	return nil
}

func (m *memRevocations) SessionRevoked(_ context.Context, digest string) (bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	_, ok := m.revoked[digest]
	return ok, nil
}

// uiInstance is one engine instance's UI over shared fakes and revocations, with its own
// clock and session cache TTL.
func uiInstance(t *testing.T, wf *fakeWorkflow, users *fakeUsers, rev voucherwatch.SessionRevocations, now func() time.Time, cacheTTL time.Duration) *Server {
	t.Helper()
	s := newServer()
	s.setLog(slog.New(slog.NewTextHandler(io.Discard, nil)))
	s.registerAlertRoutes(AlertDeps{Alerts: wf})
	s.registerWorkflowRoutes(WorkflowDeps{Alerts: wf, Events: wf, Users: users, ExplanationDays: 15, TokenCacheTTL: -1, Now: now})
	if err := s.registerUI(ui.Settings{SessionKey: ui.DeriveSessionKey("test-pii-key"), SessionCacheTTL: cacheTTL, Counts: wf, Revocations: rev}); err != nil {
		t.Fatal(err)
	}
	return s
}

// replay sends GET /alerts with the cookies a browser had, as a copy of them would.
func replay(srv http.Handler, cookies []*http.Cookie) page {
	req := httptest.NewRequest("GET", "/alerts", nil)
	for _, c := range cookies {
		req.AddCookie(c)
	}
	rec := httptest.NewRecorder()
	srv.ServeHTTP(rec, req)
	return page{Code: rec.Code, Location: rec.Header().Get("Location")}
}

// checkSignOutEverywhere signs in on instance a, keeps a copy of the cookie, signs out, and
// replays the copy: a refuses it at once; b, which had the session cached as valid, within
// its cache TTL.
func checkSignOutEverywhere(t *testing.T, rev voucherwatch.SessionRevocations) {
	_, wf, users := newUIServer(t, ui.Settings{})
	var mu sync.Mutex
	clock := time.Now()
	now := func() time.Time { mu.Lock(); defer mu.Unlock(); return clock }
	a := uiInstance(t, wf, users, rev, now, -1)
	b := uiInstance(t, wf, users, rev, now, ui.DefaultSessionCacheTTL)
	browser := signedIn(t, a, "changsha")
	copied := browser.c.Jar.Cookies(mustParse(t, browser.base))
	if p := replay(b, copied); p.Code != http.StatusOK {
		t.Fatalf("instance B before sign-out: got %d, want 200", p.Code)
	}
	if p := browser.post("/logout", url.Values{"csrf": {browser.csrf("/alerts")}}); p.Code != http.StatusSeeOther {
		t.Fatalf("sign-out: got %d, want 303", p.Code)
	}
	if p := replay(a, copied); p.Code != http.StatusSeeOther || p.Location != "/login?next=%2Falerts" {
		t.Errorf("the copied cookie on the instance that signed out: got %d to %q, want 303 to the sign-in page", p.Code, p.Location)
	}
	mu.Lock()
	clock = clock.Add(ui.DefaultSessionCacheTTL + time.Second)
	mu.Unlock()
	if p := replay(b, copied); p.Code != http.StatusSeeOther || p.Location != "/login?next=%2Falerts" {
		t.Errorf("the copied cookie on instance B after its cache TTL: got %d to %q, want 303 to the sign-in page", p.Code, p.Location)
	}
	// Another session of the same user is not touched.
	other := signedIn(t, b, "changsha")
	if p := other.get("/alerts"); p.Code != http.StatusOK {
		t.Errorf("a new sign-in after the sign-out: got %d, want 200", p.Code)
	}
}

// TestSignOutRevokesTheSession: after POST /logout, a copy of the cookie gets the sign-in page,
// on the instance that signed out and on another sharing the revocations.
func TestSignOutRevokesTheSession(t *testing.T) {
	checkSignOutEverywhere(t, &memRevocations{})
}

// TestSignOutRevokedOverClickHouse is the same over the store's revocations: two instances
// over one database.
func TestSignOutRevokedOverClickHouse(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	db, err := store.Open(ctx, storetest.Database(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	checkSignOutEverywhere(t, db)
}
