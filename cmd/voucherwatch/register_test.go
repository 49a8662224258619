package main

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	"github.com/voucherwatch/voucherwatch"
	"github.com/voucherwatch/voucherwatch/store/storetest"
	"github.com/voucherwatch/voucherwatch/supervision"
)

const (
	registerSupplier = "91430100MA4L0RRRR5"
	registerBuyer    = "91430100MA4L0BBBB6"
	cityToken        = "test-city-reviewer"
)

// Personal data the registry record of registerSupplier carries; none of it may be published.
var registerPersonalData = []string{
	"张三", "pk-zhangsan", "430***********1234", "13800000000", "zhang@example.com",
	"李四", "pk-lisi", "13900000000", "li@example.com", "王五", "6222000033334444",
}

// supplierWithPeople is a registered supplier whose registry record names people with
// identity keys, masked numbers, phones and e-mails, a personal shareholder and a bank account.
func supplierWithPeople() voucherwatch.Record {
	zhang := voucherwatch.Person{Name: "张三", IDType: "id_card", Key: "pk-zhangsan", Masked: "430***********1234", Phone: "13800000000", Email: "zhang@example.com"}
	li := voucherwatch.Person{Name: "李四", Key: "pk-lisi", Phone: "13900000000", Email: "li@example.com"}
	return voucherwatch.Record{
		Envelope: voucherwatch.Envelope{Source: "platform:hunan-registry", ID: "entity-r1", Type: voucherwatch.TypeRegistry, Time: time.Date(2026, 10, 1, 8, 0, 0, 0, voucherwatch.CST)},
		Entity: &voucherwatch.Entity{
			USCC: registerSupplier, Name: "湖南登记算力有限公司", City: "430100", RegisteredAddress: "长沙市岳麓区麓谷大道1号",
			RegisteredOn: time.Date(2019, 6, 1, 0, 0, 0, 0, voucherwatch.CST), LegalRep: &zhang, Contacts: []voucherwatch.Person{li},
			Shareholders: []voucherwatch.Holder{{Kind: "person", Person: &zhang, Name: "张三", SharePct: 100}},
			Officers:     []voucherwatch.Officer{{Role: voucherwatch.OfficerSupervisor, Person: voucherwatch.Person{Name: "王五"}}},
			BankAccounts: []voucherwatch.BankAccount{{Bank: "长沙银行", AccountNo: "6222000033334444"}},
			Supplier: &voucherwatch.SupplierProfile{Registered: true, RegisteredOn: time.Date(2025, 9, 1, 0, 0, 0, 0, voucherwatch.CST),
				Capacity: []voucherwatch.Capacity{{ChipModel: "Ascend 910B", ChipOrigin: voucherwatch.OriginDomestic, Cards: 512}}},
		},
	}
}

// novemberHours is a resource's hourly usage in November 2026, hours from..to-1.
func novemberHours(resource string, from, to int) []voucherwatch.Record {
	var recs []voucherwatch.Record
	for h := from; h < to; h++ {
		start := time.Date(2026, 11, 1, 0, 0, 0, 0, voucherwatch.CST).Add(time.Duration(h) * time.Hour)
		recs = append(recs, voucherwatch.Record{
			Envelope: voucherwatch.Envelope{Source: registerSupplier, ID: resource + "-" + start.Format("0102-15"), Type: voucherwatch.TypeUsage, Time: start},
			Usage: &voucherwatch.Usage{SupplierUSCC: registerSupplier, BuyerUSCC: registerBuyer, ContractNo: "HT-R-1", ResourceID: resource,
				ChipModel: "Ascend 910B", ChipOrigin: voucherwatch.OriginDomestic, Cards: 8, WindowStart: start, WindowEnd: start.Add(time.Hour), CardHours: 8, UtilAvg: 0.9},
		})
	}
	return recs
}

// apiAs is api with another bearer token; it returns the status and the raw body.
func apiAs(t *testing.T, m *Main, token, method, path string, body any) (int, []byte) {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, "http://"+m.HTTPAddr+path, rd)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, raw
}

// registerProvince stores a supplier with people in its registry record, one resource that
// misses 5 of its 48 hourly windows, and three alerts on it in November: one open, one
// dismissed, one confirmed, each with a title of its own.
func registerProvince(t *testing.T, m *Main) (open, dismissed, confirmed voucherwatch.Alert) {
	t.Helper()
	ctx := t.Context()
	if _, err := m.DB.StoreRecords(ctx, voucherwatch.TypeRegistry, []voucherwatch.Record{supplierWithPeople()}); err != nil {
		t.Fatal(err)
	}
	usage := append(novemberHours("node-gappy", 0, 10), novemberHours("node-gappy", 15, 48)...)
	if _, err := m.DB.StoreRecords(ctx, voucherwatch.TypeUsage, usage); err != nil {
		t.Fatal(err)
	}
	mk := func(kind, title string) voucherwatch.Alert {
		s := voucherwatch.Subjects{SupplierUSCC: registerSupplier, ResourceID: kind}
		return voucherwatch.Alert{ID: voucherwatch.AlertID("price_out_of_range", s), Detector: "price_out_of_range", Kind: kind,
			Severity: voucherwatch.SeverityHigh, Score: 0.9, Subjects: s, City: "430100", Title: title, Reason: title + "：张三 13800000000"}
	}
	open, dismissed, confirmed = mk("open", "待核查预警标题"), mk("dismissed", "已排除预警标题"), mk("confirmed", "已确认违规标题")
	t0 := time.Date(2026, 11, 10, 9, 0, 0, 0, voucherwatch.CST)
	if _, err := m.DB.UpsertAlerts(ctx, []voucherwatch.Alert{open, dismissed, confirmed}, t0); err != nil {
		t.Fatal(err)
	}
	province := voucherwatch.User{ID: "u_p", Name: "省审核员", Role: voucherwatch.RoleProvinceReviewer}
	move := func(a voucherwatch.Alert, path ...voucherwatch.Status) {
		from := voucherwatch.StatusNew
		for i, to := range path {
			e := voucherwatch.NewTransitionEvent(province, a.ID, from, voucherwatch.Transition{To: to, Comment: "处理"}, t0.Add(time.Duration(i+1)*time.Hour))
			if res, err := m.DB.AppendEvents(ctx, []voucherwatch.Event{e}); err != nil || res[0].Err != nil {
				t.Fatalf("%s → %s: %v %v", from, to, err, res)
			}
			from = to
		}
	}
	move(open, voucherwatch.StatusReviewing, voucherwatch.StatusExplanationRequested)
	move(dismissed, voucherwatch.StatusReviewing, voucherwatch.StatusDismissed)
	move(confirmed, voucherwatch.StatusReviewing, voucherwatch.StatusExplanationRequested, voucherwatch.StatusConfirmed)
	return open, dismissed, confirmed
}

// TestRegisterPublishesNoPersonAndNothingUnconfirmed makes an edition through the API and
// reads it everywhere it is published: the public page, its JSON, CSV and XLSX, and the
// supplier's public history. None of them holds any of the registry record's personal data or
// an unconfirmed alert's text, and only the confirmed alert counts. City reviewers read the
// editions but may not make one.
func TestRegisterPublishesNoPersonAndNothingUnconfirmed(t *testing.T) {
	c := testConfig(t, storetest.Database(t))
	c.RegisterSchedule = ""
	m := startMain(t, c)
	m.Server.AddToken(cityToken, voucherwatch.User{ID: "u_city", Name: "长沙审核员", Role: voucherwatch.RoleCityReviewer, City: "430100"})
	open, dismissed, confirmed := registerProvince(t, m)

	if got, raw := apiAs(t, m, cityToken, "POST", "/api/v1/register/editions", map[string]any{"period": "2026-11"}); got != http.StatusForbidden {
		t.Errorf("a city reviewer makes an edition: got %d %s, want 403", got, raw)
	}
	got, raw := apiAs(t, m, testToken, "POST", "/api/v1/register/editions", map[string]any{"period": "2026-11"})
	if got != http.StatusCreated {
		t.Fatalf("the province makes an edition: got %d %s, want 201", got, raw)
	}
	var made voucherwatch.RegisterEdition
	if err := json.Unmarshal(raw, &made); err != nil {
		t.Fatal(err)
	}
	got, raw = apiAs(t, m, cityToken, "GET", "/api/v1/register/editions/"+made.ID, nil)
	if got != http.StatusOK {
		t.Fatalf("a city reviewer reads the edition: got %d %s", got, raw)
	}
	var e struct {
		Suppliers []map[string]any `json:"suppliers"`
	}
	if err := json.Unmarshal(raw, &e); err != nil {
		t.Fatal(err)
	}
	if len(e.Suppliers) != 1 {
		t.Fatalf("got %d suppliers, want 1: %s", len(e.Suppliers), raw)
	}
	row := e.Suppliers[0]
	for _, k := range []string{"uscc", "name", "completeness", "reject_rate", "utilisation", "buyers", "settled", "price_ratio", "confirmed_violations"} {
		if _, ok := row[k]; !ok {
			t.Errorf("row lacks %q: %v", k, row)
		}
	}
	if row["completeness"] != 0.8958 { // 43 of 48 hourly windows
		t.Errorf("completeness: got %v, want 43/48 = 0.8958", row["completeness"])
	}
	if row["confirmed_violations"] != 1.0 {
		t.Errorf("confirmed violations: got %v, want 1 (the open and the dismissed alert do not count)", row["confirmed_violations"])
	}
	if row["settled"] != "0.00" {
		t.Errorf("settled: got %v, want the decimal string 0.00", row["settled"])
	}
	var inputs struct {
		DigestMatches bool `json:"digest_matches"`
		RowsMatch     bool `json:"rows_match"`
	}
	if _, raw := apiAs(t, m, testToken, "GET", "/api/v1/register/editions/"+made.ID+"/inputs", nil); json.Unmarshal(raw, &inputs) != nil || !inputs.DigestMatches || !inputs.RowsMatch {
		t.Errorf("recomputed from its inputs: got %s, want the same digest and rows", raw)
	}
	if got, _ := apiAs(t, m, cityToken, "GET", "/api/v1/register/editions/"+made.ID+"/inputs", nil); got != http.StatusForbidden {
		t.Errorf("a city reviewer reads the inputs: got %d, want 403", got)
	}
	// Made again from the same records, an edition has the same digest.
	var again voucherwatch.RegisterEdition
	_, raw = apiAs(t, m, testToken, "POST", "/api/v1/register/editions", map[string]any{"period": "2026-11"})
	if err := json.Unmarshal(raw, &again); err != nil || again.InputsDigest != made.InputsDigest || again.ID == made.ID {
		t.Errorf("second edition of the same inputs: got %s / %s, want a new id with digest %s", again.ID, again.InputsDigest, made.InputsDigest)
	}

	published := map[string]string{}
	for _, path := range []string{"/public/register", "/public/register.json", "/public/register.csv",
		"/public/register/suppliers/" + registerSupplier, "/public/register?edition=" + made.ID} {
		got, raw := apiAs(t, m, "", "GET", path, nil)
		if got != http.StatusOK {
			t.Fatalf("GET %s without a token: got %d %s", path, got, raw)
		}
		published[path] = string(raw)
	}
	got, raw = apiAs(t, m, "", "GET", "/public/register.xlsx", nil)
	if got != http.StatusOK {
		t.Fatalf("GET /public/register.xlsx: got %d", got)
	}
	f, err := excelize.OpenReader(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	sheetRows, err := f.GetRows(f.GetSheetName(0))
	if err != nil {
		t.Fatal(err)
	}
	var cells []string
	for _, r := range sheetRows {
		cells = append(cells, strings.Join(r, "\t"))
	}
	published["/public/register.xlsx"] = strings.Join(cells, "\n")

	for path, body := range published {
		if !strings.Contains(body, registerSupplier) || !strings.Contains(body, "湖南登记算力有限公司") {
			t.Errorf("%s does not list the supplier", path)
		}
		for _, personal := range registerPersonalData {
			if strings.Contains(body, personal) {
				t.Errorf("%s publishes personal data %q", path, personal)
			}
		}
		for _, a := range []voucherwatch.Alert{open, dismissed, confirmed} {
			if strings.Contains(body, a.Title) || strings.Contains(body, a.ID) {
				t.Errorf("%s publishes alert %s (%s)", path, a.ID, a.Title)
			}
		}
	}
	if !strings.Contains(published["/public/register.csv"], "确认违规数") || !strings.Contains(published["/public/register.xlsx"], "上报完整率") {
		t.Errorf("exports lack their Chinese headers")
	}
	if !strings.Contains(published["/public/register"], "89.58%") || !strings.Contains(published["/public/register.xlsx"], "89.58%") {
		t.Errorf("the page and the spreadsheet do not show 43/48 as 89.58%%")
	}
}

// TestRegisterScheduledOncePerSlot fires two instances' schedulers for one slot at once: one
// edition of the month before is recorded, under the slot's id.
func TestRegisterScheduledOncePerSlot(t *testing.T) {
	c := testConfig(t, storetest.Database(t))
	c.RegisterSchedule = ""
	m := startMain(t, c)
	registerProvince(t, m)
	slot := time.Date(2026, 12, 1, 4, 0, 0, 0, voucherwatch.CST)
	other := &supervision.RegisterScheduler{Deps: m.RegisterDeps, Log: m.Log}
	runSlotOnEach(t, slot, m.Register.RunSlot, other.RunSlot)
	all, err := m.DB.RegisterEditions(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != 1 || all[0].ID != supervision.RegisterSlotID(slot) || all[0].Period != "2026-11" || all[0].Trigger != voucherwatch.RegisterScheduled {
		t.Errorf("got %+v, want one scheduled edition of 2026-11 with the slot's id", all)
	}
	if st := m.Register.Status(); st.LastID != supervision.RegisterSlotID(slot) || st.LastError != "" {
		t.Errorf("status: got %+v", st)
	}
}
