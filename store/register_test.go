package store

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/voucherwatch/voucherwatch"
)

// The register's fixtures: November 2026, one registered supplier (supplierUSCC) whose
// resource gappyNode misses 5 of its 48 hourly windows and whose resource steadyNode reports
// 24 of 24, one window of which arrives a day late; a second supplier that reports nothing.
var registerMonth = voucherwatch.RegisterPeriod("2026-11")

const (
	quietSupplierUSCC = "91430100MA4L0QQQQ3"
	gappyNode         = "node-gappy"
	steadyNode        = "node-steady"
)

// hourOfUsage is one hourly usage window of a resource, starting h hours into November.
func hourOfUsage(resource string, h int) voucherwatch.Record {
	r := meteredCardHour(h)
	r.ID = fmt.Sprintf("usage-%s-%03d", resource, h)
	u := *r.Usage
	u.ResourceID = resource
	u.WindowStart = time.Date(2026, 11, 1, 0, 0, 0, 0, voucherwatch.CST).Add(time.Duration(h) * time.Hour)
	u.WindowEnd = u.WindowStart.Add(time.Hour)
	u.CardHours = 4
	r.Usage = &u
	return r
}

// missingFiveOfFortyEight is gappyNode's 43 windows: hours 0..47 but 10, 11, 12, 30 and 31.
func missingFiveOfFortyEight() []voucherwatch.Record {
	var recs []voucherwatch.Record
	for h := range 48 {
		switch h {
		case 10, 11, 12, 30, 31:
			continue
		}
		recs = append(recs, hourOfUsage(gappyNode, h))
	}
	return recs
}

// storeAt stores recs as if ingested at at.
func storeAt(t *testing.T, db *DB, at time.Time, typ voucherwatch.RecordType, recs []voucherwatch.Record) {
	t.Helper()
	db.now = func() time.Time { return at }
	defer func() { db.now = time.Now }()
	if _, err := db.StoreRecords(testContext(t), typ, recs); err != nil {
		t.Fatal(err)
	}
}

// registerFixture stores the register's fixtures and returns the three alerts on the
// supplier: open, dismissed and confirmed in November.
func registerFixture(t *testing.T, db *DB) (open, dismissed, confirmed voucherwatch.Alert) {
	t.Helper()
	ctx := testContext(t)
	entity := supplierOwnedByBuyerOfficer()
	quiet := envelope(voucherwatch.TypeRegistry, "platform:hunan-registry", "entity-3")
	quiet.Entity = &voucherwatch.Entity{USCC: quietSupplierUSCC, Name: "安静算力有限公司", City: "430200",
		Supplier: &voucherwatch.SupplierProfile{Capacity: []voucherwatch.Capacity{{ChipModel: "H20", ChipOrigin: voucherwatch.OriginForeign, Cards: 64}}}}
	storeAt(t, db, time.Now(), voucherwatch.TypeRegistry, []voucherwatch.Record{entity, buyerWithoutPeople(), quiet})

	// gappyNode's windows are stored on 3 Nov 00:00, steadyNode's on 2 Nov 01:00.
	nov := time.Date(2026, 11, 3, 0, 0, 0, 0, voucherwatch.CST)
	storeAt(t, db, nov, voucherwatch.TypeUsage, missingFiveOfFortyEight())
	var steady []voucherwatch.Record
	for h := range 24 {
		steady = append(steady, hourOfUsage(steadyNode, h))
	}
	storeAt(t, db, time.Date(2026, 11, 2, 1, 0, 0, 0, voucherwatch.CST), voucherwatch.TypeUsage, steady)
	// October's usage is not November's.
	storeAt(t, db, nov, voucherwatch.TypeUsage, []voucherwatch.Record{hourOfUsage(gappyNode, -3)})

	contract := unfiledDirectPurchase()
	c := *contract.Contract
	c.SignedOn, c.ServiceStart, c.ServiceEnd = date(2026, 11, 1), date(2026, 11, 1), date(2026, 11, 30)
	contract.Contract = &c
	storeAt(t, db, nov, voucherwatch.TypeContract, []voucherwatch.Record{contract})
	settlement := fullyDigitalInvoice()
	s := *settlement.Settlement
	s.InvoiceDate = date(2026, 11, 20)
	settlement.Settlement = &s
	storeAt(t, db, nov, voucherwatch.TypeSettlement, []voucherwatch.Record{settlement})

	var dls []voucherwatch.DeadLetter
	for i := range 3 {
		dls = append(dls, voucherwatch.DeadLetter{Origin: voucherwatch.Origin{Topic: "vw.usage", Partition: 0, Offset: int64(i)},
			Supplier: supplierUSCC, Reason: "card_hours: too many", At: time.Date(2026, 11, 5, 0, 0, 0, 0, voucherwatch.CST)})
	}
	// Not counted: another topic, and October.
	dls = append(dls, voucherwatch.DeadLetter{Origin: voucherwatch.Origin{Topic: "vw.contracts", Offset: 9}, Supplier: supplierUSCC,
		Reason: "x", At: time.Date(2026, 11, 5, 0, 0, 0, 0, voucherwatch.CST)},
		voucherwatch.DeadLetter{Origin: voucherwatch.Origin{Topic: "vw.usage", Offset: 10}, Supplier: supplierUSCC,
			Reason: "x", At: time.Date(2026, 10, 5, 0, 0, 0, 0, voucherwatch.CST)})
	if err := db.StoreDeadLetters(ctx, dls); err != nil {
		t.Fatal(err)
	}

	mk := func(kind string) voucherwatch.Alert {
		s := voucherwatch.Subjects{SupplierUSCC: supplierUSCC, ContractNo: "HT-2026-001", ResourceID: kind}
		return voucherwatch.Alert{ID: voucherwatch.AlertID("price_out_of_range", s), Detector: "price_out_of_range", Kind: kind,
			Severity: voucherwatch.SeverityHigh, Score: 0.8, Subjects: s, City: "430100", Title: "价格异常", Reason: "原因"}
	}
	open, dismissed, confirmed = mk("open"), mk("dismissed"), mk("confirmed")
	t0 := time.Date(2026, 11, 10, 9, 0, 0, 0, voucherwatch.CST)
	if _, err := db.UpsertAlerts(ctx, []voucherwatch.Alert{open, dismissed, confirmed}, t0); err != nil {
		t.Fatal(err)
	}
	province := voucherwatch.User{ID: "u_p", Name: "省审核员", Role: voucherwatch.RoleProvinceReviewer}
	move := func(a voucherwatch.Alert, at time.Time, path ...voucherwatch.Status) {
		from := voucherwatch.StatusNew
		for i, to := range path {
			e := voucherwatch.NewTransitionEvent(province, a.ID, from, voucherwatch.Transition{To: to, Comment: "处理"}, at.Add(time.Duration(i)*time.Hour))
			if res, err := db.AppendEvents(ctx, []voucherwatch.Event{e}); err != nil || res[0].Err != nil {
				t.Fatalf("%s → %s: %v %v", from, to, err, res)
			}
			from = to
		}
	}
	move(open, t0, voucherwatch.StatusReviewing)
	move(dismissed, t0, voucherwatch.StatusReviewing, voucherwatch.StatusDismissed)
	move(confirmed, t0, voucherwatch.StatusReviewing, voucherwatch.StatusExplanationRequested, voucherwatch.StatusConfirmed)
	return open, dismissed, confirmed
}

func TestRegisterSuppliersReadsThePeriod(t *testing.T) {
	db := newTestDB(t)
	registerFixture(t, db)
	from, to := registerMonth.Bounds()
	got, err := db.RegisterSuppliers(testContext(t), voucherwatch.RegisterQuery{From: from, To: to, OnTimeHours: 2, UsageTopic: "vw.usage"})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].USCC != quietSupplierUSCC || got[1].USCC != supplierUSCC {
		t.Fatalf("got %+v, want the two suppliers by USCC (the buyer is not one)", got)
	}
	s, q := got[1], got[0]
	// A window is on time when stored within 2 h of its end: gappyNode's from hour 45 (ending
	// 2 Nov 22:00) on, steadyNode's from hour 22 (ending 1 Nov 23:00) on.
	wantRes := []voucherwatch.ResourceReporting{
		{ResourceID: gappyNode, ExpectedHours: 48, ReceivedHours: 43, Windows: 43, OnTime: 3},
		{ResourceID: steadyNode, ExpectedHours: 24, ReceivedHours: 24, Windows: 24, OnTime: 2},
	}
	if fmt.Sprint(s.Resources) != fmt.Sprint(wantRes) {
		t.Errorf("resources: got %+v, want %+v", s.Resources, wantRes)
	}
	if s.StoredRecords != 43+24 || s.DeadLetters != 3 {
		t.Errorf("stored %d, dead letters %d: want 67 and 3 (another topic and October not counted)", s.StoredRecords, s.DeadLetters)
	}
	if s.MeteredCardHours != 4*67 || s.Buyers != 1 {
		t.Errorf("metered %v card-hours, %d buyers: want 268 and 1", s.MeteredCardHours, s.Buyers)
	}
	if s.SoldCardHours != 8*30*24 {
		t.Errorf("sold %v card-hours, want 8 cards × 720 h = 5760", s.SoldCardHours)
	}
	if s.ContractAmount != 12800001 || s.Settled != 500000 {
		t.Errorf("contract amount %v, settled %v: want 128000.01 and 5000.00", s.ContractAmount, s.Settled)
	}
	if len(s.Prices) != 1 || s.Prices[0] != (voucherwatch.PriceSample{ChipModel: "Ascend 910B", Unit: voucherwatch.UnitCardHour, Price: 1299}) {
		t.Errorf("prices: got %+v", s.Prices)
	}
	if s.ConfirmedViolations != 1 {
		t.Errorf("confirmed violations: got %d, want 1 (open and dismissed never count)", s.ConfirmedViolations)
	}
	if !s.Registered || s.RegisteredOn != "2025-09-01" || len(s.Capacity) != 1 || s.Capacity[0].Cards != 512 {
		t.Errorf("registration: got %v %q %+v", s.Registered, s.RegisteredOn, s.Capacity)
	}
	if q.Registered || len(q.Resources) != 0 || q.ConfirmedViolations != 0 || q.MeteredCardHours != 0 {
		t.Errorf("quiet supplier: got %+v", q)
	}

	// December reads nothing of November.
	from, to = voucherwatch.RegisterPeriod("2026-12").Bounds()
	dec, err := db.RegisterSuppliers(testContext(t), voucherwatch.RegisterQuery{From: from, To: to, OnTimeHours: 2, UsageTopic: "vw.usage"})
	if err != nil {
		t.Fatal(err)
	}
	if d := dec[1]; len(d.Resources) != 0 || d.DeadLetters != 0 || d.ConfirmedViolations != 0 || d.SoldCardHours != 0 || d.Settled != 0 {
		t.Errorf("December: got %+v, want nothing of November", d)
	}
}

func TestRegisterEditionsKeptLikeDraws(t *testing.T) {
	db := newTestDB(t)
	ctx := testContext(t)
	in := voucherwatch.RegisterInputs{Period: registerMonth, Suppliers: []voucherwatch.RegisterSupplierInput{
		{USCC: supplierUSCC, Name: "湖南算力科技有限公司", Settled: 500000},
		{USCC: quietSupplierUSCC, Name: "安静算力有限公司"},
	}}
	mk := func(id string, at time.Time) voucherwatch.RegisterEdition {
		return voucherwatch.RegisterEdition{ID: id, Period: registerMonth, Method: voucherwatch.RegisterMethod, InputsDigest: in.Digest(),
			Inputs: &in, Trigger: voucherwatch.RegisterOnDemand, CreatedAt: at, CreatedBy: "u_p", Suppliers: voucherwatch.ComputeRegister(in)}
	}
	t0 := time.Date(2026, 12, 1, 4, 0, 0, 0, voucherwatch.CST)
	if err := db.CreateRegisterEdition(ctx, mk("rg-1", t0)); err != nil {
		t.Fatal(err)
	}
	if err := db.CreateRegisterEdition(ctx, mk("rg-1", t0)); voucherwatch.ErrorCode(err) != voucherwatch.ECONFLICT {
		t.Errorf("same id again: got %v, want ECONFLICT", err)
	}
	if err := db.CreateRegisterEdition(ctx, mk("rg-2", t0.Add(time.Hour))); err != nil {
		t.Fatal(err)
	}
	e, err := db.RegisterEdition(ctx, "rg-1")
	if err != nil {
		t.Fatal(err)
	}
	if e.InputsDigest != in.Digest() || e.Inputs.Digest() != in.Digest() || len(e.Suppliers) != 2 || e.Suppliers[1].Settled != "5000.00" {
		t.Errorf("read back: got %+v", e)
	}
	if _, err := db.RegisterEdition(ctx, "rg-none"); voucherwatch.ErrorCode(err) != voucherwatch.ENOTFOUND {
		t.Errorf("unknown edition: got %v, want ENOTFOUND", err)
	}
	list, err := db.RegisterEditions(ctx)
	if err != nil || len(list) != 2 || list[0].ID != "rg-2" || list[0].SupplierCount != 2 || list[0].Suppliers != nil {
		t.Errorf("list: got %+v %v, want rg-2 then rg-1 without rows", list, err)
	}
	h, err := db.SupplierRegisterHistory(ctx, supplierUSCC)
	if err != nil || len(h) != 2 || h[0].EditionID != "rg-2" || h[1].Row.USCC != supplierUSCC {
		t.Errorf("history: got %+v %v", h, err)
	}
}

// BenchmarkRegisterSuppliersHistory times the register's inputs for one month (November
// 2026) with only that month stored, then again after eleven earlier months of the same
// telemetry are added: the figures read the period's partition and rollup days, so the
// ratio (history12/history1) should stay near 1 rather than grow towards 12.
//
//	VW_TEST_CLICKHOUSE=127.0.0.1:9000 go test -run '^$' -bench RegisterSuppliersHistory ./store/
func BenchmarkRegisterSuppliersHistory(b *testing.B) {
	const suppliers, resources = 5, 4
	db := newTestDB(b)
	ctx := context.Background()
	var entities []voucherwatch.Record
	for s := range suppliers {
		r := envelope(voucherwatch.TypeRegistry, "platform:hunan-registry", fmt.Sprintf("entity-b%d", s))
		r.Entity = &voucherwatch.Entity{USCC: fmt.Sprintf("91430100MA4L0B%03dX", s), Name: "算力", City: "430100",
			Supplier: &voucherwatch.SupplierProfile{Registered: true}}
		entities = append(entities, r)
	}
	if _, err := db.StoreRecords(ctx, voucherwatch.TypeRegistry, entities); err != nil {
		b.Fatal(err)
	}
	month := func(first time.Time) {
		var recs []voucherwatch.Record
		for s := range suppliers {
			for res := range resources {
				for h := 0; first.Add(time.Duration(h)*time.Hour).Month() == first.Month(); h++ {
					r := hourOfUsage(fmt.Sprintf("node-%d", res), 0)
					r.ID = fmt.Sprintf("u-%d-%d-%s-%d", s, res, first.Format("200601"), h)
					u := *r.Usage
					u.SupplierUSCC = fmt.Sprintf("91430100MA4L0B%03dX", s)
					u.WindowStart = first.Add(time.Duration(h) * time.Hour)
					u.WindowEnd = u.WindowStart.Add(time.Hour)
					r.Usage = &u
					recs = append(recs, r)
				}
			}
		}
		if _, err := db.StoreRecords(ctx, voucherwatch.TypeUsage, recs); err != nil {
			b.Fatal(err)
		}
	}
	from, to := registerMonth.Bounds()
	q := voucherwatch.RegisterQuery{From: from, To: to, OnTimeHours: 2, UsageTopic: "vw.usage"}
	measure := func() time.Duration {
		const rounds = 10
		start := time.Now()
		for range rounds {
			got, err := db.RegisterSuppliers(ctx, q)
			if err != nil {
				b.Fatal(err)
			}
			if len(got) != suppliers || len(got[0].Resources) != resources || got[0].Resources[0].ReceivedHours != 720 {
				b.Fatalf("got %+v", got[0])
			}
		}
		return time.Since(start) / rounds
	}
	month(from)
	measure() // warm the server's caches, so that the first figure is not the cold one
	one := measure()
	for m := 1; m <= 11; m++ {
		month(from.AddDate(0, -m, 0))
	}
	b.ResetTimer()
	var twelve time.Duration
	for b.Loop() {
		twelve = measure()
	}
	b.ReportMetric(float64(one.Milliseconds()), "ms/history1")
	b.ReportMetric(float64(twelve.Milliseconds()), "ms/history12")
	b.ReportMetric(float64(twelve)/float64(one), "history12/history1")
}
