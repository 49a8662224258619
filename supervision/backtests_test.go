package supervision

import (
	"context"
	"encoding/json"
	"github.com/voucherwatch/voucherwatch/supervision/workflow"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/voucherwatch/voucherwatch"
	"github.com/voucherwatch/voucherwatch/rules"
)

// fakeBacktestLog keeps the backtests' log in memory.
type fakeBacktestLog struct {
	mu  sync.Mutex
	log []voucherwatch.BacktestLog
}

func (f *fakeBacktestLog) RecordBacktest(_ context.Context, b voucherwatch.BacktestLog) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.log = append(f.log, b)
	return nil
}

func (f *fakeBacktestLog) Backtests(context.Context, int) ([]voucherwatch.BacktestLog, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := make([]voucherwatch.BacktestLog, len(f.log))
	for i, b := range f.log {
		b.Diff = nil
		out[len(f.log)-1-i] = b
	}
	return out, nil
}

func (f *fakeBacktestLog) Backtest(_ context.Context, id string) (voucherwatch.BacktestLog, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, b := range f.log {
		if b.ID == id {
			return b, nil
		}
	}
	return voucherwatch.BacktestLog{}, voucherwatch.Errorf(voucherwatch.ENOTFOUND, "backtest %s not found", id)
}

// twoCityDiff is a diff with an alert appearing in Changsha and one disappearing in Zhuzhou.
var twoCityDiff = voucherwatch.BacktestDiff{
	Appeared:    []voucherwatch.BacktestAlert{{ID: "al_cs", Detector: "annual_purchase", City: "430100", ApplicantUSCC: "A", AtStake: 1_500_00}},
	Disappeared: []voucherwatch.BacktestAlert{{ID: "al_zz", Detector: "annual_purchase", City: "430200", ApplicantUSCC: "B"}},
	Counts: []voucherwatch.BacktestCount{{Detector: "annual_purchase", City: "430100", Appeared: 1},
		{Detector: "annual_purchase", City: "430200", Disappeared: 1}},
	Subsidy: []voucherwatch.BacktestSubsidy{{City: "", Claims: 2, Before: 3_000_00, After: 1_500_00},
		{City: "430100", Claims: 1, Before: 1_500_00}, {City: "430200", Claims: 1, Before: 1_500_00, After: 1_500_00}},
}

func newBacktestServer(t *testing.T, run func(context.Context, rules.Policy) (voucherwatch.BacktestDiff, error)) (*Server, *fakeBacktestLog) {
	t.Helper()
	s, _ := newAlertServer(t)
	log := &fakeBacktestLog{}
	s.registerBacktestRoutes(workflow.Backtests{Run: run, Log: log, Timeout: 200 * time.Millisecond,
		Now: func() time.Time { return time.Date(2026, 12, 6, 10, 0, 0, 0, voucherwatch.CST) }})
	s.AddToken("reviewer", voucherwatch.User{ID: "4", Name: "省审核", Role: voucherwatch.RoleProvinceReviewer})
	return s, log
}

func postPolicy(t *testing.T, s *Server, token, body string) (int, map[string]any) {
	t.Helper()
	req := httptest.NewRequest(http.MethodPost, "/api/v1/backtests", strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+token)
	rec := httptest.NewRecorder()
	s.ServeHTTP(rec, req)
	var out map[string]any
	if err := json.Unmarshal(rec.Body.Bytes(), &out); err != nil {
		t.Fatalf("%s: %v", rec.Body.String(), err)
	}
	return rec.Code, out
}

// TestBacktestRoutes: the province runs a backtest with a changed policy file and gets the
// diff, money as yuan strings; the run is logged with who, the file's digest and when; a city
// reviewer may not run one and reads only its city's part; a file that does not parse is a
// 400, and a run past the time limit a 503 that is logged too.
func TestBacktestRoutes(t *testing.T) {
	var got rules.Policy
	s, log := newBacktestServer(t, func(_ context.Context, p rules.Policy) (voucherwatch.BacktestDiff, error) {
		got = p
		return twoCityDiff, nil
	})
	policy := strings.Replace(string(mustJSON(t, rules.Default())), `"min_annual_purchase":"50000.00"`, `"min_annual_purchase":"100000.00"`, 1)
	code, body := postPolicy(t, s, "reviewer", policy)
	if code != http.StatusOK {
		t.Fatalf("POST: got %d %v, want 200", code, body)
	}
	if got.MinAnnualPurchase.Money != 100_000_00 {
		t.Errorf("the backtest ran with min_annual_purchase %s, want 100000.00", got.MinAnnualPurchase.Money)
	}
	entry := body["backtest"].(map[string]any)
	if entry["user_id"] != "4" || !strings.HasPrefix(entry["policy_digest"].(string), "sha256:") || entry["status"] != "ok" ||
		entry["at"] != "2026-12-06T10:00:00+08:00" {
		t.Errorf("got entry %v, want the reviewer's, a sha256 digest, ok, at 10:00", entry)
	}
	diff := body["diff"].(map[string]any)
	if a := diff["appeared"].([]any)[0].(map[string]any); a["at_stake"] != "1500.00" {
		t.Errorf("got appeared %v, want at_stake \"1500.00\"", a)
	}
	if len(log.log) != 1 || log.log[0].PolicyDigest != entry["policy_digest"] {
		t.Errorf("got log %+v, want the one run", log.log)
	}

	if code, _ := postPolicy(t, s, "changsha", policy); code != http.StatusForbidden {
		t.Errorf("POST by a city reviewer: got %d, want 403", code)
	}
	if code, body := postPolicy(t, s, "admin", `{"version": ""}`); code != http.StatusBadRequest {
		t.Errorf("POST of a bad policy: got %d %v, want 400", code, body)
	}

	id := entry["id"].(string)
	code, body = call(t, s, http.MethodGet, "/api/v1/backtests/"+id, "changsha")
	if code != http.StatusOK {
		t.Fatalf("GET by Changsha: got %d %v", code, body)
	}
	cd := body["diff"].(map[string]any)
	if n, m := len(cd["appeared"].([]any)), len(cd["disappeared"].([]any)); n != 1 || m != 0 {
		t.Errorf("Changsha's part: got %d appeared, %d disappeared, want 1 and 0 (Zhuzhou's hidden)", n, m)
	}
	for _, sub := range cd["subsidy"].([]any) {
		if c := sub.(map[string]any)["city"]; c != "430100" {
			t.Errorf("Changsha's part shows subsidy of %q", c)
		}
	}
	code, body = call(t, s, http.MethodGet, "/api/v1/backtests", "changsha")
	if code != http.StatusOK || len(body["backtests"].([]any)) != 1 {
		t.Errorf("GET list: got %d %v, want the one entry", code, body)
	}

	slow, slowLog := newBacktestServer(t, func(ctx context.Context, _ rules.Policy) (voucherwatch.BacktestDiff, error) {
		<-ctx.Done()
		return voucherwatch.BacktestDiff{}, ctx.Err()
	})
	if code, body := postPolicy(t, slow, "admin", policy); code != http.StatusServiceUnavailable {
		t.Errorf("a backtest past its limit: got %d %v, want 503", code, body)
	}
	if len(slowLog.log) != 1 || slowLog.log[0].Status != voucherwatch.BacktestTimedOut {
		t.Errorf("got log %+v, want one timed_out entry", slowLog.log)
	}
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
