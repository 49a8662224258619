package detectors

import (
	"testing"
	"time"

	"github.com/voucherwatch/voucherwatch"
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
