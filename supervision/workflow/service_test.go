package workflow_test

import (
	"cmp"
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/voucherwatch/voucherwatch"
	"github.com/voucherwatch/voucherwatch/store"
	"github.com/voucherwatch/voucherwatch/store/storetest"
	"github.com/voucherwatch/voucherwatch/supervision/workflow"
)

// The users of the service tests, stored in the database each run opens.
var (
	admin    = voucherwatch.User{ID: "u_admin", Name: "省管理员", Login: "admin", Role: voucherwatch.RoleProvinceAdmin}
	province = voucherwatch.User{ID: "u_prov", Name: "省级审核员", Role: voucherwatch.RoleProvinceReviewer}
	changsha = voucherwatch.User{ID: "u_cs", Name: "长沙审核员", Role: voucherwatch.RoleCityReviewer, City: "430100"}
	zhuzhou  = voucherwatch.User{ID: "u_zz", Name: "株洲审核员", Role: voucherwatch.RoleCityReviewer, City: "430200"}
	auditor  = voucherwatch.User{ID: "u_aud", Name: "审计员", Role: voucherwatch.RoleAuditor}
)

// serviceStart is the first day of the tests' clock: a Thursday in CST.
var serviceStart = time.Date(2026, 11, 26, 9, 0, 0, 0, voucherwatch.CST)

// testClock is the service's clock: a second later at every reading, so that the events of
// one alert have times in the order they were made; set moves it to another day.
type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *testClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(time.Second)
	return c.t
}

func (c *testClock) set(t time.Time) { c.mu.Lock(); c.t = t; c.mu.Unlock() }

// serviceFixture is a workflow service over a migrated database of its own, with the users
// above.
type serviceFixture struct {
	svc   *workflow.Service
	db    *store.DB
	clock *testClock
	n     int // alerts made so far, for distinct invoices
}

func newServiceFixture(t *testing.T) *serviceFixture {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	db, err := store.Open(ctx, storetest.Database(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	for _, u := range []voucherwatch.User{admin, province, changsha, zhuzhou, auditor} {
		if err := db.CreateUser(ctx, u, voucherwatch.TokenHash("vw_"+u.ID), serviceStart); err != nil {
			t.Fatal(err)
		}
	}
	clock := &testClock{t: serviceStart}
	return &serviceFixture{db: db, clock: clock,
		svc: &workflow.Service{Alerts: db, Events: db, Users: db, ExplanationDays: 15, Now: clock.now}}
}

// history is an alert to set up: its city and the statuses it went through.
type history struct {
	city string
	path []voucherwatch.Status
	// applicant is the enterprise the alert is about; one applicant for all when empty.
	applicant string
}

// alerts stores a new alert per history, each a duplicate invoice of its own, with the events
// of its path as the province administrator would have made them, in one write each; it
// returns the alerts' ids in order.
func (f *serviceFixture) alerts(t *testing.T, hs ...history) []string {
	t.Helper()
	var alerts []voucherwatch.Alert
	var events []voucherwatch.Event
	for _, h := range hs {
		f.n++
		s := voucherwatch.Subjects{ApplicantUSCC: cmp.Or(h.applicant, "91430100MA4L0XXXXX"), InvoiceNo: fmt.Sprintf("W%06d", f.n)}
		a := voucherwatch.Alert{ID: voucherwatch.AlertID("duplicate_claim", s), Detector: "duplicate_claim", Kind: "invoice_in_two_claims",
			Severity: voucherwatch.SeverityHigh, Score: 0.9, Subjects: s, City: h.city, PolicyClause: "五.1 / M1b",
			Title: "同一发票被重复申报", Reason: "同一发票出现在两份申报中"}
		alerts = append(alerts, a)
		from := voucherwatch.StatusNew
		for _, to := range h.path {
			tr := voucherwatch.Transition{To: to, Comment: "推进到 " + string(to)}
			switch to {
			case voucherwatch.StatusRecoveryOrdered:
				tr.Amount = 100000
			case voucherwatch.StatusExplanationRequested:
				tr.Deadline = voucherwatch.Day(serviceStart).AddDate(0, 0, 15)
			}
			events = append(events, voucherwatch.NewTransitionEvent(admin, a.ID, from, tr, f.clock.now()))
			from = to
		}
	}
	if _, err := f.db.UpsertAlerts(t.Context(), alerts, f.clock.now()); err != nil {
		t.Fatal(err)
	}
	if len(events) > 0 {
		res, err := f.db.AppendEvents(t.Context(), events)
		if err != nil {
			t.Fatal(err)
		}
		for i, r := range res {
			if r.Err != nil {
				t.Fatalf("setting up %s: %s → %s: %v", events[i].AlertID, events[i].From, events[i].To, r.Err)
			}
		}
	}
	ids := make([]string, len(alerts))
	for i, a := range alerts {
		ids[i] = a.ID
	}
	return ids
}

// alert is one alert of city that went through path (alerts).
func (f *serviceFixture) alert(t *testing.T, city string, path ...voucherwatch.Status) string {
	t.Helper()
	return f.alerts(t, history{city: city, path: path})[0]
}

// move reads the alert as u would act on it and asks the transition, as the API and the UI do.
func (f *serviceFixture) move(t *testing.T, u voucherwatch.User, id string, q workflow.TransitionRequest) (voucherwatch.Event, error) {
	t.Helper()
	a, err := f.svc.ActingOn(t.Context(), u, id)
	if err != nil {
		return voucherwatch.Event{}, err
	}
	return f.svc.Transition(t.Context(), u, a, q)
}

// status is the alert's status as the store reads it.
func (f *serviceFixture) status(t *testing.T, id string) voucherwatch.Status {
	t.Helper()
	a, err := f.db.Alert(t.Context(), id)
	if err != nil {
		t.Fatal(err)
	}
	return a.Status
}

func ptr(s string) *string { return &s }

// TestServiceOnClickHouse runs the workflow service against the real store: who may move an
// alert from which status, explanation deadlines, confirmations and dismissals, recovery
// orders, proposals, assignment, bulk actions, overdue explanations and users. Every group
// has cases that must be refused, each with the code (and field) a client is answered.
func TestServiceOnClickHouse(t *testing.T) {
	f := newServiceFixture(t)
	today := voucherwatch.Day(serviceStart)

	t.Run("transitions", func(t *testing.T) {
		type tc struct {
			name string
			city string
			path []voucherwatch.Status // the alert's history before the move
			by   voucherwatch.User
			q    workflow.TransitionRequest
			code string // "" for a recorded move
			fld  string // the field an EINVALID names
		}
		S := func(ss ...voucherwatch.Status) []voucherwatch.Status { return ss }
		const (
			rev  = voucherwatch.StatusReviewing
			expl = voucherwatch.StatusExplanationRequested
			conf = voucherwatch.StatusConfirmed
			dism = voucherwatch.StatusDismissed
			ord  = voucherwatch.StatusRecoveryOrdered
			done = voucherwatch.StatusRecovered
		)
		cases := []tc{
			{name: "city reviewer starts a review of its city's alert", city: "430100", by: changsha, q: workflow.TransitionRequest{To: "reviewing", Comment: "开始复核"}},
			{name: "city reviewer asks for an explanation", city: "430100", path: S(rev), by: changsha, q: workflow.TransitionRequest{To: "explanation_requested", Comment: "请说明"}},
			{name: "province dismisses a false positive under review", city: "430100", path: S(rev), by: province, q: workflow.TransitionRequest{To: "dismissed", Comment: "误报"}},
			{name: "province confirms after the explanation", city: "430100", path: S(rev, expl), by: province, q: workflow.TransitionRequest{To: "confirmed", Comment: "说明不成立"}},
			{name: "province orders recovery of a confirmed alert", city: "430100", path: S(rev, expl, conf), by: province, q: workflow.TransitionRequest{To: "recovery_ordered", Comment: "责令退回", Amount: ptr("12345.67")}},
			{name: "province records the recovery", city: "430100", path: S(rev, expl, conf, ord), by: admin, q: workflow.TransitionRequest{To: "recovered", Comment: "已退回"}},
			{name: "province reopens a dismissed alert", city: "430100", path: S(rev, dism), by: province, q: workflow.TransitionRequest{To: "reviewing", Comment: "新证据"}},
			{name: "the client saw the status the alert has", city: "430100", path: S(rev), by: province, q: workflow.TransitionRequest{To: "dismissed", Comment: "误报", From: "reviewing"}},

			{name: "another city's alert does not exist for a city reviewer", city: "430200", by: changsha, q: workflow.TransitionRequest{To: "reviewing", Comment: "开始复核"}, code: voucherwatch.ENOTFOUND},
			{name: "an auditor changes nothing", city: "430100", by: auditor, q: workflow.TransitionRequest{To: "reviewing", Comment: "开始复核"}, code: voucherwatch.EFORBIDDEN},
			{name: "a city reviewer does not confirm", city: "430100", path: S(rev, expl), by: changsha, q: workflow.TransitionRequest{To: "confirmed", Comment: "认定"}, code: voucherwatch.EFORBIDDEN},
			{name: "a city reviewer does not dismiss", city: "430100", path: S(rev), by: changsha, q: workflow.TransitionRequest{To: "dismissed", Comment: "误报"}, code: voucherwatch.EFORBIDDEN},
			{name: "a city reviewer does not reopen a dismissed alert", city: "430100", path: S(rev, dism), by: changsha, q: workflow.TransitionRequest{To: "reviewing", Comment: "重新复核"}, code: voucherwatch.EFORBIDDEN},
			{name: "confirming needs the enterprise heard first", city: "430100", path: S(rev), by: province, q: workflow.TransitionRequest{To: "confirmed", Comment: "直接认定"}, code: voucherwatch.ECONFLICT},
			{name: "a new alert is not dismissed unread", city: "430100", by: province, q: workflow.TransitionRequest{To: "dismissed", Comment: "误报"}, code: voucherwatch.ECONFLICT},
			{name: "a recovered alert is final", city: "430100", path: S(rev, expl, conf, ord, done), by: admin, q: workflow.TransitionRequest{To: "reviewing", Comment: "重新复核"}, code: voucherwatch.ECONFLICT},
			{name: "an ordered recovery is not undone", city: "430100", path: S(rev, expl, conf, ord), by: admin, q: workflow.TransitionRequest{To: "reviewing", Comment: "撤销"}, code: voucherwatch.ECONFLICT},
			{name: "the alert moved on since the client's page", city: "430100", path: S(rev), by: province, q: workflow.TransitionRequest{To: "dismissed", Comment: "误报", From: "new"}, code: voucherwatch.ECONFLICT},
			{name: "a recovery order without its amount", city: "430100", path: S(rev, expl, conf), by: province, q: workflow.TransitionRequest{To: "recovery_ordered", Comment: "责令退回"}, code: voucherwatch.EINVALID, fld: "amount"},
			{name: "an amount on another move", city: "430100", path: S(rev, expl), by: province, q: workflow.TransitionRequest{To: "confirmed", Comment: "认定", Amount: ptr("10.00")}, code: voucherwatch.EINVALID, fld: "amount"},
			{name: "a move without a reason", city: "430100", by: changsha, q: workflow.TransitionRequest{To: "reviewing", Comment: "  "}, code: voucherwatch.EINVALID, fld: "comment"},
			{name: "an unknown status", city: "430100", by: province, q: workflow.TransitionRequest{To: "closed", Comment: "关闭"}, code: voucherwatch.EINVALID, fld: "to"},
			{name: "an explanation due today", city: "430100", path: S(rev), by: changsha, q: workflow.TransitionRequest{To: "explanation_requested", Comment: "请说明", Deadline: ptr(today.Format(time.DateOnly))}, code: voucherwatch.EINVALID, fld: "deadline"},
			{name: "an explanation due in more than a year", city: "430100", path: S(rev), by: changsha, q: workflow.TransitionRequest{To: "explanation_requested", Comment: "请说明", Deadline: ptr(today.AddDate(0, 0, 367).Format(time.DateOnly))}, code: voucherwatch.EINVALID, fld: "deadline"},
			{name: "a deadline on another move", city: "430100", path: S(rev), by: province, q: workflow.TransitionRequest{To: "dismissed", Comment: "误报", Deadline: ptr("2026-12-31")}, code: voucherwatch.EINVALID, fld: "deadline"},
		}
		hs := make([]history, len(cases))
		for i, c := range cases {
			hs[i] = history{city: c.city, path: c.path}
		}
		ids := f.alerts(t, hs...)
		for i, c := range cases {
			id := ids[i]
			t.Run(c.name, func(t *testing.T) {
				before := f.status(t, id)
				e, err := f.move(t, c.by, id, c.q)
				if got := voucherwatch.ErrorCode(err); got != c.code || fieldOf(err) != c.fld {
					t.Fatalf("got %q (field %q) %v, want %q (field %q)", got, fieldOf(err), err, c.code, c.fld)
				}
				want := before
				if c.code == "" {
					want = voucherwatch.Status(c.q.To)
					if e.From != before || e.To != want || e.ActorID != c.by.ID || e.Kind != voucherwatch.EventTransition {
						t.Errorf("event: got %s → %s by %s (%s), want %s → %s by %s", e.From, e.To, e.ActorID, e.Kind, before, want, c.by.ID)
					}
				}
				if got := f.status(t, id); got != want {
					t.Errorf("status after: got %s, want %s", got, want)
				}
			})
		}
	})

	t.Run("explanation deadlines and recovery amounts are recorded", func(t *testing.T) {
		rev := []voucherwatch.Status{voucherwatch.StatusReviewing}
		ids := f.alerts(t, history{city: "430100", path: rev}, history{city: "430100", path: rev},
			history{city: "430100", path: []voucherwatch.Status{voucherwatch.StatusReviewing, voucherwatch.StatusExplanationRequested, voucherwatch.StatusConfirmed}})
		id, other, conf := ids[0], ids[1], ids[2]
		e, err := f.move(t, changsha, id, workflow.TransitionRequest{To: "explanation_requested", Comment: "请说明"})
		if err != nil {
			t.Fatal(err)
		}
		if want := today.AddDate(0, 0, 15); !e.Deadline.Equal(want) {
			t.Errorf("no deadline given: got %v, want the policy's 15 days, %v", e.Deadline, want)
		}
		e, err = f.move(t, changsha, other, workflow.TransitionRequest{To: "explanation_requested", Comment: "请说明", Deadline: ptr("2026-12-20")})
		if err != nil || !e.Deadline.Equal(time.Date(2026, 12, 20, 0, 0, 0, 0, voucherwatch.CST)) {
			t.Errorf("a deadline given: got %v %v, want 2026-12-20", e.Deadline, err)
		}
		e, err = f.move(t, province, conf, workflow.TransitionRequest{To: "recovery_ordered", Comment: "责令退回", Amount: ptr("12345.67")})
		if err != nil || e.Amount != 1234567 {
			t.Errorf("recovery order: got %v %v, want 12345.67 yuan", e.Amount, err)
		}
		history, err := f.svc.History(t.Context(), changsha, conf)
		if err != nil || len(history) != 4 || history[3].Amount != 1234567 {
			t.Errorf("history: got %d events %v, want 4 ending with the order", len(history), err)
		}
		if _, err := f.svc.History(t.Context(), zhuzhou, conf); voucherwatch.ErrorCode(err) != voucherwatch.ENOTFOUND {
			t.Errorf("another city's history: got %v, want ENOTFOUND", err)
		}
	})

	t.Run("overdue explanations", func(t *testing.T) {
		id := f.alert(t, "430100", voucherwatch.StatusReviewing)
		if _, err := f.move(t, changsha, id, workflow.TransitionRequest{To: "explanation_requested", Comment: "请说明", Deadline: ptr("2026-11-28")}); err != nil {
			t.Fatal(err)
		}
		answered := f.alert(t, "430100", voucherwatch.StatusReviewing)
		if _, err := f.move(t, changsha, answered, workflow.TransitionRequest{To: "explanation_requested", Comment: "请说明", Deadline: ptr("2026-11-28")}); err != nil {
			t.Fatal(err)
		}
		if _, err := f.move(t, province, answered, workflow.TransitionRequest{To: "dismissed", Comment: "说明成立"}); err != nil {
			t.Fatal(err)
		}
		overdueIDs := func(u voucherwatch.User, city string) map[string]int {
			got, err := f.svc.Overdue(t.Context(), u, city)
			if err != nil {
				t.Fatal(err)
			}
			m := map[string]int{}
			for _, o := range got {
				m[o.AlertID] = o.DaysOverdue
			}
			return m
		}
		if got := overdueIDs(province, ""); len(got) != 0 {
			t.Errorf("before the deadline: got %v overdue, want none", got)
		}
		f.clock.set(time.Date(2026, 12, 1, 9, 0, 0, 0, voucherwatch.CST))
		defer f.clock.set(serviceStart)
		if got := overdueIDs(province, ""); got[id] != 3 || len(got) != 1 {
			t.Errorf("province, 3 days past: got %v, want only %s, 3 days overdue (not the answered one)", got, id)
		}
		if got := overdueIDs(changsha, ""); got[id] != 3 {
			t.Errorf("长沙: got %v, want %s", got, id)
		}
		if got := overdueIDs(zhuzhou, ""); len(got) != 0 {
			t.Errorf("株洲: got %v, want none of 长沙's", got)
		}
		if got := overdueIDs(zhuzhou, "430100"); len(got) != 0 {
			t.Errorf("株洲 asking for 长沙: got %v, want none", got)
		}
	})

	t.Run("proposals", func(t *testing.T) {
		cases := []struct {
			name string
			path []voucherwatch.Status
			by   voucherwatch.User
			to   string
			code string
			fld  string
		}{
			{"city reviewer proposes confirming", []voucherwatch.Status{voucherwatch.StatusReviewing, voucherwatch.StatusExplanationRequested}, changsha, "confirmed", "", ""},
			{"city reviewer proposes dismissing", []voucherwatch.Status{voucherwatch.StatusReviewing}, changsha, "dismissed", "", ""},
			{"city reviewer proposes reopening a dismissed alert", []voucherwatch.Status{voucherwatch.StatusReviewing, voucherwatch.StatusDismissed}, changsha, "reviewing", "", ""},
			{"a move the city reviewer makes itself is no proposal", nil, changsha, "reviewing", voucherwatch.EINVALID, "to"},
			{"a move the workflow does not allow", []voucherwatch.Status{voucherwatch.StatusReviewing}, changsha, "confirmed", voucherwatch.ECONFLICT, ""},
			{"an auditor proposes nothing", []voucherwatch.Status{voucherwatch.StatusReviewing}, auditor, "dismissed", voucherwatch.EFORBIDDEN, ""},
		}
		hs := make([]history, len(cases))
		for i, c := range cases {
			hs[i] = history{city: "430100", path: c.path}
		}
		ids := f.alerts(t, hs...)
		for i, c := range cases {
			id := ids[i]
			t.Run(c.name, func(t *testing.T) {
				before := f.status(t, id)
				var e voucherwatch.Event
				a, err := f.svc.ActingOn(t.Context(), c.by, id)
				if err == nil {
					e, err = f.svc.Propose(t.Context(), c.by, a, workflow.TransitionRequest{To: c.to, Comment: "建议"})
				}
				if got := voucherwatch.ErrorCode(err); got != c.code || fieldOf(err) != c.fld {
					t.Fatalf("got %q (field %q) %v, want %q (field %q)", got, fieldOf(err), err, c.code, c.fld)
				}
				if c.code == "" && (e.Kind != voucherwatch.EventProposal || e.ProposedTo != voucherwatch.Status(c.to) || e.To != before) {
					t.Errorf("event: got %s proposing %s, to %s; want a proposal of %s keeping %s", e.Kind, e.ProposedTo, e.To, c.to, before)
				}
				if got := f.status(t, id); got != before {
					t.Errorf("a proposal changed the status: got %s, want %s", got, before)
				}
			})
		}
	})

	t.Run("assignment", func(t *testing.T) {
		id := f.alert(t, "430100")
		for _, c := range []struct {
			name string
			by   voucherwatch.User
			to   *string
			code string
			fld  string
		}{
			{"province gives a 长沙 alert to 长沙's reviewer", province, ptr(changsha.ID), "", ""},
			{"a city reviewer gives it to the province", changsha, ptr(province.ID), "", ""},
			{"taken back into the city's queue", admin, ptr(""), "", ""},
			{"株洲's reviewer cannot act on a 长沙 alert", province, ptr(zhuzhou.ID), voucherwatch.EINVALID, "user_id"},
			{"an auditor cannot act on alerts", province, ptr(auditor.ID), voucherwatch.EINVALID, "user_id"},
			{"nobody of that id", province, ptr("u_nobody"), voucherwatch.EINVALID, "user_id"},
			{"no assignee named", province, nil, voucherwatch.EINVALID, "user_id"},
		} {
			t.Run(c.name, func(t *testing.T) {
				a, err := f.svc.ActingOn(t.Context(), c.by, id)
				if err != nil {
					t.Fatal(err)
				}
				e, err := f.svc.Assign(t.Context(), c.by, a, workflow.AssignRequest{UserID: c.to, Comment: "请跟进"})
				if got := voucherwatch.ErrorCode(err); got != c.code || fieldOf(err) != c.fld {
					t.Fatalf("got %q (field %q) %v, want %q (field %q)", got, fieldOf(err), err, c.code, c.fld)
				}
				if c.code == "" && (e.Kind != voucherwatch.EventAssignment || e.AssigneeID != *c.to || e.To != voucherwatch.StatusNew) {
					t.Errorf("event: got %s to %q keeping %s, want an assignment to %q keeping new", e.Kind, e.AssigneeID, e.To, *c.to)
				}
			})
		}
		if _, err := f.svc.ActingOn(t.Context(), auditor, id); voucherwatch.ErrorCode(err) != voucherwatch.EFORBIDDEN {
			t.Errorf("an auditor assigning: got %v, want EFORBIDDEN", err)
		}
		// The queue of 长沙's reviewer holds the alert while it is assigned to it.
		a, _ := f.svc.ActingOn(t.Context(), province, id)
		if _, err := f.svc.Assign(t.Context(), province, a, workflow.AssignRequest{UserID: ptr(changsha.ID)}); err != nil {
			t.Fatal(err)
		}
		queue, _, err := f.db.Alerts(t.Context(), voucherwatch.AlertFilter{AssigneeID: changsha.ID, Limit: 100})
		if err != nil || len(queue) != 1 || queue[0].ID != id {
			t.Errorf("长沙's queue: got %d alerts %v, want %s", len(queue), err, id)
		}
	})

	t.Run("bulk", func(t *testing.T) {
		usccBulk := "91430100MA4LBULK01"
		ids := f.alerts(t, history{city: "430100", applicant: usccBulk}, history{city: "430100", applicant: usccBulk},
			history{city: "430100", path: []voucherwatch.Status{voucherwatch.StatusReviewing}, applicant: usccBulk}, history{city: "430200", applicant: usccBulk})
		cs1, cs2, csReviewing, zz := ids[0], ids[1], ids[2], ids[3]
		results := func(res []workflow.BulkResult) map[string]string {
			m := map[string]string{}
			for _, r := range res {
				m[r.AlertID] = voucherwatch.ErrorCode(r.Err)
			}
			return m
		}
		start := workflow.TransitionRequest{To: "reviewing", Comment: "批量开始复核"}

		// A dry run checks every alert and records nothing.
		res, err := f.svc.Bulk(t.Context(), changsha, workflow.BulkRequest{Filter: workflow.BulkFilter{IDs: []string{cs1, cs2, csReviewing, zz, "al_missing"}}, TransitionRequest: start, DryRun: true})
		if err != nil {
			t.Fatal(err)
		}
		want := map[string]string{cs1: "", cs2: "", csReviewing: voucherwatch.ECONFLICT, zz: voucherwatch.ENOTFOUND, "al_missing": voucherwatch.ENOTFOUND}
		if got := results(res); fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("dry run by ids: got %v, want %v", got, want)
		}
		for _, r := range res {
			if r.Event != nil {
				t.Errorf("dry run: %s got an event recorded", r.AlertID)
			}
		}
		if f.status(t, cs1) != voucherwatch.StatusNew {
			t.Error("a dry run moved an alert")
		}
		// By filter, 长沙's reviewer moves its city's new alerts of the applicant, and not 株洲's.
		res, err = f.svc.Bulk(t.Context(), changsha, workflow.BulkRequest{Filter: workflow.BulkFilter{ApplicantUSCC: usccBulk, Status: "new"}, TransitionRequest: start})
		if err != nil {
			t.Fatal(err)
		}
		if got := results(res); fmt.Sprint(got) != fmt.Sprint(map[string]string{cs1: "", cs2: ""}) {
			t.Errorf("by filter: got %v, want %s and %s moved", got, cs1, cs2)
		}
		for id, want := range map[string]voucherwatch.Status{cs1: voucherwatch.StatusReviewing, cs2: voucherwatch.StatusReviewing, zz: voucherwatch.StatusNew} {
			if got := f.status(t, id); got != want {
				t.Errorf("%s after the bulk move: got %s, want %s", id, got, want)
			}
		}
		// A city reviewer's bulk dismissal is refused alert by alert: the decision is the province's.
		res, err = f.svc.Bulk(t.Context(), changsha, workflow.BulkRequest{Filter: workflow.BulkFilter{IDs: []string{cs1, cs2}}, TransitionRequest: workflow.TransitionRequest{To: "dismissed", Comment: "误报"}})
		if err != nil || fmt.Sprint(results(res)) != fmt.Sprint(map[string]string{cs1: voucherwatch.EFORBIDDEN, cs2: voucherwatch.EFORBIDDEN}) {
			t.Errorf("city reviewer dismissing in bulk: got %v %v, want each refused EFORBIDDEN", results(res), err)
		}
		// Refused as a whole: recovery orders, an empty filter, a role that changes nothing.
		for _, c := range []struct {
			name string
			by   voucherwatch.User
			q    workflow.BulkRequest
			code string
			fld  string
		}{
			{"recovery orders one at a time", admin, workflow.BulkRequest{Filter: workflow.BulkFilter{IDs: []string{cs1}}, TransitionRequest: workflow.TransitionRequest{To: "recovery_ordered", Comment: "退回", Amount: ptr("1.00")}}, voucherwatch.EINVALID, "to"},
			{"a filter with no criterion", admin, workflow.BulkRequest{TransitionRequest: start}, voucherwatch.EINVALID, ""},
			{"an unknown status in the filter", admin, workflow.BulkRequest{Filter: workflow.BulkFilter{Status: "open"}, TransitionRequest: start}, voucherwatch.EINVALID, "filter.status"},
			{"an auditor", auditor, workflow.BulkRequest{Filter: workflow.BulkFilter{IDs: []string{zz}}, TransitionRequest: start}, voucherwatch.EFORBIDDEN, ""},
		} {
			res, err := f.svc.Bulk(t.Context(), c.by, c.q)
			if got := voucherwatch.ErrorCode(err); got != c.code || (c.fld != "" && fieldOf(err) != c.fld) || res != nil {
				t.Errorf("%s: got %q (field %q) %v and %d results, want %q (field %q) and none", c.name, got, fieldOf(err), err, len(res), c.code, c.fld)
			}
		}
		if f.status(t, zz) != voucherwatch.StatusNew || f.status(t, cs1) != voucherwatch.StatusReviewing {
			t.Error("a refused bulk request moved an alert")
		}
	})

	t.Run("users and passwords", func(t *testing.T) {
		var told []string
		svc := *f.svc
		svc.PasswordSet = func(id string) { told = append(told, id) }
		nu, token, err := svc.CreateUser(t.Context(), admin, workflow.NewUserRequest{Name: "湘潭审核员", Role: "city_reviewer", City: "湘潭市", Login: "xiangtan", Password: "湘潭-复核-2026-密码"})
		if err != nil || nu.City != "430300" || token == "" {
			t.Fatalf("create: got %+v %q %v, want a 湘潭 reviewer with a token", nu, token, err)
		}
		if _, hash, err := f.db.UserByLogin(t.Context(), "xiangtan"); err != nil || !workflow.CheckPassword(hash, "湘潭-复核-2026-密码") {
			t.Errorf("the stored password does not check: %v", err)
		}
		if _, _, err := svc.CreateUser(t.Context(), admin, workflow.NewUserRequest{Name: "另一人", Role: "auditor", Login: "xiangtan"}); voucherwatch.ErrorCode(err) != voucherwatch.ECONFLICT || fieldOf(err) != "login" {
			t.Errorf("a login taken: got %v, want ECONFLICT on login", err)
		}
		if _, _, err := svc.CreateUser(t.Context(), admin, workflow.NewUserRequest{Name: "无登录", Role: "auditor", Password: "足够长的一个密码-2026"}); fieldOf(err) != "password" {
			t.Errorf("a password without a login: got %v, want EINVALID on password", err)
		}
		if err := svc.SetPassword(t.Context(), province, nu.ID, "另一个足够长的密码-2026"); voucherwatch.ErrorCode(err) != voucherwatch.EFORBIDDEN {
			t.Errorf("a reviewer setting another's password: got %v, want EFORBIDDEN", err)
		}
		if err := svc.SetPassword(t.Context(), admin, nu.ID, "short"); fieldOf(err) != "password" {
			t.Errorf("a short password: got %v, want EINVALID on password", err)
		}
		if len(told) != 0 {
			t.Errorf("refused password changes ended sessions of %v", told)
		}
		if err := svc.SetPassword(t.Context(), admin, nu.ID, "另一个足够长的密码-2026"); err != nil || len(told) != 1 || told[0] != nu.ID {
			t.Errorf("admin sets the password: got %v, sessions ended for %v, want %s", err, told, nu.ID)
		}
	})
}
