package supervision

import (
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// publicAPIRoutes are the API routes meant to answer without a token.
var publicAPIRoutes = map[string]bool{
	"GET /api/v1/spotchecks/{id}/public": true, // 一公开: the published results
}

// TestEveryAPIRouteNeedsAToken reads the routes this package registers from its source and
// asks each without a token and with an unknown one: every route but the public ones answers
// 401 before it looks at anything, so a route added without authed fails here.
func TestEveryAPIRouteNeedsAToken(t *testing.T) {
	s, _ := newSpotCheckUIServer(t)
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	pattern := regexp.MustCompile(`s\.mux\.Handle(?:Func)?\("([A-Z]+) (/api/[^"]+)"`)
	seen := 0
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		src, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range pattern.FindAllStringSubmatch(string(src), -1) {
			method, path := m[1], m[2]
			seen++
			url := regexp.MustCompile(`\{[a-z_]+\}`).ReplaceAllString(path, "x1")
			for _, token := range []string{"", "unknown-token"} {
				r := httptest.NewRequest(method, url, strings.NewReader("{}"))
				if token != "" {
					r.Header.Set("Authorization", "Bearer "+token)
				}
				w := httptest.NewRecorder()
				s.ServeHTTP(w, r)
				public := publicAPIRoutes[method+" "+path]
				if !public && w.Code != http.StatusUnauthorized {
					t.Errorf("%s %s with token %q: got %d, want 401", method, path, token, w.Code)
				}
				if public && w.Code == http.StatusUnauthorized {
					t.Errorf("%s %s is public, got 401", method, path)
				}
			}
		}
	}
	if seen < 30 {
		t.Errorf("found %d API routes in the source, want the 30 or more the engine has", seen)
	}
}
