package store

import (
	"strings"
	"testing"
	"time"

	"github.com/voucherwatch/voucherwatch"
)

func TestReopenChangedEvidence(t *testing.T) {
	db := newTestDB(t)
	ctx := testContext(t)
	a := testAlert("invoice_in_two_claims", "430100", voucherwatch.SeverityHigh, "1")
	a.Evidence = voucherwatch.EvidenceOf(map[string]any{"claims": []any{"SB-1", "SB-2"}, "invoice_no": "26432000000012345678"})
	b := testAlert("invoice_in_two_claims", "430100", voucherwatch.SeverityHigh, "2")
	b.Evidence = voucherwatch.EvidenceOf(map[string]any{"claims": []any{"SB-7", "SB-8"}})
	upsert := func(at time.Time, alerts ...voucherwatch.Alert) {
		t.Helper()
		if _, err := db.UpsertAlerts(ctx, alerts, at); err != nil {
			t.Fatal(err)
		}
	}
	upsert(workflowT0, a, b)
	for _, id := range []string{a.ID, b.ID} {
		appendOK(t, db,
			move(provinceReviewer, id, voucherwatch.StatusNew, voucherwatch.StatusReviewing, workflowT0.Add(time.Minute)),
			move(provinceReviewer, id, voucherwatch.StatusReviewing, voucherwatch.StatusDismissed, workflowT0.Add(2*time.Minute)))
	}
	reopen := func(at time.Time, ids []string, want ...string) []voucherwatch.Event {
		t.Helper()
		got, err := db.ReopenChanged(ctx, ids, at)
		if err != nil {
			t.Fatal(err)
		}
		var gotIDs []string
		for _, e := range got {
			gotIDs = append(gotIDs, e.AlertID)
		}
		if strings.Join(gotIDs, ",") != strings.Join(want, ",") {
			t.Fatalf("got reopened %v, want %v", gotIDs, want)
		}
		return got
	}
	// Detectors re-run and find the same: both stay dismissed.
	upsert(workflowT0.Add(time.Hour), a, b)
	reopen(workflowT0.Add(time.Hour), nil)

	// a's evidence changes: only a reopens, with the change in the comment.
	a.Evidence = voucherwatch.EvidenceOf(map[string]any{"claims": []any{"SB-1", "SB-2", "SB-3"}, "invoice_no": "26432000000012345678"})
	upsert(workflowT0.Add(2*time.Hour), a, b)
	reopen(workflowT0.Add(2*time.Hour), []string{}) // nothing updated, nothing to check
	reopen(workflowT0.Add(2*time.Hour), []string{b.ID})
	got := reopen(workflowT0.Add(2*time.Hour), []string{a.ID, b.ID}, a.ID)
	e := got[0]
	if e.ActorRole != voucherwatch.RoleSystem || e.From != voucherwatch.StatusDismissed || e.To != voucherwatch.StatusReviewing {
		t.Errorf("got %+v, want a system event dismissed → reviewing", e)
	}
	if want := `claims：["SB-1","SB-2"] → ["SB-1","SB-2","SB-3"]`; !strings.Contains(e.Comment, want) || strings.Contains(e.Comment, "invoice_no") {
		t.Errorf("got comment %q, want it to show %s and only that", e.Comment, want)
	}
	if st, _ := db.Alert(ctx, a.ID); st.Status != voucherwatch.StatusReviewing {
		t.Errorf("got status %s, want reviewing", st.Status)
	}
	if st, _ := db.Alert(ctx, b.ID); st.Status != voucherwatch.StatusDismissed {
		t.Errorf("got status %s for the unchanged alert, want dismissed", st.Status)
	}
	// Running again changes nothing: a is under review now.
	reopen(workflowT0.Add(3*time.Hour), nil)

	// Dismissed again on the new evidence, a stays dismissed until it changes anew.
	appendOK(t, db, move(provinceReviewer, a.ID, voucherwatch.StatusReviewing, voucherwatch.StatusDismissed, workflowT0.Add(4*time.Hour)))
	upsert(workflowT0.Add(5*time.Hour), a, b)
	reopen(workflowT0.Add(5*time.Hour), nil)
}

func TestEvidenceChange(t *testing.T) {
	got := EvidenceChange(`{"a":1,"b":"<x>","c":[1]}`, `{"a":2,"c":[1],"d":"新"}`)
	for _, want := range []string{"a：1 → 2", `删除 b（原为 "<x>"）`, `新增 d："新"`} {
		if !strings.Contains(got, want) {
			t.Errorf("got %q, want it to contain %q", got, want)
		}
	}
	if strings.Contains(got, "c：") {
		t.Errorf("got %q, want the unchanged c left out", got)
	}
	long := EvidenceChange(`{"a":"`+strings.Repeat("x", 10000)+`"}`, `{"a":"y"}`)
	if n := len([]rune(long)); n > voucherwatch.MaxCommentRunes {
		t.Errorf("got a comment of %d characters, want at most %d", n, voucherwatch.MaxCommentRunes)
	}
	if !sameEvidence(`{"a":1,"b":2}`, `{"b":2, "a":1}`) || sameEvidence(`{"a":1}`, `{"a":2}`) {
		t.Error("sameEvidence must compare values, not text")
	}
}

// TestReopeningAlertsForTheRunner runs the detector runner's store: a re-run with changed
// evidence reopens a dismissed alert by itself.
func TestReopeningAlertsForTheRunner(t *testing.T) {
	db := newTestDB(t)
	ctx := testContext(t)
	st := ReopeningAlerts{db}
	a := testAlert("invoice_in_two_claims", "430100", voucherwatch.SeverityHigh, "1")
	if _, err := st.UpsertAlerts(ctx, []voucherwatch.Alert{a}, workflowT0); err != nil {
		t.Fatal(err)
	}
	appendOK(t, db,
		move(provinceReviewer, a.ID, voucherwatch.StatusNew, voucherwatch.StatusReviewing, workflowT0.Add(time.Minute)),
		move(provinceReviewer, a.ID, voucherwatch.StatusReviewing, voucherwatch.StatusDismissed, workflowT0.Add(2*time.Minute)))
	if _, err := st.UpsertAlerts(ctx, []voucherwatch.Alert{a}, workflowT0.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if got, _ := db.Alert(ctx, a.ID); got.Status != voucherwatch.StatusDismissed {
		t.Errorf("same evidence: got %s, want dismissed", got.Status)
	}
	a.Evidence = voucherwatch.EvidenceOf(map[string]any{"claims": []any{"A", "B", "C"}})
	res, err := st.UpsertAlerts(ctx, []voucherwatch.Alert{a}, workflowT0.Add(2*time.Hour))
	if err != nil || res.Updated != 1 {
		t.Fatalf("got %+v, %v, want one updated", res, err)
	}
	if got, _ := db.Alert(ctx, a.ID); got.Status != voucherwatch.StatusReviewing {
		t.Errorf("changed evidence: got %s, want reviewing", got.Status)
	}
	h, _ := db.History(ctx, a.ID)
	if last := h[len(h)-1]; last.ActorName != "系统" || !strings.Contains(last.Comment, `["A","B","C"]`) {
		t.Errorf("got %+v, want the system's event showing the new claims", last)
	}
}
