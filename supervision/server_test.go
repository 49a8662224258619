package supervision

import (
	"errors"
	"github.com/voucherwatch/voucherwatch/supervision/ui"
	"github.com/voucherwatch/voucherwatch/supervision/workflow"
	"log/slog"
	"strings"
	"testing"

	"github.com/voucherwatch/voucherwatch"
)

// TestNewRefusesBrokenConfigurations: what used to panic in a Register* call made out of
// order or without its stores is an error of New, naming the part.
func TestNewRefusesBrokenConfigurations(t *testing.T) {
	wf, users := &fakeWorkflow{}, newFakeUsers()
	key := ui.DeriveSessionKey("test-pii-key")
	for _, tc := range []struct {
		name string
		d    Deps
		want string
	}{
		{"short session key", Deps{Alerts: AlertDeps{Alerts: wf}, Workflow: WorkflowDeps{Users: users}, UI: &ui.Settings{SessionKey: key[:8]}}, "session key"},
		{"UI without the user store", Deps{Alerts: AlertDeps{Alerts: wf}, UI: &ui.Settings{SessionKey: key}}, "user store"},
		{"complaints without a contact box", Deps{Complaints: &workflow.Complaints{}}, "contact box"},
	} {
		if _, err := New(tc.d); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: got %v, want an error naming the %s", tc.name, err, tc.want)
		}
	}
	if _, err := New(Deps{Alerts: AlertDeps{Alerts: wf}, Workflow: WorkflowDeps{Alerts: wf, Events: wf, Users: users}, UI: &ui.Settings{SessionKey: key}}); err != nil {
		t.Errorf("got %v for a working configuration, want none", err)
	}
}

// setLog makes the server and the handlers it built log to l.
func (s *Server) setLog(l *slog.Logger) {
	s.Log, s.api.Log, s.api.Workflow.Log = l, l, l
	if s.complaints != nil {
		s.complaints.Log = l
	}
	if s.ui != nil {
		s.ui.Log, s.ui.Workflow.Log = l, l
	}
}

// fieldOf is the field an EINVALID error names, "" for none.
func fieldOf(err error) string {
	var e *voucherwatch.Error
	if errors.As(err, &e) {
		return e.Field
	}
	return ""
}

// sessionCookie is the name of the web UI's session cookie.
const sessionCookie = "vw_session"
