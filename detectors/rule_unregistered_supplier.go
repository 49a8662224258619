package detectors

import (
	"context"
	"fmt"
	"maps"
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

var _ voucherwatch.IncrementalDetector = (*UnregisteredSupplier)(nil)

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

// unregFacts are what the rule judges: the registry rows, the deals it knows (with the
// contract numbers each seller bought, for a reseller's evidence), the claims and the
// settlements of their invoices.
type unregFacts struct {
	reg    map[string]ruleEntity
	cities map[string]string
	deals  map[[3]string]*ruleDeal
	judged map[[3]string]bool // the deals judged for themselves; nil: every deal
	claims *ruleClaimFacts
	bought map[string][]string // buyer → contract numbers of its deals
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
	return d.judge(unregFacts{reg: reg, cities: cities, deals: deals, claims: f, bought: bought}, at), nil
}

// ruleDealOf is a deal as the rule reads it.
func ruleDealOf(d voucherwatch.Deal) *ruleDeal {
	dl := &ruleDeal{Supplier: d.SupplierUSCC, Buyer: d.BuyerUSCC, ContractNo: d.ContractNo,
		Invoices: uint64(d.Invoices), Settled: d.Settled}
	if c := d.Contract; c != nil {
		dl.Contract = &ruleRef{Source: c.Source, ID: c.ID, EventTime: c.Time}
		dl.SignedOn, dl.Amount = c.SignedOn, c.Amount
	}
	return dl
}

// Check judges what changed records touch, by keyed look-ups (LatestDeals, LatestClaims,
// LatestEntitiesOf), as Run judges everything:
//   - the deals of changed contracts and settlements (any buyer: a contract whose buyer
//     changed leaves the old buyer's invoices a deal without a contract);
//   - the deals sold by an enterprise whose registry row changed, and by the buyer of a changed
//     contract or settlement (its purchases are a reseller's evidence), and those bought by
//     an enterprise whose registry row changed (its name and city);
//   - the changed claims, the claims citing a changed invoice, and every claim of the buyers of
//     those deals and of the changed enterprises, with the deals they cite.
func (d *UnregisteredSupplier) Check(ctx context.Context, at time.Time, changed voucherwatch.Changes) ([]voucherwatch.Alert, error) {
	rm := d.env.reads()
	ents := changed.EnterpriseList()
	sellers := map[string]bool{}
	for _, e := range ents {
		sellers[e] = true
	}
	for _, p := range changed.PairList() {
		sellers[p[0]] = true
	}
	q := voucherwatch.DealQuery{Suppliers: ruleSortedKeys(sellers), Buyers: ents, Contracts: changed.ContractList()}
	fx := unregFacts{deals: map[[3]string]*ruleDeal{}, judged: map[[3]string]bool{}, bought: map[string][]string{}}
	applicants := map[string]bool{}
	for _, e := range ents {
		applicants[e] = true
	}
	if !q.IsZero() {
		deals, err := rm.LatestDeals(ctx, q)
		if err != nil {
			return nil, fmt.Errorf("detectors: %w", err)
		}
		for _, dl := range deals {
			k := [3]string{dl.SupplierUSCC, dl.BuyerUSCC, dl.ContractNo}
			fx.deals[k], fx.judged[k] = ruleDealOf(dl), true
			applicants[dl.BuyerUSCC] = true
		}
	}
	cq := voucherwatch.ClaimQuery{IDs: changed.ClaimIDs(), Invoices: changed.InvoiceKeys(), Applicants: ruleSortedKeys(applicants)}
	fx.claims = &ruleClaimFacts{settlements: map[string]*ruleSettlement{}, byNumber: map[string][]*ruleSettlement{}}
	if !cq.IsZero() {
		stored, err := rm.LatestClaims(ctx, cq)
		if err != nil {
			return nil, fmt.Errorf("detectors: %w", err)
		}
		// The settlements by canonical key: the claims' invoices are looked up by it alone
		// (the numbers under another code, which the full load also reads, give hints this
		// rule does not).
		if err := ruleAddClaims(ctx, rm, fx.claims, stored, false); err != nil {
			return nil, err
		}
	}
	// The claims touched: changed, citing a changed invoice, of a changed applicant, or citing
	// a deal judged (their invoices' and contract numbers' under their applicant); with the
	// deals they cite.
	judgedDeals := map[[2]string]bool{}
	for k := range fx.judged {
		judgedDeals[[2]string{k[1], k[2]}] = true
	}
	invoices := map[string]bool{}
	for _, k := range changed.InvoiceKeys() {
		invoices[k.Canonical()] = true
	}
	var cited [][2]string
	touched := fx.claims.claims[:0]
	for _, c := range fx.claims.claims {
		var deals [][2]string
		hit := changed.Claims[c.ClaimID] || changed.Enterprises[c.ApplicantUSCC]
		for _, inv := range c.Invoices {
			hit = hit || invoices[inv.CanonicalKey()]
			if s := fx.claims.settlements[inv.CanonicalKey()]; s != nil && s.BuyerUSCC == c.ApplicantUSCC {
				deals = append(deals, [2]string{c.ApplicantUSCC, s.ContractNo})
			}
		}
		for _, no := range c.Contracts {
			deals = append(deals, [2]string{c.ApplicantUSCC, no})
		}
		for _, k := range deals {
			hit = hit || judgedDeals[k]
		}
		if hit {
			touched = append(touched, c)
			cited = append(cited, deals...)
		}
	}
	fx.claims.claims = touched
	if len(cited) > 0 {
		deals, err := rm.LatestDeals(ctx, voucherwatch.DealQuery{BuyerContracts: cited})
		if err != nil {
			return nil, fmt.Errorf("detectors: %w", err)
		}
		for _, dl := range deals {
			if k := [3]string{dl.SupplierUSCC, dl.BuyerUSCC, dl.ContractNo}; fx.deals[k] == nil {
				fx.deals[k] = ruleDealOf(dl)
			}
		}
	}
	// The registry rows of every party, and the purchases of the sellers that are no
	// registered suppliers.
	usccs := maps.Clone(applicants)
	for _, dl := range fx.deals {
		usccs[dl.Supplier], usccs[dl.Buyer] = true, true
	}
	for _, c := range fx.claims.claims {
		usccs[c.ApplicantUSCC] = true
	}
	if len(usccs) == 0 {
		return nil, nil
	}
	rows, err := rm.LatestEntitiesOf(ctx, ruleSortedKeys(usccs))
	if err != nil {
		return nil, fmt.Errorf("detectors: %w", err)
	}
	fx.reg = ruleRegistryOf(rows)
	fx.cities = make(map[string]string, len(fx.reg))
	for uscc, e := range fx.reg {
		fx.cities[uscc] = e.City
	}
	resellers := map[string]bool{}
	for _, dl := range fx.deals {
		if ruleRegistrationOf(fx.reg, dl.Supplier) == regNotASupplier {
			resellers[dl.Supplier] = true
		}
	}
	if len(resellers) > 0 {
		deals, err := rm.LatestDeals(ctx, voucherwatch.DealQuery{Buyers: ruleSortedKeys(resellers)})
		if err != nil {
			return nil, fmt.Errorf("detectors: %w", err)
		}
		for _, dl := range deals {
			fx.bought[dl.BuyerUSCC] = append(fx.bought[dl.BuyerUSCC], dl.ContractNo)
		}
	}
	return d.judge(fx, at), nil
}

// judge returns the alerts about the deals and claims of fx.
func (d *UnregisteredSupplier) judge(fx unregFacts, at time.Time) []voucherwatch.Alert {
	reg, deals, f, bought, cities := fx.reg, fx.deals, fx.claims, fx.bought, fx.cities
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
		if fx.judged != nil && !fx.judged[k] {
			continue
		}
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
	return ruleAlerts(fs, cities, at)
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
