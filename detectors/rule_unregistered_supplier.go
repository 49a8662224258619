package detectors

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"time"

	"github.com/voucherwatch/voucherwatch"
)

// UnregisteredSupplier checks 五.1 (M1a, with 二(一)4 D4): buyers must use suppliers that
// completed the registration (信息登记). A supplier is unregistered when its latest registry
// version says registered: false, when the registry has never heard of it, or when it is in the
// registry without a supplier profile, an ordinary enterprise selling compute it bought (the
// seller of a resale).
//
// Two findings, so that each keeps its id as data arrives:
//   - per deal (buyer, supplier, contract, from contracts or settlements): medium, the buyer
//     trades with an unregistered seller (supervision, whether or not it claims);
//   - per claim and deal: high, a subsidy claim cites that deal's contract or invoices.
//
// A contract signed before its supplier's registration date is a low hint.
type UnregisteredSupplier struct{ env Env }

var _ voucherwatch.Detector = (*UnregisteredSupplier)(nil)

// NewUnregisteredSupplier builds the unregistered_supplier rule.
func NewUnregisteredSupplier(env Env) *UnregisteredSupplier { return &UnregisteredSupplier{env: env} }

// Name is "unregistered_supplier".
func (d *UnregisteredSupplier) Name() string { return "unregistered_supplier" }

// Kinds are the kinds its alerts may carry (voucherwatch.AlertKinds has their labels).
func (d *UnregisteredSupplier) Kinds() []string {
	return []string{"supplier_not_registered", "supplier_not_in_registry", "bought_from_reseller", "signed_before_registration"}
}

// ruleDeal is a contract as the contracts and the settlements show it.
type ruleDeal struct {
	Supplier, Buyer, ContractNo string
	Contract                    *ruleRef // nil when only settlements name the contract
	SignedOn                    time.Time
	Amount                      voucherwatch.Money // contract amount
	Invoices                    uint64
	Settled                     voucherwatch.Money
}

// ruleLoadDeals reads every (supplier, buyer, contract) from the latest contracts and from the
// latest settlements, which may name contracts never sent.
func ruleLoadDeals(ctx context.Context, env Env) (map[[3]string]*ruleDeal, error) {
	rm := env.reads()
	contracts, err := rm.LatestContracts(ctx, voucherwatch.ContractQuery{All: true})
	if err != nil {
		return nil, fmt.Errorf("detectors: %w", err)
	}
	out := map[[3]string]*ruleDeal{}
	for _, c := range contracts {
		dl := &ruleDeal{Supplier: c.SupplierUSCC, Buyer: c.BuyerUSCC, ContractNo: c.ContractNo,
			Contract: &ruleRef{Source: c.Source, ID: c.ID, EventTime: c.Time}, SignedOn: c.SignedOn, Amount: c.Amount}
		out[[3]string{dl.Supplier, dl.Buyer, dl.ContractNo}] = dl
	}
	settled, err := rm.SettledByContract(ctx)
	if err != nil {
		return nil, fmt.Errorf("detectors: %w", err)
	}
	for _, st := range settled {
		k := [3]string{st.SupplierUSCC, st.BuyerUSCC, st.ContractNo}
		dl := out[k]
		if dl == nil {
			dl = &ruleDeal{Supplier: k[0], Buyer: k[1], ContractNo: k[2]}
			out[k] = dl
		}
		dl.Invoices, dl.Settled = uint64(st.Invoices), st.Settled
	}
	return out, nil
}

// Run checks every deal and every claim.
func (d *UnregisteredSupplier) Run(ctx context.Context, at time.Time) ([]voucherwatch.Alert, error) {
	cities, err := Cities(ctx, d.env.reads())
	if err != nil {
		return nil, err
	}
	deals, err := ruleLoadDeals(ctx, d.env)
	if err != nil {
		return nil, err
	}
	f, err := ruleLoadClaimFacts(ctx, d.env, "")
	if err != nil {
		return nil, err
	}
	reg := f.registry
	if reg == nil { // no claims: the facts did not read the registry
		if reg, err = ruleLoadRegistry(ctx, d.env); err != nil {
			return nil, err
		}
	}
	// What each seller buys itself: a reseller's purchases.
	bought := map[string][]string{}
	for _, dl := range deals {
		bought[dl.Buyer] = append(bought[dl.Buyer], dl.ContractNo)
	}
	byBuyerContract := map[ruleDealKey][]*ruleDeal{}
	for _, dl := range deals {
		k := ruleDealKey{dl.Buyer, dl.ContractNo}
		byBuyerContract[k] = append(byBuyerContract[k], dl)
	}

	supplierEvidence := func(ev map[string]any, dl *ruleDeal, status ruleRegistration) {
		ev["supplier_uscc"] = dl.Supplier
		ev["supplier_status"] = string(status)
		if e, ok := reg[dl.Supplier]; ok {
			ev["supplier_name"] = e.Name
			ev["supplier_registry_version"] = e.Ref
			ev["supplier_registered_on"] = ruleDay(e.RegisteredOn)
		}
		if status == regNotASupplier {
			ev["seller_purchases"] = slices.Compact(slices.Sorted(slices.Values(bought[dl.Supplier])))
		}
		ev["contract_no"] = dl.ContractNo
		if dl.Contract != nil {
			ev["contract"] = *dl.Contract
			ev["signed_on"] = ruleDay(dl.SignedOn)
			ev["contract_amount"] = yuan(dl.Amount)
		}
		ev["invoices_settled"] = dl.Invoices
		ev["settled"] = yuan(dl.Settled)
	}
	kindOf := map[ruleRegistration]string{
		regNotRegistered: "supplier_not_registered", regNotInRegistry: "supplier_not_in_registry", regNotASupplier: "bought_from_reseller",
	}
	why := func(dl *ruleDeal, status ruleRegistration) string {
		s := "供给方 " + ruleEntityName(reg, dl.Supplier) + "（" + dl.Supplier + "）" + ruleRegistrationZh[status]
		if status == regNotASupplier && len(bought[dl.Supplier]) > 0 {
			s += "，是自身也购买算力的普通企业，疑似转售"
		}
		return s
	}

	var fs []finding
	for _, k := range ruleSortedDeals(deals) {
		dl := deals[k]
		status := ruleRegistrationOf(reg, dl.Supplier)
		subj := voucherwatch.Subjects{ApplicantUSCC: dl.Buyer, SupplierUSCC: dl.Supplier, ContractNo: dl.ContractNo}
		ev := map[string]any{"buyer_uscc": dl.Buyer}
		supplierEvidence(ev, dl, status)
		switch {
		case status != regRegistered:
			fs = append(fs, finding{
				Detector: d.Name(), Kind: kindOf[status], Severity: voucherwatch.SeverityMedium, Score: 0.7,
				Subjects: subj, PolicyClause: clauseUnregistered,
				Title: "需求方向未完成信息登记的主体购买算力（《实施细则》五.1 / M1a）",
				Reason: why(dl, status) + "；需求方 " + ruleEntityName(reg, dl.Buyer) + " 与其签订合同 " + dl.ContractNo +
					"。按《实施细则》二（一）4 及五.1 / M1a，所使用算力的供给方须为完成信息登记的主体，监管重点核查需求方是否使用已登记供给方的资源。",
				Evidence: ev,
			})
		case dl.Contract != nil && !reg[dl.Supplier].RegisteredOn.IsZero() && dl.SignedOn.Before(reg[dl.Supplier].RegisteredOn):
			fs = append(fs, finding{
				Detector: d.Name(), Kind: "signed_before_registration", Severity: voucherwatch.SeverityLow, Score: 0.3,
				Subjects: subj, PolicyClause: clauseUnregistered,
				Title: "合同签订早于供给方完成信息登记（《实施细则》五.1 / M1a）",
				Reason: "合同 " + dl.ContractNo + " 于 " + ruleDay(dl.SignedOn) + " 签订，供给方 " + ruleEntityName(reg, dl.Supplier) +
					" 于 " + ruleDay(reg[dl.Supplier].RegisteredOn) + " 才完成信息登记；登记前的服务是否属于向已登记供给方购买，请核实（《实施细则》五.1 / M1a）。",
				Evidence: ev,
			})
		}
	}

	for _, c := range f.claims {
		cited := map[[3]string]*ruleDeal{}
		invoices := map[[3]string][]string{}
		for _, inv := range c.Invoices {
			s := f.settlements[inv.CanonicalKey()]
			if s == nil || s.BuyerUSCC != c.ApplicantUSCC {
				continue
			}
			k := [3]string{s.SupplierUSCC, s.BuyerUSCC, s.ContractNo}
			if cited[k] = deals[k]; cited[k] == nil {
				cited[k] = &ruleDeal{Supplier: s.SupplierUSCC, Buyer: s.BuyerUSCC, ContractNo: s.ContractNo}
			}
			invoices[k] = append(invoices[k], ruleInvoiceKey{s.InvoiceCode, s.InvoiceNo}.String())
		}
		for _, no := range c.Contracts {
			for _, dl := range byBuyerContract[ruleDealKey{c.ApplicantUSCC, no}] {
				cited[[3]string{dl.Supplier, dl.Buyer, dl.ContractNo}] = dl
			}
		}
		for _, k := range ruleSortedDeals(cited) {
			dl := cited[k]
			status := ruleRegistrationOf(reg, dl.Supplier)
			if status == regRegistered {
				continue
			}
			ev := ruleClaimEvidence(c)
			supplierEvidence(ev, dl, status)
			if len(invoices[k]) > 0 {
				ev["claimed_invoices"] = invoices[k]
			}
			fs = append(fs, finding{
				Detector: d.Name(), Kind: kindOf[status], Severity: voucherwatch.SeverityHigh, Score: 0.95,
				Subjects:     voucherwatch.Subjects{ApplicantUSCC: c.ApplicantUSCC, SupplierUSCC: dl.Supplier, ClaimID: c.ClaimID, ContractNo: dl.ContractNo},
				PolicyClause: clauseUnregistered,
				Title:        "补贴申请使用未完成信息登记的供给方的算力（《实施细则》五.1 / M1a）",
				Reason:       "申请 " + c.ClaimID + " 列示了与 " + why(dl, status) + " 的合同 " + dl.ContractNo + " 及其发票；按《实施细则》三，只有通过完成信息登记的算力供给方购买的算力可申领补贴（二（一）4、五.1 / M1a）。",
				Evidence:     ev,
			})
		}
	}
	return ruleAlerts(fs, cities, at), nil
}

func ruleSortedDeals(m map[[3]string]*ruleDeal) [][3]string {
	out := make([][3]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Slice(out, func(i, j int) bool {
		for x := range 3 {
			if out[i][x] != out[j][x] {
				return out[i][x] < out[j][x]
			}
		}
		return false
	})
	return out
}
