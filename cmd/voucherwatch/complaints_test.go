package main

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/voucherwatch/voucherwatch"
	"github.com/voucherwatch/voucherwatch/store/storetest"
)

// Enterprises of the complaint tests: the complained-about one in 长沙, a look-alike name in
// 株洲 that the form also offers, and the fixture alerts' 长沙 buyer with open alerts.
const (
	complaintTarget   = "91430104MA4T8K2Q3X" // 长沙麓谷智算科技有限公司, the buyer of uiFixtureAlerts' 长沙 alerts
	complaintLookLike = "91430211MA4RQ2W81C" // 株洲云帆智能制造有限公司
)

// storeComplaintRegistry writes the registry records the complaint form looks enterprises up
// in, as a day of ingest would.
func storeComplaintRegistry(t *testing.T, m *Main) {
	t.Helper()
	now := time.Now()
	var regs []voucherwatch.Record
	for uscc, e := range map[string][2]string{
		complaintTarget:   {"长沙麓谷智算科技有限公司", "430100"},
		complaintLookLike: {"株洲云帆智能制造有限公司", "430200"},
	} {
		regs = append(regs, voucherwatch.Record{
			Envelope: voucherwatch.Envelope{Source: "registry", ID: "complaint-" + uscc, Type: voucherwatch.TypeRegistry, Time: now.Add(-48 * time.Hour)},
			Entity:   &voucherwatch.Entity{USCC: uscc, Name: e[0], City: e[1], RegisteredOn: time.Date(2020, 6, 1, 0, 0, 0, 0, voucherwatch.CST)},
		})
	}
	if _, err := m.DB.StoreRecords(context.Background(), voucherwatch.TypeRegistry, regs); err != nil {
		t.Fatal(err)
	}
	if _, err := m.DB.UpsertAlerts(context.Background(), uiFixtureAlerts(), now.Add(-26*time.Hour)); err != nil {
		t.Fatal(err)
	}
}

// TestComplaintInBrowser files an anonymous complaint on the public page in Chromium: it
// appears in the inbox of the reviewer of the enterprise's city (长沙) and not in another
// city's (株洲); the 长沙 reviewer takes it through review and asks for an explanation, the
// province confirms it, and the complainant's status page shows each stage, never the text.
func TestComplaintInBrowser(t *testing.T) {
	if _, err := os.Stat(chromiumPath); err != nil {
		t.Skipf("no Chromium at %s (apt-get install chromium; .ci/testtools.sh does)", chromiumPath)
	}
	if os.Getenv("VW_TEST_CLICKHOUSE") == "" {
		t.Skip("VW_TEST_CLICKHOUSE is not set: the browser test needs the real ClickHouse (make test)")
	}
	m := startMain(t, testConfig(t, storetest.Database(t)))
	storeComplaintRegistry(t, m)
	base := "http://" + m.HTTPAddr
	createUser(t, base, map[string]any{"name": "刘敏（长沙市工信局）", "role": "city_reviewer", "city": "430100", "login": "liumin", "password": "长沙-审核-2026"})
	createUser(t, base, map[string]any{"name": "周强（株洲市工信局）", "role": "city_reviewer", "city": "430200", "login": "zhouqiang", "password": "株洲-审核-2026"})
	createUser(t, base, map[string]any{"name": "王芳（省工信厅）", "role": "province_reviewer", "login": "wangfang", "password": "省级-审核-2026"})
	const text = "该企业把申领补贴的算力转租给其他公司使用，<b>请核查</b>"

	// The complainant, anonymous: a part of the name finds the enterprise, then the form files it.
	public := newChromium(t)
	err := chromedp.Do(public,
		chromedp.Navigate(base+"/complaints/new"),
		chromedp.WaitVisible(chromedp.CSS("#complaint-enterprise")),
		chromedp.SendKeys(chromedp.CSS("#complaint-enterprise"), "麓谷智算"),
		chromedp.Click(chromedp.CSS("#complaint-find")),
		chromedp.WaitVisible(chromedp.CSS("#complaint-matches")),
	)
	if err != nil {
		t.Fatal(err)
	}
	matches, _ := chromedp.Run(public, chromedp.Text(chromedp.CSS("#complaint-matches")))
	if !strings.Contains(matches, "长沙麓谷智算科技有限公司") || !strings.Contains(matches, complaintTarget) || strings.Contains(matches, "株洲") {
		t.Fatalf("the registry's match: got %q, want 长沙麓谷智算科技有限公司 %s only", matches, complaintTarget)
	}
	err = chromedp.Do(public,
		chromedp.SetValue(chromedp.CSS("#complaint-category"), "resale"),
		chromedp.SendKeys(chromedp.CSS("#complaint-text"), text),
		chromedp.SendKeys(chromedp.CSS("#complaint-contact"), "李先生 13900001111"),
		chromedp.Click(chromedp.CSS("#complaint-submit")),
		chromedp.WaitVisible(chromedp.CSS("#complaint-receipt")),
	)
	if err != nil {
		body, _ := chromedp.Run(public, chromedp.Text(chromedp.CSS("body")))
		t.Fatalf("%v; the page:\n%s", err, body)
	}
	receipt, _ := chromedp.Run(public, chromedp.Text(chromedp.CSS("#complaint-receipt")))
	secret, _ := chromedp.Run(public, chromedp.Text(chromedp.CSS("#complaint-secret")))
	if !strings.HasPrefix(receipt, "TS") || len(secret) < 20 {
		t.Fatalf("got receipt %q and secret %q", receipt, secret)
	}
	stage := func(want string) {
		t.Helper()
		err := chromedp.Do(public,
			chromedp.Navigate(base+"/complaints/status"),
			chromedp.WaitVisible(chromedp.CSS("#status-receipt")),
			chromedp.SendKeys(chromedp.CSS("#status-receipt"), receipt),
			chromedp.SendKeys(chromedp.CSS("#status-secret"), secret),
			chromedp.Click(chromedp.CSS("#status-submit")),
			chromedp.WaitVisible(chromedp.CSS("#complaint-stage")),
		)
		if err != nil {
			t.Fatal(err)
		}
		got, _ := chromedp.Run(public, chromedp.Text(chromedp.CSS("#complaint-stage")))
		page, _ := chromedp.Run(public, chromedp.Text(chromedp.CSS("main")))
		if !strings.Contains(got, want) {
			t.Errorf("status page: got stage %q, want %q", got, want)
		}
		if strings.Contains(page, "转租") || strings.Contains(page, "麓谷") || strings.Contains(page, "刘敏") {
			t.Errorf("the status page shows the content or who handles it:\n%s", page)
		}
	}
	stage("已受理")

	cases, _, err := m.DB.Alerts(context.Background(), voucherwatch.AlertFilter{Detector: voucherwatch.DetectorComplaint})
	if err != nil || len(cases) != 1 {
		t.Fatalf("complaint cases: got %v, %v; want one", cases, err)
	}
	cs := cases[0]
	if cs.City != "430100" || cs.Subjects.ApplicantUSCC != complaintTarget || cs.Kind != "resale" {
		t.Fatalf("the case: got %+v, want 长沙, %s, resale", cs, complaintTarget)
	}

	// Another city's reviewer sees nothing of it, in the inbox or by its address.
	zz := newChromium(t)
	signIn(t, zz, base, "zhouqiang", "株洲-审核-2026")
	inbox, _ := chromedp.Run(zz, chromedp.Text(chromedp.CSS("#inbox")))
	if strings.Contains(inbox, cs.Title) || strings.Contains(inbox, "投诉举报") {
		t.Errorf("the 株洲 reviewer's inbox shows the 长沙 complaint:\n%s", inbox)
	}
	if err := chromedp.Do(zz, chromedp.Navigate(base+"/alerts/"+cs.ID), chromedp.WaitVisible(chromedp.CSS("main"))); err != nil {
		t.Fatal(err)
	}
	if body, _ := chromedp.Run(zz, chromedp.Text(chromedp.CSS("main"))); strings.Contains(body, "转租") {
		t.Errorf("the 株洲 reviewer opens the 长沙 complaint:\n%s", body)
	}

	// The 长沙 reviewer finds it in the inbox, with the enterprise's open alerts beside it.
	cs1 := newChromium(t)
	signIn(t, cs1, base, "liumin", "长沙-审核-2026")
	inbox, _ = chromedp.Run(cs1, chromedp.Text(chromedp.CSS("#inbox")))
	if !strings.Contains(inbox, cs.Title) {
		t.Fatalf("the 长沙 reviewer's inbox lacks the complaint %q:\n%s", cs.Title, inbox)
	}
	deadline := voucherwatch.Day(time.Now()).AddDate(0, 0, 15).Format(time.DateOnly)
	err = chromedp.Do(cs1,
		chromedp.Click(chromedp.CSS(`a.alert-link[href="/alerts/`+cs.ID+`"]`)),
		chromedp.WaitVisible(chromedp.CSS("#complaint")),
	)
	if err != nil {
		t.Fatal(err)
	}
	complaint, _ := chromedp.Run(cs1, chromedp.Text(chromedp.CSS("#complaint")))
	linked, _ := chromedp.Run(cs1, chromedp.Text(chromedp.CSS("#linked")))
	if !strings.Contains(complaint, "<b>请核查</b>") || !strings.Contains(complaint, "转租转售") || strings.Contains(complaint, "13900001111") || strings.Contains(complaint, "李先生") {
		t.Errorf("the case page's complaint: got %q, want the text as typed (not HTML), the category, no contact", complaint)
	}
	if fx := uiFixtureAlerts(); !strings.Contains(linked, fx[0].Title) || !strings.Contains(linked, fx[1].Title) || strings.Contains(linked, fx[2].Title) {
		t.Errorf("the case page's open alerts of the enterprise: got %q, want the two 长沙 alerts on it", linked)
	}
	moveByForm(t, cs1, "reviewing", "开始核查该企业的用量记录", "")
	moveByForm(t, cs1, "explanation_requested", "请企业说明该算力资源的实际使用人", deadline)
	stage("核查中")

	// The alert's page links back to the complaint.
	if err := chromedp.Do(cs1, chromedp.Navigate(base+"/alerts/"+uiFixtureAlerts()[0].ID), chromedp.WaitVisible(chromedp.CSS("#linked"))); err != nil {
		t.Fatal(err)
	}
	if back, _ := chromedp.Run(cs1, chromedp.Text(chromedp.CSS("#linked"))); !strings.Contains(back, cs.Title) {
		t.Errorf("the alert page's complaints: got %q, want %q", back, cs.Title)
	}

	// The province confirms.
	prov := newChromium(t)
	signIn(t, prov, base, "wangfang", "省级-审核-2026")
	err = chromedp.Do(prov, chromedp.Navigate(base+"/alerts/"+cs.ID), chromedp.WaitVisible(chromedp.CSS(`summary.action-confirmed`)))
	if err != nil {
		t.Fatal(err)
	}
	moveByForm(t, prov, "confirmed", "经核查，反映的转租问题属实", "")
	if st, _ := chromedp.Run(prov, chromedp.Text(chromedp.CSS("#alert-status"))); st != "已确认违规" {
		t.Errorf("after the province's decision: status %q, want 已确认违规", st)
	}
	stage("属实")
}

func voucherwatchFilterComplaints() voucherwatch.AlertFilter {
	return voucherwatch.AlertFilter{Detector: voucherwatch.DetectorComplaint}
}
