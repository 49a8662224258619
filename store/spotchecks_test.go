package store

import (
	"reflect"
	"testing"
	"time"

	"github.com/voucherwatch/voucherwatch"
)

const otherApplicantUSCC = "91430200MA4L0ZZZZ3"

// claimResubmittedWithMoreRequested is claimWithTwoInvoices sent again later, as a new
// record of the same claim asking for more: the claim counts once, in this version.
func claimResubmittedWithMoreRequested() voucherwatch.Record {
	r := claimWithTwoInvoices()
	r.ID = "claim-1-v2"
	r.Time = r.Time.Add(time.Hour)
	c := *r.Claim
	c.Requested = 2_000_000_00
	r.Claim = &c
	return r
}

// twoClaimsOfAnUnregisteredApplicant are two claims in 株洲 of an applicant the registry does
// not know; the second was submitted after the period the test asks about.
func twoClaimsOfAnUnregisteredApplicant() []voucherwatch.Record {
	var out []voucherwatch.Record
	for i, on := range []time.Time{date(2026, 3, 1), date(2026, 9, 1)} {
		r := claimWithTwoInvoices()
		r.Source, r.ID = otherApplicantUSCC, []string{"claim-z1", "claim-z2"}[i]
		c := *r.Claim
		c.ClaimID, c.ApplicantUSCC, c.City, c.SubmittedOn, c.Requested = []string{"SB-Z1", "SB-Z2"}[i], otherApplicantUSCC, "430200", on, voucherwatch.Money(100_000_00*(i+1))
		r.Claim = &c
		out = append(out, r)
	}
	return out
}

func TestSpotCheckClaimants(t *testing.T) {
	db := newTestDB(t)
	ctx := testContext(t)
	store(t, db, voucherwatch.TypeClaim, append(twoClaimsOfAnUnregisteredApplicant(), claimWithTwoInvoices(), claimResubmittedWithMoreRequested())...)
	// The registry places the buyer in 湘潭, whatever its claim said.
	reg := buyerWithoutPeople()
	e := *reg.Entity
	e.City = "430300"
	reg.Entity = &e
	store(t, db, voucherwatch.TypeRegistry, reg)

	high := testAlert("invoice_in_two_claims", "430100", voucherwatch.SeverityHigh, "1")
	low := testAlert("invoice_in_two_claims", "430100", voucherwatch.SeverityLow, "2")
	dismissed := testAlert("invoice_in_two_claims", "430100", voucherwatch.SeverityHigh, "3")
	recovered := testAlert("invoice_in_two_claims", "430100", voucherwatch.SeverityMedium, "4")
	for i, a := range []*voucherwatch.Alert{&high, &low, &dismissed, &recovered} {
		a.Subjects.ApplicantUSCC, a.Score = buyerUSCC, 0.25*float64(i+1)
		a.ID = voucherwatch.AlertID(a.Detector, a.Subjects)
	}
	if _, err := db.UpsertAlerts(ctx, []voucherwatch.Alert{high, low, dismissed, recovered}, workflowT0); err != nil {
		t.Fatal(err)
	}
	appendOK(t, db,
		move(provinceReviewer, dismissed.ID, voucherwatch.StatusNew, voucherwatch.StatusDismissed, workflowT0),
		move(provinceReviewer, recovered.ID, voucherwatch.StatusNew, voucherwatch.StatusReviewing, workflowT0),
	)
	appendOK(t, db, move(provinceReviewer, recovered.ID, voucherwatch.StatusReviewing, voucherwatch.StatusConfirmed, workflowT0.Add(time.Minute)))
	appendOK(t, db, move(provinceReviewer, recovered.ID, voucherwatch.StatusConfirmed, voucherwatch.StatusRecoveryOrdered, workflowT0.Add(2*time.Minute)))
	appendOK(t, db, move(provinceReviewer, recovered.ID, voucherwatch.StatusRecoveryOrdered, voucherwatch.StatusRecovered, workflowT0.Add(3*time.Minute)))

	buyer := voucherwatch.SpotCheckClaimant{USCC: buyerUSCC, Name: "需方公司", City: "430300", OpenHigh: 1, OpenLow: 1, AlertScore: 0.75, Requested: 2_000_000_00}
	for _, tc := range []struct {
		name     string
		from, to time.Time
		want     []voucherwatch.SpotCheckClaimant
	}{
		{"every claim", time.Time{}, time.Time{}, []voucherwatch.SpotCheckClaimant{
			{USCC: buyerUSCC, Name: "需方公司", City: "430300", OpenHigh: 1, OpenLow: 1, AlertScore: 0.75, Requested: 2_000_000_00},
			{USCC: otherApplicantUSCC, City: "430200", Requested: 300_000_00},
		}},
		{"the first half of 2026", date(2026, 1, 1), date(2026, 7, 1), []voucherwatch.SpotCheckClaimant{
			buyer,
			{USCC: otherApplicantUSCC, City: "430200", Requested: 100_000_00},
		}},
		{"the autumn", date(2026, 9, 1), time.Time{}, []voucherwatch.SpotCheckClaimant{{USCC: otherApplicantUSCC, City: "430200", Requested: 200_000_00}}},
		{"nothing", date(2027, 1, 1), time.Time{}, []voucherwatch.SpotCheckClaimant{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := db.SpotCheckClaimants(ctx, tc.from, tc.to)
			if err != nil {
				t.Fatal(err)
			}
			for i := range got {
				got[i].AlertScore = float64(int(got[i].AlertScore*1000+0.5)) / 1000
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("got  %+v\nwant %+v", got, tc.want)
			}
		})
	}
}

func TestSpotCheckRoundTrip(t *testing.T) {
	db := newTestDB(t)
	ctx := testContext(t)
	ins := voucherwatch.Inspector{ID: "in_1", Name: "王检查", City: "430200", Conflicts: []string{buyerUSCC}, CreatedAt: workflowT0, CreatedBy: "u_prov"}
	if err := db.CreateInspector(ctx, ins); err != nil {
		t.Fatal(err)
	}
	if got, err := db.Inspectors(ctx); err != nil || !reflect.DeepEqual(got, []voucherwatch.Inspector{ins}) {
		t.Errorf("inspectors: got %+v, %v, want %+v", got, err, ins)
	}
	gone := voucherwatch.Inspector{ID: "in_2", Name: "李检查", City: "430300", Conflicts: []string{}, CreatedAt: workflowT0, CreatedBy: "u_prov"}
	if err := db.CreateInspector(ctx, gone); err != nil {
		t.Fatal(err)
	}
	// Disabled with a clock behind the registration: the disabled version must still win.
	if err := db.DisableInspector(ctx, "in_2", workflowT0.Add(-time.Hour)); err != nil {
		t.Fatal(err)
	}
	if got, err := db.Inspectors(ctx); err != nil || !reflect.DeepEqual(got, []voucherwatch.Inspector{ins}) {
		t.Errorf("inspectors after disabling in_2: got %+v, %v, want only in_1", got, err)
	}
	for _, id := range []string{"in_2", "in_none"} {
		if err := db.DisableInspector(ctx, id, workflowT0); voucherwatch.ErrorCode(err) != voucherwatch.ENOTFOUND {
			t.Errorf("disable %s: got %v, want ENOTFOUND", id, err)
		}
	}

	sc := voucherwatch.SpotCheck{
		ID: "sc-20261201-0300", Seed: 1 << 52, Method: "vw-spotcheck/1", Params: voucherwatch.DefaultSpotCheckParams(),
		InputsDigest: "abc", Trigger: voucherwatch.SpotCheckScheduled, CreatedAt: workflowT0, CreatedBy: "engine",
		Inputs: &voucherwatch.SpotCheckInputs{
			Claimants:  []voucherwatch.SpotCheckClaimant{{USCC: buyerUSCC, City: "430100", OpenHigh: 1, Requested: 150029}},
			Inspectors: []voucherwatch.Inspector{{ID: "in_1", Name: "王检查", City: "430200", Conflicts: []string{}}},
		},
		Items: []voucherwatch.SpotCheckItem{
			{USCC: buyerUSCC, Name: "需方公司", City: "430100", Risk: 3.45, DrawnBy: voucherwatch.DrawnByRisk,
				Inspectors: []voucherwatch.InspectorRef{{ID: "in_1", Name: "王检查", City: "430200"}}},
			{USCC: otherApplicantUSCC, City: "430200", Risk: 0, DrawnBy: voucherwatch.DrawnAtRandom,
				Inspectors: []voucherwatch.InspectorRef{}, Note: "没有符合回避规则的检查人员"},
		},
	}
	if err := db.CreateSpotCheck(ctx, sc); err != nil {
		t.Fatal(err)
	}
	// A second draw of the same slot, from other inputs, is refused.
	twin := sc
	twin.InputsDigest, twin.Items = "def", sc.Items[:1]
	if err := db.CreateSpotCheck(ctx, twin); voucherwatch.ErrorCode(err) != voucherwatch.ECONFLICT {
		t.Errorf("second draw of one id: got %v, want ECONFLICT", err)
	}
	got, err := db.SpotCheck(ctx, sc.ID)
	if err != nil {
		t.Fatal(err)
	}
	want := sc
	want.ItemCount = 2
	if !reflect.DeepEqual(got, want) {
		t.Errorf("spot check:\ngot  %+v\nwant %+v", got, want)
	}
	if _, err := db.SpotCheck(ctx, "sc-none"); voucherwatch.ErrorCode(err) != voucherwatch.ENOTFOUND {
		t.Errorf("missing spot check: got %v, want ENOTFOUND", err)
	}

	// The race the check cannot stop: a second instance's rows written behind the check,
	// later and from other inputs. Readers keep showing the first draw and its items only.
	raced := twin
	raced.CreatedAt = workflowT0.Add(3 * time.Second)
	raced.Items = []voucherwatch.SpotCheckItem{{USCC: "91430900MA4L0WWWW9", City: "430900", DrawnBy: voucherwatch.DrawnAtRandom}}
	if err := db.writeSpotCheck(ctx, raced); err != nil {
		t.Fatal(err)
	}
	again, err := db.SpotCheck(ctx, sc.ID)
	if err != nil || again.InputsDigest != "abc" || len(again.Items) != 2 {
		t.Errorf("after a raced second draw: got digest %q, %d items, %v; want the first draw (abc, 2 items)", again.InputsDigest, len(again.Items), err)
	}

	later := sc
	later.ID, later.CreatedAt, later.Items, later.Inputs = "sc-later", workflowT0.Add(time.Hour), nil, nil
	if err := db.CreateSpotCheck(ctx, later); err != nil {
		t.Fatal(err)
	}
	list, err := db.SpotChecks(ctx)
	if err != nil || len(list) != 2 || list[0].ID != "sc-later" || list[1].ID != sc.ID || list[1].ItemCount != 2 || list[1].Items != nil || list[1].Inputs != nil {
		t.Errorf("list: got %+v, %v, want sc-later then %s (2 items), without items or inputs", list, err, sc.ID)
	}

	results := []voucherwatch.InspectionResult{
		{SpotCheckID: sc.ID, USCC: buyerUSCC, Result: voucherwatch.OutcomeProblemFound, Comment: "发票与合同不符", RecordedAt: workflowT0.Add(24 * time.Hour), ByID: "u_prov", ByName: "省级审核员", ByRole: voucherwatch.RoleProvinceReviewer},
		{SpotCheckID: sc.ID, USCC: buyerUSCC, Result: voucherwatch.OutcomeRectification, Comment: "责令限期整改", RecordedAt: workflowT0.Add(24*time.Hour + 10*time.Millisecond), ByID: "u_prov", ByName: "省级审核员", ByRole: voucherwatch.RoleProvinceReviewer},
	}
	for _, r := range results {
		if err := db.RecordInspectionResult(ctx, r); err != nil {
			t.Fatal(err)
		}
	}
	gotResults, err := db.InspectionResults(ctx, sc.ID)
	if err != nil || len(gotResults) != 2 {
		t.Fatalf("results: got %+v, %v, want 2", gotResults, err)
	}
	for i := range gotResults {
		if gotResults[i].Result != results[i].Result || gotResults[i].Comment != results[i].Comment || gotResults[i].ByRole != results[i].ByRole {
			t.Errorf("result %d: got %+v, want %+v (oldest first, within one second too)", i, gotResults[i], results[i])
		}
	}

	// Progress by city counts the shown draw only (not the raced one's 430900 item), and an
	// enterprise with two results once.
	for city, want := range map[string]map[string]voucherwatch.SpotCheckProgress{
		"430100": {sc.ID: {Items: 1, Recorded: 1}},
		"430200": {sc.ID: {Items: 1, Recorded: 0}},
		"430900": {},
	} {
		got, err := db.SpotCheckProgress(ctx, city)
		if err != nil || !reflect.DeepEqual(got, want) {
			t.Errorf("progress in %s: got %v, %v, want %v", city, got, err, want)
		}
	}
}
