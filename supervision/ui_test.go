package supervision

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/voucherwatch/voucherwatch"
	"github.com/voucherwatch/voucherwatch/supervision/locale"
	"github.com/voucherwatch/voucherwatch/supervision/ui"
	"github.com/voucherwatch/voucherwatch/supervision/workflow"
)

// uiPassword is every UI test user's password.
const uiPassword = "长沙-correct-horse-42"

var (
	uiHashOnce sync.Once
	uiHash     string
)

// uiPasswordHash hashes uiPassword once per test binary: bcrypt is slow on purpose.
func uiPasswordHash(t *testing.T) string {
	uiHashOnce.Do(func() {
		h, err := workflow.HashPassword(uiPassword)
		if err != nil {
			t.Fatal(err)
		}
		uiHash = h
	})
	return uiHash
}

// The UI test users, by login.
var uiUsers = map[string]voucherwatch.User{
	"admin":    {ID: "u_admin", Name: "省管理员", Login: "admin", Role: voucherwatch.RoleProvinceAdmin},
	"province": {ID: "u_prov", Name: "省级审核员", Login: "province", Role: voucherwatch.RoleProvinceReviewer},
	"changsha": {ID: "u_cs", Name: "长沙审核员", Login: "changsha", Role: voucherwatch.RoleCityReviewer, City: "430100"},
	"zhuzhou":  {ID: "u_zz", Name: "株洲审核员", Login: "zhuzhou", Role: voucherwatch.RoleCityReviewer, City: "430200"},
	"shenji":   {ID: "u_aud", Name: "审计员", Login: "shenji", Role: voucherwatch.RoleAuditor},
}

// fullIdentityNumber is a complete identity number that a fake entity carries where only
// keyed hashes belong: the enterprise page must never show it.
const fullIdentityNumber = "430102198801011234"

// CountAlerts makes the fake a voucherwatch.AlertCounter, counting as the store does.
func (f *fakeWorkflow) CountAlerts(_ context.Context, flt voucherwatch.AlertFilter) (voucherwatch.AlertCounts, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := voucherwatch.AlertCounts{ByStatus: map[voucherwatch.Status]int{}, ByDetector: map[string]int{}}
	for _, a := range f.alerts {
		a.Status = f.status(a)
		if workflow.Matches(a, flt) {
			out.Total++
			out.ByStatus[a.Status]++
			out.ByDetector[a.Detector]++
		}
	}
	return out, nil
}

// fakeEnterprises is a hand-written EnterpriseStore over a map.
type fakeEnterprises map[string]voucherwatch.EnterpriseFile

func (f fakeEnterprises) EnterpriseFile(_ context.Context, uscc string) (voucherwatch.EnterpriseFile, error) {
	if e, ok := f[uscc]; ok {
		return e, nil
	}
	return voucherwatch.EnterpriseFile{}, voucherwatch.Errorf(voucherwatch.ENOTFOUND, "no enterprise %s", uscc)
}

const (
	csApplicant = "91430100MA4CS00001"
	zzApplicant = "91430200MA4ZZ00002"
)

// enterprisesWithPeople holds one enterprise in each of 长沙 and 株洲; 长沙's has a legal
// representative with a phone, an e-mail and, as its key, a full identity number.
var enterprisesWithPeople = fakeEnterprises{
	csApplicant: {USCC: csApplicant, Entity: &voucherwatch.Entity{
		USCC: csApplicant, Name: "长沙星算科技有限公司", City: "430100", RegisteredAddress: "长沙市岳麓区麓谷大道 1 号",
		RegisteredOn: time.Date(2019, 5, 6, 0, 0, 0, 0, voucherwatch.CST), IsSME: true,
		LegalRep: &voucherwatch.Person{Name: "张伟", IDType: "身份证", Key: fullIdentityNumber, Masked: "430***********1234", Phone: "13812345678", Email: "zhang.wei@xingsuan.cn"},
		Shareholders: []voucherwatch.Holder{
			{Kind: "person", Person: &voucherwatch.Person{Name: "张伟", Key: fullIdentityNumber, Masked: "430***********1234"}, SharePct: 60},
			{Kind: "enterprise", USCC: zzApplicant, Name: "株洲云图数据有限公司", SharePct: 40},
		},
		Officers: []voucherwatch.Officer{
			{Role: voucherwatch.OfficerLegalRep, Person: voucherwatch.Person{Name: "张伟", Key: fullIdentityNumber, Masked: "430***********1234"}},
			{Role: voucherwatch.OfficerSupervisor, Person: voucherwatch.Person{Name: "李娜", Masked: "430***********5678"}},
		},
		BankAccounts: []voucherwatch.BankAccount{{Bank: "长沙银行", AccountNo: "800012345678901"}},
	}},
	zzApplicant: {USCC: zzApplicant, Entity: &voucherwatch.Entity{USCC: zzApplicant, Name: "株洲云图数据有限公司", City: "430200"}},
}

// newUIServer starts the API and the UI over fakes: in each of 长沙 (cs_) and 株洲 (zz_), one
// alert in every status (see newWorkflowServer), users who sign in with uiPassword, claims
// C_CS and C_ZZ, and the two enterprises above.
func newUIServer(t *testing.T, deps ui.Settings) (*Server, *fakeWorkflow, *fakeUsers) {
	t.Helper()
	wf := &fakeWorkflow{}
	for _, st := range voucherwatch.Statuses {
		wf.alerts = append(wf.alerts,
			voucherwatch.Alert{ID: "cs_" + string(st), Detector: "duplicate_claim", Severity: voucherwatch.SeverityHigh, City: "430100", Status: st, Title: "同一发票被重复申报", Subjects: voucherwatch.Subjects{ApplicantUSCC: csApplicant, ClaimID: "C_CS"}, PolicyClause: "五 / M1b"},
			voucherwatch.Alert{ID: "zz_" + string(st), Detector: "price_out_of_range", Severity: voucherwatch.SeverityLow, City: "430200", Status: st, Title: "株洲单价异常", Subjects: voucherwatch.Subjects{ApplicantUSCC: zzApplicant}, PolicyClause: "五 / M1d"},
		)
	}
	var us []voucherwatch.User
	for _, u := range uiUsers {
		us = append(us, u)
	}
	users := newFakeUsers(us...)
	for _, u := range uiUsers {
		users.password[u.ID] = uiPasswordHash(t)
	}
	s := newServer()
	s.setLog(slog.New(slog.NewTextHandler(io.Discard, nil)))
	s.registerAlertRoutes(AlertDeps{
		Alerts: wf,
		Assess: func(_ context.Context, id string) (voucherwatch.ClaimAssessment, error) {
			switch id {
			case "C_CS":
				return voucherwatch.ClaimAssessment{ClaimID: id, ApplicantUSCC: csApplicant, ApplicantName: "长沙星算科技有限公司", City: "430100",
					Totals: voucherwatch.AssessmentTotals{ClaimedFen: 100000000, EligibleFen: 90000000, RatePercent: 30, MaxSubsidyFen: 27000000, RequestedFen: 30000000, OverByFen: 3000000}}, nil
			case "C_ZZ":
				return voucherwatch.ClaimAssessment{ClaimID: id, ApplicantUSCC: zzApplicant, City: "430200"}, nil
			}
			return voucherwatch.ClaimAssessment{}, voucherwatch.Errorf(voucherwatch.ENOTFOUND, "claim %s not found", id)
		},
	})
	s.registerWorkflowRoutes(WorkflowDeps{
		Alerts: wf, Events: wf, Users: users, ExplanationDays: 15, TokenCacheTTL: -1,
		Now: func() time.Time { return workflowNow },
	})
	if deps.SessionKey == nil {
		deps.SessionKey = ui.DeriveSessionKey("test-pii-key")
	}
	if deps.SessionCacheTTL == 0 {
		deps.SessionCacheTTL = -1
	}
	if deps.Counts == nil {
		deps.Counts = wf
	}
	if deps.Enterprises == nil {
		deps.Enterprises = enterprisesWithPeople
	}
	if err := s.registerUI(deps); err != nil {
		t.Fatal(err)
	}
	s.AddToken("admin-token", uiUsers["admin"])
	s.AddToken("changsha-token", uiUsers["changsha"])
	return s, wf, users
}

// browser is a test client with a cookie jar that does not follow redirects.
type browser struct {
	t    *testing.T
	base string
	c    *http.Client
}

func newBrowser(t *testing.T, h http.Handler) *browser {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	jar, _ := cookiejar.New(nil)
	return &browser{t: t, base: srv.URL, c: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error {
		return http.ErrUseLastResponse
	}}}
}

// page is an answer as a browser sees it.
type page struct {
	Code     int
	Body     string
	Location string
	Cookies  []*http.Cookie
}

func (b *browser) do(req *http.Request) page {
	b.t.Helper()
	resp, err := b.c.Do(req)
	if err != nil {
		b.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return page{Code: resp.StatusCode, Body: string(body), Location: resp.Header.Get("Location"), Cookies: resp.Cookies()}
}

func (b *browser) get(path string) page {
	b.t.Helper()
	req, _ := http.NewRequest("GET", b.base+path, nil)
	return b.do(req)
}

// post sends a form; headers are pairs of name and value.
func (b *browser) post(path string, form url.Values, headers ...string) page {
	b.t.Helper()
	req, _ := http.NewRequest("POST", b.base+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	return b.do(req)
}

var csrfField = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// csrf is the CSRF token of the page at path.
func (b *browser) csrf(path string) string {
	b.t.Helper()
	p := b.get(path)
	m := csrfField.FindStringSubmatch(p.Body)
	if m == nil {
		b.t.Fatalf("GET %s: no CSRF field in %d %s", path, p.Code, p.Body)
	}
	return m[1]
}

// signIn signs in as login with uiPassword and returns the answer to the POST.
func (b *browser) signIn(login, next string) page {
	b.t.Helper()
	token := b.csrf("/login")
	return b.post("/login", url.Values{"login": {login}, "password": {uiPassword}, "csrf": {token}, "next": {next}})
}

func signedIn(t *testing.T, s *Server, login string) *browser {
	t.Helper()
	b := newBrowser(t, s)
	if p := b.signIn(login, ""); p.Code != http.StatusSeeOther || p.Location != "/alerts" {
		t.Fatalf("sign in as %s: got %d to %q, want 303 to /alerts: %s", login, p.Code, p.Location, p.Body)
	}
	return b
}

func cookieNamed(cs []*http.Cookie, name string) *http.Cookie {
	for _, c := range cs {
		if c.Name == name {
			return c
		}
	}
	return nil
}

func TestSignIn(t *testing.T) {
	s, _, _ := newUIServer(t, ui.Settings{})
	b := newBrowser(t, s)

	if p := b.get("/alerts?status=new"); p.Code != http.StatusSeeOther || p.Location != "/login?next="+url.QueryEscape("/alerts?status=new") {
		t.Errorf("signed out inbox: got %d to %q, want 303 to the sign-in page with next", p.Code, p.Location)
	}

	token := b.csrf("/login")
	wrong := b.post("/login", url.Values{"login": {"changsha"}, "password": {"not-the-password"}, "csrf": {token}})
	unknown := b.post("/login", url.Values{"login": {"nobody"}, "password": {uiPassword}, "csrf": {token}})
	for name, p := range map[string]page{"wrong password": wrong, "unknown login": unknown} {
		if p.Code != http.StatusUnauthorized || !strings.Contains(p.Body, locale.T("login.failed")) || cookieNamed(p.Cookies, sessionCookie) != nil {
			t.Errorf("%s: got %d with session cookie %v, want 401 with %q and no session", name, p.Code, cookieNamed(p.Cookies, sessionCookie), locale.T("login.failed"))
		}
	}
	if strings.Contains(wrong.Body, "not-the-password") {
		t.Error("the sign-in page shows the password that was typed")
	}

	p := b.post("/login", url.Values{"login": {"changsha"}, "password": {uiPassword}, "csrf": {token}, "next": {"/alerts/cs_new"}})
	if p.Code != http.StatusSeeOther || p.Location != "/alerts/cs_new" {
		t.Fatalf("sign in: got %d to %q, want 303 to /alerts/cs_new: %s", p.Code, p.Location, p.Body)
	}
	c := cookieNamed(p.Cookies, sessionCookie)
	if c == nil || !c.HttpOnly || c.SameSite != http.SameSiteLaxMode || c.Path != "/" || c.Secure || c.MaxAge != int(ui.DefaultSessionTTL/time.Second) {
		t.Errorf("session cookie: got %+v, want HttpOnly, SameSite=Lax, Path=/, not Secure, 8 h", c)
	}
	if strings.Contains(c.Value, "changsha") || strings.Contains(c.Value, uiPassword) {
		t.Errorf("session cookie %q carries the login or password", c.Value)
	}
	if home := b.get("/alerts"); home.Code != http.StatusOK || !strings.Contains(home.Body, "长沙审核员") {
		t.Errorf("inbox after sign-in: got %d, want 200 naming the user", home.Code)
	}

	// Only local paths are followed after signing in.
	for _, next := range []string{"//evil.example/x", "https://evil.example/", "/\\evil.example", "javascript:alert(1)"} {
		b := newBrowser(t, s)
		if p := b.signIn("changsha", next); p.Location != "/alerts" {
			t.Errorf("next=%q: got redirect to %q, want /alerts", next, p.Location)
		}
	}

	// Secure when asked for.
	secure, _, _ := newUIServer(t, ui.Settings{SecureCookies: true})
	if p := newBrowser(t, secure).signIn("changsha", ""); cookieNamed(p.Cookies, sessionCookie) == nil || !cookieNamed(p.Cookies, sessionCookie).Secure {
		t.Errorf("with SecureCookies: got cookies %v, want a Secure session cookie", p.Cookies)
	}
}

func TestSignOut(t *testing.T) {
	s, _, _ := newUIServer(t, ui.Settings{})
	b := signedIn(t, s, "changsha")
	if p := b.post("/logout", url.Values{"csrf": {"forged"}}); p.Code != http.StatusForbidden {
		t.Errorf("sign-out without the CSRF token: got %d, want 403", p.Code)
	}
	p := b.post("/logout", url.Values{"csrf": {b.csrf("/alerts")}})
	if c := cookieNamed(p.Cookies, sessionCookie); p.Code != http.StatusSeeOther || c == nil || c.MaxAge >= 0 {
		t.Errorf("sign-out: got %d with cookie %+v, want 303 clearing the session cookie", p.Code, c)
	}
	if p := b.get("/alerts"); p.Code != http.StatusSeeOther {
		t.Errorf("inbox after sign-out: got %d, want 303 to sign in", p.Code)
	}
}

func TestSessionEndsWhenUserDisabledOrPasswordChanges(t *testing.T) {
	s, _, users := newUIServer(t, ui.Settings{})
	b := signedIn(t, s, "changsha")
	if err := users.DisableUser(context.Background(), "u_cs", workflowNow); err != nil {
		t.Fatal(err)
	}
	if p := b.get("/alerts"); p.Code != http.StatusSeeOther {
		t.Errorf("disabled user: got %d, want 303 to sign in", p.Code)
	}

	b = signedIn(t, s, "zhuzhou")
	h, err := workflow.HashPassword("a-brand-new-password")
	if err != nil {
		t.Fatal(err)
	}
	_ = users.SetPassword(context.Background(), "u_zz", h, workflowNow)
	if p := b.get("/alerts"); p.Code != http.StatusSeeOther {
		t.Errorf("after a password change elsewhere: got %d, want 303 to sign in", p.Code)
	}
}

func TestCSRF(t *testing.T) {
	s, wf, _ := newUIServer(t, ui.Settings{})
	b := signedIn(t, s, "changsha")
	token := b.csrf("/alerts/cs_reviewing")
	form := func(csrf string) url.Values {
		return url.Values{"to": {"explanation_requested"}, "comment": {"请说明"}, "from": {"reviewing"}, "csrf": {csrf}}
	}
	for _, tc := range []struct {
		name    string
		form    url.Values
		headers []string
	}{
		{"no token", form(""), nil},
		{"wrong token", form("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"), nil},
		{"another user's token", form(signedIn(t, s, "zhuzhou").csrf("/alerts")), nil},
		{"cross-site origin", form(token), []string{"Origin", "https://evil.example"}},
		{"cross-site fetch", form(token), []string{"Sec-Fetch-Site", "cross-site"}},
		{"same-site fetch", form(token), []string{"Sec-Fetch-Site", "same-site"}},
		{"opaque origin", form(token), []string{"Origin", "null"}},
		{"another port", form(token), []string{"Origin", "http://127.0.0.1:1"}},
	} {
		p := b.post("/alerts/cs_reviewing/transitions", tc.form, tc.headers...)
		if p.Code != http.StatusForbidden || !strings.Contains(p.Body, locale.T("error.csrf")) {
			t.Errorf("%s: got %d, want 403 with %q", tc.name, p.Code, locale.T("error.csrf"))
		}
	}
	if len(wf.events) != 0 {
		t.Errorf("refused forms recorded %d events, want none", len(wf.events))
	}
	if p := b.post("/alerts/cs_reviewing/transitions", form(token), "Origin", b.base); p.Code != http.StatusSeeOther {
		t.Errorf("with the token from this site: got %d, want 303: %s", p.Code, p.Body)
	}

	// The sign-in form needs its pre-session cookie and token too.
	fresh := newBrowser(t, s)
	if p := fresh.post("/login", url.Values{"login": {"changsha"}, "password": {uiPassword}}); p.Code != http.StatusForbidden || cookieNamed(p.Cookies, sessionCookie) != nil {
		t.Errorf("sign-in without CSRF: got %d, want 403 and no session", p.Code)
	}
}

func TestInboxCityScope(t *testing.T) {
	s, _, _ := newUIServer(t, ui.Settings{})
	cs := signedIn(t, s, "changsha")
	for _, path := range []string{"/alerts", "/alerts?city=430200", "/alerts?city=株洲市&status=new"} {
		p := cs.get(path)
		if p.Code != http.StatusOK || strings.Contains(p.Body, "株洲单价异常") || strings.Contains(p.Body, "/alerts/zz_") {
			t.Errorf("city reviewer %s: got %d, want 200 without 株洲's alerts", path, p.Code)
		}
	}
	if p := cs.get("/alerts"); !strings.Contains(p.Body, "/alerts/cs_new") || !strings.Contains(p.Body, "同一发票被重复申报") {
		t.Errorf("city reviewer inbox: want its own city's alerts")
	}
	// The chips count the city's alerts only: 7 in all, one per status.
	if p := cs.get("/alerts"); !strings.Contains(p.Body, locale.T("inbox.all")+" <b>7</b>") {
		t.Errorf("city reviewer chips: want a total of 7")
	}

	prov := signedIn(t, s, "province")
	p := prov.get("/alerts")
	if !strings.Contains(p.Body, "株洲单价异常") || !strings.Contains(p.Body, "同一发票被重复申报") || !strings.Contains(p.Body, locale.T("inbox.all")+" <b>14</b>") {
		t.Errorf("province inbox: want both cities' alerts, 14 in all")
	}
	p = prov.get("/alerts?city=430200&status=explanation_requested")
	if strings.Count(p.Body, `class="alert-link"`) != 1 || !strings.Contains(p.Body, "/alerts/zz_explanation_requested") {
		t.Errorf("province filtered by city and status: want exactly zz_explanation_requested")
	}
}

// EnterpriseNames names the fake enterprises.
func (f fakeEnterprises) EnterpriseNames(_ context.Context, usccs []string) (map[string]string, error) {
	names := map[string]string{}
	for _, u := range usccs {
		if e, ok := f[u]; ok && e.Entity != nil {
			names[u] = e.Entity.Name
		}
	}
	return names, nil
}

type failingNames struct{}

func (failingNames) EnterpriseNames(context.Context, []string) (map[string]string, error) {
	return nil, errors.New("clickhouse: connection refused")
}

func TestInboxNamesEnterprises(t *testing.T) {
	s, _, _ := newUIServer(t, ui.Settings{Names: enterprisesWithPeople})
	cs := signedIn(t, s, "changsha")
	if p := cs.get("/alerts"); !strings.Contains(p.Body, ">长沙星算科技有限公司</a>") || strings.Contains(p.Body, "株洲云图数据有限公司") {
		t.Errorf("city reviewer inbox: want its applicant named, and no other city's")
	}
	if p := cs.get("/alerts/cs_new"); !strings.Contains(p.Body, "长沙星算科技有限公司") {
		t.Errorf("alert page: want the applicant named")
	}
	// Without names, or when the look-up fails, the pages still show the USCCs.
	for _, deps := range []ui.Settings{{}, {Names: failingNames{}}} {
		s, _, _ := newUIServer(t, deps)
		p := signedIn(t, s, "changsha").get("/alerts")
		if p.Code != http.StatusOK || strings.Contains(p.Body, "长沙星算科技有限公司") || !strings.Contains(p.Body, ">"+csApplicant+"</span></a>") {
			t.Errorf("inbox without names (%T): got %d, want 200 with the bare USCC", deps.Names, p.Code)
		}
	}
}

func TestCityReviewerNotFoundPages(t *testing.T) {
	s, _, _ := newUIServer(t, ui.Settings{})
	cs := signedIn(t, s, "changsha")
	for path, want := range map[string]int{
		"/alerts/cs_new":              http.StatusOK,
		"/alerts/zz_new":              http.StatusNotFound,
		"/claims/C_CS":                http.StatusOK,
		"/claims/C_ZZ":                http.StatusNotFound,
		"/enterprises/" + csApplicant: http.StatusOK,
		"/enterprises/" + zzApplicant: http.StatusNotFound,
		"/alerts/none":                http.StatusNotFound,
	} {
		p := cs.get(path)
		if p.Code != want {
			t.Errorf("%s: got %d, want %d", path, p.Code, want)
		}
		if want == http.StatusNotFound && (!strings.Contains(p.Body, locale.T("error.page.not_found")) || strings.Contains(p.Body, "株洲")) {
			t.Errorf("%s: want the Chinese 404 page, telling nothing of the record", path)
		}
	}
	prov := signedIn(t, s, "province")
	for _, path := range []string{"/alerts/zz_new", "/claims/C_ZZ", "/enterprises/" + zzApplicant} {
		if p := prov.get(path); p.Code != http.StatusOK {
			t.Errorf("province %s: got %d, want 200", path, p.Code)
		}
	}
}

func TestTransitionThroughTheUI(t *testing.T) {
	s, wf, _ := newUIServer(t, ui.Settings{})
	b := signedIn(t, s, "changsha")
	page0 := b.get("/alerts/cs_reviewing")
	if !strings.Contains(page0.Body, `value="2026-12-05"`) {
		t.Errorf("explanation form: want the default deadline 2026-12-05 (today + 15 days)")
	}
	p := b.post("/alerts/cs_reviewing/transitions", url.Values{
		"to": {"explanation_requested"}, "comment": {"填写说明"}, "deadline": {"2026-12-01"}, "from": {"reviewing"},
		"csrf": {csrfField.FindStringSubmatch(page0.Body)[1]},
	})
	if p.Code != http.StatusSeeOther || p.Location != "/alerts/cs_reviewing?flash=transition" {
		t.Fatalf("transition: got %d to %q, want 303 back to the alert: %s", p.Code, p.Location, p.Body)
	}
	if len(wf.events) != 1 {
		t.Fatalf("got %d events, want 1", len(wf.events))
	}
	e := wf.events[0]
	if e.To != voucherwatch.StatusExplanationRequested || e.ActorID != "u_cs" || e.Comment != "填写说明" || e.Deadline.Format(time.DateOnly) != "2026-12-01" {
		t.Errorf("got event %+v, want explanation_requested by u_cs with the comment and deadline 2026-12-01", e)
	}
	after := b.get(p.Location)
	for _, want := range []string{locale.T("flash.transition"), "截止 2026-12-01", "填写说明", locale.StatusLabel(voucherwatch.StatusExplanationRequested), "长沙审核员"} {
		if !strings.Contains(after.Body, want) {
			t.Errorf("alert page after the transition: want %q", want)
		}
	}
}

func TestRefusedTransitionsShowChineseErrors(t *testing.T) {
	s, wf, _ := newUIServer(t, ui.Settings{})
	f := func(login, id string, form url.Values, wantCode int, wantMsg string) {
		t.Helper()
		b := signedIn(t, s, login)
		form.Set("csrf", b.csrf("/alerts/"+id))
		p := b.post("/alerts/"+id+"/transitions", form)
		if p.Code != wantCode || !strings.Contains(p.Body, wantMsg) {
			t.Errorf("%s on %s %v: got %d, want %d with %q", login, id, form, p.Code, wantCode, wantMsg)
		}
		if len(wf.events) != 0 {
			t.Errorf("%s on %s: refused, but %d events recorded", login, id, len(wf.events))
		}
	}
	// A city reviewer may not confirm: the province decides.
	f("changsha", "cs_explanation_requested", url.Values{"to": {"confirmed"}, "comment": {"确认"}}, http.StatusForbidden, locale.T("error.forbidden"))
	// Nobody confirms a new alert: the workflow needs the explanation step.
	f("province", "cs_new", url.Values{"to": {"confirmed"}, "comment": {"确认"}}, http.StatusConflict, locale.T("error.conflict"))
	// A stale page: the alert moved on since the form was shown.
	f("province", "cs_reviewing", url.Values{"to": {"dismissed"}, "comment": {"排除"}, "from": {"new"}}, http.StatusConflict, locale.T("error.conflict"))
	// The comment is required; the form keeps what was typed.
	f("changsha", "cs_reviewing", url.Values{"to": {"explanation_requested"}, "comment": {" "}, "deadline": {"2026-12-01"}}, http.StatusBadRequest, locale.T("error.field.comment"))
	f("changsha", "cs_reviewing", url.Values{"to": {"explanation_requested"}, "comment": {"请说明"}, "deadline": {"2026-11-01"}}, http.StatusBadRequest, locale.T("error.field.deadline"))
	// An auditor changes nothing.
	f("shenji", "cs_reviewing", url.Values{"to": {"dismissed"}, "comment": {"排除"}}, http.StatusForbidden, locale.T("error.forbidden"))
	// Another city's alert does not exist.
	f("changsha", "zz_reviewing", url.Values{"to": {"explanation_requested"}, "comment": {"请说明"}}, http.StatusNotFound, locale.T("error.page.not_found"))
}

func TestAlertPageActionsFollowTheRules(t *testing.T) {
	s, _, _ := newUIServer(t, ui.Settings{})
	f := func(login, id string, want, notWant []string) {
		t.Helper()
		p := signedIn(t, s, login).get("/alerts/" + id)
		for _, w := range want {
			if !strings.Contains(p.Body, w) {
				t.Errorf("%s on %s: want %q", login, id, w)
			}
		}
		for _, w := range notWant {
			if strings.Contains(p.Body, w) {
				t.Errorf("%s on %s: do not want %q", login, id, w)
			}
		}
	}
	explain := `action="/alerts/cs_reviewing/transitions" class="stack" data-action="explanation_requested"`
	f("changsha", "cs_reviewing", []string{explain, `data-action="dismissed"`, `/alerts/cs_reviewing/proposals`}, []string{`transitions" class="stack" data-action="dismissed"`})
	f("province", "cs_reviewing", []string{explain, `transitions" class="stack" data-action="dismissed"`}, []string{"/proposals"})
	f("shenji", "cs_reviewing", []string{locale.T("alert.no_actions")}, []string{"data-action=", "/assign"})
	f("province", "cs_confirmed", []string{`name="amount"`}, nil)
	f("province", "cs_recovered", []string{locale.T("alert.final")}, []string{"data-action="})
}

// visibleText is what a reader sees of a page: the text between tags, without scripts and
// style sheets.
func visibleText(html string) string {
	html = regexp.MustCompile(`(?s)<(script|style)\b.*?</(script|style)>`).ReplaceAllString(html, " ")
	return regexp.MustCompile(`(?s)<[^>]*>`).ReplaceAllString(html, " ")
}

func TestPagesShowNoEnglishStatusOrRole(t *testing.T) {
	s, wf, _ := newUIServer(t, ui.Settings{Enterprises: enterprisesWithPeople})
	// Every kind of event in one history.
	admin := uiUsers["admin"]
	wf.events = []voucherwatch.Event{
		voucherwatch.NewTransitionEvent(admin, "cs_new", voucherwatch.StatusNew, voucherwatch.Transition{To: voucherwatch.StatusReviewing, Comment: "开始"}, workflowNow),
		{AlertID: "cs_new", Kind: voucherwatch.EventAssignment, ActorName: "省管理员", ActorRole: voucherwatch.RoleProvinceAdmin, From: voucherwatch.StatusReviewing, To: voucherwatch.StatusReviewing, AssigneeID: "u_cs", AssigneeName: "长沙审核员"},
		{AlertID: "cs_new", Kind: voucherwatch.EventProposal, ActorName: "长沙审核员", ActorRole: voucherwatch.RoleCityReviewer, From: voucherwatch.StatusReviewing, To: voucherwatch.StatusReviewing, ProposedTo: voucherwatch.StatusDismissed, Comment: "建议排除"},
		{AlertID: "cs_new", Kind: voucherwatch.EventTransition, ActorName: "系统", ActorRole: voucherwatch.RoleSystem, From: voucherwatch.StatusReviewing, To: voucherwatch.StatusReviewing},
	}
	var english []string
	for _, st := range voucherwatch.Statuses {
		english = append(english, string(st))
	}
	for _, r := range []voucherwatch.Role{voucherwatch.RoleProvinceAdmin, voucherwatch.RoleProvinceReviewer, voucherwatch.RoleCityReviewer, voucherwatch.RoleAuditor, voucherwatch.RoleSystem} {
		english = append(english, string(r))
	}
	english = append(english, "high", "medium", "low", "transition", "assignment", "proposal")
	english = append(english, voucherwatch.OfficerRoles...)
	english = append(english, ui.DetectorNames()...)
	for _, login := range []string{"admin", "changsha"} {
		b := signedIn(t, s, login)
		for _, path := range []string{"/alerts", "/alerts?status=reviewing", "/alerts/cs_new", "/alerts/cs_confirmed", "/explanations/overdue", "/users", "/claims/C_CS", "/enterprises/" + csApplicant, "/alerts/missing", "/account", "/enterprises?q=" + url.QueryEscape("有限公司")} {
			text := visibleText(b.get(path).Body)
			for _, word := range english {
				if regexp.MustCompile(`\b` + word + `\b`).MatchString(text) {
					t.Errorf("%s %s: the page shows %q untranslated", login, path, word)
				}
			}
		}
	}
}

func TestEnterprisePageMasksPeople(t *testing.T) {
	s, _, _ := newUIServer(t, ui.Settings{})
	p := signedIn(t, s, "province").get("/enterprises/" + csApplicant)
	if p.Code != http.StatusOK {
		t.Fatalf("got %d, want 200", p.Code)
	}
	for _, secret := range []string{fullIdentityNumber, "13812345678", "zhang.wei@", "800012345678901"} {
		if strings.Contains(p.Body, secret) {
			t.Errorf("the enterprise page shows %q in full", secret)
		}
	}
	for _, want := range []string{"430***********1234", "138****5678", "z***@xingsuan.cn", "****8901", "长沙星算科技有限公司", "张伟", "60.00%", "/enterprises/" + zzApplicant} {
		if !strings.Contains(p.Body, want) {
			t.Errorf("the enterprise page lacks %q", want)
		}
	}

	unavailable, _, _ := newUIServer(t, ui.Settings{Enterprises: noEnterprises{}})
	unavailable.ui.Enterprises = nil
	if p := signedIn(t, unavailable, "province").get("/enterprises/" + csApplicant); p.Code != http.StatusOK || !strings.Contains(p.Body, locale.T("enterprise.unavailable")) {
		t.Errorf("without an enterprise store: got %d, want 200 saying the data is not available", p.Code)
	}
}

type noEnterprises struct{}

func (noEnterprises) EnterpriseFile(context.Context, string) (voucherwatch.EnterpriseFile, error) {
	return voucherwatch.EnterpriseFile{}, voucherwatch.Errorf(voucherwatch.ENOTFOUND, "none")
}

func TestClaimPage(t *testing.T) {
	s, _, _ := newUIServer(t, ui.Settings{})
	p := signedIn(t, s, "changsha").get("/claims/C_CS")
	for _, want := range []string{"长沙星算科技有限公司", "¥900,000.00", "¥270,000.00", "¥30,000.00", locale.T("claim.over_by"), "/alerts/cs_new"} {
		if !strings.Contains(p.Body, want) {
			t.Errorf("claim page lacks %q", want)
		}
	}
}

func TestOverduePage(t *testing.T) {
	s, wf, _ := newUIServer(t, ui.Settings{})
	wf.Overdue = []voucherwatch.OverdueExplanation{
		{AlertID: "cs_explanation_requested", City: "430100", Title: "长沙逾期", Deadline: workflowNow.AddDate(0, 0, -3), DaysOverdue: 3, RequestedBy: "长沙审核员"},
		{AlertID: "zz_explanation_requested", City: "430200", Title: "株洲逾期", Deadline: workflowNow.AddDate(0, 0, -5), DaysOverdue: 5, RequestedBy: "株洲审核员"},
	}
	p := signedIn(t, s, "changsha").get("/explanations/overdue")
	if !strings.Contains(p.Body, "长沙逾期") || strings.Contains(p.Body, "株洲逾期") {
		t.Errorf("city reviewer's overdue page: want 长沙's only")
	}
	p = signedIn(t, s, "changsha").get("/alerts?overdue=1")
	if !strings.Contains(p.Body, "/alerts/cs_explanation_requested") || strings.Count(p.Body, `class="alert-link"`) != 1 {
		t.Errorf("inbox, only overdue: want exactly cs_explanation_requested")
	}
}

func TestUsersPageForAdminsOnly(t *testing.T) {
	s, _, users := newUIServer(t, ui.Settings{})
	if p := signedIn(t, s, "changsha").get("/users"); p.Code != http.StatusForbidden {
		t.Errorf("city reviewer /users: got %d, want 403", p.Code)
	}
	admin := signedIn(t, s, "admin")
	p := admin.post("/users", url.Values{"csrf": {admin.csrf("/users")}, "name": {"湘潭审核员"}, "login": {"xiangtan"}, "role": {"city_reviewer"}, "city": {"430300"}, "password": {"xiangtan-password-1"}})
	if p.Code != http.StatusCreated || !strings.Contains(p.Body, "vw_") {
		t.Fatalf("create user: got %d, want 201 showing the token once", p.Code)
	}
	u, hash, err := users.UserByLogin(context.Background(), "xiangtan")
	if err != nil || u.City != "430300" || !workflow.CheckPassword(hash, "xiangtan-password-1") {
		t.Errorf("created user: got %+v %v, want 湘潭's reviewer with the password", u, err)
	}
	p = admin.post("/users", url.Values{"csrf": {admin.csrf("/users")}, "name": {"重复"}, "login": {"xiangtan"}, "role": {"auditor"}, "password": {"another-password-1"}})
	if p.Code != http.StatusConflict || !strings.Contains(p.Body, locale.T("error.field.login")) {
		t.Errorf("taken login: got %d, want 409 with %q", p.Code, locale.T("error.field.login"))
	}
}

func TestUserAPIWithLoginAndPassword(t *testing.T) {
	s, _, users := newUIServer(t, ui.Settings{})
	code, body := do(t, s, "POST", "/api/v1/users", "admin-token", map[string]any{"name": "岳阳审核员", "role": "city_reviewer", "city": "岳阳", "login": "yueyang", "password": "yueyang-password"})
	if code != http.StatusCreated || body["login"] != "yueyang" {
		t.Fatalf("create with login: got %d %v, want 201", code, body)
	}
	id, _ := body["id"].(string)
	if _, hash, _ := users.UserByLogin(context.Background(), "yueyang"); !workflow.CheckPassword(hash, "yueyang-password") {
		t.Error("the password was not set")
	}
	for _, tc := range []struct {
		name  string
		body  map[string]any
		code  int
		field string
	}{
		{"taken login", map[string]any{"name": "x", "role": "auditor", "login": "changsha"}, http.StatusConflict, "login"},
		{"short password", map[string]any{"name": "x", "role": "auditor", "login": "shorty", "password": "short"}, http.StatusBadRequest, "password"},
		{"password without login", map[string]any{"name": "x", "role": "auditor", "password": "long-enough-password"}, http.StatusBadRequest, "password"},
		{"bad login", map[string]any{"name": "x", "role": "auditor", "login": "Bad Login"}, http.StatusBadRequest, "login"},
	} {
		if code, body := do(t, s, "POST", "/api/v1/users", "admin-token", tc.body); code != tc.code || errorField(body) != tc.field {
			t.Errorf("%s: got %d %v, want %d on field %s", tc.name, code, body, tc.code, tc.field)
		}
	}
	if code, body := do(t, s, "POST", "/api/v1/users/"+id+"/password", "changsha-token", map[string]any{"password": "changed-password"}); code != http.StatusForbidden {
		t.Errorf("another user's password: got %d %v, want 403", code, body)
	}
	// One's own password changes only on the account page, which asks for the current one.
	if code, body := do(t, s, "POST", "/api/v1/users/u_cs/password", "changsha-token", map[string]any{"password": "changed-password"}); code != http.StatusForbidden {
		t.Errorf("own password without the current one: got %d %v, want 403", code, body)
	}
	if code, body := do(t, s, "POST", "/api/v1/users/"+id+"/password", "admin-token", map[string]any{"password": "set-by-admin-1"}); code != http.StatusNoContent {
		t.Errorf("admin sets a password: got %d %v, want 204", code, body)
	}
	if _, hash, _ := users.UserByLogin(context.Background(), "changsha"); workflow.CheckPassword(hash, "changed-password") {
		t.Error("own password changed through the API without the current one")
	}
}

// TestOwnPasswordOnlyOnTheAccountPage: a signed-in reviewer posting to the administrators'
// form for its own id, with a valid CSRF token but without the current password, changes
// nothing; an administrator still sets anyone's password there.
func TestOwnPasswordOnlyOnTheAccountPage(t *testing.T) {
	s, _, users := newUIServer(t, ui.Settings{})
	b := signedIn(t, s, "changsha")
	id := uiUsers["changsha"].ID
	before := users.password[id]
	p := b.post("/users/"+id+"/password", url.Values{"password": {"被接管的密码-2026"}, "csrf": {b.csrf("/account")}})
	if p.Code != http.StatusForbidden || users.password[id] != before {
		t.Errorf("own password through /users/{id}/password: got %d, changed %v; want 403 and nothing changed", p.Code, users.password[id] != before)
	}
	admin := signedIn(t, s, "admin")
	if p := admin.post("/users/"+id+"/password", url.Values{"password": {"管理员设置的密码-1"}, "csrf": {admin.csrf("/users")}}); p.Code != http.StatusSeeOther || !workflow.CheckPassword(users.password[id], "管理员设置的密码-1") {
		t.Errorf("an administrator sets the password: got %d, want 303 and the password set", p.Code)
	}
}

func TestUnknownPathsAnswerChinese404(t *testing.T) {
	s, _, _ := newUIServer(t, ui.Settings{})
	for _, b := range []*browser{newBrowser(t, s), signedIn(t, s, "changsha")} {
		for _, path := range []string{"/nothing-here", "/spotchecks/sc-1/nothing", "/alerts/cs_new/transitions"} {
			p := b.get(path)
			if p.Code != http.StatusNotFound || !strings.Contains(p.Body, locale.T("error.page.not_found")) {
				t.Errorf("GET %s: got %d, want the Chinese 404 page", path, p.Code)
			}
		}
	}
	// The API keeps its JSON 404.
	if code, body := do(t, s, "GET", "/api/v1/nothing", "admin-token", nil); code != http.StatusNotFound || body["error"] == nil {
		t.Errorf("API 404: got %d %v, want a JSON error", code, body)
	}
}

// TestSessionWorksOnEveryInstance signs in on one instance and goes on on another that shares
// the user store and the session key, as instances behind a load balancer do; an instance
// with another key refuses the cookie.
func TestSessionWorksOnEveryInstance(t *testing.T) {
	a, wf, users := newUIServer(t, ui.Settings{})
	b := newServer()
	b.setLog(a.Log)
	b.registerAlertRoutes(a.alerts)
	b.registerWorkflowRoutes(WorkflowDeps{Alerts: wf, Events: wf, Users: users, ExplanationDays: 15, Now: func() time.Time { return workflowNow }})
	if err := b.registerUI(ui.Settings{SessionKey: ui.DeriveSessionKey("test-pii-key"), Counts: wf}); err != nil {
		t.Fatal(err)
	}
	c := newServer()
	c.setLog(a.Log)
	c.registerAlertRoutes(a.alerts)
	c.registerWorkflowRoutes(WorkflowDeps{Alerts: wf, Events: wf, Users: users, Now: func() time.Time { return workflowNow }})
	if err := c.registerUI(ui.Settings{SessionKey: ui.DeriveSessionKey("another-pii-key")}); err != nil {
		t.Fatal(err)
	}

	onA := signedIn(t, a, "changsha")
	u, _ := url.Parse(onA.base)
	cookies := onA.c.Jar.Cookies(u)
	csrf := onA.csrf("/alerts/cs_reviewing")
	f := func(srv *Server, method, path string, form url.Values) int {
		t.Helper()
		req := httptest.NewRequest(method, path, strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		for _, c := range cookies {
			req.AddCookie(c)
		}
		rec := httptest.NewRecorder()
		srv.ServeHTTP(rec, req)
		return rec.Code
	}
	if code := f(b, "GET", "/alerts", nil); code != http.StatusOK {
		t.Errorf("instance B, same key: got %d, want 200", code)
	}
	form := url.Values{"csrf": {csrf}, "to": {"explanation_requested"}, "comment": {"请说明"}, "from": {"reviewing"}}
	if code := f(b, "POST", "/alerts/cs_reviewing/transitions", form); code != http.StatusSeeOther || len(wf.events) != 1 {
		t.Errorf("instance B, a form of a page of instance A: got %d with %d events, want 303 and the event", code, len(wf.events))
	}
	if code := f(c, "GET", "/alerts", nil); code != http.StatusSeeOther {
		t.Errorf("instance with another key: got %d, want 303 to sign in", code)
	}
}

func TestDeriveSessionKey(t *testing.T) {
	k1, k2 := ui.DeriveSessionKey("pii-key-one"), ui.DeriveSessionKey("pii-key-two")
	if len(k1) != 32 || string(k1) == string(k2) || string(k1) != string(ui.DeriveSessionKey("pii-key-one")) || strings.Contains(string(k1), "pii-key-one") {
		t.Errorf("got %x and %x: want 32 bytes, the same for the same PII key, different for another", k1, k2)
	}
}

// TestNothingSecretIsLogged signs in, fails to sign in (also with the password typed into
// the login field) and changes a password, and looks for the secrets in the log.
func TestNothingSecretIsLogged(t *testing.T) {
	s, _, _ := newUIServer(t, ui.Settings{})
	var log strings.Builder
	var mu sync.Mutex
	s.setLog(slog.New(slog.NewTextHandler(lockedWriter{&mu, &log}, &slog.HandlerOptions{Level: slog.LevelDebug})))
	b := newBrowser(t, s)
	token := b.csrf("/login")
	b.post("/login", url.Values{"login": {uiPassword}, "password": {"x"}, "csrf": {token}})
	b.post("/login", url.Values{"login": {"changsha"}, "password": {"wrong-" + uiPassword}, "csrf": {token}})
	p := b.signIn("changsha", "")
	session := cookieNamed(p.Cookies, sessionCookie)
	do(t, s, "POST", "/api/v1/users/u_cs/password", "admin-token", map[string]any{"password": "new-secret-password"})
	mu.Lock()
	defer mu.Unlock()
	out := log.String()
	if !strings.Contains(out, "sign-in refused") || !strings.Contains(out, "signed in") {
		t.Fatalf("the log lacks the sign-in lines:\n%s", out)
	}
	for _, secret := range []string{uiPassword, "new-secret-password", session.Value, token, uiHash} {
		if strings.Contains(out, secret) {
			t.Errorf("the log contains a secret (%d characters):\n%s", len(secret), out)
		}
	}
}

type lockedWriter struct {
	mu *sync.Mutex
	w  io.Writer
}

func (l lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// pagedAlerts answers the fake's alerts two at a time, with the index of the next as cursor.
type pagedAlerts struct{ *fakeWorkflow }

func (p pagedAlerts) Alerts(ctx context.Context, f voucherwatch.AlertFilter) ([]voucherwatch.Alert, string, error) {
	all, _, err := p.fakeWorkflow.Alerts(ctx, voucherwatch.AlertFilter{City: f.City, Status: f.Status})
	if err != nil {
		return nil, "", err
	}
	start := 0
	if f.Cursor != "" {
		if f.Cursor != "2" && f.Cursor != "4" && f.Cursor != "6" {
			return nil, "", &voucherwatch.Error{Code: voucherwatch.EINVALID, Field: "cursor", Message: "malformed cursor"}
		}
		start = int(f.Cursor[0] - '0')
	}
	end := min(start+2, len(all))
	next := ""
	if end < len(all) {
		next = strconv.Itoa(end)
	}
	return all[start:end], next, nil
}

func TestInboxPages(t *testing.T) {
	s, wf, _ := newUIServer(t, ui.Settings{})
	s.ui.Alerts = pagedAlerts{wf}
	b := signedIn(t, s, "changsha")
	var seen []string
	path := "/alerts"
	link := regexp.MustCompile(`href="(/alerts\?[^"]*cursor=[^"]*)" rel="next"`)
	ids := regexp.MustCompile(`class="alert-link" href="/alerts/([a-z_]+)"`)
	for i := 0; path != "" && i < 10; i++ {
		p := b.get(path)
		for _, m := range ids.FindAllStringSubmatch(p.Body, -1) {
			seen = append(seen, m[1])
		}
		path = ""
		if m := link.FindStringSubmatch(p.Body); m != nil {
			path = strings.ReplaceAll(m[1], "&amp;", "&")
		}
	}
	if len(seen) != 7 || seen[0] != "cs_new" || seen[6] != "cs_recovered" {
		t.Errorf("paging through the city's inbox: got %v, want its 7 alerts, each once", seen)
	}
	if p := b.get("/alerts?cursor=garbage"); p.Code != http.StatusBadRequest || !strings.Contains(p.Body, locale.T("error.field.cursor")) {
		t.Errorf("malformed cursor: got %d, want 400 with %q", p.Code, locale.T("error.field.cursor"))
	}
}

func TestAlertPageShowsOverdueExplanation(t *testing.T) {
	s, wf, _ := newUIServer(t, ui.Settings{})
	cs := uiUsers["changsha"]
	wf.events = []voucherwatch.Event{voucherwatch.NewTransitionEvent(cs, "cs_reviewing", voucherwatch.StatusReviewing,
		voucherwatch.Transition{To: voucherwatch.StatusExplanationRequested, Comment: "请说明", Deadline: voucherwatch.Day(workflowNow).AddDate(0, 0, -4)}, workflowNow.AddDate(0, 0, -20))}
	b := signedIn(t, s, "changsha")
	if p := b.get("/alerts/cs_reviewing"); !strings.Contains(p.Body, locale.T("alert.overdue")+" 4 "+locale.T("alert.days")) {
		t.Errorf("an explanation 4 days past its deadline: want %q on the page", locale.T("alert.overdue")+" 4 "+locale.T("alert.days"))
	}
	if p := b.get("/alerts/cs_explanation_requested"); strings.Contains(p.Body, `id="alert-overdue"`) {
		t.Error("an explanation request without a recorded deadline shows as overdue")
	}
}

// TestSignInThrottled: five wrong passwords lock the login, even against the right password,
// and only that login; a sign-in that succeeds before the limit clears the count.
func TestSignInThrottled(t *testing.T) {
	s, _, _ := newUIServer(t, ui.Settings{})
	try := func(login, password string) page {
		b := newBrowser(t, s) // a fresh browser: a signed-in one is sent on from /login
		return b.post("/login", url.Values{"login": {login}, "password": {password}, "csrf": {b.csrf("/login")}})
	}
	for range ui.MaxSignInFailures - 1 {
		try("changsha", "guess-guess-guess")
	}
	if p := try("changsha", uiPassword); p.Code != http.StatusSeeOther {
		t.Fatalf("right password after %d failures: got %d, want 303", ui.MaxSignInFailures-1, p.Code)
	}
	for range ui.MaxSignInFailures - 1 {
		try("changsha", "guess-guess-guess")
	}
	if p := try("changsha", uiPassword); p.Code != http.StatusSeeOther {
		t.Fatalf("a success should have cleared the count: got %d", p.Code)
	}
	for range ui.MaxSignInFailures {
		if p := try("changsha", "guess-guess-guess"); p.Code != http.StatusUnauthorized {
			t.Fatalf("wrong password: got %d, want 401", p.Code)
		}
	}
	p := try("changsha", uiPassword)
	if p.Code != http.StatusTooManyRequests || !strings.Contains(p.Body, "已暂停登录") || cookieNamed(p.Cookies, sessionCookie) != nil {
		t.Errorf("right password after %d failures: got %d, want 429 with the throttle message and no session", ui.MaxSignInFailures, p.Code)
	}
	if p := try("province", uiPassword); p.Code != http.StatusSeeOther {
		t.Errorf("another login: got %d, want 303", p.Code)
	}
}

// TestAccountPasswordNeedsTheCurrentOne: a user changes its own password only with the
// current one; a wrong one changes nothing and counts towards the sign-in throttle.
func TestAccountPasswordNeedsTheCurrentOne(t *testing.T) {
	s, _, users := newUIServer(t, ui.Settings{})
	b := signedIn(t, s, "changsha")
	id := uiUsers["changsha"].ID
	before := users.password[id]
	change := func(current string) page {
		return b.post("/account/password", url.Values{"current": {current}, "password": {"新的密码-长沙-2026"}, "csrf": {b.csrf("/account")}})
	}
	p := change("not-my-password")
	if p.Code != http.StatusBadRequest || !strings.Contains(p.Body, locale.T("error.field.current")) || users.password[id] != before {
		t.Errorf("wrong current password: got %d, password changed %v; want 400 with the message and nothing changed", p.Code, users.password[id] != before)
	}
	if p := change(uiPassword); p.Code != http.StatusSeeOther || users.password[id] == before || !workflow.CheckPassword(users.password[id], "新的密码-长沙-2026") {
		t.Errorf("right current password: got %d, want 303 and the new password set", p.Code)
	}
}

// SearchEnterprises searches the fake enterprises as the store does: a part of the name or
// the start of the code, within a city.
func (f fakeEnterprises) SearchEnterprises(_ context.Context, q, city string) ([]voucherwatch.EnterpriseHit, bool, error) {
	var hits []voucherwatch.EnterpriseHit
	for uscc, e := range f {
		if e.Entity == nil || city != "" && e.Entity.City != city {
			continue
		}
		if strings.Contains(e.Entity.Name, q) || strings.HasPrefix(uscc, strings.ToUpper(q)) {
			hits = append(hits, voucherwatch.EnterpriseHit{USCC: uscc, Name: e.Entity.Name, City: e.Entity.City})
		}
	}
	return hits, false, nil
}

func TestEnterpriseSearch(t *testing.T) {
	s, _, _ := newUIServer(t, ui.Settings{Search: enterprisesWithPeople})
	// Both fake enterprises are 科技/数据 companies; "有限公司" matches both.
	prov := signedIn(t, s, "province")
	p := prov.get("/enterprises?q=" + url.QueryEscape("有限公司"))
	if p.Code != http.StatusOK || !strings.Contains(p.Body, "长沙星算科技有限公司") || !strings.Contains(p.Body, "株洲云图数据有限公司") {
		t.Errorf("province search: got %d, want both enterprises", p.Code)
	}
	cs := signedIn(t, s, "changsha")
	p = cs.get("/enterprises?q=" + url.QueryEscape("有限公司"))
	if p.Code != http.StatusOK || !strings.Contains(p.Body, "长沙星算科技有限公司") || strings.Contains(p.Body, "株洲云图数据有限公司") {
		t.Errorf("city reviewer search: got %d, want 长沙's enterprise only", p.Code)
	}
	if p := cs.get("/enterprises?q=" + url.QueryEscape("不存在")); !strings.Contains(p.Body, locale.T("enterprises.none")) {
		t.Errorf("no match: want %q", locale.T("enterprises.none"))
	}
	// A whole code opens the file, whose page makes the city check.
	if p := cs.get("/enterprises?q=" + strings.ToLower(zzApplicant)); p.Code != http.StatusSeeOther || p.Location != "/enterprises/"+zzApplicant {
		t.Errorf("whole code: got %d to %q, want 303 to the file", p.Code, p.Location)
	}
	s2, _, _ := newUIServer(t, ui.Settings{})
	if p := signedIn(t, s2, "province").get("/enterprises?q=x"); p.Code != http.StatusOK || !strings.Contains(p.Body, locale.T("enterprises.unavailable")) {
		t.Errorf("without a searcher: got %d, want the page saying so", p.Code)
	}
}

// TestMyQueue: "assigned to me" in the inbox and assignee=me in the API list the alerts whose
// latest assignment names the user, and nothing else.
func TestMyQueue(t *testing.T) {
	s, wf, _ := newUIServer(t, ui.Settings{})
	cs, prov := uiUsers["changsha"], uiUsers["province"]
	for _, e := range []struct {
		alert string
		to    voucherwatch.User
	}{{"cs_reviewing", cs}, {"cs_new", cs}, {"cs_new", prov}} {
		ev, err := voucherwatch.NewAssignmentEvent(prov, e.alert, voucherwatch.StatusReviewing, e.to, "", workflowNow)
		if err != nil {
			t.Fatal(err)
		}
		wf.events = append(wf.events, ev)
	}
	p := signedIn(t, s, "changsha").get("/alerts?mine=1")
	if n := strings.Count(p.Body, `class="alert-link"`); n != 1 || !strings.Contains(p.Body, "/alerts/cs_reviewing") {
		t.Errorf("changsha's queue: got %d alerts, want cs_reviewing only (cs_new was reassigned)", n)
	}
	if n := strings.Count(signedIn(t, s, "province").get("/alerts?mine=1").Body, `class="alert-link"`); n != 1 {
		t.Errorf("the province reviewer's queue: got %d alerts, want cs_new only", n)
	}
}

// TestInboxBulk: a city reviewer ticks alerts in the inbox and moves them in one go; each is
// checked on its own (another city's, slipped into the form, is not moved), the inbox says
// how many moved, and without the CSRF token nothing is recorded.
func TestInboxBulk(t *testing.T) {
	s, wf, _ := newUIServer(t, ui.Settings{})
	cs := signedIn(t, s, "changsha")
	p := cs.get("/alerts?status=new")
	if !strings.Contains(p.Body, `name="id" value="cs_new"`) || !strings.Contains(p.Body, `action="/alerts/bulk"`) {
		t.Fatalf("the city reviewer's inbox has no bulk form")
	}
	form := url.Values{
		"id": {"cs_new", "cs_reviewing", "zz_new"}, "to": {"reviewing"}, "comment": {"批量开始复核"},
		"deadline": {"2026-12-31"}, "return": {"/alerts?status=new"},
	}
	before := len(wf.events)
	if p := cs.post("/alerts/bulk", form); p.Code != http.StatusForbidden || len(wf.events) != before {
		t.Errorf("without the CSRF token: got %d and %d events, want 403 and none", p.Code, len(wf.events)-before)
	}
	form.Set("csrf", cs.csrf("/alerts"))
	p = cs.post("/alerts/bulk", form)
	if p.Code != http.StatusSeeOther || !strings.HasPrefix(p.Location, "/alerts?") || !strings.Contains(p.Location, "applied=1") || !strings.Contains(p.Location, "refused=2") {
		t.Fatalf("bulk: got %d to %q, want 303 back with 1 applied and 2 refused (cs_reviewing is under review already, zz_new is another city's)", p.Code, p.Location)
	}
	var moved []string
	for _, e := range wf.events[before:] {
		moved = append(moved, e.AlertID+":"+string(e.To)+":"+e.Comment)
	}
	if !slices.Equal(moved, []string{"cs_new:reviewing:批量开始复核"}) {
		t.Errorf("recorded %v, want cs_new moved to reviewing only", moved)
	}
	if p := cs.get(p.Location); !strings.Contains(p.Body, fmt.Sprintf(locale.T("flash.bulk"), 1, 2)) {
		t.Errorf("the inbox after the bulk action lacks the counts")
	}
	// A bulk action without a comment is refused as a whole.
	form.Set("comment", "")
	form.Set("id", "cs_confirmed")
	if p := cs.post("/alerts/bulk", form); p.Code != http.StatusBadRequest || len(wf.events) != before+1 {
		t.Errorf("no comment: got %d, want 400 and nothing recorded", p.Code)
	}
	// The auditor has no bulk form and may not post one.
	aud := signedIn(t, s, "shenji")
	if p := aud.get("/alerts"); strings.Contains(p.Body, `action="/alerts/bulk"`) {
		t.Error("the auditor's inbox has a bulk form")
	}
	form.Set("csrf", aud.csrf("/alerts"))
	if p := aud.post("/alerts/bulk", form); p.Code != http.StatusForbidden {
		t.Errorf("auditor's bulk: got %d, want 403", p.Code)
	}
}
