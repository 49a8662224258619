package detectors

import (
	"strings"
	"testing"
	"time"

	"github.com/voucherwatch/voucherwatch"
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
