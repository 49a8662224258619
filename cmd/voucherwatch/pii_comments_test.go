package main

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/voucherwatch/voucherwatch"
)

// TestCommentsNeverKeepPersonalNumbers enters comments holding an identity number and mobile
// numbers, written as people write them, on every kind of workflow event, through the API and
// the web UI; then no page, JSON answer, CSV export, log line or ClickHouse table holds any of
// them in clear, while the masked forms are there.
func TestCommentsNeverKeepPersonalNumbers(t *testing.T) {
	const (
		idTyped    = "430104 19900307 1234"
		idNumber   = "430104199003071234"
		phoneTyped = "138-1234-5678"
		phone      = "13812345678"
		phone2     = "+86 139 8765 4321"
		phone2Bare = "13987654321"
	)
	comment := "申请人法定代表人身份证 " + idTyped + "，电话 " + phoneTyped + "，另一联系人 " + phone2 + "，已电话核实"
	clear := []string{idNumber, idTyped, phone, phoneTyped, phone2Bare, "139 8765 4321", "19900307"}

	m, logs, ctx := startLoggedMain(t)

	alerts := uiFixtureAlerts()
	if _, err := m.DB.UpsertAlerts(ctx, alerts, time.Now()); err != nil {
		t.Fatal(err)
	}
	id := alerts[0].ID
	base := "http://" + m.HTTPAddr
	createUser(t, base, map[string]any{"name": "省级复核员", "role": "province_reviewer", "login": "shenghe", "password": "省级复核-密码-2026"})

	var users struct{ Users []voucherwatch.User }
	api(t, m, "GET", "/api/v1/users", nil, &users)
	reviewerID := ""
	for _, u := range users.Users {
		if u.Login == "shenghe" {
			reviewerID = u.ID
		}
	}

	// Through the API: a transition, an assignment, a proposal.
	for _, r := range []struct {
		path string
		body map[string]any
	}{
		{"/api/v1/alerts/" + id + "/transitions", map[string]any{"to": "reviewing", "comment": comment}},
		{"/api/v1/alerts/" + id + "/assign", map[string]any{"user_id": reviewerID, "comment": comment}},
		{"/api/v1/alerts/" + id + "/proposals", map[string]any{"to": "dismissed", "comment": comment}},
	} {
		var out map[string]any
		if code := api(t, m, "POST", r.path, r.body, &out); code != http.StatusCreated {
			t.Fatalf("POST %s: got %d %v", r.path, code, out)
		}
		if b, _ := json_(out); strings.Contains(b, idNumber) || !strings.Contains(b, "430***********1234") {
			t.Errorf("POST %s answered %s: want the masked number only", r.path, b)
		}
	}

	// Through the web UI: sign in and request an explanation with the comment.
	browser := newUIClient(t, base)
	browser.signIn("shenghe", "省级复核-密码-2026")
	form := url.Values{"csrf": {browser.csrf("/alerts/" + id)}, "to": {"explanation_requested"}, "from": {"reviewing"}, "comment": {comment},
		"deadline": {time.Now().In(voucherwatch.CST).AddDate(0, 0, 10).Format(time.DateOnly)}}
	if code, _ := browser.post("/alerts/"+id+"/transitions", form); code != http.StatusSeeOther {
		t.Fatalf("transition through the UI: got %d", code)
	}

	// What a reviewer and an auditor read.
	_, page := browser.get("/alerts/" + id)
	seen := map[string]string{"alert page": page}
	var history map[string]any
	api(t, m, "GET", "/api/v1/alerts/"+id+"/history", nil, &history)
	seen["history JSON"], _ = json_(history)
	seen["events CSV"] = apiRaw(t, m, "/api/v1/events/export")
	seen["log"] = logs.String()
	if n := strings.Count(seen["history JSON"], "430***********1234"); n < 4 {
		t.Errorf("history holds the masked number %d times, want once per event (4): %s", n, seen["history JSON"])
	}
	assertNoneInClear(t, seen, clear)

	// Every String column of every table of the engine's database.
	conn := m.DB.Conn()
	cols := stringColumns(t, ctx, m)
	if len(cols) < 20 {
		t.Fatalf("found %d string columns, want the engine's tables", len(cols))
	}
	masked := 0
	needles := append(clear, "430***********1234")
	for _, tc := range cols {
		var counts []string
		args := make([]any, len(needles))
		for i, number := range needles {
			counts = append(counts, "countIf(position(toString("+tc[1]+"), ?) > 0)")
			args[i] = number
		}
		q := "SELECT " + strings.Join(counts, ", ") + " FROM " + m.DB.Database() + "." + tc[0]
		got := make([]uint64, len(needles))
		dest := make([]any, len(needles))
		for i := range got {
			dest[i] = &got[i]
		}
		if err := conn.QueryRow(ctx, q, args...).Scan(dest...); err != nil {
			t.Fatalf("%s.%s: %v", tc[0], tc[1], err)
		}
		for i, n := range got {
			switch {
			case i == len(needles)-1:
				masked += int(n)
			case n > 0:
				t.Errorf("table %s, column %s: %d rows hold %q in clear", tc[0], tc[1], n, needles[i])
			}
		}
	}
	if masked < 4 {
		t.Errorf("the tables hold the masked number in %d rows, want the 4 events", masked)
	}
}

func json_(v any) (string, error) {
	var b bytes.Buffer
	enc := jsonEncoder(&b)
	err := enc.Encode(v)
	return b.String(), err
}

// apiRaw answers GET path as the administrator, as text.
func apiRaw(t *testing.T, m *Main, path string) string {
	t.Helper()
	code, b := apiAs(t, m, testToken, "GET", path, nil)
	if code != http.StatusOK {
		t.Fatalf("GET %s: got %d %s", path, code, b)
	}
	return string(b)
}

func jsonEncoder(w io.Writer) *json.Encoder {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	return enc
}
