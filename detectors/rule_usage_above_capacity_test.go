package detectors

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/voucherwatch/voucherwatch"
	"github.com/voucherwatch/voucherwatch/detectors/detectortest"
	"github.com/voucherwatch/voucherwatch/rules"
)

func TestUsageAboveCapacity(t *testing.T) {
	f := newFxDB(t)
	line := func(model string, cards int, dc string) voucherwatch.Capacity {
		return voucherwatch.Capacity{ChipModel: model, ChipOrigin: voucherwatch.OriginDomestic, Cards: cards, Datacenter: dc}
	}
	type tenancy struct {
		resources []int  // cards of each resource
		shared    string // meter on this case's resource "R0" of the first tenant instead (the same physical node)
		from, to  string
		chip      string // "" Ascend 910B
	}
	cases := []struct {
		name       string
		registered bool
		capacity   []voucherwatch.Capacity
		tenants    []tenancy
		want       []string
	}{
		{name: "threeTenantsOn64", registered: true, capacity: []voucherwatch.Capacity{line("Ascend 910B", 64, "A")},
			tenants: []tenancy{{resources: []int{48}, from: "2026-03-01", to: "2026-06-01"}, {resources: []int{48}, from: "2026-03-05", to: "2026-06-05"},
				{resources: []int{48}, from: "2026-03-09", to: "2026-06-09"}},
			want: []string{"metered_above_registered_capacity/high"}},
		{name: "exactlyAtCapacity", registered: true, capacity: []voucherwatch.Capacity{line("Ascend 910B", 64, "A")},
			tenants: []tenancy{{resources: []int{32, 32}, from: "2026-03-01", to: "2026-06-01"}}},
		{name: "oneCardOver", registered: true, capacity: []voucherwatch.Capacity{line("Ascend 910B", 64, "A")},
			tenants: []tenancy{{resources: []int{32, 32}, from: "2026-03-01", to: "2026-06-01"}, {resources: []int{1}, from: "2026-04-01", to: "2026-04-02"}},
			want:    []string{"metered_above_registered_capacity/high"}},
		{name: "twoDatacentresSummed", registered: true, capacity: []voucherwatch.Capacity{line("Ascend 910B", 32, "A"), line("Ascend 910B", 32, "B")},
			tenants: []tenancy{{resources: []int{32, 32}, from: "2026-03-01", to: "2026-06-01"}}},
		{name: "letInTurn", registered: true, capacity: []voucherwatch.Capacity{line("Ascend 910B", 64, "A")},
			tenants: []tenancy{{resources: []int{64}, from: "2026-03-01", to: "2026-04-01"}, {resources: []int{64}, from: "2026-04-01", to: "2026-05-01"}}},
		{name: "oneNodeMeteredToTwoTenants", registered: true, capacity: []voucherwatch.Capacity{line("Ascend 910B", 16, "A")},
			tenants: []tenancy{{resources: []int{8, 8}, from: "2026-03-01", to: "2026-06-01"}, {shared: "R0", from: "2026-03-10", to: "2026-04-20"}}},
		{name: "chipSpelledDifferently", registered: true, capacity: []voucherwatch.Capacity{line("Ascend 910B", 64, "A")},
			tenants: []tenancy{{resources: []int{64}, from: "2026-03-01", to: "2026-06-01", chip: "ascend910B"}}},
		{name: "chipNotRegistered", registered: true, capacity: []voucherwatch.Capacity{line("Ascend 910B", 64, "A")},
			tenants: []tenancy{{resources: []int{8}, from: "2026-03-01", to: "2026-06-01", chip: "H800"}},
			want:    []string{"metered_chip_not_registered/medium"}},
		{name: "unregisteredSupplier", capacity: []voucherwatch.Capacity{line("Ascend 910B", 8, "A")},
			tenants: []tenancy{{resources: []int{64}, from: "2026-03-01", to: "2026-06-01"}}},
	}
	for i, c := range cases {
		s := fxUSCC("S", i)
		f.add(fxRec(fxSupplier(s, c.registered, c.capacity...)))
		for j, tn := range c.tenants {
			b := fxUSCC("B", 100*i+j)
			f.add(fxRec(fxBuyer(b)))
			k := fxContract(fmt.Sprintf("HT-UC-%s-%d", c.name, j), s, b, tn.from, tn.to, fxCompute("100000.00"))
			f.add(fxRec(k))
			res := map[string]int{}
			for n, cards := range tn.resources {
				res[fmt.Sprintf("%s-%d-R%d", c.name, j, n)] = cards
			}
			if tn.shared != "" {
				res[c.name+"-0-"+tn.shared] = c.tenants[0].resources[0]
			}
			for id, cards := range res {
				for _, u := range fxMeter(k, id, cards, tn.from, tn.to, 7, float64(cards)*20) {
					if tn.chip != "" {
						u.ChipModel = tn.chip
					}
					f.add(fxRec(u))
				}
			}
		}
	}
	d := NewUsageAboveCapacity(f.env())
	alerts := f.run(d)
	for i, c := range cases {
		for _, a := range fxWant(t, c.name, alerts, fxUSCC("S", i), c.want...) {
			if a.Subjects != (voucherwatch.Subjects{SupplierUSCC: fxUSCC("S", i)}) || a.PolicyClause != "五.1 / M1d" || a.City != "430300" {
				t.Errorf("%s: got subjects %+v clause %q city %q", c.name, a.Subjects, a.PolicyClause, a.City)
			}
		}
	}
	if a := fxAlertsOn(alerts, fxUSCC("S", 0)); len(a) == 1 {
		ev := evFacts(a[0].Evidence)
		if ev["peak_cards"] != 144.0 || ev["registered_cards"] != 64.0 {
			t.Errorf("threeTenantsOn64: got peak %v of %v, want 144 of 64", ev["peak_cards"], ev["registered_cards"])
		}
		if got, want := ev["first_above_capacity"], "2026-03-05T00:00:00+08:00"; got != want {
			t.Errorf("threeTenantsOn64: got first above capacity %v, want %v", got, want)
		}
	}

	// A supplier's registry row: its check is the full run's alerts about it, byte for byte
	// (the keyed sweep reads usage_runs by supplier, the full one the kept units); a buyer's
	// registry row and usage alone return nothing.
	ctx := context.Background()
	start := time.Now()
	defer func() { t.Logf("checks took %v", time.Since(start)) }()
	for i, c := range cases {
		got, err := d.Check(ctx, fxAt, enterpriseChange(fxUSCC("S", i)))
		if err != nil {
			t.Fatal(err)
		}
		if want := fxAlertsOn(alerts, fxUSCC("S", i)); len(got) != len(want) {
			t.Errorf("%s: Check(the supplier's registry row): got %d alerts, want the full run's %d", c.name, len(got), len(want))
		}
		sameAsRun(t, alerts, got)
	}
	for _, ch := range []voucherwatch.Changes{enterpriseChange(fxUSCC("B", 0), fxUSCC("B", 1)), {Usage: 10}} {
		if got, err := d.Check(ctx, fxAt, ch); err != nil || len(got) != 0 {
			t.Errorf("Check(%v): got %d alerts, %v; want none", ch, len(got), err)
		}
	}
}

// TestUsageAboveCapacityCheckMatchesRun checks usage_above_capacity's keyed path against its
// full run on the synthetic province: the registry row of a flagged supplier yields the full
// run's alerts about it byte for byte (its peaks from usage_runs by supplier, the full run's
// from the kept units); registered suppliers the full run does not flag raise nothing.
func TestUsageAboveCapacityCheckMatchesRun(t *testing.T) {
	db, p := detectortest.Province(t, 1)
	ctx := context.Background()
	d := NewUsageAboveCapacity(Env{DB: db, Policy: rules.Default()})
	full, err := d.Run(ctx, p.Config.End)
	if err != nil {
		t.Fatal(err)
	}
	if len(full) == 0 {
		t.Fatal("got no usage_above_capacity alert in the province's full run, want some to compare")
	}
	flagged := map[string]bool{}
	var changes []voucherwatch.Changes
	for _, a := range full {
		if !flagged[a.Subjects.SupplierUSCC] {
			flagged[a.Subjects.SupplierUSCC] = true
			changes = append(changes, enterpriseChange(a.Subjects.SupplierUSCC))
		}
	}
	ents, err := db.LatestEntities(ctx)
	if err != nil {
		t.Fatal(err)
	}
	clean := enterpriseChange()
	for _, e := range ents {
		if e.Supplier != nil && e.Supplier.Registered && !flagged[e.USCC] && len(clean.Enterprises) < 5 {
			clean.Enterprises[e.USCC] = true
		}
	}
	if len(clean.Enterprises) == 0 {
		t.Fatal("every registered supplier of the province is flagged; want clean ones to compare")
	}
	changes = append(changes, clean)
	checkAgainstRun(t, d, full, changes, func(ch voucherwatch.Changes, a voucherwatch.Alert) bool {
		return ch.Enterprises[a.Subjects.SupplierUSCC]
	})
	t.Logf("%d alerts of %d suppliers, %d checks", len(full), len(flagged), len(changes))
}
