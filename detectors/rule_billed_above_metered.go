package detectors

import (
	"context"
	"fmt"
	"math"
	"sort"
	"time"

	"github.com/voucherwatch/voucherwatch"
)

// BilledAboveMetered checks the proof of real use (二(一)3 D3, 四.4 P4 附件4): what a contract's
// invoices bill in card-hours (a card-month is Policy.CardMonthHours card-hours) against what the
// supplier's platform metered for the contract over the same service periods. ClickHouse does
// the sums: each invoice's billed card-hours, and the metered card-hours of the usage windows
// overlapping its period, a window crossing the period's edge counted by its share of hours
// inside (the windows of all the contract's resources summed per window first, which keeps the
// join small). A period is compared once the metering covers it (windows reported from its start
// to its end), or once its windows are overdue: more than the contract's longest window and a day
// after the period ended, at the evaluation time. Until then it waits, so that a month invoiced
// before its last week is reported is not taken for over-billing; a supplier that stops
// reporting while it goes on billing is compared all the same.
//
// A contract is reported when, over its covered periods, billed exceeds metered by more than
// Policy.Billing.BilledOverMeteredRatio and by at least Policy.Billing.MinGapCardHours (high:
// the invoices claim use that did not happen). A registered supplier billing card-hours with no
// metering at all for the contract is a low hint: registered suppliers report to the platform.
type BilledAboveMetered struct{ env Env }

var _ voucherwatch.IncrementalDetector = (*BilledAboveMetered)(nil)

// NewBilledAboveMetered builds the billed_above_metered rule.
func NewBilledAboveMetered(env Env) *BilledAboveMetered { return &BilledAboveMetered{env: env} }

// Name is "billed_above_metered".
func (d *BilledAboveMetered) Name() string { return "billed_above_metered" }

// Kinds are the kinds its alerts may carry (voucherwatch.AlertKinds has their labels).
func (d *BilledAboveMetered) Kinds() []string {
	return []string{"billed_without_metering", "billed_above_metered"}
}

// Run compares every contract's billing with its metering.
func (d *BilledAboveMetered) Run(ctx context.Context, at time.Time) ([]voucherwatch.Alert, error) {
	cities, err := Cities(ctx, d.env.reads())
	if err != nil {
		return nil, err
	}
	meterings, err := d.env.reads().InvoiceMeterings(ctx, d.env.Policy.CardMonthHours)
	if err != nil {
		return nil, fmt.Errorf("detectors: billed_above_metered: %w", err)
	}
	return d.judge(meterings, cities, at, func() (map[string]ruleEntity, error) { return ruleLoadRegistry(ctx, d.env) },
		func(map[ruleDealKey]bool) (map[ruleDealKey][]string, error) { return ruleClaimsCiting(ctx, d.env) })
}

// Check compares, by keyed look-ups (InvoiceMeteringsOf, LatestEntitiesOf,
// ClaimsCitingContractsOf), the contracts of changed settlements (any version's: an invoice
// re-sent under another contract changes both), as Run compares every contract. Only a new
// billing fact is checked: the comparison reads the contracts' suppliers' usage_runs, 4–8 s
// per check for a large supplier at 100 M (bench scale, sixth session), where the full run on
// the kept comparisons took 1.1 s, and a new contract, claim or registry row reached up to
// every deal of an enterprise and held a check worker that long, so that every other lane
// waited behind it. What those change (a re-sent contract, the claims citing a contract and
// the cities in the evidence, a supplier's registration) waits for the next full run, as a
// contract whose metering alone changed (usage carries no keys) always did.
func (d *BilledAboveMetered) Check(ctx context.Context, at time.Time, changed voucherwatch.Changes) ([]voucherwatch.Alert, error) {
	rm := d.env.reads()
	invoices := changed.InvoiceKeys()
	if len(invoices) == 0 {
		return nil, nil
	}
	meterings, err := rm.InvoiceMeteringsOf(ctx, d.env.Policy.CardMonthHours, nil, invoices)
	if err != nil {
		return nil, fmt.Errorf("detectors: billed_above_metered: %w", err)
	}
	if len(meterings) == 0 {
		return nil, nil
	}
	parties := map[string]bool{}
	for _, m := range meterings {
		parties[m.SupplierUSCC], parties[m.BuyerUSCC] = true, true
	}
	ents, err := rm.LatestEntitiesOf(ctx, ruleSortedKeys(parties))
	if err != nil {
		return nil, fmt.Errorf("detectors: billed_above_metered: %w", err)
	}
	cities := make(map[string]string, len(ents))
	for _, e := range ents {
		cities[e.USCC] = e.City
	}
	return d.judge(meterings, cities, at, func() (map[string]ruleEntity, error) { return ruleRegistryOf(ents), nil },
		func(deals map[ruleDealKey]bool) (map[ruleDealKey][]string, error) {
			buyers := map[string]bool{}
			for k := range deals {
				buyers[k.Buyer] = true
			}
			cs, err := rm.ClaimsCitingContractsOf(ctx, ruleSortedKeys(buyers))
			if err != nil {
				return nil, fmt.Errorf("detectors: billed_above_metered: %w", err)
			}
			out := make(map[ruleDealKey][]string, len(cs))
			for _, c := range cs {
				out[ruleDealKey{c.BuyerUSCC, c.ContractNo}] = c.ClaimIDs
			}
			return out, nil
		})
}

// judge returns the alerts about the contracts of meterings, as of at; registry reads the
// registry rows of their suppliers at least, citing the claims citing these deals.
func (d *BilledAboveMetered) judge(meterings []voucherwatch.InvoiceMetering, cities map[string]string, at time.Time,
	registry func() (map[string]ruleEntity, error), citing func(map[ruleDealKey]bool) (map[ruleDealKey][]string, error)) ([]voucherwatch.Alert, error) {
	p := d.env.Policy
	type period struct {
		invoice          ruleInvoiceKey
		from, to         time.Time
		billed, metered  float64
		windows          uint64
		covered          bool
		firstWS, lastWE  int64
		longest          int64
		periodS, periodE int64
	}
	type contract struct {
		supplier, buyer, no string
		periods             []period
		anyMetering         bool
	}
	contracts := map[[3]string]*contract{}
	for _, m := range meterings {
		k := [3]string{m.SupplierUSCC, m.ContractNo, m.BuyerUSCC}
		pr := period{invoice: ruleInvoiceKey{m.Invoice.Code, m.Invoice.No}, from: m.PeriodStart, to: m.PeriodEnd,
			billed: m.Billed, metered: m.Metered, windows: uint64(m.Windows),
			firstWS: m.FirstWindowStart.Unix(), lastWE: m.LastWindowEnd.Unix(), longest: int64(m.LongestWindow / time.Second),
			periodS: m.From.Unix(), periodE: m.To.Unix()}
		// Covered: windows reported from the period's start to its end. A period that ended more
		// than the contract's longest window (and a day) before the evaluation is compared even so:
		// its windows are overdue, and metering that stopped while billing went on is the finding.
		overdue := pr.periodE+pr.longest+86400 < at.Unix()
		pr.covered = pr.windows > 0 && pr.firstWS <= pr.periodS && pr.lastWE >= pr.periodE || pr.longest > 0 && overdue
		c := contracts[k]
		if c == nil {
			c = &contract{supplier: k[0], no: k[1], buyer: k[2]}
			contracts[k] = c
		}
		c.periods = append(c.periods, pr)
		c.anyMetering = c.anyMetering || pr.windows > 0
	}
	if len(contracts) == 0 {
		return nil, nil
	}
	reg, err := registry()
	if err != nil {
		return nil, err
	}
	deals := make(map[ruleDealKey]bool, len(contracts))
	for k := range contracts {
		deals[ruleDealKey{k[2], k[1]}] = true
	}
	cited, err := citing(deals)
	if err != nil {
		return nil, err
	}
	ratio, gap := p.Billing.BilledOverMeteredRatio, p.Billing.MinGapCardHours
	var fs []finding
	for _, c := range contracts {
		sort.Slice(c.periods, func(i, j int) bool {
			if !c.periods[i].from.Equal(c.periods[j].from) {
				return c.periods[i].from.Before(c.periods[j].from)
			}
			return c.periods[i].invoice.String() < c.periods[j].invoice.String()
		})
		subj := voucherwatch.Subjects{ApplicantUSCC: c.buyer, SupplierUSCC: c.supplier, ContractNo: c.no}
		ev := map[string]any{"contract_no": c.no, "supplier_uscc": c.supplier, "buyer_uscc": c.buyer,
			"ratio_limit": ratio, "min_gap_card_hours": gap, "card_month_hours": p.CardMonthHours}
		if claims := cited[ruleDealKey{c.buyer, c.no}]; len(claims) > 0 {
			ev["claims"] = claims
		}
		if !c.anyMetering {
			if ruleRegistrationOf(reg, c.supplier) != regRegistered {
				continue // not connected to the platform: unregistered_supplier's finding
			}
			var billed float64
			for _, pr := range c.periods {
				billed += pr.billed
			}
			ev["billed_card_hours"] = voucherwatch.RoundTo(billed, 1)
			ev["invoices"] = len(c.periods)
			fs = append(fs, finding{
				Detector: d.Name(), Kind: "billed_without_metering", Severity: voucherwatch.SeverityLow, Score: 0.3,
				Subjects: subj, PolicyClause: clauseBilledMetered,
				Title: "已登记供给方按卡时结算，但调度平台无该合同的计量记录（《实施细则》四.4 / P4）",
				Reason: fmt.Sprintf("合同 %s 的 %d 张发票共结算 %.1f 卡时，调度平台却没有该合同的任何使用计量记录；已登记供给方须与调度平台对接监测（二（二）3），算力真实使用情况无从核验（四.4 / P4）。",
					c.no, len(c.periods), billed),
				Evidence: ev,
			})
			continue
		}
		var billed, metered float64
		var list []map[string]any
		pending := 0
		for _, pr := range c.periods {
			if !pr.covered {
				pending++
				continue
			}
			billed += pr.billed
			metered += pr.metered
			list = append(list, map[string]any{
				"invoice": pr.invoice.String(), "period": ruleDay(pr.from) + " ~ " + ruleDay(pr.to),
				"billed_card_hours": voucherwatch.RoundTo(pr.billed, 1), "metered_card_hours": voucherwatch.RoundTo(pr.metered, 1), "usage_windows": pr.windows,
				"billed_over_metered": voucherwatch.RoundTo(pr.billed/math.Max(pr.metered, 1e-9), 3),
			})
		}
		if billed <= metered*ratio || billed-metered < gap {
			continue
		}
		r := billed / math.Max(metered, 1e-9)
		ev["periods"] = list
		ev["periods_awaiting_metering"] = pending
		ev["billed_card_hours"] = voucherwatch.RoundTo(billed, 1)
		ev["metered_card_hours"] = voucherwatch.RoundTo(metered, 1)
		ev["billed_over_metered"] = voucherwatch.RoundTo(r, 3)
		ev["gap_card_hours"] = voucherwatch.RoundTo(billed-metered, 1)
		fs = append(fs, finding{
			Detector: d.Name(), Kind: "billed_above_metered", Severity: voucherwatch.SeverityHigh,
			Score:    math.Min(1, 0.6+(r-ratio)/2),
			Subjects: subj, PolicyClause: clauseBilledMetered,
			Title: "结算卡时显著高于调度平台计量的实际使用（《实施细则》二 / D3、四.4 / P4）",
			Reason: fmt.Sprintf("合同 %s 在已有计量的 %d 个结算周期内共结算 %.1f 卡时，调度平台计量的实际使用为 %.1f 卡时，结算为计量的 %.2f 倍（阈值 %.2f 倍且差额不少于 %.0f 卡时），多出 %.1f 卡时；算力真实使用证明（四.4 / P4 附件4）不支持所结算的用量，疑似虚开或虚增结算（二（一）3 / D3）。",
				c.no, len(list), billed, metered, r, ratio, gap, billed-metered),
			Evidence: ev,
		})
	}
	return ruleAlerts(fs, cities, at), nil
}
