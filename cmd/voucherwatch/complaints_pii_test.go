package main

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/voucherwatch/voucherwatch"
)

// TestComplaintContactNeverLeaks files a complaint on the public form and one by phone through
// the API, both with contact details: no page or API answer a 长沙 city reviewer can open
// (the case in its own city included), no export, no ClickHouse column and no log line holds
// them in clear, while a province administrator reads them on the case page. The description's
// phone number is masked as comments are.
func TestComplaintContactNeverLeaks(t *testing.T) {
	const (
		contactName  = "举报人张三丰"
		contactPhone = "13700002222"
		contactMail  = "tipster-0413@example.com"
		apiContact   = "来电人王五 13655556666"
		textPhone    = "13811112222"
	)
	clear := []string{contactName, contactPhone, contactMail, "来电人王五", "13655556666", textPhone}

	m, logs, ctx := startLoggedMain(t)
	storeComplaintRegistry(t, m)
	base := "http://" + m.HTTPAddr
	createUser(t, base, map[string]any{"name": "刘敏（长沙市工信局）", "role": "city_reviewer", "city": "430100", "login": "liumin", "password": "长沙-审核-2026"})
	createUser(t, base, map[string]any{"name": "省管理员", "role": "province_admin", "login": "shengguan", "password": "省级-管理-2026"})

	// The public form: look the enterprise up by its code, then file.
	public := newUIClient(t, base)
	tok := public.csrf("/complaints/new")
	if code, body := public.post("/complaints/new", url.Values{"csrf": {tok}, "enterprise": {strings.ToLower(complaintTarget)}}); code != http.StatusOK || !strings.Contains(body, "长沙麓谷智算科技有限公司") {
		t.Fatalf("look-up by code: got %d %s", code, body)
	}
	code, body := public.post("/complaints/new", url.Values{"csrf": {tok}, "enterprise": {complaintTarget}, "uscc": {complaintTarget},
		"category": {"false_use"}, "text": {"该企业的算力长期闲置，知情人电话 " + textPhone},
		"contact": {contactName + " " + contactPhone + " " + contactMail}})
	if code != http.StatusCreated {
		t.Fatalf("file: got %d %s", code, body)
	}
	// Without the cookie's token, or from another site, nothing is filed.
	if code, _ := newUIClient(t, base).post("/complaints/new", url.Values{"csrf": {tok}, "enterprise": {complaintTarget}, "uscc": {complaintTarget}, "category": {"other"}, "text": {"x"}}); code != http.StatusForbidden {
		t.Errorf("a post without the form's cookie: got %d, want 403", code)
	}

	// By phone, through the API.
	var filed map[string]string
	if code := api(t, m, "POST", "/api/v1/complaints", map[string]any{"uscc": complaintTarget, "category": "resale", "text": "来电反映转租", "contact": apiContact}, &filed); code != http.StatusCreated || filed["receipt"] == "" || filed["secret"] == "" {
		t.Fatalf("POST /api/v1/complaints: got %d %v", code, filed)
	}
	var list struct{ Alerts []voucherwatch.Alert }
	api(t, m, "GET", "/api/v1/alerts?detector=complaint", nil, &list)
	if len(list.Alerts) != 2 {
		t.Fatalf("GET /api/v1/alerts?detector=complaint: got %d cases, want 2", len(list.Alerts))
	}
	// A comment on each case, so that the event export has rows about them.
	for _, a := range list.Alerts {
		var out map[string]any
		if code := api(t, m, "POST", "/api/v1/alerts/"+a.ID+"/transitions", map[string]any{"to": "reviewing", "comment": "开始核查投诉"}, &out); code != http.StatusCreated {
			t.Fatalf("transition %s: got %d %v", a.ID, code, out)
		}
	}

	// What the 长沙 reviewer, whose city the cases are in, can open.
	seen := map[string]string{}
	city := newUIClient(t, base)
	city.signIn("liumin", "长沙-审核-2026")
	paths := []string{"/alerts", "/alerts?detector=complaint", "/enterprises/" + complaintTarget, "/explanations/overdue", "/alerts/" + uiFixtureAlerts()[0].ID}
	for _, a := range list.Alerts {
		paths = append(paths, "/alerts/"+a.ID)
	}
	opened := 0
	for _, p := range paths {
		code, body := city.get(p)
		seen["city reviewer "+p] = body
		if code == http.StatusOK && strings.Contains(body, "投诉举报") {
			opened++
		}
	}
	if opened < 4 {
		t.Errorf("the city reviewer opened %d pages about the complaints, want the inbox, the list and both cases", opened)
	}
	for _, path := range []string{"/api/v1/alerts?detector=complaint", "/api/v1/alerts/" + list.Alerts[0].ID, "/api/v1/alerts/" + list.Alerts[0].ID + "/history", "/api/v1/events/export", "/api/v1/explanations/overdue"} {
		seen["API "+path] = apiRaw(t, m, path)
	}
	if !strings.Contains(seen["API /api/v1/alerts?detector=complaint"], "138****2222") {
		t.Errorf("the description's phone number: want it masked in the case, got %s", seen["API /api/v1/alerts?detector=complaint"])
	}

	// The province administrator reads the contact on the case page.
	prov := newUIClient(t, base)
	prov.signIn("shengguan", "省级-管理-2026")
	shown := 0
	for _, a := range list.Alerts {
		_, body := prov.get("/alerts/" + a.ID)
		if strings.Contains(body, contactPhone) || strings.Contains(body, "13655556666") {
			shown++
		}
	}
	if shown != 2 {
		t.Errorf("the province administrator sees %d contacts, want 2", shown)
	}

	// The figures at /metrics: by city and category, both cases open (under review).
	_, metrics := newUIClient(t, base).get("/metrics")
	for _, want := range []string{`vw_complaints_received{category="false_use",city="430100"} 1`, `vw_complaints_open{category="resale",city="430100"} 1`, `vw_complaints_overdue{category="resale",city="430100"} 0`} {
		if !strings.Contains(metrics, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
	seen["metrics"] = metrics
	seen["log"] = logs.String()
	assertNoneInClear(t, seen, clear)

	// Every String column of every table of the engine's database.
	conn := m.DB.Conn()
	cols := stringColumns(t, ctx, m)
	sealed := 0
	for _, tc := range cols {
		// One read of the column for every text in clear.
		counts := make([]string, len(clear))
		args := make([]any, len(clear))
		dest := make([]any, len(clear))
		ns := make([]uint64, len(clear))
		for i, s := range clear {
			counts[i] = "countIf(position(toString(" + tc[1] + "), ?) > 0)"
			args[i], dest[i] = s, &ns[i]
		}
		q := "SELECT " + strings.Join(counts, ", ") + " FROM " + m.DB.Database() + "." + tc[0]
		if err := conn.QueryRow(ctx, q, args...).Scan(dest...); err != nil {
			t.Fatalf("%s.%s: %v", tc[0], tc[1], err)
		}
		for i, n := range ns {
			if n > 0 {
				t.Errorf("table %s, column %s: %d rows hold %q in clear", tc[0], tc[1], n, clear[i])
			}
		}
		if tc == [2]string{"complaints", "contact_sealed"} {
			var n uint64
			if err := conn.QueryRow(ctx, "SELECT countIf(contact_sealed != '') FROM "+m.DB.Database()+".complaints").Scan(&n); err != nil {
				t.Fatal(err)
			}
			sealed = int(n)
		}
	}
	if sealed != 2 {
		t.Errorf("complaints.contact_sealed: %d rows hold a sealed contact, want 2", sealed)
	}
}
