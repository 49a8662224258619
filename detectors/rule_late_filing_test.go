package detectors

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/voucherwatch/voucherwatch"
	"github.com/voucherwatch/voucherwatch/detectors/detectortest"
	"github.com/voucherwatch/voucherwatch/rules"
)

func TestLateFiling(t *testing.T) {
	f := newFxDB(t)
	sup := fxUSCC("S", 1)
	f.add(fxRec(fxSupplier(sup, true)))
	type version struct {
		filed string // "" for not filed
		at    time.Time
	}
	cases := []struct {
		name     string
		via      bool
		signed   string
		versions []version // stored in this order; the newest envelope time is the contract
		want     []string
	}{
		{name: "filingOnDay30", signed: "2026-03-01", versions: []version{{filed: "2026-03-31"}}},
		{name: "filingOnDay31", signed: "2026-03-01", versions: []version{{filed: "2026-04-01"}}, want: []string{"filed_late/medium"}},
		{name: "filedOnSigningDay", signed: "2026-03-01", versions: []version{{filed: "2026-03-01"}}},
		{name: "sentUnfiledThenFiledLate", signed: "2026-03-01", versions: []version{
			{at: fxDate("2026-03-01")}, {filed: "2026-04-15", at: fxDate("2026-04-15")}}, want: []string{"filed_late/medium"}},
		{name: "sentUnfiledThenFiledInTime", signed: "2026-03-01", versions: []version{
			{at: fxDate("2026-03-01")}, {filed: "2026-03-20", at: fxDate("2026-03-20")}}},
		{name: "filedVersionArrivesFirst", signed: "2026-03-01", versions: []version{
			{filed: "2026-03-20", at: fxDate("2026-03-20")}, {at: fxDate("2026-03-01")}}},
		{name: "neverFiled", signed: "2026-03-01", versions: []version{{}}, want: []string{"never_filed/medium"}},
		{name: "unfiledDay30AtEvaluation", signed: "2026-11-01", versions: []version{{}}},
		{name: "unfiledDay31AtEvaluation", signed: "2026-10-31", versions: []version{{}}, want: []string{"never_filed/medium"}},
		{name: "viaPlatformNeedsNoFiling", via: true, signed: "2026-03-01", versions: []version{{}}},
	}
	for i, c := range cases {
		b := fxUSCC("B", i)
		f.add(fxRec(fxBuyer(b)))
		for _, v := range c.versions {
			k := fxContract("HT-LF-"+c.name, sup, b, "2026-06-01", "2026-08-31", fxCompute("120000.00"))
			k.SignedOn, k.ViaPlatform = fxDate(c.signed), c.via
			if v.filed != "" {
				k.FiledOn = fxDate(v.filed)
			}
			r := fxRec(k)
			if !v.at.IsZero() {
				r = fxVersionAt(r, v.at)
			}
			f.add(r)
		}
	}
	alerts := f.run(NewLateFiling(f.env()))
	for i, c := range cases {
		mine := fxWant(t, c.name, alerts, fxUSCC("B", i), c.want...)
		for _, a := range mine {
			if a.Subjects.SupplierUSCC != sup || a.Subjects.ContractNo != "HT-LF-"+c.name || a.PolicyClause != "四.3 / P3" {
				t.Errorf("%s: got subjects %+v clause %q", c.name, a.Subjects, a.PolicyClause)
			}
		}
	}
	late := fxAlertsOn(alerts, fxUSCC("B", 1))
	if len(late) == 1 {
		if got := evFacts(late[0].Evidence)["days_after_signing"]; got != 31.0 {
			t.Errorf("filingOnDay31: got days_after_signing %v, want 31", got)
		}
		if late[0].Severity != voucherwatch.SeverityMedium {
			t.Errorf("filingOnDay31: got severity %s", late[0].Severity)
		}
	}
}

// TestLateFilingCheckMatchesRun: a contract, its buyer's registry row or a claim of its buyer
// changed one at a time yields the full run's alert about the contract byte for byte, with the
// claims citing it read by key (ClaimsCitingContractsOf, which gives what
// ClaimsCitingContracts gives of every buyer); contracts filed in time raise nothing.
func TestLateFilingCheckMatchesRun(t *testing.T) {
	db, p := detectortest.Province(t, 1)
	ctx := context.Background()
	d := NewLateFiling(Env{DB: db, Policy: rules.Default()})
	full, err := d.Run(ctx, p.Config.End)
	if err != nil {
		t.Fatal(err)
	}
	cited := 0
	for _, a := range full {
		if _, ok := evFacts(a.Evidence)["claims"]; ok {
			cited++
		}
	}
	if len(full) == 0 || cited == 0 {
		t.Fatalf("got %d late_filing alerts, %d naming claims, in the province's full run; want some of each to compare", len(full), cited)
	}
	claims, err := db.LatestClaims(ctx, voucherwatch.ClaimQuery{All: true})
	if err != nil {
		t.Fatal(err)
	}
	claimsOf := map[string][]string{}
	for _, c := range claims {
		claimsOf[c.ApplicantUSCC] = append(claimsOf[c.ApplicantUSCC], c.ClaimID)
	}
	flagged := map[[2]string]bool{}
	var changes []voucherwatch.Changes
	for i, a := range full {
		s := a.Subjects
		flagged[[2]string{s.SupplierUSCC, s.ContractNo}] = true
		if i%4 != 0 {
			continue // a quarter of them: each check costs a few queries
		}
		changes = append(changes, contractChange(s.SupplierUSCC, s.ApplicantUSCC, s.ContractNo), enterpriseChange(s.ApplicantUSCC))
		if cs := claimsOf[s.ApplicantUSCC]; len(cs) > 0 {
			changes = append(changes, claimChange(cs[0]))
		}
	}
	contracts, err := db.LatestContracts(ctx, voucherwatch.ContractQuery{All: true})
	if err != nil {
		t.Fatal(err)
	}
	var inTime voucherwatch.Changes
	for _, c := range contracts {
		if !flagged[[2]string{c.SupplierUSCC, c.ContractNo}] && len(inTime.Contracts) < 20 {
			inTime.Merge(contractChange(c.SupplierUSCC, c.BuyerUSCC, c.ContractNo))
		}
	}
	changes = append(changes, inTime)
	checkAgainstRun(t, d, full, changes, func(ch voucherwatch.Changes, a voucherwatch.Alert) bool {
		return ch.Contracts[[2]string{a.Subjects.SupplierUSCC, a.Subjects.ContractNo}] || ch.Enterprises[a.Subjects.ApplicantUSCC] ||
			len(ch.Claims) > 0 && slices.ContainsFunc(claimsOf[a.Subjects.ApplicantUSCC], func(id string) bool { return ch.Claims[id] })
	})

	all, err := db.ClaimsCitingContracts(ctx)
	if err != nil {
		t.Fatal(err)
	}
	buyers := map[string]bool{}
	for _, c := range all {
		buyers[c.BuyerUSCC] = true
	}
	keyed, err := db.ClaimsCitingContractsOf(ctx, ruleSortedKeys(buyers))
	if err != nil {
		t.Fatal(err)
	}
	key := func(cs []voucherwatch.ContractClaims) []string {
		var out []string
		for _, c := range cs {
			out = append(out, fmt.Sprint(c.BuyerUSCC, "/", c.ContractNo, " ", c.ClaimIDs))
		}
		slices.Sort(out)
		return out
	}
	if got, want := key(keyed), key(all); !slices.Equal(got, want) {
		t.Errorf("ClaimsCitingContractsOf(every buyer): got %d rows, want ClaimsCitingContracts' %d", len(got), len(want))
	}
}
