package supervision

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"github.com/voucherwatch/voucherwatch/supervision/ui"
	"github.com/voucherwatch/voucherwatch/supervision/workflow"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	"github.com/voucherwatch/voucherwatch"
)

// fakeRegister is a hand-written RegisterStore: fixed inputs, editions kept in memory.
type fakeRegister struct {
	mu        sync.Mutex
	suppliers []voucherwatch.RegisterSupplierInput
	editions  []voucherwatch.RegisterEdition // oldest first
	queries   []voucherwatch.RegisterQuery
}

func (f *fakeRegister) RegisterSuppliers(_ context.Context, q voucherwatch.RegisterQuery) ([]voucherwatch.RegisterSupplierInput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.queries = append(f.queries, q)
	return slices.Clone(f.suppliers), nil
}

func (f *fakeRegister) CreateRegisterEdition(_ context.Context, e voucherwatch.RegisterEdition) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	return createOnce(&f.editions, e, editionID, "edition")
}

func (f *fakeRegister) RegisterEdition(_ context.Context, id string) (voucherwatch.RegisterEdition, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return findByID(f.editions, id, editionID, "edition")
}

func editionID(e voucherwatch.RegisterEdition) string { return e.ID }

func (f *fakeRegister) RegisterEditions(context.Context) ([]voucherwatch.RegisterEdition, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := []voucherwatch.RegisterEdition{}
	for i := len(f.editions) - 1; i >= 0; i-- {
		e := f.editions[i]
		e.Suppliers, e.Inputs = nil, nil
		out = append(out, e)
	}
	return out, nil
}

func (f *fakeRegister) SupplierRegisterHistory(_ context.Context, uscc string) ([]voucherwatch.RegisterHistoryEntry, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := []voucherwatch.RegisterHistoryEntry{}
	for i := len(f.editions) - 1; i >= 0; i-- {
		e := f.editions[i]
		for _, r := range e.Suppliers {
			if r.USCC == uscc {
				out = append(out, voucherwatch.RegisterHistoryEntry{EditionID: e.ID, Period: e.Period, CreatedAt: e.CreatedAt, Row: r})
			}
		}
	}
	return out, nil
}

var registerNow = time.Date(2026, 12, 6, 10, 0, 0, 0, voucherwatch.CST)

// formulaNamedSupplier is a supplier whose name a spreadsheet would run as a formula.
const formulaNamedSupplier = "=HYPERLINK(\"http://x\")"

// newRegisterUIServer is newUIServer with the register over two suppliers: csApplicant, which
// reported 43 of 48 hourly windows, and one whose name is a formula.
func newRegisterUIServer(t *testing.T) (*Server, *fakeRegister) {
	t.Helper()
	s, _, _ := newUIServer(t, ui.Settings{})
	st := &fakeRegister{suppliers: []voucherwatch.RegisterSupplierInput{
		{USCC: csApplicant, Name: "长沙星算科技有限公司", City: "430100", Registered: true, RegisteredOn: "2025-09-01",
			Capacity:  []voucherwatch.ChipCards{{ChipModel: "Ascend 910B", ChipOrigin: voucherwatch.OriginDomestic, Cards: 512}},
			Resources: []voucherwatch.ResourceReporting{{ResourceID: "node-1", ExpectedHours: 48, ReceivedHours: 43, Windows: 43, OnTime: 43}},
			Settled:   12345678, ConfirmedViolations: 1},
		{USCC: zzApplicant, Name: formulaNamedSupplier, City: "430200"},
	}}
	s.registerRegisterRoutes(workflow.Register{Store: st, Params: voucherwatch.RegisterParams{OnTimeHours: 2, CardMonthHours: 720, BandLowFactor: 0.5, BandHighFactor: 1.8},
		UsageTopic: "vw.usage", Now: func() time.Time { return registerNow }})
	return s, st
}

// registerCall sends a JSON request with a bearer token (none when empty).
func registerCall(t *testing.T, h http.Handler, token, method, path string, body any) (int, []byte) {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req := httptest.NewRequest(method, path, rd)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, req)
	return w.Code, w.Body.Bytes()
}

func TestRegisterRoutesByRole(t *testing.T) {
	s, st := newRegisterUIServer(t)
	f := func(token, method, path string, body any, want int) []byte {
		t.Helper()
		got, raw := registerCall(t, s, token, method, path, body)
		if got != want {
			t.Errorf("%s %s as %q: got %d %s, want %d", method, path, token, got, raw, want)
		}
		return raw
	}
	f("changsha-token", "POST", "/api/v1/register/editions", nil, http.StatusForbidden)
	f("admin-token", "POST", "/api/v1/register/editions", map[string]any{"period": "2026-13"}, http.StatusBadRequest)
	f("admin-token", "POST", "/api/v1/register/editions", map[string]any{"period": "2027-01"}, http.StatusBadRequest) // not begun
	if len(st.editions) != 0 {
		t.Fatalf("refused requests recorded %d editions", len(st.editions))
	}
	raw := f("admin-token", "POST", "/api/v1/register/editions", nil, http.StatusCreated)
	var e voucherwatch.RegisterEdition
	if err := json.Unmarshal(raw, &e); err != nil {
		t.Fatal(err)
	}
	if e.Period != "2026-11" || e.Trigger != voucherwatch.RegisterOnDemand || e.CreatedBy != "u_admin" || e.Inputs != nil || len(e.Suppliers) != 2 {
		t.Errorf("edition on demand: got %+v, want November (the last complete month) by u_admin, without inputs", e)
	}
	if q := st.queries[0]; !q.From.Equal(time.Date(2026, 11, 1, 0, 0, 0, 0, voucherwatch.CST)) || !q.To.Equal(time.Date(2026, 12, 1, 0, 0, 0, 0, voucherwatch.CST)) || q.UsageTopic != "vw.usage" || q.OnTimeHours != 2 {
		t.Errorf("store asked for %+v, want November's bounds, the usage topic and the on-time limit", q)
	}
	f("changsha-token", "GET", "/api/v1/register/editions", nil, http.StatusOK)
	raw = f("changsha-token", "GET", "/api/v1/register/editions/"+e.ID, nil, http.StatusOK)
	if !strings.Contains(string(raw), `"settled":"123456.78"`) || !strings.Contains(string(raw), `"completeness":0.8958`) {
		t.Errorf("edition as a city reviewer: got %s, want money as a decimal string and 43/48", raw)
	}
	f("changsha-token", "GET", "/api/v1/register/editions/"+e.ID+"/inputs", nil, http.StatusForbidden)
	raw = f("admin-token", "GET", "/api/v1/register/editions/"+e.ID+"/inputs", nil, http.StatusOK)
	if !strings.Contains(string(raw), `"digest_matches":true`) || !strings.Contains(string(raw), `"rows_match":true`) {
		t.Errorf("inputs: got %s, want them to hash to the digest and give the rows", raw)
	}
	f("changsha-token", "GET", "/api/v1/register/editions/rg-none", nil, http.StatusNotFound)
	f("", "GET", "/api/v1/register/editions", nil, http.StatusUnauthorized)
	raw = f("changsha-token", "GET", "/api/v1/register/suppliers/"+strings.ToLower(csApplicant), nil, http.StatusOK)
	if !strings.Contains(string(raw), e.ID) {
		t.Errorf("supplier history: got %s, want edition %s", raw, e.ID)
	}
}

func TestRegisterPublishedWithoutSignIn(t *testing.T) {
	s, _ := newRegisterUIServer(t)
	b := newBrowser(t, s)
	if p := b.get("/public/register"); p.Code != http.StatusNotFound || !strings.Contains(p.Body, "尚未发布登记信息") {
		t.Errorf("before any edition: got %d, want 404 saying nothing is published yet", p.Code)
	}
	if got, _ := registerCall(t, s, "admin-token", "POST", "/api/v1/register/editions", map[string]any{"period": "2026-11"}); got != http.StatusCreated {
		t.Fatalf("make an edition: got %d", got)
	}
	p := b.get("/public/register")
	for _, want := range []string{"算力供给方信息登记发布", "2026-11", "长沙星算科技有限公司", "89.58%", "123456.78", "Ascend 910B 512卡", "已登记（2025-09-01）", "/public/register.xlsx?edition="} {
		if !strings.Contains(p.Body, want) {
			t.Errorf("public page lacks %q", want)
		}
	}
	if p.Code != http.StatusOK || strings.Contains(p.Body, `name="csrf"`) {
		t.Errorf("public page: got %d, want 200 without a signed-in form", p.Code)
	}
	h := b.get("/public/register/suppliers/" + csApplicant)
	if h.Code != http.StatusOK || !strings.Contains(h.Body, "历期登记信息") || !strings.Contains(h.Body, "89.58%") {
		t.Errorf("supplier history page: got %d %s", h.Code, h.Body)
	}
	if h := b.get("/public/register/suppliers/91430100MA4NONE001"); h.Code != http.StatusNotFound {
		t.Errorf("unknown supplier's history: got %d, want 404", h.Code)
	}

	// The CSV: BOM, Chinese header, the formula-named supplier defused.
	resp := b.get("/public/register.csv")
	body, ok := strings.CutPrefix(resp.Body, "\uFEFF")
	if resp.Code != http.StatusOK || !ok {
		t.Fatalf("CSV: got %d, want 200 starting with a BOM", resp.Code)
	}
	rows, err := csv.NewReader(strings.NewReader(body)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 3 || rows[0][0] != "统一社会信用代码" || rows[0][6] != "上报完整率" {
		t.Fatalf("CSV rows: got %v", rows)
	}
	for _, r := range rows[1:] {
		if r[0] == zzApplicant && r[1] != "'"+formulaNamedSupplier {
			t.Errorf("CSV: formula name written as %q, want it defused", r[1])
		}
		if r[0] == csApplicant && (r[6] != "89.58%" || r[12] != "123456.78" || r[15] != "1") {
			t.Errorf("CSV row: got %v", r)
		}
	}
	x := b.get("/public/register.xlsx")
	f, err := excelize.OpenReader(strings.NewReader(x.Body))
	if err != nil {
		t.Fatal(err)
	}
	cell, _ := f.GetCellValue("算力供给方登记信息", "B3")
	typ, _ := f.GetCellType("算力供给方登记信息", "B3")
	formula, _ := f.GetCellFormula("算力供给方登记信息", "B3")
	if cell != formulaNamedSupplier || formula != "" || typ == excelize.CellTypeFormula {
		t.Errorf("XLSX: B3 is %q (formula %q, type %v), want the name as a string", cell, formula, typ)
	}
}

// TestRegisterHistoryOnTheEnterprisePage: a supplier's page shows its rows across editions,
// newest first; an enterprise in no edition shows no register section.
func TestRegisterHistoryOnTheEnterprisePage(t *testing.T) {
	s, st := newRegisterUIServer(t)
	province := signedIn(t, s, "province")
	if p := province.get("/enterprises/" + csApplicant); strings.Contains(p.Body, "历期登记信息") {
		t.Errorf("before any edition: the page shows a register section")
	}
	for _, period := range []string{"2026-10", "2026-11"} {
		if got, raw := registerCall(t, s, "admin-token", "POST", "/api/v1/register/editions", map[string]any{"period": period}); got != http.StatusCreated {
			t.Fatalf("edition %s: got %d %s", period, got, raw)
		}
	}
	if len(st.editions) != 2 {
		t.Fatalf("got %d editions", len(st.editions))
	}
	p := province.get("/enterprises/" + csApplicant)
	i, j := strings.Index(p.Body, "<td>2026-11</td>"), strings.Index(p.Body, "<td>2026-10</td>")
	if !strings.Contains(p.Body, "历期登记信息") || i < 0 || j < 0 || i > j {
		t.Errorf("enterprise page: want the register section with 2026-11 above 2026-10; got %d %d", i, j)
	}
}
