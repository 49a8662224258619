package store

import (
	"slices"
	"testing"
	"time"

	"github.com/voucherwatch/voucherwatch"
)

// stakeAlert is an alert about one applicant with money at stake on one claim.
func stakeAlert(detector, applicant string, sev voucherwatch.Severity, fen voucherwatch.Money, claim string) voucherwatch.Alert {
	s := voucherwatch.Subjects{ApplicantUSCC: applicant, ClaimID: claim}
	a := voucherwatch.Alert{
		ID: voucherwatch.AlertID(detector, s), Detector: detector, Kind: detector, Severity: sev, Score: 0.5,
		Subjects: s, City: "430100", PolicyClause: "三 / C2", Title: "标题", Reason: "原因",
		Evidence: voucherwatch.EvidenceOf(map[string]any{"n": 1}), AtStake: fen,
	}
	if claim != "" {
		a.StakeClaims = []voucherwatch.ClaimStake{{ClaimID: claim, AtStake: fen, Ceiling: 2 * fen}}
	} else {
		a.AtStakePotential = true
	}
	return a
}

// TestAlertsStakeStoredAndRanked: the money at stake is stored and read back to the fen with
// its claims; a changed stake is a changed finding; sort=at_stake pages by amount and
// sort=risk ranks severity first, then the amount and the detectors on the same enterprise;
// recovered shows the recovery order once an alert is recovered.
func TestAlertsStakeStoredAndRanked(t *testing.T) {
	db := newTestDB(t)
	ctx := testContext(t)
	t0 := time.Date(2026, 11, 1, 9, 0, 0, 0, voucherwatch.CST)
	alerts := []voucherwatch.Alert{
		stakeAlert("duplicate_claim", "A", voucherwatch.SeverityHigh, 1_234_56, "C1"),     // high, 1,234.56
		stakeAlert("resale", "B", voucherwatch.SeverityHigh, 99_000_00, "C2"),             // high, 99,000.00: alone
		stakeAlert("related_party", "C", voucherwatch.SeverityHigh, 50_000_00, "C3"),      // high, 50,000 + 3 detectors
		stakeAlert("late_filing", "C", voucherwatch.SeverityLow, 10_00, "C3x"),            // low
		stakeAlert("policy_window", "C", voucherwatch.SeverityMedium, 5_000_000_00, "C4"), // medium, 5 M
		stakeAlert("price_out_of_range", "D", voucherwatch.SeverityMedium, 7_00, ""),      // potential
	}
	if _, err := db.UpsertAlerts(ctx, slices.Clone(alerts), t0); err != nil {
		t.Fatal(err)
	}
	got, err := db.Alert(ctx, alerts[0].ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.AtStake != 1_234_56 || got.AtStakePotential || len(got.StakeClaims) != 1 ||
		got.StakeClaims[0] != (voucherwatch.ClaimStake{ClaimID: "C1", AtStake: 1_234_56, Ceiling: 2_469_12}) {
		t.Errorf("got at_stake %s potential %v claims %+v, want 1234.56 on C1 with ceiling 2469.12", got.AtStake, got.AtStakePotential, got.StakeClaims)
	}
	if p, err := db.Alert(ctx, alerts[5].ID); err != nil || p.AtStake != 7_00 || !p.AtStakePotential {
		t.Errorf("got %s potential %v (%v), want 7.00 potential", p.AtStake, p.AtStakePotential, err)
	}

	changed := slices.Clone(alerts)
	changed[0].AtStake, changed[0].StakeClaims[0].AtStake = 1_234_57, 1_234_57
	res, err := db.UpsertAlerts(ctx, changed, t0.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if res.Updated != 1 || res.Unchanged != 5 {
		t.Errorf("got %+v after one stake moved by a fen, want 1 updated, 5 unchanged", res)
	}

	ids := func(f voucherwatch.AlertFilter) []string {
		t.Helper()
		var out []string
		for {
			page, next, err := db.Alerts(ctx, f)
			if err != nil {
				t.Fatal(err)
			}
			for _, a := range page {
				out = append(out, a.Subjects.ApplicantUSCC+"/"+a.Detector)
			}
			if next == "" {
				return out
			}
			f.Cursor = next
		}
	}
	wantStake := []string{"C/policy_window", "B/resale", "C/related_party", "A/duplicate_claim", "C/late_filing", "D/price_out_of_range"}
	if got := ids(voucherwatch.AlertFilter{Sort: voucherwatch.SortAtStake, Limit: 2}); !slices.Equal(got, wantStake) {
		t.Errorf("sort=at_stake: got %v, want %v", got, wantStake)
	}
	// related_party on C: log10(50,001) + 0.5 × 2 ≈ 5.70 beats resale on B: log10(99,001) ≈ 5.00.
	wantRisk := []string{"C/related_party", "B/resale", "A/duplicate_claim", "C/policy_window", "D/price_out_of_range", "C/late_filing"}
	if got := ids(voucherwatch.AlertFilter{Sort: voucherwatch.SortRisk, Limit: 4}); !slices.Equal(got, wantRisk) {
		t.Errorf("sort=risk: got %v, want %v", got, wantRisk)
	}
	page, _, err := db.Alerts(ctx, voucherwatch.AlertFilter{Sort: voucherwatch.SortRisk, Limit: 1})
	if err != nil {
		t.Fatal(err)
	}
	if want := voucherwatch.RiskScore(voucherwatch.SeverityHigh, 50_000_00, 3); len(page) != 1 || page[0].Risk < want-1e-9 || page[0].Risk > want+1e-9 {
		t.Errorf("got risk %v, want RiskScore's %v", page, want)
	}
	if _, _, err := db.Alerts(ctx, voucherwatch.AlertFilter{Sort: "size"}); voucherwatch.ErrorCode(err) != voucherwatch.EINVALID {
		t.Errorf("sort=size: got %v, want EINVALID", err)
	}
	if _, _, err := db.Alerts(ctx, voucherwatch.AlertFilter{Sort: voucherwatch.SortRisk, Cursor: "bm9wZQ"}); voucherwatch.ErrorCode(err) != voucherwatch.EINVALID {
		t.Errorf("bad risk cursor: got %v, want EINVALID", err)
	}

	// Recovery: ordered 800.00, then recovered.
	u := voucherwatch.User{ID: "u1", Name: "省级", Role: voucherwatch.RoleProvinceAdmin}
	steps := []voucherwatch.Transition{
		{To: voucherwatch.StatusReviewing}, {To: voucherwatch.StatusConfirmed},
		{To: voucherwatch.StatusRecoveryOrdered, Amount: 800_00}, {To: voucherwatch.StatusRecovered},
	}
	from := voucherwatch.StatusNew
	for i, tr := range steps {
		e := voucherwatch.NewTransitionEvent(u, alerts[1].ID, from, tr, t0.Add(time.Duration(i+2)*time.Hour))
		if r, err := db.AppendEvents(ctx, []voucherwatch.Event{e}); err != nil || r[0].Err != nil {
			t.Fatalf("%s: %v %v", tr.To, err, r)
		}
		from = tr.To
		a, err := db.Alert(ctx, alerts[1].ID)
		if err != nil {
			t.Fatal(err)
		}
		want := voucherwatch.Money(0)
		if tr.To == voucherwatch.StatusRecovered {
			want = 800_00
		}
		if a.Recovered != want || a.AtStake != 99_000_00 {
			t.Errorf("after %s: got recovered %s, at_stake %s, want %s apart from 99000.00", tr.To, a.Recovered, a.AtStake, want)
		}
	}
}

// TestBacktestLog: a backtest's entry is logged and read back, the list without diffs.
func TestBacktestLog(t *testing.T) {
	db := newTestDB(t)
	ctx := testContext(t)
	at := time.Date(2026, 12, 6, 10, 0, 0, 0, voucherwatch.CST)
	b := voucherwatch.BacktestLog{ID: "bt_1", At: at, UserID: "u1", UserName: "省级", Role: voucherwatch.RoleProvinceAdmin,
		PolicyDigest: "sha256:ab", PolicyVersion: "2026-1", Status: voucherwatch.BacktestOK, Seconds: 1.5, Diff: []byte(`{"appeared":[]}`)}
	if err := db.RecordBacktest(ctx, b); err != nil {
		t.Fatal(err)
	}
	got, err := db.Backtest(ctx, "bt_1")
	if err != nil {
		t.Fatal(err)
	}
	if !got.At.Equal(at) || got.UserName != "省级" || got.PolicyDigest != "sha256:ab" || string(got.Diff) != `{"appeared":[]}` {
		t.Errorf("got %+v, want %+v", got, b)
	}
	list, err := db.Backtests(ctx, 0)
	if err != nil || len(list) != 1 || list[0].Diff != nil {
		t.Errorf("got list %+v (%v), want the entry without its diff", list, err)
	}
	if _, err := db.Backtest(ctx, "bt_none"); voucherwatch.ErrorCode(err) != voucherwatch.ENOTFOUND {
		t.Errorf("got %v, want ENOTFOUND", err)
	}
}
