package main

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/voucherwatch/voucherwatch/store/storetest"
)

// TestComplaintRefusals: what the API and the public pages refuse, and what they never do
// with a submitter's words.
func TestComplaintRefusals(t *testing.T) {
	m := startMain(t, testConfig(t, storetest.Database(t)))
	storeComplaintRegistry(t, m)
	base := "http://" + m.HTTPAddr

	// The API: who may register, and what.
	asRole := func(role, city string, body map[string]any) int {
		t.Helper()
		var u map[string]string
		api(t, m, "POST", "/api/v1/users", map[string]any{"name": role + city, "role": role, "city": city}, &u)
		raw, _ := json.Marshal(body)
		req, _ := http.NewRequest("POST", base+"/api/v1/complaints", bytes.NewReader(raw))
		req.Header.Set("Authorization", "Bearer "+u["token"])
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	aboutChangsha := map[string]any{"uscc": complaintTarget, "category": "other", "text": "来电"}
	if code := asRole("city_reviewer", "430200", aboutChangsha); code != http.StatusBadRequest {
		t.Errorf("株洲's reviewer registering a complaint about a 长沙 enterprise: got %d, want 400", code)
	}
	if code := asRole("city_reviewer", "430100", aboutChangsha); code != http.StatusCreated {
		t.Errorf("长沙's reviewer registering a complaint about a 长沙 enterprise: got %d, want 201", code)
	}
	if code := asRole("auditor", "", aboutChangsha); code != http.StatusForbidden {
		t.Errorf("an auditor registering a complaint: got %d, want 403", code)
	}
	for _, tc := range []struct {
		name string
		body map[string]any
		want int
	}{
		{"unknown category", map[string]any{"uscc": complaintTarget, "category": "重复申领", "text": "x"}, http.StatusBadRequest},
		{"not in the registry", map[string]any{"uscc": "91430100MA4L00001X", "category": "other", "text": "x"}, http.StatusBadRequest},
		{"the public channel", map[string]any{"uscc": complaintTarget, "category": "other", "text": "x", "channel": "public"}, http.StatusBadRequest},
		{"empty text", map[string]any{"uscc": complaintTarget, "category": "other", "text": "  "}, http.StatusBadRequest},
		{"a letter", map[string]any{"uscc": complaintTarget, "category": "other", "text": "来信", "channel": "letter"}, http.StatusCreated},
	} {
		var out map[string]any
		if code := api(t, m, "POST", "/api/v1/complaints", tc.body, &out); code != tc.want {
			t.Errorf("%s: got %d %v, want %d", tc.name, code, out, tc.want)
		}
	}
	for _, q := range []struct {
		query string
		want  int
	}{{"detector=complaint", http.StatusOK}, {"detector=complaints", http.StatusBadRequest}} {
		if code := api(t, m, "GET", "/api/v1/alerts?"+q.query, nil, nil); code != q.want {
			t.Errorf("GET /api/v1/alerts?%s: got %d, want %d", q.query, code, q.want)
		}
	}

	// The public form shows what was typed as text, never as HTML.
	public := newUIClient(t, base)
	tok := public.csrf("/complaints/new")
	code, body := public.post("/complaints/new", url.Values{"csrf": {tok}, "enterprise": {complaintTarget}, "uscc": {complaintTarget},
		"category": {"other"}, "text": {strings.Repeat("字", 2001)}, "contact": {`<script>alert(1)</script>`}})
	if code != http.StatusBadRequest || !strings.Contains(body, "不超过 2000 字") {
		t.Errorf("2,001 characters: got %d, want 400 saying the limit", code)
	}
	if strings.Contains(body, "<script>alert(1)") || !strings.Contains(body, "&lt;script&gt;") {
		t.Errorf("the form shows the contact as HTML:\n%s", body)
	}

	// A wrong secret and a wrong receipt get the same answer.
	var filed map[string]string
	api(t, m, "POST", "/api/v1/complaints", map[string]any{"uscc": complaintTarget, "category": "price", "text": "价格虚高"}, &filed)
	status := newUIClient(t, base)
	stok := status.csrf("/complaints/status")
	_, wrongSecret := status.post("/complaints/status", url.Values{"csrf": {stok}, "receipt": {filed["receipt"]}, "secret": {"AAAAAAAAAAAAAAAAAAAAAAAAAA"}})
	_, wrongReceipt := status.post("/complaints/status", url.Values{"csrf": {stok}, "receipt": {"TS20260101-AAAAAAAA"}, "secret": {filed["secret"]}})
	code, right := status.post("/complaints/status", url.Values{"csrf": {stok}, "receipt": {strings.ToLower(filed["receipt"])}, "secret": {filed["secret"]}})
	if !strings.Contains(wrongSecret, "受理编号或查询密码不正确") || !strings.Contains(wrongReceipt, "受理编号或查询密码不正确") {
		t.Error("a wrong secret or receipt: want the same refusal")
	}
	if code != http.StatusOK || !strings.Contains(right, "已受理") || strings.Contains(right, "价格虚高") {
		t.Errorf("the right secret: got %d, want the stage and not the text:\n%s", code, right)
	}

	// Ten posts of the form per address (one above), then 429 until the window passes; the
	// status page's posts do not count.
	flood := newUIClient(t, base)
	ftok := flood.csrf("/complaints/new")
	codes := []int{}
	for i := 0; i < 11; i++ {
		code, _ := flood.post("/complaints/new", url.Values{"csrf": {ftok}, "enterprise": {"智算"}})
		codes = append(codes, code)
	}
	if codes[8] != http.StatusOK || codes[9] != http.StatusTooManyRequests || codes[10] != http.StatusTooManyRequests {
		t.Errorf("posts from one address after one: got %v, want 9 answered, then 429", codes)
	}
}

// TestComplaintRegisteredInTheUI: a 长沙 reviewer registers a phone complaint on the 登记投诉
// page and gets the receipt, the secret and the case; an auditor may not.
func TestComplaintRegisteredInTheUI(t *testing.T) {
	m := startMain(t, testConfig(t, storetest.Database(t)))
	storeComplaintRegistry(t, m)
	base := "http://" + m.HTTPAddr
	createUser(t, base, map[string]any{"name": "刘敏", "role": "city_reviewer", "city": "430100", "login": "liumin", "password": "长沙-审核-2026"})
	createUser(t, base, map[string]any{"name": "审计员", "role": "auditor", "login": "shenji", "password": "审计-只读-2026"})
	city := newUIClient(t, base)
	city.signIn("liumin", "长沙-审核-2026")
	tok := city.csrf("/complaints/register")
	code, body := city.post("/complaints/register", url.Values{"csrf": {tok}, "uscc": {complaintTarget}, "channel": {"letter"},
		"category": {"duplicate_claim"}, "text": {"来信反映重复申领"}, "contact": {"来信人 13600007777"}})
	if code != http.StatusCreated || !strings.Contains(body, `id="complaint-secret"`) || !strings.Contains(body, `id="complaint-case"`) || strings.Contains(body, "13600007777") {
		t.Fatalf("register: got %d, want the receipt, the secret and the case, without the contact:\n%s", code, body)
	}
	cs, _, err := m.DB.Alerts(t.Context(), voucherwatchFilterComplaints())
	if err != nil || len(cs) != 1 || !strings.Contains(cs[0].Evidence.String(), `"channel":"letter"`) || cs[0].Kind != "duplicate_claim" {
		t.Fatalf("the case: got %+v, %v", cs, err)
	}
	auditor := newUIClient(t, base)
	auditor.signIn("shenji", "审计-只读-2026")
	if code, _ := auditor.get("/complaints/register"); code != http.StatusForbidden {
		t.Errorf("an auditor's form: got %d, want 403", code)
	}
	if code, _ := auditor.post("/complaints/register", url.Values{"csrf": {auditor.csrf("/alerts")}, "uscc": {complaintTarget}, "category": {"other"}, "text": {"x"}}); code != http.StatusForbidden {
		t.Errorf("an auditor's post: got %d, want 403", code)
	}
}
