package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/xuri/excelize/v2"

	"github.com/voucherwatch/voucherwatch"
	"github.com/voucherwatch/voucherwatch/detectors/detectortest"
	"github.com/voucherwatch/voucherwatch/store/storetest"
	"github.com/voucherwatch/voucherwatch/synth"
)

// roundBudget is the round's budget: an odd amount, far below what the province's claims
// are assessed at, so that the last funded line is cut to the fen.
const roundBudget = "1234567.89"

// roundProvince loads the demo province (its seed, at 120 enterprises to keep the test
// short), runs the detectors over it, and confirms one alert on a claim: its claim must be
// excluded. It returns the confirmed alert and the province's people (names, phones, e-mails,
// masked identity numbers), none of which a public page may show.
func roundProvince(t *testing.T, m *Main) (confirmed voucherwatch.Alert, people []string) {
	t.Helper()
	ctx := context.Background()
	p := synth.Generate(synth.Config{Seed: synth.DemoSeed, Enterprises: 120, DuplicateRate: 0.02, Plant: true})
	detectortest.Load(t, m.DB, p.Messages)
	m.Runner.RunAll(ctx, p.Config.End)
	alerts, _, err := m.DB.Alerts(ctx, voucherwatch.AlertFilter{Limit: 5000})
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range alerts {
		if a.Subjects.ClaimID != "" && a.Severity == voucherwatch.SeverityMedium {
			confirmed = a
			break
		}
	}
	if confirmed.ID == "" {
		t.Fatal("no medium alert on a claim to confirm")
	}
	province := voucherwatch.User{ID: "u_p", Name: "省审核员", Role: voucherwatch.RoleProvinceReviewer}
	from, at := voucherwatch.StatusNew, time.Now().Add(-time.Hour)
	for i, to := range []voucherwatch.Status{voucherwatch.StatusReviewing, voucherwatch.StatusExplanationRequested, voucherwatch.StatusConfirmed} {
		e := voucherwatch.NewTransitionEvent(province, confirmed.ID, from, voucherwatch.Transition{To: to, Comment: "核查", Deadline: at.AddDate(0, 0, 10)}, at.Add(time.Duration(i)*time.Minute))
		if res, err := m.DB.AppendEvents(ctx, []voucherwatch.Event{e}); err != nil || res[0].Err != nil {
			t.Fatalf("%s → %s: %v %v", from, to, err, res)
		}
		from = to
	}
	ents, err := m.DB.LatestEntities(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ents {
		for _, ps := range append(slices.Clone(e.Contacts), ptrPerson(e.LegalRep)...) {
			for _, v := range []string{ps.Name, ps.Phone, ps.Email, ps.Masked} {
				if len([]rune(v)) >= 2 {
					people = append(people, v)
				}
			}
		}
	}
	if len(people) < 20 {
		t.Fatalf("the province names %d people; want its legal representatives and contacts", len(people))
	}
	return confirmed, people
}

func ptrPerson(p *voucherwatch.Person) []voucherwatch.Person {
	if p == nil {
		return nil
	}
	return []voucherwatch.Person{*p}
}

// roundLine is a line as the API answers it.
type roundLine struct {
	ClaimID, ApplicantUSCC, ApplicantName, City string
	Assessed, Allocated, State, Reason          string
	Rank                                        int
	Score                                       float64
}

func (l *roundLine) UnmarshalJSON(b []byte) error {
	var v struct {
		ClaimID       string  `json:"claim_id"`
		ApplicantUSCC string  `json:"applicant_uscc"`
		ApplicantName string  `json:"applicant_name"`
		City          string  `json:"city"`
		Assessed      string  `json:"assessed"`
		Allocated     string  `json:"allocated"`
		State         string  `json:"state"`
		Reason        string  `json:"reason"`
		Rank          int     `json:"rank"`
		Score         float64 `json:"score"`
	}
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	*l = roundLine{v.ClaimID, v.ApplicantUSCC, v.ApplicantName, v.City, v.Assessed, v.Allocated, v.State, v.Reason, v.Rank, v.Score}
	return nil
}

type allocation struct {
	InputsDigest string      `json:"inputs_digest"`
	Total        string      `json:"total"`
	Lines        []roundLine `json:"lines"`
	Version      int         `json:"version"`
	Moves        []struct {
		ClaimID string `json:"claim_id"`
	} `json:"moves"`
}

func fen(t *testing.T, s string) voucherwatch.Money {
	t.Helper()
	m, ok := voucherwatch.ParseMoney(s)
	if !ok {
		t.Fatalf("amount %q does not parse", s)
	}
	return m
}

// checkAllocation checks a list against the budget: the allocated lines sum to exactly the
// budget, ranks run 1..n, only the last funded line is short, none above its assessment.
func checkAllocation(t *testing.T, a allocation, mode string) {
	t.Helper()
	var total, payable voucherwatch.Money
	ranks := 0
	for _, l := range a.Lines {
		total += fen(t, l.Allocated)
		if fen(t, l.Allocated) > fen(t, l.Assessed) {
			t.Errorf("%s: allocated %s above assessed %s", l.ClaimID, l.Allocated, l.Assessed)
		}
		if l.Rank > 0 {
			ranks++
			payable += fen(t, l.Assessed)
			if l.Rank != ranks {
				t.Errorf("%s: rank %d, want %d", l.ClaimID, l.Rank, ranks)
			}
		}
		if (l.State == "held" || l.State == "excluded") && (l.Reason == "" || l.Rank != 0 || l.Allocated != "0.00") {
			t.Errorf("%s: %s with rank %d, %s and reason %q", l.ClaimID, l.State, l.Rank, l.Allocated, l.Reason)
		}
	}
	if payable <= fen(t, roundBudget) {
		t.Fatalf("the payable lines ask %s, not more than the budget %s: the test would prove nothing", payable, roundBudget)
	}
	if total != fen(t, roundBudget) || a.Total != roundBudget {
		t.Errorf("%s: allocated %s (total %s), want exactly the budget %s", mode, total, a.Total, roundBudget)
	}
}

// TestRoundOnTheDemoProvince runs a round over the demo province through the API: the list
// allocates exactly the budget to the fen, last line partly or pro rata; the claim with a
// confirmed violation is excluded and those with open high alerts held, each with its reason;
// freezing again on the same inputs gives the same list and digest; the public notice shows
// enterprise, city and amount without sign-in and nothing else (no score, no reason, no person);
// an objection filed there is a case in the line's city. City reviewers see their city's
// lines and may not freeze. Then, in Chromium, the province does it through the pages.
func TestRoundOnTheDemoProvince(t *testing.T) {
	if os.Getenv("VW_TEST_CLICKHOUSE") == "" {
		t.Skip("VW_TEST_CLICKHOUSE is not set: the round test needs the real ClickHouse (make test)")
	}
	c := testConfig(t, storetest.Database(t))
	c.RegisterSchedule, c.SpotCheckSchedule = "", ""
	m := startMain(t, c)
	m.Server.AddToken(cityToken, voucherwatch.User{ID: "u_city", Name: "长沙审核员", Role: voucherwatch.RoleCityReviewer, City: "430100"})
	confirmed, people := roundProvince(t, m)

	if got, raw := apiAs(t, m, cityToken, "POST", "/api/v1/rounds", map[string]any{"year": 2026, "budget": roundBudget}); got != http.StatusForbidden {
		t.Errorf("a city reviewer opens a round: got %d %s, want 403", got, raw)
	}
	var opened struct{ ID string }
	if got := api(t, m, "POST", "/api/v1/rounds", map[string]any{"year": 2026, "budget": roundBudget}, &opened); got != http.StatusCreated || opened.ID == "" {
		t.Fatalf("open a round: got %d %+v", got, opened)
	}
	base := "/api/v1/rounds/" + opened.ID

	// The list before any score: the computed factors rank it.
	var first allocation
	if got := api(t, m, "POST", base+"/allocate", map[string]any{"dry_run": true}, &first); got != http.StatusOK {
		t.Fatalf("allocate: got %d", got)
	}
	checkAllocation(t, first, "last_partial")
	byClaim := map[string]roundLine{}
	states := map[string]int{}
	for _, l := range first.Lines {
		byClaim[l.ClaimID] = l
		states[l.State]++
	}
	t.Logf("%d lines: %v", len(first.Lines), states)
	if l := byClaim[confirmed.Subjects.ClaimID]; l.State != "excluded" || !strings.Contains(l.Reason, "已确认的违规") || !strings.Contains(l.Reason, confirmed.ID) {
		t.Errorf("the claim with the confirmed alert: got %s %q, want excluded naming %s", l.State, l.Reason, confirmed.ID)
	}
	if states["held"] == 0 || states["allocated"] == 0 || states["unfunded"] == 0 {
		t.Errorf("states: got %v, want held, allocated and unfunded lines", states)
	}
	for _, l := range first.Lines {
		if l.State == "held" && !strings.Contains(l.Reason, "高风险预警") {
			t.Errorf("%s held: reason %q", l.ClaimID, l.Reason)
		}
	}

	// Expert scores: the last funded line scored top on both criteria moves to the front.
	var ranked []roundLine
	for _, l := range first.Lines {
		if l.Rank > 0 {
			ranked = append(ranked, l)
		}
	}
	last := ranked[len(ranked)-1]
	var csv strings.Builder
	csv.WriteString("claim_id,criterion,score,comment\n")
	for i, l := range ranked {
		score := 40 + i%30
		if l.ClaimID == last.ClaimID {
			score = 100
		}
		fmt.Fprintf(&csv, "%s,innovation,%d,创新性一般\n%s,benefit,%d,\n", l.ClaimID, score, l.ClaimID, score)
	}
	if got, raw := apiCSV(t, m, testToken, base+"/scores", "claim_id,criterion,score\nX,innovation,120\n"); got != http.StatusBadRequest {
		t.Errorf("a score of 120: got %d %s, want 400", got, raw)
	}
	if got, raw := apiCSV(t, m, cityToken, base+"/scores", csv.String()); got != http.StatusForbidden {
		t.Errorf("a city reviewer imports scores: got %d %s, want 403", got, raw)
	}
	if got, raw := apiCSV(t, m, testToken, base+"/scores", csv.String()); got != http.StatusOK {
		t.Fatalf("import scores: got %d %s", got, raw)
	}
	var scored allocation
	if got := api(t, m, "POST", base+"/allocate", map[string]any{"weights": map[string]float64{"innovation": 10, "benefit": 5, "real_use": 1, "domestic_chip": 0.5, "sme": 0.5}, "mode": "last_partial"}, &scored); got != http.StatusOK {
		t.Fatalf("allocate with weights: got %d", got)
	}
	checkAllocation(t, scored, "scored")
	if scored.InputsDigest == first.InputsDigest {
		t.Error("scores and weights kept the inputs digest")
	}
	for _, l := range scored.Lines {
		if l.ClaimID == last.ClaimID && (l.Rank > 3 || l.State != "allocated") {
			t.Errorf("%s scored 100: got rank %d %s, want among the first three", l.ClaimID, l.Rank, l.State)
		}
	}
	// What-if: pro rata spends exactly the budget too, and saves nothing.
	var what allocation
	if got := api(t, m, "POST", base+"/allocate", map[string]any{"mode": "pro_rata", "dry_run": true}, &what); got != http.StatusOK {
		t.Fatalf("what-if: got %d", got)
	}
	checkAllocation(t, what, "pro_rata")
	if len(what.Moves) == 0 {
		t.Error("pro rata moved no line against the saved settings")
	}

	// Freeze twice on the same inputs: the same list and digest.
	var v1, v2 allocation
	if got := api(t, m, "POST", base+"/freeze", nil, &v1); got != http.StatusOK || v1.Version != 1 {
		t.Fatalf("freeze: got %d version %d", got, v1.Version)
	}
	if got, raw := apiAs(t, m, cityToken, "POST", base+"/freeze", nil); got != http.StatusForbidden {
		t.Errorf("a city reviewer freezes: got %d %s, want 403", got, raw)
	}
	if got := api(t, m, "POST", base+"/freeze", nil, &v2); got != http.StatusOK || v2.Version != 2 {
		t.Fatalf("freeze again: got %d version %d", got, v2.Version)
	}
	if v1.InputsDigest != scored.InputsDigest || v2.InputsDigest != v1.InputsDigest || !slices.Equal(v1.Lines, v2.Lines) {
		t.Errorf("freezing the same inputs: digests %s, %s (allocate said %s); lines equal %v", v1.InputsDigest, v2.InputsDigest, scored.InputsDigest, slices.Equal(v1.Lines, v2.Lines))
	}
	checkAllocation(t, v2, "frozen")

	// A city reviewer sees and comments on its city's lines only.
	var cityView struct {
		Lines []roundLine `json:"lines"`
	}
	code, raw := apiAs(t, m, cityToken, "GET", base, nil)
	if err := json.Unmarshal(raw, &cityView); code != http.StatusOK || err != nil || len(cityView.Lines) == 0 {
		t.Fatalf("the city reviewer's view: got %d %v", code, err)
	}
	var other roundLine
	for _, l := range cityView.Lines {
		if l.City != "430100" {
			t.Errorf("the 长沙 reviewer sees %s of %s", l.ClaimID, l.City)
		}
	}
	for _, l := range v2.Lines {
		if l.City != "430100" {
			other = l
		}
	}
	if got, raw := apiAs(t, m, cityToken, "POST", base+"/comments", map[string]any{"claim_id": other.ClaimID, "text": "意见"}); got != http.StatusNotFound {
		t.Errorf("comment on another city's line: got %d %s, want 404", got, raw)
	}
	if got, raw := apiAs(t, m, cityToken, "POST", base+"/comments", map[string]any{"claim_id": cityView.Lines[0].ClaimID, "text": "经核实，申报材料齐全。"}); got != http.StatusCreated {
		t.Errorf("comment on its city's line: got %d %s, want 201", got, raw)
	}

	// The list for the party group meeting.
	code, raw = apiAs(t, m, testToken, "GET", base+"/list.xlsx", nil)
	if code != http.StatusOK {
		t.Fatalf("list.xlsx: got %d", code)
	}
	f, err := excelize.OpenReader(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	rows, _ := f.GetRows(f.GetSheetList()[0])
	if len(rows) != len(v2.Lines)+2 || rows[len(rows)-1][7] != roundBudget {
		t.Errorf("list.xlsx: got %d rows, total %v; want %d lines, the header and the total %s", len(rows), rows[len(rows)-1], len(v2.Lines), roundBudget)
	}

	// Not public before publishing; then to anyone, without sign-in.
	if got, _ := apiAs(t, m, "", "GET", "/public/rounds/"+opened.ID+".json", nil); got != http.StatusNotFound {
		t.Errorf("the notice before publishing: got %d, want 404", got)
	}
	if got := api(t, m, "POST", base+"/publish", nil, nil); got != http.StatusOK {
		t.Fatalf("publish: got %d", got)
	}
	code, pubJSON := apiAs(t, m, "", "GET", "/public/rounds/"+opened.ID+".json", nil)
	code2, pubHTML := apiAs(t, m, "", "GET", "/public/rounds/"+opened.ID, nil)
	if code != http.StatusOK || code2 != http.StatusOK {
		t.Fatalf("public notice: got %d and %d", code, code2)
	}
	var pub struct {
		Total string `json:"total"`
		Lines []struct {
			ClaimID    string `json:"claim_id"`
			Enterprise string `json:"enterprise"`
			City       string `json:"city"`
			Amount     string `json:"amount"`
		} `json:"lines"`
	}
	if err := json.Unmarshal(pubJSON, &pub); err != nil {
		t.Fatal(err)
	}
	allocated := 0
	for _, l := range v2.Lines {
		if l.State == "allocated" {
			allocated++
			if !strings.Contains(string(pubHTML), l.ApplicantName) || !strings.Contains(string(pubHTML), l.Allocated) {
				t.Errorf("the notice page lacks %s %s", l.ApplicantName, l.Allocated)
			}
		}
	}
	if len(pub.Lines) != allocated || pub.Total != roundBudget {
		t.Errorf("public lines: got %d, total %s; want the %d allocated, %s", len(pub.Lines), pub.Total, allocated, roundBudget)
	}
	for _, body := range [][]byte{pubJSON, pubHTML} {
		s := string(body)
		for _, bad := range []string{"score", "reason", "applicant_uscc", "已确认的违规", "高风险预警", confirmed.Title, "创新性"} {
			if strings.Contains(s, bad) {
				t.Errorf("the public notice shows %q", bad)
			}
		}
		for _, p := range people {
			if strings.Contains(s, p) {
				t.Errorf("the public notice shows a person's %q", p)
			}
		}
	}

	// An objection on the notice: a case in the line's city, linked to the line.
	target := pub.Lines[0]
	code, raw = apiAs(t, m, "", "POST", "/public/rounds/"+opened.ID+"/objections", map[string]any{"claim_id": target.ClaimID, "text": "该企业实际未使用算力，联系人 13912345678", "contact": "王女士 13700001111"})
	var filed struct{ ID string }
	if err := json.Unmarshal(raw, &filed); code != http.StatusCreated || err != nil {
		t.Fatalf("public objection: got %d %s", code, raw)
	}
	cs, err := m.DB.Alert(context.Background(), filed.ID)
	if err != nil {
		t.Fatal(err)
	}
	if cs.Detector != "objection" || cs.City != target.City || cs.Subjects.ClaimID != target.ClaimID || strings.Contains(cs.Evidence.String(), "13912345678") || strings.Contains(cs.Evidence.String(), "13700001111") {
		t.Errorf("the objection's case: got %+v, want detector objection in %s on %s, numbers masked, no contact", cs, target.City, target.ClaimID)
	}
	if got, raw := apiAs(t, m, "", "POST", "/public/rounds/"+opened.ID+"/objections", map[string]any{"claim_id": "SB-NONE", "text": "异议"}); got != http.StatusBadRequest {
		t.Errorf("an objection to no line: got %d %s, want 400", got, raw)
	}
	if got, raw := apiAs(t, m, testToken, "POST", base+"/finalise", nil); got != http.StatusConflict {
		t.Errorf("finalise during the notice period: got %d %s, want 409", got, raw)
	}
	var view struct {
		Events []struct{ Action string } `json:"events"`
	}
	api(t, m, "GET", base, nil, &view)
	var actions []string
	for _, e := range view.Events {
		actions = append(actions, e.Action)
	}
	if got := strings.Join(actions, ","); got != "open,scores,weights,freeze,freeze,comment,publish,objection" {
		t.Errorf("the round's log: got %s", got)
	}

	t.Run("browser", func(t *testing.T) { roundInBrowser(t, m, last.ClaimID) })
}

// apiCSV posts a CSV body with token.
func apiCSV(t *testing.T, m *Main, token, path, body string) (int, []byte) {
	t.Helper()
	req, _ := http.NewRequest("POST", "http://"+m.HTTPAddr+path, strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "text/csv")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var buf bytes.Buffer
	_, _ = buf.ReadFrom(resp.Body)
	return resp.StatusCode, buf.Bytes()
}

// roundInBrowser: the province opens a round on its page, imports the panel's scores, freezes
// and publishes; the notice shows the list to a visitor who is not signed in; an objection
// filed there is a case in the inbox of the line's city and not in another city's.
func roundInBrowser(t *testing.T, m *Main, scoredClaim string) {
	if _, err := os.Stat(chromiumPath); err != nil {
		t.Skipf("no Chromium at %s (apt-get install chromium; .ci/testtools.sh does)", chromiumPath)
	}
	base := "http://" + m.HTTPAddr
	createUser(t, base, map[string]any{"name": "王芳（省工信厅）", "role": "province_reviewer", "login": "wangfang", "password": "省级-审核-2026"})
	prov := newChromium(t)
	signIn(t, prov, base, "wangfang", "省级-审核-2026")
	err := chromedp.Do(prov,
		chromedp.Navigate(base+"/rounds"),
		chromedp.WaitVisible(chromedp.CSS("#round-open")),
		chromedp.SendKeys(chromedp.CSS("#round-year"), "2026"),
		chromedp.SendKeys(chromedp.CSS("#round-budget"), roundBudget),
		chromedp.Click(chromedp.CSS("#round-open-submit")),
		chromedp.WaitVisible(chromedp.CSS("#round-scores")),
		chromedp.SendKeys(chromedp.CSS("#round-scores-csv"), "claim_id,criterion,score,comment\n"+scoredClaim+",innovation,100,突出\n"),
		// The page before the import shows the round-opened .flash-ok: remove it, so that the
		// wait below sees the import's own.
		chromedp.Evaluate[chromedp.Void](`document.querySelectorAll(".flash-ok").forEach(e => e.remove())`),
		chromedp.Click(chromedp.CSS("#round-scores-submit")),
		chromedp.WaitVisible(chromedp.CSS(".flash-ok")),
	)
	if err != nil {
		t.Fatal(err)
	}
	if flash, _ := chromedp.Run(prov, chromedp.Text(chromedp.CSS("main"))); !strings.Contains(flash, "专家评分已导入") {
		t.Fatalf("importing the scores:\n%s", flash)
	}
	err = chromedp.Do(prov,
		chromedp.Click(chromedp.CSS("#round-freeze")),
		chromedp.WaitVisible(chromedp.CSS("#round-export")),
		chromedp.Click(chromedp.CSS("#round-publish")),
		chromedp.WaitVisible(chromedp.CSS("#round-public")),
	)
	if err != nil {
		body, _ := chromedp.Run(prov, chromedp.Text(chromedp.CSS("body")))
		t.Fatalf("%v; the page:\n%s", err, body)
	}
	state, _ := chromedp.Run(prov, chromedp.Text(chromedp.CSS("#round-state")))
	total, _ := chromedp.Run(prov, chromedp.Text(chromedp.CSS("#round-total")))
	if !strings.Contains(state, "公示中") || strings.TrimSpace(total) != roundBudget {
		t.Errorf("the round's page: state %q total %q, want 公示中 and %s", state, total, roundBudget)
	}
	publicURL, _ := chromedp.Run(prov, chromedp.Text(chromedp.CSS("#round-public")))

	// A visitor, not signed in.
	visitor := newChromium(t)
	err = chromedp.Do(visitor,
		chromedp.Navigate(base+strings.TrimSpace(publicURL)),
		chromedp.WaitVisible(chromedp.CSS("#public-round-lines")),
	)
	if err != nil {
		t.Fatal(err)
	}
	list, _ := chromedp.Run(visitor, chromedp.Text(chromedp.CSS("#public-round-lines")))
	if !strings.Contains(list, "SB2026-") || !strings.Contains(list, "市") {
		t.Errorf("the public list shows no line:\n%s", list)
	}
	var line struct{ City string }
	err = chromedp.Do(visitor,
		chromedp.SendKeys(chromedp.CSS("#objection-text"), "该企业申报的算力并未实际使用。"),
		chromedp.Click(chromedp.CSS("#objection-submit")),
		chromedp.WaitVisible(chromedp.CSS("#objection-id")),
	)
	if err != nil {
		body, _ := chromedp.Run(visitor, chromedp.Text(chromedp.CSS("body")))
		t.Fatalf("%v; the page:\n%s", err, body)
	}
	id, _ := chromedp.Run(visitor, chromedp.Text(chromedp.CSS("#objection-id")))
	cs, err := m.DB.Alert(context.Background(), strings.TrimSpace(id))
	if err != nil {
		t.Fatalf("the objection %q: %v", id, err)
	}
	line.City = cs.City
	if !strings.Contains(list, cs.Subjects.ClaimID) || cs.Detector != "objection" || cs.City == "" {
		t.Errorf("the case: got %+v", cs)
	}

	// The reviewer of the line's city finds it in the inbox; another city's does not.
	otherCity := "430200"
	if line.City == otherCity {
		otherCity = "430100"
	}
	createUser(t, base, map[string]any{"name": "市州审核员甲", "role": "city_reviewer", "city": line.City, "login": "cityone", "password": "市州-审核-2026甲"})
	own := newChromium(t)
	signIn(t, own, base, "cityone", "市州-审核-2026甲")
	if err := chromedp.Do(own, chromedp.Navigate(base+"/alerts?detector=objection"), chromedp.WaitVisible(chromedp.CSS("#inbox"))); err != nil {
		t.Fatal(err)
	}
	inbox, _ := chromedp.Run(own, chromedp.Text(chromedp.CSS("#inbox")))
	if !strings.Contains(inbox, cs.Title) {
		t.Errorf("the %s reviewer's inbox lacks the objection %q:\n%s", line.City, cs.Title, inbox)
	}
	// Another city's reviewer: not in its alert list (the inbox's query).
	m.Server.AddToken("test-other-city", voucherwatch.User{ID: "u_other", Name: "市州审核员乙", Role: voucherwatch.RoleCityReviewer, City: otherCity})
	if code, raw := apiAs(t, m, "test-other-city", "GET", "/api/v1/alerts?detector=objection", nil); code != http.StatusOK || strings.Contains(string(raw), cs.ID) {
		t.Errorf("another city's alerts: got %d, with the objection %v", code, strings.Contains(string(raw), cs.ID))
	}
}
