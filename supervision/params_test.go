package supervision

import (
	"bytes"
	"context"
	"encoding/base64"
	"log/slog"
	"net/url"
	"strings"
	"testing"

	"github.com/voucherwatch/voucherwatch"
	"github.com/voucherwatch/voucherwatch/supervision/workflow"
)

// cursorCheckingAlerts is the fake alert store with the real store's cursor check: a cursor
// whose time is outside DateTime is EINVALID on the field cursor.
type cursorCheckingAlerts struct{ *fakeWorkflow }

func (c cursorCheckingAlerts) Alerts(ctx context.Context, f voucherwatch.AlertFilter) ([]voucherwatch.Alert, string, error) {
	if f.Cursor != "" {
		return nil, "", voucherwatch.FieldErrorf("cursor", "malformed cursor")
	}
	return c.fakeWorkflow.Alerts(ctx, f)
}

// TestBadParametersAre400 sends the client mistakes of issue 11: each answers 400 naming the
// parameter, and none logs an ERROR.
func TestBadParametersAre400(t *testing.T) {
	s, wf, _ := newWorkflowServer(t)
	var log bytes.Buffer
	s.setLog(slog.New(slog.NewTextHandler(&log, nil)))
	s.registerAlertRoutes(AlertDeps{Alerts: cursorCheckingAlerts{wf}})
	cursor := base64.RawURLEncoding.EncodeToString([]byte("99999999999|zzz"))
	for _, tc := range []struct{ query, field string }{
		{"cursor=" + cursor, "cursor"},
		{"since=2200-01-01T00:00:00Z", "since"},
		{"since=2106-01-01T00:00:00Z", "since"},
		{"since=1969-12-31T23:59:59Z", "since"},
		{"since=2200-01-01", "since"},
		{"status=closed", "status"},
		{"status=" + url.QueryEscape("new' OR 1=1"), "status"},
		{"detector=no_such_detector", "detector"},
	} {
		code, body := do(t, s, "GET", "/api/v1/alerts?"+tc.query, "admin", nil)
		if code != 400 || errorField(body) != tc.field {
			t.Errorf("%s: got %d %v, want 400 naming %s", tc.query, code, body, tc.field)
		}
	}
	// Look-alikes that are fine.
	for _, q := range []string{"since=2105-12-31T23:59:59Z", "since=1970-01-01T00:00:00Z", "status=new", "detector=requested_over_limit"} {
		if code, body := do(t, s, "GET", "/api/v1/alerts?"+q, "admin", nil); code != 200 {
			t.Errorf("%s: got %d %v, want 200", q, code, body)
		}
	}
	bulk := func(filter map[string]any) (int, map[string]any) {
		return do(t, s, "POST", "/api/v1/alerts/bulk", "admin", map[string]any{"filter": filter, "to": "reviewing", "comment": "批量开始复核"})
	}
	if code, body := bulk(map[string]any{"detector": "nope"}); code != 400 || errorField(body) != "filter.detector" {
		t.Errorf("bulk with an unknown detector: got %d %v, want 400 naming filter.detector", code, body)
	}
	if code, body := bulk(map[string]any{"status": "nope"}); code != 400 || errorField(body) != "filter.status" {
		t.Errorf("bulk with an unknown status: got %d %v, want 400 naming filter.status", code, body)
	}
	if strings.Contains(log.String(), "level=ERROR") {
		t.Errorf("client mistakes logged as errors:\n%s", log.String())
	}
}

// TestEveryDetectorNameIsKnown keeps workflow.CheckAlertFilter in step with the detectors: each
// detector's name is accepted as a filter.
func TestEveryDetectorNameIsKnown(t *testing.T) {
	for _, name := range []string{voucherwatch.DetectorDuplicateClaim, voucherwatch.DetectorRelatedParty, voucherwatch.DetectorPrice, voucherwatch.DetectorResale} {
		if err := workflow.CheckAlertFilter(voucherwatch.AlertFilter{Detector: name}, ""); err != nil {
			t.Errorf("%s: got %v, want accepted", name, err)
		}
	}
}
