package store

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/voucherwatch/voucherwatch"
)

func testAlert(kind, city string, sev voucherwatch.Severity, invoice string) voucherwatch.Alert {
	s := voucherwatch.Subjects{ApplicantUSCC: "91430100MA4L0XXXXX", InvoiceNo: invoice}
	return voucherwatch.Alert{
		ID: voucherwatch.AlertID("duplicate_claim", s), Detector: "duplicate_claim", Kind: kind,
		Severity: sev, Score: 0.9, Subjects: s, City: city, PolicyClause: "五.1 / M1b",
		Title: "同一发票被重复申报", Reason: "原因", Evidence: voucherwatch.EvidenceOf(map[string]any{"claims": []any{"A", "B"}}),
	}
}

func TestUpsertAlertsNewUnchangedUpdated(t *testing.T) {
	db := newTestDB(t)
	ctx := context.Background()
	t0 := time.Date(2026, 11, 1, 9, 0, 0, 0, voucherwatch.CST)
	a := testAlert("invoice_in_two_claims", "430100", voucherwatch.SeverityHigh, "1")
	b := testAlert("invoice_in_two_claims", "430200", voucherwatch.SeverityMedium, "2")

	f := func(at time.Time, alerts []voucherwatch.Alert, want voucherwatch.UpsertResult) {
		t.Helper()
		got, err := db.UpsertAlerts(ctx, alerts, at)
		if err != nil {
			t.Fatal(err)
		}
		if got != want {
			t.Errorf("got %+v, want %+v", got, want)
		}
	}
	f(t0, []voucherwatch.Alert{a, b}, voucherwatch.UpsertResult{New: 2})
	f(t0.Add(time.Hour), []voucherwatch.Alert{a, b}, voucherwatch.UpsertResult{Unchanged: 2})
	b.Evidence = voucherwatch.EvidenceOf(map[string]any{"claims": []any{"A", "B", "C"}})
	f(t0.Add(2*time.Hour), []voucherwatch.Alert{a, b}, voucherwatch.UpsertResult{Updated: 1, Unchanged: 1})

	got, err := db.Alert(ctx, b.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !got.CreatedAt.Equal(t0) || !got.UpdatedAt.Equal(t0.Add(2*time.Hour)) || got.Status != voucherwatch.StatusNew {
		t.Errorf("got created %v updated %v status %s, want %v, %v, new", got.CreatedAt, got.UpdatedAt, got.Status, t0, t0.Add(2*time.Hour))
	}
	var ev struct{ Claims []string }
	if err := got.Evidence.Decode(&ev); err != nil || len(ev.Claims) != 3 {
		t.Errorf("got evidence %v, want the updated three claims", got.Evidence)
	}
	if _, err := db.Alert(ctx, "al_missing"); voucherwatch.ErrorCode(err) != voucherwatch.ENOTFOUND {
		t.Errorf("got %v, want ENOTFOUND", err)
	}
}

func TestAlertsFiltersAndCursor(t *testing.T) {
	db := newTestDB(t)
	ctx := context.Background()
	t0 := time.Date(2026, 11, 1, 9, 0, 0, 0, voucherwatch.CST)
	var all []voucherwatch.Alert
	for i := 0; i < 7; i++ {
		city := "430100"
		if i%2 == 1 {
			city = "430200"
		}
		a := testAlert("invoice_in_two_claims", city, voucherwatch.SeverityHigh, string(rune('a'+i)))
		if _, err := db.UpsertAlerts(ctx, []voucherwatch.Alert{a}, t0.Add(time.Duration(i)*time.Minute)); err != nil {
			t.Fatal(err)
		}
		all = append(all, a)
	}
	var seen []string
	cursor := ""
	for pages := 0; ; pages++ {
		page, next, err := db.Alerts(ctx, voucherwatch.AlertFilter{Limit: 3, Cursor: cursor})
		if err != nil {
			t.Fatal(err)
		}
		for _, a := range page {
			seen = append(seen, a.ID)
		}
		if next == "" {
			break
		}
		cursor = next
		if pages > 5 {
			t.Fatal("cursor never ends")
		}
	}
	if len(seen) != 7 || seen[0] != all[6].ID || seen[6] != all[0].ID {
		t.Errorf("got %d alerts in pages (first %s), want 7 newest first (first %s)", len(seen), seen[0], all[6].ID)
	}
	changsha, _, err := db.Alerts(ctx, voucherwatch.AlertFilter{City: "430100"})
	if err != nil {
		t.Fatal(err)
	}
	if len(changsha) != 4 {
		t.Errorf("got %d alerts for 430100, want 4", len(changsha))
	}
	for _, a := range changsha {
		if a.City != "430100" {
			t.Errorf("got city %s in the 430100 filter", a.City)
		}
	}
	if _, _, err := db.Alerts(ctx, voucherwatch.AlertFilter{Cursor: "!!"}); voucherwatch.ErrorCode(err) != voucherwatch.EINVALID {
		t.Errorf("bad cursor: got %v, want EINVALID", err)
	}
	// Well-formed but outside DateTime: the server would wrap it or the driver refuse it.
	for _, c := range []string{"99999999999|zzz", "-1|al_x", "4294967296|al_x"} {
		cur := base64.RawURLEncoding.EncodeToString([]byte(c))
		if _, _, err := db.Alerts(ctx, voucherwatch.AlertFilter{Cursor: cur}); voucherwatch.ErrorCode(err) != voucherwatch.EINVALID || errField(err) != "cursor" {
			t.Errorf("cursor %q: got %v, want EINVALID on cursor", c, err)
		}
	}
	// A since after 2106 would wrap to 1970 and select every alert.
	if _, _, err := db.Alerts(ctx, voucherwatch.AlertFilter{Since: time.Date(2200, 1, 1, 0, 0, 0, 0, time.UTC)}); voucherwatch.ErrorCode(err) != voucherwatch.EINVALID {
		t.Errorf("since 2200: got %v, want EINVALID", err)
	}
	if rs, _, _ := db.Alerts(ctx, voucherwatch.AlertFilter{Status: voucherwatch.StatusNew}); len(rs) != 7 {
		t.Errorf("status new: got %d, want 7", len(rs))
	}
	if rs, _, _ := db.Alerts(ctx, voucherwatch.AlertFilter{Status: voucherwatch.StatusConfirmed}); len(rs) != 0 {
		t.Errorf("status confirmed: got %d, want 0", len(rs))
	}
}

func TestCountAlerts(t *testing.T) {
	db := newTestDB(t)
	ctx := context.Background()
	t0 := time.Date(2026, 11, 1, 9, 0, 0, 0, voucherwatch.CST)
	csDuplicate := testAlert("invoice_in_two_claims", "430100", voucherwatch.SeverityHigh, "1")
	csDuplicate2 := testAlert("invoice_in_two_claims", "430100", voucherwatch.SeverityLow, "2")
	csPrice := testAlert("price_high", "430100", voucherwatch.SeverityMedium, "3")
	csPrice.Detector = voucherwatch.DetectorPrice
	zzDuplicate := testAlert("invoice_in_two_claims", "430200", voucherwatch.SeverityHigh, "4")
	if _, err := db.UpsertAlerts(ctx, []voucherwatch.Alert{csDuplicate, csDuplicate2, csPrice, zzDuplicate}, t0); err != nil {
		t.Fatal(err)
	}
	reviewer := voucherwatch.User{ID: "u_cs", Name: "长沙审核员", Role: voucherwatch.RoleCityReviewer, City: "430100"}
	e := voucherwatch.NewTransitionEvent(reviewer, csDuplicate.ID, voucherwatch.StatusNew,
		voucherwatch.Transition{To: voucherwatch.StatusReviewing, Comment: "开始审核"}, t0.Add(time.Hour))
	if res, err := db.AppendEvents(ctx, []voucherwatch.Event{e}); err != nil || res[0].Err != nil {
		t.Fatalf("append: %v %v", err, res)
	}

	f := func(flt voucherwatch.AlertFilter, total int, byStatus map[voucherwatch.Status]int, byDetector map[string]int) {
		t.Helper()
		got, err := db.CountAlerts(ctx, flt)
		if err != nil {
			t.Fatal(err)
		}
		if got.Total != total || !sameCounts(got.ByStatus, byStatus) || !sameCounts(got.ByDetector, byDetector) {
			t.Errorf("%+v: got %+v, want total %d by status %v by detector %v", flt, got, total, byStatus, byDetector)
		}
	}
	f(voucherwatch.AlertFilter{}, 4,
		map[voucherwatch.Status]int{voucherwatch.StatusNew: 3, voucherwatch.StatusReviewing: 1},
		map[string]int{"duplicate_claim": 3, voucherwatch.DetectorPrice: 1})
	f(voucherwatch.AlertFilter{City: "430100"}, 3,
		map[voucherwatch.Status]int{voucherwatch.StatusNew: 2, voucherwatch.StatusReviewing: 1},
		map[string]int{"duplicate_claim": 2, voucherwatch.DetectorPrice: 1})
	f(voucherwatch.AlertFilter{City: "430100", Status: voucherwatch.StatusReviewing}, 1,
		map[voucherwatch.Status]int{voucherwatch.StatusReviewing: 1},
		map[string]int{"duplicate_claim": 1})
	f(voucherwatch.AlertFilter{Severity: voucherwatch.SeverityHigh, Detector: "duplicate_claim"}, 2,
		map[voucherwatch.Status]int{voucherwatch.StatusNew: 1, voucherwatch.StatusReviewing: 1},
		map[string]int{"duplicate_claim": 2})
	f(voucherwatch.AlertFilter{City: "431300"}, 0, map[voucherwatch.Status]int{}, map[string]int{})
}

func sameCounts[K comparable](got, want map[K]int) bool {
	if len(got) != len(want) {
		return false
	}
	for k, n := range want {
		if got[k] != n {
			return false
		}
	}
	return true
}

// TestAlertsAssignedTo: a person's queue holds the alerts whose latest assignment names them;
// a reassigned alert leaves the first person's queue, and an alert never assigned is in none.
func TestAlertsAssignedTo(t *testing.T) {
	db := newTestDB(t)
	ctx := context.Background()
	var ids []string
	for i, name := range []string{"mine", "reassigned", "nobody's"} {
		a := testAlert("invoice_in_two_claims", "430100", voucherwatch.SeverityHigh, name)
		if _, err := db.UpsertAlerts(ctx, []voucherwatch.Alert{a}, workflowT0.Add(time.Duration(i)*time.Minute)); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, a.ID)
	}
	assign := func(id string, to voucherwatch.User, at time.Duration) voucherwatch.Event {
		e, err := voucherwatch.NewAssignmentEvent(provinceReviewer, id, voucherwatch.StatusNew, to, "", workflowT0.Add(at))
		if err != nil {
			t.Fatal(err)
		}
		return e
	}
	res, err := db.AppendEvents(ctx, []voucherwatch.Event{
		assign(ids[0], changshaReviewer, time.Hour),
		assign(ids[1], changshaReviewer, time.Hour),
		assign(ids[1], provinceReviewer, 2*time.Hour),
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range res {
		if r.Err != nil {
			t.Fatal(r.Err)
		}
	}
	for who, want := range map[string][]string{changshaReviewer.ID: {ids[0]}, provinceReviewer.ID: {ids[1]}, "u_nobody": nil} {
		got, _, err := db.Alerts(ctx, voucherwatch.AlertFilter{AssigneeID: who})
		if err != nil {
			t.Fatal(err)
		}
		var gotIDs []string
		for _, a := range got {
			gotIDs = append(gotIDs, a.ID)
		}
		if !slices.Equal(gotIDs, want) {
			t.Errorf("assigned to %s: got %v, want %v", who, gotIDs, want)
		}
	}
}

// errField is the field an error names, "" for none.
func errField(err error) string {
	var e *voucherwatch.Error
	if errors.As(err, &e) {
		return e.Field
	}
	return ""
}

// relatedTie is a related_party finding on one buyer–supplier pair, as the detector writes it.
func relatedTie(kind string, sev voucherwatch.Severity, supplier string, ev map[string]any) voucherwatch.Alert {
	s := voucherwatch.Subjects{ApplicantUSCC: "91430104MA4T8K2Q3X", SupplierUSCC: supplier}
	return voucherwatch.Alert{
		ID: voucherwatch.AlertID(voucherwatch.DetectorRelatedParty, s), Detector: voucherwatch.DetectorRelatedParty, Kind: kind,
		Severity: sev, Score: 0.6, Subjects: s, City: "430100", PolicyClause: "二 / D4",
		Title: "供需双方存在关联关系", Reason: "原因（二 / D4）", Evidence: voucherwatch.EvidenceOf(ev),
	}
}

const tieSupplier, otherSupplier = "91430100MA4L7H9R2B", "91430100MA4L7H9R3C"

// TestAlertKindChangeKeepsIDAndHistory: a weak tie is dismissed; a stronger tie on the same
// pair appears later. It is the same alert: kind, severity and evidence are updated, the
// history is kept, and the dismissal is reopened because the evidence changed.
func TestAlertKindChangeKeepsIDAndHistory(t *testing.T) {
	db := newTestDB(t)
	ctx := testContext(t)
	st := ReopeningAlerts{db}
	weak := relatedTie("shared_contact", voucherwatch.SeverityLow, tieSupplier, map[string]any{"ties": []any{"同一联系电话"}})
	if res, err := st.UpsertAlerts(ctx, []voucherwatch.Alert{weak}, workflowT0); err != nil || res.New != 1 {
		t.Fatalf("got %+v, %v, want one new alert", res, err)
	}
	appendOK(t, db,
		move(provinceReviewer, weak.ID, voucherwatch.StatusNew, voucherwatch.StatusReviewing, workflowT0.Add(time.Minute)),
		move(provinceReviewer, weak.ID, voucherwatch.StatusReviewing, voucherwatch.StatusDismissed, workflowT0.Add(2*time.Minute)),
	)

	strong := relatedTie("direct_stake", voucherwatch.SeverityHigh, tieSupplier, map[string]any{"ties": []any{"同一联系电话", "供给方持股 35%"}})
	if strong.ID != weak.ID {
		t.Fatalf("got id %s for the stronger tie, want the weak tie's %s", strong.ID, weak.ID)
	}
	res, err := st.UpsertAlerts(ctx, []voucherwatch.Alert{strong}, workflowT0.Add(time.Hour))
	if err != nil || res != (voucherwatch.UpsertResult{Updated: 1}) {
		t.Fatalf("got %+v, %v, want the alert updated", res, err)
	}
	a, err := db.Alert(ctx, weak.ID)
	if err != nil {
		t.Fatal(err)
	}
	if a.Kind != "direct_stake" || a.Severity != voucherwatch.SeverityHigh || !a.CreatedAt.Equal(workflowT0) || a.Status != voucherwatch.StatusReviewing {
		t.Errorf("got kind %s severity %s created %v status %s, want direct_stake, high, %v, reviewing (reopened)", a.Kind, a.Severity, a.CreatedAt, a.Status, workflowT0)
	}
	h, err := db.History(ctx, weak.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(h) != 3 || h[1].To != voucherwatch.StatusDismissed || h[2].ActorID != voucherwatch.SystemUser.ID {
		t.Errorf("got history %+v, want the review, the dismissal and the engine's reopening", h)
	}
	all, _, err := db.Alerts(ctx, voucherwatch.AlertFilter{Detector: voucherwatch.DetectorRelatedParty})
	if err != nil || len(all) != 1 {
		t.Errorf("got %d alerts (%v), want one", len(all), err)
	}
}

// TestUpsertAlertsAdoptsLegacyIDs: alerts stored before ids left out the kind keep their ids
// and histories after an upgrade instead of getting twins. Where a weaker and a stronger tie
// were both stored, the finding goes to the one updated last. Another pair is a new alert. So
// in an upsert of a few alerts (a check's, whose legacy look-up goes beside the id look-up)
// and of many (a full run's, which looks up the unknown ids' legacy ids after).
func TestUpsertAlertsAdoptsLegacyIDs(t *testing.T) {
	for _, pad := range []int{0, concurrentLegacyMost + 6} {
		t.Run(fmt.Sprintf("%d more new alerts", pad), func(t *testing.T) { testUpsertAdoptsLegacyIDs(t, pad) })
	}
}

func testUpsertAdoptsLegacyIDs(t *testing.T, pad int) {
	db := newTestDB(t)
	ctx := testContext(t)
	legacy := func(a voucherwatch.Alert) voucherwatch.Alert {
		a.ID = voucherwatch.LegacyAlertID(a.Detector, a.Kind, a.Subjects)
		return a
	}
	ev := map[string]any{"ties": []any{"供给方持股 35%"}}
	oldWeak := legacy(relatedTie("shared_contact", voucherwatch.SeverityLow, tieSupplier, map[string]any{"ties": []any{"同一联系电话"}}))
	oldStrong := legacy(relatedTie("direct_stake", voucherwatch.SeverityHigh, tieSupplier, ev))
	// Written as the engine did before the upgrade.
	if _, err := db.upsertAlerts(ctx, []voucherwatch.Alert{oldWeak}, workflowT0, false); err != nil {
		t.Fatal(err)
	}
	if _, err := db.upsertAlerts(ctx, []voucherwatch.Alert{oldStrong}, workflowT0.Add(time.Hour), false); err != nil {
		t.Fatal(err)
	}
	appendOK(t, db, move(provinceReviewer, oldStrong.ID, voucherwatch.StatusNew, voucherwatch.StatusReviewing, workflowT0.Add(2*time.Hour)))

	// After the upgrade the detector reports the strong tie under the new id, and a tie on
	// another pair that nobody stored before.
	now := []voucherwatch.Alert{
		relatedTie("direct_stake", voucherwatch.SeverityHigh, tieSupplier, ev),
		relatedTie("shared_contact", voucherwatch.SeverityLow, otherSupplier, map[string]any{"ties": []any{"同一联系电话"}}),
	}
	newID := now[1].ID
	var padIDs []string
	for i := range pad {
		a := relatedTie("shared_contact", voucherwatch.SeverityLow, fmt.Sprintf("91430100MA4P%05dX", i), map[string]any{"ties": []any{"同一联系电话"}})
		now = append(now, a)
		padIDs = append(padIDs, a.ID)
	}
	res, err := db.UpsertAlerts(ctx, now, workflowT0.Add(3*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if res != (voucherwatch.UpsertResult{New: 1 + pad, Unchanged: 1}) {
		t.Errorf("got %+v, want the legacy alert unchanged and the other pair new", res)
	}
	if now[0].ID != oldStrong.ID || now[1].ID != newID {
		t.Errorf("got ids %s, %s, want the legacy %s and the new %s", now[0].ID, now[1].ID, oldStrong.ID, newID)
	}
	all, _, err := db.Alerts(ctx, voucherwatch.AlertFilter{Detector: voucherwatch.DetectorRelatedParty, Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, a := range all {
		ids = append(ids, a.ID)
	}
	slices.Sort(ids)
	want := append([]string{oldWeak.ID, oldStrong.ID, newID}, padIDs...)
	slices.Sort(want)
	if !slices.Equal(ids, want) {
		t.Errorf("got alerts %v, want the two legacy ones and the new one, no twin", ids)
	}
	if a, err := db.Alert(ctx, oldStrong.ID); err != nil || a.Status != voucherwatch.StatusReviewing {
		t.Errorf("got %+v, %v, want the legacy alert still under review", a.Status, err)
	}
}
