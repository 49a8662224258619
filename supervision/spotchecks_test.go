package supervision

import (
	"bytes"
	"context"
	"encoding/csv"
	"fmt"
	"github.com/voucherwatch/voucherwatch/supervision/workflow"
	"net/http"
	"net/http/httptest"
	"reflect"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	"github.com/voucherwatch/voucherwatch"
)

// fakeSpotChecks is a hand-written SpotCheckStore in memory; like the real one it refuses a
// known draw id and keeps results append-only.
type fakeSpotChecks struct {
	mu         sync.Mutex
	claimants  []voucherwatch.SpotCheckClaimant
	inspectors []voucherwatch.Inspector
	draws      []voucherwatch.SpotCheck
	results    []voucherwatch.InspectionResult
}

func (f *fakeSpotChecks) SpotCheckClaimants(context.Context, time.Time, time.Time) ([]voucherwatch.SpotCheckClaimant, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]voucherwatch.SpotCheckClaimant(nil), f.claimants...), nil
}

func (f *fakeSpotChecks) CreateInspector(_ context.Context, in voucherwatch.Inspector) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.inspectors = append(f.inspectors, in)
	return nil
}

func (f *fakeSpotChecks) Inspectors(context.Context) ([]voucherwatch.Inspector, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := make([]voucherwatch.Inspector, len(f.inspectors))
	copy(out, f.inspectors)
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out, nil
}

func (f *fakeSpotChecks) DisableInspector(_ context.Context, id string, _ time.Time) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	for i, in := range f.inspectors {
		if in.ID == id {
			f.inspectors = append(f.inspectors[:i:i], f.inspectors[i+1:]...)
			return nil
		}
	}
	return voucherwatch.Errorf(voucherwatch.ENOTFOUND, "inspector %s not found", id)
}

func (f *fakeSpotChecks) CreateSpotCheck(_ context.Context, sc voucherwatch.SpotCheck) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	return createOnce(&f.draws, sc, drawID, "spot check")
}

func (f *fakeSpotChecks) SpotCheck(_ context.Context, id string) (voucherwatch.SpotCheck, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return findByID(f.draws, id, drawID, "spot check")
}

func drawID(sc voucherwatch.SpotCheck) string { return sc.ID }

// createOnce appends v to list as a store records a draw or an edition: an id known already
// is refused (ECONFLICT), which is how instances tell that another made the slot.
func createOnce[T any](list *[]T, v T, idOf func(T) string, what string) error {
	for _, old := range *list {
		if idOf(old) == idOf(v) {
			return voucherwatch.Errorf(voucherwatch.ECONFLICT, "%s %s exists already", what, idOf(v))
		}
	}
	*list = append(*list, v)
	return nil
}

// findByID is the record of list with id, else ENOTFOUND.
func findByID[T any](list []T, id string, idOf func(T) string, what string) (T, error) {
	for _, v := range list {
		if idOf(v) == id {
			return v, nil
		}
	}
	var zero T
	return zero, voucherwatch.Errorf(voucherwatch.ENOTFOUND, "%s %s not found", what, id)
}

func (f *fakeSpotChecks) SpotChecks(context.Context) ([]voucherwatch.SpotCheck, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []voucherwatch.SpotCheck
	for i := len(f.draws) - 1; i >= 0; i-- {
		d := f.draws[i]
		d.Items, d.Inputs = nil, nil
		out = append(out, d)
	}
	return out, nil
}

func (f *fakeSpotChecks) RecordInspectionResult(_ context.Context, r voucherwatch.InspectionResult) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.results = append(f.results, r)
	return nil
}

func (f *fakeSpotChecks) InspectionResults(_ context.Context, id string) ([]voucherwatch.InspectionResult, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []voucherwatch.InspectionResult
	for _, r := range f.results {
		if r.SpotCheckID == id {
			out = append(out, r)
		}
	}
	return out, nil
}

// SpotCheckProgress counts each draw's items in city and those with a result, as the store.
func (f *fakeSpotChecks) SpotCheckProgress(_ context.Context, city string) (map[string]voucherwatch.SpotCheckProgress, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := map[string]voucherwatch.SpotCheckProgress{}
	for _, d := range f.draws {
		for _, it := range d.Items {
			if it.City != city {
				continue
			}
			p := out[d.ID]
			p.Items++
			for _, r := range f.results {
				if r.SpotCheckID == d.ID && r.USCC == it.USCC {
					p.Recorded++
					break
				}
			}
			out[d.ID] = p
		}
	}
	return out, nil
}

// threeCityProvince has claimants in 长沙 (12), 株洲 (8) and 湘潭 (4), a few with open alerts,
// and two inspectors in each of those cities.
func threeCityProvince() *fakeSpotChecks {
	f := &fakeSpotChecks{}
	for i, city := range []string{"430100", "430200", "430300"} {
		for k := range []int{12, 8, 4}[i] {
			c := voucherwatch.SpotCheckClaimant{USCC: fmt.Sprintf("91%s%09d%d", city, k, i), Name: fmt.Sprintf("企业%d-%d", i, k), City: city, Requested: 500_000_00}
			if k%5 == 0 {
				c.OpenHigh, c.AlertScore = 1, 0.9
			}
			f.claimants = append(f.claimants, c)
		}
		for k := range 2 {
			f.inspectors = append(f.inspectors, voucherwatch.Inspector{ID: fmt.Sprintf("in_%d%d", i, k), Name: fmt.Sprintf("检查员%d%d", i, k), City: city})
		}
	}
	return f
}

var spotCheckT0 = time.Date(2026, 12, 1, 10, 0, 0, 0, voucherwatch.CST)

func newSpotCheckServer(t *testing.T) (*Server, *fakeSpotChecks) {
	t.Helper()
	st := threeCityProvince()
	s := newServer()
	s.registerSpotCheckRoutes(workflow.SpotChecks{
		Store:    st,
		Defaults: voucherwatch.SpotCheckParams{Share: 0.25, Min: 3, RiskFraction: 0.5, InspectorsPerItem: 2},
		Now:      func() time.Time { return spotCheckT0 },
	})
	s.AddToken("admin", voucherwatch.User{ID: "u_admin", Name: "省管理员", Role: voucherwatch.RoleProvinceAdmin})
	s.AddToken("province", voucherwatch.User{ID: "u_prov", Name: "省审核员", Role: voucherwatch.RoleProvinceReviewer})
	s.AddToken("changsha", voucherwatch.User{ID: "u_cs", Name: "长沙审核员", Role: voucherwatch.RoleCityReviewer, City: "430100"})
	s.AddToken("auditor", voucherwatch.User{ID: "u_aud", Name: "审计", Role: voucherwatch.RoleAuditor})
	return s, st
}

// itemsOf reads the items of a draw answer as (uscc, city) pairs.
func itemsOf(body map[string]any) (usccs, cities []string) {
	items, _ := body["items"].([]any)
	for _, it := range items {
		m := it.(map[string]any)
		usccs = append(usccs, m["uscc"].(string))
		cities = append(cities, m["city"].(string))
	}
	return usccs, cities
}

func TestSpotCheckRoutesByRole(t *testing.T) {
	s, st := newSpotCheckServer(t)
	code, drawn := do(t, s, "POST", "/api/v1/spotchecks", "admin", map[string]any{"seed": 42})
	if code != http.StatusCreated {
		t.Fatalf("admin draws: got %d %v", code, drawn)
	}
	id := drawn["id"].(string)
	all, allCities := itemsOf(drawn)
	var changshaItem, zhuzhouItem string
	for i, c := range allCities {
		switch c {
		case "430100":
			changshaItem = all[i]
		case "430200":
			zhuzhouItem = all[i]
		}
	}
	if changshaItem == "" || zhuzhouItem == "" {
		t.Fatalf("got items %v in %v, want 长沙 and 株洲 among them", all, allCities)
	}

	for _, tc := range []struct {
		name, method, path, token string
		body                      any
		want                      int
	}{
		{"no token may not draw", "POST", "/api/v1/spotchecks", "", map[string]any{}, 401},
		{"no token may not list", "GET", "/api/v1/spotchecks", "", nil, 401},
		{"no token may not read", "GET", "/api/v1/spotchecks/" + id, "", nil, 401},
		{"no token may not export", "GET", "/api/v1/spotchecks/" + id + "/export.csv", "", nil, 401},
		{"no token may not register inspectors", "POST", "/api/v1/inspectors", "", map[string]any{"name": "x", "city": "长沙"}, 401},
		{"city reviewer may not draw", "POST", "/api/v1/spotchecks", "changsha", map[string]any{}, 403},
		{"auditor may not draw", "POST", "/api/v1/spotchecks", "auditor", map[string]any{}, 403},
		{"province reviewer draws", "POST", "/api/v1/spotchecks", "province", map[string]any{"share": 0.5}, 201},
		{"a draw without a body", "POST", "/api/v1/spotchecks", "admin", nil, 201},
		{"auditor lists", "GET", "/api/v1/spotchecks", "auditor", nil, 200},
		{"city reviewer lists", "GET", "/api/v1/spotchecks", "changsha", nil, 200},
		{"missing draw", "GET", "/api/v1/spotchecks/sc-none", "admin", nil, 404},
		{"auditor reads the inputs", "GET", "/api/v1/spotchecks/" + id + "/inputs", "auditor", nil, 200},
		{"city reviewer may not read the inputs", "GET", "/api/v1/spotchecks/" + id + "/inputs", "changsha", nil, 403},
		{"auditor re-runs", "GET", "/api/v1/spotchecks/" + id + "/verify", "auditor", nil, 200},
		{"city reviewer may not register inspectors", "POST", "/api/v1/inspectors", "changsha", map[string]any{"name": "x", "city": "长沙"}, 403},
		{"auditor may not register inspectors", "POST", "/api/v1/inspectors", "auditor", map[string]any{"name": "x", "city": "长沙"}, 403},
		{"province registers inspectors", "POST", "/api/v1/inspectors", "province", map[string]any{"name": "赵检查", "city": "岳阳", "conflicts": []string{"91430100MA4L0YYYY2"}}, 201},
		{"city reviewer lists inspectors", "GET", "/api/v1/inspectors", "changsha", nil, 200},
		{"city reviewer may not disable inspectors", "POST", "/api/v1/inspectors/in_00/disable", "changsha", nil, 403},
		{"auditor may not disable inspectors", "POST", "/api/v1/inspectors/in_00/disable", "auditor", nil, 403},
		{"missing inspector", "POST", "/api/v1/inspectors/in_none/disable", "admin", nil, 404},
		{"auditor may not record results", "POST", "/api/v1/spotchecks/" + id + "/results", "auditor", map[string]any{"uscc": changshaItem, "result": "no_problem"}, 403},
		{"city reviewer may not record another city's", "POST", "/api/v1/spotchecks/" + id + "/results", "changsha", map[string]any{"uscc": zhuzhouItem, "result": "no_problem"}, 404},
		{"city reviewer records its city's", "POST", "/api/v1/spotchecks/" + id + "/results", "changsha", map[string]any{"uscc": changshaItem, "result": "发现问题", "comment": "合同与发票金额不符"}, 201},
		{"province records any city's", "POST", "/api/v1/spotchecks/" + id + "/results", "province", map[string]any{"uscc": zhuzhouItem, "result": "no_problem"}, 201},
		{"an enterprise not drawn", "POST", "/api/v1/spotchecks/" + id + "/results", "admin", map[string]any{"uscc": "91430100MA4L0YYYY2", "result": "no_problem"}, 404},
		{"the public list needs no token", "GET", "/api/v1/spotchecks/" + id + "/public", "", nil, 200},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if code, body := do(t, s, tc.method, tc.path, tc.token, tc.body); code != tc.want {
				t.Errorf("got %d %v, want %d", code, body, tc.want)
			}
		})
	}

	// A city reviewer reads its city's items only; the auditor reads all.
	_, body := do(t, s, "GET", "/api/v1/spotchecks/"+id, "changsha", nil)
	if _, cities := itemsOf(body); len(cities) == 0 || slices.ContainsFunc(cities, func(c string) bool { return c != "430100" }) {
		t.Errorf("city reviewer: got items of %v, want 长沙's (430100) only", cities)
	}
	_, body = do(t, s, "GET", "/api/v1/spotchecks/"+id, "auditor", nil)
	if got, _ := itemsOf(body); !reflect.DeepEqual(got, all) {
		t.Errorf("auditor: got items %v, want all %v", got, all)
	}
	if _, ok := body["inputs"]; ok {
		t.Error("the draw's view carries the inputs; want them only at .../inputs")
	}
	_, body = do(t, s, "GET", "/api/v1/spotchecks/"+id+"/results", "changsha", nil)
	if res, _ := body["results"].([]any); len(res) != 1 || res[0].(map[string]any)["uscc"] != changshaItem {
		t.Errorf("city reviewer's results: got %v, want its city's one", body)
	}
	_, body = do(t, s, "GET", "/api/v1/spotchecks/"+id+"/verify", "auditor", nil)
	if body["items_match"] != true || body["digest_matches"] != true {
		t.Errorf("verify: got %v, want the re-run to match", body)
	}
	_, body = do(t, s, "GET", "/api/v1/inspectors", "changsha", nil)
	for _, in := range body["inspectors"].([]any) {
		if c, _ := in.(map[string]any)["conflicts"].([]any); len(c) > 0 {
			t.Errorf("city reviewer sees declared conflicts: %v", in)
		}
	}

	// The published list: only the inspected, no risk, inspectors by name only.
	code, body = do(t, s, "GET", "/api/v1/spotchecks/"+id+"/public", "", nil)
	pub, _ := body["items"].([]any)
	if code != 200 || len(pub) != 2 {
		t.Fatalf("public: got %d %v, want the two inspected enterprises", code, body)
	}
	for _, p := range pub {
		m := p.(map[string]any)
		for _, hidden := range []string{"risk", "drawn_by", "note"} {
			if _, ok := m[hidden]; ok {
				t.Errorf("public item shows %s: %v", hidden, m)
			}
		}
		if names, _ := m["inspectors"].([]any); len(names) != 2 {
			t.Errorf("public item: got inspectors %v, want two names", m["inspectors"])
		} else if _, isName := names[0].(string); !isName {
			t.Errorf("public item: got inspectors %v, want names only", names)
		}
		if m["uscc"] == changshaItem && m["result_label"] != "发现问题" {
			t.Errorf("public item: got %v, want 发现问题", m)
		}
	}
	if len(st.results) != 2 || st.results[0].ByID != "u_cs" || st.results[0].Result != voucherwatch.OutcomeProblemFound {
		t.Errorf("stored results: got %+v", st.results)
	}
}

func TestSpotCheckSameSeedSameListThroughTheAPI(t *testing.T) {
	s, _ := newSpotCheckServer(t)
	_, a := do(t, s, "POST", "/api/v1/spotchecks", "admin", map[string]any{"seed": 20261201})
	_, b := do(t, s, "POST", "/api/v1/spotchecks", "province", map[string]any{"seed": 20261201})
	_, c := do(t, s, "POST", "/api/v1/spotchecks", "province", map[string]any{"seed": 20261202})
	if a["id"] == b["id"] {
		t.Errorf("two draws on demand got the same id %v", a["id"])
	}
	if !reflect.DeepEqual(a["items"], b["items"]) || a["seed"] != b["seed"] || a["inputs_digest"] != b["inputs_digest"] {
		t.Errorf("same seed, same inputs, different lists:\n%v\n%v", a["items"], b["items"])
	}
	if reflect.DeepEqual(a["items"], c["items"]) {
		t.Error("another seed drew the same list")
	}
	_, list := do(t, s, "GET", "/api/v1/spotchecks", "auditor", nil)
	if l, _ := list["spotchecks"].([]any); len(l) != 3 || l[0].(map[string]any)["id"] != c["id"] {
		t.Errorf("list: got %v, want the three draws, newest first", list)
	}
	// Without a seed the engine picks one and records it, small enough for any JSON client.
	_, d := do(t, s, "POST", "/api/v1/spotchecks", "admin", map[string]any{})
	if seed, _ := d["seed"].(float64); seed <= 0 || seed > 1<<53 {
		t.Errorf("got seed %v, want a recorded seed in (0, 2^53]", d["seed"])
	}
}

func TestSpotCheckValidationNamesTheField(t *testing.T) {
	s, _ := newSpotCheckServer(t)
	_, drawn := do(t, s, "POST", "/api/v1/spotchecks", "admin", map[string]any{"seed": 1})
	id := drawn["id"].(string)
	usccs, _ := itemsOf(drawn)
	for _, tc := range []struct {
		name, path string
		body       any
		want       int
		field      string
	}{
		{"share above one", "/api/v1/spotchecks", map[string]any{"share": 1.5}, 400, "share"},
		{"share zero", "/api/v1/spotchecks", map[string]any{"share": 0}, 400, "share"},
		{"negative minimum", "/api/v1/spotchecks", map[string]any{"min": -1}, 400, "min"},
		{"seed not a number", "/api/v1/spotchecks", map[string]any{"seed": "abc"}, 400, "seed"},
		{"bad from", "/api/v1/spotchecks", map[string]any{"from": "2026/01/01"}, 400, "from"},
		{"unknown field", "/api/v1/spotchecks", `{"sample": 3}`, 400, "sample"},
		{"inspector without a name", "/api/v1/inspectors", map[string]any{"city": "长沙"}, 400, "name"},
		{"inspector of another province", "/api/v1/inspectors", map[string]any{"name": "张三", "city": "武汉"}, 400, "city"},
		{"inspector with a bad conflict", "/api/v1/inspectors", map[string]any{"name": "张三", "city": "长沙", "conflicts": []string{"123"}}, 400, "conflicts"},
		{"unknown result", "/api/v1/spotchecks/" + id + "/results", map[string]any{"uscc": usccs[0], "result": "ok"}, 400, "result"},
		{"problem without a comment", "/api/v1/spotchecks/" + id + "/results", map[string]any{"uscc": usccs[0], "result": "problem_found"}, 400, "comment"},
		{"result without an enterprise", "/api/v1/spotchecks/" + id + "/results", map[string]any{"result": "no_problem"}, 400, "uscc"},
		{"result of a missing draw", "/api/v1/spotchecks/sc-none/results", map[string]any{"uscc": usccs[0], "result": "no_problem"}, 404, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, body := do(t, s, "POST", tc.path, "admin", tc.body)
			if code != tc.want || errorField(body) != tc.field {
				t.Errorf("got %d %v, want %d naming %q", code, body, tc.want, tc.field)
			}
		})
	}
}

// get answers the raw body of a GET.
func get(t *testing.T, s http.Handler, path, token string) (int, http.Header, []byte) {
	t.Helper()
	req := httptest.NewRequest("GET", path, nil)
	req.Header.Set("Authorization", "Bearer "+token)
	rec := httptest.NewRecorder()
	s.ServeHTTP(rec, req)
	return rec.Code, rec.Header(), rec.Body.Bytes()
}

func TestSpotCheckExports(t *testing.T) {
	s, st := newSpotCheckServer(t)
	st.claimants[0].Name = "=HYPERLINK(\"http://x\")" // a name a spreadsheet would run
	_, drawn := do(t, s, "POST", "/api/v1/spotchecks", "admin", map[string]any{"seed": 3, "share": 1})
	id := drawn["id"].(string)
	if code, body := do(t, s, "POST", "/api/v1/spotchecks/"+id+"/results", "admin", map[string]any{"uscc": st.claimants[1].USCC, "result": "责令整改", "comment": "限期整改"}); code != 201 {
		t.Fatalf("record: got %d %v", code, body)
	}
	wantHeader := "统一社会信用代码,企业名称,市州,风险分,抽取方式,检查人员,检查结果,备注"

	for _, tc := range []struct {
		token string
		rows  int // items
	}{{"auditor", 24}, {"changsha", 12}} {
		t.Run("csv for "+tc.token, func(t *testing.T) {
			code, h, body := get(t, s, "/api/v1/spotchecks/"+id+"/export.csv", tc.token)
			if code != 200 || !strings.HasPrefix(h.Get("Content-Type"), "text/csv") {
				t.Fatalf("got %d %s %s", code, h.Get("Content-Type"), body)
			}
			if !bytes.HasPrefix(body, []byte("\uFEFF")) {
				t.Error("no UTF-8 byte-order mark")
			}
			rows, err := csv.NewReader(bytes.NewReader(bytes.TrimPrefix(body, []byte("\uFEFF")))).ReadAll()
			if err != nil {
				t.Fatal(err)
			}
			if strings.Join(rows[0], ",") != wantHeader || len(rows) != tc.rows+1 {
				t.Fatalf("got header %v and %d rows, want %s and %d", rows[0], len(rows)-1, wantHeader, tc.rows)
			}
			byUSCC := map[string][]string{}
			for _, r := range rows[1:] {
				byUSCC[r[0]] = r
				if tc.token == "changsha" && r[2] != "长沙市" {
					t.Errorf("city reviewer's export has a row of %s", r[2])
				}
				if r[4] != "风险加权" && r[4] != "随机" {
					t.Errorf("抽取方式 %q", r[4])
				}
				if len(strings.Split(r[5], "、")) != 2 || strings.Contains(r[5], voucherwatch.CityName(r[2])) {
					t.Errorf("检查人员 %q of an enterprise of %s: want two, of other cities", r[5], r[2])
				}
			}
			first := byUSCC[st.claimants[0].USCC]
			if first == nil || first[1] != "'=HYPERLINK(\"http://x\")" {
				t.Errorf("got row %v, want the formula-like name defused with '", first)
			}
			if r := byUSCC[st.claimants[1].USCC]; r == nil || r[6] != "责令整改" {
				t.Errorf("got row %v, want its result 责令整改", r)
			}
		})
	}

	t.Run("xlsx", func(t *testing.T) {
		code, h, body := get(t, s, "/api/v1/spotchecks/"+id+"/export.xlsx", "changsha")
		if code != 200 || !strings.Contains(h.Get("Content-Disposition"), id+".xlsx") {
			t.Fatalf("got %d %v", code, h)
		}
		f, err := excelize.OpenReader(bytes.NewReader(body))
		if err != nil {
			t.Fatalf("the file does not open: %v", err)
		}
		defer f.Close()
		rows, err := f.GetRows("抽查名单")
		if err != nil {
			t.Fatal(err)
		}
		if len(rows) != 13 || strings.Join(rows[0], ",") != wantHeader {
			t.Fatalf("got %d rows, header %v; want 12 items and %s", len(rows)-1, rows[0], wantHeader)
		}
		for _, r := range rows[1:] {
			if r[2] != "长沙市" || len(r[0]) != 18 {
				t.Errorf("row %v: want a 长沙 enterprise with its 18-character code", r)
			}
		}
		if code, _, _ := get(t, s, "/api/v1/spotchecks/sc-none/export.xlsx", "auditor"); code != 404 {
			t.Errorf("missing draw: got %d, want 404", code)
		}
	})
}

func TestDisabledInspectorIsNotDrawn(t *testing.T) {
	s, _ := newSpotCheckServer(t)
	if code, body := do(t, s, "POST", "/api/v1/inspectors/in_00/disable", "admin", nil); code != 200 {
		t.Fatalf("disable: got %d %v", code, body)
	}
	for seed := range 20 {
		_, body := do(t, s, "POST", "/api/v1/spotchecks", "admin", map[string]any{"seed": seed})
		for _, it := range body["items"].([]any) {
			for _, in := range it.(map[string]any)["inspectors"].([]any) {
				if in.(map[string]any)["id"] == "in_00" {
					t.Fatalf("seed %d: the disabled inspector was drawn", seed)
				}
			}
		}
	}
}
