package detectors

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"

	"github.com/voucherwatch/voucherwatch"
	"github.com/voucherwatch/voucherwatch/detectors/detectortest"
	"github.com/voucherwatch/voucherwatch/rules"
	"github.com/voucherwatch/voucherwatch/synth"
)

func TestRequestedOverLimit(t *testing.T) {
	f := newFxDB(t)
	sup, unreg := fxUSCC("S", 1), fxUSCC("S", 2)
	f.add(fxRec(fxSupplier(sup, true)), fxRec(fxSupplier(unreg, false)))
	type inv struct {
		supplier         string
		from, to, amount string
		claimed          string // "" claims the settled amount
	}
	nov := func(amount string) inv { return inv{from: "2025-11-01", to: "2025-11-30", amount: amount} }
	cases := []struct {
		name      string
		claims    [][]inv // one applicant's claims, each its invoices
		requested []string
		want      []string
	}{
		{name: "exactly30Percent", claims: [][]inv{{nov("123456.79")}}, requested: []string{"37037.03"}},
		{name: "twoFenOver30Percent", claims: [][]inv{{nov("123456.79")}}, requested: []string{"37037.05"}, want: []string{"over_30_percent/high"}},
		{name: "over10mCap", claims: [][]inv{{nov("40000000.00")}}, requested: []string{"10500000.00"}, want: []string{"over_10m_cap/high"}},
		{name: "exactly10mCap", claims: [][]inv{{nov("40000000.00")}}, requested: []string{"10000000.00"}},
		{name: "serviceCrossesWindowStartClaimedInFull", claims: [][]inv{{{from: "2025-10-01", to: "2025-10-31", amount: "31000.00"}, nov("100000.00")}},
			requested: []string{"39300.00"}, want: []string{"over_eligible_limit/low"}},
		{name: "serviceCrossesWindowStartProrated", claims: [][]inv{{{from: "2025-10-01", to: "2025-10-31", amount: "31000.00", claimed: "5000.00"}, nov("100000.00")}},
			requested: []string{"31500.00"}},
		{name: "unregisteredSuppliersInvoice", claims: [][]inv{{nov("100000.00"), {supplier: unreg, from: "2025-11-01", to: "2025-11-30", amount: "50000.00"}}},
			requested: []string{"45000.00"}, want: []string{"over_eligible_limit/low"}},
		{name: "roundTotalOverCap", claims: [][]inv{{nov("25000000.00")}, {{from: "2025-12-01", to: "2025-12-31", amount: "25000000.00"}}},
			requested: []string{"6000000.00", "6000000.00"}, want: []string{"round_total_over_10m_cap/medium"}},
	}
	for i, c := range cases {
		b := fxUSCC("B", i)
		f.add(fxRec(fxBuyer(b)))
		for j, invs := range c.claims {
			cl := fxClaim(fmt.Sprintf("SB-RL-%s-%d", c.name, j), b, c.requested[j])
			cl.SubmittedOn = fxDate("2026-10-20").AddDate(0, 0, j)
			for n, v := range invs {
				s := sup
				if v.supplier != "" {
					s = v.supplier
				}
				k := fxContract(fmt.Sprintf("HT-RL-%s-%d-%d", c.name, j, n), s, b, v.from, v.to, fxCompute(v.amount))
				st := fxInvoice(k, "", fmt.Sprintf("2643200%04d%04d%05d", i, j, n), v.from, v.to, fxCompute(v.amount))
				amount := st.Amount
				if v.claimed != "" {
					amount = fxYuan(v.claimed)
				}
				cl.Invoices = append(cl.Invoices, voucherwatch.ClaimInvoice{InvoiceNo: st.InvoiceNo, Amount: amount})
				cl.UsageAmount += amount
				cl.Contracts = append(cl.Contracts, k.ContractNo)
				f.add(fxRec(k), fxRec(st))
			}
			f.add(fxRec(cl))
		}
	}
	alerts := f.run(NewRequestedOverLimit(f.env()))
	for i, c := range cases {
		for _, a := range fxWant(t, c.name, alerts, fxUSCC("B", i), c.want...) {
			if a.Subjects.ClaimID != fmt.Sprintf("SB-RL-%s-%d", c.name, len(c.claims)-1) || a.PolicyClause != "三 / C2" {
				t.Errorf("%s: got subjects %+v clause %q", c.name, a.Subjects, a.PolicyClause)
			}
		}
	}
	over := fxAlertsOn(alerts, fxUSCC("B", 1))
	if len(over) == 1 {
		ev := evFacts(over[0].Evidence)
		for k, want := range map[string]string{"eligible": "123456.79", "max_subsidy": "37037.03", "over_by": "0.02", "rounding_tolerance": "0.01"} {
			if ev[k] != want {
				t.Errorf("twoFenOver30Percent: got %s %v, want %s", k, ev[k], want)
			}
		}
		if s := over[0].Subjects; s.SupplierUSCC != sup || s.ContractNo != "HT-RL-twoFenOver30Percent-0-0" {
			t.Errorf("twoFenOver30Percent: got subjects %+v", s)
		}
	}
	if crossed := fxAlertsOn(alerts, fxUSCC("B", 4)); len(crossed) == 1 {
		// 31,000.00 for 31 days, 5 of them in the window: 5,000.00; and 100,000.00 in full.
		if got, want := evFacts(crossed[0].Evidence)["eligible"], "105000.00"; got != want {
			t.Errorf("serviceCrossesWindowStartClaimedInFull: got eligible %v, want %s", got, want)
		}
		if got, want := evFacts(crossed[0].Evidence)["over_by"], "7800.00"; got != want {
			t.Errorf("serviceCrossesWindowStartClaimedInFull: got over_by %v, want %s", got, want)
		}
	}
}

// TestRequestedOverLimitRounding: applicants who compute 30 % rounded half up, on the total or
// invoice by invoice and summed, ask up to one fen per invoice more than the truncated maximum.
// That is not reported; a request above the truncated maximum by more than the tolerance is,
// for every amount.
func TestRequestedOverLimitRounding(t *testing.T) {
	f := newFxDB(t)
	sup := fxUSCC("S", 1)
	f.add(fxRec(fxSupplier(sup, true)))
	// Realistic invoice sets, chosen so that 30 % has a fraction of a fen that rounds up.
	sets := [][]string{
		{"123456.79"},                           // 37037.037 → 37037.04
		{"86420.13"},                            // 25926.039
		{"58333.33"},                            // 17499.999
		{"99999.99"},                            // 29999.997
		{"41666.62", "41666.62", "41666.62"},    // 12499.986 each: rounded and summed, 2 fen above the total's truncation
		{"250000.03", "178500.06"},              // 75000.009 + 53550.018
		{"1234567.89", "765432.11", "33333.33"}, // mixed sizes
	}
	halfUp := func(fen voucherwatch.Money) voucherwatch.Money { return (fen*30 + 50) / 100 }
	type claimCase struct {
		name      string
		invoices  []string
		requested voucherwatch.Money
		want      []string
	}
	var cases []claimCase
	for i, set := range sets {
		var total, perInvoice voucherwatch.Money
		for _, a := range set {
			total += fxYuan(a)
			perInvoice += halfUp(fxYuan(a))
		}
		truncated := total * 30 / 100
		tolerance := voucherwatch.Money(len(set)) // 0.01 yuan per invoice
		if perInvoice-truncated > tolerance || halfUp(total)-truncated < 1 {
			t.Fatalf("set %d: not a rounding case (per invoice %v, total %v, truncated %v)", i, perInvoice, halfUp(total), truncated)
		}
		cases = append(cases,
			claimCase{name: fmt.Sprintf("set%dTotalHalfUp", i), invoices: set, requested: halfUp(total)},
			claimCase{name: fmt.Sprintf("set%dEachHalfUp", i), invoices: set, requested: perInvoice},
			claimCase{name: fmt.Sprintf("set%dAtTolerance", i), invoices: set, requested: truncated + tolerance},
			claimCase{name: fmt.Sprintf("set%dOverTolerance", i), invoices: set, requested: truncated + tolerance + 1, want: []string{"over_30_percent/high"}},
			claimCase{name: fmt.Sprintf("set%dOneYuanOver", i), invoices: set, requested: truncated + 100, want: []string{"over_30_percent/high"}},
		)
	}
	for i, c := range cases {
		b := fxUSCC("R", i)
		f.add(fxRec(fxBuyer(b)))
		var invs []*voucherwatch.Settlement
		for n, a := range c.invoices {
			k := fxContract(fmt.Sprintf("HT-RR-%s-%d", c.name, n), sup, b, "2026-03-01", "2026-03-31", fxCompute(a))
			st := fxInvoice(k, "", fmt.Sprintf("2643210%05d%04d", i, n), "2026-03-01", "2026-03-31", fxCompute(a))
			invs = append(invs, st)
			f.add(fxRec(k), fxRec(st))
		}
		f.add(fxRec(fxClaim("SB-RR-"+c.name, b, c.requested.String(), invs...)))
	}
	alerts := f.run(NewRequestedOverLimit(f.env()))
	for i, c := range cases {
		fxWant(t, c.name+" (asks "+c.requested.String()+")", alerts, fxUSCC("R", i), c.want...)
	}
}

// TestRequestedOverLimitProvinceRoundedHalfUp is the province of the issue: every honest
// applicant asks 30 % of its invoices rounded half up, as accountants do, where the policy
// truncates. Judged to the fen (tolerance 0.00) that raises a flood of high alerts for a fen;
// with the policy's tolerance none, while every planted excess is still caught.
func TestRequestedOverLimitProvinceRoundedHalfUp(t *testing.T) {
	p := synth.Generate(synth.DefaultConfig(4))
	rounded := map[string]bool{} // claim ids whose request moved up by a fen
	for i, m := range p.Messages {
		if m.Topic != synth.TopicClaims {
			continue
		}
		var msg map[string]any
		if err := json.Unmarshal(m.Value, &msg); err != nil {
			t.Fatal(err)
		}
		data := msg["data"].(map[string]any)
		usage, ok1 := voucherwatch.ParseMoney(fmt.Sprint(data["usage_amount"]))
		asked, ok2 := voucherwatch.ParseMoney(fmt.Sprint(data["requested"]))
		if !ok1 || !ok2 {
			t.Fatalf("claim %v: amounts %v, %v", data["claim_id"], data["usage_amount"], data["requested"])
		}
		truncated, halfUp := usage*30/100, (usage*30+50)/100
		if asked > truncated || halfUp > 1_000_000_000 {
			continue // a planted excess, or at the cap: left as generated
		}
		data["requested"] = halfUp.String()
		if halfUp > truncated {
			rounded[data["claim_id"].(string)] = true
		}
		v, err := json.Marshal(msg)
		if err != nil {
			t.Fatal(err)
		}
		p.Messages[i].Value = v
	}
	// The rule reads claims, settlements and the registry: the usage telemetry stays out.
	var msgs []synth.Message
	for _, m := range p.Messages {
		if m.Topic != synth.TopicUsage {
			msgs = append(msgs, m)
		}
	}
	db := detectortest.NewDB(t)
	detectortest.Load(t, db, msgs)

	run := func(tolerance voucherwatch.Money) (flood int, alerts []voucherwatch.Alert) {
		t.Helper()
		policy := rules.Default()
		policy.RoundingTolerancePerInvoice.Money = tolerance
		alerts, err := NewRequestedOverLimit(Env{DB: db, Policy: policy}).Run(context.Background(), p.Config.End)
		if err != nil {
			t.Fatal(err)
		}
		for _, a := range alerts {
			if rounded[a.Subjects.ClaimID] && a.Severity == voucherwatch.SeverityHigh {
				flood++
			}
		}
		return flood, alerts
	}
	toTheFen, _ := run(0)
	flood, alerts := run(rules.Default().RoundingTolerancePerInvoice.Money)
	t.Logf("%d claims rounded half up; high alerts on them: %d judged to the fen, %d with the tolerance", len(rounded), toTheFen, flood)
	if len(rounded) < 20 || toTheFen < len(rounded)/2 {
		t.Errorf("got %d rounded claims and %d alerts judged to the fen, want a flood to prevent (the test proves nothing otherwise)", len(rounded), toTheFen)
	}
	if flood != 0 {
		t.Errorf("got %d high alerts on claims rounded half up, want none", flood)
	}
	detectortest.Require(t, detectortest.Evaluate("requested_over_limit", alerts, p.Truth), 0.9)
}
