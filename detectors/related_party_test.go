package detectors

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/voucherwatch/voucherwatch"
	"github.com/voucherwatch/voucherwatch/detectors/detectortest"
	"github.com/voucherwatch/voucherwatch/ingest"
	"github.com/voucherwatch/voucherwatch/rules"
	"github.com/voucherwatch/voucherwatch/store"
)

// rpFixture builds a small registry and the trade between its enterprises, as records.
type rpFixture struct {
	n         int
	ents      []*voucherwatch.Entity
	hidden    map[*voucherwatch.Entity]bool // enterprises with no registry record
	recs      []voucherwatch.Record
	idNumbers []string // every identity number used: none may surface in an alert
}

var rpDay = time.Date(2026, 1, 5, 0, 0, 0, 0, voucherwatch.CST)

func rpUSCC(n int) string {
	return voucherwatch.CompleteUSCC(fmt.Sprintf("91430100MA%07d", n))
}

func newRPFixture() *rpFixture { return &rpFixture{hidden: map[*voucherwatch.Entity]bool{}} }

// person is a natural person with an identity number of their own, keyed as ingest keys it.
func (f *rpFixture) person(name string) voucherwatch.Person {
	f.n++
	id := fmt.Sprintf("4301011980%02d%02d%04d", 1+f.n%12, 1+f.n%28, f.n)
	f.idNumbers = append(f.idNumbers, id)
	return voucherwatch.Person{
		Name: name, IDType: "id_card",
		Key:    ingest.PersonKey([]byte(detectortest.PIIKey), "id_card", id),
		Masked: voucherwatch.MaskIDNumber(id),
		Phone:  fmt.Sprintf("139%08d", f.n),
		Email:  fmt.Sprintf("staff%d@example%d.cn", f.n, f.n),
	}
}

// firm is an enterprise owned outright by its legal representative, with a contact, an
// address and a bank account of its own.
func (f *rpFixture) firm(name string) *voucherwatch.Entity {
	rep := f.person(name + "法人")
	contact := f.person(name + "联系人")
	f.n++
	addr := fmt.Sprintf("长沙市岳麓区麓谷大道%d号%d室", 100+f.n, 1000+f.n)
	e := &voucherwatch.Entity{
		USCC: rpUSCC(f.n), Name: name, City: "430100",
		RegisteredAddress: addr, OfficeAddress: addr, RegisteredOn: time.Date(2020, 3, 1, 0, 0, 0, 0, voucherwatch.CST),
		LegalRep:     &rep,
		Officers:     []voucherwatch.Officer{{Role: "legal_rep", Person: rep}},
		Contacts:     []voucherwatch.Person{contact},
		Shareholders: []voucherwatch.Holder{{Kind: "person", Person: &rep, Name: rep.Name, SharePct: 100}},
		BankAccounts: []voucherwatch.BankAccount{{Bank: "中国银行长沙麓谷支行", AccountNo: fmt.Sprintf("6013%012d", f.n)}},
	}
	f.ents = append(f.ents, e)
	return e
}

// supplier is a registered supplier with capacity of the chips given.
func (f *rpFixture) supplier(name string, chips ...string) *voucherwatch.Entity {
	e := f.firm(name)
	e.Supplier = &voucherwatch.SupplierProfile{Registered: true, RegisteredOn: rpDay.AddDate(0, -3, 0), IDCLicense: true}
	for _, c := range chips {
		e.Supplier.Capacity = append(e.Supplier.Capacity, voucherwatch.Capacity{ChipModel: c, ChipOrigin: "foreign", Cards: 512, Datacenter: "长株潭算力中心1号楼"})
	}
	return e
}

// holds makes holder own pct % of e, taken from e's first holder.
func (f *rpFixture) holds(holder, e *voucherwatch.Entity, pct float64) {
	e.Shareholders[0].SharePct -= pct
	e.Shareholders = append(e.Shareholders, voucherwatch.Holder{Kind: "enterprise", USCC: holder.USCC, Name: holder.Name, SharePct: pct})
}

// personHolds makes p own pct % of e, taken from e's first holder.
func (f *rpFixture) personHolds(p voucherwatch.Person, e *voucherwatch.Entity, pct float64) {
	e.Shareholders[0].SharePct -= pct
	e.Shareholders = append(e.Shareholders, voucherwatch.Holder{Kind: "person", Person: &p, Name: p.Name, SharePct: pct})
}

func (f *rpFixture) add(r voucherwatch.Record) {
	r.Source = "fixture"
	r.ID = fmt.Sprintf("%s-%d", r.Type, len(f.recs))
	if r.Time.IsZero() {
		r.Time = rpDay
	}
	f.recs = append(f.recs, r)
}

// rpItem is one compute line.
func rpItem(chip, unit string, cards int, qty float64, price voucherwatch.Money) voucherwatch.Item {
	return voucherwatch.Item{ServiceType: voucherwatch.ServiceComputeResource, ChipModel: chip, ChipOrigin: "foreign",
		Cards: cards, UnitPrice: price, Unit: unit, Quantity: qty, Amount: voucherwatch.Money(float64(price) * qty)}
}

// contract records a contract of buyer with seller, signed on start, for the items.
func (f *rpFixture) contract(seller, buyer *voucherwatch.Entity, start, end time.Time, items ...voucherwatch.Item) string {
	f.n++
	no := fmt.Sprintf("HT%s-%05d", seller.USCC[14:], f.n)
	c := &voucherwatch.Contract{ContractNo: no, Name: "算力服务合同", SupplierUSCC: seller.USCC, BuyerUSCC: buyer.USCC,
		SignedOn: start.AddDate(0, 0, -3), ServiceStart: start, ServiceEnd: end, Items: items, ViaPlatform: true,
		Datacenter: "长株潭算力中心1号楼"}
	for _, it := range items {
		c.Amount += it.Amount
	}
	f.add(voucherwatch.Record{Envelope: voucherwatch.Envelope{Type: voucherwatch.TypeContract, Time: c.SignedOn}, Contract: c})
	return no
}

// trade records an ordinary purchase of buyer from seller, and the buyer's claim on it.
func (f *rpFixture) trade(seller, buyer *voucherwatch.Entity) string {
	start := rpDay
	no := f.contract(seller, buyer, start, start.AddDate(0, 4, -1), rpItem("A800", voucherwatch.UnitCardHour, 8, 8*24*120*0.7, 1200))
	f.claim(buyer, no)
	return no
}

func (f *rpFixture) claim(applicant *voucherwatch.Entity, contracts ...string) string {
	f.n++
	id := fmt.Sprintf("SB2026-%05d", f.n)
	f.add(voucherwatch.Record{Envelope: voucherwatch.Envelope{Type: voucherwatch.TypeClaim, Time: rpDay.AddDate(0, 5, 0)},
		Claim: &voucherwatch.Claim{ClaimID: id, ApplicantUSCC: applicant.USCC, Round: 2026, SubmittedOn: rpDay.AddDate(0, 5, 0),
			City: "430100", ViaPlatform: true, Contracts: contracts, Requested: 100000, UsageAmount: 400000}})
	return id
}

// settlement records one invoice of seller to buyer under contract no.
func (f *rpFixture) settlement(seller, buyer *voucherwatch.Entity, no string, start, end time.Time, items ...voucherwatch.Item) {
	f.n++
	s := &voucherwatch.Settlement{SettlementID: fmt.Sprintf("JS-%07d", f.n), ContractNo: no, SupplierUSCC: seller.USCC,
		BuyerUSCC: buyer.USCC, InvoiceNo: fmt.Sprintf("26432000%012d", f.n), InvoiceDate: end.AddDate(0, 0, 3),
		PaymentRef: fmt.Sprintf("ZF%012d", f.n), PaidOn: end.AddDate(0, 0, 10), PayerAccount: buyer.BankAccounts[0].AccountNo,
		PayeeAccount: seller.BankAccounts[0].AccountNo, PeriodStart: start, PeriodEnd: end, Items: items}
	for _, it := range items {
		s.Amount += it.Amount
	}
	s.Tax = s.Amount * 6 / 100
	f.add(voucherwatch.Record{Envelope: voucherwatch.Envelope{Type: voucherwatch.TypeSettlement, Time: s.InvoiceDate}, Settlement: s})
}

// records returns the registry records of the enterprises (as they stand now) and the trade.
func (f *rpFixture) records() []voucherwatch.Record {
	var out []voucherwatch.Record
	for i, e := range f.ents {
		if f.hidden[e] {
			continue
		}
		out = append(out, voucherwatch.Record{
			Envelope: voucherwatch.Envelope{Source: "fixture", ID: fmt.Sprintf("registry-%d", i), Type: voucherwatch.TypeRegistry, Time: rpDay.AddDate(0, -1, 0)},
			Entity:   e,
		})
	}
	return append(out, f.recs...)
}

// store loads the fixture into a fresh database.
func (f *rpFixture) store(t *testing.T) *store.DB {
	t.Helper()
	db := detectortest.NewDB(t)
	detectortest.Store(t, db, f.records()...)
	return db
}

var rpEvaluationTime = time.Date(2026, 12, 1, 0, 0, 0, 0, voucherwatch.CST)

func rpRun(t *testing.T, d voucherwatch.Detector) []voucherwatch.Alert {
	t.Helper()
	alerts, err := d.Run(context.Background(), rpEvaluationTime)
	if err != nil {
		t.Fatalf("%s: %v", d.Name(), err)
	}
	return alerts
}

// rpAlertFor returns the alert on the pair, if any.
func rpAlertFor(alerts []voucherwatch.Alert, buyer, supplier string) (voucherwatch.Alert, bool) {
	for _, a := range alerts {
		if a.Subjects.ApplicantUSCC == buyer && a.Subjects.SupplierUSCC == supplier {
			return a, true
		}
	}
	return voucherwatch.Alert{}, false
}

// rpCheckNoIdentityNumbers fails when an alert carries an identity number anywhere.
func rpCheckNoIdentityNumbers(t *testing.T, f *rpFixture, alerts []voucherwatch.Alert) {
	t.Helper()
	b, err := json.Marshal(alerts)
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range f.idNumbers {
		if strings.Contains(string(b), id) {
			t.Fatalf("an alert carries the identity number %s…: %s", id[:6], b)
		}
		// Nor any part of a person key: next to the masked number, a part of the keyed hash
		// confirms the full number to whoever knows the key.
		if key := ingest.PersonKey([]byte(detectortest.PIIKey), "id_card", id); strings.Contains(string(b), key[:8]) {
			t.Fatalf("an alert carries the start of a person key %s: %s", key[:8], b)
		}
	}
	// Nor a mobile number or an e-mail address in clear: masking the alert changes nothing.
	if masked := voucherwatch.MaskText(string(b)); masked != string(b) {
		t.Fatalf("an alert carries a phone number or an e-mail address in clear:\n%s\nmasked:\n%s", b, masked)
	}
}

func TestRelatedParty(t *testing.T) {
	type pair struct{ buyer, supplier *voucherwatch.Entity }
	cases := []struct {
		name string
		// build returns the pair to check; the other pairs it makes must raise nothing.
		build    func(f *rpFixture) pair
		kind     string                // "" when the pair must raise nothing
		severity voucherwatch.Severity // of the pair's alert
		evidence func(t *testing.T, a voucherwatch.Alert)
	}{
		{
			name: "directStakeBuyerHoldsSupplier",
			build: func(f *rpFixture) pair {
				b, s := f.firm("需求甲"), f.supplier("供应乙", "A800")
				f.holds(b, s, 2.5)
				return pair{b, s}
			},
			kind: KindDirectStake, severity: voucherwatch.SeverityHigh,
			evidence: func(t *testing.T, a voucherwatch.Alert) {
				rpRequireEdge(t, a, "holds", a.Subjects.ApplicantUSCC, a.Subjects.SupplierUSCC, 2.5)
			},
		},
		{
			name: "directStakeSupplierHoldsBuyer",
			build: func(f *rpFixture) pair {
				b, s := f.firm("需求甲"), f.supplier("供应乙", "A800")
				f.holds(s, b, 15)
				return pair{b, s}
			},
			kind: KindDirectStake, severity: voucherwatch.SeverityHigh,
		},
		{
			name: "crossHoldingAB",
			build: func(f *rpFixture) pair {
				b, s := f.firm("需求甲"), f.supplier("供应乙", "A800")
				f.holds(b, s, 3)
				f.holds(s, b, 4)
				return pair{b, s}
			},
			kind: KindDirectStake, severity: voucherwatch.SeverityHigh,
			evidence: func(t *testing.T, a voucherwatch.Alert) {
				rpRequireEdge(t, a, "holds", a.Subjects.ApplicantUSCC, a.Subjects.SupplierUSCC, 3)
				rpRequireEdge(t, a, "holds", a.Subjects.SupplierUSCC, a.Subjects.ApplicantUSCC, 4)
				if !strings.Contains(a.Reason, "相互持股") {
					t.Errorf("got reason %q, want it to name the cross-holding (相互持股)", a.Reason)
				}
			},
		},
		{
			name: "commonControllerThroughHoldings",
			build: func(f *rpFixture) pair {
				b, s := f.firm("需求甲"), f.supplier("供应乙", "A800")
				g, h1, h2 := f.firm("控股集团"), f.firm("投资一"), f.firm("投资二")
				f.holds(g, h1, 70)
				f.holds(h1, b, 60)
				f.holds(g, h2, 55)
				f.holds(h2, s, 51)
				return pair{b, s}
			},
			kind: KindCommonController, severity: voucherwatch.SeverityHigh,
			evidence: func(t *testing.T, a voucherwatch.Alert) {
				g := rpEvidence(t, a).Graph
				for _, pct := range []float64{70, 60, 55, 51} {
					found := false
					for _, e := range g.Edges {
						found = found || (e.Kind == "holds" && e.Pct == pct)
					}
					if !found {
						t.Errorf("got edges %+v, want a %g %% holding in the control chains", g.Edges, pct)
					}
				}
				if !strings.Contains(a.Reason, "实际控制人") {
					t.Errorf("got reason %q, want it to name the ultimate controller", a.Reason)
				}
			},
		},
		{
			name: "commonPersonControllerAddingUp",
			build: func(f *rpFixture) pair {
				b, s := f.firm("需求甲"), f.supplier("供应乙", "A800")
				q := f.person("赵强")
				x := f.firm("投资丙")
				f.personHolds(q, b, 60)
				f.personHolds(q, s, 30)
				f.personHolds(q, x, 80)
				f.holds(x, s, 25) // 30 % directly and 25 % through X, which q controls: 55 %
				return pair{b, s}
			},
			kind: KindCommonController, severity: voucherwatch.SeverityHigh,
		},
		{
			name: "supplierControlsBuyerThroughChain",
			build: func(f *rpFixture) pair {
				b, s := f.firm("需求甲"), f.supplier("供应乙", "A800")
				x := f.firm("投资丙")
				f.holds(s, x, 60)
				f.holds(x, b, 60)
				return pair{b, s}
			},
			kind: KindCommonController, severity: voucherwatch.SeverityHigh,
			evidence: func(t *testing.T, a voucherwatch.Alert) {
				if !rpHasTie(a, KindIntegratedOwnership) {
					t.Errorf("got ties %v, want the 36 %% integrated ownership among them", rpTieKinds(a))
				}
			},
		},
		{
			name: "integratedOwnershipOverThreshold",
			build: func(f *rpFixture) pair {
				b, s := f.firm("需求甲"), f.supplier("供应乙", "A800")
				x := f.firm("投资丙")
				f.holds(s, x, 45)
				f.holds(x, b, 60)
				return pair{b, s}
			},
			kind: KindIntegratedOwnership, severity: voucherwatch.SeverityMedium,
			evidence: func(t *testing.T, a voucherwatch.Alert) {
				io := rpEvidence(t, a).IntegratedOwnership
				if got := io.SupplierInBuyer; !rpNear(got, 0.27) {
					t.Errorf("got supplier_in_buyer %v, want 0.27", got)
				}
			},
		},
		{
			name: "sharedOfficer",
			build: func(f *rpFixture) pair {
				b, s := f.firm("需求甲"), f.supplier("供应乙", "A800")
				p := f.person("李娜")
				b.Officers = append(b.Officers, voucherwatch.Officer{Role: "director", Person: p})
				s.Officers = append(s.Officers, voucherwatch.Officer{Role: "supervisor", Person: p})
				return pair{b, s}
			},
			kind: KindSharedOfficer, severity: voucherwatch.SeverityHigh,
			evidence: func(t *testing.T, a voucherwatch.Alert) {
				g := rpEvidence(t, a).Graph
				people := 0
				for _, n := range g.Nodes {
					if n.Kind == "person" {
						people++
						if n.MaskedID == "" || !strings.Contains(n.MaskedID, "*") {
							t.Errorf("got person node %+v, want a masked identity number", n)
						}
					}
				}
				if people != 1 {
					t.Errorf("got %d person nodes, want 1", people)
				}
			},
		},
		{
			name: "legalRepIsSuppliersManager",
			build: func(f *rpFixture) pair {
				b, s := f.firm("需求甲"), f.supplier("供应乙", "A800")
				s.Officers = append(s.Officers, voucherwatch.Officer{Role: "manager", Person: *b.LegalRep})
				return pair{b, s}
			},
			kind: KindSharedOfficer, severity: voucherwatch.SeverityHigh,
		},
		{
			name: "sameNameDifferentPerson",
			build: func(f *rpFixture) pair {
				b, s := f.firm("需求甲"), f.supplier("供应乙", "A800")
				b.Officers = append(b.Officers, voucherwatch.Officer{Role: "director", Person: f.person("王伟")})
				s.Officers = append(s.Officers, voucherwatch.Officer{Role: "director", Person: f.person("王伟")})
				return pair{b, s}
			},
		},
		{
			name: "sameNameWithoutIdentityNumber",
			build: func(f *rpFixture) pair {
				b, s := f.firm("需求甲"), f.supplier("供应乙", "A800")
				b.Officers = append(b.Officers, voucherwatch.Officer{Role: "director", Person: voucherwatch.Person{Name: "王伟"}})
				s.Officers = append(s.Officers, voucherwatch.Officer{Role: "supervisor", Person: voucherwatch.Person{Name: "王伟"}})
				return pair{b, s}
			},
		},
		{
			name: "sharedBankAccount",
			build: func(f *rpFixture) pair {
				b, s := f.firm("需求甲"), f.supplier("供应乙", "A800")
				no := s.BankAccounts[0].AccountNo
				b.BankAccounts = append(b.BankAccounts, voucherwatch.BankAccount{Bank: "中国银行", AccountNo: no[:4] + " " + no[4:10] + "-" + no[10:]})
				return pair{b, s}
			},
			kind: KindSharedBankAccount, severity: voucherwatch.SeverityHigh,
		},
		{
			name: "sharedContactPhone",
			build: func(f *rpFixture) pair {
				b, s := f.firm("需求甲"), f.supplier("供应乙", "A800")
				ph := s.Contacts[0].Phone
				b.Contacts[0].Phone = "+86 " + ph[:3] + "-" + ph[3:7] + "-" + ph[7:]
				return pair{b, s}
			},
			kind: KindSharedContact, severity: voucherwatch.SeverityMedium,
		},
		{
			name: "legalRepUsesSuppliersEmail",
			build: func(f *rpFixture) pair {
				b, s := f.firm("需求甲"), f.supplier("供应乙", "A800")
				b.LegalRep.Email = strings.ToUpper(s.Contacts[0].Email)
				return pair{b, s}
			},
			kind: KindSharedContact, severity: voucherwatch.SeverityMedium,
		},
		{
			name: "sharedAddressOnly",
			build: func(f *rpFixture) pair {
				b, s := f.firm("需求甲"), f.supplier("供应乙", "A800")
				s.OfficeAddress = "长沙市岳麓区麓谷大道 6号（Ａ栋）1203室"
				b.RegisteredAddress = "长沙市岳麓区麓谷大道６号(A栋)1203室"
				return pair{b, s}
			},
			kind: KindSharedAddress, severity: voucherwatch.SeverityLow,
		},
		{
			name: "sameBuildingOtherRoom",
			build: func(f *rpFixture) pair {
				b, s := f.firm("需求甲"), f.supplier("供应乙", "A800")
				s.OfficeAddress = "长沙市岳麓区麓谷大道6号A栋1203室"
				b.OfficeAddress = "长沙市岳麓区麓谷大道6号A栋1508室"
				return pair{b, s}
			},
		},
		{
			name: "fundMinorityInBoth",
			build: func(f *rpFixture) pair {
				b, s := f.firm("需求甲"), f.supplier("供应乙", "A800")
				fund := f.firm("创业投资基金")
				f.holds(fund, b, 6)
				f.holds(fund, s, 8)
				return pair{b, s}
			},
		},
		{
			name: "remoteSmallStake",
			build: func(f *rpFixture) pair {
				b, s := f.firm("需求甲"), f.supplier("供应乙", "A800")
				x := f.firm("咨询丙")
				f.holds(s, x, 10)
				f.holds(x, b, 10)
				return pair{b, s}
			},
		},
		{
			name: "crossHoldingNotTrading",
			build: func(f *rpFixture) pair {
				b, s := f.firm("需求甲"), f.supplier("供应乙", "A800")
				c, s2 := f.firm("需求丁"), f.supplier("供应戊", "H100")
				f.holds(b, c, 5)
				f.holds(c, b, 5)
				f.trade(s2, c)
				return pair{b, s}
			},
		},
		{
			name: "settlementOnlyPair",
			build: func(f *rpFixture) pair {
				b, s := f.firm("需求甲"), f.supplier("供应乙", "A800")
				f.holds(s, b, 20)
				f.settlement(s, b, "HT-NOT-STORED", rpDay, rpDay.AddDate(0, 1, -1), rpItem("A800", voucherwatch.UnitCardHour, 8, 4000, 1200))
				return pair{b, s}
			},
			kind: KindDirectStake, severity: voucherwatch.SeverityHigh,
		},
		{
			name: "supplierNotInRegistry",
			build: func(f *rpFixture) pair {
				b, s := f.firm("需求甲"), f.supplier("供应乙", "A800")
				f.holds(s, b, 30)
				f.hidden[s] = true // the buyer's record names it; it has none of its own
				return pair{b, s}
			},
			kind: KindDirectStake, severity: voucherwatch.SeverityHigh,
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f := newRPFixture()
			p := c.build(f)
			if !strings.HasPrefix(c.name, "settlementOnly") {
				f.trade(p.supplier, p.buyer)
			}
			db := f.store(t)
			alerts := rpRun(t, NewRelatedParty(Env{DB: db, Policy: rules.Default()}))
			rpCheckNoIdentityNumbers(t, f, alerts)
			a, ok := rpAlertFor(alerts, p.buyer.USCC, p.supplier.USCC)
			for _, other := range alerts {
				if other.ID != a.ID {
					t.Errorf("got an alert on another pair: %s/%s %+v: %s", other.Kind, other.Severity, other.Subjects, other.Reason)
				}
			}
			if c.kind == "" {
				if ok {
					t.Fatalf("got %s/%s: %s, want no alert", a.Kind, a.Severity, a.Reason)
				}
				return
			}
			if !ok {
				t.Fatalf("got no alert, want %s/%s", c.kind, c.severity)
			}
			if a.Kind != c.kind || a.Severity != c.severity {
				t.Errorf("got %s/%s (%s), want %s/%s", a.Kind, a.Severity, a.Reason, c.kind, c.severity)
			}
			rpCheckAlert(t, a, p.buyer, p.supplier)
			if c.evidence != nil {
				c.evidence(t, a)
			}
		})
	}
}

// rpCheckAlert checks what every related_party alert must carry.
func rpCheckAlert(t *testing.T, a voucherwatch.Alert, buyer, supplier *voucherwatch.Entity) {
	t.Helper()
	want := voucherwatch.Subjects{ApplicantUSCC: buyer.USCC, SupplierUSCC: supplier.USCC}
	if a.Subjects != want {
		t.Errorf("got subjects %+v, want %+v", a.Subjects, want)
	}
	if a.Detector != voucherwatch.DetectorRelatedParty || a.PolicyClause != "二 / D4" || a.City != buyer.City {
		t.Errorf("got detector %q, clause %q, city %q; want related_party, 二 / D4, %s", a.Detector, a.PolicyClause, a.City, buyer.City)
	}
	if !strings.Contains(a.Title, "（《实施细则》二 / D4）") || !strings.Contains(a.Reason, "二 / D4") {
		t.Errorf("got title %q and reason %q, want both to name 二 / D4", a.Title, a.Reason)
	}
	if a.ID != voucherwatch.AlertID(a.Detector, a.Subjects) {
		t.Errorf("got id %s, want the stable id of detector, kind and subjects", a.ID)
	}
	g := rpEvidence(t, a).Graph
	if len(g.Nodes) < 2 || len(g.Edges) == 0 {
		t.Fatalf("got evidence graph %+v, want the buyer, the supplier and the edges between them", g)
	}
	ids := map[string]bool{}
	for _, n := range g.Nodes {
		ids[n.ID] = true
	}
	for _, e := range g.Edges {
		if !ids[e.From] || !ids[e.To] {
			t.Errorf("got edge %+v with an end that is not a node", e)
		}
	}
	if !ids[buyer.USCC] || !ids[supplier.USCC] {
		t.Errorf("got nodes %+v, want the buyer and the supplier among them", g.Nodes)
	}
	if s := rpEvidence(t, a).Summary; s == "" {
		t.Error("got no summary, want the ties told in Chinese")
	}
}

func rpRequireEdge(t *testing.T, a voucherwatch.Alert, kind, from, to string, pct float64) {
	t.Helper()
	edges := rpEvidence(t, a).Graph.Edges
	for _, e := range edges {
		if e.Kind == kind && e.From == from && e.To == to && e.Pct == pct {
			return
		}
	}
	t.Errorf("got edges %+v, want %s %s → %s %g", edges, kind, from, to, pct)
}

// rpEvidence is a related_party alert's evidence.
func rpEvidence(t testing.TB, a voucherwatch.Alert) voucherwatch.RelatedPartyEvidence {
	t.Helper()
	var ev voucherwatch.RelatedPartyEvidence
	if err := a.Evidence.Decode(&ev); err != nil {
		t.Fatalf("alert %s: evidence %s: %v", a.ID, a.Evidence, err)
	}
	return ev
}

func rpTieKinds(a voucherwatch.Alert) []string {
	var out []string
	var ev voucherwatch.RelatedPartyEvidence
	_ = a.Evidence.Decode(&ev) // no ties when it does not decode
	for _, t := range ev.Ties {
		out = append(out, t.Kind)
	}
	return out
}

func rpHasTie(a voucherwatch.Alert, kind string) bool {
	for _, k := range rpTieKinds(a) {
		if k == kind {
			return true
		}
	}
	return false
}

func TestRelatedPartyProvince(t *testing.T) {
	for _, seed := range []int64{1, 2} {
		t.Run(fmt.Sprint("seed", seed), func(t *testing.T) {
			db, p := detectortest.Province(t, seed)
			d := NewRelatedParty(Env{DB: db, Policy: rules.Default()})
			alerts := rpRun(t, d)
			detectortest.Require(t, detectortest.Evaluate("related_party", alerts, p.Truth), 0.9)

			// A re-run finds the same alerts under the same ids.
			again := rpRun(t, d)
			if len(again) != len(alerts) {
				t.Fatalf("re-run: got %d alerts, want %d", len(again), len(alerts))
			}
			for i := range alerts {
				if again[i].ID != alerts[i].ID {
					t.Errorf("re-run: got id %s at %d, want %s", again[i].ID, i, alerts[i].ID)
				}
			}
		})
	}
}
