package supervision

import (
	"encoding/json"
	"github.com/voucherwatch/voucherwatch/supervision/ui"
	"io"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/voucherwatch/voucherwatch"
)

// TestOldCommentsMaskedWhenRead: a comment written before comments were masked, still in the
// log as typed, is masked on the alert page, in the history JSON and in the events CSV; a
// comment re-shown after a refused transition is masked too.
func TestOldCommentsMaskedWhenRead(t *testing.T) {
	s, wf, _ := newUIServer(t, ui.Settings{})
	old := voucherwatch.NewTransitionEvent(uiUsers["changsha"], "cs_new", voucherwatch.StatusNew,
		voucherwatch.Transition{To: voucherwatch.StatusReviewing}, workflowNow)
	old.Comment = "旧记录：法人身份证 430104199003071234，手机 13812345678"
	wf.events = append(wf.events, old)

	b := signedIn(t, s, "admin")
	page := b.get("/alerts/cs_new").Body
	_, history := do(t, s, "GET", "/api/v1/alerts/cs_new/history", "admin-token", nil)
	raw, _ := json.Marshal(history)
	historyText := string(raw)
	req := httptest.NewRequest("GET", "/api/v1/events/export", nil)
	req.Header.Set("Authorization", "Bearer admin-token")
	rec := httptest.NewRecorder()
	s.ServeHTTP(rec, req)
	csv, _ := io.ReadAll(rec.Body)
	// A refused transition (a deadline that is no date) shows the form again with what was typed.
	refused := b.post("/alerts/cs_reviewing/transitions", url.Values{"csrf": {b.csrf("/alerts/cs_reviewing")}, "from": {"reviewing"},
		"to": {"explanation_requested"}, "deadline": {"明天"}, "comment": {"请联系 139-8765-4321 补充材料"}}).Body
	for where, text := range map[string]string{"alert page": page, "history JSON": historyText, "events CSV": string(csv), "refused form": refused} {
		for _, clear := range []string{"430104199003071234", "13812345678", "139-8765-4321", "13987654321"} {
			if strings.Contains(text, clear) {
				t.Errorf("%s holds %q in clear", where, clear)
			}
		}
	}
	if !strings.Contains(refused, "139****4321") {
		t.Errorf("the refused form does not show the comment again, masked: %s", refused)
	}
	if !strings.Contains(historyText, "430***********1234") || !strings.Contains(string(csv), "138****5678") {
		t.Errorf("want the masked forms in the history and the CSV: %s / %s", historyText, csv)
	}
}
