package supervision

import (
	"context"
	"fmt"
	"testing"

	"github.com/voucherwatch/voucherwatch"
	"github.com/voucherwatch/voucherwatch/supervision/workflow"
)

// countingAlerts counts the reads of the fake store.
type countingAlerts struct {
	*fakeWorkflow
	lists, singles int
}

func (c *countingAlerts) Alerts(ctx context.Context, f voucherwatch.AlertFilter) ([]voucherwatch.Alert, string, error) {
	c.lists++
	return c.fakeWorkflow.Alerts(ctx, f)
}

func (c *countingAlerts) Alert(ctx context.Context, id string) (voucherwatch.Alert, error) {
	c.singles++
	return c.fakeWorkflow.Alert(ctx, id)
}

// TestBulkByIDsIsOneQuery: a bulk action naming 1,000 ids reads them in one query, and still
// answers each id on its own: applied, 404 (missing or another city's) or 409 (not matching).
func TestBulkByIDsIsOneQuery(t *testing.T) {
	s, wf, _ := newWorkflowServer(t)
	for i := range workflow.MaxBulkAlerts - 5 {
		wf.alerts = append(wf.alerts, voucherwatch.Alert{ID: fmt.Sprintf("cs_more%03d", i), Detector: "duplicate_claim", Severity: voucherwatch.SeverityHigh, City: "430100", Status: voucherwatch.StatusNew})
	}
	counting := &countingAlerts{fakeWorkflow: wf}
	s.api.Workflow.Alerts = counting
	ids := []string{"cs_new", "zz_new", "cs_confirmed", "al_missing", "cs_new"}
	for i := range workflow.MaxBulkAlerts - 5 {
		ids = append(ids, fmt.Sprintf("cs_more%03d", i))
	}
	code, body := do(t, s, "POST", "/api/v1/alerts/bulk", "changsha", map[string]any{
		"filter": map[string]any{"ids": ids, "status": "new"}, "to": "reviewing", "comment": "批量开始复核", "dry_run": true,
	})
	if code != 200 {
		t.Fatalf("got %d %v", code, body)
	}
	if counting.lists != 1 || counting.singles != 0 {
		t.Errorf("got %d list queries and %d single reads for %d ids, want 1 and 0", counting.lists, counting.singles, workflow.MaxBulkAlerts)
	}
	status := map[string]float64{}
	for _, r := range body["results"].([]any) {
		m := r.(map[string]any)
		status[m["alert_id"].(string)] = m["status"].(float64)
	}
	for id, want := range map[string]float64{"cs_new": 200, "zz_new": 404, "cs_confirmed": 409, "al_missing": 404, "cs_more000": 200} {
		if status[id] != want {
			t.Errorf("%s: got %v, want %v", id, status[id], want)
		}
	}
	if len(status) != workflow.MaxBulkAlerts-1 {
		t.Errorf("got %d results, want %d (one per distinct id)", len(status), workflow.MaxBulkAlerts-1)
	}
}
