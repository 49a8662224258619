package store

import (
	"testing"
	"time"

	"github.com/voucherwatch/voucherwatch"
)

func testComplaint(t *testing.T, db *DB, uscc, city string, cat voucherwatch.ComplaintCategory, at time.Time) voucherwatch.ComplaintRecord {
	t.Helper()
	c := voucherwatch.Complaint{ID: voucherwatch.NewComplaintID(), Receipt: voucherwatch.NewReceipt(at), USCC: uscc, City: city,
		Category: cat, Text: "该企业将算力转租给他人", Channel: voucherwatch.ChannelPublic, CreatedAt: at}
	rec := voucherwatch.ComplaintRecord{Complaint: c, SecretHash: voucherwatch.ComplaintSecretHash("S"), SealedContact: "00ff"}
	if err := db.AddComplaint(testContext(t), rec, voucherwatch.ComplaintAlert(c, "投诉举报", "收到投诉")); err != nil {
		t.Fatal(err)
	}
	return rec
}

func TestComplaintIsACaseListedWithTheAlerts(t *testing.T) {
	db := newTestDB(t)
	ctx := testContext(t)
	rec := testComplaint(t, db, "91430100MA4L000001", "430100", voucherwatch.ComplaintResale, workflowT0)
	// A second complaint about the same enterprise, in the same words, is a case of its own.
	second := testComplaint(t, db, "91430100MA4L000001", "430100", voucherwatch.ComplaintResale, workflowT0.Add(time.Hour))
	upsertTestAlert(t, db, "detector-finding", "430100", map[string]any{"k": 1}, workflowT0)

	got, _, err := db.Alerts(ctx, voucherwatch.AlertFilter{Detector: voucherwatch.DetectorComplaint})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].ID != second.ID || got[1].ID != rec.ID || got[1].Subjects.ApplicantUSCC != rec.USCC || got[1].City != "430100" ||
		got[1].Kind != "resale" || got[1].Status != voucherwatch.StatusNew || !got[1].CreatedAt.Equal(workflowT0) {
		t.Fatalf("complaint cases: got %+v, want both complaints, new, in 430100, newest first", got)
	}
	for _, f := range []func() (voucherwatch.ComplaintRecord, error){
		func() (voucherwatch.ComplaintRecord, error) { return db.ComplaintByReceipt(ctx, rec.Receipt) },
		func() (voucherwatch.ComplaintRecord, error) { return db.ComplaintByID(ctx, rec.ID) },
	} {
		c, err := f()
		if err != nil {
			t.Fatal(err)
		}
		if c.ID != rec.ID || c.SecretHash != rec.SecretHash || c.SealedContact != "00ff" || c.Category != voucherwatch.ComplaintResale || !c.CreatedAt.Equal(workflowT0) {
			t.Errorf("got %+v, want %+v", c, rec)
		}
	}
	if _, err := db.ComplaintByReceipt(ctx, "TS20260101-NOPE"); voucherwatch.ErrorCode(err) != voucherwatch.ENOTFOUND {
		t.Errorf("unknown receipt: got %v, want ENOTFOUND", err)
	}
}

func TestComplaintCounts(t *testing.T) {
	db := newTestDB(t)
	ctx := testContext(t)
	fresh := testComplaint(t, db, "91430100MA4L000001", "430100", voucherwatch.ComplaintResale, workflowT0)
	late := testComplaint(t, db, "91430100MA4L000001", "430100", voucherwatch.ComplaintResale, workflowT0)
	dismissed := testComplaint(t, db, "91430200MA4L000002", "430200", voucherwatch.ComplaintPrice, workflowT0)
	_ = fresh
	appendOK(t, db, move(provinceReviewer, late.ID, voucherwatch.StatusNew, voucherwatch.StatusReviewing, workflowT0),
		move(provinceReviewer, dismissed.ID, voucherwatch.StatusNew, voucherwatch.StatusReviewing, workflowT0))
	appendOK(t, db, requestExplanation(provinceReviewer, late.ID, date(2026, 11, 25), workflowT0.Add(time.Minute)),
		move(provinceReviewer, dismissed.ID, voucherwatch.StatusReviewing, voucherwatch.StatusDismissed, workflowT0.Add(time.Minute)))
	// An ordinary alert waiting past its deadline is not a complaint.
	other := upsertTestAlert(t, db, "overdue-alert", "430100", map[string]any{"k": 1}, workflowT0)
	appendOK(t, db, move(provinceReviewer, other, voucherwatch.StatusNew, voucherwatch.StatusReviewing, workflowT0))
	appendOK(t, db, requestExplanation(provinceReviewer, other, date(2026, 11, 25), workflowT0.Add(time.Minute)))

	got, err := db.ComplaintCounts(ctx, time.Date(2026, 12, 1, 10, 0, 0, 0, voucherwatch.CST))
	if err != nil {
		t.Fatal(err)
	}
	want := []voucherwatch.ComplaintCount{
		{City: "430100", Category: voucherwatch.ComplaintResale, Received: 2, Open: 2, Overdue: 1},
		{City: "430200", Category: voucherwatch.ComplaintPrice, Received: 1, Open: 0, Overdue: 0},
	}
	if len(got) != len(want) {
		t.Fatalf("got %+v, want %+v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("row %d: got %+v, want %+v", i, got[i], want[i])
		}
	}
}
