package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/voucherwatch/voucherwatch"
	"github.com/voucherwatch/voucherwatch/store/storetest"
)

const chromiumPath = "/usr/bin/chromium"

// TestWebUIInBrowser drives the web UI in headless Chromium against the engine as serve wires
// it, over a real ClickHouse: a 长沙 city reviewer signs in, sees only 长沙's alerts, asks for
// an explanation with a deadline and sees it in the alert's history. With VW_SCREENSHOTS=1 it
// also saves the screenshots docs/ui.md and docs/spotchecks.md show, as a province reviewer.
func TestWebUIInBrowser(t *testing.T) {
	if _, err := os.Stat(chromiumPath); err != nil {
		t.Skipf("no Chromium at %s (apt-get install chromium; .ci/testtools.sh does)", chromiumPath)
	}
	if os.Getenv("VW_TEST_CLICKHOUSE") == "" {
		t.Skip("VW_TEST_CLICKHOUSE is not set: the browser test needs the real ClickHouse (make test)")
	}
	m := startMain(t, testConfig(t, storetest.Database(t)))
	ctx := context.Background()
	now := time.Now()
	alerts := uiFixtureAlerts()
	if _, err := m.DB.UpsertAlerts(ctx, alerts, now.Add(-26*time.Hour)); err != nil {
		t.Fatal(err)
	}
	base := "http://" + m.HTTPAddr
	createUser(t, base, map[string]any{"name": "刘敏（长沙市工信局）", "role": "city_reviewer", "city": "430100", "login": "liumin", "password": "长沙-审核-2026"})

	browser := newChromium(t)
	deadline := voucherwatch.Day(now).AddDate(0, 0, 20).Format(time.DateOnly)
	csAlert, zzTitle := alerts[0], alerts[2].Title
	if alerts[0].City != "430100" || alerts[2].City == "430100" {
		t.Fatal("fixture order changed: want a 长沙 alert first and another city's third")
	}

	signIn(t, browser, base, "liumin", "长沙-审核-2026")
	inbox, err := chromedp.Run(browser, chromedp.Text(chromedp.CSS("#inbox")))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(inbox, csAlert.Title) {
		t.Errorf("the 长沙 reviewer's inbox lacks 长沙's alert %q:\n%s", csAlert.Title, inbox)
	}
	if strings.Contains(inbox, zzTitle) || strings.Contains(inbox, "株洲市") {
		t.Errorf("the 长沙 reviewer's inbox shows another city's alert %q:\n%s", zzTitle, inbox)
	}

	err = chromedp.Do(browser,
		chromedp.Click(chromedp.CSS(`a.alert-link[href="/alerts/`+csAlert.ID+`"]`)),
		chromedp.WaitVisible(chromedp.CSS("#alert-status")),
	)
	if err != nil {
		t.Fatal(err)
	}
	moveByForm(t, browser, "reviewing", "开始核查发票与结算记录", "")
	moveByForm(t, browser, "explanation_requested", "填写说明：请于期限内提供两份申报所附发票的原件及付款凭证", deadline)
	history, err := chromedp.Run(browser, chromedp.Text(chromedp.CSS("#history")))
	if err != nil {
		t.Fatal(err)
	}
	status, _ := chromedp.Run(browser, chromedp.Text(chromedp.CSS("#alert-status")))
	if !strings.Contains(history, "截止 "+deadline) || !strings.Contains(history, "填写说明") || !strings.Contains(history, "刘敏") || status != "待说明" {
		t.Errorf("after the explanation request: status %q, history:\n%s\nwant 待说明 and an event by 刘敏 with the deadline %s", status, history, deadline)
	}
	// The store has the event, with the deadline, as the API serves it.
	events, err := m.DB.History(ctx, csAlert.ID)
	if err != nil {
		t.Fatal(err)
	}
	if n := len(events); n != 2 || events[1].To != voucherwatch.StatusExplanationRequested || events[1].Deadline.Format(time.DateOnly) != deadline {
		t.Errorf("stored history: got %+v, want reviewing then explanation_requested due %s", events, deadline)
	}

	if os.Getenv("VW_SCREENSHOTS") == "1" {
		saveScreenshots(t, m, base, now)
	}
}

// saveScreenshots signs in a province reviewer in a fresh browser and saves the inbox and the
// related-party alert to docs/screenshots.
func saveScreenshots(t *testing.T, m *Main, base string, now time.Time) {
	t.Helper()
	createUser(t, base, map[string]any{"name": "王芳（省工信厅）", "role": "province_reviewer", "login": "wangfang", "password": "省级-审核-2026"})
	// A little history for the screenshots: the related-party alert under review, asked to
	// explain, and a proposal from the city.
	rp := uiFixtureAlerts()[1]
	province := voucherwatch.User{ID: "u_fixture", Name: "王芳（省工信厅）", Role: voucherwatch.RoleProvinceReviewer}
	city := voucherwatch.User{ID: "u_fixture_cs", Name: "刘敏（长沙市工信局）", Role: voucherwatch.RoleCityReviewer, City: "430100"}
	ev1 := voucherwatch.NewTransitionEvent(city, rp.ID, voucherwatch.StatusNew, voucherwatch.Transition{To: voucherwatch.StatusReviewing, Comment: "已调取双方工商登记及股权结构"}, now.Add(-5*time.Hour))
	ev2 := voucherwatch.NewTransitionEvent(province, rp.ID, voucherwatch.StatusReviewing, voucherwatch.Transition{
		To: voucherwatch.StatusExplanationRequested, Comment: "请需求方说明与供应方之间的持股关系及交易定价依据",
		Deadline: voucherwatch.Day(now).AddDate(0, 0, 15),
	}, now.Add(-2*time.Hour))
	if res, err := m.DB.AppendEvents(context.Background(), []voucherwatch.Event{ev1, ev2}); err != nil || res[0].Err != nil || res[1].Err != nil {
		t.Fatalf("append fixture events: %v %+v", err, res)
	}
	// The registry names the enterprises, as it would after a day of ingest.
	names := map[string]string{
		"91430104MA4T8K2Q3X": "长沙麓谷智算科技有限公司", "91430100MA4L7H9R2B": "湖南星河算力服务有限公司",
		"91430211MA4RQ2W81C": "株洲云帆智能制造有限公司", "91430300MA4PX31K7D": "湘潭宏图数据科技有限公司",
		"91430400MA4QW8812E": "衡阳融智信息技术有限公司", "91430105MA4R1XK20F": "长沙开福数智科技有限公司",
		"91430700MA4M3ZP55G": "常德德润云计算有限公司", "91430102MA4NB7T31H": "长沙芙蓉视觉智能有限公司",
		"91430600MA4KD2M70J": "岳阳巴陵智算科技有限公司",
	}
	var regs []voucherwatch.Record
	for uscc, name := range names {
		city, _ := voucherwatch.CityCode(uscc[2:6] + "00")
		regs = append(regs, voucherwatch.Record{
			Envelope: voucherwatch.Envelope{Source: "registry", ID: "screenshot-" + uscc, Type: voucherwatch.TypeRegistry, Time: now.Add(-48 * time.Hour)},
			Entity:   &voucherwatch.Entity{USCC: uscc, Name: name, City: city, RegisteredOn: time.Date(2020, 6, 1, 0, 0, 0, 0, voucherwatch.CST)},
		})
	}
	if _, err := m.DB.StoreRecords(context.Background(), voucherwatch.TypeRegistry, regs); err != nil {
		t.Fatal(err)
	}
	browser := newChromium(t)
	signIn(t, browser, base, "wangfang", "省级-审核-2026")
	dir := filepath.Join("..", "..", "docs", "screenshots")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	shoot := func(name, path, waitFor string) {
		t.Helper()
		err := chromedp.Do(browser,
			chromedp.EmulateViewport(1440, 900),
			chromedp.Navigate(base+path),
			chromedp.WaitVisible(chromedp.CSS(waitFor)),
		)
		if err != nil {
			t.Fatal(err)
		}
		png, err := chromedp.Run(browser, chromedp.FullScreenshot(100))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name), png, 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("saved %s (%d bytes)", filepath.Join(dir, name), len(png))
	}
	shoot("inbox.png", "/alerts", "#inbox")
	shoot("related-party-alert.png", "/alerts/"+rp.ID, "#history")
}

// newChromium starts headless Chromium with a fresh profile; it stops when the test ends.
func newChromium(t *testing.T) context.Context {
	t.Helper()
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromiumPath),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1440, 900),
	)
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	bctx, cancel := chromedp.NewContext(actx)
	t.Cleanup(func() { cancel(); cancelAlloc() })
	// Start the browser without a deadline (it lives as long as this context), then bound
	// each step through the test's own deadline.
	if err := chromedp.Do(bctx); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	ctx, cancelSteps := context.WithTimeout(bctx, 90*time.Second)
	t.Cleanup(cancelSteps)
	return ctx
}

// signIn fills in the sign-in form and waits for the inbox.
func signIn(t *testing.T, browser context.Context, base, login, password string) {
	t.Helper()
	err := chromedp.Do(browser,
		chromedp.Navigate(base+"/alerts"),
		chromedp.WaitVisible(chromedp.CSS(`input[name="login"]`)),
		chromedp.SendKeys(chromedp.CSS(`input[name="login"]`), login),
		chromedp.SendKeys(chromedp.CSS(`input[name="password"]`), password),
		chromedp.Click(chromedp.CSS("#login-submit")),
		chromedp.WaitVisible(chromedp.CSS("#inbox")),
	)
	if err != nil {
		t.Fatalf("sign in as %s: %v", login, err)
	}
}

// createUser creates a user through the API as the bootstrap administrator.
func createUser(t *testing.T, base string, body map[string]any) {
	t.Helper()
	raw, _ := json.Marshal(body)
	req, _ := http.NewRequest("POST", base+"/api/v1/users", bytes.NewReader(raw))
	req.Header.Set("Authorization", "Bearer "+testToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusCreated {
		var out map[string]any
		_ = json.NewDecoder(resp.Body).Decode(&out)
		t.Fatalf("create user %v: got %d %v", body["login"], resp.StatusCode, out)
	}
}

// uiFixtureAlerts are alerts as the detectors write them, in several cities: the first two of
// 长沙 (a duplicate claim and a related party), the third of 株洲.
func uiFixtureAlerts() []voucherwatch.Alert {
	const (
		csBuyer    = "91430104MA4T8K2Q3X"
		csSupplier = "91430100MA4L7H9R2B"
		zzBuyer    = "91430211MA4RQ2W81C"
	)
	mk := func(detector, kind string, sev voucherwatch.Severity, score float64, city, clause, title, reason string, s voucherwatch.Subjects, ev map[string]any) voucherwatch.Alert {
		return voucherwatch.Alert{
			ID: voucherwatch.AlertID(detector, s), Detector: detector, Kind: kind, Severity: sev, Score: score,
			Subjects: s, City: city, PolicyClause: clause, Title: title, Reason: reason, Evidence: voucherwatch.EvidenceOf(ev),
		}
	}
	return []voucherwatch.Alert{
		mk(voucherwatch.DetectorDuplicateClaim, "invoice_in_two_claims", voucherwatch.SeverityHigh, 0.95, "430100", "五 / M1b",
			"同一张发票被两份补贴申报引用（《实施细则》五 / M1b）",
			"发票 043002400111 / 08812345 同时出现在申报 CL-2026-CS-0107 与 CL-2026-CS-0219 中，金额 486,000.00 元，存在重复申领风险。",
			voucherwatch.Subjects{ApplicantUSCC: csBuyer, ClaimID: "CL-2026-CS-0219", InvoiceCode: "043002400111", InvoiceNo: "08812345"},
			map[string]any{"claims": []string{"CL-2026-CS-0107", "CL-2026-CS-0219"}, "amount": "486000.00"}),
		mk(voucherwatch.DetectorRelatedParty, "direct_stake", voucherwatch.SeverityHigh, 0.97, "430100", "二 / D4",
			"供需双方存在关联关系：直接持股（《实施细则》二 / D4）",
			"需求方长沙麓谷智算科技有限公司（"+csBuyer+"）与其供应商湖南星河算力服务有限公司（"+csSupplier+"）存在关联关系：湖南星河算力服务有限公司持有长沙麓谷智算科技有限公司 35.00%；两家公司的法定代表人为同一人（张*）。《湖南省算力券补贴政策实施细则》二 / D4 要求供需双方不存在直接投资、隶属、共建、产权纽带等关联关系。",
			voucherwatch.Subjects{ApplicantUSCC: csBuyer, SupplierUSCC: csSupplier},
			relatedPartyEvidence(csBuyer, csSupplier)),
		mk(voucherwatch.DetectorPrice, "price_high", voucherwatch.SeverityMedium, 0.72, "430200", "五 / M1d",
			"算力单价明显高于市场区间：昇腾 910B 卡时单价 38.00 元（五 / M1d）",
			"合同 ZZ-HT-2026-031 的昇腾 910B 卡时单价 38.00 元，高于同类资源市场区间上沿 21.40 元。",
			voucherwatch.Subjects{ApplicantUSCC: zzBuyer, ContractNo: "ZZ-HT-2026-031"}, map[string]any{"unit_price": "38.00", "band_high": "21.40"}),
		mk(voucherwatch.DetectorResale, "metered_to_other_tenant", voucherwatch.SeverityHigh, 0.88, "430300", "五 / M1c",
			"申报算力资源在同一时段计量给其他租户，疑似转租转售（五 / M1c）",
			"资源 xt-dc1-node-0412 在 2026-09 的 212 个小时中同时计量给申报企业与另一租户。",
			voucherwatch.Subjects{ApplicantUSCC: "91430300MA4PX31K7D", ResourceID: "xt-dc1-node-0412"}, map[string]any{"overlap_hours": 212}),
		mk("late_filing", "filed_late", voucherwatch.SeverityMedium, 0.6, "430400", "四 / P3",
			"合同签订后第 47 天才备案，超过 30 日期限（四 / P3）",
			"合同 HY-2026-0088 于 2026-03-02 签订，2026-04-18 备案。",
			voucherwatch.Subjects{ApplicantUSCC: "91430400MA4QW8812E", ContractNo: "HY-2026-0088"}, map[string]any{"days": 47}),
		mk("annual_purchase", "annual_purchase_below_minimum", voucherwatch.SeverityLow, 0.35, "430100", "二 / D2",
			"年度算力采购额 41,200.00 元，低于 5 万元申报门槛（二 / D2）",
			"申请企业 2026 年度已结算的算力采购额合计 41,200.00 元。",
			voucherwatch.Subjects{ApplicantUSCC: "91430105MA4R1XK20F", ClaimID: "CL-2026-CS-0301"}, map[string]any{"settled": "41200.00"}),
		mk("non_subsidisable_item", "bandwidth_claimed", voucherwatch.SeverityHigh, 0.9, "430700", "三 / C1",
			"申报金额含独立网络带宽费用 120,000.00 元，不属补贴范围（三 / C1）",
			"发票所列服务项目中含独立网络带宽，依《实施细则》三 / C1 不予补贴。",
			voucherwatch.Subjects{ApplicantUSCC: "91430700MA4M3ZP55G", ClaimID: "CL-2026-CD-0012"}, map[string]any{"amount": "120000.00"}),
		mk("requested_over_limit", "requested_over_30_percent", voucherwatch.SeverityMedium, 0.7, "430100", "三 / C2",
			"申请补贴 360,000.00 元，超过可补贴金额的 30%（三 / C2）",
			"可补贴金额 1,000,000.00 元，按 30% 测算最高补贴 300,000.00 元。",
			voucherwatch.Subjects{ApplicantUSCC: "91430102MA4NB7T31H", ClaimID: "CL-2026-CS-0188"}, map[string]any{"over_by": "60000.00"}),
		mk("unregistered_supplier", "supplier_not_registered", voucherwatch.SeverityMedium, 0.7, "430600", "五 / M1a",
			"供应方未完成算力供应方登记（五 / M1a）",
			"申报所涉供应方在合同签订时未在平台完成信息登记。",
			voucherwatch.Subjects{ApplicantUSCC: "91430600MA4KD2M70J", SupplierUSCC: "91430600MA4KE11Q9K"}, map[string]any{}),
	}
}

// relatedPartyEvidence is the evidence of a related_party alert as detectors/related_party.go
// writes it: the two parties, the ties, the ownership graph (people by masked number only),
// integrated ownership and controllers.
func relatedPartyEvidence(buyer, supplier string) map[string]any {
	return map[string]any{
		"buyer":    map[string]string{"uscc": buyer, "name": "长沙麓谷智算科技有限公司"},
		"supplier": map[string]string{"uscc": supplier, "name": "湖南星河算力服务有限公司"},
		"summary":  "湖南星河算力服务有限公司持有长沙麓谷智算科技有限公司 35.00%；法定代表人为同一人（张*，430***********1234）",
		"ties": []map[string]any{
			{"kind": "direct_stake", "severity": "high", "score": 0.95, "summary": "湖南星河算力服务有限公司持有长沙麓谷智算科技有限公司 35.00%", "facts": map[string]any{"pct": 35.0}},
			{"kind": "shared_officer", "severity": "medium", "score": 0.7, "summary": "法定代表人为同一人（张*，430***********1234）"},
		},
		"graph": map[string]any{
			"nodes": []map[string]any{
				{"id": "e1", "kind": "enterprise", "name": "长沙麓谷智算科技有限公司", "uscc": buyer, "side": "buyer"},
				{"id": "e2", "kind": "enterprise", "name": "湖南星河算力服务有限公司", "uscc": supplier, "side": "supplier"},
				{"id": "p1", "kind": "person", "name": "张*", "masked_id": "430***********1234"},
				{"id": "e3", "kind": "enterprise", "name": "湖南星河控股集团有限公司", "uscc": "91430000MA4J0QQQ1L"},
			},
			"edges": []map[string]any{
				{"from": "e2", "to": "e1", "kind": "holds", "pct": 35.0},
				{"from": "e3", "to": "e2", "kind": "holds", "pct": 80.0},
				{"from": "p1", "to": "e1", "kind": "legal_rep"},
				{"from": "p1", "to": "e2", "kind": "legal_rep"},
			},
		},
		"integrated_ownership": map[string]float64{"buyer_in_supplier": 0, "supplier_in_buyer": 0.35},
		"controllers":          map[string]string{"buyer": "e3", "supplier": "e3"},
		"contracts":            []string{"CS-HT-2026-0415"},
		"claims":               []string{"CL-2026-CS-0233"},
	}
}

// moveByForm moves the alert shown in browser to status to through its page's form, with
// comment and, when not empty, a deadline, and waits for the page that follows. The old
// page's form goes with the move (there is no move from a status to itself): waiting for
// that, not for the flash, which the old page may show already, keeps the next step off the
// page being left.
func moveByForm(t *testing.T, browser context.Context, to, comment, deadline string) {
	t.Helper()
	form := `form[data-action="` + to + `"]`
	steps := []chromedp.Action[chromedp.Void]{
		chromedp.Click(chromedp.CSS(`summary.action-` + to)),
		chromedp.SendKeys(chromedp.CSS(form+" textarea"), comment),
	}
	if deadline != "" {
		steps = append(steps, chromedp.SetValue(chromedp.CSS(form+` input[name="deadline"]`), deadline))
	}
	steps = append(steps,
		chromedp.Click(chromedp.CSS(form+" button")),
		chromedp.WaitNotPresent(chromedp.CSS(form)),
		chromedp.WaitVisible(chromedp.CSS(".flash-ok")),
	)
	if err := chromedp.Do(browser, steps...); err != nil {
		t.Fatalf("move to %s: %v", to, err)
	}
}
