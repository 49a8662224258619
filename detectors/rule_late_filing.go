package detectors

import (
	"context"
	"fmt"
	"time"

	"github.com/voucherwatch/voucherwatch"
)

// LateFiling checks 四.3 (P3): a buyer that did not buy through the scheduling platform files a
// usage record (备案, 附件2) within 30 days of signing the contract. Filing on the 30th day after
// signing is in time, on the 31st it is late. A contract with no filing is reported once 30 days
// have passed at the evaluation time, not before: until then it may still be filed in time.
// Each contract is judged by its latest version, so a contract sent unfiled at signing and again
// with its filing is judged by the filing.
//
// One alert per contract (its subjects: buyer, supplier, contract), medium: the rule says "原则上"
// (in principle), and the reviewer weighs it. The claims that cite the contract are in the
// evidence.
type LateFiling struct{ env Env }

var _ voucherwatch.IncrementalDetector = (*LateFiling)(nil)

// NewLateFiling builds the late_filing rule.
func NewLateFiling(env Env) *LateFiling { return &LateFiling{env: env} }

// Name is "late_filing".
func (d *LateFiling) Name() string { return "late_filing" }

// Kinds are the kinds its alerts may carry (voucherwatch.AlertKinds has their labels).
func (d *LateFiling) Kinds() []string {
	return []string{"never_filed", "filed_late"}
}

// Run checks every contract not bought through the platform, as of at.
func (d *LateFiling) Run(ctx context.Context, at time.Time) ([]voucherwatch.Alert, error) {
	cities, err := Cities(ctx, d.env.reads())
	if err != nil {
		return nil, err
	}
	contracts, err := d.env.reads().LatestContracts(ctx, voucherwatch.ContractQuery{All: true})
	if err != nil {
		return nil, fmt.Errorf("detectors: late_filing: %w", err)
	}
	return d.judge(contracts, cities, at, func() (map[ruleDealKey][]string, error) { return ruleClaimsCiting(ctx, d.env) })
}

// Check judges, by keyed look-ups (LatestDeals, ClaimsCitingContractsOf, LatestEntitiesOf),
// the contracts that changed records touch, as Run judges every contract: the changed
// contracts (and those of changed settlements, whose invoices the evidence's claims may
// cite), the contracts of a buyer whose registry row changed (its city), and the contracts of
// the changed claims' applicants (a claim cites them by number or by invoice).
func (d *LateFiling) Check(ctx context.Context, at time.Time, changed voucherwatch.Changes) ([]voucherwatch.Alert, error) {
	rm := d.env.reads()
	q := voucherwatch.DealQuery{Contracts: changed.ContractList(), Buyers: changed.EnterpriseList()}
	if ids := changed.ClaimIDs(); len(ids) > 0 {
		claims, err := rm.LatestClaims(ctx, voucherwatch.ClaimQuery{IDs: ids})
		if err != nil {
			return nil, fmt.Errorf("detectors: late_filing: %w", err)
		}
		// A claim cites contracts of its applicant, by number or by an invoice the applicant
		// was invoiced under (any version of it): every contract the applicant bought.
		for _, c := range claims {
			q.Buyers = append(q.Buyers, c.ApplicantUSCC)
		}
	}
	if q.IsZero() {
		return nil, nil
	}
	deals, err := rm.LatestDeals(ctx, q)
	if err != nil {
		return nil, fmt.Errorf("detectors: late_filing: %w", err)
	}
	var contracts []voucherwatch.StoredContract
	buyers := map[string]bool{}
	for _, dl := range deals {
		if dl.Contract != nil {
			contracts = append(contracts, *dl.Contract)
			buyers[dl.BuyerUSCC] = true
		}
	}
	if len(contracts) == 0 {
		return nil, nil
	}
	rows, err := rm.LatestEntitiesOf(ctx, ruleSortedKeys(buyers))
	if err != nil {
		return nil, fmt.Errorf("detectors: late_filing: %w", err)
	}
	cities := map[string]string{}
	for _, e := range rows {
		cities[e.USCC] = e.City
	}
	return d.judge(contracts, cities, at, func() (map[ruleDealKey][]string, error) {
		cs, err := rm.ClaimsCitingContractsOf(ctx, ruleSortedKeys(buyers))
		if err != nil {
			return nil, fmt.Errorf("detectors: late_filing: %w", err)
		}
		out := make(map[ruleDealKey][]string, len(cs))
		for _, c := range cs {
			out[ruleDealKey{c.BuyerUSCC, c.ContractNo}] = c.ClaimIDs
		}
		return out, nil
	})
}

// judge returns the alerts about contracts, as of at; citing reads the claims citing them,
// when one is late.
func (d *LateFiling) judge(contracts []voucherwatch.StoredContract, cities map[string]string, at time.Time,
	citing func() (map[ruleDealKey][]string, error)) ([]voucherwatch.Alert, error) {
	limit := d.env.Policy.FilingDays
	today := ruleDate(at.In(voucherwatch.CST))
	type contract struct {
		no, supplier, buyer string
		signed              time.Time
		filed               *time.Time
		amount              int64
		ref                 ruleRef
	}
	var late []contract
	for _, k := range contracts {
		if k.ViaPlatform {
			continue // bought through the platform: filed there
		}
		c := contract{no: k.ContractNo, supplier: k.SupplierUSCC, buyer: k.BuyerUSCC, signed: k.SignedOn,
			amount: int64(k.Amount), ref: ruleRef{Source: k.Source, ID: k.ID, EventTime: k.Time}}
		switch {
		case k.FiledOn.IsZero() && ruleDaysBetween(c.signed, today) <= limit:
			continue // not due yet
		case !k.FiledOn.IsZero() && ruleDaysBetween(c.signed, k.FiledOn) <= limit:
			continue // filed in time
		case !k.FiledOn.IsZero():
			filed := k.FiledOn
			c.filed = &filed
		}
		late = append(late, c)
	}
	if len(late) == 0 {
		return nil, nil
	}
	cited, err := citing()
	if err != nil {
		return nil, err
	}
	var fs []finding
	for _, c := range late {
		due := c.signed.AddDate(0, 0, limit)
		ev := map[string]any{
			"contract": c.ref, "contract_no": c.no, "via_platform": false, "amount": yuan(voucherwatch.Money(c.amount)),
			"signed_on": ruleDay(c.signed), "filing_due": ruleDay(due), "filing_days": limit,
		}
		if claims := cited[ruleDealKey{c.buyer, c.no}]; len(claims) > 0 {
			ev["claims"] = claims
		}
		fd := finding{
			Detector: d.Name(), Severity: voucherwatch.SeverityMedium,
			Subjects:     voucherwatch.Subjects{ApplicantUSCC: c.buyer, SupplierUSCC: c.supplier, ContractNo: c.no},
			PolicyClause: clauseFiling,
		}
		if c.filed == nil {
			overdue := ruleDaysBetween(due, today)
			ev["filed_on"] = nil
			ev["days_overdue"] = overdue
			ev["as_of"] = ruleDay(today)
			fd.Kind, fd.Score = "never_filed", min(0.9, 0.6+float64(overdue)/300)
			fd.Title = "未通过调度平台购买算力，签订合同后逾期未备案（《实施细则》四.3 / P3）"
			fd.Reason = fmt.Sprintf("合同 %s 于 %s 签订，未通过调度平台购买，截至 %s 仍未提交算力使用备案表（附件2），已超过签订后 %d 天的备案期限（%s）%d 天（《实施细则》四.3 / P3）。",
				c.no, ruleDay(c.signed), ruleDay(today), limit, ruleDay(due), overdue)
		} else {
			filed := ruleDate(*c.filed)
			after := ruleDaysBetween(c.signed, filed)
			ev["filed_on"] = ruleDay(filed)
			ev["days_after_signing"] = after
			ev["days_late"] = after - limit
			fd.Kind, fd.Score = "filed_late", min(0.9, 0.5+float64(after-limit)/100)
			fd.Title = fmt.Sprintf("未通过调度平台购买算力，备案晚于合同签订后%d天（《实施细则》四.3 / P3）", limit)
			fd.Reason = fmt.Sprintf("合同 %s 于 %s 签订，未通过调度平台购买，备案日期为 %s，即签订后第 %d 天，超过 %d 天的备案期限 %d 天（《实施细则》四.3 / P3：原则上应在合同签订日后30天内提交）。",
				c.no, ruleDay(c.signed), ruleDay(filed), after, limit, after-limit)
		}
		fd.Evidence = ev
		fs = append(fs, fd)
	}
	return ruleAlerts(fs, cities, at), nil
}
