package detectors

import (
	"fmt"
	"testing"
	"time"

	"github.com/voucherwatch/voucherwatch"
)

// fxMeter meters cards of a resource from `from` (inclusive) to `to` (exclusive) in windows of
// days, perDay card-hours a day.
func fxMeter(c *voucherwatch.Contract, resource string, cards int, from, to string, days int, perDay float64) []*voucherwatch.Usage {
	var out []*voucherwatch.Usage
	end := fxDate(to)
	for ws := fxDate(from); ws.Before(end); ws = ws.AddDate(0, 0, days) {
		we := ws.AddDate(0, 0, days)
		if we.After(end) {
			we = end
		}
		out = append(out, &voucherwatch.Usage{SupplierUSCC: c.SupplierUSCC, BuyerUSCC: c.BuyerUSCC, ContractNo: c.ContractNo,
			Tenant: "t-" + c.BuyerUSCC[12:], ResourceID: resource, ChipModel: "Ascend 910B", ChipOrigin: voucherwatch.OriginDomestic,
			Cards: cards, WindowStart: ws, WindowEnd: we, CardHours: perDay * we.Sub(ws).Hours() / 24, UtilAvg: 0.6, Jobs: 3, Users: 2})
	}
	return out
}

func TestBilledAboveMetered(t *testing.T) {
	f := newFxDB(t)
	sup, unreg := fxUSCC("S", 1), fxUSCC("S", 2)
	f.add(fxRec(fxSupplier(sup, true)), fxRec(fxSupplier(unreg, false)))
	type bill struct {
		from, to string
		hours    float64 // billed card-hours; card-months when cardMonths
	}
	march, april := "2026-03-01", "2026-04-01"
	cases := []struct {
		name       string
		supplier   string
		cardMonths bool
		bills      []bill
		perDay     float64 // metered card-hours a day, from 2026-02-26
		meterFrom  string  // metering starts; "" 2026-02-26
		meterUntil string  // exclusive; "" no metering at all
		resent     bool    // every usage record is sent twice under two ids
		want       []string
	}{
		{name: "billed18TimesMetered", bills: []bill{{march, "2026-03-31", 5580}}, perDay: 100, meterUntil: "2026-04-08", want: []string{"billed_above_metered/high"}},
		{name: "billedAsMetered", bills: []bill{{march, "2026-03-31", 3100}}, perDay: 100, meterUntil: "2026-04-08"},
		{name: "billed12TimesMetered", bills: []bill{{march, "2026-03-31", 3720}}, perDay: 100, meterUntil: "2026-04-08"},
		{name: "twiceMeteredButSmallGap", bills: []bill{{march, "2026-03-31", 186}}, perDay: 3, meterUntil: "2026-04-08"},
		{name: "cardMonthReservedAroundTheClock", cardMonths: true, bills: []bill{{march, "2026-03-31", 8}}, perDay: 8 * 24 * 0.98, meterUntil: "2026-04-08"},
		{name: "cardMonthInFebruary", cardMonths: true, bills: []bill{{"2026-02-01", "2026-02-28", 8}}, perDay: 8 * 24 * 0.97, meterFrom: "2026-01-29", meterUntil: "2026-03-05"},
		{name: "lastPeriodNotYetMetered", bills: []bill{{"2026-10-01", "2026-10-31", 3100}, {"2026-11-01", "2026-11-30", 6000}}, perDay: 100,
			meterFrom: "2026-09-26", meterUntil: "2026-11-26"},
		{name: "meteringStoppedBillingWentOn", bills: []bill{{march, "2026-03-31", 3100}, {april, "2026-04-30", 3000}}, perDay: 100, meterUntil: "2026-04-08",
			want: []string{"billed_above_metered/high"}},
		{name: "resentUsageCountsOnce", bills: []bill{{march, "2026-03-31", 5580}}, perDay: 100, meterUntil: "2026-04-08", resent: true, want: []string{"billed_above_metered/high"}},
		{name: "billedWithoutMetering", bills: []bill{{march, "2026-03-31", 3100}}, want: []string{"billed_without_metering/low"}},
		{name: "unregisteredSupplierWithoutMetering", supplier: unreg, bills: []bill{{march, "2026-03-31", 3100}}},
	}
	for i, c := range cases {
		b := fxUSCC("B", i)
		s := sup
		if c.supplier != "" {
			s = c.supplier
		}
		f.add(fxRec(fxBuyer(b)))
		k := fxContract("HT-BM-"+c.name, s, b, "2026-02-01", "2026-11-30", fxCompute("300000.00"))
		f.add(fxRec(k))
		for j, bl := range c.bills {
			it := fxCardHours(bl.hours, "1000.00")
			if c.cardMonths {
				it.Unit = voucherwatch.UnitCardMonth
			}
			f.add(fxRec(fxInvoice(k, "", fmt.Sprintf("2643200000%06d%04d", i, j), bl.from, bl.to, it)))
		}
		if c.meterUntil == "" {
			continue
		}
		from := c.meterFrom
		if from == "" {
			from = "2026-02-26"
		}
		for _, u := range fxMeter(k, "R-"+c.name, 8, from, c.meterUntil, 7, c.perDay) {
			r := fxRec(u)
			r.Time = u.WindowEnd.Add(time.Hour)
			f.add(r)
			if c.resent {
				f.add(fxRec(u)) // a new envelope id: the same window again
			}
		}
	}
	alerts := f.run(NewBilledAboveMetered(f.env()))
	for i, c := range cases {
		for _, a := range fxWant(t, c.name, alerts, fxUSCC("B", i), c.want...) {
			if a.Subjects.ContractNo != "HT-BM-"+c.name || a.Subjects.SupplierUSCC != sup {
				t.Errorf("%s: got subjects %+v", c.name, a.Subjects)
			}
		}
	}
	if a := fxAlertsOn(alerts, fxUSCC("B", 0)); len(a) == 1 {
		if got, want := evFacts(a[0].Evidence)["metered_card_hours"], 3100.0; got != want {
			t.Errorf("billed18TimesMetered: got metered %v, want %v", got, want)
		}
		if got, want := evFacts(a[0].Evidence)["billed_over_metered"], 1.8; got != want {
			t.Errorf("billed18TimesMetered: got ratio %v, want %v", got, want)
		}
	}
}
