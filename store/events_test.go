package store

import (
	"fmt"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/voucherwatch/voucherwatch"
)

var (
	changshaReviewer = voucherwatch.User{ID: "u_cs", Name: "长沙审核员", Role: voucherwatch.RoleCityReviewer, City: "430100"}
	provinceReviewer = voucherwatch.User{ID: "u_prov", Name: "省级审核员", Role: voucherwatch.RoleProvinceReviewer}
)

// move is the event of u moving alert id from → to with a comment, at.
func move(u voucherwatch.User, id string, from, to voucherwatch.Status, at time.Time) voucherwatch.Event {
	return voucherwatch.NewTransitionEvent(u, id, from, voucherwatch.Transition{To: to, Comment: fmt.Sprintf("%s → %s", from, to)}, at)
}

// requestExplanation is the event asking for an explanation due on deadline.
func requestExplanation(u voucherwatch.User, id string, deadline, at time.Time) voucherwatch.Event {
	return voucherwatch.NewTransitionEvent(u, id, voucherwatch.StatusReviewing, voucherwatch.Transition{
		To: voucherwatch.StatusExplanationRequested, Comment: "请于期限内提供说明材料", Deadline: deadline,
	}, at)
}

// appendOK appends events that must all be recorded and returns them as stored.
func appendOK(t *testing.T, db *DB, events ...voucherwatch.Event) []voucherwatch.Event {
	t.Helper()
	res, err := db.AppendEvents(testContext(t), events)
	if err != nil {
		t.Fatal(err)
	}
	out := make([]voucherwatch.Event, len(res))
	for i, r := range res {
		if r.Err != nil {
			t.Fatalf("event %d (%s → %s): %v", i, events[i].From, events[i].To, r.Err)
		}
		out[i] = r.Event
	}
	return out
}

// upsertTestAlert stores one alert for city with the given evidence and returns its id.
func upsertTestAlert(t *testing.T, db *DB, invoice, city string, evidence map[string]any, at time.Time) string {
	t.Helper()
	a := testAlert("invoice_in_two_claims", city, voucherwatch.SeverityHigh, invoice)
	a.Evidence = voucherwatch.EvidenceOf(evidence)
	if _, err := db.UpsertAlerts(testContext(t), []voucherwatch.Alert{a}, at); err != nil {
		t.Fatal(err)
	}
	return a.ID
}

var workflowT0 = time.Date(2026, 11, 20, 9, 0, 0, 0, voucherwatch.CST)

func TestAppendEventsAndHistoryOldestFirst(t *testing.T) {
	db := newTestDB(t)
	ctx := testContext(t)
	id := upsertTestAlert(t, db, "1", "430100", map[string]any{"claims": []any{"A", "B"}}, workflowT0)
	deadline := date(2026, 12, 5)
	recovery := voucherwatch.NewTransitionEvent(provinceReviewer, id, voucherwatch.StatusConfirmed,
		voucherwatch.Transition{To: voucherwatch.StatusRecoveryOrdered, Comment: "责令退回补助", Amount: 1234567}, workflowT0.Add(4*time.Minute))
	proposal, err := voucherwatch.NewProposalEvent(changshaReviewer, id, voucherwatch.StatusExplanationRequested,
		voucherwatch.Transition{To: voucherwatch.StatusConfirmed, Comment: "说明材料不成立，建议认定"}, workflowT0.Add(2*time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	assignment, err := voucherwatch.NewAssignmentEvent(changshaReviewer, id, voucherwatch.StatusReviewing, provinceReviewer, "", workflowT0.Add(time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	// Appended one call at a time, as reviewers act; the assignment and the explanation
	// request fall in the same second and must keep their order.
	var want []voucherwatch.Event
	for _, e := range []voucherwatch.Event{
		move(changshaReviewer, id, voucherwatch.StatusNew, voucherwatch.StatusReviewing, workflowT0),
		assignment,
		requestExplanation(changshaReviewer, id, deadline, workflowT0.Add(time.Minute)),
		proposal,
		move(provinceReviewer, id, voucherwatch.StatusExplanationRequested, voucherwatch.StatusConfirmed, workflowT0.Add(3*time.Minute)),
		recovery,
	} {
		want = append(want, appendOK(t, db, e)...)
	}
	got, err := db.History(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("history:\ngot  %+v\nwant %+v", got, want)
	}
	for i := 1; i < len(got); i++ {
		if got[i].Seq <= got[i-1].Seq {
			t.Errorf("event %d has seq %d after %d, want increasing", i, got[i].Seq, got[i-1].Seq)
		}
	}
	if !got[2].At.Equal(got[1].At.Add(time.Second)) {
		t.Errorf("got the second event of one second at %v after %v, want a second later so that at orders them too", got[2].At, got[1].At)
	}
	if st, err := db.Statuses(ctx, []string{id, "al_untouched"}); err != nil || len(st) != 1 || st[id] != voucherwatch.StatusRecoveryOrdered {
		t.Errorf("got statuses %v, %v, want only %s: recovery_ordered", st, err, id)
	}
	if got[2].Deadline.Format(time.DateOnly) != "2026-12-05" || got[5].Amount != 1234567 {
		t.Errorf("got deadline %s and amount %s, want 2026-12-05 and 12345.67", got[2].Deadline.Format(time.DateOnly), got[5].Amount)
	}
	if got[1].Kind != voucherwatch.EventAssignment || got[1].AssigneeID != provinceReviewer.ID || got[3].ProposedTo != voucherwatch.StatusConfirmed {
		t.Errorf("got assignment %+v and proposal %+v, want them recorded as such", got[1], got[3])
	}
	a, err := db.Alert(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if a.Status != voucherwatch.StatusRecoveryOrdered {
		t.Errorf("got status %s, want recovery_ordered", a.Status)
	}
	if none, err := db.History(ctx, "al_untouched"); err != nil || len(none) != 0 {
		t.Errorf("got %v, %v, want no events for an alert nobody acted on", none, err)
	}
}

// TestAppendEventsRefusesAStaleFrom is the optimistic check: an event whose From is no longer
// the alert's status is refused with ECONFLICT and not recorded.
func TestAppendEventsRefusesAStaleFrom(t *testing.T) {
	db := newTestDB(t)
	ctx := testContext(t)
	id := upsertTestAlert(t, db, "1", "430100", map[string]any{"k": 1}, workflowT0)

	appendOK(t, db, move(changshaReviewer, id, voucherwatch.StatusNew, voucherwatch.StatusReviewing, workflowT0))
	// A second reviewer who loaded the alert while it was new.
	res, err := db.AppendEvents(ctx, []voucherwatch.Event{move(provinceReviewer, id, voucherwatch.StatusNew, voucherwatch.StatusReviewing, workflowT0.Add(time.Second))})
	if err != nil {
		t.Fatal(err)
	}
	if voucherwatch.ErrorCode(res[0].Err) != voucherwatch.ECONFLICT {
		t.Fatalf("got %v, want ECONFLICT", res[0].Err)
	}
	// Two events in one call: the second is checked against the state after the first.
	res, err = db.AppendEvents(ctx, []voucherwatch.Event{
		requestExplanation(changshaReviewer, id, date(2026, 12, 5), workflowT0.Add(2*time.Second)),
		move(provinceReviewer, id, voucherwatch.StatusReviewing, voucherwatch.StatusDismissed, workflowT0.Add(2*time.Second)),
		move(provinceReviewer, id, voucherwatch.StatusExplanationRequested, voucherwatch.StatusDismissed, workflowT0.Add(2*time.Second)),
		move(provinceReviewer, "al_missing", voucherwatch.StatusNew, voucherwatch.StatusReviewing, workflowT0),
	})
	if err != nil {
		t.Fatal(err)
	}
	var codes []string
	for _, r := range res {
		codes = append(codes, voucherwatch.ErrorCode(r.Err))
	}
	if want := []string{"", voucherwatch.ECONFLICT, "", voucherwatch.ENOTFOUND}; !reflect.DeepEqual(codes, want) {
		t.Errorf("got %q, want %q", codes, want)
	}
	h, err := db.History(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	var path []string
	for _, e := range h {
		path = append(path, string(e.To))
	}
	if got := strings.Join(path, ","); got != "reviewing,explanation_requested,dismissed" {
		t.Errorf("got history %s, want reviewing,explanation_requested,dismissed", got)
	}
}

// TestConcurrentReviewersOneWins runs reviewers acting on one alert at the same moment through
// one engine instance: exactly one moves it, the others get ECONFLICT.
func TestConcurrentReviewersOneWins(t *testing.T) {
	db := newTestDB(t)
	ctx := testContext(t)
	id := upsertTestAlert(t, db, "1", "430100", map[string]any{"k": 1}, workflowT0)
	appendOK(t, db, move(changshaReviewer, id, voucherwatch.StatusNew, voucherwatch.StatusReviewing, workflowT0))

	const reviewers = 8
	var wg sync.WaitGroup
	codes := make([]string, reviewers)
	for i := range reviewers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			to := voucherwatch.StatusExplanationRequested
			e := requestExplanation(changshaReviewer, id, date(2026, 12, 5), workflowT0.Add(time.Second))
			if i%2 == 1 {
				to = voucherwatch.StatusDismissed
				e = move(provinceReviewer, id, voucherwatch.StatusReviewing, to, workflowT0.Add(time.Second))
			}
			res, err := db.AppendEvents(ctx, []voucherwatch.Event{e})
			if err != nil {
				codes[i] = err.Error()
				return
			}
			codes[i] = voucherwatch.ErrorCode(res[0].Err)
		}()
	}
	wg.Wait()
	won, conflicts := 0, 0
	for _, c := range codes {
		switch c {
		case "":
			won++
		case voucherwatch.ECONFLICT:
			conflicts++
		default:
			t.Errorf("got %s, want success or ECONFLICT", c)
		}
	}
	if won != 1 || conflicts != reviewers-1 {
		t.Errorf("got %d successes and %d conflicts, want 1 and %d", won, conflicts, reviewers-1)
	}
	if h, _ := db.History(ctx, id); len(h) != 2 {
		t.Errorf("got %d events, want 2", len(h))
	}
}

func TestOverdueExplanations(t *testing.T) {
	db := newTestDB(t)
	ctx := testContext(t)
	ev := map[string]any{"k": 1}
	overdue := upsertTestAlert(t, db, "overdue", "430100", ev, workflowT0)
	notYetDue := upsertTestAlert(t, db, "not-yet-due", "430100", ev, workflowT0)
	answered := upsertTestAlert(t, db, "answered", "430100", ev, workflowT0)
	assignedWhileWaiting := upsertTestAlert(t, db, "assigned", "430200", ev, workflowT0)
	dueToday := upsertTestAlert(t, db, "due-today", "430200", ev, workflowT0)

	for _, id := range []string{overdue, notYetDue, answered, assignedWhileWaiting, dueToday} {
		appendOK(t, db, move(provinceReviewer, id, voucherwatch.StatusNew, voucherwatch.StatusReviewing, workflowT0))
	}
	appendOK(t, db,
		requestExplanation(changshaReviewer, overdue, date(2026, 11, 25), workflowT0.Add(time.Minute)),
		requestExplanation(changshaReviewer, notYetDue, date(2026, 12, 31), workflowT0.Add(time.Minute)),
		requestExplanation(changshaReviewer, answered, date(2026, 11, 25), workflowT0.Add(time.Minute)),
		requestExplanation(provinceReviewer, assignedWhileWaiting, date(2026, 11, 28), workflowT0.Add(time.Minute)),
		requestExplanation(provinceReviewer, dueToday, date(2026, 12, 1), workflowT0.Add(time.Minute)),
	)
	appendOK(t, db, move(changshaReviewer, answered, voucherwatch.StatusExplanationRequested, voucherwatch.StatusReviewing, workflowT0.Add(time.Hour)))
	reassign, err := voucherwatch.NewAssignmentEvent(provinceReviewer, assignedWhileWaiting, voucherwatch.StatusExplanationRequested, provinceReviewer, "", workflowT0.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	appendOK(t, db, reassign)

	today := time.Date(2026, 12, 1, 10, 0, 0, 0, voucherwatch.CST)
	f := func(city string, want ...string) {
		t.Helper()
		got, err := db.OverdueExplanations(ctx, city, today)
		if err != nil {
			t.Fatal(err)
		}
		var ids []string
		for _, o := range got {
			ids = append(ids, o.AlertID)
		}
		if strings.Join(ids, ",") != strings.Join(want, ",") {
			t.Errorf("city %q: got %v, want %v", city, ids, want)
		}
	}
	f("", overdue, assignedWhileWaiting)
	f("430100", overdue)
	f("430200", assignedWhileWaiting)
	f("430300")

	got, err := db.OverdueExplanations(ctx, "430100", today)
	if err != nil || len(got) != 1 {
		t.Fatalf("got %v, %v", got, err)
	}
	o := got[0]
	if o.DaysOverdue != 6 || o.Deadline.Format(time.DateOnly) != "2026-11-25" || o.RequestedBy != changshaReviewer.Name || o.City != "430100" || o.Title == "" {
		t.Errorf("got %+v, want 6 days past 2026-11-25, asked by %s, with the alert's city and title", o, changshaReviewer.Name)
	}
}

// TestEventLogIsAppendOnly checks what keeps the log unalterable in storage: the table is a
// plain MergeTree (no engine that replaces or collapses rows), appending never changes an
// earlier event, and a forced merge keeps every row.
func TestEventLogIsAppendOnly(t *testing.T) {
	db := newTestDB(t)
	ctx := testContext(t)
	var engine string
	if err := db.conn.QueryRow(ctx, "SELECT engine FROM system.tables WHERE database = ? AND name = 'alert_events'", db.database).Scan(&engine); err != nil {
		t.Fatal(err)
	}
	if engine != "MergeTree" {
		t.Errorf("got engine %s, want MergeTree", engine)
	}
	id := upsertTestAlert(t, db, "1", "430100", map[string]any{"k": 1}, workflowT0)
	appendOK(t, db, move(changshaReviewer, id, voucherwatch.StatusNew, voucherwatch.StatusReviewing, workflowT0))
	before, err := db.History(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	// A second event reusing the first one's id is a new row, not a replacement.
	again := requestExplanation(changshaReviewer, id, date(2026, 12, 5), workflowT0.Add(time.Minute))
	again.ID = before[0].ID
	appendOK(t, db, again)
	if err := db.conn.Exec(ctx, "OPTIMIZE TABLE alert_events FINAL"); err != nil {
		t.Fatal(err)
	}
	after, err := db.History(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if len(after) != 2 || !reflect.DeepEqual(after[0], before[0]) {
		t.Errorf("got %+v, want the first event unchanged and the second added", after)
	}
	var exported []voucherwatch.Event
	if err := db.ExportEvents(ctx, func(e voucherwatch.Event) error { exported = append(exported, e); return nil }); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(exported, after) {
		t.Errorf("export: got %+v, want %+v", exported, after)
	}
	stop := fmt.Errorf("stop")
	n := 0
	if err := db.ExportEvents(ctx, func(voucherwatch.Event) error { n++; return stop }); err != stop || n != 1 {
		t.Errorf("got %v after %d events, want the callback's error after 1", err, n)
	}
}
