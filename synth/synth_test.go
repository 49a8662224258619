package synth_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/voucherwatch/voucherwatch"
	"github.com/voucherwatch/voucherwatch/synth"
)

// defaultProvince is generated once: several tests read it.
var defaultProvince = sync.OnceValue(func() *synth.Province { return synth.Generate(synth.DefaultConfig(20260506)) })

func TestGenerateIsDeterministic(t *testing.T) {
	cfg := synth.DefaultConfig(7)
	cfg.Enterprises = 200
	a, b := synth.Generate(cfg), synth.Generate(cfg)
	if len(a.Messages) != len(b.Messages) {
		t.Fatalf("got %d and %d messages from one seed", len(a.Messages), len(b.Messages))
	}
	for i := range a.Messages {
		if !reflect.DeepEqual(a.Messages[i], b.Messages[i]) {
			t.Fatalf("message %d differs between runs:\n%s\n%s", i, a.Messages[i].Value, b.Messages[i].Value)
		}
	}
	if !reflect.DeepEqual(a.Truth, b.Truth) || !reflect.DeepEqual(a.Stats, b.Stats) {
		t.Fatal("truth or stats differ between runs")
	}
	cfg.Seed = 8
	if c := synth.Generate(cfg); bytes.Equal(c.Messages[0].Value, a.Messages[0].Value) {
		t.Error("seeds 7 and 8 gave the same first message")
	}
}

func TestDefaultProvinceSize(t *testing.T) {
	p := defaultProvince()
	st := p.Stats
	t.Logf("stats: %+v", st)
	for _, topic := range synth.Topics {
		t.Logf("%-15s %+v", topic, st.Topics[topic])
	}
	f := func(name string, got, lo, hi int) {
		t.Helper()
		if got < lo || got > hi {
			t.Errorf("%s: got %d, want %d..%d", name, got, lo, hi)
		}
	}
	f("records", st.Total.Unique, 30000, 60000)
	f("contracts", st.Contracts, 400, 650)
	f("entities", st.Entities, 420, 600)
	f("claims", st.Claims, 150, 400)
	f("suppliers", st.Suppliers, 20, 40)
	f("usage records", st.UsageWindow, st.Total.Unique/2, st.Total.Unique)
}

func TestEveryMessageFollowsTheContract(t *testing.T) {
	p := defaultProvince()
	topicOf := map[string]string{"registry.entity.v1": "vw.registry", "contract.v1": "vw.contracts",
		"settlement.v1": "vw.settlements", "usage.v1": "vw.usage", "claim.v1": "vw.claims"}
	ids := 0
	for i, m := range p.Messages {
		env, field, err := validate(m)
		if err != nil {
			t.Fatalf("message %d (%s): %v (field %q)\n%s", i, m.Topic, err, field, m.Value)
		}
		if topicOf[env.Type] != m.Topic {
			t.Fatalf("message %d: type %s on topic %s", i, env.Type, m.Topic)
		}
		if got, want := string(m.Key), naturalKey(env); got != want {
			t.Fatalf("message %d: key %q, want %q", i, got, want)
		}
		if !strings.HasSuffix(env.Time, "+08:00") {
			t.Fatalf("message %d: time %s not in +08:00", i, env.Time)
		}
		if env.Type == "registry.entity.v1" {
			ids += checkPeople(t, env.Data)
		}
	}
	if ids == 0 {
		t.Error("no resident id numbers checked")
	}
}

// checkPeople checks the id numbers of everyone in a registry record and returns how many.
func checkPeople(t *testing.T, d map[string]any) int {
	t.Helper()
	n := 0
	var visit func(v any)
	visit = func(v any) {
		switch x := v.(type) {
		case map[string]any:
			if x["id_type"] == "id_card" {
				if id, _ := x["id_number"].(string); !idCardOK(id) {
					t.Errorf("%s: id number %s has a bad check digit", d["uscc"], id)
				}
				n++
			}
			for _, y := range x {
				visit(y)
			}
		case []any:
			for _, y := range x {
				visit(y)
			}
		}
	}
	visit(d)
	return n
}

func TestStatsMatchARecount(t *testing.T) {
	p := defaultProvince()
	type counts struct{ messages, unique, keys int }
	got := map[string]*counts{}
	seen := map[string]map[string]any{} // topic|source|id -> data
	keys := map[string]bool{}
	for _, m := range p.Messages {
		env, _, err := validate(m)
		if err != nil {
			t.Fatal(err)
		}
		c := got[m.Topic]
		if c == nil {
			c = &counts{}
			got[m.Topic] = c
		}
		c.messages++
		id := m.Topic + "|" + env.Source + "|" + env.ID
		if prev, ok := seen[id]; ok {
			if !reflect.DeepEqual(prev, env.Data) {
				t.Fatalf("%s delivered twice with different data", id)
			}
			continue
		}
		seen[id] = env.Data
		c.unique++
		if k := m.Topic + "|" + string(m.Key); !keys[k] {
			keys[k] = true
			c.keys++
		}
	}
	for _, topic := range synth.Topics {
		st, c := p.Stats.Topics[topic], got[topic]
		if st.Messages != c.messages || st.Unique != c.unique || st.Keys != c.keys || st.Redeliveries != c.messages-c.unique {
			t.Errorf("%s: stats %+v, recount %+v", topic, st, *c)
		}
		if st.Redeliveries == 0 {
			t.Errorf("%s: no redeliveries at DuplicateRate %.2f", topic, p.Config.DuplicateRate)
		}
	}
	if p.Stats.Versions == 0 {
		t.Error("no newer versions of registry or contract records")
	}
}

// TestIDsRepeatAcrossSources checks the trap the contract sets: ids are unique per source only.
func TestIDsRepeatAcrossSources(t *testing.T) {
	sources := map[string]map[string]bool{}
	for _, m := range defaultProvince().Topic(synth.TopicUsage) {
		env, _, _ := validate(m)
		if sources[env.ID] == nil {
			sources[env.ID] = map[string]bool{}
		}
		sources[env.ID][env.Source] = true
	}
	for _, s := range sources {
		if len(s) > 1 {
			return
		}
	}
	t.Error("no usage id is used by two senders: the engine's (source, id) identity goes untested")
}

func TestCitiesAreTheDomainsCities(t *testing.T) {
	p := defaultProvince()
	for _, m := range p.Topic(synth.TopicRegistry) {
		env, _, _ := validate(m)
		if _, ok := voucherwatch.CityCode(env.Data["city"].(string)); !ok {
			t.Fatalf("%s: city %q is none of the 14", env.Data["uscc"], env.Data["city"])
		}
	}
}

// TestTruthHasEveryKind checks that every planted kind is there, and that each case names
// records that exist.
func TestTruthHasEveryKind(t *testing.T) {
	p := defaultProvince()
	want := map[string]int{
		"duplicate_claim/invoice_in_two_claims": 4, "duplicate_claim/claim_resubmitted": 2,
		"duplicate_claim/payment_ref_shared": 2, "duplicate_claim/resource_two_tenants_overlap": 2,
		"duplicate_claim/same_invoice_no_other_code~": 2, "duplicate_claim/resource_let_in_turn~": 2,
		"price_out_of_range/unit_price_far_above": 2, "price_out_of_range/unit_price_far_below": 2,
		"price_out_of_range/card_month_price~": 2, "price_out_of_range/volume_discount_20pct~": 2,
		"price_out_of_range/token_million_price~":            2,
		"rule:unregistered_supplier/supplier_not_registered": 2, "rule:unregistered_supplier/supplier_not_in_registry": 1,
		"rule:unregistered_supplier/bought_from_reseller": 4,
		"rule:applicant_credit/seriously_dishonest":       1, "rule:applicant_credit/major_violation": 1,
		"rule:applicant_credit/credit_repaired~":              1,
		"rule:annual_purchase/annual_purchase_below_50000":    2,
		"rule:annual_purchase/annual_purchase_exactly_50000~": 1,
		"rule:late_filing/filed_late":                         1, "rule:late_filing/never_filed": 1, "rule:late_filing/filed_on_day_30~": 2,
		"rule:non_subsidisable_item/non_subsidisable_invoice_claimed": 1,
		"rule:non_subsidisable_item/mixed_invoice_claimed_in_full":    1,
		"rule:requested_over_limit/over_30_percent":                   2, "rule:requested_over_limit/over_10m_cap": 1,
		"rule:requested_over_limit/exactly_30_percent~": 1, "rule:requested_over_limit/exactly_10m_cap~": 1,
		"rule:policy_window/service_before_window": 2, "rule:policy_window/service_beyond_window~": 1,
		"rule:invoice_mismatch/invoice_not_settled": 1, "rule:invoice_mismatch/invoice_amount_differs": 1,
		"rule:invoice_mismatch/invoice_of_another_buyer":              2,
		"rule:billed_above_metered/billed_above_metered":              2,
		"rule:usage_above_capacity/metered_above_registered_capacity": 1,
		"related_party/direct_stake":                                  2, "related_party/common_controller": 2,
		"related_party/indirect_ownership_over_20pct": 1, "related_party/same_person": 2,
		"related_party/shared_bank_account": 1, "related_party/shared_phone": 1, "related_party/shared_email": 1,
		"related_party/shared_address": 1, "related_party/cross_holding": 1,
		"related_party/same_name_other_person~": 2, "related_party/fund_minority_both~": 1,
		"related_party/indirect_1pct~": 1, "related_party/cross_holding_not_trading~": 1,
		"related_party/same_building_other_room~": 1,
		"resale/resale_to_other_orgs":             2, "resale/resale_by_the_month": 1, "resale/supplier_buys_for_own_use~": 2,
		"idle_consumption/idle_paid_period": 3, "idle_consumption/holiday_idle_week~": 1,
		"idle_consumption/low_util_steady_jobs~": 1, "idle_consumption/early_in_term~": 1,
		"wash_trade/mutual_purchase": 2, "wash_trade/ring_purchase": 1, "wash_trade/overflow_unclaimed~": 1,
		"wash_trade/mutual_far_apart~": 1, "wash_trade/mutual_different_amounts~": 1,
	}
	got := p.Truth.Kinds()
	for k, n := range want {
		if got[k] < n {
			t.Errorf("%s: got %d cases, want at least %d", k, got[k], n)
		}
	}
	for k := range got {
		if _, ok := want[k]; !ok {
			t.Errorf("%s: planted but not expected by this test", k)
		}
	}
	w := parse(t, p)
	for _, c := range p.Truth.Cases {
		name := c.Detector + "/" + c.Kind
		if c.LookAlike == (c.Severity != "") {
			t.Errorf("%s: look-alike %v with severity %q", name, c.LookAlike, c.Severity)
		}
		s := c.Subjects
		if id := s["claim_id"]; id != "" && w.claims[id] == nil {
			t.Errorf("%s: claim %s not delivered", name, id)
		}
		if no := s["contract_no"]; no != "" && w.contracts[no] == nil {
			t.Errorf("%s: contract %s not delivered", name, no)
		}
		if id := s["resource_id"]; id != "" && len(w.usageByResource[id]) == 0 {
			t.Errorf("%s: resource %s never metered", name, id)
		}
		if no := s["invoice_no"]; no != "" && (len(w.invoicesByNo[no]) == 0) != (c.Kind == "invoice_not_settled") {
			t.Errorf("%s: invoice %s settled %d times", name, no, len(w.invoicesByNo[no]))
		}
		if u := s["supplier_uscc"]; u != "" && (w.entities[u] == nil) != (c.Kind == "supplier_not_in_registry") {
			t.Errorf("%s: supplier %s in registry: %v", name, u, w.entities[u] != nil)
		}
		if u := s["applicant_uscc"]; u != "" && w.entities[u] == nil {
			t.Errorf("%s: applicant %s not in registry", name, u)
		}
		checkPlanted(t, w, c)
	}
}

// checkPlanted checks in the delivered data that a case really is what it says.
func checkPlanted(t *testing.T, w *world, c synth.Case) {
	t.Helper()
	s, ctx := c.Subjects, c.Context
	name := c.Detector + "/" + c.Kind
	claim, contract := w.claims[s["claim_id"]], w.contracts[s["contract_no"]]
	switch c.Kind {
	case "invoice_in_two_claims", "claim_resubmitted":
		if n := w.claimsCiting[s["invoice_no"]]; c.Kind == "invoice_in_two_claims" && n < 2 {
			t.Errorf("%s: invoice cited by %d claims", name, n)
		}
		if other := w.claims[ctx["other_claim_id"]]; other == nil || other.ApplicantUSCC == "" {
			t.Errorf("%s: other claim %s missing", name, ctx["other_claim_id"])
		}
	case "resource_two_tenants_overlap", "resource_let_in_turn":
		overlap := w.tenantOverlap(s["resource_id"])
		if overlap != (c.Kind == "resource_two_tenants_overlap") {
			t.Errorf("%s: overlap %v", name, overlap)
		}
	case "unit_price_far_above", "unit_price_far_below":
		ratio := marketRatio(contract.Items[0])
		if (c.Kind == "unit_price_far_above" && ratio < 2.5) || (c.Kind == "unit_price_far_below" && ratio > 0.4) {
			t.Errorf("%s: price at %.2f of the market", name, ratio)
		}
	case "card_month_price":
		// An honest card-month price: within the chip's band, as TestHonestTradeIsHonest has it.
		if lo, hi := marketBand(contract.Items[0]); lo < 0.80 || hi > 1.001 {
			t.Errorf("%s: price at %.2f of the low, %.2f of the high end of the market", name, lo, hi)
		}
	case "volume_discount_20pct":
		if ratio := marketRatio(contract.Items[0]); ratio < 0.8 || ratio > 1.1 {
			t.Errorf("%s: price at %.2f of the market", name, ratio)
		}
	case "over_30_percent", "exactly_30_percent":
		over := fen(claim.Requested)*100 > fen(claim.UsageAmount)*30
		if over != (c.Kind == "over_30_percent") {
			t.Errorf("%s: requested %s of %s", name, claim.Requested, claim.UsageAmount)
		}
	case "over_10m_cap", "exactly_10m_cap":
		if r := fen(claim.Requested); (r > 10_000_000_00) != (c.Kind == "over_10m_cap") || fen(claim.Requested)*100 > fen(claim.UsageAmount)*30 {
			t.Errorf("%s: requested %s of %s", name, claim.Requested, claim.UsageAmount)
		}
	case "annual_purchase_below_50000", "annual_purchase_exactly_50000":
		total := w.settledBy[s["applicant_uscc"]]
		if (total < 50_000_00) != (c.Kind == "annual_purchase_below_50000") || (c.Kind == "annual_purchase_exactly_50000" && total != 50_000_00) {
			t.Errorf("%s: settled %d fen", name, total)
		}
	case "filed_late", "never_filed", "filed_on_day_30":
		days := filingDelay(contract)
		if (days > 30) != (c.Kind != "filed_on_day_30") || (c.Kind == "filed_on_day_30" && days != 30) {
			t.Errorf("%s: filed after %d days", name, days)
		}
	case "billed_above_metered":
		if r := w.billedOverMetered(contract.ContractNo); r < 1.5 {
			t.Errorf("%s: billed %.2f of metered", name, r)
		}
	case "metered_above_registered_capacity":
		peak, cap := w.peakCards(s["supplier_uscc"], ctx["chip_model"])
		if peak <= cap {
			t.Errorf("%s: peak %d within capacity %d", name, peak, cap)
		}
	case "direct_stake", "cross_holding", "common_controller", "indirect_ownership_over_20pct", "same_person",
		"shared_bank_account", "shared_phone", "shared_email", "shared_address":
		if ties := w.ties(s["applicant_uscc"], s["supplier_uscc"]); len(ties) == 0 {
			t.Errorf("%s: no tie found between %s and %s", name, s["applicant_uscc"], s["supplier_uscc"])
		}
	case "same_name_other_person", "fund_minority_both", "indirect_1pct", "same_building_other_room":
		if ties := w.ties(s["applicant_uscc"], s["supplier_uscc"]); len(ties) > 0 {
			t.Errorf("%s: look-alike has ties %v", name, ties)
		}
	case "idle_paid_period", "low_util_steady_jobs", "holiday_idle_week":
		var idle, all float64
		for _, u := range w.usageByContract[s["contract_no"]] {
			all += u.CardHours
			if u.UtilAvg < 0.05 && u.Jobs == 0 && u.Users == 0 {
				idle += u.CardHours
			}
		}
		if share := idle / math.Max(all, 1); (share >= 0.7) != (c.Kind == "idle_paid_period") {
			t.Errorf("%s: %.2f of the metered card-hours idle", name, share)
		}
	case "mutual_purchase", "ring_purchase":
		// The other deals close the cycle: each sells to the seller of the one before.
		seller := contract.SupplierUSCC
		for _, no := range strings.Split(ctx["other_contract_no"], ",") {
			o := w.contracts[no]
			if o == nil || o.BuyerUSCC != seller {
				t.Errorf("%s: deal %s does not go on from %s", name, no, seller)
				return
			}
			seller = o.SupplierUSCC
		}
		if seller != contract.BuyerUSCC {
			t.Errorf("%s: the cycle ends at %s, not at the claimant %s", name, seller, contract.BuyerUSCC)
		}
	case "resale_to_other_orgs":
		orgs := w.loginOrgs(s["contract_no"])
		if len(orgs) < 2 {
			t.Errorf("%s: login orgs %v", name, orgs)
		}
	}
}

// TestPlantsAcrossSeeds checks over many seeds what a plant must hold whatever the draw: each
// case is what it says (checkPlanted), the reuser of a shared payment reference is paid after
// the invoice it copies (the earliest payment keeps the reference), and no applicant falls below
// the D2 annual purchase by accident: every claim whose applicant is not a planted D2 case rests
// on at least 50,000 yuan of compute settled in the twelve months before its submission.
func TestPlantsAcrossSeeds(t *testing.T) {
	for seed := int64(1); seed <= 16; seed++ {
		t.Run(fmt.Sprint("seed", seed), func(t *testing.T) {
			t.Parallel()
			p := synth.Generate(synth.DefaultConfig(seed))
			w := parse(t, p)
			short, plantOf := map[string]bool{}, map[string][]string{}
			for _, c := range p.Truth.Cases {
				checkPlanted(t, w, c)
				if c.Detector == synth.RuleAnnualPurchase && !c.LookAlike {
					short[c.Subjects["applicant_uscc"]] = true
				}
				for k, v := range c.Subjects {
					if k == "applicant_uscc" {
						plantOf[v] = append(plantOf[v], c.Detector+"/"+c.Kind)
					}
				}
				if u := c.Context["other_applicant_uscc"]; u != "" {
					plantOf[u] = append(plantOf[u], c.Detector+"/"+c.Kind+" (other side)")
				}
				if c.Kind == "payment_ref_shared" {
					// The original is the earliest paid invoice of the reference; the case's
					// invoice must be paid after it.
					reuser, first := w.invoicesByNo[c.Subjects["invoice_no"]], ""
					for _, no := range strings.Split(c.Context["other_invoice_no"], ",") {
						for _, s := range w.invoicesByNo[no] {
							if first == "" || s.PaidOn < first {
								first = s.PaidOn
							}
						}
					}
					if len(reuser) != 1 || reuser[0].PaidOn <= first {
						t.Errorf("%s: reusing invoice %s paid %v, want after the original paid %s",
							c.Kind, c.Subjects["invoice_no"], paidOn(reuser), first)
					}
				}
			}
			bought := map[string][]*tSettlement{}
			for _, s := range w.settlements {
				bought[s.BuyerUSCC] = append(bought[s.BuyerUSCC], s)
			}
			for _, c := range w.claims {
				if short[c.ApplicantUSCC] {
					continue
				}
				sub, _ := time.Parse(time.DateOnly, c.SubmittedOn)
				from := sub.AddDate(-1, 0, 0).Format(time.DateOnly)
				var compute int64
				for _, s := range bought[c.ApplicantUSCC] {
					if s.InvoiceDate <= from || s.InvoiceDate > c.SubmittedOn {
						continue
					}
					for _, it := range s.Items {
						switch it.ServiceType {
						case "compute_resource", "compute_service", "model_service", "domestic_adaptation":
							compute += fen(it.Amount)
						}
					}
				}
				if compute < 50_000_00 {
					t.Errorf("claim %s: got %d fen of compute settled to %s (%v) in the year before %s, want at least 5000000: not a planted D2 case",
						c.ClaimID, compute, c.ApplicantUSCC, plantOf[c.ApplicantUSCC], c.SubmittedOn)
				}
			}
		})
	}
}

func paidOn(ss []*tSettlement) []string {
	var out []string
	for _, s := range ss {
		out = append(out, s.PaidOn)
	}
	return out
}

// TestHonestTradeIsHonest runs simple versions of every check over the data outside the planted
// cases and expects nothing: otherwise a detector's precision would be measured against a truth
// that misses findings.
func TestHonestTradeIsHonest(t *testing.T) {
	p := defaultProvince()
	w := parse(t, p)
	planted := map[string]bool{}
	for _, c := range p.Truth.Cases {
		for k, v := range c.Subjects {
			if k != "supplier_uscc" { // suppliers serve many honest buyers besides a plant
				planted[v] = true
			}
		}
		for _, v := range c.Context {
			for _, x := range strings.FieldsFunc(v, func(r rune) bool { return r == ',' || r == '>' }) {
				planted[x] = true
			}
		}
		if c.Kind == "metered_above_registered_capacity" {
			planted[c.Subjects["supplier_uscc"]+"|"+c.Context["chip_model"]] = true
		}
	}
	errs := map[string]int{}
	fail := func(check, format string, args ...any) {
		if errs[check]++; errs[check] <= 3 {
			t.Errorf(check+": "+format, args...)
		}
	}
	sellers := map[string]bool{}
	for _, c := range w.contracts {
		sellers[c.SupplierUSCC] = true
	}
	for _, c := range w.contracts {
		if planted[c.BuyerUSCC] || planted[c.ContractNo] {
			continue
		}
		if ties := w.ties(c.BuyerUSCC, c.SupplierUSCC); len(ties) > 0 {
			fail("related_party", "%s buys from %s: %v", c.BuyerUSCC, c.SupplierUSCC, ties)
		}
		if sellers[c.BuyerUSCC] && w.entities[c.BuyerUSCC].Supplier == nil {
			fail("resale", "buyer %s also sells", c.BuyerUSCC)
		}
		sup := w.entities[c.SupplierUSCC]
		if sup == nil || sup.Supplier == nil || !sup.Supplier.Registered {
			fail("unregistered", "%s from %s", c.ContractNo, c.SupplierUSCC)
		}
		if !c.ViaPlatform && filingDelay(c) > 30 {
			fail("late_filing", "%s filed after %d days", c.ContractNo, filingDelay(c))
		}
		for _, it := range c.Items {
			// Honest prices: the chip's band less volume discounts (card-months another 0-5 %).
			if lo, hi := marketBand(it); lo != 0 && (lo < 0.80 || hi > 1.001) {
				fail("price", "%s: %s %s at %s is %.2f of the low, %.2f of the high end", c.ContractNo, it.ChipModel, it.Unit, it.UnitPrice, lo, hi)
			}
		}
		if ws := c.ServiceStart; ws != "" && ws < "2025-10-27" {
			fail("policy_window", "%s starts %s", c.ContractNo, ws)
		}
		if r := w.billedOverMetered(c.ContractNo); r != 0 && (r < 0.85 || r > 1.15) {
			fail("billed_metered", "%s billed %.3f of metered", c.ContractNo, r)
		}
		for _, org := range w.loginOrgs(c.ContractNo) {
			if org != c.BuyerUSCC {
				fail("resale", "%s: %s logs in on %s's tenant", c.ContractNo, org, c.BuyerUSCC)
			}
		}
	}
	refs := map[string]string{}
	for _, s := range w.settlements {
		if planted[s.BuyerUSCC] {
			continue
		}
		if prev, ok := refs[s.PaymentRef]; ok {
			fail("duplicate_payment", "payment %s settles %s and %s", s.PaymentRef, prev, s.InvoiceNo)
		}
		refs[s.PaymentRef] = s.InvoiceNo
	}
	for id := range w.usageByResource {
		if !planted[id] && w.tenantOverlap(id) {
			fail("duplicate_resource", "%s metered to two tenants at once", id)
		}
	}
	for key, cards := range w.capacity {
		sup, chip, _ := strings.Cut(key, "|")
		if planted[key] {
			continue
		}
		if peak, _ := w.peakCards(sup, chip); peak > cards {
			fail("capacity", "%s meters %d %s cards of %d registered", sup, peak, chip, cards)
		}
	}
	for _, c := range w.claims {
		if planted[c.ApplicantUSCC] || planted[c.ClaimID] {
			continue
		}
		e := w.entities[c.ApplicantUSCC]
		if e.Credit.SeriouslyDishonest || e.Credit.MajorViolation {
			fail("credit", "%s applies with credit %+v", c.ApplicantUSCC, e.Credit)
		}
		if w.settledBy[c.ApplicantUSCC] < 50_000_00 {
			fail("annual_purchase", "%s bought %d fen", c.ApplicantUSCC, w.settledBy[c.ApplicantUSCC])
		}
		var sum int64
		for _, inv := range c.Invoices {
			sum += fen(inv.Amount)
			if w.claimsCiting[inv.InvoiceNo] > 1 {
				fail("duplicate_claim", "%s cited by %d claims", inv.InvoiceNo, w.claimsCiting[inv.InvoiceNo])
			}
			s := w.settlements[inv.InvoiceCode+"|"+inv.InvoiceNo]
			switch {
			case s == nil:
				fail("invoice_mismatch", "%s cites unknown invoice %s", c.ClaimID, inv.InvoiceNo)
			case s.Amount != inv.Amount || s.BuyerUSCC != c.ApplicantUSCC:
				fail("invoice_mismatch", "%s cites %s for %s, settled %s to %s", c.ClaimID, inv.InvoiceNo, inv.Amount, s.Amount, s.BuyerUSCC)
			case s.PeriodStart < "2025-10-27":
				fail("policy_window", "%s cites service from %s", c.ClaimID, s.PeriodStart)
			default:
				for _, it := range s.Items {
					if it.ServiceType == "bandwidth" || it.ServiceType == "security" || it.ServiceType == "database" {
						fail("non_subsidisable", "%s cites %s with %s", c.ClaimID, s.InvoiceNo, it.ServiceType)
					}
				}
			}
		}
		if sum != fen(c.UsageAmount) {
			fail("claim_sum", "%s: invoices sum %d, usage_amount %s", c.ClaimID, sum, c.UsageAmount)
		}
		if req := fen(c.Requested); req*100 > sum*30 || req > 10_000_000_00 {
			fail("requested", "%s asks %s of %s", c.ClaimID, c.Requested, c.UsageAmount)
		}
	}
	if len(errs) == 0 {
		t.Logf("checked %d contracts, %d settlements, %d resources, %d claims", len(w.contracts), len(w.settlements), len(w.usageByResource), len(w.claims))
	}
}

func TestSmallAndShortProvinces(t *testing.T) {
	p := synth.Generate(synth.Config{Seed: 3, Enterprises: 40, Suppliers: 6, Plant: true})
	if len(p.Truth.Cases) == 0 {
		t.Error("a small province got no plants")
	}
	for _, m := range p.Messages {
		if _, f, err := validate(m); err != nil {
			t.Fatalf("%v (%s)", err, f)
		}
	}
	short := synth.Config{Seed: 3, Enterprises: 40, Plant: true,
		Start: time.Date(2026, 3, 1, 0, 0, 0, 0, voucherwatch.CST), End: time.Date(2026, 6, 30, 0, 0, 0, 0, voucherwatch.CST)}
	p = synth.Generate(short)
	if len(p.Truth.Cases) != 0 {
		t.Errorf("a four-month province got %d plants; they need a year", len(p.Truth.Cases))
	}
	for _, m := range p.Messages {
		if _, f, err := validate(m); err != nil {
			t.Fatalf("%v (%s)", err, f)
		}
	}
}

func TestBadUsage(t *testing.T) {
	msgs := synth.BadUsage(1)
	if !reflect.DeepEqual(msgs, synth.BadUsage(1)) {
		t.Fatal("BadUsage is not deterministic")
	}
	var kinds []string
	ids := map[string]bool{}
	for _, m := range msgs {
		if m.Topic != synth.TopicUsage {
			t.Errorf("%s: topic %s", m.Kind, m.Topic)
		}
		env, field, err := validate(m.Message)
		if m.Kind == "" {
			if err != nil {
				t.Errorf("a good message is bad: %v", err)
			}
		} else {
			kinds = append(kinds, m.Kind)
			if err == nil {
				t.Errorf("%s: passes validation:\n%.300s", m.Kind, m.Value)
			} else if field != m.Field {
				t.Errorf("%s: validation names %q, BadUsage says %q (%v)", m.Kind, field, m.Field, err)
			}
		}
		if env.ID != "" {
			if k := env.Source + "|" + env.ID; ids[k] {
				t.Errorf("%s: (source, id) %s repeated", m.Kind, k)
			} else {
				ids[k] = true
			}
		}
	}
	if !reflect.DeepEqual(kinds, synth.BadKinds) {
		t.Errorf("kinds %v, want %v", kinds, synth.BadKinds)
	}
	if len(synth.BadKinds) < 20 {
		t.Errorf("%d bad kinds, want at least 20", len(synth.BadKinds))
	}
}

func TestUsageStreamIsValid(t *testing.T) {
	ids := map[string]bool{}
	last := map[string]string{} // resource -> window_end
	err := synth.UsageStream(5, 20000, func(m synth.Message) error {
		env, f, err := validate(m)
		if err != nil {
			return fmt.Errorf("%v (%s): %s", err, f, m.Value)
		}
		if k := env.Source + "|" + env.ID; ids[k] {
			return fmt.Errorf("(source, id) %s repeated", k)
		} else {
			ids[k] = true
		}
		res := env.Data["resource_id"].(string)
		if prev, ok := last[res]; ok && prev != env.Data["window_start"] {
			return fmt.Errorf("%s: window starts %s, previous ended %s", res, env.Data["window_start"], prev)
		}
		last[res] = env.Data["window_end"].(string)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestUsageStreamMillion measures the benchmark stream at the size load tests use.
func TestUsageStreamMillion(t *testing.T) {
	if testing.Short() {
		t.Skip("a million messages")
	}
	var bytes int
	start := time.Now()
	allocs := testing.AllocsPerRun(1, func() {
		bytes = 0
		_ = synth.UsageStream(1, 1_000_000, func(m synth.Message) error { bytes += len(m.Value); return nil })
	})
	took := time.Since(start)
	t.Logf("1,000,000 messages, %d MB, in %v; %.0f allocations in all", bytes>>20, took, allocs)
	if allocs > 100_000 {
		t.Errorf("%.0f allocations for a million messages: the stream should reuse its buffer", allocs)
	}
	if took > 30*time.Second {
		t.Errorf("took %v", took)
	}
}

func BenchmarkUsageStream(b *testing.B) {
	b.ReportAllocs()
	size := 0
	_ = synth.UsageStream(1, 1000, func(m synth.Message) error { size += len(m.Value); return nil })
	b.SetBytes(int64(size / 1000))
	b.ResetTimer()
	_ = synth.UsageStream(1, b.N, func(synth.Message) error { return nil })
}

func BenchmarkGenerate(b *testing.B) {
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		synth.Generate(synth.DefaultConfig(int64(i)))
	}
}

// world is the delivered data, decoded independently of the generator: newest version per key.
type world struct {
	entities        map[string]*tEntity
	entityAt        map[string]time.Time
	contracts       map[string]*tContract
	contractAt      map[string]time.Time
	settlements     map[string]*tSettlement // invoice_code|invoice_no
	invoicesByNo    map[string][]*tSettlement
	settledBy       map[string]int64 // buyer -> fen
	usageByResource map[string][]*tUsage
	usageByContract map[string][]*tUsage
	claims          map[string]*tClaim
	claimsCiting    map[string]int // invoice_no -> claims
	capacity        map[string]int // supplier|chip -> registered cards
}

type tPerson struct {
	Name     string `json:"name"`
	IDType   string `json:"id_type"`
	IDNumber string `json:"id_number"`
	Phone    string `json:"phone"`
	Email    string `json:"email"`
}

type tEntity struct {
	USCC              string     `json:"uscc"`
	RegisteredAddress string     `json:"registered_address"`
	OfficeAddress     string     `json:"office_address"`
	LegalRep          *tPerson   `json:"legal_rep"`
	Contacts          []tPerson  `json:"contacts"`
	Shareholders      []tHolder  `json:"shareholders"`
	Officers          []tOfficer `json:"officers"`
	BankAccounts      []struct {
		AccountNo string `json:"account_no"`
	} `json:"bank_accounts"`
	Credit struct {
		SeriouslyDishonest bool `json:"seriously_dishonest"`
		MajorViolation     bool `json:"major_violation_within_3y"`
	} `json:"credit"`
	Supplier *struct {
		Registered bool `json:"registered"`
		Capacity   []struct {
			ChipModel string `json:"chip_model"`
			Cards     int    `json:"cards"`
		} `json:"capacity"`
	} `json:"supplier"`
}

type tHolder struct {
	Kind     string   `json:"kind"`
	USCC     string   `json:"uscc"`
	Person   *tPerson `json:"person"`
	SharePct float64  `json:"share_pct"`
}

type tOfficer struct {
	Role   string  `json:"role"`
	Person tPerson `json:"person"`
}

type tItem struct {
	ServiceType string  `json:"service_type"`
	ChipModel   string  `json:"chip_model"`
	Cards       int     `json:"cards"`
	UnitPrice   string  `json:"unit_price"`
	Unit        string  `json:"unit"`
	Quantity    float64 `json:"quantity"`
	Amount      string  `json:"amount"`
}

type tContract struct {
	ContractNo   string  `json:"contract_no"`
	SupplierUSCC string  `json:"supplier_uscc"`
	BuyerUSCC    string  `json:"buyer_uscc"`
	SignedOn     string  `json:"signed_on"`
	ServiceStart string  `json:"service_start"`
	Items        []tItem `json:"items"`
	ViaPlatform  bool    `json:"via_platform"`
	FiledOn      *string `json:"filed_on"`
}

type tSettlement struct {
	ContractNo  string  `json:"contract_no"`
	BuyerUSCC   string  `json:"buyer_uscc"`
	InvoiceCode string  `json:"invoice_code"`
	InvoiceNo   string  `json:"invoice_no"`
	InvoiceDate string  `json:"invoice_date"`
	Amount      string  `json:"amount"`
	PaymentRef  string  `json:"payment_ref"`
	PaidOn      string  `json:"paid_on"`
	PeriodStart string  `json:"period_start"`
	PeriodEnd   string  `json:"period_end"`
	Items       []tItem `json:"items"`
}

type tUsage struct {
	SupplierUSCC string   `json:"supplier_uscc"`
	BuyerUSCC    string   `json:"buyer_uscc"`
	ContractNo   string   `json:"contract_no"`
	ResourceID   string   `json:"resource_id"`
	ChipModel    string   `json:"chip_model"`
	Cards        int      `json:"cards"`
	WindowStart  string   `json:"window_start"`
	WindowEnd    string   `json:"window_end"`
	CardHours    float64  `json:"card_hours"`
	LoginOrgs    []string `json:"login_orgs"`
	UtilAvg      float64  `json:"util_avg"`
	Jobs         int      `json:"jobs"`
	Users        int      `json:"users"`
	ws, we       time.Time
}

type tClaim struct {
	ClaimID       string `json:"claim_id"`
	ApplicantUSCC string `json:"applicant_uscc"`
	SubmittedOn   string `json:"submitted_on"`
	Invoices      []struct {
		InvoiceCode string `json:"invoice_code"`
		InvoiceNo   string `json:"invoice_no"`
		Amount      string `json:"amount"`
	} `json:"invoices"`
	UsageAmount string `json:"usage_amount"`
	Requested   string `json:"requested"`
}

func parse(t *testing.T, p *synth.Province) *world {
	t.Helper()
	w := &world{entities: map[string]*tEntity{}, entityAt: map[string]time.Time{}, contracts: map[string]*tContract{},
		contractAt: map[string]time.Time{}, settlements: map[string]*tSettlement{}, invoicesByNo: map[string][]*tSettlement{},
		settledBy: map[string]int64{}, usageByResource: map[string][]*tUsage{}, usageByContract: map[string][]*tUsage{},
		claims: map[string]*tClaim{}, claimsCiting: map[string]int{}, capacity: map[string]int{}}
	seen := map[string]bool{}
	for _, m := range p.Messages {
		var env struct {
			ID, Source, Type string
			Time             time.Time
			Data             json.RawMessage
		}
		if err := json.Unmarshal(m.Value, &env); err != nil {
			t.Fatal(err)
		}
		if seen[env.Source+"|"+env.ID] {
			continue
		}
		seen[env.Source+"|"+env.ID] = true
		decode := func(v any) {
			if err := json.Unmarshal(env.Data, v); err != nil {
				t.Fatalf("%s %s: %v", env.Type, env.ID, err)
			}
		}
		switch env.Type {
		case "registry.entity.v1":
			e := &tEntity{}
			decode(e)
			if env.Time.After(w.entityAt[e.USCC]) {
				w.entities[e.USCC], w.entityAt[e.USCC] = e, env.Time
			}
		case "contract.v1":
			c := &tContract{}
			decode(c)
			if env.Time.After(w.contractAt[c.ContractNo]) {
				w.contracts[c.ContractNo], w.contractAt[c.ContractNo] = c, env.Time
			}
		case "settlement.v1":
			s := &tSettlement{}
			decode(s)
			w.settlements[s.InvoiceCode+"|"+s.InvoiceNo] = s
			w.invoicesByNo[s.InvoiceNo] = append(w.invoicesByNo[s.InvoiceNo], s)
			w.settledBy[s.BuyerUSCC] += fen(s.Amount)
		case "usage.v1":
			u := &tUsage{}
			decode(u)
			u.ws, _ = time.Parse(time.RFC3339, u.WindowStart)
			u.we, _ = time.Parse(time.RFC3339, u.WindowEnd)
			w.usageByResource[u.ResourceID] = append(w.usageByResource[u.ResourceID], u)
			w.usageByContract[u.ContractNo] = append(w.usageByContract[u.ContractNo], u)
		case "claim.v1":
			c := &tClaim{}
			decode(c)
			w.claims[c.ClaimID] = c
			for _, inv := range c.Invoices {
				w.claimsCiting[inv.InvoiceNo]++
			}
		}
	}
	for u, e := range w.entities {
		if e.Supplier != nil {
			for _, c := range e.Supplier.Capacity {
				w.capacity[u+"|"+c.ChipModel] += c.Cards
			}
		}
	}
	return w
}

// fen parses a wire amount into fen.
func fen(s string) int64 {
	whole, frac, _ := strings.Cut(s, ".")
	v, _ := strconv.ParseInt(whole, 10, 64)
	for len(frac) < 2 {
		frac += "0"
	}
	f, _ := strconv.ParseInt(frac, 10, 64)
	return v*100 + f
}

// marketRatio is an item's unit price over the mid-market price of its chip, normalising a
// card-month to 720 card-hours at the usual discount; 0 when it is not a priced compute item.
func marketRatio(it tItem) float64 {
	if it.ChipModel == "" || it.UnitPrice == "" || it.Unit == "token_million" {
		return 0
	}
	p := float64(fen(it.UnitPrice)) / 100
	if it.Unit == "card_month" {
		p /= synth.HoursPerCardMonth * (1 - synth.CardMonthDiscount)
	}
	for _, c := range synth.Chips {
		if c.Model == it.ChipModel {
			return p / c.Mid()
		}
	}
	return 0
}

// marketBand is an item's card-hour price (card-months normalised as in marketRatio) over the
// low and over the high end of its chip's market; zeros when not a priced compute item.
func marketBand(it tItem) (lo, hi float64) {
	r := marketRatio(it)
	for _, c := range synth.Chips {
		if r != 0 && c.Model == it.ChipModel {
			return r * c.Mid() / c.Low, r * c.Mid() / c.High
		}
	}
	return 0, 0
}

func filingDelay(c *tContract) int {
	if c.FiledOn == nil {
		return 1 << 20
	}
	s, _ := time.Parse("2006-01-02", c.SignedOn)
	f, _ := time.Parse("2006-01-02", *c.FiledOn)
	return int(f.Sub(s).Hours() / 24)
}

// tenantOverlap reports whether a resource is metered to two buyers in overlapping windows.
func (w *world) tenantOverlap(resource string) bool {
	us := w.usageByResource[resource]
	for i, a := range us {
		for _, b := range us[i+1:] {
			if a.BuyerUSCC != b.BuyerUSCC && a.ws.Before(b.we) && b.ws.Before(a.we) {
				return true
			}
		}
	}
	return false
}

// peakCards is the most cards of a chip a supplier meters at once, and its registered capacity.
func (w *world) peakCards(supplier, chip string) (int, int) {
	type ev struct {
		at    time.Time
		delta int
	}
	var evs []ev
	for _, us := range w.usageByResource {
		for _, u := range us {
			if u.SupplierUSCC == supplier && u.ChipModel == chip {
				evs = append(evs, ev{u.ws, u.Cards}, ev{u.we, -u.Cards})
			}
		}
	}
	sort.Slice(evs, func(i, j int) bool {
		if !evs[i].at.Equal(evs[j].at) {
			return evs[i].at.Before(evs[j].at)
		}
		return evs[i].delta < evs[j].delta // a window ends before the next begins
	})
	cur, peak := 0, 0
	for _, e := range evs {
		cur += e.delta
		peak = max(peak, cur)
	}
	return peak, w.capacity[supplier+"|"+chip]
}

// billedOverMetered compares a contract's billed card-hours with the metered card-hours of the
// billed periods (windows prorated by their hours inside the periods); 0 when not comparable.
func (w *world) billedOverMetered(contract string) float64 {
	billed, metered := 0.0, 0.0
	for _, s := range w.settlements {
		if s.ContractNo != contract {
			continue
		}
		ps, _ := time.ParseInLocation("2006-01-02", s.PeriodStart, voucherwatch.CST)
		pe, _ := time.ParseInLocation("2006-01-02", s.PeriodEnd, voucherwatch.CST)
		pe = pe.AddDate(0, 0, 1)
		for _, it := range s.Items {
			switch it.Unit {
			case "card_hour":
				billed += it.Quantity
			case "card_month":
				billed += it.Quantity * synth.HoursPerCardMonth
			default:
				continue
			}
			for _, u := range w.usageByContract[contract] {
				from, to := maxTime(u.ws, ps), minTime(u.we, pe)
				if to.After(from) {
					metered += u.CardHours * to.Sub(from).Hours() / u.we.Sub(u.ws).Hours()
				}
			}
		}
	}
	if metered < 1000 {
		return 0 // too little published usage to compare (a contract ending with the period)
	}
	return billed / metered
}

func (w *world) loginOrgs(contract string) []string {
	set := map[string]bool{}
	for _, u := range w.usageByContract[contract] {
		for _, o := range u.LoginOrgs {
			set[o] = true
		}
	}
	var out []string
	for o := range set {
		out = append(out, o)
	}
	sort.Strings(out)
	return out
}

func maxTime(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}

// ties lists what relates buyer and supplier: shared people (by id number), accounts, phones,
// e-mail addresses or addresses, direct stakes, a common controller, integrated ownership above
// 20 %. It is deliberately simple; the detector is where the care goes.
func (w *world) ties(buyer, supplier string) []string {
	b, s := w.entities[buyer], w.entities[supplier]
	if b == nil || s == nil {
		return nil
	}
	var out []string
	people := func(e *tEntity) []tPerson {
		ps := append([]tPerson(nil), e.Contacts...)
		if e.LegalRep != nil {
			ps = append(ps, *e.LegalRep)
		}
		for _, o := range e.Officers {
			ps = append(ps, o.Person)
		}
		for _, h := range e.Shareholders {
			if h.Person != nil {
				ps = append(ps, *h.Person)
			}
		}
		return ps
	}
	ids, phones, mails := map[string]bool{}, map[string]bool{}, map[string]bool{}
	for _, p := range people(s) {
		ids[p.IDType+p.IDNumber], phones[p.Phone], mails[p.Email] = true, true, true
	}
	for _, p := range people(b) {
		switch {
		case p.IDNumber != "" && ids[p.IDType+p.IDNumber]:
			out = append(out, "person "+p.Name)
		case p.Phone != "" && phones[p.Phone]:
			out = append(out, "phone "+p.Phone)
		case p.Email != "" && mails[p.Email]:
			out = append(out, "email "+p.Email)
		}
	}
	for _, a := range b.BankAccounts {
		for _, x := range s.BankAccounts {
			if a.AccountNo == x.AccountNo {
				out = append(out, "account "+a.AccountNo)
			}
		}
	}
	for _, a := range []string{b.RegisteredAddress, b.OfficeAddress} {
		if a != "" && (a == s.RegisteredAddress || a == s.OfficeAddress) {
			out = append(out, "address "+a)
		}
	}
	for _, h := range b.Shareholders {
		if h.USCC == supplier {
			out = append(out, "supplier holds buyer")
		}
	}
	for _, h := range s.Shareholders {
		if h.USCC == buyer {
			out = append(out, "buyer holds supplier")
		}
	}
	cb, cs := w.controllers(buyer), w.controllers(supplier)
	for c := range cb {
		if cs[c] {
			out = append(out, "common controller "+c)
		}
	}
	if pct := w.integrated(supplier, buyer, 0); pct > 20 {
		out = append(out, fmt.Sprintf("supplier owns %.1f %% of buyer", pct))
	}
	if pct := w.integrated(buyer, supplier, 0); pct > 20 {
		out = append(out, fmt.Sprintf("buyer owns %.1f %% of supplier", pct))
	}
	return out
}

// controllers are the enterprises controlling u through chains of stakes above 50 %.
func (w *world) controllers(u string) map[string]bool {
	out := map[string]bool{}
	for cur := u; ; {
		e := w.entities[cur]
		next := ""
		if e != nil {
			for _, h := range e.Shareholders {
				if h.Kind == "enterprise" && h.SharePct > 50 && !out[h.USCC] {
					next = h.USCC
				}
			}
		}
		if next == "" {
			return out
		}
		out[next] = true
		cur = next
	}
}

// integrated is the share owner holds in u directly and through other enterprises.
func (w *world) integrated(owner, u string, depth int) float64 {
	e := w.entities[u]
	if e == nil || depth > 6 {
		return 0
	}
	total := 0.0
	for _, h := range e.Shareholders {
		if h.Kind != "enterprise" {
			continue
		}
		if h.USCC == owner {
			total += h.SharePct
		} else {
			total += h.SharePct / 100 * w.integrated(owner, h.USCC, depth+1)
		}
	}
	return total
}

func TestCaseMatches(t *testing.T) {
	dup := synth.Case{
		Subjects: map[string]string{"applicant_uscc": "B", "supplier_uscc": "S", "claim_id": "C2", "invoice_no": "I"},
		Context:  map[string]string{"other_claim_id": "C1", "other_applicant_uscc": "A", "other_contract_no": "K1,K2"},
	}
	capacity := synth.Case{Subjects: map[string]string{"supplier_uscc": "S"}}
	f := func(name string, c synth.Case, alert map[string]string, want bool) {
		t.Helper()
		if got := c.Matches(alert); got != want {
			t.Errorf("%s: got %v, want %v", name, got, want)
		}
	}
	f("same applicant and claim", dup, map[string]string{"applicant_uscc": "B", "claim_id": "C2"}, true)
	f("the other side", dup, map[string]string{"applicant_uscc": "A", "claim_id": "C1", "contract_no": "K2"}, true)
	f("another claim", dup, map[string]string{"applicant_uscc": "B", "claim_id": "C9"}, false)
	f("another applicant", dup, map[string]string{"applicant_uscc": "X", "invoice_no": "I"}, false)
	f("no anchor", dup, map[string]string{"invoice_no": "I"}, false)
	f("supplier-level case", capacity, map[string]string{"supplier_uscc": "S", "resource_id": "R"}, true)
	f("supplier-level case, other supplier", capacity, map[string]string{"supplier_uscc": "T"}, false)
}

// TestTruthDetectors: each detector the cases name once, sorted, look-alikes' detectors too.
func TestTruthDetectors(t *testing.T) {
	truth := synth.Truth{Cases: []synth.Case{
		{Detector: "resale"}, {Detector: "duplicate_claim"}, {Detector: "resale", LookAlike: true},
		{Detector: "rule:late_filing", LookAlike: true}, {Detector: "duplicate_claim"},
	}}
	want := []string{"duplicate_claim", "resale", "rule:late_filing"}
	if got := truth.Detectors(); !reflect.DeepEqual(got, want) {
		t.Errorf("Detectors() = %q, want %q", got, want)
	}
}
