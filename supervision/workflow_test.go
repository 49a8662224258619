package supervision

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/voucherwatch/voucherwatch"
)

// workflowNow is the fixed clock of the workflow tests.
var workflowNow = time.Date(2026, 11, 20, 10, 0, 0, 0, voucherwatch.CST)

// The users of the workflow tests, by the bearer token each one signs in with.
var workflowUsers = map[string]voucherwatch.User{
	"admin":    {ID: "u_admin", Name: "省管理员", Role: voucherwatch.RoleProvinceAdmin},
	"province": {ID: "u_prov", Name: "省级审核员", Role: voucherwatch.RoleProvinceReviewer},
	"changsha": {ID: "u_cs", Name: "长沙审核员", Role: voucherwatch.RoleCityReviewer, City: "430100"},
	"zhuzhou":  {ID: "u_zz", Name: "株洲审核员", Role: voucherwatch.RoleCityReviewer, City: "430200"},
	"auditor":  {ID: "u_aud", Name: "审计员", Role: voucherwatch.RoleAuditor},
}

// roleTokens are the tokens of one user of each role.
var roleTokens = []string{"admin", "province", "changsha", "auditor"}

// newWorkflowServer starts a server over fakes with, in each of 长沙 (cs_) and 株洲 (zz_), one
// alert in every status, named by it: cs_new, cs_reviewing, ..., zz_recovered.
func newWorkflowServer(t *testing.T) (*Server, *fakeWorkflow, *fakeUsers) {
	t.Helper()
	wf := &fakeWorkflow{}
	for _, st := range voucherwatch.Statuses {
		wf.alerts = append(wf.alerts,
			voucherwatch.Alert{ID: "cs_" + string(st), Detector: "duplicate_claim", Severity: voucherwatch.SeverityHigh, City: "430100", Status: st, Title: "同一发票被重复申报"},
			voucherwatch.Alert{ID: "zz_" + string(st), Detector: "price_out_of_range", Severity: voucherwatch.SeverityLow, City: "430200", Status: st, Title: "单价异常"},
		)
	}
	var us []voucherwatch.User
	for _, u := range workflowUsers {
		us = append(us, u)
	}
	users := newFakeUsers(us...)
	s := newServer()
	s.setLog(slog.New(slog.NewTextHandler(io.Discard, nil)))
	s.registerWorkflowRoutes(WorkflowDeps{
		Alerts: wf, Events: wf, Users: users, ExplanationDays: 15,
		Now: func() time.Time { return workflowNow },
	})
	for token, u := range workflowUsers {
		s.AddToken(token, u)
	}
	return s, wf, users
}

// do sends a request with a JSON body (a string is sent as is) and decodes a JSON answer.
func do(t *testing.T, s http.Handler, method, path, token string, body any) (int, map[string]any) {
	t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	default:
		raw, err := json.Marshal(b)
		if err != nil {
			t.Fatal(err)
		}
		rd = bytes.NewReader(raw)
	}
	req := httptest.NewRequest(method, path, rd)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	rec := httptest.NewRecorder()
	s.ServeHTTP(rec, req)
	var out map[string]any
	_ = json.Unmarshal(rec.Body.Bytes(), &out)
	return rec.Code, out
}

// moveTo is a valid transition body to status to.
func moveTo(to voucherwatch.Status) map[string]any {
	b := map[string]any{"to": string(to), "comment": "依据材料，转为 " + string(to)}
	switch to {
	case voucherwatch.StatusExplanationRequested:
		b["deadline"] = "2026-12-05"
	case voucherwatch.StatusRecoveryOrdered:
		b["amount"] = "150029.00"
	}
	return b
}

func errorField(body map[string]any) string {
	e, _ := body["error"].(map[string]any)
	f, _ := e["field"].(string)
	return f
}

// TestTransitionEveryRoleAndMove posts every move (from each status to each status) as every
// role on an alert of the city reviewer's own city: the answer is 201 for what the workflow
// and the role allow, 409 for what the workflow does not allow, 403 for what the role may
// not do (the domain's tests pin down which is which).
func TestTransitionEveryRoleAndMove(t *testing.T) {
	want := map[string]int{"": http.StatusCreated, voucherwatch.EFORBIDDEN: http.StatusForbidden, voucherwatch.ECONFLICT: http.StatusConflict}
	allowed := 0
	for _, token := range roleTokens {
		u := workflowUsers[token]
		for _, from := range voucherwatch.Statuses {
			for _, to := range voucherwatch.Statuses {
				s, wf, _ := newWorkflowServer(t)
				code, body := do(t, s, "POST", "/api/v1/alerts/cs_"+string(from)+"/transitions", token, moveTo(to))
				w := want[voucherwatch.ErrorCode(voucherwatch.CheckTransition(u.Role, from, to))]
				if code != w {
					t.Errorf("%s %s → %s: got %d %v, want %d", u.Role, from, to, code, body, w)
					continue
				}
				if code != http.StatusCreated {
					if len(wf.events) != 0 {
						t.Errorf("%s %s → %s: refused, but %d events recorded", u.Role, from, to, len(wf.events))
					}
					continue
				}
				allowed++
				if body["from"] != string(from) || body["to"] != string(to) || body["actor_id"] != u.ID || body["actor_role"] != string(u.Role) || body["id"] == "" {
					t.Errorf("%s %s → %s: got event %v", u.Role, from, to, body)
				}
			}
		}
	}
	// admin and province: the 10 moves each; city reviewer: new→reviewing,
	// reviewing→explanation_requested, explanation_requested→reviewing; auditor none.
	if allowed != 10+10+3 {
		t.Errorf("got %d allowed moves over all roles, want 23", allowed)
	}
}

func TestTransitionRecordsDeadlineAndAmount(t *testing.T) {
	s, _, _ := newWorkflowServer(t)
	code, body := do(t, s, "POST", "/api/v1/alerts/cs_reviewing/transitions", "changsha", map[string]any{"to": "explanation_requested", "comment": "请提供说明材料"})
	if code != http.StatusCreated || body["deadline"] != "2026-12-05" {
		t.Errorf("no deadline given: got %d %v, want 201 with the default deadline 2026-12-05 (today + 15 days)", code, body)
	}
	code, body = do(t, s, "POST", "/api/v1/alerts/cs_confirmed/transitions", "province", map[string]any{"to": "recovery_ordered", "comment": "责令退回", "amount": "150029.5"})
	if code != http.StatusCreated || body["amount"] != "150029.50" {
		t.Errorf("got %d %v, want 201 with amount 150029.50", code, body)
	}
}

// TestTransitionValidationNamesTheField checks that bad input answers 400 with the field.
func TestTransitionValidationNamesTheField(t *testing.T) {
	for _, tc := range []struct {
		name, alert string
		body        any
		field       string
	}{
		{"deadline not a date", "cs_reviewing", `{"to":"explanation_requested","comment":"请说明","deadline":"12/31/2026"}`, "deadline"},
		{"deadline with a time", "cs_reviewing", `{"to":"explanation_requested","comment":"请说明","deadline":"2026-12-31T00:00:00Z"}`, "deadline"},
		{"deadline in the past", "cs_reviewing", `{"to":"explanation_requested","comment":"请说明","deadline":"2026-11-01"}`, "deadline"},
		{"deadline on a confirmation", "cs_explanation_requested", `{"to":"confirmed","comment":"属实","deadline":"2026-12-31"}`, "deadline"},
		{"deadline as a number", "cs_reviewing", `{"to":"explanation_requested","comment":"请说明","deadline":20261231}`, "deadline"},
		{"amount not money", "cs_confirmed", `{"to":"recovery_ordered","comment":"追回","amount":"十万元"}`, "amount"},
		{"amount with three decimals", "cs_confirmed", `{"to":"recovery_ordered","comment":"追回","amount":"1.005"}`, "amount"},
		{"amount as a number", "cs_confirmed", `{"to":"recovery_ordered","comment":"追回","amount":1000}`, "amount"},
		{"amount zero", "cs_confirmed", `{"to":"recovery_ordered","comment":"追回","amount":"0"}`, "amount"},
		{"amount negative", "cs_confirmed", `{"to":"recovery_ordered","comment":"追回","amount":"-5.00"}`, "amount"},
		{"amount missing", "cs_confirmed", `{"to":"recovery_ordered","comment":"追回"}`, "amount"},
		{"amount on a dismissal", "cs_explanation_requested", `{"to":"dismissed","comment":"误报","amount":"5.00"}`, "amount"},
		{"unknown to", "cs_new", `{"to":"closed","comment":"x"}`, "to"},
		{"missing to", "cs_new", `{"comment":"x"}`, "to"},
		{"missing comment", "cs_new", `{"to":"reviewing"}`, "comment"},
		{"blank comment", "cs_new", `{"to":"reviewing","comment":"   "}`, "comment"},
		{"unknown field", "cs_new", `{"to":"reviewing","comment":"x","dead_line":"2026-12-31"}`, "dead_line"},
		{"unknown from", "cs_new", `{"to":"reviewing","comment":"x","from":"open"}`, "from"},
		{"malformed JSON", "cs_new", `{"to":"reviewing",`, "body"},
		{"empty body", "cs_new", ``, "body"},
		{"two objects", "cs_new", `{"to":"reviewing","comment":"x"}{}`, "body"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, wf, _ := newWorkflowServer(t)
			code, body := do(t, s, "POST", "/api/v1/alerts/"+tc.alert+"/transitions", "admin", tc.body)
			if code != http.StatusBadRequest || errorField(body) != tc.field {
				t.Errorf("got %d %v, want 400 naming the field %s", code, body, tc.field)
			}
			if len(wf.events) != 0 {
				t.Errorf("got %d events recorded, want none", len(wf.events))
			}
		})
	}
}

// TestTransitionConflicts covers the optimistic check: a client that saw another status, and
// a store that finds the alert moved on between the read and the write.
func TestTransitionConflicts(t *testing.T) {
	s, wf, _ := newWorkflowServer(t)
	body := moveTo(voucherwatch.StatusReviewing)
	body["from"] = "new"
	if code, b := do(t, s, "POST", "/api/v1/alerts/cs_new/transitions", "changsha", body); code != http.StatusCreated {
		t.Fatalf("got %d %v, want 201", code, b)
	}
	// A second reviewer's form, loaded while the alert was new.
	if code, b := do(t, s, "POST", "/api/v1/alerts/cs_new/transitions", "province", body); code != http.StatusConflict {
		t.Errorf("stale from: got %d %v, want 409", code, b)
	}
	wf.AppendEventsFn = func(_ context.Context, events []voucherwatch.Event) ([]voucherwatch.EventResult, error) {
		return []voucherwatch.EventResult{{Err: voucherwatch.Errorf(voucherwatch.ECONFLICT, "alert %s is dismissed now", events[0].AlertID)}}, nil
	}
	if code, b := do(t, s, "POST", "/api/v1/alerts/cs_reviewing/transitions", "province", moveTo(voucherwatch.StatusExplanationRequested)); code != http.StatusConflict {
		t.Errorf("store conflict: got %d %v, want 409", code, b)
	}
	wf.AppendEventsFn = func(context.Context, []voucherwatch.Event) ([]voucherwatch.EventResult, error) {
		return nil, errors.New("clickhouse: connection refused")
	}
	if code, b := do(t, s, "POST", "/api/v1/alerts/cs_reviewing/transitions", "province", moveTo(voucherwatch.StatusExplanationRequested)); code != http.StatusInternalServerError || strings.Contains(fmt.Sprint(b), "clickhouse") {
		t.Errorf("store failure: got %d %v, want 500 without the cause", code, b)
	}
}

// TestTheLogDecidesTheStatus checks that a move is judged from the status the event log
// derives, which AppendEvents checks against, not from the alert store's copy of it.
func TestTheLogDecidesTheStatus(t *testing.T) {
	s, wf, _ := newWorkflowServer(t)
	wf.StatusesFn = func(context.Context, []string) (map[string]voucherwatch.Status, error) {
		return map[string]voucherwatch.Status{"cs_reviewing": voucherwatch.StatusDismissed}, nil
	}
	var appended []voucherwatch.Event
	wf.AppendEventsFn = func(_ context.Context, events []voucherwatch.Event) ([]voucherwatch.EventResult, error) {
		appended = events
		return []voucherwatch.EventResult{{Event: events[0]}}, nil
	}
	code, body := do(t, s, "POST", "/api/v1/alerts/cs_reviewing/transitions", "province", moveTo(voucherwatch.StatusReviewing))
	if code != http.StatusCreated || len(appended) != 1 || appended[0].From != voucherwatch.StatusDismissed {
		t.Errorf("got %d %v, want 201 reopening from dismissed", code, body)
	}
	wf.StatusesFn = func(context.Context, []string) (map[string]voucherwatch.Status, error) {
		return nil, errors.New("clickhouse: timeout")
	}
	if code, _ := do(t, s, "POST", "/api/v1/alerts/cs_new/transitions", "province", moveTo(voucherwatch.StatusReviewing)); code != http.StatusInternalServerError {
		t.Errorf("log unreadable: got %d, want 500", code)
	}
}

// TestRoutesByRole checks every workflow route for every role, and that a city reviewer
// neither sees nor acts on another city's alert (404).
func TestRoutesByRole(t *testing.T) {
	proposeConfirm := map[string]any{"to": "confirmed", "comment": "说明不成立，建议认定违规"}
	assignSelf := func(token string) map[string]any { return map[string]any{"user_id": workflowUsers[token].ID} }
	type route struct {
		method, path string
		body         func(token string) any
	}
	transition := func(alert string, to voucherwatch.Status) route {
		return route{"POST", "/api/v1/alerts/" + alert + "/transitions", func(string) any { return moveTo(to) }}
	}
	for _, tc := range []struct {
		name string
		r    route
		want map[string]int // by token; a missing token answers 401
	}{
		{"start a review", transition("cs_new", voucherwatch.StatusReviewing),
			map[string]int{"admin": 201, "province": 201, "changsha": 201, "auditor": 403}},
		{"start a review in another city", transition("zz_new", voucherwatch.StatusReviewing),
			map[string]int{"admin": 201, "province": 201, "changsha": 404, "auditor": 403}},
		{"request an explanation", transition("cs_reviewing", voucherwatch.StatusExplanationRequested),
			map[string]int{"admin": 201, "province": 201, "changsha": 201, "auditor": 403}},
		{"confirm", transition("cs_explanation_requested", voucherwatch.StatusConfirmed),
			map[string]int{"admin": 201, "province": 201, "changsha": 403, "auditor": 403}},
		{"confirm in another city", transition("zz_explanation_requested", voucherwatch.StatusConfirmed),
			map[string]int{"admin": 201, "province": 201, "changsha": 404, "auditor": 403}},
		{"history", route{"GET", "/api/v1/alerts/cs_reviewing/history", nil},
			map[string]int{"admin": 200, "province": 200, "changsha": 200, "auditor": 200}},
		{"history in another city", route{"GET", "/api/v1/alerts/zz_reviewing/history", nil},
			map[string]int{"admin": 200, "province": 200, "changsha": 404, "auditor": 200}},
		{"history of a missing alert", route{"GET", "/api/v1/alerts/al_none/history", nil},
			map[string]int{"admin": 404, "province": 404, "changsha": 404, "auditor": 404}},
		{"propose", route{"POST", "/api/v1/alerts/cs_explanation_requested/proposals", func(string) any { return proposeConfirm }},
			map[string]int{"admin": 201, "province": 201, "changsha": 201, "auditor": 403}},
		{"propose in another city", route{"POST", "/api/v1/alerts/zz_explanation_requested/proposals", func(string) any { return proposeConfirm }},
			map[string]int{"admin": 201, "province": 201, "changsha": 404, "auditor": 403}},
		{"assign to oneself", route{"POST", "/api/v1/alerts/cs_reviewing/assign", func(tok string) any { return assignSelf(tok) }},
			map[string]int{"admin": 201, "province": 201, "changsha": 201, "auditor": 403}},
		{"assign in another city", route{"POST", "/api/v1/alerts/zz_reviewing/assign", func(string) any { return map[string]any{"user_id": "u_prov"} }},
			map[string]int{"admin": 201, "province": 201, "changsha": 404, "auditor": 403}},
		{"bulk", route{"POST", "/api/v1/alerts/bulk", func(string) any {
			return map[string]any{"filter": map[string]any{"status": "new"}, "to": "reviewing", "comment": "批量开始复核"}
		}}, map[string]int{"admin": 200, "province": 200, "changsha": 200, "auditor": 403}},
		{"export", route{"GET", "/api/v1/events/export", nil},
			map[string]int{"admin": 200, "province": 200, "changsha": 403, "auditor": 200}},
		{"overdue", route{"GET", "/api/v1/explanations/overdue", nil},
			map[string]int{"admin": 200, "province": 200, "changsha": 200, "auditor": 200}},
		{"me", route{"GET", "/api/v1/me", nil},
			map[string]int{"admin": 200, "province": 200, "changsha": 200, "auditor": 200}},
		{"list users", route{"GET", "/api/v1/users", nil},
			map[string]int{"admin": 200, "province": 200, "changsha": 200, "auditor": 200}},
		{"create a user", route{"POST", "/api/v1/users", func(string) any { return map[string]any{"name": "新审核员", "role": "province_reviewer"} }},
			map[string]int{"admin": 201, "province": 403, "changsha": 403, "auditor": 403}},
		{"disable a user", route{"POST", "/api/v1/users/u_zz/disable", nil},
			map[string]int{"admin": 204, "province": 403, "changsha": 403, "auditor": 403}},
		{"set another user's password", route{"POST", "/api/v1/users/u_zz/password", func(string) any { return map[string]any{"password": "株洲-新密码-2026"} }},
			map[string]int{"admin": 204, "province": 403, "changsha": 403, "auditor": 403}},
		{"set one's own password", route{"POST", "/api/v1/users/u_cs/password", func(string) any { return map[string]any{"password": "长沙-新密码-2026"} }},
			map[string]int{"admin": 204, "province": 403, "changsha": 403, "auditor": 403}},
		{"set the admin's own password", route{"POST", "/api/v1/users/u_admin/password", func(string) any { return map[string]any{"password": "管理员-新密码-2026"} }},
			map[string]int{"admin": 204, "province": 403, "changsha": 403, "auditor": 403}},
	} {
		for _, token := range append(roleTokens, "", "unknown-token") {
			t.Run(tc.name+"/"+token, func(t *testing.T) {
				s, wf, _ := newWorkflowServer(t)
				var body any
				if tc.r.body != nil {
					body = tc.r.body(token)
				}
				want, ok := tc.want[token]
				if !ok {
					want = http.StatusUnauthorized
				}
				code, got := do(t, s, tc.r.method, tc.r.path, token, body)
				if code != want {
					t.Errorf("got %d %v, want %d", code, got, want)
				}
				if code >= 400 && len(wf.events) != 0 {
					t.Errorf("refused with %d, but %d events recorded", code, len(wf.events))
				}
			})
		}
	}
}

func TestHistoryOldestFirst(t *testing.T) {
	s, _, _ := newWorkflowServer(t)
	steps := []struct {
		token string
		path  string
		body  any
	}{
		{"changsha", "/api/v1/alerts/cs_new/transitions", moveTo(voucherwatch.StatusReviewing)},
		{"changsha", "/api/v1/alerts/cs_new/assign", map[string]any{"user_id": "u_cs", "comment": "由我跟进"}},
		{"changsha", "/api/v1/alerts/cs_new/transitions", moveTo(voucherwatch.StatusExplanationRequested)},
		{"changsha", "/api/v1/alerts/cs_new/proposals", map[string]any{"to": "dismissed", "comment": "说明充分，建议驳回"}},
		{"province", "/api/v1/alerts/cs_new/transitions", map[string]any{"to": "dismissed", "comment": "同意驳回"}},
	}
	for _, st := range steps {
		if code, b := do(t, s, "POST", st.path, st.token, st.body); code != http.StatusCreated {
			t.Fatalf("%s %s: got %d %v", st.token, st.path, code, b)
		}
	}
	code, body := do(t, s, "GET", "/api/v1/alerts/cs_new/history", "auditor", nil)
	if code != http.StatusOK {
		t.Fatalf("got %d %v", code, body)
	}
	events, _ := body["events"].([]any)
	var got []string
	for _, e := range events {
		m := e.(map[string]any)
		got = append(got, fmt.Sprintf("%s:%s→%s", m["kind"], m["from"], m["to"]))
	}
	want := "transition:new→reviewing,assignment:reviewing→reviewing,transition:reviewing→explanation_requested," +
		"proposal:explanation_requested→explanation_requested,transition:explanation_requested→dismissed"
	if strings.Join(got, ",") != want {
		t.Errorf("got %v, want %s", got, want)
	}
	if p := events[3].(map[string]any); p["proposed_to"] != "dismissed" || p["actor_name"] != "长沙审核员" {
		t.Errorf("got proposal %v, want proposed_to dismissed by 长沙审核员", p)
	}
	if a := events[1].(map[string]any); a["assignee_id"] != "u_cs" || a["comment"] != "由我跟进" {
		t.Errorf("got assignment %v", a)
	}
	if code, body := do(t, s, "GET", "/api/v1/alerts/cs_reviewing/history", "admin", nil); code != http.StatusOK || fmt.Sprint(body["events"]) != "[]" {
		t.Errorf("untouched alert: got %d %v, want 200 with events []", code, body)
	}
}

// TestLogCannotBeAlteredThroughTheAPI tries every changing method on the log's routes and on
// a would-be event route: none exists, and the history stays as it was.
func TestLogCannotBeAlteredThroughTheAPI(t *testing.T) {
	s, wf, _ := newWorkflowServer(t)
	if code, b := do(t, s, "POST", "/api/v1/alerts/cs_new/transitions", "admin", moveTo(voucherwatch.StatusReviewing)); code != http.StatusCreated {
		t.Fatalf("got %d %v", code, b)
	}
	before := fmt.Sprintf("%+v", wf.events)
	id := wf.events[0].ID
	for _, path := range []string{
		"/api/v1/alerts/cs_new/history", "/api/v1/alerts/cs_new/history/" + id, "/api/v1/events/export",
		"/api/v1/events/" + id, "/api/v1/events", "/api/v1/alerts/cs_new/transitions",
		"/api/v1/alerts/cs_new/transitions/" + id, "/api/v1/alerts/cs_new/events/" + id,
	} {
		for _, method := range []string{"PUT", "PATCH", "DELETE"} {
			code, _ := do(t, s, method, path, "admin", map[string]any{"to": "new", "comment": "改写"})
			if code != http.StatusNotFound && code != http.StatusMethodNotAllowed {
				t.Errorf("%s %s: got %d, want 404 or 405", method, path, code)
			}
		}
	}
	if code, _ := do(t, s, "POST", "/api/v1/events/"+id, "admin", map[string]any{"comment": "改写"}); code != http.StatusNotFound && code != http.StatusMethodNotAllowed {
		t.Errorf("POST to an event: got %d, want 404 or 405", code)
	}
	if after := fmt.Sprintf("%+v", wf.events); after != before {
		t.Errorf("log changed:\nbefore %s\nafter  %s", before, after)
	}
}

func TestAssignValidation(t *testing.T) {
	for _, tc := range []struct {
		name, token string
		body        any
		want        int
		field       string
	}{
		{"to an auditor", "province", map[string]any{"user_id": "u_aud"}, 400, "user_id"},
		{"to another city's reviewer", "changsha", map[string]any{"user_id": "u_zz"}, 400, "user_id"},
		{"to an unknown user", "province", map[string]any{"user_id": "u_nobody"}, 400, "user_id"},
		{"without user_id", "province", map[string]any{"comment": "x"}, 400, "user_id"},
		{"user_id not a string", "province", `{"user_id": 7}`, 400, "user_id"},
		{"up to the province", "changsha", map[string]any{"user_id": "u_prov", "comment": "请省级复核"}, 201, ""},
		{"back to the city's queue", "changsha", map[string]any{"user_id": ""}, 201, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, _, _ := newWorkflowServer(t)
			code, body := do(t, s, "POST", "/api/v1/alerts/cs_reviewing/assign", tc.token, tc.body)
			if code != tc.want || errorField(body) != tc.field {
				t.Errorf("got %d %v, want %d naming %q", code, body, tc.want, tc.field)
			}
			if code == 201 && (body["from"] != "reviewing" || body["to"] != "reviewing" || body["kind"] != "assignment") {
				t.Errorf("got %v, want an assignment that keeps the status", body)
			}
		})
	}
}

func TestProposalValidation(t *testing.T) {
	for _, tc := range []struct {
		name, alert string
		body        any
		want        int
		field       string
	}{
		{"dismissal", "cs_explanation_requested", map[string]any{"to": "dismissed", "comment": "建议驳回"}, 201, ""},
		{"recovery with amount", "cs_confirmed", map[string]any{"to": "recovery_ordered", "comment": "建议追回", "amount": "1000.00"}, 201, ""},
		{"recovery without amount", "cs_confirmed", map[string]any{"to": "recovery_ordered", "comment": "建议追回"}, 400, "amount"},
		{"what the city does itself", "cs_reviewing", map[string]any{"to": "explanation_requested", "comment": "x"}, 400, "to"},
		{"not allowed from here", "cs_new", map[string]any{"to": "confirmed", "comment": "x"}, 409, ""},
		{"without comment", "cs_explanation_requested", map[string]any{"to": "dismissed"}, 400, "comment"},
		{"with a deadline", "cs_explanation_requested", map[string]any{"to": "dismissed", "comment": "x", "deadline": "2026-12-31"}, 400, "deadline"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, wf, _ := newWorkflowServer(t)
			code, body := do(t, s, "POST", "/api/v1/alerts/"+tc.alert+"/proposals", "changsha", tc.body)
			if code != tc.want || errorField(body) != tc.field {
				t.Errorf("got %d %v, want %d naming %q", code, body, tc.want, tc.field)
			}
			if code == 201 {
				if a, _ := wf.Alert(context.Background(), tc.alert); "cs_"+string(a.Status) != tc.alert {
					t.Errorf("got status %s after a proposal, want it unchanged", a.Status)
				}
			}
		})
	}
}

func TestBulk(t *testing.T) {
	type result struct {
		id   string
		code int
	}
	results := func(body map[string]any) []result {
		var out []result
		list, _ := body["results"].([]any)
		for _, r := range list {
			m := r.(map[string]any)
			out = append(out, result{m["alert_id"].(string), int(m["status"].(float64))})
		}
		return out
	}
	t.Run("province starts reviewing every new alert", func(t *testing.T) {
		s, wf, _ := newWorkflowServer(t)
		code, body := do(t, s, "POST", "/api/v1/alerts/bulk", "province", map[string]any{"filter": map[string]any{"status": "new"}, "to": "reviewing", "comment": "批量复核"})
		if code != 200 || fmt.Sprint(results(body)) != "[{cs_new 201} {zz_new 201}]" || body["applied"] != 2.0 || body["refused"] != 0.0 {
			t.Errorf("got %d %v", code, body)
		}
		if len(wf.events) != 2 {
			t.Errorf("got %d events, want 2", len(wf.events))
		}
	})
	t.Run("a city reviewer acts on its own city only", func(t *testing.T) {
		s, wf, _ := newWorkflowServer(t)
		code, body := do(t, s, "POST", "/api/v1/alerts/bulk", "changsha", map[string]any{"filter": map[string]any{"status": "new"}, "to": "reviewing", "comment": "批量复核"})
		if code != 200 || fmt.Sprint(results(body)) != "[{cs_new 201}]" {
			t.Errorf("got %d %v, want only cs_new", code, body)
		}
		code, body = do(t, s, "POST", "/api/v1/alerts/bulk", "changsha", map[string]any{"filter": map[string]any{"city": "株洲市"}, "to": "reviewing", "comment": "x"})
		if code != 200 || len(results(body)) != 0 {
			t.Errorf("another city's filter: got %d %v, want no results", code, body)
		}
		code, body = do(t, s, "POST", "/api/v1/alerts/bulk", "changsha", map[string]any{"filter": map[string]any{"ids": []string{"cs_reviewing", "zz_reviewing", "cs_confirmed"}}, "to": "explanation_requested", "comment": "请说明"})
		if code != 200 || fmt.Sprint(results(body)) != "[{cs_reviewing 201} {cs_confirmed 409} {zz_reviewing 404}]" {
			t.Errorf("by id: got %d %v", code, results(body))
		}
		if len(wf.events) != 2 {
			t.Errorf("got %d events, want 2", len(wf.events))
		}
	})
	t.Run("a city reviewer may not decide", func(t *testing.T) {
		s, wf, _ := newWorkflowServer(t)
		code, body := do(t, s, "POST", "/api/v1/alerts/bulk", "changsha", map[string]any{"filter": map[string]any{"status": "explanation_requested"}, "to": "dismissed", "comment": "驳回"})
		if code != 200 || fmt.Sprint(results(body)) != "[{cs_explanation_requested 403}]" || len(wf.events) != 0 {
			t.Errorf("got %d %v", code, body)
		}
	})
	t.Run("dry run records nothing", func(t *testing.T) {
		s, wf, _ := newWorkflowServer(t)
		code, body := do(t, s, "POST", "/api/v1/alerts/bulk", "admin", map[string]any{"filter": map[string]any{"severity": "high"}, "to": "reviewing", "comment": "x", "dry_run": true})
		if code != 200 || body["applied"] != 4.0 || body["refused"] != 3.0 || len(wf.events) != 0 {
			t.Errorf("got %d %v and %d events, want 4 that would apply (new, and reopening three), 3 refused, none recorded", code, body, len(wf.events))
		}
	})
	for _, tc := range []struct {
		name  string
		body  string
		field string
	}{
		{"no filter", `{"to":"reviewing","comment":"x"}`, "filter"},
		{"empty filter", `{"filter":{},"to":"reviewing","comment":"x"}`, "filter"},
		{"recovery in bulk", `{"filter":{"status":"confirmed"},"to":"recovery_ordered","comment":"x","amount":"1.00"}`, "to"},
		{"unknown status filter", `{"filter":{"status":"open"},"to":"reviewing","comment":"x"}`, "filter.status"},
		{"unknown city", `{"filter":{"city":"北京"},"to":"reviewing","comment":"x"}`, "filter.city"},
		{"ids not a list", `{"filter":{"ids":"cs_new"},"to":"reviewing","comment":"x"}`, "filter.ids"},
		{"missing comment", `{"filter":{"status":"new"},"to":"reviewing"}`, "comment"},
		{"bad deadline", `{"filter":{"status":"reviewing"},"to":"explanation_requested","comment":"x","deadline":"soon"}`, "deadline"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, _, _ := newWorkflowServer(t)
			code, body := do(t, s, "POST", "/api/v1/alerts/bulk", "admin", tc.body)
			if code != 400 || errorField(body) != tc.field {
				t.Errorf("got %d %v, want 400 naming %s", code, body, tc.field)
			}
		})
	}
}

func TestOverdue(t *testing.T) {
	s, wf, _ := newWorkflowServer(t)
	wf.Overdue = []voucherwatch.OverdueExplanation{
		{AlertID: "cs_explanation_requested", City: "430100", Deadline: time.Date(2026, 11, 10, 0, 0, 0, 0, voucherwatch.CST), DaysOverdue: 10},
		{AlertID: "zz_explanation_requested", City: "430200", Deadline: time.Date(2026, 11, 15, 0, 0, 0, 0, voucherwatch.CST), DaysOverdue: 5},
	}
	f := func(token, query string, wantCount int, wantFirst string) {
		t.Helper()
		code, body := do(t, s, "GET", "/api/v1/explanations/overdue"+query, token, nil)
		if code != 200 || body["count"] != float64(wantCount) {
			t.Fatalf("%s %s: got %d %v, want %d overdue", token, query, code, body, wantCount)
		}
		if list, _ := body["overdue"].([]any); wantCount > 0 && list[0].(map[string]any)["alert_id"] != wantFirst {
			t.Errorf("%s %s: got %v, want %s first", token, query, list, wantFirst)
		}
	}
	f("province", "", 2, "cs_explanation_requested")
	f("auditor", "?city=株洲", 1, "zz_explanation_requested")
	f("changsha", "", 1, "cs_explanation_requested")
	f("changsha", "?city=430200", 0, "")
	code, body := do(t, s, "GET", "/api/v1/explanations/overdue", "admin", nil)
	if byCity, _ := body["by_city"].(map[string]any); code != 200 || byCity["430100"] != 1.0 || byCity["430200"] != 1.0 {
		t.Errorf("got %d %v, want one overdue in each city", code, body)
	}
	if list, _ := body["overdue"].([]any); list[0].(map[string]any)["deadline"] != "2026-11-10" {
		t.Errorf("got %v, want the deadline as a date", list[0])
	}
	if code, body := do(t, s, "GET", "/api/v1/explanations/overdue?city=北京", "admin", nil); code != 400 || errorField(body) != "city" {
		t.Errorf("got %d %v, want 400 naming city", code, body)
	}
}

func TestExportCSV(t *testing.T) {
	s, _, _ := newWorkflowServer(t)
	for _, b := range []map[string]any{
		{"to": "reviewing", "comment": "=HYPERLINK(\"http://x\")"},
		{"to": "explanation_requested", "comment": "请说明，含逗号,与\"引号\"", "deadline": "2026-12-05"},
	} {
		if code, body := do(t, s, "POST", "/api/v1/alerts/cs_new/transitions", "changsha", b); code != 201 {
			t.Fatalf("got %d %v", code, body)
		}
	}
	req := httptest.NewRequest("GET", "/api/v1/events/export", nil)
	req.Header.Set("Authorization", "Bearer auditor")
	rec := httptest.NewRecorder()
	s.ServeHTTP(rec, req)
	if rec.Code != 200 || !strings.HasPrefix(rec.Header().Get("Content-Type"), "text/csv") {
		t.Fatalf("got %d %s", rec.Code, rec.Header().Get("Content-Type"))
	}
	got := rec.Body.String()
	if !strings.HasPrefix(got, "\uFEFFevent_id,seq,at,alert_id,kind,") {
		t.Errorf("got %q, want a BOM and the header first", got[:min(len(got), 60)])
	}
	lines := strings.Split(strings.TrimSpace(got), "\n")
	if len(lines) != 3 {
		t.Fatalf("got %d lines, want the header and 2 events:\n%s", len(lines), got)
	}
	if !strings.Contains(lines[1], `'=HYPERLINK`) || !strings.Contains(lines[1], "2026-11-20 10:00:00") {
		t.Errorf("got %s, want the formula defused and the time in CST", lines[1])
	}
	if !strings.Contains(lines[2], `"请说明，含逗号,与""引号"""`) || !strings.Contains(lines[2], ",2026-12-05,") {
		t.Errorf("got %s, want the comment quoted and the deadline", lines[2])
	}
}

// TestExportFailureIsVisible checks that an export that fails midway is cut off, so that a
// client cannot take it for the whole log, and one that fails at once answers 500.
func TestExportFailureIsVisible(t *testing.T) {
	s, wf, _ := newWorkflowServer(t)
	for _, to := range []voucherwatch.Status{voucherwatch.StatusReviewing, voucherwatch.StatusExplanationRequested} {
		if code, body := do(t, s, "POST", "/api/v1/alerts/cs_new/transitions", "admin", moveTo(to)); code != 201 {
			t.Fatalf("got %d %v", code, body)
		}
	}
	wf.ExportErr, wf.ExportErrAfter = errors.New("clickhouse: read timeout"), 0
	if code, _ := do(t, s, "GET", "/api/v1/events/export", "admin", nil); code != 500 {
		t.Errorf("failure before the first row: got %d, want 500", code)
	}
	wf.ExportErrAfter = 1
	srv := httptest.NewServer(s)
	defer srv.Close()
	req, _ := http.NewRequest("GET", srv.URL+"/api/v1/events/export", nil)
	req.Header.Set("Authorization", "Bearer admin")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if _, err := io.ReadAll(resp.Body); err == nil {
		t.Error("got a complete body, want the transfer cut off")
	}
}

// TestUserTokens creates a user through the API and signs in with its token, which only the
// user store knows (as another engine instance would see it).
func TestUserTokens(t *testing.T) {
	s, _, users := newWorkflowServer(t)
	code, body := do(t, s, "POST", "/api/v1/users", "admin", map[string]any{"name": "湘潭审核员", "role": "city_reviewer", "city": "湘潭"})
	if code != 201 {
		t.Fatalf("got %d %v", code, body)
	}
	token, _ := body["token"].(string)
	id, _ := body["id"].(string)
	if token == "" || id == "" || body["city"] != "430300" {
		t.Fatalf("got %v, want an id, a token and the city's code", body)
	}
	for h, uid := range users.hashes {
		if uid == id && (h != voucherwatch.TokenHash(token) || strings.Contains(h, token)) {
			t.Errorf("got stored hash %s, want only the token's SHA-256", h)
		}
	}
	other := newServer() // a second instance sharing the user store
	other.registerWorkflowRoutes(WorkflowDeps{Alerts: &fakeWorkflow{}, Events: &fakeWorkflow{}, Users: users, Now: func() time.Time { return workflowNow }})
	for _, srv := range []*Server{s, other} {
		code, me := do(t, srv, "GET", "/api/v1/me", token, nil)
		if code != 200 || me["id"] != id || me["role"] != "city_reviewer" || me["city"] != "430300" {
			t.Errorf("got %d %v, want the new user", code, me)
		}
	}
	lookups := users.lookups
	do(t, s, "GET", "/api/v1/me", token, nil)
	if users.lookups != lookups {
		t.Errorf("got %d store look-ups for a cached token, want none", users.lookups-lookups)
	}
	// The in-memory bootstrap token keeps working without the store.
	if code, _ := do(t, s, "GET", "/api/v1/me", "admin", nil); code != 200 {
		t.Errorf("bootstrap token: got %d, want 200", code)
	}
	for _, bad := range []string{"", "vw_" + strings.Repeat("0", 64), token + "x"} {
		if code, _ := do(t, s, "GET", "/api/v1/me", bad, nil); code != 401 {
			t.Errorf("token %q: got %d, want 401", bad, code)
		}
	}
	if code, _ := do(t, s, "POST", "/api/v1/users/"+id+"/disable", "admin", nil); code != 204 {
		t.Fatalf("disable: got %d", code)
	}
	if code, _ := do(t, s, "GET", "/api/v1/me", token, nil); code != 401 {
		t.Errorf("disabled user's token: got %d, want 401 at once on this instance", code)
	}
	if code, _ := do(t, s, "POST", "/api/v1/users/"+id+"/disable", "admin", nil); code != 404 {
		t.Errorf("disabling twice: got %d, want 404", code)
	}

	// A store that cannot answer is the engine's failure, not the client's bad token.
	fresh, _, failing := newWorkflowServer(t)
	failing.LookupErr = errors.New("clickhouse: connection refused")
	if code, _ := do(t, fresh, "GET", "/api/v1/me", "vw_unknown", nil); code != 500 {
		t.Errorf("store down: got %d, want 500", code)
	}
}

func TestCreateUserValidation(t *testing.T) {
	for _, tc := range []struct {
		body  string
		field string
	}{
		{`{"role":"auditor"}`, "name"},
		{`{"name":"x","role":"root"}`, "role"},
		{`{"name":"x","role":"system"}`, "role"},
		{`{"name":"x","role":"city_reviewer"}`, "city"},
		{`{"name":"x","role":"city_reviewer","city":"北京"}`, "city"},
		{`{"name":"x","role":"province_reviewer","city":"长沙"}`, "city"},
		{`{"name":"x","role":"auditor","token":"mine"}`, "token"},
	} {
		s, _, _ := newWorkflowServer(t)
		if code, body := do(t, s, "POST", "/api/v1/users", "admin", tc.body); code != 400 || errorField(body) != tc.field {
			t.Errorf("%s: got %d %v, want 400 naming %s", tc.body, code, body, tc.field)
		}
	}
}

func TestListUsersForACityReviewer(t *testing.T) {
	s, _, _ := newWorkflowServer(t)
	code, body := do(t, s, "GET", "/api/v1/users", "changsha", nil)
	var ids []string
	for _, u := range body["users"].([]any) {
		ids = append(ids, u.(map[string]any)["id"].(string))
	}
	if code != 200 || strings.Join(ids, ",") != "u_admin,u_cs,u_prov" {
		t.Errorf("got %d %v, want the users who can act on 长沙's alerts: u_admin,u_cs,u_prov", code, ids)
	}
}

// TestWorkflowRoutesBesideAlertRoutes registers both route sets on one server, as the engine
// does: their patterns must not conflict.
func TestWorkflowRoutesBesideAlertRoutes(t *testing.T) {
	s, wf, _ := newWorkflowServer(t)
	s.registerAlertRoutes(AlertDeps{Alerts: wf})
	if code, body := do(t, s, "GET", "/api/v1/alerts/cs_new", "admin", nil); code != 200 || body["id"] != "cs_new" {
		t.Errorf("got %d %v, want the alert", code, body)
	}
	if code, _ := do(t, s, "GET", "/api/v1/alerts/cs_new/history", "admin", nil); code != 200 {
		t.Errorf("history: got %d, want 200", code)
	}
}

func TestListAssignedToMe(t *testing.T) {
	s, wf, _ := newWorkflowServer(t)
	s.registerAlertRoutes(AlertDeps{Alerts: wf})
	ev, err := voucherwatch.NewAssignmentEvent(workflowUsers["province"], "cs_reviewing", voucherwatch.StatusReviewing, workflowUsers["changsha"], "", workflowNow)
	if err != nil {
		t.Fatal(err)
	}
	wf.events = append(wf.events, ev)
	for token, want := range map[string]int{"changsha": 1, "province": 0} {
		code, body := do(t, s, "GET", "/api/v1/alerts?assignee=me", token, nil)
		if alerts, _ := body["alerts"].([]any); code != 200 || len(alerts) != want {
			t.Errorf("%s: assignee=me got %d with %d alerts, want %d", token, code, len(alerts), want)
		}
	}
	if code, body := do(t, s, "GET", "/api/v1/alerts?assignee=u_cs", "province", nil); code != 200 || len(body["alerts"].([]any)) != 1 {
		t.Errorf("the province asking for changsha's queue: got %d %v, want its one alert", code, body)
	}
}
