package detectors

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/voucherwatch/voucherwatch"
)

// fxDayUse is what one day of a contract's metering shows: utilisation, jobs and users.
type fxDayUse func(day int) (util float64, jobs, users int)

// fxMeterDays meters 8 reserved cards of c from `from` for n days in windows of `window` days;
// a window's utilisation is the mean of its days', its jobs and users the sums and the most.
func fxMeterDays(c *voucherwatch.Contract, from string, n, window int, use fxDayUse) []*voucherwatch.Usage {
	var out []*voucherwatch.Usage
	start := fxDate(from)
	for i := 0; i < n; i += window {
		k := min(window, n-i)
		var util float64
		jobs, users := 0, 0
		for j := i; j < i+k; j++ {
			u, jb, us := use(j)
			util += u / float64(k)
			jobs += jb
			users = max(users, us)
		}
		ws := start.AddDate(0, 0, i)
		out = append(out, &voucherwatch.Usage{SupplierUSCC: c.SupplierUSCC, BuyerUSCC: c.BuyerUSCC, ContractNo: c.ContractNo,
			Tenant: "t-" + fxTail(c.BuyerUSCC), ResourceID: c.ContractNo + "-N000", ChipModel: "Ascend 910B", ChipOrigin: voucherwatch.OriginDomestic,
			Cards: 8, WindowStart: ws, WindowEnd: ws.AddDate(0, 0, k), CardHours: float64(8 * 24 * k), UtilAvg: util, Jobs: jobs, Users: users})
	}
	return out
}

func fxUsed(int) (float64, int, int) { return 0.62, 6, 3 }
func fxIdle(int) (float64, int, int) { return 0.01, 0, 0 }

// fxIdleFrom is idle from day `from` on (and used before), or idle on days [from, to).
func fxIdleFrom(from, to int) fxDayUse {
	return func(d int) (float64, int, int) {
		if d >= from && (to == 0 || d < to) {
			return fxIdle(d)
		}
		return fxUsed(d)
	}
}

// TestIdleConsumption: claimed contracts metered idle for most of their paid period are
// reported, high from 80 % of the days; a holiday week, a training job with low utilisation but
// steady jobs, a contract early in its term and an idle contract nobody claims are not. A
// check of the changed records returns the alerts the run does.
func TestIdleConsumption(t *testing.T) {
	f := newFxDB(t)
	sup := fxUSCC("S", 1)
	f.add(fxRec(fxSupplier(sup, true)))
	cases := []struct {
		name        string
		start, end  string // contract term
		months      int    // invoiced months from start
		days        int    // metered days from start
		window      int    // days per metering window
		use         fxDayUse
		unclaimed   bool
		want        []string
		idleDaysAre int
	}{
		{name: "idleWholePaidPeriod", months: 4, days: 130, window: 1, use: fxIdle, want: []string{"idle_paid_period/high"}, idleDaysAre: 122},
		{name: "idleAfterThreeWeeks", months: 4, days: 130, window: 1, use: fxIdleFrom(21, 0), want: []string{"idle_paid_period/high"}, idleDaysAre: 101},
		{name: "idleTwoThirds", months: 4, days: 130, window: 1, use: fxIdleFrom(38, 0), want: []string{"idle_paid_period/medium"}, idleDaysAre: 84},
		{name: "idleInWeeklyWindows", months: 4, days: 126, window: 7, use: fxIdle, want: []string{"idle_paid_period/high"}, idleDaysAre: 122},
		{name: "holidayWeekIdle", months: 4, days: 130, window: 1, use: fxIdleFrom(40, 49)},
		{name: "lowUtilisationSteadyJobs", months: 4, days: 130, window: 1, use: func(int) (float64, int, int) { return 0.03, 4, 2 }},
		{name: "earlyInTerm", start: "2026-10-01", end: "2027-09-30", months: 1, days: 45, window: 1, use: fxIdle},
		{name: "idleNotClaimed", months: 4, days: 130, window: 1, use: fxIdle, unclaimed: true},
		{name: "usedAllAlong", months: 4, days: 130, window: 1, use: fxUsed},
	}
	var claims []string
	for i, c := range cases {
		b := fxUSCC("B", i)
		f.add(fxRec(fxBuyer(b)))
		start, end := "2026-03-01", "2026-06-30"
		if c.start != "" {
			start, end = c.start, c.end
		}
		month := voucherwatch.Item{ServiceType: voucherwatch.ServiceComputeResource, ChipModel: "Ascend 910B", ChipOrigin: voucherwatch.OriginDomestic,
			Cards: 8, Unit: voucherwatch.UnitCardMonth, Quantity: 8, UnitPrice: fxYuan("6000.00"), Amount: fxYuan("48000.00")}
		k := fxContract("HT-IC-"+c.name, sup, b, start, end, month)
		f.add(fxRec(k))
		var invs []*voucherwatch.Settlement
		for m := 0; m < c.months; m++ {
			from := fxDate(start).AddDate(0, m, 0)
			to := from.AddDate(0, 1, -1)
			s := fxInvoice(k, "", fmt.Sprintf("2643200000%06d%04d", i, m), from.Format(time.DateOnly), to.Format(time.DateOnly), month)
			invs = append(invs, s)
			f.add(fxRec(s))
		}
		for _, u := range fxMeterDays(k, start, c.days, c.window, c.use) {
			r := fxRec(u)
			r.Time = u.WindowEnd.Add(time.Hour)
			f.add(r)
		}
		if !c.unclaimed {
			id := fmt.Sprintf("SB-IC-%02d", i)
			f.add(fxRec(fxClaim(id, b, "10000.00", invs...)))
			claims = append(claims, id)
		}
	}
	d := NewIdleConsumption(f.env())
	alerts := f.run(d)
	for i, c := range cases {
		for _, a := range fxWant(t, c.name, alerts, fxUSCC("B", i), c.want...) {
			if got := evFacts(a.Evidence)["idle_days"]; got != float64(c.idleDaysAre) {
				t.Errorf("%s: got %v idle days, want %d", c.name, got, c.idleDaysAre)
			}
			if a.Subjects.ContractNo != "HT-IC-"+c.name || a.Subjects.SupplierUSCC != sup || a.Detector != "idle_consumption" {
				t.Errorf("%s: got %s subjects %+v", c.name, a.Detector, a.Subjects)
			}
			if tl, ok := evFacts(a.Evidence)["timeline"]; !ok || fmt.Sprint(tl) == "[]" {
				t.Errorf("%s: got no timeline in the evidence", c.name)
			}
		}
	}

	// A check of every claim returns what the run returned, byte for byte.
	checked, err := d.Check(context.Background(), fxAt, voucherwatch.Changes{Claims: fxSet(claims...)})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := fxAlertJSON(t, checked), fxAlertJSON(t, alerts); !slices.Equal(got, want) {
		t.Errorf("check of the claims: got\n%v\nwant\n%v", got, want)
	}
}

func fxSet(keys ...string) map[string]bool {
	m := map[string]bool{}
	for _, k := range keys {
		m[k] = true
	}
	return m
}

// fxAlertJSON marshals alerts sorted by id, for comparing a check with a run.
func fxAlertJSON(t *testing.T, as []voucherwatch.Alert) []string {
	t.Helper()
	var out []string
	for _, a := range as {
		b, err := json.Marshal(a)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, string(b))
	}
	slices.Sort(out)
	return out
}
