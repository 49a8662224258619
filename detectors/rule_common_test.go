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
	"github.com/voucherwatch/voucherwatch/store"
)

// TestRulesOnProvince runs every policy rule over the default provinces of seeds 1 and 2 and
// scores it against the planted cases: recall and precision at least 0.9, no look-alike flagged
// high or medium, the same alert ids on a second run, and each rule well within two seconds.
func TestRulesOnProvince(t *testing.T) {
	for _, seed := range []int64{1, 2} {
		t.Run(fmt.Sprintf("seed%d", seed), func(t *testing.T) {
			db, p := detectortest.Province(t, seed)
			env := Env{DB: db, Policy: rules.Default()}
			at := p.Config.End
			for _, d := range RuleDetectors(env) {
				start := time.Now()
				alerts, err := d.Run(context.Background(), at)
				took := time.Since(start)
				if err != nil {
					t.Fatalf("%s: %v", d.Name(), err)
				}
				if len(p.Truth.Findings("rule:"+d.Name())) == 0 {
					t.Errorf("%s: the province plants no case; the test proves nothing", d.Name())
				}
				bySeverity := map[voucherwatch.Severity]int{}
				for _, a := range alerts {
					bySeverity[a.Severity]++
					if a.Detector != d.Name() || a.Title == "" || a.Reason == "" || a.PolicyClause == "" || a.Subjects.ApplicantUSCC == "" && a.Subjects.SupplierUSCC == "" {
						t.Errorf("%s: incomplete alert %+v", d.Name(), a)
					}
				}
				// The time is logged, never asserted: speed lives in the benchmarks, and a
				// timed assertion fails on a busy machine (CI runs the crash drill beside it).
				t.Logf("%s: %d alerts %v in %v", d.Name(), len(alerts), bySeverity, took.Round(time.Millisecond))
				detectortest.Require(t, detectortest.Evaluate(d.Name(), alerts, p.Truth), 0.9)

				again, err := d.Run(context.Background(), at)
				if err != nil {
					t.Fatalf("%s again: %v", d.Name(), err)
				}
				if got, want := fxAlertIDs(again), fxAlertIDs(alerts); !slices.Equal(got, want) {
					t.Errorf("%s: ids changed between runs: got %v, want %v", d.Name(), got, want)
				}
			}
		})
	}
}

func fxAlertIDs(as []voucherwatch.Alert) []string {
	ids := make([]string, len(as))
	for i, a := range as {
		ids[i] = a.ID
	}
	slices.Sort(ids)
	return ids
}

// The fixtures below build hand-made records for the rules' tests. Every case gets enterprises of
// its own, so that the cases of one table share a database without blurring into each other.

// fxAt is the evaluation time of the rules' tests.
var fxAt = time.Date(2026, 12, 1, 9, 0, 0, 0, voucherwatch.CST)

// fxDB is one test's database and the records to store in it.
type fxDB struct {
	t    *testing.T
	db   *store.DB
	recs []voucherwatch.Record
	n    int
}

func newFxDB(t *testing.T) *fxDB {
	t.Helper()
	return &fxDB{t: t, db: detectortest.NewDB(t)}
}

func (f *fxDB) env() Env { return Env{DB: f.db, Policy: rules.Default()} }

// add queues records; a zero envelope time becomes 2026-01-01.
func (f *fxDB) add(recs ...voucherwatch.Record) {
	for _, r := range recs {
		f.n++
		if r.ID == "" {
			r.ID = fmt.Sprintf("fx-%05d", f.n)
		}
		if r.Source == "" {
			r.Source = "fixture"
		}
		if r.Time.IsZero() {
			r.Time = time.Date(2026, 1, 1, 10, 0, 0, 0, voucherwatch.CST)
		}
		f.recs = append(f.recs, r)
	}
}

// store writes the queued records.
func (f *fxDB) store() {
	f.t.Helper()
	detectortest.Store(f.t, f.db, f.recs...)
	f.recs = nil
}

// run stores the queued records, runs d twice and checks that the ids are stable.
func (f *fxDB) run(d voucherwatch.Detector) []voucherwatch.Alert {
	f.t.Helper()
	f.store()
	alerts, err := d.Run(context.Background(), fxAt)
	if err != nil {
		f.t.Fatalf("%s: %v", d.Name(), err)
	}
	again, err := d.Run(context.Background(), fxAt)
	if err != nil {
		f.t.Fatalf("%s again: %v", d.Name(), err)
	}
	if got, want := fxAlertIDs(again), fxAlertIDs(alerts); !slices.Equal(got, want) {
		f.t.Errorf("%s: ids changed between runs: got %v, want %v", d.Name(), got, want)
	}
	ids := map[string]string{}
	for _, a := range alerts {
		if kind, twice := ids[a.ID]; twice {
			f.t.Errorf("%s: id %s given to %s and %s (subjects %+v): one finding per subjects", d.Name(), a.ID, kind, a.Kind, a.Subjects)
		}
		ids[a.ID] = a.Kind
		if a.Detector != d.Name() || a.Kind == "" || a.Title == "" || a.Reason == "" || a.PolicyClause == "" || a.Evidence.Empty() {
			f.t.Errorf("%s: incomplete alert %+v", d.Name(), a)
		}
	}
	return alerts
}

func fxRec(body any) voucherwatch.Record {
	switch b := body.(type) {
	case *voucherwatch.Entity:
		return voucherwatch.Record{Envelope: voucherwatch.Envelope{Type: voucherwatch.TypeRegistry}, Entity: b}
	case *voucherwatch.Contract:
		return voucherwatch.Record{Envelope: voucherwatch.Envelope{Type: voucherwatch.TypeContract, Source: b.SupplierUSCC}, Contract: b}
	case *voucherwatch.Settlement:
		return voucherwatch.Record{Envelope: voucherwatch.Envelope{Type: voucherwatch.TypeSettlement, Source: b.SupplierUSCC}, Settlement: b}
	case *voucherwatch.Usage:
		return voucherwatch.Record{Envelope: voucherwatch.Envelope{Type: voucherwatch.TypeUsage, Source: b.SupplierUSCC}, Usage: b}
	case *voucherwatch.Claim:
		return voucherwatch.Record{Envelope: voucherwatch.Envelope{Type: voucherwatch.TypeClaim, Source: "platform:hunan-pms"}, Claim: b}
	}
	panic(fmt.Sprintf("rec: %T", body))
}

// fxVersionAt sets a record's envelope time.
func fxVersionAt(r voucherwatch.Record, t time.Time) voucherwatch.Record { r.Time = t; return r }

// fxDate parses a date in CST.
func fxDate(s string) time.Time {
	t, err := time.ParseInLocation(time.DateOnly, s, voucherwatch.CST)
	if err != nil {
		panic(err)
	}
	return t
}

// fxYuan parses yuan.
func fxYuan(s string) voucherwatch.Money {
	m, ok := voucherwatch.ParseMoney(s)
	if !ok {
		panic("bad money " + s)
	}
	return m
}

// fxUSCC makes a distinct 18-character code for a fixture enterprise (the store does not check
// the check character; the decoder, which does, is not in the way of hand-built records).
func fxUSCC(role string, n int) string { return fmt.Sprintf("91430100%s%09d", role, n) }

func fxTail(uscc string) string { return uscc[max(0, len(uscc)-4):] }

func fxBuyer(uscc string) *voucherwatch.Entity {
	return &voucherwatch.Entity{USCC: uscc, Name: "买方" + fxTail(uscc) + "科技有限公司", City: "430100"}
}

func fxSupplier(uscc string, registered bool, caps ...voucherwatch.Capacity) *voucherwatch.Entity {
	e := &voucherwatch.Entity{USCC: uscc, Name: "供方" + fxTail(uscc) + "算力科技有限公司", City: "430300",
		Supplier: &voucherwatch.SupplierProfile{Registered: registered, Capacity: caps}}
	if registered {
		e.Supplier.RegisteredOn = fxDate("2025-10-28")
	}
	return e
}

func fxCompute(amount string) voucherwatch.Item {
	return voucherwatch.Item{ServiceType: voucherwatch.ServiceComputeResource, ChipModel: "Ascend 910B", ChipOrigin: voucherwatch.OriginDomestic, Amount: fxYuan(amount)}
}

func fxItem(serviceType, amount string) voucherwatch.Item {
	return voucherwatch.Item{ServiceType: serviceType, Amount: fxYuan(amount)}
}

func fxCardHours(hours float64, amount string) voucherwatch.Item {
	it := fxCompute(amount)
	it.Unit, it.Quantity, it.Cards = voucherwatch.UnitCardHour, hours, 8
	return it
}

// fxContract is a contract bought through the platform, signed before its service.
func fxContract(no, sup, buy, start, end string, items ...voucherwatch.Item) *voucherwatch.Contract {
	c := &voucherwatch.Contract{ContractNo: no, SupplierUSCC: sup, BuyerUSCC: buy, SignedOn: fxDate(start).AddDate(0, 0, -5),
		ServiceStart: fxDate(start), ServiceEnd: fxDate(end), ViaPlatform: true, Items: items}
	for _, it := range items {
		c.Amount += it.Amount
	}
	return c
}

// fxInvoice settles a period of a contract; its amount is its items'.
func fxInvoice(c *voucherwatch.Contract, code, no, from, to string, items ...voucherwatch.Item) *voucherwatch.Settlement {
	s := &voucherwatch.Settlement{SettlementID: "JS-" + no, ContractNo: c.ContractNo, SupplierUSCC: c.SupplierUSCC, BuyerUSCC: c.BuyerUSCC,
		InvoiceCode: code, InvoiceNo: no, InvoiceDate: fxDate(to).AddDate(0, 0, 3), PaidOn: fxDate(to).AddDate(0, 0, 10),
		PeriodStart: fxDate(from), PeriodEnd: fxDate(to), Items: items, PaymentRef: "ZF" + no}
	for _, it := range items {
		s.Amount += it.Amount
	}
	s.Tax = s.Amount * 6 / 100
	return s
}

// fxClaim cites the invoices at their settled amounts and asks for requested.
func fxClaim(id, applicant, requested string, invs ...*voucherwatch.Settlement) *voucherwatch.Claim {
	c := &voucherwatch.Claim{ClaimID: id, ApplicantUSCC: applicant, Round: 2026, SubmittedOn: fxDate("2026-10-20"), City: "430100",
		ViaPlatform: true, Requested: fxYuan(requested)}
	seen := map[string]bool{}
	for _, s := range invs {
		c.Invoices = append(c.Invoices, voucherwatch.ClaimInvoice{InvoiceCode: s.InvoiceCode, InvoiceNo: s.InvoiceNo, Amount: s.Amount})
		c.UsageAmount += s.Amount
		if !seen[s.ContractNo] {
			seen[s.ContractNo] = true
			c.Contracts = append(c.Contracts, s.ContractNo)
		}
	}
	return c
}

// fxAlertsOn returns the alerts whose applicant (or, without one, supplier) is uscc.
func fxAlertsOn(alerts []voucherwatch.Alert, uscc string) []voucherwatch.Alert {
	var out []voucherwatch.Alert
	for _, a := range alerts {
		if a.Subjects.ApplicantUSCC == uscc || a.Subjects.ApplicantUSCC == "" && a.Subjects.SupplierUSCC == uscc {
			out = append(out, a)
		}
	}
	return out
}

// want is what a case expects of one party's alerts: the kinds and severities ("kind/severity"),
// sorted, or none at all.
func fxWant(t *testing.T, name string, alerts []voucherwatch.Alert, uscc string, want ...string) []voucherwatch.Alert {
	t.Helper()
	mine := fxAlertsOn(alerts, uscc)
	var got []string
	for _, a := range mine {
		got = append(got, a.Kind+"/"+string(a.Severity))
	}
	slices.Sort(got)
	want = slices.Clone(want)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("%s: got alerts %v, want %v", name, got, want)
		for _, a := range mine {
			t.Logf("%s: %s", name, a.Reason)
		}
	}
	return mine
}
