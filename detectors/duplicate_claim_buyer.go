package detectors

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"sort"

	"github.com/voucherwatch/voucherwatch"
)

// Kinds of duplicate_claim alerts about another buyer's purchase: the same purchase claimed by
// someone who did not make it, most often a company under the same control as the buyer.
const (
	// KindInvoiceOfAnotherBuyer: a claim cites an invoice whose settlement was made out to
	// another company, and no claim of that company cites it.
	KindInvoiceOfAnotherBuyer = "invoice_of_another_buyer"
	// KindSettlementNotToContractBuyer: a claim cites an invoice made out to the applicant under
	// a contract whose buyer is another company.
	KindSettlementNotToContractBuyer = "settlement_not_to_contract_buyer"
	// KindContractOfAnotherBuyer: a claim cites a contract number whose every contract has
	// another buyer.
	KindContractOfAnotherBuyer = "contract_of_another_buyer"
)

// otherBuyerFacts are what the other-buyer findings read beyond the claims and settlements:
// the contracts, and the control groups for the tie.
type otherBuyerFacts struct {
	contracts map[[2]string]*voucherwatch.Contract // (supplier, contract_no)
	byNo      map[string][]*voucherwatch.Contract  // contract_no
	groups    *controlGroups
}

func loadOtherBuyerFacts(ctx context.Context, env Env) (*otherBuyerFacts, error) {
	cs, err := env.reads().LatestContracts(ctx, voucherwatch.ContractQuery{All: true})
	if err != nil {
		return nil, fmt.Errorf("detectors: duplicate_claim: %w", err)
	}
	f := &otherBuyerFacts{contracts: map[[2]string]*voucherwatch.Contract{}, byNo: map[string][]*voucherwatch.Contract{}}
	for i := range cs {
		c := &cs[i].Contract
		f.contracts[[2]string{c.SupplierUSCC, c.ContractNo}] = c
		f.byNo[c.ContractNo] = append(f.byNo[c.ContractNo], c)
	}
	if f.groups, err = loadControlGroups(ctx, env); err != nil {
		return nil, err
	}
	return f, nil
}

// otherBuyers finds claims that cite another company's purchase: an invoice made out to another
// company (when that company's own claims do not cite it, which invoice_in_two_claims reports),
// an invoice made out to the applicant under another company's contract, and a contract of
// another company. A company under the same control as the applicant is the usual other
// company: the finding is then high and shows the control tie's path; an unrelated company's
// purchase is medium. It judges the claims given (Run: all of them) and, when only is not nil,
// their invoices in only; ix must hold every claim citing those invoices, settled every
// settlement of the claims' invoices, f every contract of the claims' settlements and of the
// numbers they cite that no invoice of theirs is settled under.
func (d *DuplicateClaim) otherBuyers(ix *claimIndex, claims []*dupClaim, only map[dupInvoiceKey]bool, settled map[dupInvoiceKey]*dupSettlement, f *otherBuyerFacts) []finding {
	var fs []finding
	for _, c := range claims {
		reported := map[string]bool{} // contracts whose invoices the claim cites
		seen := map[dupInvoiceKey]bool{}
		for _, inv := range c.Invoices {
			k := inv.key()
			if seen[k] {
				continue
			}
			seen[k] = true
			s := settled[k]
			if s == nil {
				continue
			}
			// A contract the claim cites invoices of is judged by its invoices.
			reported[s.ContractNo] = true
			if only != nil && !only[k] {
				continue
			}
			if len(ix.byInvoice[k]) > 1 {
				continue // invoice_in_two_claims
			}
			switch {
			case s.Buyer != c.Applicant:
				fs = append(fs, d.otherBuyerFinding(KindInvoiceOfAnotherBuyer, c, inv, s, s.Buyer, f))
			default:
				ct := f.contracts[[2]string{s.Supplier, s.ContractNo}]
				if ct != nil && ct.BuyerUSCC != "" && ct.BuyerUSCC != c.Applicant {
					fs = append(fs, d.otherBuyerFinding(KindSettlementNotToContractBuyer, c, inv, s, ct.BuyerUSCC, f))
				}
			}
		}
		for _, no := range slices.Compact(slices.Sorted(slices.Values(c.Contracts))) {
			cs := f.byNo[no]
			if reported[no] || len(cs) == 0 || slices.ContainsFunc(cs, func(ct *voucherwatch.Contract) bool { return ct.BuyerUSCC == c.Applicant }) {
				continue
			}
			fs = append(fs, d.otherContractFinding(c, cs[0], f))
		}
	}
	return fs
}

// otherTie is the evidence and the words of the tie between the applicant and the buyer.
func otherTie(f *otherBuyerFacts, applicant, buyer string) (map[string]any, string, bool) {
	t, ok := f.groups.tie(applicant, buyer)
	if !ok {
		return nil, "，与申报单位未见控制关系", false
	}
	return t.evidence(), "，与申报单位受同一控制（" + t.Summary + "）", true
}

func (d *DuplicateClaim) otherBuyerFinding(kind string, c *dupClaim, inv dupInvoice, s *dupSettlement, buyer string, f *otherBuyerFacts) finding {
	tie, tieText, tied := otherTie(f, c.Applicant, buyer)
	sev, score := voucherwatch.SeverityMedium, 0.7
	if tied {
		sev, score = voucherwatch.SeverityHigh, 0.9
	}
	ev := map[string]any{
		"invoice":     s.form().evidence(),
		"invoice_key": string(inv.key()),
		"claim":       c.evidence(),
		"settlement":  s.evidence(),
		"buyer_uscc":  buyer,
		"buyer_name":  f.groups.name(buyer),
	}
	if forms, _ := dupCitedForms(inv.key(), s, c); forms != nil {
		ev["cited_forms"] = forms
	}
	if tie != nil {
		ev["control_tie"] = tie
	}
	title, what := "申报引用其他单位购买的发票", fmt.Sprintf("发票 %s 开具给 %s（%s）", dupFormLabel(s.form()), f.groups.name(buyer), buyer)
	if kind == KindSettlementNotToContractBuyer {
		title = "申报发票所属合同的购买方为其他单位"
		what = fmt.Sprintf("发票 %s 开具给申报单位，但其所属合同 %s 的购买方为 %s（%s）", dupFormLabel(s.form()), s.ContractNo, f.groups.name(buyer), buyer)
		if ct := f.contracts[[2]string{s.Supplier, s.ContractNo}]; ct != nil {
			ev["contract"] = map[string]any{"contract_no": ct.ContractNo, "supplier_uscc": ct.SupplierUSCC, "buyer_uscc": ct.BuyerUSCC}
		}
	}
	return finding{
		Detector:     voucherwatch.DetectorDuplicateClaim,
		Kind:         kind,
		Severity:     sev,
		Score:        score,
		Subjects:     voucherwatch.Subjects{ApplicantUSCC: c.Applicant, ClaimID: c.ClaimID, SupplierUSCC: s.Supplier, ContractNo: s.ContractNo, InvoiceCode: s.InvoiceCode, InvoiceNo: s.InvoiceNo},
		PolicyClause: dupClause,
		Title:        title,
		Reason: fmt.Sprintf("申报 %s（申报单位 %s，%s 提交）引用的%s%s：以他人的购买申领补贴，同一笔采购可能被重复申领，违反《实施细则》五.1 重复申领（M1b）的规定",
			c.ClaimID, c.Applicant, dupDate(c.SubmittedOn), what, tieText),
		Evidence: ev,
	}
}

func (d *DuplicateClaim) otherContractFinding(c *dupClaim, ct *voucherwatch.Contract, f *otherBuyerFacts) finding {
	tie, tieText, tied := otherTie(f, c.Applicant, ct.BuyerUSCC)
	sev, score := voucherwatch.SeverityMedium, 0.7
	if tied {
		sev, score = voucherwatch.SeverityHigh, 0.9
	}
	ev := map[string]any{
		"claim":      c.evidence(),
		"contract":   map[string]any{"contract_no": ct.ContractNo, "supplier_uscc": ct.SupplierUSCC, "buyer_uscc": ct.BuyerUSCC, "signed_on": dupDate(ct.SignedOn)},
		"buyer_uscc": ct.BuyerUSCC,
		"buyer_name": f.groups.name(ct.BuyerUSCC),
	}
	if tie != nil {
		ev["control_tie"] = tie
	}
	return finding{
		Detector:     voucherwatch.DetectorDuplicateClaim,
		Kind:         KindContractOfAnotherBuyer,
		Severity:     sev,
		Score:        score,
		Subjects:     voucherwatch.Subjects{ApplicantUSCC: c.Applicant, ClaimID: c.ClaimID, SupplierUSCC: ct.SupplierUSCC, ContractNo: ct.ContractNo},
		PolicyClause: dupClause,
		Title:        "申报引用其他单位的采购合同",
		Reason: fmt.Sprintf("申报 %s（申报单位 %s，%s 提交）引用的合同 %s 的购买方为 %s（%s）%s：以他人的购买申领补贴，同一笔采购可能被重复申领，违反《实施细则》五.1 重复申领（M1b）的规定",
			c.ClaimID, c.Applicant, dupDate(c.SubmittedOn), ct.ContractNo, f.groups.name(ct.BuyerUSCC), ct.BuyerUSCC, tieText),
		Evidence: ev,
	}
}

// checkOtherBuyers finds the other-buyer findings of the claims Check touched: the changed
// claims and the claims citing a touched invoice, judged on the touched invoices and on the
// contract numbers they cite. ix and settled are Check's (every claim citing a touched invoice,
// every settlement of their invoices). The contracts are looked up by key: by (supplier,
// contract number) of the settlements made out to the applicant, and by number of the numbers
// no invoice of the claim is settled under. The control groups need the registry's whole graph
// (a tie runs through any chain of holdings up to the ultimate controller), so they are read
// only when a finding is to be raised, for its tie and the buyer's name.
func (d *DuplicateClaim) checkOtherBuyers(ctx context.Context, ix *claimIndex, direct []*dupClaim, touched map[dupInvoiceKey]bool, settled map[dupInvoiceKey]*dupSettlement) ([]finding, error) {
	var claims []*dupClaim
	changed := map[string]bool{}
	for _, c := range direct {
		changed[c.ClaimID] = true
	}
	for _, c := range ix.claims { // in submission order, as Run judges them
		if changed[c.ClaimID] || slices.ContainsFunc(c.Invoices, func(inv dupInvoice) bool { return touched[inv.key()] }) {
			claims = append(claims, c)
		}
	}
	var q voucherwatch.ContractQuery
	keys, numbers := map[[2]string]bool{}, map[string]bool{}
	for _, c := range claims {
		reported := map[string]bool{}
		for _, inv := range c.Invoices {
			s := settled[inv.key()]
			if s == nil {
				continue
			}
			reported[s.ContractNo] = true
			if s.Buyer == c.Applicant && touched[inv.key()] {
				keys[[2]string{s.Supplier, s.ContractNo}] = true
			}
		}
		for _, no := range c.Contracts {
			if !reported[no] {
				numbers[no] = true
			}
		}
	}
	for k := range keys {
		q.Contracts = append(q.Contracts, k)
	}
	sort.Slice(q.Contracts, func(i, j int) bool {
		return q.Contracts[i][0]+"/"+q.Contracts[i][1] < q.Contracts[j][0]+"/"+q.Contracts[j][1]
	})
	q.Numbers = slices.Sorted(maps.Keys(numbers))
	f := &otherBuyerFacts{contracts: map[[2]string]*voucherwatch.Contract{}, byNo: map[string][]*voucherwatch.Contract{}}
	if !q.IsZero() {
		cs, err := d.env.reads().LatestContracts(ctx, q)
		if err != nil {
			return nil, fmt.Errorf("detectors: duplicate_claim: %w", err)
		}
		for i := range cs {
			c := &cs[i].Contract
			f.contracts[[2]string{c.SupplierUSCC, c.ContractNo}] = c
			if numbers[c.ContractNo] {
				f.byNo[c.ContractNo] = append(f.byNo[c.ContractNo], c)
			}
		}
	}
	if fs := d.otherBuyers(ix, claims, touched, settled, f); len(fs) == 0 {
		return nil, nil
	}
	var err error
	if f.groups, err = loadControlGroups(ctx, d.env); err != nil {
		return nil, err
	}
	return d.otherBuyers(ix, claims, touched, settled, f), nil
}
