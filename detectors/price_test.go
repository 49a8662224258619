package detectors

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/voucherwatch/voucherwatch"
	"github.com/voucherwatch/voucherwatch/detectors/detectortest"
	"github.com/voucherwatch/voucherwatch/rules"
	"github.com/voucherwatch/voucherwatch/synth"
)

// priceTestItem is a priced contract or settlement item.
func priceTestItem(chip, origin, unit, price string, cards int) voucherwatch.Item {
	p := dupMoney(price)
	st := voucherwatch.ServiceComputeResource
	if unit == voucherwatch.UnitTokenMillion {
		st, cards = voucherwatch.ServiceModelService, 0
	}
	return voucherwatch.Item{ServiceType: st, ChipModel: chip, ChipOrigin: origin, Cards: cards, UnitPrice: p, Unit: unit,
		Quantity: 100, Amount: p * 100}
}

// priced records a contract with the given items.
func (f *dupFixture) priced(supplier, buyer, no, signed string, items ...voucherwatch.Item) {
	c := &voucherwatch.Contract{ContractNo: no, SupplierUSCC: supplier, BuyerUSCC: buyer, SignedOn: dupDay(signed),
		ServiceStart: dupDay(signed).AddDate(0, 0, 3), ServiceEnd: dupDay(signed).AddDate(0, 4, 0), Items: items, ViaPlatform: true}
	for _, it := range items {
		c.Amount += it.Amount
	}
	f.add(voucherwatch.Record{Envelope: voucherwatch.Envelope{Source: supplier, Type: voucherwatch.TypeContract}, Contract: c})
}

// pricedInvoice records a settlement of a contract with the given items.
func (f *dupFixture) pricedInvoice(supplier, buyer, contract, no, paid string, items ...voucherwatch.Item) {
	s := &voucherwatch.Settlement{SettlementID: "JS-" + no, ContractNo: contract, SupplierUSCC: supplier, BuyerUSCC: buyer,
		InvoiceNo: no, InvoiceDate: dupDay(paid).AddDate(0, 0, -5), PaymentRef: "ZF" + no, PaidOn: dupDay(paid),
		PeriodStart: dupDay(paid).AddDate(0, -1, -10), PeriodEnd: dupDay(paid).AddDate(0, 0, -11), Items: items}
	for _, it := range items {
		s.Amount += it.Amount
	}
	f.add(voucherwatch.Record{Envelope: voucherwatch.Envelope{Source: supplier, Type: voucherwatch.TypeSettlement}, Settlement: s})
}

// priceHonestTrade fills the fixture with honest trade in the first half of 2026: A800 (foreign)
// at 10-13 yuan a card-hour, some by the card-month at 720 hours less 12 %; Ascend 910B
// (domestic) at 9-12; and model services at 2-60 yuan per million tokens.
func priceHonestTrade(f *dupFixture) {
	buyers := []string{dupBuyerA, dupBuyerB, dupBuyerC}
	suppliers := []string{dupSupplierS, dupSupplierT}
	n := 0
	add := func(it voucherwatch.Item) {
		n++
		f.priced(suppliers[n%2], buyers[n%3], fmt.Sprintf("MK-%03d", n), fmt.Sprintf("2026-%02d-%02d", 1+n%6, 1+n%28), it)
	}
	for _, p := range []float64{10.0, 10.4, 10.9, 11.3, 11.8, 12.2, 12.6, 13.0} {
		add(priceTestItem("A800", voucherwatch.OriginForeign, voucherwatch.UnitCardHour, fmt.Sprintf("%.2f", p), 16))
	}
	for _, p := range []float64{10.2, 11.5, 12.8} {
		add(priceTestItem("A800", voucherwatch.OriginForeign, voucherwatch.UnitCardMonth, fmt.Sprintf("%.2f", p*720*0.88), 8))
	}
	for _, p := range []float64{9.0, 9.4, 9.9, 10.3, 10.8, 11.2, 11.6, 12.0} {
		add(priceTestItem("Ascend 910B", voucherwatch.OriginDomestic, voucherwatch.UnitCardHour, fmt.Sprintf("%.2f", p), 8))
	}
	for _, p := range []float64{2, 3.5, 5, 8, 12, 18, 25, 35, 45, 60} {
		add(priceTestItem("", "", voucherwatch.UnitTokenMillion, fmt.Sprintf("%.2f", p), 0))
	}
}

func TestPrice(t *testing.T) {
	const (
		foreign  = voucherwatch.OriginForeign
		domestic = voucherwatch.OriginDomestic
		hour     = voucherwatch.UnitCardHour
		month    = voucherwatch.UnitCardMonth
		tokens   = voucherwatch.UnitTokenMillion
	)
	high, medium := voucherwatch.SeverityHigh, voucherwatch.SeverityMedium
	subj := func(no string) voucherwatch.Subjects {
		return voucherwatch.Subjects{ApplicantUSCC: dupBuyerA, SupplierUSCC: dupSupplierS, ContractNo: no}
	}
	withReference := rules.Default()
	withReference.Price.Reference = []rules.ReferencePrice{
		{ChipModel: "H100", Unit: hour, Low: 18, High: 24},
		{ChipModel: "H20", Unit: month, Low: 4320, High: 5760}, // 6-8 a card-hour
	}
	tests := []struct {
		name   string
		policy rules.Policy
		build  func(f *dupFixture)
		want   []dupWant
		check  func(t *testing.T, alerts []voucherwatch.Alert)
	}{{
		name: "farAbove",
		build: func(f *dupFixture) {
			f.priced(dupSupplierS, dupBuyerA, "HT-1", "2026-03-01", priceTestItem("A800", foreign, hour, "35.00", 8))
		},
		want: []dupWant{{KindUnitPriceFarAbove, high, subj("HT-1")}},
		check: func(t *testing.T, alerts []voucherwatch.Alert) {
			band := evFacts(alerts[0].Evidence)["band"].(map[string]any)
			// The A800 sample: 8 card-hour and 3 card-month prices, the planted one included.
			// The median of an even sample is the geometric mean of the middle two: √(11.264×11.30).
			if band["n"] != 12.0 || band["median"] != 11.28 {
				t.Errorf("got band n=%v median=%v, want n=12 median=11.28", band["n"], band["median"])
			}
			if !strings.Contains(band["method"].(string), "MAD") {
				t.Errorf("got method %q, want the median±k·MAD method named", band["method"])
			}
			if !strings.Contains(alerts[0].Reason, "M1d") || !strings.Contains(alerts[0].Reason, "35.00") {
				t.Errorf("got reason %q, want the price and M1d named", alerts[0].Reason)
			}
		},
	}, {
		name: "farBelow",
		build: func(f *dupFixture) {
			f.priced(dupSupplierS, dupBuyerA, "HT-1", "2026-03-01", priceTestItem("A800", foreign, hour, "3.50", 8))
		},
		want: []dupWant{{KindUnitPriceFarBelow, high, subj("HT-1")}},
	}, {
		// 7,603.20 yuan a card-month is 10.56 a card-hour over 720 hours.
		name: "cardMonthPrice",
		build: func(f *dupFixture) {
			f.priced(dupSupplierS, dupBuyerA, "HT-1", "2026-03-01", priceTestItem("A800", foreign, month, "7603.20", 8))
		},
	}, {
		name: "cardMonthFarAbove",
		build: func(f *dupFixture) {
			f.priced(dupSupplierS, dupBuyerA, "HT-1", "2026-03-01", priceTestItem("A800", foreign, month, "25000.00", 8))
		},
		want: []dupWant{{KindUnitPriceFarAbove, high, subj("HT-1")}},
		check: func(t *testing.T, alerts []voucherwatch.Alert) {
			w := evFacts(alerts[0].Evidence)["worst_item"].(map[string]any)
			if w["unit_price"] != "25000.00" || w["unit"] != month || w["normalised"] != 34.72 || w["normalised_unit"] != "yuan/card_hour" {
				t.Errorf("got worst item %v, want 25000.00 per card_month normalised to 34.72 per card-hour", w)
			}
		},
	}, {
		// 20 % off the mid-market price for 256 cards.
		name: "volumeDiscount20",
		build: func(f *dupFixture) {
			f.priced(dupSupplierS, dupBuyerA, "HT-1", "2026-03-01", priceTestItem("A800", foreign, hour, "9.20", 256))
		},
	}, {
		// Prices per million tokens on chips whose card-hours cost far less or far more: a
		// token price is compared with token prices only.
		name: "tokenPrice",
		build: func(f *dupFixture) {
			f.priced(dupSupplierS, dupBuyerA, "HT-1", "2026-03-01", priceTestItem("MLU370", domestic, tokens, "45.00", 0))
			f.priced(dupSupplierS, dupBuyerA, "HT-2", "2026-03-01", priceTestItem("A800", foreign, tokens, "58.00", 0))
			f.priced(dupSupplierS, dupBuyerA, "HT-3", "2026-03-01", priceTestItem("Ascend 910B", domestic, tokens, "2.10", 0))
		},
	}, {
		// An invoice bills a card-hour at almost three times the contract's price.
		name: "settlementAboveContract",
		build: func(f *dupFixture) {
			f.priced(dupSupplierS, dupBuyerA, "HT-1", "2026-03-01", priceTestItem("A800", foreign, hour, "11.00", 8))
			f.pricedInvoice(dupSupplierS, dupBuyerA, "HT-1", "26432000000000000201", "2026-04-10", priceTestItem("A800", foreign, hour, "11.00", 8))
			f.pricedInvoice(dupSupplierS, dupBuyerA, "HT-1", "26432000000000000202", "2026-05-10", priceTestItem("A800", foreign, hour, "32.00", 8))
		},
		want: []dupWant{{KindUnitPriceFarAbove, high, subj("HT-1")}},
		check: func(t *testing.T, alerts []voucherwatch.Alert) {
			w := evFacts(alerts[0].Evidence)["worst_item"].(map[string]any)
			if w["source"] != "settlement" || fmt.Sprint(w["invoices"]) != "[26432000000000000202]" {
				t.Errorf("got worst item from %v %v, want the settlement 26432000000000000202", w["source"], w["invoices"])
			}
		},
	}, {
		// Two inflated items in one contract: one alert, the worst item first.
		name: "twoItemsOneContract",
		build: func(f *dupFixture) {
			f.priced(dupSupplierS, dupBuyerA, "HT-1", "2026-03-01",
				priceTestItem("A800", foreign, hour, "30.00", 8), priceTestItem("Ascend 910B", domestic, hour, "40.00", 8))
			f.claim("SB2026-00201", dupBuyerA, "2026-10-01", []string{"HT-1"}, "26432000000000000203=100000.00")
		},
		want: []dupWant{{KindUnitPriceFarAbove, high, subj("HT-1")}},
		check: func(t *testing.T, alerts []voucherwatch.Alert) {
			ev := evFacts(alerts[0].Evidence)
			if n := len(evList(ev["items"])); n != 2 {
				t.Errorf("got %d items, want 2", n)
			}
			if w := ev["worst_item"].(map[string]any); w["chip_model"] != "Ascend 910B" {
				t.Errorf("got worst item %v, want the Ascend 910B at about four times its market", w["chip_model"])
			}
			if fmt.Sprint(ev["claims"]) != "[SB2026-00201]" {
				t.Errorf("got claims %v, want [SB2026-00201]", ev["claims"])
			}
		},
	}, {
		// Chip names as suppliers spell them.
		name: "chipSpelling",
		build: func(f *dupFixture) {
			f.priced(dupSupplierS, dupBuyerA, "HT-1", "2026-03-01", priceTestItem("a-800", foreign, hour, "35.00", 8))
		},
		want: []dupWant{{KindUnitPriceFarAbove, high, subj("HT-1")}},
		check: func(t *testing.T, alerts []voucherwatch.Alert) {
			if of := evFacts(alerts[0].Evidence)["band"].(map[string]any)["of"].(string); !strings.HasPrefix(of, "A800") {
				t.Errorf("got band of %q, want the A800 band", of)
			}
		},
	}, {
		// Too few MLU590 prices for a band of its own: the domestic chips' band judges it,
		// with medium severity.
		name: "fewSamplesOriginBand",
		build: func(f *dupFixture) {
			f.priced(dupSupplierS, dupBuyerB, "HT-0", "2026-03-01", priceTestItem("MLU590", domestic, hour, "8.00", 8))
			f.priced(dupSupplierS, dupBuyerA, "HT-1", "2026-03-01", priceTestItem("MLU590", domestic, hour, "30.00", 8))
		},
		want: []dupWant{{KindUnitPriceFarAbove, medium, subj("HT-1")}},
		check: func(t *testing.T, alerts []voucherwatch.Alert) {
			if of := evFacts(alerts[0].Evidence)["band"].(map[string]any)["of"].(string); !strings.Contains(of, "国产") {
				t.Errorf("got band of %q, want the domestic chips' band", of)
			}
		},
	}, {
		// The operator's reference table prices chips the data has too few of.
		name:   "referencePrice",
		policy: withReference,
		build: func(f *dupFixture) {
			f.priced(dupSupplierS, dupBuyerA, "HT-1", "2026-03-01", priceTestItem("H100", foreign, hour, "60.00", 8))
			f.priced(dupSupplierS, dupBuyerA, "HT-2", "2026-03-01", priceTestItem("H100", foreign, hour, "30.00", 8)) // 1.4× mid: dear, not far
			f.priced(dupSupplierS, dupBuyerA, "HT-3", "2026-03-01", priceTestItem("H20", foreign, hour, "2.00", 8))
			f.priced(dupSupplierS, dupBuyerA, "HT-4", "2026-03-01", priceTestItem("H20", foreign, month, "4700.00", 8))
		},
		want: []dupWant{{KindUnitPriceFarAbove, high, subj("HT-1")}, {KindUnitPriceFarBelow, high, subj("HT-3")}},
		check: func(t *testing.T, alerts []voucherwatch.Alert) {
			for _, a := range alerts {
				band := evFacts(a.Evidence)["band"].(map[string]any)
				if !strings.Contains(band["method"].(string), "reference") {
					t.Errorf("%s: got method %q, want the reference table", a.Subjects.ContractNo, band["method"])
				}
				if a.Subjects.ContractNo == "HT-3" && (band["low"] != 6.0 || band["high"] != 8.0) {
					t.Errorf("got H20 band [%v, %v], want the card-month reference normalised to [6, 8]", band["low"], band["high"])
				}
			}
		},
	}}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := newDupFixture()
			priceHonestTrade(f)
			tc.build(f)
			policy := tc.policy
			if policy.Version == "" {
				policy = rules.Default()
			}
			alerts, _ := dupRun(t, f.recs, func(env Env) voucherwatch.Detector { return NewPrice(env) }, policy)
			dupRequireAlerts(t, alerts, tc.want)
			if tc.check != nil && !t.Failed() {
				tc.check(t, alerts)
			}
		})
	}
}

// TestPriceMarketOnly checks that honest trade alone raises nothing.
func TestPriceMarketOnly(t *testing.T) {
	f := newDupFixture()
	priceHonestTrade(f)
	alerts, _ := dupRun(t, f.recs, func(env Env) voucherwatch.Detector { return NewPrice(env) }, rules.Default())
	dupRequireAlerts(t, alerts, nil)
}

func TestPriceMedian(t *testing.T) {
	for _, tc := range []struct {
		xs   []float64
		want float64
	}{{[]float64{1}, 1}, {[]float64{1, 2}, 1.5}, {[]float64{1, 2, 10}, 2}, {[]float64{1, 2, 3, 10}, 2.5}} {
		if got := priceMedian(tc.xs); got != tc.want {
			t.Errorf("median of %v: got %v, want %v", tc.xs, got, tc.want)
		}
	}
}

func TestPriceProvince(t *testing.T) {
	for _, seed := range []int64{1, 2} {
		t.Run(fmt.Sprint("seed", seed), func(t *testing.T) {
			t.Parallel()
			db, p := detectortest.Province(t, seed)
			alerts, err := NewPrice(Env{DB: db, Policy: rules.Default()}).Run(context.Background(), dupAt)
			if err != nil {
				t.Fatal(err)
			}
			detectortest.Require(t, detectortest.Evaluate(voucherwatch.DetectorPrice, alerts, p.Truth), 0.9)
			for _, c := range p.Truth.Findings(synth.DetPrice) {
				found := false
				for _, a := range alerts {
					if a.Kind == c.Kind && detectortest.Matches(a, c) && string(a.Severity) == c.Severity {
						found = true
					}
				}
				if !found {
					t.Errorf("got no %s alert of severity %s on %s, want the planted case found as planted", c.Kind, c.Severity, c.Subjects["contract_no"])
				}
			}
		})
	}
}

func BenchmarkPriceProvince(b *testing.B) {
	db := detectortest.NewDB(b)
	p := synth.Generate(synth.DefaultConfig(1))
	detectortest.Load(b, db, p.Messages)
	d := NewPrice(Env{DB: db, Policy: rules.Default()})
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := d.Run(ctx, dupAt); err != nil {
			b.Fatal(err)
		}
	}
}
