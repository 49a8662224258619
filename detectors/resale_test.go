package detectors

import (
	"context"
	"fmt"
	"math"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/voucherwatch/voucherwatch"
	"github.com/voucherwatch/voucherwatch/detectors/detectortest"
	"github.com/voucherwatch/voucherwatch/rules"
	"github.com/voucherwatch/voucherwatch/store"
	"github.com/voucherwatch/voucherwatch/synth"
)

// usage records weekly metered windows of the buyer's tenant on one 64-card cluster of the
// contract, with the organisations whose logins the platform saw.
func (f *rpFixture) usage(supplier, buyer *voucherwatch.Entity, no, chip string, start time.Time, weeks int, loginOrgs ...string) {
	for w := 0; w < weeks; w++ {
		ws := start.AddDate(0, 0, 7*w)
		we := ws.AddDate(0, 0, 7)
		f.add(voucherwatch.Record{Envelope: voucherwatch.Envelope{Type: voucherwatch.TypeUsage, Time: we.Add(time.Hour)},
			Usage: &voucherwatch.Usage{SupplierUSCC: supplier.USCC, BuyerUSCC: buyer.USCC, ContractNo: no,
				Tenant: "t-" + strings.ToLower(buyer.USCC[12:]), ResourceID: no + "-C00", ChipModel: chip, ChipOrigin: "foreign",
				Cards: 64, WindowStart: ws, WindowEnd: we, CardHours: 64 * 168 * 0.75, UtilAvg: 0.6, Jobs: 40, Users: 5,
				LoginOrgs: loginOrgs, Datacenter: "长株潭算力中心1号楼"}})
	}
}

// The half year the fixtures' applicants buy compute in, and the card-hours they buy.
var (
	resaleBuyStart = rpDay
	resaleBuyEnd   = rpDay.AddDate(0, 6, -1)
	resaleBuyHours = 64 * 24 * 181 * 0.75 // card-hours of 64 cards at 75 % over the half year
)

// purchase records buyer's half-year purchase of 64 cards of chip from seller, its use and
// its claim, and returns the contract number.
func (f *rpFixture) purchase(seller, buyer *voucherwatch.Entity, chip string, loginOrgs ...string) string {
	no := f.contract(seller, buyer, resaleBuyStart, resaleBuyEnd, rpItem(chip, voucherwatch.UnitCardHour, 64, resaleBuyHours, 1200))
	f.usage(seller, buyer, no, chip, resaleBuyStart, 20, append([]string{buyer.USCC}, loginOrgs...)...)
	f.claim(buyer, no)
	return no
}

// sale records seller's sale to buyer of chip over the period, with its monthly invoices.
func (f *rpFixture) sale(seller, buyer *voucherwatch.Entity, start, end time.Time, it voucherwatch.Item, withContract bool) {
	no := fmt.Sprintf("XS%s-%05d", seller.USCC[14:], f.n+1)
	if withContract {
		no = f.contract(seller, buyer, start, end, it)
	}
	months := 0
	for m := start; m.Before(end); m = m.AddDate(0, 1, 0) {
		months++
	}
	monthly := it
	monthly.Quantity = it.Quantity / float64(months)
	monthly.Amount = it.Amount / voucherwatch.Money(months)
	for m := start; m.Before(end); m = m.AddDate(0, 1, 0) {
		f.settlement(seller, buyer, no, m, m.AddDate(0, 1, -1), monthly)
	}
}

func TestResale(t *testing.T) {
	type want struct {
		kind     string
		severity voucherwatch.Severity
	}
	type world struct {
		reseller, upstream *voucherwatch.Entity
		contractNo         string
	}
	cases := []struct {
		name     string
		build    func(f *rpFixture) world
		want     *want // nil: nothing may be raised
		evidence func(t *testing.T, a voucherwatch.Alert, w world)
	}{
		{
			name: "resellerSellsSameChipToOtherOrgs",
			build: func(f *rpFixture) world {
				s, r := f.supplier("上游算力", "A800"), f.firm("转售甲")
				c1, c2 := f.firm("客户一"), f.firm("客户二")
				no := f.purchase(s, r, "A800", c1.USCC, c2.USCC)
				for _, c := range []*voucherwatch.Entity{c1, c2} {
					f.sale(r, c, resaleBuyStart.AddDate(0, 0, 2), resaleBuyEnd, rpItem("A800", voucherwatch.UnitCardHour, 32, resaleBuyHours*0.45, 1300), true)
				}
				return world{r, s, no}
			},
			want: &want{KindResaleToOtherOrgs, voucherwatch.SeverityHigh},
			evidence: func(t *testing.T, a voucherwatch.Alert, w world) {
				if r := evFacts(a.Evidence)["ratio"].(float64); r < 0.85 || r > 0.95 {
					t.Errorf("got ratio %v, want about 0.9 (sold 2 × 45 %% of what it bought)", r)
				}
				if got := len(evList(evFacts(a.Evidence)["sold"])); got != 2 {
					t.Errorf("got %d sales in evidence, want 2", got)
				}
				logins := evFacts(a.Evidence)["logins_from_other_orgs"].(map[string]any)
				orgs := evList(logins["orgs"])
				if len(orgs) != 2 || orgs[0]["is_customer"] != true || logins["windows"] != 20.0 {
					t.Errorf("got logins %+v, want both customers in all 20 windows", logins)
				}
				if b := evFacts(a.Evidence)["bought"].(map[string]any); len(b["claims"].([]any)) != 1 {
					t.Errorf("got bought %+v, want the claim on it", b)
				}
			},
		},
		{
			name: "resaleByTheMonth",
			build: func(f *rpFixture) world {
				s, r := f.supplier("上游算力", "A800"), f.firm("转售乙")
				c1, c2 := f.firm("客户一"), f.firm("客户二")
				no := f.purchase(s, r, "A800")
				for _, c := range []*voucherwatch.Entity{c1, c2} {
					// 24 cards by the month for six months: 24 × 6 × 720 card-hours.
					f.sale(r, c, resaleBuyStart.AddDate(0, 0, 1), resaleBuyEnd, rpItem("A800", voucherwatch.UnitCardMonth, 24, 24*6, 800000), true)
				}
				return world{r, s, no}
			},
			want: &want{KindResaleSameKind, voucherwatch.SeverityMedium},
			evidence: func(t *testing.T, a voucherwatch.Alert, w world) {
				if basis := evFacts(a.Evidence)["ratio_basis"]; basis != "card_hours" {
					t.Errorf("got ratio basis %v, want card_hours (card-months converted)", basis)
				}
				if r := evFacts(a.Evidence)["ratio"].(float64); r < 0.95 || r > 1.05 {
					t.Errorf("got ratio %v, want about 0.99 (2 × 24 × 6 × 720 sold over %v bought)", r, resaleBuyHours)
				}
			},
		},
		{
			name: "smallSideSale",
			build: func(f *rpFixture) world {
				s, r := f.supplier("上游算力", "A800"), f.firm("需求丙")
				c := f.firm("客户一")
				no := f.purchase(s, r, "A800")
				f.sale(r, c, resaleBuyStart.AddDate(0, 1, 0), resaleBuyStart.AddDate(0, 2, -1), rpItem("A800", voucherwatch.UnitCardHour, 8, resaleBuyHours*0.05, 1300), true)
				return world{r, s, no}
			},
			want: &want{KindResaleSameKind, voucherwatch.SeverityLow},
		},
		{
			name: "supplierBuysOtherKindForOwnUse",
			build: func(f *rpFixture) world {
				s, t := f.supplier("上游算力", "A800"), f.supplier("自有算力", "H100")
				c := f.firm("客户一")
				no := f.purchase(s, t, "A800")
				f.sale(t, c, resaleBuyStart, resaleBuyEnd, rpItem("H100", voucherwatch.UnitCardHour, 64, resaleBuyHours, 2000), true)
				return world{t, s, no}
			},
		},
		{
			name: "supplierSellsChipOfItsOwnCapacity",
			build: func(f *rpFixture) world {
				s, t := f.supplier("上游算力", "A800"), f.supplier("自有算力", "A800", "H100")
				c := f.firm("客户一")
				no := f.purchase(s, t, "A800")
				f.sale(t, c, resaleBuyStart, resaleBuyEnd, rpItem("A800", voucherwatch.UnitCardHour, 64, resaleBuyHours, 1300), true)
				return world{t, s, no}
			},
		},
		{
			name: "loginsFromOtherOrgsOnly",
			build: func(f *rpFixture) world {
				s, b := f.supplier("上游算力", "A800"), f.firm("需求丁")
				x := f.firm("合作单位")
				no := f.purchase(s, b, "A800", x.USCC)
				return world{b, s, no}
			},
			want: &want{KindLoginsFromOtherOrgs, voucherwatch.SeverityLow},
		},
		{
			name: "saleAfterPurchaseEnded",
			build: func(f *rpFixture) world {
				s, r := f.supplier("上游算力", "A800"), f.firm("需求戊")
				c := f.firm("客户一")
				no := f.purchase(s, r, "A800")
				f.sale(r, c, resaleBuyEnd.AddDate(0, 2, 0), resaleBuyEnd.AddDate(0, 6, 0), rpItem("A800", voucherwatch.UnitCardHour, 32, resaleBuyHours/2, 1300), true)
				return world{r, s, no}
			},
		},
		{
			name: "sellsAnotherChip",
			build: func(f *rpFixture) world {
				s, r := f.supplier("上游算力", "A800"), f.firm("需求己")
				c := f.firm("客户一")
				no := f.purchase(s, r, "A800")
				f.sale(r, c, resaleBuyStart, resaleBuyEnd, rpItem("H100", voucherwatch.UnitCardHour, 32, resaleBuyHours/2, 2000), true)
				return world{r, s, no}
			},
		},
		{
			name: "chipSpellingVariants",
			build: func(f *rpFixture) world {
				s, r := f.supplier("上游算力", "Ascend 910B"), f.firm("转售庚")
				c := f.firm("客户一")
				no := f.purchase(s, r, "Ascend 910B")
				f.sale(r, c, resaleBuyStart, resaleBuyEnd, rpItem("ascend-910b", voucherwatch.UnitCardHour, 48, resaleBuyHours*0.7, 900), true)
				return world{r, s, no}
			},
			want: &want{KindResaleSameKind, voucherwatch.SeverityMedium},
		},
		{
			name: "salesKnownOnlyFromInvoices",
			build: func(f *rpFixture) world {
				s, r := f.supplier("上游算力", "A800"), f.firm("转售辛")
				c := f.firm("客户一")
				no := f.purchase(s, r, "A800", c.USCC)
				f.sale(r, c, resaleBuyStart, resaleBuyEnd, rpItem("A800", voucherwatch.UnitCardHour, 48, resaleBuyHours*0.8, 1300), false)
				return world{r, s, no}
			},
			want: &want{KindResaleToOtherOrgs, voucherwatch.SeverityHigh},
			evidence: func(t *testing.T, a voucherwatch.Alert, w world) {
				sold := evList(evFacts(a.Evidence)["sold"])
				if len(sold) != 1 || sold[0]["invoices"] != 6.0 {
					t.Errorf("got sold %+v, want the six invoices of the sale", sold)
				}
			},
		},
		{
			// The reseller's claim was amended: its latest version cites another contract.
			// The older version's citation is no claim on this purchase.
			name: "claimAmendedAwayFromThePurchase",
			build: func(f *rpFixture) world {
				s, r := f.supplier("上游算力", "A800"), f.firm("转售癸")
				c := f.firm("客户一")
				no := f.purchase(s, r, "A800", c.USCC)
				f.sale(r, c, resaleBuyStart.AddDate(0, 0, 2), resaleBuyEnd, rpItem("A800", voucherwatch.UnitCardHour, 32, resaleBuyHours*0.6, 1300), true)
				other := f.trade(s, f.firm("另一买方"))
				for _, rec := range slices.Clone(f.recs) {
					if rec.Claim != nil && rec.Claim.ApplicantUSCC == r.USCC {
						amended := *rec.Claim
						amended.Contracts = []string{other}
						rec.Claim, rec.Time = &amended, rec.Time.Add(24*time.Hour)
						f.add(rec)
					}
				}
				return world{r, s, no}
			},
			want: &want{KindResaleToOtherOrgs, voucherwatch.SeverityHigh},
			evidence: func(t *testing.T, a voucherwatch.Alert, w world) {
				if b := evFacts(a.Evidence)["bought"].(map[string]any); b["claims"] != nil && len(b["claims"].([]any)) != 0 {
					t.Errorf("got bought %+v, want no claim: the claim's latest version cites another contract", b)
				}
			},
		},
		{
			// One invoice was re-sent with the same event time and a corrected quantity
			// (twice the card-hours and the amount). Of two versions stamped alike, the one
			// with the later source and id counts, on every read.
			name: "invoiceResentAtTheSameTime",
			build: func(f *rpFixture) world {
				s, r := f.supplier("上游算力", "A800"), f.firm("转售子")
				c := f.firm("客户一")
				no := f.purchase(s, r, "A800", c.USCC)
				f.sale(r, c, resaleBuyStart, resaleBuyEnd, rpItem("A800", voucherwatch.UnitCardHour, 48, resaleBuyHours*0.6, 1300), false)
				last := f.recs[len(f.recs)-1]
				st := *last.Settlement
				st.Items = slices.Clone(st.Items)
				st.Items[0].Quantity *= 2
				st.Items[0].Amount *= 2
				st.Amount *= 2
				last.Settlement = &st
				f.add(last)
				f.recs[len(f.recs)-1].ID = "zz-correction" // after every "settlement-N" id
				return world{r, s, no}
			},
			want: &want{KindResaleToOtherOrgs, voucherwatch.SeverityHigh},
			evidence: func(t *testing.T, a voucherwatch.Alert, w world) {
				sold := evList(evFacts(a.Evidence)["sold"])
				want := resaleBuyHours * 0.6 * 7 / 6
				if len(sold) != 1 || sold[0]["invoices"] != 6.0 || math.Abs(sold[0]["settled_card_hours"].(float64)-want) > 1 {
					t.Errorf("got sold %+v, want six invoices of %.0f card-hours, the corrected one counted", sold, want)
				}
			},
		},
		{
			name: "honestBuyer",
			build: func(f *rpFixture) world {
				s, b := f.supplier("上游算力", "A800"), f.firm("需求壬")
				no := f.purchase(s, b, "A800")
				return world{b, s, no}
			},
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f := newRPFixture()
			w := c.build(f)
			db := f.store(t)
			alerts := rpRun(t, NewResale(Env{DB: db, Policy: rules.Default()}))
			if c.want == nil {
				for _, a := range alerts {
					t.Errorf("got %s/%s %+v: %s, want no alert", a.Kind, a.Severity, a.Subjects, a.Reason)
				}
				return
			}
			if len(alerts) != 1 {
				for _, a := range alerts {
					t.Logf("%s/%s %+v", a.Kind, a.Severity, a.Subjects)
				}
				t.Fatalf("got %d alerts, want 1", len(alerts))
			}
			a := alerts[0]
			if a.Kind != c.want.kind || a.Severity != c.want.severity {
				t.Errorf("got %s/%s (%s), want %s/%s", a.Kind, a.Severity, a.Reason, c.want.kind, c.want.severity)
			}
			wantSubjects := voucherwatch.Subjects{ApplicantUSCC: w.reseller.USCC, SupplierUSCC: w.upstream.USCC, ContractNo: w.contractNo}
			if a.Subjects != wantSubjects {
				t.Errorf("got subjects %+v, want %+v", a.Subjects, wantSubjects)
			}
			if a.PolicyClause != "五.1 / M1c" || !strings.Contains(a.Title, "五.1 / M1c") || !strings.Contains(a.Reason, "五.1 / M1c") {
				t.Errorf("got clause %q, title %q, reason %q; want each to name 五.1 / M1c", a.PolicyClause, a.Title, a.Reason)
			}
			if a.City != w.reseller.City || a.ID != voucherwatch.AlertID(a.Detector, a.Subjects) {
				t.Errorf("got city %q, id %s; want %s and the stable id", a.City, a.ID, w.reseller.City)
			}
			if a.Score <= 0 || a.Score >= 1 {
				t.Errorf("got score %v, want within (0, 1)", a.Score)
			}
			if c.evidence != nil {
				c.evidence(t, a, w)
			}
		})
	}
}

func TestResaleProvince(t *testing.T) {
	for _, seed := range []int64{1, 2} {
		t.Run(fmt.Sprint("seed", seed), func(t *testing.T) {
			db, p := detectortest.Province(t, seed)
			alerts := rpRun(t, NewResale(Env{DB: db, Policy: rules.Default()}))
			detectortest.Require(t, detectortest.Evaluate("resale", alerts, p.Truth), 0.9)
		})
	}
}

// TestResaleCheckMatchesRun checks resale's incremental path against its full run on the
// synthetic province and on an evasive one (resale through a company under the same
// control): a change of an alert's purchase (its buyer and upstream supplier), or of one of
// the sales in its evidence (customer and seller, the seller possibly a sister company),
// yields that alert exactly as the full run has it, and nothing the full run does not raise;
// every pair changed at once yields every alert; a change of pairs no reseller is party to
// raises nothing.
func TestResaleCheckMatchesRun(t *testing.T) {
	for _, evasive := range []bool{false, true} {
		t.Run(map[bool]string{false: "province", true: "evasive"}[evasive], func(t *testing.T) {
			var (
				db *store.DB
				p  *synth.Province
			)
			if evasive {
				p = synth.Generate(synth.EvasiveConfig(23))
				db = detectortest.NewDB(t)
				detectortest.Load(t, db, p.Messages)
			} else {
				db, p = detectortest.Province(t, 1)
			}
			d := NewResale(Env{DB: db, Policy: rules.Default()})
			ctx := context.Background()
			start := time.Now()
			full, err := d.Run(ctx, p.Config.End)
			if err != nil {
				t.Fatal(err)
			}
			runTook := time.Since(start)
			if len(full) < 3 {
				t.Fatalf("the full run raises %d resale alerts, want several to compare", len(full))
			}
			pair := func(buyer, supplier string) voucherwatch.Changes {
				return voucherwatch.Changes{Pairs: map[[2]string]bool{{buyer, supplier}: true}}
			}
			var changes []voucherwatch.Changes
			parties := map[string]bool{}
			sales := 0
			for _, a := range full {
				changes = append(changes, pair(a.Subjects.ApplicantUSCC, a.Subjects.SupplierUSCC))
				parties[a.Subjects.ApplicantUSCC] = true
				for _, s := range evList(evFacts(a.Evidence)["sold"]) {
					seller, _ := s["seller_uscc"].(string)
					customer, _ := s["customer_uscc"].(string)
					if seller == "" || customer == "" {
						t.Fatalf("alert %s: sold line %v names no seller or customer", a.ID, s)
					}
					changes = append(changes, pair(customer, seller))
					parties[seller], parties[customer] = true, true
					sales++
					break
				}
			}
			if sales == 0 {
				t.Fatal("no alert's evidence lists a sale: the sale-side change is not compared")
			}
			// A change reaches an alert when it names the alert's purchase, or a sale listed in
			// its evidence.
			reaches := func(ch voucherwatch.Changes, a voucherwatch.Alert) bool {
				if ch.Pairs[[2]string{a.Subjects.ApplicantUSCC, a.Subjects.SupplierUSCC}] {
					return true
				}
				for _, s := range evList(evFacts(a.Evidence)["sold"]) {
					c, _ := s["customer_uscc"].(string)
					sl, _ := s["seller_uscc"].(string)
					if ch.Pairs[[2]string{c, sl}] {
						return true
					}
				}
				return false
			}
			start = time.Now()
			checkAgainstRun(t, d, full, changes, reaches)
			t.Logf("%d checks of one pair each: %v a check; the full run %v", len(changes), time.Since(start)/time.Duration(len(changes)), runTook)
			var all voucherwatch.Changes
			for _, ch := range changes {
				all.Merge(ch)
			}
			checkAgainstRun(t, d, full, []voucherwatch.Changes{all}, func(voucherwatch.Changes, voucherwatch.Alert) bool { return true })

			// Pairs of the province's contracts no party of any alert is in.
			contracts, err := db.LatestContracts(ctx, voucherwatch.ContractQuery{All: true})
			if err != nil {
				t.Fatal(err)
			}
			var honest voucherwatch.Changes
			for _, c := range contracts {
				if !parties[c.BuyerUSCC] && !parties[c.SupplierUSCC] && len(honest.Pairs) < 20 {
					honest.Merge(pair(c.BuyerUSCC, c.SupplierUSCC))
				}
			}
			if len(honest.Pairs) == 0 {
				t.Fatal("no contract between enterprises no alert names")
			}
			start = time.Now()
			got, err := d.Check(ctx, p.Config.End, honest)
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("a check of %d pairs that raise nothing: %v", len(honest.Pairs), time.Since(start))
			for _, a := range got {
				t.Errorf("Check(%d honest pairs): got %s %+v, want nothing", len(honest.Pairs), a.Kind, a.Subjects)
			}
		})
	}
}
