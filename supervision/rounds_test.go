package supervision

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/voucherwatch/voucherwatch"
	"github.com/voucherwatch/voucherwatch/store"
	"github.com/voucherwatch/voucherwatch/store/storetest"
	"github.com/voucherwatch/voucherwatch/supervision/workflow"
)

// roundClock is a clock a test moves.
type roundClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *roundClock) now() time.Time  { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *roundClock) set(t time.Time) { c.mu.Lock(); defer c.mu.Unlock(); c.t = t }

// twoCityClaims are three claims in 长沙 and 株洲 that together ask more than the budget.
func twoCityClaims(context.Context, int) ([]voucherwatch.RoundClaim, error) {
	use := 0.8
	return []voucherwatch.RoundClaim{
		{ClaimID: "SB2026-00001", ApplicantUSCC: "91430100MA4L000001", ApplicantName: "长沙甲公司", City: "430100", Assessed: 600_000_00, RealUse: &use},
		{ClaimID: "SB2026-00002", ApplicantUSCC: "91430200MA4L000002", ApplicantName: "株洲乙公司", City: "430200", Assessed: 500_000_00, RealUse: &use},
		{ClaimID: "SB2026-00003", ApplicantUSCC: "91430200MA4L000003", ApplicantName: "株洲丙公司", City: "430200", Assessed: 300_000_00},
	}, nil
}

// TestRoundNoticeAndFinalisation takes a round through its states over the real store with a
// clock: objections only during the notice period and only on the list's lines (a city
// reviewer only on its city's); no finalisation before the period's end, nor while an
// objection is open; after both, final, and nothing changes any more.
func TestRoundNoticeAndFinalisation(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	db, err := store.Open(ctx, storetest.Database(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	box, _ := voucherwatch.NewContactBox([]byte("test-complaint-key-of-32-bytes.."))
	// Thursday 3 December 2026: five working days end with Thursday the 10th.
	clock := &roundClock{t: time.Date(2026, 12, 3, 10, 0, 0, 0, voucherwatch.CST)}
	d := workflow.Rounds{Store: db, Claims: twoCityClaims, Box: box, Now: clock.now}
	province := voucherwatch.User{ID: "u_p", Role: voucherwatch.RoleProvinceReviewer}
	zhuzhou := voucherwatch.User{ID: "u_zz", Role: voucherwatch.RoleCityReviewer, City: "430200"}
	auditor := voucherwatch.User{ID: "u_a", Role: voucherwatch.RoleAuditor}
	code := func(err error) string {
		if err == nil {
			return "ok"
		}
		return voucherwatch.ErrorCode(err)
	}

	if _, err := d.Open(ctx, zhuzhou, voucherwatch.RoundRequest{Year: 2026, Budget: "1000000.00"}); code(err) != voucherwatch.EFORBIDDEN {
		t.Errorf("a city reviewer opens a round: got %v", err)
	}
	r, err := d.Open(ctx, province, voucherwatch.RoundRequest{Year: 2026, Budget: "1000000.00"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := d.Public(ctx, r.ID); code(err) != voucherwatch.ENOTFOUND {
		t.Errorf("the notice of an open round: got %v, want ENOTFOUND", err)
	}
	if _, err := d.Publish(ctx, province, r.ID); code(err) != voucherwatch.ECONFLICT {
		t.Errorf("publish before freezing: got %v, want ECONFLICT", err)
	}
	if _, err := d.Freeze(ctx, auditor, r.ID); code(err) != voucherwatch.EFORBIDDEN {
		t.Errorf("an auditor freezes: got %v", err)
	}
	v, err := d.Freeze(ctx, province, r.ID)
	if err != nil {
		t.Fatal(err)
	}
	if v.Total != 1_000_000_00 {
		t.Errorf("frozen total: got %s, want the budget", v.Total)
	}
	if _, err := d.FileObjection(ctx, voucherwatch.User{}, r.ID, workflow.ObjectionInput{ClaimID: "SB2026-00001", Text: "异议"}); code(err) != voucherwatch.ECONFLICT {
		t.Errorf("an objection before the notice: got %v, want ECONFLICT", err)
	}
	if _, err := d.Publish(ctx, province, r.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := d.Freeze(ctx, province, r.ID); code(err) != voucherwatch.ECONFLICT {
		t.Errorf("freeze a published list: got %v, want ECONFLICT", err)
	}
	if _, err := d.ImportScores(ctx, province, r.ID, []voucherwatch.RoundScore{{ClaimID: "SB2026-00001", Criterion: "x", Score: 1}}); code(err) != voucherwatch.ECONFLICT {
		t.Errorf("scores for a published list: got %v, want ECONFLICT", err)
	}

	// Objections: the public's on any line; a city reviewer's on its city's lines only.
	if _, err := d.FileObjection(ctx, zhuzhou, r.ID, workflow.ObjectionInput{ClaimID: "SB2026-00001", Text: "异议", Channel: "letter"}); code(err) != voucherwatch.EINVALID {
		t.Errorf("株洲 registers an objection on a 长沙 line: got %v, want EINVALID", err)
	}
	official, err := d.FileObjection(ctx, zhuzhou, r.ID, workflow.ObjectionInput{ClaimID: "SB2026-00002", Text: "来信反映该企业未实际使用", Channel: "letter"})
	if err != nil {
		t.Fatal(err)
	}
	public, err := d.FileObjection(ctx, voucherwatch.User{}, r.ID, workflow.ObjectionInput{ClaimID: "SB2026-00001", Text: "该企业未实际使用，电话 13912345678", Contact: "王女士 13700001111"})
	if err != nil {
		t.Fatal(err)
	}
	if public.City != "430100" || public.Channel != voucherwatch.ChannelPublic || strings.Contains(public.Text, "13912345678") {
		t.Errorf("the public objection: got %+v, want 长沙, public, the number masked", public)
	}
	if _, err := d.FileObjection(ctx, voucherwatch.User{}, r.ID, workflow.ObjectionInput{ClaimID: "SB2026-09999", Text: "异议"}); fieldOf(err) != "claim_id" {
		t.Errorf("an objection to no line: got %v, want EINVALID on claim_id", err)
	}

	// Not before the period's end; then not while an objection is open.
	clock.set(time.Date(2026, 12, 10, 23, 59, 0, 0, voucherwatch.CST))
	if _, err := d.Finalise(ctx, province, r.ID); code(err) != voucherwatch.ECONFLICT || !strings.Contains(err.Error(), "notice period") {
		t.Errorf("finalise on the last day of the notice: got %v, want ECONFLICT (notice period)", err)
	}
	clock.set(time.Date(2026, 12, 11, 9, 0, 0, 0, voucherwatch.CST))
	if _, err := d.FileObjection(ctx, voucherwatch.User{}, r.ID, workflow.ObjectionInput{ClaimID: "SB2026-00001", Text: "异议"}); code(err) != voucherwatch.ECONFLICT {
		t.Errorf("an objection after the notice: got %v, want ECONFLICT", err)
	}
	if _, err := d.Finalise(ctx, province, r.ID); code(err) != voucherwatch.ECONFLICT || !strings.Contains(err.Error(), "2 objections") {
		t.Errorf("finalise with two open objections: got %v, want ECONFLICT", err)
	}
	at := clock.now()
	for _, id := range []string{official.ID, public.ID} {
		for i, step := range [][2]voucherwatch.Status{{voucherwatch.StatusNew, voucherwatch.StatusReviewing}, {voucherwatch.StatusReviewing, voucherwatch.StatusDismissed}} {
			e := voucherwatch.NewTransitionEvent(province, id, step[0], voucherwatch.Transition{To: step[1], Comment: "经核查，异议不成立"}, at.Add(time.Duration(i)*time.Second))
			if res, err := db.AppendEvents(ctx, []voucherwatch.Event{e}); err != nil || res[0].Err != nil {
				t.Fatalf("%s: %v %v", id, err, res)
			}
		}
		if id == official.ID {
			if _, err := d.Finalise(ctx, province, r.ID); code(err) != voucherwatch.ECONFLICT || !strings.Contains(err.Error(), "1 objections") {
				t.Errorf("finalise with one objection open: got %v, want ECONFLICT", err)
			}
		}
	}
	if _, err := d.Finalise(ctx, zhuzhou, r.ID); code(err) != voucherwatch.EFORBIDDEN {
		t.Errorf("a city reviewer finalises: got %v", err)
	}
	final, err := d.Finalise(ctx, province, r.ID)
	if err != nil || final.State != voucherwatch.RoundFinal {
		t.Fatalf("finalise: got %+v %v", final, err)
	}
	// A recovery ordered after the list was final is shown against the line it came from.
	s := voucherwatch.Subjects{ApplicantUSCC: "91430200MA4L000003", ClaimID: "SB2026-00003", InvoiceNo: "1"}
	later := voucherwatch.Alert{ID: voucherwatch.AlertID("invoice_mismatch", s), Detector: "invoice_mismatch", Kind: "invoice_not_settled",
		Severity: voucherwatch.SeverityHigh, Subjects: s, City: "430200", Title: "发票在结算记录中不存在", Reason: "核查"}
	if _, err := db.UpsertAlerts(ctx, []voucherwatch.Alert{later}, at); err != nil {
		t.Fatal(err)
	}
	from := voucherwatch.StatusNew
	for i, tr := range []voucherwatch.Transition{{To: voucherwatch.StatusReviewing}, {To: voucherwatch.StatusExplanationRequested, Deadline: at.AddDate(0, 0, 10)},
		{To: voucherwatch.StatusConfirmed}, {To: voucherwatch.StatusRecoveryOrdered, Amount: 123456}} {
		tr.Comment = "核查"
		e := voucherwatch.NewTransitionEvent(province, later.ID, from, tr, at.Add(time.Duration(10+i)*time.Second))
		if res, err := db.AppendEvents(ctx, []voucherwatch.Event{e}); err != nil || res[0].Err != nil {
			t.Fatalf("%s → %s: %v %v", from, tr.To, err, res)
		}
		from = tr.To
	}
	view, err := d.View(ctx, zhuzhou, r.ID)
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range view.Lines {
		if want := map[bool]string{true: "1234.56", false: "0.00"}[l.ClaimID == "SB2026-00003"]; l.Recovery != want || l.State == voucherwatch.LineExcluded {
			t.Errorf("%s: got %s, recovery %s; want the frozen state, recovery %s", l.ClaimID, l.State, l.Recovery, want)
		}
	}
	if len(view.Lines) != 2 || len(view.Objections) != 1 || view.Objections[0].ID != official.ID {
		t.Errorf("株洲's view: got %d lines and objections %+v, want its two lines and its objection", len(view.Lines), view.Objections)
	}
	var actions []string
	for _, e := range view.Events {
		actions = append(actions, e.Action)
	}
	// 株洲 sees the round's steps and its own city's objection, not 长沙's.
	if got := strings.Join(actions, ","); got != "open,freeze,publish,objection,finalise" {
		t.Errorf("株洲's log: got %s", got)
	}
}
