package main

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/voucherwatch/voucherwatch/store/storetest"
)

// uiClient is a browser without a browser: a cookie jar, redirects not followed.
type uiClient struct {
	t    *testing.T
	base string
	c    *http.Client
}

func newUIClient(t *testing.T, base string) *uiClient {
	jar, _ := cookiejar.New(nil)
	return &uiClient{t: t, base: base, c: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

func (u *uiClient) get(path string) (int, string) {
	u.t.Helper()
	resp, err := u.c.Get(u.base + path)
	if err != nil {
		u.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func (u *uiClient) post(path string, form url.Values) (int, string) {
	u.t.Helper()
	resp, err := u.c.PostForm(u.base+path, form)
	if err != nil {
		u.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

var csrfInput = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// csrf is the CSRF token of the page at path.
func (u *uiClient) csrf(path string) string {
	u.t.Helper()
	_, body := u.get(path)
	m := csrfInput.FindStringSubmatch(body)
	if m == nil {
		u.t.Fatalf("GET %s: no CSRF field: %s", path, body)
	}
	return m[1]
}

func (u *uiClient) signIn(login, password string) {
	u.t.Helper()
	if code, body := u.post("/login", url.Values{"login": {login}, "password": {password}, "csrf": {u.csrf("/login")}}); code != http.StatusSeeOther {
		u.t.Fatalf("sign in as %s: got %d %s", login, code, body)
	}
}

// syncBuffer is a log sink safe for the engine's goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}
func (s *syncBuffer) String() string { s.mu.Lock(); defer s.mu.Unlock(); return s.b.String() }

// startLoggedMain starts the engine in its own database with every log line, debug
// included, kept in the returned buffer, for tests that look for personal data in the logs.
// The context ends, and the engine closes, when the test ends.
func startLoggedMain(t *testing.T) (*Main, *syncBuffer, context.Context) {
	t.Helper()
	c := testConfig(t, storetest.Database(t))
	c.LogLevel = "debug"
	m := NewMain(c)
	logs := new(syncBuffer)
	m.Log = slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	if err := m.Start(ctx); err != nil {
		cancel()
		m.Close()
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })
	t.Cleanup(cancel) // runs first
	return m, logs, ctx
}

// stringColumns lists every String column of every table of the engine's database, as
// {table, column}. Views are left out: they hold no rows of their own, and reading them
// (usage_days spreads every span over its days) only made the scan slow.
func stringColumns(t *testing.T, ctx context.Context, m *Main) [][2]string {
	t.Helper()
	rows, err := m.DB.Conn().Query(ctx, `SELECT table, name FROM system.columns
WHERE database = ? AND type LIKE '%String%'
	AND table IN (SELECT name FROM system.tables WHERE database = ? AND engine NOT LIKE '%View')`, m.DB.Database(), m.DB.Database())
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var cols [][2]string
	for rows.Next() {
		var table, col string
		if err := rows.Scan(&table, &col); err != nil {
			t.Fatal(err)
		}
		cols = append(cols, [2]string{table, col})
	}
	return cols
}

// assertNoneInClear fails for each text of seen (by where it was read) holding one of clear.
func assertNoneInClear(t *testing.T, seen map[string]string, clear []string) {
	t.Helper()
	for where, text := range seen {
		for _, s := range clear {
			if strings.Contains(text, s) {
				t.Errorf("%s holds %q in clear", where, s)
			}
		}
	}
}
