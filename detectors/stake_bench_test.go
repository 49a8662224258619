package detectors

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/voucherwatch/voucherwatch"
	"github.com/voucherwatch/voucherwatch/detectors/detectortest"
	"github.com/voucherwatch/voucherwatch/rules"
	"github.com/voucherwatch/voucherwatch/synth"
)

// BenchmarkStakeOverhead measures what money at stake adds to a full run of every detector on
// the demo province: each iteration runs every detector (the baseline) and then annotates the
// alerts with a staker that reads its facts afresh, as a full run does. It reports
// stake/run, the staker's time as a share of the detectors' time in the same iteration.
func BenchmarkStakeOverhead(b *testing.B) {
	db, p := detectortest.Province(b, synth.DemoSeed)
	env := Env{DB: db, Policy: rules.Default()}
	ctx := context.Background()
	var runs, stakes time.Duration
	for i := 0; i < b.N; i++ {
		start := time.Now()
		var all []voucherwatch.Alert
		for _, d := range All(env) {
			alerts, err := d.Run(ctx, p.Config.End)
			if err != nil {
				b.Fatal(err)
			}
			all = append(all, alerts...)
		}
		mid := time.Now()
		if err := NewStaker(env).Annotate(ctx, all, p.Config.End); err != nil {
			b.Fatal(err)
		}
		runs += mid.Sub(start)
		stakes += time.Since(mid)
	}
	b.ReportMetric(float64(stakes)/float64(runs), "stake/run")
}

// stakeProvince stores a province of the 100 M history's counts straight into a test
// database: the registry of 5,000 buyers and 556 registered suppliers, 9,100 contracts
// between them, 42,000 settlements of
// them (one invoice each, a tenth of them re-sent as a second version) and 3,300 claims, each
// citing the invoices of one contract (its buyer's). It returns a deal per pair and per
// contract that the claims cite.
func stakeProvince(b *testing.B) (Env, time.Time, []voucherwatch.Subjects) {
	db := detectortest.NewDB(b)
	const (
		contracts, settlements, claims = 9100, 42000, 3300
		buyers, suppliers              = 5000, 556
	)
	day := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	uscc := func(kind byte, i int) string { return fmt.Sprintf("914301%c%011d", kind, i) }
	item := voucherwatch.Item{ServiceType: "compute_resource", ChipModel: "Ascend 910B", ChipOrigin: "domestic", Cards: 8,
		UnitPrice: 1200, Unit: "card_hour", Quantity: 500, Amount: 600000}
	var recs []voucherwatch.Record
	for i := range buyers + suppliers {
		e := voucherwatch.Entity{USCC: uscc('B', i), Name: fmt.Sprintf("需求企业%d", i), City: "430100", RegisteredOn: day.AddDate(-5, 0, 0)}
		if i >= buyers {
			e.USCC, e.Name = uscc('S', i-buyers), fmt.Sprintf("算力企业%d", i-buyers)
			e.Supplier = &voucherwatch.SupplierProfile{Registered: true, RegisteredOn: day.AddDate(-1, 0, 0)}
		}
		recs = append(recs, voucherwatch.Record{Envelope: voucherwatch.Envelope{Type: voucherwatch.TypeRegistry, Time: day}, Entity: &e})
	}
	type deal struct{ buyer, supplier, no string }
	deals := make([]deal, contracts)
	for i := range contracts {
		deals[i] = deal{uscc('B', i*7%buyers), uscc('S', i%suppliers), fmt.Sprintf("HT-%05d", i)}
		recs = append(recs, voucherwatch.Record{Envelope: voucherwatch.Envelope{Type: voucherwatch.TypeContract, Time: day},
			Contract: &voucherwatch.Contract{ContractNo: deals[i].no, SupplierUSCC: deals[i].supplier, BuyerUSCC: deals[i].buyer,
				SignedOn: day, Amount: 6000000, Items: []voucherwatch.Item{item}}})
	}
	invoices := make([][]voucherwatch.ClaimInvoice, contracts)
	for j := range settlements {
		d := deals[j%contracts]
		no := fmt.Sprintf("%08d", j)
		key, _ := voucherwatch.CanonicalInvoice("4300261130", no)
		s := voucherwatch.Settlement{SettlementID: "ST-" + no, ContractNo: d.no, SupplierUSCC: d.supplier, BuyerUSCC: d.buyer,
			InvoiceCode: "4300261130", InvoiceNo: no, InvoiceKey: key, InvoiceDate: day.AddDate(0, 1, 0), Amount: 600000, Tax: 36000,
			PeriodStart: day, PeriodEnd: day.AddDate(0, 1, -1), Items: []voucherwatch.Item{item}}
		recs = append(recs, voucherwatch.Record{Envelope: voucherwatch.Envelope{Type: voucherwatch.TypeSettlement, Time: day.AddDate(0, 1, 0)}, Settlement: &s})
		if j%10 == 0 {
			again := s
			again.Amount = 590000
			recs = append(recs, voucherwatch.Record{Envelope: voucherwatch.Envelope{Type: voucherwatch.TypeSettlement, ID: "again-" + no, Time: day.AddDate(0, 1, 1)}, Settlement: &again})
		}
		invoices[j%contracts] = append(invoices[j%contracts], voucherwatch.ClaimInvoice{InvoiceCode: "4300261130", InvoiceNo: no, Amount: 600000})
	}
	var cited []voucherwatch.Subjects
	for k := range claims {
		c := k * 2 % contracts
		d := deals[c]
		recs = append(recs, voucherwatch.Record{Envelope: voucherwatch.Envelope{Type: voucherwatch.TypeClaim, Time: day.AddDate(0, 3, 0)},
			Claim: &voucherwatch.Claim{ClaimID: fmt.Sprintf("CL-%05d", k), ApplicantUSCC: d.buyer, Round: 1, SubmittedOn: day.AddDate(0, 3, 0),
				Contracts: []string{d.no}, Invoices: invoices[c], UsageAmount: 2400000, Requested: 480000}})
		if k%100 == 0 {
			cited = append(cited, voucherwatch.Subjects{ApplicantUSCC: d.buyer, SupplierUSCC: d.supplier},
				voucherwatch.Subjects{ApplicantUSCC: d.buyer, SupplierUSCC: d.supplier, ContractNo: d.no})
		}
	}
	detectortest.Store(b, db, recs...)
	return Env{DB: db, Policy: rules.Default()}, day.AddDate(0, 4, 0), cited
}

// BenchmarkStakeKeyedDeals measures the money at stake of one check's alerts naming deals and
// no claim (a related-party pair, an out-of-band contract), on a province of the 100 M
// history's counts: the keyed read of the deals' settlements and claims against the full read
// of every claim and settlement (what such alerts took before), in the same iteration. It
// reports keyed/full, the keyed time as a share of the full one.
func BenchmarkStakeKeyedDeals(b *testing.B) {
	env, at, deals := stakeProvince(b)
	ctx := context.Background()
	alerts := make([]voucherwatch.Alert, 2)
	var keyed, full time.Duration
	st := NewStaker(env)
	for i := 0; i < b.N; i++ {
		d := deals[2*(i%(len(deals)/2)):]
		alerts[0] = voucherwatch.Alert{Detector: voucherwatch.DetectorRelatedParty, Subjects: d[0]}
		alerts[1] = voucherwatch.Alert{Detector: voucherwatch.DetectorPrice, Kind: KindUnitPriceFarAbove, Subjects: d[1]}
		start := time.Now()
		st.Invalidate()
		if err := st.Annotate(ctx, alerts, at); err != nil {
			b.Fatal(err)
		}
		if alerts[0].AtStake <= 0 {
			b.Fatalf("pair %+v: nothing at stake, want its claims' subsidy", d[0])
		}
		mid := time.Now()
		f, err := loadStakeFacts(ctx, env)
		if err != nil {
			b.Fatal(err)
		}
		want := alerts[0]
		stakeAlert(env, f, &want)
		if want.AtStake != alerts[0].AtStake {
			b.Fatalf("pair %+v: keyed %v, full %v", d[0], alerts[0].AtStake, want.AtStake)
		}
		keyed += mid.Sub(start)
		full += time.Since(mid)
	}
	b.ReportMetric(float64(keyed)/float64(full), "keyed/full")
	b.ReportMetric(float64(keyed.Milliseconds())/float64(b.N), "keyed-ms/op")
	b.ReportMetric(float64(full.Milliseconds())/float64(b.N), "full-ms/op")
}
