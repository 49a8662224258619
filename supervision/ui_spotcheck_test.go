package supervision

import (
	"bytes"
	"encoding/csv"
	"github.com/voucherwatch/voucherwatch/supervision/ui"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	"github.com/voucherwatch/voucherwatch"
	"github.com/voucherwatch/voucherwatch/spotcheck"
	"github.com/voucherwatch/voucherwatch/supervision/export"
	"github.com/voucherwatch/voucherwatch/supervision/locale"
	"github.com/voucherwatch/voucherwatch/supervision/workflow"
)

// newSpotCheckUIServer is newUIServer with the spot-check operations over threeCityProvince
// (claimants in 长沙, 株洲 and 湘潭) and a schedule that failed its last slot.
func newSpotCheckUIServer(t *testing.T) (*Server, *fakeSpotChecks) {
	t.Helper()
	s, _, _ := newUIServer(t, ui.Settings{})
	st := threeCityProvince()
	s.registerSpotCheckRoutes(workflow.SpotChecks{
		Store:    st,
		Defaults: voucherwatch.SpotCheckParams{Share: 0.25, Min: 3, RiskFraction: 0.5, InspectorsPerItem: 2},
		Now:      func() time.Time { return spotCheckT0 },
		Schedule: func() spotcheck.SchedulerStatus {
			return spotcheck.SchedulerStatus{Schedule: "0 3 1 * *", Next: spotCheckT0.Add(24 * time.Hour), LastError: "store: claimants: connection refused", Failed: 1}
		},
	})
	return s, st
}

// drawThroughTheForm draws as login through the form and returns the draw's page and id.
func drawThroughTheForm(t *testing.T, b *browser, form url.Values) (page, string) {
	t.Helper()
	form.Set("csrf", b.csrf("/spotchecks"))
	p := b.post("/spotchecks", form)
	id, ok := strings.CutPrefix(p.Location, "/spotchecks/")
	if p.Code != http.StatusSeeOther || !ok {
		t.Fatalf("draw: got %d to %q, want 303 to the draw's page: %s", p.Code, p.Location, p.Body)
	}
	id, _, _ = strings.Cut(id, "?")
	return b.get(p.Location), id
}

// usccLinks are the enterprises a draw's page lists, by their links.
func usccLinks(body string) []string {
	var out []string
	for _, m := range regexp.MustCompile(`href="/enterprises/([0-9A-Z]{18})"`).FindAllStringSubmatch(body, -1) {
		out = append(out, m[1])
	}
	return out
}

func TestSpotCheckPagesByRole(t *testing.T) {
	s, st := newSpotCheckUIServer(t)
	province := signedIn(t, s, "province")
	list := province.get("/spotchecks")
	for _, want := range []string{`action="/spotchecks"`, `action="/inspectors"`, "/inspectors/in_00/disable", locale.T("spotchecks.schedule.error"), "connection refused", "检查员00"} {
		if !strings.Contains(list.Body, want) {
			t.Errorf("province's list: no %q", want)
		}
	}

	p, id := drawThroughTheForm(t, province, url.Values{"share": {"25"}, "seed": {"42"}})
	if p.Code != http.StatusOK || !strings.Contains(p.Body, locale.T("flash.drawn")) || !strings.Contains(p.Body, ">42<") {
		t.Fatalf("the draw's page: got %d, want 200 with the flash and the seed 42: %s", p.Code, p.Body)
	}
	if len(st.draws) != 1 || st.draws[0].Seed != 42 || st.draws[0].Params.Share != 0.25 || st.draws[0].Trigger != voucherwatch.SpotCheckOnDemand {
		t.Fatalf("got draws %+v, want one on demand with seed 42 and share 0.25", st.draws)
	}
	all := usccLinks(p.Body)
	if len(all) != len(st.draws[0].Items) {
		t.Errorf("the province's page lists %d enterprises, want all %d", len(all), len(st.draws[0].Items))
	}
	for _, want := range []string{st.draws[0].InputsDigest, locale.T("spotcheck.col.risk"), "/spotchecks/" + id + "/verify", "/spotchecks/" + id + "/export.xlsx", "/public/spotchecks/" + id, `name="result"`} {
		if !strings.Contains(p.Body, want) {
			t.Errorf("the province's draw page: no %q", want)
		}
	}
	if l := province.get("/spotchecks"); !strings.Contains(l.Body, `href="/spotchecks/`+id+`"`) || !strings.Contains(l.Body, "0 / 6") {
		t.Errorf("the list shows no link to %s with 0 / 6 results", id)
	}

	t.Run("city reviewer", func(t *testing.T) {
		cs := signedIn(t, s, "changsha")
		l := cs.get("/spotchecks")
		if l.Code != http.StatusOK || strings.Contains(l.Body, `action="/spotchecks"`) || strings.Contains(l.Body, `action="/inspectors"`) || strings.Contains(l.Body, "connection refused") {
			t.Errorf("city reviewer's list: got %d, want 200 without the draw form, the inspector pool or the error's text", l.Code)
		}
		if !strings.Contains(l.Body, "0 / 3") {
			t.Errorf("city reviewer's list: want 0 / 3 (its city's items)")
		}
		p := cs.get("/spotchecks/" + id)
		got := usccLinks(p.Body)
		if len(got) != 3 {
			t.Errorf("city reviewer sees %d enterprises, want 长沙's 3", len(got))
		}
		for _, uscc := range got {
			if !strings.HasPrefix(uscc, "91430100") {
				t.Errorf("city reviewer sees %s of another city", uscc)
			}
		}
		if !strings.Contains(p.Body, `name="result"`) || strings.Contains(p.Body, "/verify") {
			t.Error("city reviewer's draw page: want the result forms, no re-run")
		}
		token := cs.csrf("/spotchecks")
		refused := cs.post("/spotchecks", url.Values{"csrf": {token}})
		if refused.Code != http.StatusForbidden || !strings.Contains(refused.Body, locale.T("error.page.forbidden")) || len(st.draws) != 1 {
			t.Errorf("city reviewer draws: got %d and %d draws, want the 403 page and nothing drawn", refused.Code, len(st.draws))
		}
		var zz string
		for _, it := range st.draws[0].Items {
			if it.City == "430200" {
				zz = it.USCC
			}
		}
		other := cs.post("/spotchecks/"+id+"/results", url.Values{"csrf": {token}, "uscc": {zz}, "result": {"no_problem"}})
		if other.Code != http.StatusNotFound || len(st.results) != 0 {
			t.Errorf("city reviewer records 株洲's item: got %d and %d results, want 404 and none", other.Code, len(st.results))
		}
		if v := cs.get("/spotchecks/" + id + "/verify"); v.Code != http.StatusForbidden {
			t.Errorf("city reviewer re-runs: got %d, want 403", v.Code)
		}
	})

	t.Run("auditor", func(t *testing.T) {
		aud := signedIn(t, s, "shenji")
		for _, path := range []string{"/spotchecks", "/spotchecks/" + id} {
			p := aud.get(path)
			if p.Code != http.StatusOK || strings.Contains(p.Body, "<form method=\"post\" action=\"/spotchecks") || strings.Contains(p.Body, `action="/inspectors`) || strings.Contains(p.Body, `name="result"`) {
				t.Errorf("auditor %s: got %d, want 200 without forms", path, p.Code)
			}
		}
		if p := aud.get("/spotchecks"); !strings.Contains(p.Body, "检查员00") {
			t.Error("auditor's list: want the inspector pool to read")
		}
		v := aud.get("/spotchecks/" + id + "/verify")
		if v.Code != http.StatusOK || !strings.Contains(v.Body, locale.T("spotcheck.verify.result")+locale.T("spotcheck.verify.ok")) {
			t.Errorf("auditor re-runs: got %d, want 200 with %s", v.Code, locale.T("spotcheck.verify.ok"))
		}
		token := aud.csrf("/spotchecks")
		if p := aud.post("/spotchecks/"+id+"/results", url.Values{"csrf": {token}, "uscc": {all[0]}, "result": {"no_problem"}}); p.Code != http.StatusForbidden || len(st.results) != 0 {
			t.Errorf("auditor records: got %d, want 403 and nothing recorded", p.Code)
		}
	})

	t.Run("tampered draw does not verify", func(t *testing.T) {
		st.mu.Lock()
		st.draws[0].Inputs.Claimants[0].OpenHigh += 5
		st.mu.Unlock()
		defer func() { st.mu.Lock(); st.draws[0].Inputs.Claimants[0].OpenHigh -= 5; st.mu.Unlock() }()
		v := province.get("/spotchecks/" + id + "/verify")
		if !strings.Contains(v.Body, locale.T("spotcheck.verify.result")+locale.T("spotcheck.verify.mismatch")) {
			t.Errorf("re-run of changed inputs: want %s", locale.T("spotcheck.verify.mismatch"))
		}
	})
}

func TestSpotCheckResultThroughTheForm(t *testing.T) {
	s, st := newSpotCheckUIServer(t)
	cs := signedIn(t, s, "changsha")
	_, id := drawThroughTheForm(t, signedIn(t, s, "province"), url.Values{"seed": {"7"}})
	var uscc string
	for _, it := range st.draws[0].Items {
		if it.City == "430100" {
			uscc = it.USCC
		}
	}
	path := "/spotchecks/" + id
	token := cs.csrf(path)
	form := url.Values{"uscc": {uscc}, "result": {"rectify_ordered"}, "comment": {"发票与合同不符，限期整改"}}

	for _, tc := range []struct {
		name    string
		csrf    string
		headers []string
	}{
		{"no token", "", nil},
		{"cross-site", token, []string{"Origin", "https://evil.example"}},
	} {
		f := url.Values{"csrf": {tc.csrf}}
		for k, v := range form {
			f[k] = v
		}
		if p := cs.post(path+"/results", f, tc.headers...); p.Code != http.StatusForbidden || !strings.Contains(p.Body, locale.T("error.csrf")) {
			t.Errorf("%s: got %d, want 403 with %q", tc.name, p.Code, locale.T("error.csrf"))
		}
	}
	if len(st.results) != 0 {
		t.Fatalf("refused forms recorded %d results", len(st.results))
	}

	// A problem without a comment is refused with the form kept.
	bad := url.Values{"csrf": {token}, "uscc": {uscc}, "result": {"problem_found"}}
	if p := cs.post(path+"/results", bad); p.Code != http.StatusBadRequest || !strings.Contains(p.Body, locale.T("error.field.spotcheck.comment")) || len(st.results) != 0 {
		t.Errorf("no comment: got %d, want 400 with %q and nothing recorded", p.Code, locale.T("error.field.spotcheck.comment"))
	}

	form.Set("csrf", token)
	p := cs.post(path+"/results", form)
	if p.Code != http.StatusSeeOther || !strings.HasPrefix(p.Location, path+"?flash=result") {
		t.Fatalf("record: got %d to %q: %s", p.Code, p.Location, p.Body)
	}
	if len(st.results) != 1 || st.results[0].Result != voucherwatch.OutcomeRectification || st.results[0].ByID != "u_cs" {
		t.Fatalf("got results %+v, want one 责令整改 by u_cs", st.results)
	}
	shown := cs.get(p.Location)
	for _, want := range []string{locale.T("flash.result"), "责令整改", "发票与合同不符，限期整改", "长沙审核员"} {
		if !strings.Contains(shown.Body, want) {
			t.Errorf("the page after recording: no %q", want)
		}
	}
	if l := cs.get("/spotchecks"); !strings.Contains(l.Body, "1 / 3") {
		t.Error("the list: want 1 / 3 results for 长沙")
	}

	t.Run("public", func(t *testing.T) {
		anon := newBrowser(t, s)
		pub := anon.get("/public/spotchecks/" + id)
		if pub.Code != http.StatusOK || !strings.Contains(pub.Body, uscc) || !strings.Contains(pub.Body, "责令整改") {
			t.Fatalf("public page without a session: got %d, want 200 with %s and its result: %s", pub.Code, uscc, pub.Body)
		}
		for _, hidden := range []string{"风险", locale.T("spotcheck.drawn_by.risk"), `name="csrf"`} {
			if strings.Contains(pub.Body, hidden) {
				t.Errorf("the public page shows %q", hidden)
			}
		}
		for _, it := range st.draws[0].Items {
			if it.USCC != uscc && strings.Contains(pub.Body, it.USCC) {
				t.Errorf("the public page names %s, which has no result yet", it.USCC)
			}
		}
		if p := anon.get("/public/spotchecks/sc-none"); p.Code != http.StatusNotFound {
			t.Errorf("public page of no draw: got %d, want 404", p.Code)
		}
		if p := anon.get(path); p.Code != http.StatusSeeOther {
			t.Errorf("draw page without a session: got %d, want 303 to sign in", p.Code)
		}
	})
}

func TestSpotCheckExportThroughTheSession(t *testing.T) {
	s, st := newSpotCheckUIServer(t)
	_, id := drawThroughTheForm(t, signedIn(t, s, "province"), url.Values{"share": {"100"}, "seed": {"3"}})
	cs := signedIn(t, s, "changsha")
	wantHeader := strings.Join(export.SpotCheckHeader, ",")

	req, _ := http.NewRequest("GET", cs.base+"/spotchecks/"+id+"/export.csv", nil)
	resp, err := cs.c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	rows, err := csv.NewReader(bytesWithoutBOM(t, resp)).ReadAll()
	if err != nil || resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/csv") {
		t.Fatalf("csv: got %d %s %v", resp.StatusCode, resp.Header.Get("Content-Type"), err)
	}
	if strings.Join(rows[0], ",") != wantHeader || len(rows) != 13 {
		t.Errorf("csv: got header %v and %d rows, want %s and 长沙's 12", rows[0], len(rows)-1, wantHeader)
	}

	p := signedIn(t, s, "shenji").get("/spotchecks/" + id + "/export.xlsx")
	if p.Code != http.StatusOK {
		t.Fatalf("xlsx: got %d", p.Code)
	}
	f, err := excelize.OpenReader(strings.NewReader(p.Body))
	if err != nil {
		t.Fatalf("xlsx does not open: %v", err)
	}
	defer f.Close()
	xrows, err := f.GetRows("抽查名单")
	if err != nil || len(xrows) != len(st.draws[0].Items)+1 || strings.Join(xrows[0], ",") != wantHeader {
		t.Errorf("xlsx: got %d rows (%v), want %d and header %s", len(xrows), err, len(st.draws[0].Items)+1, wantHeader)
	}
	if p := newBrowser(t, s).get("/spotchecks/" + id + "/export.csv"); p.Code != http.StatusSeeOther {
		t.Errorf("export without a session: got %d, want 303 to sign in", p.Code)
	}
}

func bytesWithoutBOM(t *testing.T, resp *http.Response) *bytes.Reader {
	t.Helper()
	var buf bytes.Buffer
	if _, err := buf.ReadFrom(resp.Body); err != nil {
		t.Fatal(err)
	}
	b := buf.Bytes()
	if !bytes.HasPrefix(b, []byte("\uFEFF")) {
		t.Error("csv: no UTF-8 byte-order mark")
	}
	return bytes.NewReader(bytes.TrimPrefix(b, []byte("\uFEFF")))
}

func TestInspectorFormsThroughTheUI(t *testing.T) {
	s, st := newSpotCheckUIServer(t)
	b := signedIn(t, s, "province")
	token := b.csrf("/spotchecks")
	conflict := st.claimants[0].USCC
	p := b.post("/inspectors", url.Values{"csrf": {token}, "name": {"王检查"}, "city": {"430500"}, "conflicts": {strings.ToLower(conflict) + "\r\n\r\n"}})
	if p.Code != http.StatusSeeOther {
		t.Fatalf("register: got %d: %s", p.Code, p.Body)
	}
	var added voucherwatch.Inspector
	for _, in := range st.inspectors {
		if in.Name == "王检查" {
			added = in
		}
	}
	if added.City != "430500" || len(added.Conflicts) != 1 || added.Conflicts[0] != conflict {
		t.Fatalf("got %+v, want 邵阳 with the conflict %s", added, conflict)
	}
	if l := b.get("/spotchecks"); !strings.Contains(l.Body, "王检查") || !strings.Contains(l.Body, conflict) {
		t.Error("the pool does not list the new inspector with its conflict")
	}
	bad := b.post("/inspectors", url.Values{"csrf": {token}, "name": {"李检查"}, "city": {"430500"}, "conflicts": {"not-a-code"}})
	if bad.Code != http.StatusBadRequest || !strings.Contains(bad.Body, locale.T("error.field.spotcheck.conflicts")) || !strings.Contains(bad.Body, "not-a-code") {
		t.Errorf("bad conflict: got %d, want 400 with %q and the form kept", bad.Code, locale.T("error.field.spotcheck.conflicts"))
	}
	if p := b.post("/inspectors/"+added.ID+"/disable", url.Values{"csrf": {token}}); p.Code != http.StatusSeeOther {
		t.Errorf("disable: got %d", p.Code)
	}
	for _, in := range st.inspectors {
		if in.ID == added.ID {
			t.Error("the disabled inspector is still in the pool")
		}
	}
	cs := signedIn(t, s, "changsha")
	n := len(st.inspectors)
	if p := cs.post("/inspectors", url.Values{"csrf": {cs.csrf("/spotchecks")}, "name": {"赵"}, "city": {"430100"}}); p.Code != http.StatusForbidden || len(st.inspectors) != n {
		t.Errorf("city reviewer registers: got %d, want 403 and nobody added", p.Code)
	}
}

func TestSpotCheckPagesWithoutTheFeature(t *testing.T) {
	s, _, _ := newUIServer(t, ui.Settings{})
	b := signedIn(t, s, "province")
	if p := b.get("/spotchecks"); p.Code != http.StatusOK || !strings.Contains(p.Body, locale.T("spotchecks.unavailable")) {
		t.Errorf("got %d, want 200 saying %q", p.Code, locale.T("spotchecks.unavailable"))
	}
	if p := b.get("/spotchecks/sc-1"); p.Code != http.StatusNotFound {
		t.Errorf("a draw's page: got %d, want 404", p.Code)
	}
}

// TestSpotCheckPagesShowNoEnglishLabels is TestPagesShowNoEnglishStatusOrRole for the
// spot-check pages: no trigger, way of drawing, outcome or role shows as its code. (The
// method's name and the schedule's error are recorded text, shown as is.)
func TestSpotCheckPagesShowNoEnglishLabels(t *testing.T) {
	s, st := newSpotCheckUIServer(t)
	_, id := drawThroughTheForm(t, signedIn(t, s, "province"), url.Values{"share": {"100"}})
	if _, err := s.spotchecks.RecordResult(t.Context(), uiUsers["admin"], id, workflow.ResultRequest{USCC: st.draws[0].Items[0].USCC, Result: "problem_found", Comment: "账实不符"}); err != nil {
		t.Fatal(err)
	}
	english := []string{voucherwatch.SpotCheckScheduled, voucherwatch.SpotCheckOnDemand, voucherwatch.DrawnAtRandom, "no_problem", "problem_found", "rectify_ordered"}
	for _, r := range []voucherwatch.Role{voucherwatch.RoleProvinceAdmin, voucherwatch.RoleProvinceReviewer, voucherwatch.RoleCityReviewer, voucherwatch.RoleAuditor} {
		english = append(english, string(r))
	}
	mono := regexp.MustCompile(`(?s)<(dd|code) class="mono">.*?</(dd|code)>`)
	for _, login := range []string{"admin", "changsha", "shenji"} {
		b := signedIn(t, s, login)
		for _, path := range []string{"/spotchecks", "/spotchecks/" + id, "/spotchecks/" + id + "/verify", "/public/spotchecks/" + id} {
			text := visibleText(mono.ReplaceAllString(b.get(path).Body, " "))
			for _, word := range english {
				if regexp.MustCompile(`\b` + word + `\b`).MatchString(text) {
					t.Errorf("%s %s: the page shows %q untranslated", login, path, word)
				}
			}
		}
	}
}
