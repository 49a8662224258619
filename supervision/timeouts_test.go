package supervision

import (
	"context"
	"testing"
	"time"

	"github.com/voucherwatch/voucherwatch"
)

// deadlineRecorder is the fake store, noting the deadline of the context each call gets.
type deadlineRecorder struct {
	*fakeWorkflow
	deadlines []time.Duration // time left; -1 for none
}

func (d *deadlineRecorder) note(ctx context.Context) {
	if dl, ok := ctx.Deadline(); ok {
		d.deadlines = append(d.deadlines, time.Until(dl))
	} else {
		d.deadlines = append(d.deadlines, -1)
	}
}

func (d *deadlineRecorder) Alerts(ctx context.Context, f voucherwatch.AlertFilter) ([]voucherwatch.Alert, string, error) {
	d.note(ctx)
	return d.fakeWorkflow.Alerts(ctx, f)
}

func (d *deadlineRecorder) ExportEvents(ctx context.Context, fn func(voucherwatch.Event) error) error {
	d.note(ctx)
	return d.fakeWorkflow.ExportEvents(ctx, fn)
}

// TestEveryRequestHasADeadline: the store is called with the request's deadline, the
// configured request timeout, and the streaming export with the export timeout.
func TestEveryRequestHasADeadline(t *testing.T) {
	s, wf, _ := newWorkflowServer(t)
	rec := &deadlineRecorder{fakeWorkflow: wf}
	s.registerAlertRoutes(AlertDeps{Alerts: rec})
	s.api.Workflow.Events = rec
	s.RequestTimeout, s.ExportTimeout = 7*time.Second, 3*time.Minute
	if code, _ := do(t, s, "GET", "/api/v1/alerts", "admin", nil); code != 200 {
		t.Fatalf("list: got %d", code)
	}
	if code, _ := do(t, s, "GET", "/api/v1/events/export", "admin", nil); code != 200 {
		t.Fatalf("export: got %d", code)
	}
	if len(rec.deadlines) != 2 {
		t.Fatalf("got %d store calls, want 2", len(rec.deadlines))
	}
	if d := rec.deadlines[0]; d <= 0 || d > 7*time.Second {
		t.Errorf("list: got %v left, want a deadline of at most the 7 s request timeout", d)
	}
	if d := rec.deadlines[1]; d <= 7*time.Second || d > 3*time.Minute {
		t.Errorf("export: got %v left, want the 3 min export timeout", d)
	}
}
