package detectors

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/voucherwatch/voucherwatch"
	"github.com/voucherwatch/voucherwatch/detectors/detectortest"
	"github.com/voucherwatch/voucherwatch/rules"
	"github.com/voucherwatch/voucherwatch/store"
	"github.com/voucherwatch/voucherwatch/synth"
)

// dupAt is the evaluation time of the duplicate_claim and price tests.
var dupAt = time.Date(2026, 12, 1, 9, 0, 0, 0, voucherwatch.CST)

// The parties of the fixtures: buyers in 长沙, 株洲 and 湘潭, suppliers in 长沙. The suppliers'
// codes have T where they had S, which is outside the USCC alphabet and made them no codes.
var (
	dupBuyerA    = voucherwatch.CompleteUSCC("91430100MA4L00001")
	dupBuyerB    = voucherwatch.CompleteUSCC("91430200MA4L00002")
	dupBuyerC    = voucherwatch.CompleteUSCC("91430300MA4L00003")
	dupSupplierS = voucherwatch.CompleteUSCC("91430100MA4T00001")
	dupSupplierT = voucherwatch.CompleteUSCC("91430100MA4T00002")
)

var dupCities = map[string]string{
	dupBuyerA: "430100", dupBuyerB: "430200", dupBuyerC: "430300", dupSupplierS: "430100", dupSupplierT: "430100",
}

// dupFixture collects hand-built records; each gets its own envelope id and a later envelope
// time than the one before, so that the order of building is the order of arrival.
type dupFixture struct {
	recs []voucherwatch.Record
	next time.Time
}

func newDupFixture() *dupFixture {
	f := &dupFixture{next: time.Date(2026, 1, 1, 9, 0, 0, 0, voucherwatch.CST)}
	for _, u := range slices.Sorted(slices.Values(dupKeys(dupCities))) {
		f.add(voucherwatch.Record{Envelope: voucherwatch.Envelope{Source: "platform:hunan-registry", Type: voucherwatch.TypeRegistry},
			Entity: &voucherwatch.Entity{USCC: u, Name: "企业" + u[14:], City: dupCities[u]}})
	}
	return f
}

func dupKeys(m map[string]string) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

func (f *dupFixture) add(r voucherwatch.Record) {
	if r.Source == "" {
		r.Source = "fixture"
	}
	if r.ID == "" {
		r.ID = fmt.Sprintf("%s-%04d", r.Type, len(f.recs))
	}
	if r.Time.IsZero() {
		r.Time = f.next
	}
	f.next = f.next.Add(time.Hour)
	f.recs = append(f.recs, r)
}

func dupDay(s string) time.Time {
	t, err := time.ParseInLocation(time.DateOnly, s, voucherwatch.CST)
	if err != nil {
		panic(err)
	}
	return t
}

func dupStampT(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return t
}

func dupMoney(s string) voucherwatch.Money {
	m, ok := voucherwatch.ParseMoney(s)
	if !ok {
		panic("bad money " + s)
	}
	return m
}

// contract records a contract of one card-hour item.
func (f *dupFixture) contract(supplier, buyer, no, chip string, price string) {
	it := voucherwatch.Item{ServiceType: voucherwatch.ServiceComputeResource, ChipModel: chip, ChipOrigin: voucherwatch.OriginForeign,
		Cards: 8, UnitPrice: dupMoney(price), Unit: voucherwatch.UnitCardHour, Quantity: 1000, Amount: dupMoney(price) * 1000}
	f.add(voucherwatch.Record{Envelope: voucherwatch.Envelope{Source: supplier, Type: voucherwatch.TypeContract},
		Contract: &voucherwatch.Contract{ContractNo: no, SupplierUSCC: supplier, BuyerUSCC: buyer, SignedOn: dupDay("2026-02-01"),
			ServiceStart: dupDay("2026-02-02"), ServiceEnd: dupDay("2026-06-01"), Amount: it.Amount, Items: []voucherwatch.Item{it},
			ViaPlatform: true}})
}

// dupSettle is what a fixture settlement varies.
type dupSettle struct {
	supplier, buyer, contract string
	code, no                  string
	amount                    string
	ref                       string
	paid                      string
	payer, payee              string
}

func (f *dupFixture) settlement(s dupSettle) {
	if s.payer == "" {
		s.payer = "acct-" + s.buyer[14:]
	}
	if s.payee == "" {
		s.payee = "acct-" + s.supplier[14:]
	}
	if s.ref == "" {
		s.ref = "ZF" + s.code + s.no
	}
	paid := dupDay(s.paid)
	f.add(voucherwatch.Record{Envelope: voucherwatch.Envelope{Source: s.supplier, Type: voucherwatch.TypeSettlement, Time: paid.Add(15 * time.Hour)},
		Settlement: &voucherwatch.Settlement{SettlementID: "JS-" + s.no, ContractNo: s.contract, SupplierUSCC: s.supplier, BuyerUSCC: s.buyer,
			InvoiceCode: s.code, InvoiceNo: s.no, InvoiceDate: paid.AddDate(0, 0, -5), Amount: dupMoney(s.amount), Tax: dupMoney(s.amount) * 6 / 100,
			PaymentRef: s.ref, PaidOn: paid, PayerAccount: s.payer, PayeeAccount: s.payee,
			PeriodStart: paid.AddDate(0, -1, -10), PeriodEnd: paid.AddDate(0, 0, -11)}})
}

// claim records a claim; invoices are "code/no=amount" or "no=amount".
func (f *dupFixture) claim(id, applicant, submitted string, contracts []string, invoices ...string) {
	c := &voucherwatch.Claim{ClaimID: id, ApplicantUSCC: applicant, Round: 2026, SubmittedOn: dupDay(submitted),
		City: dupCities[applicant], ViaPlatform: true, Contracts: contracts, ChipOrigin: voucherwatch.OriginForeign}
	for _, s := range invoices {
		inv, amount, _ := strings.Cut(s, "=")
		code, no, ok := strings.Cut(inv, "/")
		if !ok {
			code, no = "", inv
		}
		m := dupMoney(amount)
		c.Invoices = append(c.Invoices, voucherwatch.ClaimInvoice{InvoiceCode: code, InvoiceNo: no, Amount: m})
		c.UsageAmount += m
	}
	c.Requested = c.UsageAmount * 30 / 100
	f.add(voucherwatch.Record{Envelope: voucherwatch.Envelope{Source: synth.SourcePMS, Type: voucherwatch.TypeClaim,
		Time: dupDay(submitted).Add(10 * time.Hour)}, Claim: c})
}

// usage records one window of a resource.
func (f *dupFixture) usage(supplier, buyer, contract, resource string, cards int, start, end string) {
	ws, we := dupStampT(start), dupStampT(end)
	f.add(voucherwatch.Record{Envelope: voucherwatch.Envelope{Source: supplier, Type: voucherwatch.TypeUsage, Time: we.Add(time.Hour)},
		Usage: &voucherwatch.Usage{SupplierUSCC: supplier, BuyerUSCC: buyer, ContractNo: contract, Tenant: "t-" + buyer[12:],
			ResourceID: resource, ChipModel: "A800", ChipOrigin: voucherwatch.OriginForeign, Cards: cards, WindowStart: ws, WindowEnd: we,
			CardHours: float64(cards) * we.Sub(ws).Hours() * 0.8, UtilAvg: 0.6, Jobs: 3, Users: 2}})
}

// usageDays records daily windows of a resource from start for n days.
func (f *dupFixture) usageDays(supplier, buyer, contract, resource string, cards int, start string, n int) {
	day := dupStampT(start)
	for i := 0; i < n; i++ {
		ws := day.AddDate(0, 0, i)
		f.usage(supplier, buyer, contract, resource, cards, ws.Format(time.RFC3339), ws.AddDate(0, 0, 1).Format(time.RFC3339))
	}
}

// dupWant is an alert a case expects: its kind, severity and exact subjects.
type dupWant struct {
	kind     string
	severity voucherwatch.Severity
	subjects voucherwatch.Subjects
}

func (w dupWant) String() string { return fmt.Sprintf("%s/%s %+v", w.kind, w.severity, w.subjects) }

func dupGot(alerts []voucherwatch.Alert) []string {
	var out []string
	for _, a := range alerts {
		out = append(out, dupWant{a.Kind, a.Severity, a.Subjects}.String())
	}
	sort.Strings(out)
	return out
}

// dupRequireAlerts fails unless alerts are exactly want (in any order).
func dupRequireAlerts(t *testing.T, alerts []voucherwatch.Alert, want []dupWant) {
	t.Helper()
	var ws []string
	for _, w := range want {
		ws = append(ws, w.String())
	}
	sort.Strings(ws)
	got := dupGot(alerts)
	if strings.Join(got, "\n") != strings.Join(ws, "\n") {
		t.Errorf("got alerts\n\t%s\nwant\n\t%s", strings.Join(got, "\n\t"), strings.Join(ws, "\n\t"))
	}
}

// dupRun stores the fixture in a fresh database and runs the detector twice, checking that the
// second run gives the same ids.
func dupRun(t *testing.T, recs []voucherwatch.Record, build func(Env) voucherwatch.Detector, policy rules.Policy) ([]voucherwatch.Alert, *store.DB) {
	t.Helper()
	db := detectortest.NewDB(t)
	detectortest.Store(t, db, recs...)
	env := Env{DB: db, Policy: policy}
	alerts, err := build(env).Run(context.Background(), dupAt)
	if err != nil {
		t.Fatal(err)
	}
	again, err := build(env).Run(context.Background(), dupAt.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := dupIDs(again), dupIDs(alerts); got != want {
		t.Errorf("second run: got ids %s, want %s", got, want)
	} else {
		for i := range alerts {
			a, b := dupEvidenceJSON(t, alerts[i]), dupEvidenceJSON(t, again[i])
			if a != b {
				t.Errorf("second run, alert %s: got evidence %s, want the same as the first run's %s", alerts[i].ID, b, a)
			}
		}
	}
	for _, a := range alerts {
		if a.ID != voucherwatch.AlertID(a.Detector, a.Subjects) {
			t.Errorf("alert %s: got id %s, want AlertID of its subjects", a.Kind, a.ID)
		}
		if a.City != dupCities[a.Subjects.ApplicantUSCC] {
			t.Errorf("alert %s: got city %q, want the applicant's %q", a.Kind, a.City, dupCities[a.Subjects.ApplicantUSCC])
		}
		if a.Title == "" || !strings.Contains(a.Reason, "五.1") || a.PolicyClause == "" || a.Evidence.Empty() {
			t.Errorf("alert %s: got title %q, clause %q, reason %q, evidence %s; want all filled, the reason naming 五.1",
				a.Kind, a.Title, a.PolicyClause, a.Reason, a.Evidence)
		}
		if !a.CreatedAt.Equal(dupAt) {
			t.Errorf("alert %s: got created_at %v, want the evaluation time %v", a.Kind, a.CreatedAt, dupAt)
		}
	}
	return alerts, db
}

func dupEvidenceJSON(t *testing.T, a voucherwatch.Alert) string {
	t.Helper()
	b, err := json.Marshal(a.Evidence)
	if err != nil {
		t.Fatalf("alert %s: evidence does not marshal: %v", a.ID, err)
	}
	return string(b)
}

func dupIDs(alerts []voucherwatch.Alert) string {
	var ids []string
	for _, a := range alerts {
		ids = append(ids, a.ID)
	}
	sort.Strings(ids)
	return strings.Join(ids, ",")
}

func newDuplicateClaimDetector(env Env) voucherwatch.Detector { return NewDuplicateClaim(env) }

func TestDuplicateClaim(t *testing.T) {
	const (
		codeOld  = "043002612345"
		codeOld2 = "043002698765"
	)
	invoice := func(f *dupFixture, buyer, supplier, contract, code, no, amount, paid string) {
		f.settlement(dupSettle{supplier: supplier, buyer: buyer, contract: contract, code: code, no: no, amount: amount, paid: paid})
	}
	high := voucherwatch.SeverityHigh
	tests := []struct {
		name  string
		build func(f *dupFixture)
		want  []dupWant
		check func(t *testing.T, alerts []voucherwatch.Alert)
	}{{
		// The applicant cites an invoice of its first claim again in a supplementary claim.
		name: "sameInvoiceTwoClaims",
		build: func(f *dupFixture) {
			f.contract(dupSupplierS, dupBuyerA, "HT-S-001", "A800", "11.00")
			f.contract(dupSupplierT, dupBuyerA, "HT-T-001", "A800", "11.00")
			invoice(f, dupBuyerA, dupSupplierS, "HT-S-001", "", "26432000000000000001", "100000.00", "2026-03-10")
			invoice(f, dupBuyerA, dupSupplierS, "HT-S-001", "", "26432000000000000002", "110000.00", "2026-04-10")
			invoice(f, dupBuyerA, dupSupplierT, "HT-T-001", "", "26432000000000000003", "90000.00", "2026-04-12")
			f.claim("SB2026-00001", dupBuyerA, "2026-10-10", []string{"HT-S-001"}, "26432000000000000001=100000.00", "26432000000000000002=110000.00")
			f.claim("SB2026-00002", dupBuyerA, "2026-10-25", []string{"HT-T-001", "HT-S-001"}, "26432000000000000003=90000.00", "26432000000000000002=110000.00")
		},
		want: []dupWant{{KindInvoiceInTwoClaims, high, voucherwatch.Subjects{ApplicantUSCC: dupBuyerA, SupplierUSCC: dupSupplierS,
			ClaimID: "SB2026-00002", ContractNo: "HT-S-001", InvoiceNo: "26432000000000000002"}}},
		check: func(t *testing.T, alerts []voucherwatch.Alert) {
			ev := evFacts(alerts[0].Evidence)
			if got := ev["earlier_claim"].(map[string]any)["claim_id"]; got != "SB2026-00001" {
				t.Errorf("got earlier claim %v, want SB2026-00001", got)
			}
			if got := ev["settlement"].(map[string]any)["amount"]; got != "110000.00" {
				t.Errorf("got settled amount %v, want 110000.00", got)
			}
			if !strings.Contains(alerts[0].Reason, "SB2026-00001") || !strings.Contains(alerts[0].Reason, "SB2026-00002") {
				t.Errorf("got reason %q, want both claims named", alerts[0].Reason)
			}
		},
	}, {
		// Another enterprise cites the buyer's invoice, and files before the buyer does: the
		// buyer's claim is the rightful one all the same.
		name: "otherApplicantCitesInvoiceFirst",
		build: func(f *dupFixture) {
			f.contract(dupSupplierS, dupBuyerA, "HT-S-001", "A800", "11.00")
			f.contract(dupSupplierT, dupBuyerB, "HT-T-001", "A800", "11.00")
			invoice(f, dupBuyerA, dupSupplierS, "HT-S-001", codeOld, "00000011", "100000.00", "2026-03-10")
			invoice(f, dupBuyerB, dupSupplierT, "HT-T-001", "", "26432000000000000021", "80000.00", "2026-03-11")
			f.claim("SB2026-00011", dupBuyerB, "2026-10-05", []string{"HT-T-001"}, "26432000000000000021=80000.00", codeOld+"/00000011=100000.00")
			f.claim("SB2026-00012", dupBuyerA, "2026-10-20", []string{"HT-S-001"}, codeOld+"/00000011=100000.00")
		},
		want: []dupWant{{KindInvoiceInTwoClaims, high, voucherwatch.Subjects{ApplicantUSCC: dupBuyerB, SupplierUSCC: dupSupplierS,
			ClaimID: "SB2026-00011", ContractNo: "HT-S-001", InvoiceCode: codeOld, InvoiceNo: "00000011"}}},
		check: func(t *testing.T, alerts []voucherwatch.Alert) {
			if got := evFacts(alerts[0].Evidence)["applicant_is_invoice_buyer"]; got != false {
				t.Errorf("got applicant_is_invoice_buyer %v, want false", got)
			}
		},
	}, {
		// Two paper-era invoices share an 8-digit number under different codes: two invoices.
		name: "sameNumberOtherCode",
		build: func(f *dupFixture) {
			f.contract(dupSupplierS, dupBuyerA, "HT-S-001", "A800", "11.00")
			f.contract(dupSupplierT, dupBuyerB, "HT-T-001", "A800", "11.00")
			invoice(f, dupBuyerA, dupSupplierS, "HT-S-001", codeOld, "01470463", "100000.00", "2026-03-10")
			invoice(f, dupBuyerB, dupSupplierT, "HT-T-001", codeOld2, "01470463", "100000.00", "2026-03-10")
			invoice(f, dupBuyerA, dupSupplierT, "HT-T-002", codeOld2, "01470464", "50000.00", "2026-03-12")
			f.claim("SB2026-00021", dupBuyerA, "2026-10-05", []string{"HT-S-001", "HT-T-002"}, codeOld+"/01470463=100000.00", codeOld2+"/01470464=50000.00")
			f.claim("SB2026-00022", dupBuyerB, "2026-10-06", []string{"HT-T-001"}, codeOld2+"/01470463=100000.00")
		},
	}, {
		// The same claim filed again under a new claim_id.
		name: "claimResubmitted",
		build: func(f *dupFixture) {
			f.contract(dupSupplierS, dupBuyerA, "HT-S-001", "A800", "11.00")
			invoice(f, dupBuyerA, dupSupplierS, "HT-S-001", "", "26432000000000000031", "100000.00", "2026-03-10")
			invoice(f, dupBuyerA, dupSupplierS, "HT-S-001", "", "26432000000000000032", "120000.00", "2026-04-10")
			f.claim("SB2026-00031", dupBuyerA, "2026-10-05", []string{"HT-S-001"}, "26432000000000000031=100000.00", "26432000000000000032=120000.00")
			f.claim("SB2026-00032", dupBuyerA, "2026-10-15", []string{"HT-S-001"}, "26432000000000000032=120000.00", "26432000000000000031=100000.00")
		},
		want: []dupWant{{KindClaimResubmitted, high, voucherwatch.Subjects{ApplicantUSCC: dupBuyerA, SupplierUSCC: dupSupplierS,
			ClaimID: "SB2026-00032", ContractNo: "HT-S-001"}}},
		check: func(t *testing.T, alerts []voucherwatch.Alert) {
			ev := evFacts(alerts[0].Evidence)
			if ev["same_amounts"] != true || ev["same_contracts"] != true {
				t.Errorf("got same_amounts %v, same_contracts %v; want true, true", ev["same_amounts"], ev["same_contracts"])
			}
			if got := ev["earlier_claim"].(map[string]any)["claim_id"]; got != "SB2026-00031" {
				t.Errorf("got earlier claim %v, want SB2026-00031", got)
			}
		},
	}, {
		// The project system sends a corrected version of a claim: same claim_id, new envelope
		// id, one invoice more. One claim, no duplicate.
		name: "claimNewVersion",
		build: func(f *dupFixture) {
			f.contract(dupSupplierS, dupBuyerA, "HT-S-001", "A800", "11.00")
			invoice(f, dupBuyerA, dupSupplierS, "HT-S-001", "", "26432000000000000041", "100000.00", "2026-03-10")
			invoice(f, dupBuyerA, dupSupplierS, "HT-S-001", "", "26432000000000000042", "100000.00", "2026-04-10")
			f.claim("SB2026-00041", dupBuyerA, "2026-10-05", []string{"HT-S-001"}, "26432000000000000041=100000.00")
			f.claim("SB2026-00041", dupBuyerA, "2026-10-06", []string{"HT-S-001"}, "26432000000000000041=100000.00", "26432000000000000042=100000.00")
		},
	}, {
		// One claim lists the same invoice twice.
		name: "invoiceTwiceInOneClaim",
		build: func(f *dupFixture) {
			f.contract(dupSupplierS, dupBuyerA, "HT-S-001", "A800", "11.00")
			invoice(f, dupBuyerA, dupSupplierS, "HT-S-001", "", "26432000000000000051", "100000.00", "2026-03-10")
			f.claim("SB2026-00051", dupBuyerA, "2026-10-05", []string{"HT-S-001"}, "26432000000000000051=100000.00", "26432000000000000051=100000.00")
		},
		want: []dupWant{{KindInvoiceRepeatedInClaim, high, voucherwatch.Subjects{ApplicantUSCC: dupBuyerA, SupplierUSCC: dupSupplierS,
			ClaimID: "SB2026-00051", ContractNo: "HT-S-001", InvoiceNo: "26432000000000000051"}}},
	}, {
		// Another applicant's claim cites an invoice of an earlier claim, twice: one alert on its subjects,
		// the cross-claim finding, naming the repetition too.
		name: "invoiceInTwoClaimsAndTwiceInTheLater",
		build: func(f *dupFixture) {
			f.contract(dupSupplierS, dupBuyerA, "HT-S-001", "A800", "11.00")
			invoice(f, dupBuyerA, dupSupplierS, "HT-S-001", "", "26432000000000000056", "100000.00", "2026-03-10")
			f.claim("SB2026-00056", dupBuyerA, "2026-10-05", []string{"HT-S-001"}, "26432000000000000056=100000.00")
			f.claim("SB2026-00057", dupBuyerB, "2026-10-15", []string{"HT-S-001"}, "26432000000000000056=100000.00", "26432000000000000056=100000.00")
		},
		want: []dupWant{{KindInvoiceInTwoClaims, high, voucherwatch.Subjects{ApplicantUSCC: dupBuyerB, SupplierUSCC: dupSupplierS,
			ClaimID: "SB2026-00057", ContractNo: "HT-S-001", InvoiceNo: "26432000000000000056"}}},
		check: func(t *testing.T, alerts []voucherwatch.Alert) {
			if got := fmt.Sprint(evFacts(alerts[0].Evidence)["also_found"]); got != "["+KindInvoiceRepeatedInClaim+"]" {
				t.Errorf("got also_found %s, want [%s]", got, KindInvoiceRepeatedInClaim)
			}
		},
	}, {
		// One payment reference presented for invoices of two payers: the later payment reuses
		// the earlier one's reference.
		name: "paymentRefTwoPayers",
		build: func(f *dupFixture) {
			f.settlement(dupSettle{supplier: dupSupplierS, buyer: dupBuyerA, contract: "HT-S-001", no: "26432000000000000061", amount: "50000.00", ref: "ZF000000000061", paid: "2026-04-20"})
			f.settlement(dupSettle{supplier: dupSupplierS, buyer: dupBuyerB, contract: "HT-S-002", no: "26432000000000000062", amount: "80000.00", ref: "ZF000000000061", paid: "2026-04-23"})
			f.claim("SB2026-00062", dupBuyerB, "2026-10-05", []string{"HT-S-002"}, "26432000000000000062=80000.00")
		},
		want: []dupWant{
			{KindPaymentRefShared, high, voucherwatch.Subjects{ApplicantUSCC: dupBuyerB, SupplierUSCC: dupSupplierS, ContractNo: "HT-S-002", InvoiceNo: "26432000000000000062"}},
			{KindPaymentRefShared, voucherwatch.SeverityLow, voucherwatch.Subjects{ApplicantUSCC: dupBuyerA, SupplierUSCC: dupSupplierS, ContractNo: "HT-S-001", InvoiceNo: "26432000000000000061"}},
		},
		check: func(t *testing.T, alerts []voucherwatch.Alert) {
			for _, a := range alerts {
				if a.Severity == high {
					if got := evFacts(a.Evidence)["claims_on_contract"]; fmt.Sprint(got) != "[SB2026-00062]" {
						t.Errorf("got claims_on_contract %v, want [SB2026-00062]", got)
					}
					if !strings.Contains(a.Reason, "付款方不同") {
						t.Errorf("got reason %q, want it to say the payers differ", a.Reason)
					}
				}
			}
		},
	}, {
		// One payment reference on three monthly invoices paid on three days: one alert for
		// the contract, naming the first invoice that reused it.
		name: "paymentRefThreeMonths",
		build: func(f *dupFixture) {
			for i, paid := range []string{"2026-03-09", "2026-04-16", "2026-05-06"} {
				f.settlement(dupSettle{supplier: dupSupplierS, buyer: dupBuyerA, contract: "HT-S-001", code: codeOld,
					no: fmt.Sprintf("0443933%d", 2+i), amount: "30000.00", ref: "ZF346204119700", paid: paid})
			}
		},
		want: []dupWant{{KindPaymentRefShared, high, voucherwatch.Subjects{ApplicantUSCC: dupBuyerA, SupplierUSCC: dupSupplierS,
			ContractNo: "HT-S-001", InvoiceCode: codeOld, InvoiceNo: "04439333"}}},
		check: func(t *testing.T, alerts []voucherwatch.Alert) {
			if got := fmt.Sprint(evFacts(alerts[0].Evidence)["reusing_invoices"]); !strings.Contains(got, "04439333") || !strings.Contains(got, "04439334") {
				t.Errorf("got reusing invoices %s, want 04439333 and 04439334", got)
			}
		},
	}, {
		// One transfer paying two invoices of one payer to one payee on one day: plausible,
		// reported with low severity only.
		name: "oneTransferTwoInvoices",
		build: func(f *dupFixture) {
			f.settlement(dupSettle{supplier: dupSupplierS, buyer: dupBuyerA, contract: "HT-S-001", no: "26432000000000000071", amount: "30000.00", ref: "ZF000000000071", paid: "2026-04-20"})
			f.settlement(dupSettle{supplier: dupSupplierS, buyer: dupBuyerA, contract: "HT-S-001", no: "26432000000000000072", amount: "20000.00", ref: "ZF000000000071", paid: "2026-04-20"})
		},
		want: []dupWant{{KindPaymentRefShared, voucherwatch.SeverityLow, voucherwatch.Subjects{ApplicantUSCC: dupBuyerA, SupplierUSCC: dupSupplierS,
			ContractNo: "HT-S-001", InvoiceNo: "26432000000000000072"}}},
	}, {
		// A settlement re-sent as a newer version under a new id: one invoice, one reference.
		name: "settlementNewVersion",
		build: func(f *dupFixture) {
			for i := 0; i < 2; i++ {
				f.settlement(dupSettle{supplier: dupSupplierS, buyer: dupBuyerA, contract: "HT-S-001", no: "26432000000000000081", amount: "30000.00", ref: "ZF000000000081", paid: "2026-04-20"})
			}
		},
	}, {
		// A node metered to a second buyer while the first still has it.
		name: "resourceTwoTenants",
		build: func(f *dupFixture) {
			f.usageDays(dupSupplierS, dupBuyerA, "HT-S-001", "HT-S-001-N000", 8, "2026-03-01T00:00:00+08:00", 40)
			f.usageDays(dupSupplierS, dupBuyerB, "HT-S-002", "HT-S-001-N000", 8, "2026-03-21T00:00:00+08:00", 30)
			f.claim("SB2026-00091", dupBuyerB, "2026-10-05", []string{"HT-S-002"}, "26432000000000000091=80000.00")
		},
		want: []dupWant{{KindResourceTwoTenantsOverlap, high, voucherwatch.Subjects{ApplicantUSCC: dupBuyerB, SupplierUSCC: dupSupplierS,
			ContractNo: "HT-S-002", ResourceID: "HT-S-001-N000"}}},
		check: func(t *testing.T, alerts []voucherwatch.Alert) {
			ev := evFacts(alerts[0].Evidence)
			// 21 March to 10 April: 20 days, 480 hours, 8 cards at 0.8 on each side.
			if got := ev["overlap_hours"]; got != 480.0 {
				t.Errorf("got overlap %v hours, want 480", got)
			}
			if got := ev["card_hours_sold_twice"]; got != 3072.0 {
				t.Errorf("got %v card-hours sold twice, want 3072", got)
			}
			if ev["more_cards_than_resource"] != true {
				t.Errorf("got more_cards_than_resource %v, want true: 16 cards on an 8-card node", ev["more_cards_than_resource"])
			}
			other := evList(ev["earlier_tenants"])[0]
			if other["buyer_uscc"] != dupBuyerA || other["contract_no"] != "HT-S-001" {
				t.Errorf("got earlier tenant %v / %v, want %s / HT-S-001", other["buyer_uscc"], other["contract_no"], dupBuyerA)
			}
			if fmt.Sprint(ev["tenancy"].(map[string]any)["claims"]) != "[SB2026-00091]" {
				t.Errorf("got claims %v, want [SB2026-00091]", ev["tenancy"].(map[string]any)["claims"])
			}
		},
	}, {
		// One node let to one buyer and then to another: the windows touch, never overlap.
		name: "resourceLetInTurn",
		build: func(f *dupFixture) {
			f.usageDays(dupSupplierS, dupBuyerA, "HT-S-001", "HT-S-001-N000", 8, "2026-03-01T00:00:00+08:00", 30)
			f.usageDays(dupSupplierS, dupBuyerB, "HT-S-002", "HT-S-001-N000", 8, "2026-03-31T00:00:00+08:00", 30)
			f.usageDays(dupSupplierS, dupBuyerA, "HT-S-003", "HT-S-001-N000", 8, "2026-04-30T00:00:00+08:00", 10)
		},
	}, {
		// Interleaved lets: the spans overlap but no two windows do.
		name: "resourceInterleaved",
		build: func(f *dupFixture) {
			f.usage(dupSupplierS, dupBuyerA, "HT-S-001", "HT-S-001-N000", 8, "2026-03-01T00:00:00+08:00", "2026-03-08T00:00:00+08:00")
			f.usage(dupSupplierS, dupBuyerB, "HT-S-002", "HT-S-001-N000", 8, "2026-03-08T00:00:00+08:00", "2026-03-15T00:00:00+08:00")
			f.usage(dupSupplierS, dupBuyerA, "HT-S-001", "HT-S-001-N000", 8, "2026-03-15T00:00:00+08:00", "2026-03-22T00:00:00+08:00")
		},
	}, {
		// The same resource id at two suppliers is two resources.
		name: "sameResourceIDTwoSuppliers",
		build: func(f *dupFixture) {
			f.usageDays(dupSupplierS, dupBuyerA, "HT-001", "N000", 8, "2026-03-01T00:00:00+08:00", 10)
			f.usageDays(dupSupplierT, dupBuyerB, "HT-001", "N000", 8, "2026-03-01T00:00:00+08:00", 10)
		},
	}, {
		// Half an hour of overlap at a hand-over: clock skew, low severity only.
		name: "handOverSkew",
		build: func(f *dupFixture) {
			f.usage(dupSupplierS, dupBuyerA, "HT-S-001", "HT-S-001-N000", 8, "2026-03-01T00:00:00+08:00", "2026-03-10T00:30:00+08:00")
			f.usage(dupSupplierS, dupBuyerB, "HT-S-002", "HT-S-001-N000", 8, "2026-03-10T00:00:00+08:00", "2026-03-20T00:00:00+08:00")
		},
		want: []dupWant{{KindResourceTwoTenantsOverlap, voucherwatch.SeverityLow, voucherwatch.Subjects{ApplicantUSCC: dupBuyerB,
			SupplierUSCC: dupSupplierS, ContractNo: "HT-S-002", ResourceID: "HT-S-001-N000"}}},
	}, {
		// A 16-card partition let whole, then split between two buyers at 8 cards each: no
		// more cards at once than the resource has, so only medium.
		name: "clusterSplitBetweenTenants",
		build: func(f *dupFixture) {
			f.usageDays(dupSupplierS, dupBuyerC, "HT-S-000", "HT-S-000-C00", 16, "2026-01-01T00:00:00+08:00", 20)
			f.usageDays(dupSupplierS, dupBuyerA, "HT-S-001", "HT-S-000-C00", 8, "2026-03-01T00:00:00+08:00", 20)
			f.usageDays(dupSupplierS, dupBuyerB, "HT-S-002", "HT-S-000-C00", 8, "2026-03-05T00:00:00+08:00", 20)
		},
		want: []dupWant{{KindResourceTwoTenantsOverlap, voucherwatch.SeverityMedium, voucherwatch.Subjects{ApplicantUSCC: dupBuyerB,
			SupplierUSCC: dupSupplierS, ContractNo: "HT-S-002", ResourceID: "HT-S-000-C00"}}},
	}, {
		// A third tenant overlapping two earlier ones gets one alert naming both.
		name: "resourceThreeTenants",
		build: func(f *dupFixture) {
			f.usageDays(dupSupplierS, dupBuyerA, "HT-S-001", "HT-S-001-N000", 8, "2026-03-01T00:00:00+08:00", 30)
			f.usageDays(dupSupplierS, dupBuyerB, "HT-S-002", "HT-S-001-N000", 8, "2026-03-10T00:00:00+08:00", 30)
			f.usageDays(dupSupplierS, dupBuyerC, "HT-S-003", "HT-S-001-N000", 8, "2026-03-20T00:00:00+08:00", 5)
		},
		want: []dupWant{
			{KindResourceTwoTenantsOverlap, high, voucherwatch.Subjects{ApplicantUSCC: dupBuyerB, SupplierUSCC: dupSupplierS, ContractNo: "HT-S-002", ResourceID: "HT-S-001-N000"}},
			{KindResourceTwoTenantsOverlap, high, voucherwatch.Subjects{ApplicantUSCC: dupBuyerC, SupplierUSCC: dupSupplierS, ContractNo: "HT-S-003", ResourceID: "HT-S-001-N000"}},
		},
		check: func(t *testing.T, alerts []voucherwatch.Alert) {
			for _, a := range alerts {
				if a.Subjects.ApplicantUSCC == dupBuyerC {
					if n := len(evList(evFacts(a.Evidence)["earlier_tenants"])); n != 2 {
						t.Errorf("got %d earlier tenants, want 2", n)
					}
				}
			}
		},
	}}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := newDupFixture()
			tc.build(f)
			alerts, _ := dupRun(t, f.recs, newDuplicateClaimDetector, rules.Default())
			dupRequireAlerts(t, alerts, tc.want)
			if tc.check != nil && !t.Failed() {
				tc.check(t, alerts)
			}
		})
	}
}

// TestDuplicateClaimStoredTwice covers the rare race in which two engine instances store the
// same records: every row twice. The findings must be those of one copy.
func TestDuplicateClaimStoredTwice(t *testing.T) {
	f := newDupFixture()
	f.contract(dupSupplierS, dupBuyerA, "HT-S-001", "A800", "11.00")
	f.settlement(dupSettle{supplier: dupSupplierS, buyer: dupBuyerA, contract: "HT-S-001", no: "26432000000000000101", amount: "100000.00", paid: "2026-03-10"})
	f.claim("SB2026-00101", dupBuyerA, "2026-10-05", []string{"HT-S-001"}, "26432000000000000101=100000.00")
	f.usageDays(dupSupplierS, dupBuyerA, "HT-S-001", "HT-S-001-N000", 8, "2026-03-01T00:00:00+08:00", 10)
	f.usageDays(dupSupplierS, dupBuyerB, "HT-S-002", "HT-S-001-N000", 8, "2026-03-05T00:00:00+08:00", 10)
	db := detectortest.NewDB(t)
	detectortest.Store(t, db, f.recs...)
	ctx := context.Background()
	before, err := NewDuplicateClaim(Env{DB: db, Policy: rules.Default()}).Run(ctx, dupAt)
	if err != nil {
		t.Fatal(err)
	}
	for _, table := range []string{"claims", "settlements", "usage", "contracts", "registry"} {
		if err := db.Conn().Exec(ctx, "INSERT INTO "+table+" SELECT * FROM "+table); err != nil {
			t.Fatalf("duplicate %s rows: %v", table, err)
		}
	}
	var n uint64
	if err := db.Conn().QueryRow(ctx, "SELECT count() FROM claims").Scan(&n); err != nil || n != 2 {
		t.Fatalf("got %d claim rows (%v), want 2: the race was not reproduced", n, err)
	}
	after, err := NewDuplicateClaim(Env{DB: db, Policy: rules.Default()}).Run(ctx, dupAt)
	if err != nil {
		t.Fatal(err)
	}
	dupRequireAlerts(t, after, []dupWant{{KindResourceTwoTenantsOverlap, voucherwatch.SeverityHigh, voucherwatch.Subjects{ApplicantUSCC: dupBuyerB,
		SupplierUSCC: dupSupplierS, ContractNo: "HT-S-002", ResourceID: "HT-S-001-N000"}}})
	if len(before) != 1 || len(after) != 1 {
		t.Fatalf("got %d alerts before and %d after, want 1 and 1", len(before), len(after))
	}
	if got, want := evFacts(after[0].Evidence)["overlap_hours"], evFacts(before[0].Evidence)["overlap_hours"]; got != want {
		t.Errorf("got overlap %v hours with every row twice, want %v as with one copy", got, want)
	}
}

func TestDuplicateClaimProvince(t *testing.T) {
	for _, seed := range []int64{1, 2} {
		t.Run(fmt.Sprint("seed", seed), func(t *testing.T) {
			t.Parallel()
			db, p := detectortest.Province(t, seed)
			alerts, err := NewDuplicateClaim(Env{DB: db, Policy: rules.Default()}).Run(context.Background(), dupAt)
			if err != nil {
				t.Fatal(err)
			}
			detectortest.Require(t, detectortest.Evaluate(voucherwatch.DetectorDuplicateClaim, alerts, p.Truth), 0.9)
			// Every planted kind is reported under its own kind.
			kinds := map[string]bool{}
			for _, a := range alerts {
				kinds[a.Kind] = true
			}
			for _, c := range p.Truth.Findings(synth.DetDuplicate) {
				if !kinds[c.Kind] {
					t.Errorf("got no %s alert, want the planted %s found under its kind", c.Kind, c.Kind)
				}
			}
		})
	}
}

func BenchmarkDuplicateClaimProvince(b *testing.B) {
	db := detectortest.NewDB(b)
	p := synth.Generate(synth.DefaultConfig(1))
	detectortest.Load(b, db, p.Messages)
	d := NewDuplicateClaim(Env{DB: db, Policy: rules.Default()})
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := d.Run(ctx, dupAt); err != nil {
			b.Fatal(err)
		}
	}
}
