package detectors

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/voucherwatch/voucherwatch"
)

// TestWashTrade: deals that go round between two or three enterprises, overlapping in time, of
// similar amounts and paid within a month of each other, are reported on each deal its buyer
// claims; suppliers buying overflow capacity from each other without claiming, mutual
// purchases far apart in time, of very different amounts, or a ring broken by one late deal
// are not. A check of the changed pairs and claims returns the alerts the run does.
func TestWashTrade(t *testing.T) {
	f := newFxDB(t)
	type deal struct {
		buyer, seller int    // parties of the case, 0..2
		start         string // first month of service; three months invoiced
		monthly       string // settled per month
		claimed       bool
	}
	cases := []struct {
		name  string
		deals []deal
		want  [3][]string // per party
	}{
		{name: "mutualClaimedByOne", deals: []deal{{0, 1, "2026-03-01", "100000.00", true}, {1, 0, "2026-03-01", "96000.00", false}},
			want: [3][]string{{"mutual_purchase/high"}}},
		{name: "mutualClaimedByBoth", deals: []deal{{0, 1, "2026-04-01", "80000.00", true}, {1, 0, "2026-04-01", "82000.00", true}},
			want: [3][]string{{"mutual_purchase/high"}, {"mutual_purchase/high"}}},
		{name: "ringOfThree", deals: []deal{{0, 1, "2026-03-01", "120000.00", true}, {1, 2, "2026-03-01", "118000.00", false}, {2, 0, "2026-03-01", "115000.00", false}},
			want: [3][]string{{"ring_purchase/high"}}},
		{name: "overflowNotClaimed", deals: []deal{{0, 1, "2026-05-01", "90000.00", false}, {1, 0, "2026-05-01", "91000.00", false}}},
		{name: "farApartInTime", deals: []deal{{0, 1, "2026-02-01", "100000.00", true}, {1, 0, "2026-08-01", "100000.00", true}}},
		{name: "veryDifferentAmounts", deals: []deal{{0, 1, "2026-03-01", "150000.00", true}, {1, 0, "2026-03-01", "20000.00", true}}},
		{name: "ringBrokenByALateDeal", deals: []deal{{0, 1, "2026-03-01", "120000.00", true}, {1, 2, "2026-03-01", "118000.00", true}, {2, 0, "2026-09-01", "115000.00", true}}},
	}
	party := func(c, p int) string { return fxUSCC("W", c*10+p) }
	changes := voucherwatch.Changes{}
	n := 0
	for ci, c := range cases {
		for p := 0; p < 3; p++ {
			f.add(fxRec(fxSupplier(party(ci, p), true)))
		}
		for di, dl := range c.deals {
			b, s := party(ci, dl.buyer), party(ci, dl.seller)
			start := fxDate(dl.start)
			month := voucherwatch.Item{ServiceType: voucherwatch.ServiceComputeResource, ChipModel: "H100", ChipOrigin: voucherwatch.OriginForeign,
				Cards: 8, Unit: voucherwatch.UnitCardMonth, Quantity: 8, Amount: fxYuan(dl.monthly)}
			k := fxContract(fmt.Sprintf("HT-WT-%s-%d", c.name, di), s, b, dl.start, start.AddDate(0, 3, -1).Format(time.DateOnly), month)
			f.add(fxRec(k))
			var invs []*voucherwatch.Settlement
			for m := 0; m < 3; m++ {
				from := start.AddDate(0, m, 0)
				n++
				inv := fxInvoice(k, "", fmt.Sprintf("2643200001%010d", n), from.Format(time.DateOnly), from.AddDate(0, 1, -1).Format(time.DateOnly), month)
				invs = append(invs, inv)
				f.add(fxRec(inv))
			}
			if dl.claimed {
				id := fmt.Sprintf("SB-WT-%d-%d", ci, di)
				f.add(fxRec(fxClaim(id, b, "1000.00", invs...)))
				setAddFx(&changes.Claims, id)
			}
			if ci%2 == 0 {
				changes.Pairs = fxPairs(changes.Pairs, [2]string{b, s})
			}
		}
	}
	d := NewWashTrade(f.env())
	alerts := f.run(d)
	for ci, c := range cases {
		for p := 0; p < 3; p++ {
			for _, a := range fxWant(t, fmt.Sprintf("%s party %d", c.name, p), alerts, party(ci, p), c.want[p]...) {
				var ev voucherwatch.TradeCycleEvidence
				_ = a.Evidence.Decode(&ev) // no graph when it does not decode
				g := ev.Graph
				if len(g.Nodes) != len(c.deals) || len(g.Edges) != len(c.deals) || a.Detector != "wash_trade" {
					t.Errorf("%s: got %s evidence %v, want a graph of the cycle", c.name, a.Detector, a.Evidence)
					continue
				}
				if g.Edges[0].ContractNo != a.Subjects.ContractNo || g.Nodes[0].Role != "applicant" {
					t.Errorf("%s: got the cycle %+v, want it to start with the claimed deal", c.name, g)
				}
				if got, want := ev.CycleLength, len(c.deals); got != want {
					t.Errorf("%s: got a cycle of %v, want %d", c.name, got, want)
				}
			}
		}
	}
	checked, err := d.Check(context.Background(), fxAt, changes)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := fxAlertJSON(t, checked), fxAlertJSON(t, alerts); !slices.Equal(got, want) {
		t.Errorf("check of the changed pairs and claims: got\n%v\nwant\n%v", got, want)
	}
}

func setAddFx(m *map[string]bool, k string) {
	if *m == nil {
		*m = map[string]bool{}
	}
	(*m)[k] = true
}

func fxPairs(m map[[2]string]bool, p [2]string) map[[2]string]bool {
	if m == nil {
		m = map[[2]string]bool{}
	}
	m[p] = true
	return m
}
