package store

import (
	"testing"
	"time"

	"github.com/voucherwatch/voucherwatch"
)

func TestRoundRowNewestVersionWins(t *testing.T) {
	db := newTestDB(t)
	ctx := testContext(t)
	r := voucherwatch.SubsidyRound{ID: "rd-1", Year: 2026, Budget: 50_000_000_01, NoticeDays: 5, Mode: voucherwatch.ModeLastPartial,
		State: voucherwatch.RoundOpen, CreatedAt: workflowT0, CreatedBy: "u_prov", UpdatedAt: workflowT0}
	if err := db.SaveRound(ctx, r); err != nil {
		t.Fatal(err)
	}
	r.State, r.Weights, r.FrozenVersion, r.PublishedAt = voucherwatch.RoundPublished, map[string]float64{"sme": 2}, 1, workflowT0.Add(time.Hour)
	if err := db.SaveRound(ctx, r); err != nil {
		t.Fatal(err)
	}
	got, err := db.Round(ctx, "rd-1")
	if err != nil {
		t.Fatal(err)
	}
	if got.State != voucherwatch.RoundPublished || got.Budget != 50_000_000_01 || got.Weights["sme"] != 2 || got.FrozenVersion != 1 ||
		!got.PublishedAt.Equal(r.PublishedAt) || !got.FinalisedAt.IsZero() {
		t.Errorf("got %+v, want the published version", got)
	}
	all, err := db.Rounds(ctx)
	if err != nil || len(all) != 1 {
		t.Errorf("rounds: got %d (%v), want 1", len(all), err)
	}
	if _, err := db.Round(ctx, "rd-none"); voucherwatch.ErrorCode(err) != voucherwatch.ENOTFOUND {
		t.Errorf("unknown round: got %v, want ENOTFOUND", err)
	}
}

func TestRoundScoresNewestPerCriterion(t *testing.T) {
	db := newTestDB(t)
	ctx := testContext(t)
	if err := db.AddRoundScores(ctx, "rd-1", []voucherwatch.RoundScore{{ClaimID: "C1", Criterion: "innovation", Score: 70, Comment: "一般"},
		{ClaimID: "C1", Criterion: "benefit", Score: 80}}, "u_prov", workflowT0); err != nil {
		t.Fatal(err)
	}
	if err := db.AddRoundScores(ctx, "rd-1", []voucherwatch.RoundScore{{ClaimID: "C1", Criterion: "innovation", Score: 90, Comment: "突出"}}, "u_prov", workflowT0); err != nil {
		t.Fatal(err)
	}
	if err := db.AddRoundScores(ctx, "rd-other", []voucherwatch.RoundScore{{ClaimID: "C1", Criterion: "innovation", Score: 10}}, "u_prov", workflowT0); err != nil {
		t.Fatal(err)
	}
	got, err := db.RoundScores(ctx, "rd-1")
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].Criterion != "benefit" || got[1].Score != 90 || got[1].Comment != "突出" {
		t.Errorf("got %+v, want benefit 80 and innovation 90", got)
	}
}

// TestRoundAlertsPerClaim: a claim's alerts are those on it and those on its applicant naming
// no claim, with their current status and recovery; an alert on another claim of the same
// applicant is not the claim's.
func TestRoundAlertsPerClaim(t *testing.T) {
	db := newTestDB(t)
	ctx := testContext(t)
	applicant := "91430100MA4L0XXXXX"
	onClaim := testAlert("invoice_in_two_claims", "430100", voucherwatch.SeverityHigh, "1")
	onClaim.Subjects.ClaimID = "SB2026-00101"
	onClaim.ID = voucherwatch.AlertID(onClaim.Detector, onClaim.Subjects)
	onOther := testAlert("invoice_in_two_claims", "430100", voucherwatch.SeverityHigh, "2")
	onOther.Subjects.ClaimID = "SB2026-00102"
	onOther.ID = voucherwatch.AlertID(onOther.Detector, onOther.Subjects)
	onApplicant := testAlert("invoice_in_two_claims", "430100", voucherwatch.SeverityMedium, "3")
	if _, err := db.UpsertAlerts(ctx, []voucherwatch.Alert{onClaim, onOther, onApplicant}, workflowT0); err != nil {
		t.Fatal(err)
	}
	at := workflowT0.Add(time.Minute)
	appendOK(t, db,
		move(provinceReviewer, onApplicant.ID, voucherwatch.StatusNew, voucherwatch.StatusReviewing, at),
		requestExplanation(provinceReviewer, onApplicant.ID, date(2026, 12, 5), at.Add(time.Minute)),
		move(provinceReviewer, onApplicant.ID, voucherwatch.StatusExplanationRequested, voucherwatch.StatusConfirmed, at.Add(2*time.Minute)),
		voucherwatch.NewTransitionEvent(provinceReviewer, onApplicant.ID, voucherwatch.StatusConfirmed,
			voucherwatch.Transition{To: voucherwatch.StatusRecoveryOrdered, Comment: "责令退回", Amount: 1234567}, at.Add(3*time.Minute)))
	got, err := db.RoundAlerts(ctx, map[string]string{"SB2026-00101": applicant, "SB2026-00103": "91430100MA4L0YYYYY"})
	if err != nil {
		t.Fatal(err)
	}
	as := got["SB2026-00101"]
	if len(as) != 2 {
		t.Fatalf("alerts of SB2026-00101: got %+v, want the claim's and the applicant's", as)
	}
	byID := map[string]voucherwatch.RoundAlert{as[0].ID: as[0], as[1].ID: as[1]}
	if a := byID[onClaim.ID]; a.Status != voucherwatch.StatusNew || a.Severity != voucherwatch.SeverityHigh || a.Recovery != 0 {
		t.Errorf("claim's alert: got %+v", a)
	}
	if a := byID[onApplicant.ID]; a.Status != voucherwatch.StatusRecoveryOrdered || a.Recovery != 1234567 {
		t.Errorf("applicant's alert: got %+v, want recovery_ordered 12345.67", a)
	}
	if len(got["SB2026-00103"]) != 0 {
		t.Errorf("another applicant's claim: got %+v", got["SB2026-00103"])
	}
}

func TestRoundVersionsAndLog(t *testing.T) {
	db := newTestDB(t)
	ctx := testContext(t)
	in := voucherwatch.AllocationInputs{RoundID: "rd-1", Year: 2026, Budget: 150, Claims: []voucherwatch.RoundClaim{
		{ClaimID: "B", Assessed: 100}, {ClaimID: "A", Assessed: 100}}}
	a := voucherwatch.Allocate(in)
	v := voucherwatch.RoundVersion{RoundID: "rd-1", Version: 1, Method: voucherwatch.AllocationMethod, InputsDigest: in.Digest(),
		Inputs: in, Lines: a.Lines, FrozenAt: workflowT0, FrozenBy: "u_prov"}
	if err := db.AddRoundVersion(ctx, v); err != nil {
		t.Fatal(err)
	}
	if err := db.AddRoundVersion(ctx, v); voucherwatch.ErrorCode(err) != voucherwatch.ECONFLICT {
		t.Errorf("same version again: got %v, want ECONFLICT", err)
	}
	got, err := db.RoundVersion(ctx, "rd-1", 1)
	if err != nil {
		t.Fatal(err)
	}
	if got.Inputs.Digest() != v.InputsDigest || got.Total != 150 || len(got.Lines) != 2 || got.Lines[1].Allocated != 50 {
		t.Errorf("got %+v, want the stored version whose inputs hash to its digest", got)
	}
	if err := db.AppendRoundEvents(ctx, []voucherwatch.RoundEvent{
		{RoundID: "rd-1", At: workflowT0, ActorID: "u_prov", ActorRole: voucherwatch.RoleProvinceReviewer, Action: voucherwatch.RoundActionOpen},
		{RoundID: "rd-1", At: workflowT0, ActorID: "u_prov", ActorRole: voucherwatch.RoleProvinceReviewer, Action: voucherwatch.RoundActionFreeze, Detail: v.InputsDigest},
	}); err != nil {
		t.Fatal(err)
	}
	log, err := db.RoundEvents(ctx, "rd-1")
	if err != nil || len(log) != 2 || log[0].Action != "open" || log[1].Detail != v.InputsDigest {
		t.Errorf("log: got %+v (%v)", log, err)
	}
}

func TestObjectionIsACaseOnTheLine(t *testing.T) {
	db := newTestDB(t)
	ctx := testContext(t)
	o := voucherwatch.Objection{ID: voucherwatch.NewObjectionID(), RoundID: "rd-1", ClaimID: "SB2026-00101", USCC: "91430100MA4L0XXXXX",
		City: "430200", Text: "该企业实际未使用算力", Channel: voucherwatch.ChannelPublic, CreatedAt: workflowT0}
	if err := db.AddObjection(ctx, voucherwatch.ObjectionRecord{Objection: o, SealedContact: "00ff"}, voucherwatch.ObjectionAlert(o, "异议", "公示期异议")); err != nil {
		t.Fatal(err)
	}
	cases, _, err := db.Alerts(ctx, voucherwatch.AlertFilter{Detector: voucherwatch.DetectorObjection, City: "430200"})
	if err != nil {
		t.Fatal(err)
	}
	if len(cases) != 1 || cases[0].ID != o.ID || cases[0].Subjects.ClaimID != o.ClaimID || cases[0].Status != voucherwatch.StatusNew {
		t.Fatalf("objection cases: got %+v", cases)
	}
	appendOK(t, db, move(provinceReviewer, o.ID, voucherwatch.StatusNew, voucherwatch.StatusReviewing, workflowT0.Add(time.Minute)))
	got, err := db.RoundObjections(ctx, "rd-1")
	if err != nil || len(got) != 1 || got[0].Status != voucherwatch.StatusReviewing || !got[0].Open() {
		t.Errorf("objections: got %+v (%v), want one under review", got, err)
	}
	if other, _ := db.RoundObjections(ctx, "rd-2"); len(other) != 0 {
		t.Errorf("another round's objections: got %+v", other)
	}
}
