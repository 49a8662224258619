package detectors

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/voucherwatch/voucherwatch"
	"github.com/voucherwatch/voucherwatch/detectors/detectortest"
	"github.com/voucherwatch/voucherwatch/rules"
)

func TestApplicantCredit(t *testing.T) {
	f := newFxDB(t)
	sup := fxUSCC("S", 1)
	f.add(fxRec(fxSupplier(sup, true)))
	older, newer := time.Date(2025, 10, 20, 9, 0, 0, 0, voucherwatch.CST), time.Date(2026, 8, 1, 9, 0, 0, 0, voucherwatch.CST)
	type version struct {
		credit voucherwatch.Credit
		at     time.Time
	}
	dishonest := voucherwatch.Credit{SeriouslyDishonest: true}
	violation := voucherwatch.Credit{MajorViolationWithin3Y: true}
	cases := []struct {
		name     string
		versions []version // stored in this order
		want     []string
	}{
		{name: "cleanApplicant", versions: []version{{at: older}}},
		{name: "listedInNewerVersion", versions: []version{{at: older}, {credit: dishonest, at: newer}}, want: []string{"seriously_dishonest/high"}},
		{name: "listedInNewerVersionArrivingFirst", versions: []version{{credit: dishonest, at: newer}, {at: older}}, want: []string{"seriously_dishonest/high"}},
		{name: "majorViolation", versions: []version{{credit: violation, at: older}}, want: []string{"major_violation/high"}},
		{name: "both", versions: []version{{credit: voucherwatch.Credit{SeriouslyDishonest: true, MajorViolationWithin3Y: true}, at: older}},
			want: []string{"seriously_dishonest/high"}}, // one alert per claim, naming both
		{name: "creditRepaired", versions: []version{{credit: dishonest, at: older}, {at: newer}}},
		{name: "creditRepairedOlderArrivesLast", versions: []version{{at: newer}, {credit: dishonest, at: older}}},
		{name: "applicantNotInRegistry", want: []string{"applicant_not_in_registry/low"}},
	}
	for i, c := range cases {
		b := fxUSCC("B", i)
		for _, v := range c.versions {
			e := fxBuyer(b)
			e.Credit = v.credit
			f.add(fxVersionAt(fxRec(e), v.at))
		}
		k := fxContract("HT-CR-"+c.name, sup, b, "2026-03-01", "2026-05-31", fxCompute("300000.00"))
		inv := fxInvoice(k, "", "2643200000000000010"+string(rune('0'+i)), "2026-03-01", "2026-05-31", fxCompute("300000.00"))
		f.add(fxRec(k), fxRec(inv), fxRec(fxClaim("SB-CR-"+c.name, b, "90000.00", inv)))
	}
	alerts := f.run(NewApplicantCredit(f.env()))
	for i, c := range cases {
		for _, a := range fxWant(t, c.name, alerts, fxUSCC("B", i), c.want...) {
			if c.name == "both" && !strings.Contains(a.Reason, "重大违法违规") {
				t.Errorf("both: got reason %q, want it to name the major violation too", a.Reason)
			}
			if a.Subjects.ClaimID != "SB-CR-"+c.name || a.PolicyClause != "二 / D1" {
				t.Errorf("%s: got subjects %+v clause %q", c.name, a.Subjects, a.PolicyClause)
			}
		}
	}
}

// TestApplicantCreditCheckMatchesRun: a claim, or its applicant's registry row, changed one
// at a time yields the full run's alerts about that applicant, byte for byte; the clean and
// repaired applicants' changes raise nothing; a registry row of an enterprise that claims
// nothing raises nothing.
func TestApplicantCreditCheckMatchesRun(t *testing.T) {
	db, p := detectortest.Province(t, 1)
	ctx := context.Background()
	d := NewApplicantCredit(Env{DB: db, Policy: rules.Default()})
	full, err := d.Run(ctx, p.Config.End)
	if err != nil {
		t.Fatal(err)
	}
	if len(full) == 0 {
		t.Fatal("got no applicant_credit alert in the province's full run, want some to compare")
	}
	flagged := map[string]bool{}
	var changes []voucherwatch.Changes
	for _, a := range full {
		flagged[a.Subjects.ApplicantUSCC] = true
		changes = append(changes, claimChange(a.Subjects.ClaimID), enterpriseChange(a.Subjects.ApplicantUSCC))
	}
	claims, err := db.LatestClaims(ctx, voucherwatch.ClaimQuery{All: true})
	if err != nil {
		t.Fatal(err)
	}
	clean := 0
	for _, c := range claims {
		if !flagged[c.ApplicantUSCC] && clean < 10 {
			changes = append(changes, claimChange(c.ClaimID), enterpriseChange(c.ApplicantUSCC))
			clean++
		}
	}
	checkAgainstRun(t, d, full, changes, func(ch voucherwatch.Changes, a voucherwatch.Alert) bool {
		return ch.Claims[a.Subjects.ClaimID] || ch.Enterprises[a.Subjects.ApplicantUSCC]
	})
	var all voucherwatch.Changes
	for _, c := range changes {
		all.Merge(c)
	}
	checkAgainstRun(t, d, full, []voucherwatch.Changes{all}, func(ch voucherwatch.Changes, a voucherwatch.Alert) bool { return true })
	if got, err := d.Check(ctx, p.Config.End, enterpriseChange("no-such-enterprise")); err != nil || len(got) != 0 {
		t.Errorf("Check(an enterprise without claims): got %d alerts, %v; want none", len(got), err)
	}
}
