package supervision

import (
	"bytes"
	"context"
	"github.com/voucherwatch/voucherwatch/supervision/ui"
	"github.com/voucherwatch/voucherwatch/supervision/workflow"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"

	"github.com/voucherwatch/voucherwatch"
	"github.com/voucherwatch/voucherwatch/rules"
	"github.com/voucherwatch/voucherwatch/supervision/locale"
)

// TestBacktestPages: the province runs a backtest from the form (the policy in force filled
// in, one number changed), lands on the diff side by side and saves it as a workbook; a city
// reviewer reads its own city's part and may neither run nor export; a policy that does not
// parse is shown back with the reason.
func TestBacktestPages(t *testing.T) {
	s, _, _ := newUIServer(t, ui.Settings{})
	log := &fakeBacktestLog{}
	var ran rules.Policy
	s.registerBacktestRoutes(workflow.Backtests{Log: log, Policy: rules.Default(),
		Run: func(_ context.Context, p rules.Policy) (voucherwatch.BacktestDiff, error) {
			ran = p
			d := twoCityDiff
			d.Appeared = []voucherwatch.BacktestAlert{{ID: "al_cs", Detector: "annual_purchase", City: "430100", ApplicantUSCC: csApplicant,
				Title: "申请企业年购买算力费用不足10万元", AtStake: 1_500_00}}
			return d, nil
		}})

	b := signedIn(t, s, "province")
	form := b.get("/backtests")
	if form.Code != http.StatusOK || !strings.Contains(form.Body, "min_annual_purchase") {
		t.Fatalf("GET /backtests: got %d, want the form with the policy in force: %s", form.Code, form.Body)
	}
	policy := strings.Replace(string(mustJSON(t, rules.Default())), `"min_annual_purchase":"50000.00"`, `"min_annual_purchase":"100000.00"`, 1)
	p := b.post("/backtests", url.Values{"csrf": {b.csrf("/backtests")}, "policy": {policy}})
	if p.Code != http.StatusSeeOther || !strings.HasPrefix(p.Location, "/backtests/bt_") {
		t.Fatalf("POST /backtests: got %d to %q, want 303 to the backtest: %s", p.Code, p.Location, p.Body)
	}
	if ran.MinAnnualPurchase.Money != 100_000_00 || len(log.log) != 1 || log.log[0].UserID != "u_prov" {
		t.Errorf("ran with %s, log %+v: want 100000.00 logged for u_prov", ran.MinAnnualPurchase.Money, log.log)
	}
	one := b.get(p.Location)
	for _, want := range []string{"年购买算力费用不足10万元", "1,500.00", "3,000.00", "株洲", "export.xlsx"} {
		if !strings.Contains(one.Body, want) {
			t.Errorf("GET %s: want %q on the page", p.Location, want)
		}
	}
	x := b.get(p.Location + "/export.xlsx")
	if x.Code != http.StatusOK {
		t.Fatalf("export: got %d", x.Code)
	}
	wb, err := excelize.OpenReader(bytes.NewReader([]byte(x.Body)))
	if err != nil {
		t.Fatal(err)
	}
	rows, err := wb.GetRows(locale.T("backtests.sheet"))
	if err != nil {
		t.Fatal(err)
	}
	var found bool
	for _, r := range rows {
		if len(r) >= 6 && r[5] == "1500.00" && r[2] == csApplicant {
			found = true
		}
	}
	if !found {
		t.Errorf("the workbook lacks the appeared alert with 1500.00 at stake: %v", rows)
	}
	if bad := b.post("/backtests", url.Values{"csrf": {b.csrf("/backtests")}, "policy": {`{"version": "x"}`}}); bad.Code != http.StatusBadRequest ||
		!strings.Contains(bad.Body, locale.T("backtests.bad_policy")) {
		t.Errorf("a bad policy: got %d, want 400 with the reason", bad.Code)
	}

	cs := signedIn(t, s, "changsha")
	mine := cs.get(p.Location)
	if mine.Code != http.StatusOK || strings.Contains(mine.Body, "株洲") || !strings.Contains(mine.Body, "1,500.00") || strings.Contains(mine.Body, "export.xlsx") {
		t.Errorf("Changsha's view: got %d, want Changsha's part only, without export: %s", mine.Code, mine.Body)
	}
	if e := cs.get(p.Location + "/export.xlsx"); e.Code != http.StatusForbidden {
		t.Errorf("Changsha's export: got %d, want 403", e.Code)
	}
	if strings.Contains(cs.get("/backtests").Body, `name="policy"`) {
		t.Errorf("a city reviewer is offered the backtest form")
	}
	if r := cs.post("/backtests", url.Values{"csrf": {cs.csrf("/backtests")}, "policy": {policy}}); r.Code != http.StatusForbidden {
		t.Errorf("POST by Changsha: got %d, want 403", r.Code)
	}
}
