package voucherwatch_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/voucherwatch/voucherwatch"
)

const (
	sNew  = voucherwatch.StatusNew
	sRev  = voucherwatch.StatusReviewing
	sExpl = voucherwatch.StatusExplanationRequested
	sConf = voucherwatch.StatusConfirmed
	sDism = voucherwatch.StatusDismissed
	sOrd  = voucherwatch.StatusRecoveryOrdered
	sRecd = voucherwatch.StatusRecovered

	rAdmin    = voucherwatch.RoleProvinceAdmin
	rProvince = voucherwatch.RoleProvinceReviewer
	rCity     = voucherwatch.RoleCityReviewer
	rAuditor  = voucherwatch.RoleAuditor
	rSystem   = voucherwatch.RoleSystem
)

// workflowEdges is the workflow written out by hand, independently of the code's table: every
// move the workflow allows, and the roles that may make it. Every other (from, to) pair is
// refused.
var workflowEdges = []struct {
	from, to voucherwatch.Status
	roles    []voucherwatch.Role
}{
	{sNew, sRev, []voucherwatch.Role{rAdmin, rProvince, rCity}},
	{sRev, sExpl, []voucherwatch.Role{rAdmin, rProvince, rCity}},
	{sRev, sDism, []voucherwatch.Role{rAdmin, rProvince}},
	{sExpl, sConf, []voucherwatch.Role{rAdmin, rProvince}},
	{sExpl, sDism, []voucherwatch.Role{rAdmin, rProvince}},
	{sExpl, sRev, []voucherwatch.Role{rAdmin, rProvince, rCity, rSystem}},
	{sConf, sOrd, []voucherwatch.Role{rAdmin, rProvince}},
	{sConf, sRev, []voucherwatch.Role{rAdmin, rProvince, rSystem}},
	{sDism, sRev, []voucherwatch.Role{rAdmin, rProvince, rSystem}},
	{sOrd, sRecd, []voucherwatch.Role{rAdmin, rProvince}},
}

// reachable is, per role, the statuses it may ever move an alert to; asking for another is
// EFORBIDDEN whatever the current status.
var reachable = map[voucherwatch.Role][]voucherwatch.Status{
	rAdmin:    voucherwatch.Statuses,
	rProvince: voucherwatch.Statuses,
	rCity:     {sRev, sExpl},
	rAuditor:  nil,
	rSystem:   {sRev},
}

// TestCheckTransitionEveryRoleAndMove checks every role × from × to: the allowed moves pass,
// a role that may never reach the target gets EFORBIDDEN, a move the workflow does not allow
// gets ECONFLICT, and an allowed move the role may not make gets EFORBIDDEN.
func TestCheckTransitionEveryRoleAndMove(t *testing.T) {
	roles := []voucherwatch.Role{rAdmin, rProvince, rCity, rAuditor, rSystem}
	for _, r := range roles {
		for _, from := range voucherwatch.Statuses {
			for _, to := range voucherwatch.Statuses {
				want := ""
				edge := false
				for _, e := range workflowEdges {
					if e.from == from && e.to == to {
						edge = true
						want = voucherwatch.EFORBIDDEN
						for _, ok := range e.roles {
							if ok == r {
								want = ""
							}
						}
					}
				}
				if !edge {
					want = voucherwatch.ECONFLICT
				}
				if !contains(reachable[r], to) {
					want = voucherwatch.EFORBIDDEN
				}
				got := voucherwatch.ErrorCode(voucherwatch.CheckTransition(r, from, to))
				if got != want {
					t.Errorf("%s %s → %s: got %q, want %q", r, from, to, got, want)
				}
			}
		}
	}
}

func TestCheckTransitionUnknownStatus(t *testing.T) {
	err := voucherwatch.CheckTransition(rAdmin, sNew, "closed")
	if e, ok := err.(*voucherwatch.Error); !ok || e.Code != voucherwatch.EINVALID || e.Field != "to" {
		t.Errorf("got %v, want EINVALID on field to", err)
	}
}

func TestAllowedMatchesTheWrittenWorkflow(t *testing.T) {
	n := 0
	for _, from := range voucherwatch.Statuses {
		for _, to := range voucherwatch.Statuses {
			want := false
			for _, e := range workflowEdges {
				want = want || (e.from == from && e.to == to)
			}
			if got := voucherwatch.Allowed(from, to); got != want {
				t.Errorf("Allowed(%s, %s): got %v, want %v", from, to, got, want)
			}
			if want {
				n++
			}
		}
	}
	if n != len(workflowEdges) {
		t.Errorf("got %d allowed moves, want %d", n, len(workflowEdges))
	}
}

func TestCheckProposal(t *testing.T) {
	f := func(r voucherwatch.Role, from, to voucherwatch.Status, wantCode, wantField string) {
		t.Helper()
		err := voucherwatch.CheckProposal(r, from, to)
		got := voucherwatch.ErrorCode(err)
		field := ""
		if e, ok := err.(*voucherwatch.Error); ok {
			field = e.Field
		}
		if got != wantCode || field != wantField {
			t.Errorf("%s proposes %s → %s: got %q field %q (%v), want %q field %q", r, from, to, got, field, err, wantCode, wantField)
		}
	}
	f(rCity, sExpl, sConf, "", "")
	f(rCity, sExpl, sDism, "", "")
	f(rCity, sRev, sDism, "", "")
	f(rCity, sConf, sOrd, "", "")
	f(rCity, sDism, sRev, "", "") // reopening a dismissal is the province's
	f(rCity, sOrd, sRecd, "", "") // so is recording the recovery
	f(rProvince, sExpl, sConf, "", "")
	f(rCity, sNew, sConf, voucherwatch.ECONFLICT, "")
	f(rCity, sRev, sConf, voucherwatch.ECONFLICT, "")
	f(rCity, sNew, sRev, voucherwatch.EINVALID, "to")  // the city starts reviews itself
	f(rCity, sRev, sExpl, voucherwatch.EINVALID, "to") // and asks for explanations itself
	f(rCity, sNew, "closed", voucherwatch.EINVALID, "to")
	f(rAuditor, sExpl, sConf, voucherwatch.EFORBIDDEN, "")
}

func TestCheckAssignment(t *testing.T) {
	city := voucherwatch.User{ID: "c", Role: rCity, City: "430100"}
	otherCity := voucherwatch.User{ID: "z", Role: rCity, City: "430200"}
	province := voucherwatch.User{ID: "p", Role: rProvince}
	auditor := voucherwatch.User{ID: "a", Role: rAuditor}
	admin := voucherwatch.User{ID: "ad", Role: rAdmin}
	f := func(actor, assignee voucherwatch.User, want string) {
		t.Helper()
		if got := voucherwatch.ErrorCode(voucherwatch.CheckAssignment(actor, "430100", assignee)); got != want {
			t.Errorf("%s assigns to %s: got %q, want %q", actor.ID, assignee.ID, got, want)
		}
	}
	f(city, city, "")
	f(city, province, "") // a city may hand an alert up to the province
	f(province, city, "")
	f(admin, admin, "")
	f(city, otherCity, voucherwatch.EINVALID)
	f(province, auditor, voucherwatch.EINVALID)
	f(auditor, city, voucherwatch.EFORBIDDEN)
}

func TestTransitionCheck(t *testing.T) {
	today := time.Date(2026, 11, 20, 15, 30, 0, 0, voucherwatch.CST)
	day := func(s string) time.Time {
		d, err := time.ParseInLocation(time.DateOnly, s, voucherwatch.CST)
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	for _, tc := range []struct {
		name      string
		in        voucherwatch.Transition
		wantField string // "" when valid
		wantDate  string // the deadline after Check, for valid explanation requests
	}{
		{"default deadline is today + policy days", voucherwatch.Transition{To: sExpl, Comment: "请说明"}, "", "2026-12-05"},
		{"given deadline", voucherwatch.Transition{To: sExpl, Comment: "请说明", Deadline: day("2026-11-30")}, "", "2026-11-30"},
		{"deadline today", voucherwatch.Transition{To: sExpl, Comment: "请说明", Deadline: day("2026-11-20")}, "deadline", ""},
		{"deadline in the past", voucherwatch.Transition{To: sExpl, Comment: "请说明", Deadline: day("2026-11-01")}, "deadline", ""},
		{"deadline years ahead", voucherwatch.Transition{To: sExpl, Comment: "请说明", Deadline: day("2062-11-30")}, "deadline", ""},
		{"deadline on a confirmation", voucherwatch.Transition{To: sConf, Comment: "属实", Deadline: day("2026-11-30")}, "deadline", ""},
		{"missing comment", voucherwatch.Transition{To: sRev, Comment: "  "}, "comment", ""},
		{"comment too long", voucherwatch.Transition{To: sRev, Comment: strings.Repeat("长", voucherwatch.MaxCommentRunes+1)}, "comment", ""},
		{"recovery with amount", voucherwatch.Transition{To: sOrd, Comment: "追回", Amount: 1234567}, "", ""},
		{"recovery without amount", voucherwatch.Transition{To: sOrd, Comment: "追回"}, "amount", ""},
		{"recovery with negative amount", voucherwatch.Transition{To: sOrd, Comment: "追回", Amount: -5}, "amount", ""},
		{"amount on a dismissal", voucherwatch.Transition{To: sDism, Comment: "误报", Amount: 100}, "amount", ""},
		{"unknown status", voucherwatch.Transition{To: "archived", Comment: "x"}, "to", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := tc.in.Check(today, 15)
			field := ""
			if e, ok := err.(*voucherwatch.Error); ok {
				field = e.Field
				if e.Code != voucherwatch.EINVALID {
					t.Errorf("got code %s, want invalid", e.Code)
				}
			} else if err != nil {
				t.Fatalf("got %T %v, want *Error", err, err)
			}
			if field != tc.wantField {
				t.Fatalf("got field %q (%v), want %q", field, err, tc.wantField)
			}
			if tc.wantDate != "" && got.Deadline.Format(time.DateOnly) != tc.wantDate {
				t.Errorf("got deadline %s, want %s", got.Deadline.Format(time.DateOnly), tc.wantDate)
			}
		})
	}
	if got, _ := (voucherwatch.Transition{To: sExpl, Comment: "x"}).Check(today, 0); got.Deadline.Format(time.DateOnly) != "2026-12-05" {
		t.Errorf("no policy days: got %s, want the default of %d days", got.Deadline.Format(time.DateOnly), voucherwatch.DefaultExplanationDays)
	}
}

func TestProposalAndAssignmentEvents(t *testing.T) {
	u := voucherwatch.User{ID: "c", Name: "长沙审核员", Role: rCity, City: "430100"}
	at := time.Date(2026, 11, 20, 9, 0, 0, 0, voucherwatch.CST)
	e, err := voucherwatch.NewProposalEvent(u, "al_1", sExpl, voucherwatch.Transition{To: sDism, Comment: "说明材料充分，建议驳回"}, at)
	if err != nil {
		t.Fatal(err)
	}
	if e.Kind != voucherwatch.EventProposal || e.From != sExpl || e.To != sExpl || e.ProposedTo != sDism {
		t.Errorf("got %+v, want a proposal that keeps the status and proposes dismissed", e)
	}
	if _, err := voucherwatch.NewProposalEvent(u, "al_1", sConf, voucherwatch.Transition{To: sOrd, Comment: "建议追回"}, at); voucherwatch.ErrorCode(err) != voucherwatch.EINVALID {
		t.Errorf("proposed recovery without an amount: got %v, want EINVALID", err)
	}
	if _, err := voucherwatch.NewProposalEvent(u, "al_1", sExpl, voucherwatch.Transition{To: sDism}, at); voucherwatch.ErrorCode(err) != voucherwatch.EINVALID {
		t.Errorf("proposal without a comment: got %v, want EINVALID", err)
	}
	a, err := voucherwatch.NewAssignmentEvent(u, "al_1", sRev, voucherwatch.User{ID: "p", Name: "省审核员"}, "", at)
	if err != nil {
		t.Fatal(err)
	}
	if a.Kind != voucherwatch.EventAssignment || a.From != sRev || a.To != sRev || a.AssigneeName != "省审核员" {
		t.Errorf("got %+v, want an assignment that keeps the status", a)
	}
}

func TestEventJSON(t *testing.T) {
	e := voucherwatch.Event{
		ID: "ev_1", AlertID: "al_1", At: time.Date(2026, 11, 20, 9, 0, 0, 0, voucherwatch.CST),
		Kind: voucherwatch.EventTransition, From: sConf, To: sOrd, Comment: "追回", Amount: 1234567,
	}
	e.Seq = 1795136400000000001
	b, _ := json.Marshal(e)
	for _, want := range []string{`"amount":"12345.67"`, `"from":"confirmed"`, `"to":"recovery_ordered"`, `"seq":"1795136400000000001"`} {
		if !strings.Contains(string(b), want) {
			t.Errorf("got %s, want it to contain %s", b, want)
		}
	}
	if strings.Contains(string(b), "deadline") {
		t.Errorf("got %s, want no deadline", b)
	}
	e.Deadline = time.Date(2026, 12, 5, 0, 0, 0, 0, voucherwatch.CST)
	if b, _ := json.Marshal(e); !strings.Contains(string(b), `"deadline":"2026-12-05"`) {
		t.Errorf("got %s, want the deadline as a date", b)
	}
}

func TestCheckNewUser(t *testing.T) {
	f := func(u voucherwatch.User, wantField, wantCity string) {
		t.Helper()
		got, err := voucherwatch.CheckNewUser(u)
		field := ""
		if e, ok := err.(*voucherwatch.Error); ok {
			field = e.Field
		}
		if field != wantField {
			t.Errorf("%+v: got field %q (%v), want %q", u, field, err, wantField)
		}
		if err == nil && got.City != wantCity {
			t.Errorf("%+v: got city %q, want %q", u, got.City, wantCity)
		}
	}
	f(voucherwatch.User{Name: "长沙审核员", Role: rCity, City: "长沙"}, "", "430100")
	f(voucherwatch.User{Name: "省审核员", Role: rProvince}, "", "")
	f(voucherwatch.User{Name: "", Role: rProvince}, "name", "")
	f(voucherwatch.User{Name: "x", Role: "root"}, "role", "")
	f(voucherwatch.User{Name: "x", Role: rSystem}, "role", "")
	f(voucherwatch.User{Name: "x", Role: rCity}, "city", "")
	f(voucherwatch.User{Name: "x", Role: rCity, City: "北京"}, "city", "")
	f(voucherwatch.User{Name: "x", Role: rAuditor, City: "430100"}, "city", "")
}

func contains(ss []voucherwatch.Status, s voucherwatch.Status) bool {
	for _, x := range ss {
		if x == s {
			return true
		}
	}
	return false
}

func ExampleCheckTransition() {
	fmt.Println(voucherwatch.CheckTransition(voucherwatch.RoleCityReviewer, voucherwatch.StatusExplanationRequested, voucherwatch.StatusConfirmed))
	fmt.Println(voucherwatch.CheckTransition(voucherwatch.RoleProvinceReviewer, voucherwatch.StatusNew, voucherwatch.StatusConfirmed))
	// Output:
	// role city_reviewer may not move an alert to confirmed
	// the workflow does not allow new → confirmed; from new an alert may go to reviewing
}
