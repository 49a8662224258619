package detectors

import (
	"context"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/voucherwatch/voucherwatch"
)

// The policy rules (rule_*.go) check one clause of 湘工信信息软件〔2026〕168号 each. They share
// the readers below: the latest registry version of every enterprise, the latest version of
// every claim with the settlements of the invoices it cites, and the claim assessment
// (assessment.go) that turns a claim into its eligible amount. Reading the claims through one
// path keeps the alerts of requested_over_limit, policy_window, non_subsidisable_item and
// invoice_mismatch consistent with what GET /api/v1/claims/{id}/assessment shows a reviewer.

// Policy clauses as the rules' alerts name them (policy.md, following the 168号 text).
const (
	clauseUnregistered    = "五.1 / M1a"
	clauseCredit          = "二 / D1"
	clauseAnnualPurchase  = "二 / D2"
	clauseFiling          = "四.3 / P3"
	clauseNonSubsidisable = "三 / C1"
	clauseRequestLimit    = "三 / C2"
	clauseWindow          = "三 / W"
	clauseInvoice         = "四.4 / P4"
	clauseBilledMetered   = "二 / D3、四.4 / P4"
	clauseCapacity        = "五.1 / M1d"
)

// RuleDetectors builds every policy rule, in the order of the policy's clauses.
func RuleDetectors(env Env) []voucherwatch.Detector {
	return []voucherwatch.Detector{
		NewApplicantCredit(env),
		NewAnnualPurchase(env),
		NewUnregisteredSupplier(env),
		NewPolicyWindow(env),
		NewNonSubsidisableItem(env),
		NewRequestedOverLimit(env),
		NewLateFiling(env),
		NewInvoiceMismatch(env),
		NewBilledAboveMetered(env),
		NewUsageAboveCapacity(env),
	}
}

// ruleRef names the stored record a finding rests on, for evidence.
type ruleRef struct {
	Source    string    `json:"source"`
	ID        string    `json:"id"`
	EventTime time.Time `json:"event_time"`
}

// ruleEntity is what the rules read of an enterprise: its latest registry version.
type ruleEntity struct {
	USCC               string
	Name               string
	City               string
	IsSupplier         bool
	Registered         bool // as a supplier (信息登记)
	RegisteredOn       time.Time
	SeriouslyDishonest bool
	MajorViolation     bool
	Ref                ruleRef
}

// ruleRegistration says whether an enterprise may supply subsidised compute (二(一)4, 五.1 M1a).
type ruleRegistration string

const (
	regRegistered    ruleRegistration = "registered"
	regNotRegistered ruleRegistration = "not_registered"  // a supplier profile with registered: false
	regNotASupplier  ruleRegistration = "not_a_supplier"  // in the registry, but offers no compute
	regNotInRegistry ruleRegistration = "not_in_registry" // the registry has never heard of it
)

// ruleRegistrationZh names a status for reasons.
var ruleRegistrationZh = map[ruleRegistration]string{
	regRegistered:    "已完成信息登记",
	regNotRegistered: "未完成算力供给方信息登记",
	regNotASupplier:  "不是登记的算力供给方",
	regNotInRegistry: "不在企业登记信息中",
}

// ruleRegistrationOf returns the status of uscc as a supplier.
func ruleRegistrationOf(reg map[string]ruleEntity, uscc string) ruleRegistration {
	e, ok := reg[uscc]
	switch {
	case !ok:
		return regNotInRegistry
	case !e.IsSupplier:
		return regNotASupplier
	case !e.Registered:
		return regNotRegistered
	}
	return regRegistered
}

// ruleLoadRegistry reads the latest registry version of every enterprise.
func ruleLoadRegistry(ctx context.Context, env Env) (map[string]ruleEntity, error) {
	ents, err := env.reads().LatestEntities(ctx)
	if err != nil {
		return nil, fmt.Errorf("detectors: %w", err)
	}
	return ruleRegistryOf(ents), nil
}

// ruleRegistryOf indexes registry versions by USCC.
func ruleRegistryOf(ents []voucherwatch.StoredEntity) map[string]ruleEntity {
	out := make(map[string]ruleEntity, len(ents))
	for _, se := range ents {
		e := ruleEntity{USCC: se.USCC, Name: se.Name, City: se.City,
			SeriouslyDishonest: se.Credit.SeriouslyDishonest, MajorViolation: se.Credit.MajorViolationWithin3Y,
			Ref: ruleRef{Source: se.Source, ID: se.ID, EventTime: se.Time}}
		if sp := se.Supplier; sp != nil {
			e.IsSupplier, e.Registered, e.RegisteredOn = true, sp.Registered, sp.RegisteredOn
		}
		out[e.USCC] = e
	}
	return out
}

// ruleInvoiceKey identifies an invoice nationally: (invoice_code, invoice_no), never the number
// alone (paper-era numbers repeat under different codes).
type ruleInvoiceKey struct{ Code, No string }

func (k ruleInvoiceKey) String() string {
	if k.Code == "" {
		return k.No
	}
	return k.Code + "-" + k.No
}

// ruleClaim is the latest version of a claim.
type ruleClaim struct {
	voucherwatch.Claim
	Ref ruleRef
}

// ruleSettlement is the latest settlement of an invoice.
type ruleSettlement struct {
	voucherwatch.Settlement
	Ref ruleRef
}

// ruleClaimFacts are claims with what their assessment needs: the settlements of the invoices they
// cite and the registry.
type ruleClaimFacts struct {
	claims      []ruleClaim
	settlements map[string]*ruleSettlement   // by canonical invoice key
	byNumber    map[string][]*ruleSettlement // the same numbers under any code, for hints
	registry    map[string]ruleEntity
}

// ruleLoadClaims reads the latest version of each claim, or of the one claim claimID when it is not
// empty, in claim_id order. A claim re-sent under a new envelope id with the same claim_id
// replaces the earlier one.
func ruleLoadClaims(ctx context.Context, env Env, claimID string) ([]ruleClaim, error) {
	q := voucherwatch.ClaimQuery{All: true}
	if claimID != "" {
		q = voucherwatch.ClaimQuery{IDs: []string{claimID}}
	}
	stored, err := env.reads().LatestClaims(ctx, q)
	if err != nil {
		return nil, fmt.Errorf("detectors: %w", err)
	}
	out := make([]ruleClaim, len(stored))
	for i, c := range stored {
		out[i] = ruleClaim{Claim: c.Claim, Ref: ruleRef{Source: c.Source, ID: c.ID, EventTime: c.Time}}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ClaimID < out[j].ClaimID })
	return out, nil
}

// ruleLoadClaimFacts reads the claims (all, or the one claimID), the latest settlement of every
// invoice number they cite (under any code, so that a number cited under the wrong code can be
// pointed out), and the registry.
func ruleLoadClaimFacts(ctx context.Context, env Env, claimID string) (*ruleClaimFacts, error) {
	f := &ruleClaimFacts{settlements: map[string]*ruleSettlement{}, byNumber: map[string][]*ruleSettlement{}}
	var err error
	if f.claims, err = ruleLoadClaims(ctx, env, claimID); err != nil {
		return nil, err
	}
	if len(f.claims) == 0 {
		return f, nil
	}
	if f.registry, err = ruleLoadRegistry(ctx, env); err != nil {
		return nil, err
	}
	q := voucherwatch.SettlementQuery{NumbersCitedByClaims: true, CitedByClaims: true}
	if claimID != "" {
		// The numbers the claim cites (its latest version's: only those are looked up), and
		// its invoices by canonical key, which finds them cited in another form.
		q = voucherwatch.SettlementQuery{}
		for _, inv := range f.claims[0].Invoices {
			q.InvoiceNos = append(q.InvoiceNos, inv.InvoiceNo)
			q.Invoices = append(q.Invoices, voucherwatch.InvoiceKey{Code: inv.InvoiceCode, No: inv.InvoiceNo})
		}
		if len(q.InvoiceNos) == 0 {
			return f, nil
		}
	}
	// One invoice is one settlement; a settlement re-sent under a new id replaces the earlier.
	ss, err := env.reads().LatestSettlements(ctx, q)
	if err != nil {
		return nil, fmt.Errorf("detectors: %w", err)
	}
	for i := range ss {
		s := &ruleSettlement{Settlement: ss[i].Settlement, Ref: ruleRef{Source: ss[i].Source, ID: ss[i].ID, EventTime: ss[i].Time}}
		f.settlements[s.CanonicalKey()] = s
		f.byNumber[s.InvoiceNo] = append(f.byNumber[s.InvoiceNo], s)
	}
	return f, nil
}

// ruleLoadCitiesAndClaimFacts loads what the claim rules check every claim with: the cities the
// alerts name and the facts of every claim.
func ruleLoadCitiesAndClaimFacts(ctx context.Context, env Env) (map[string]string, *ruleClaimFacts, error) {
	cities, err := Cities(ctx, env.reads())
	if err != nil {
		return nil, nil, err
	}
	f, err := ruleLoadClaimFacts(ctx, env, "")
	if err != nil {
		return nil, nil, err
	}
	return cities, f, nil
}

// ruleLoadChangedClaimFacts loads the facts of the claims changed records touch, by keyed
// look-ups: the changed claims, the claims citing a changed settlement's invoice, the claims of
// an enterprise whose registry row changed, and every other claim of those claims' applicants
// (requested_over_limit totals an applicant's round); with the settlements of the invoices they
// cite (numbers under any code, as the full load), and the registry rows and cities of the
// enterprises these name. The claim rules judge each claim on these alone, so their alerts
// about these claims are the full run's. nil facts: no claim is touched. A supplier's changed registry row reaches the claims citing its invoices
// only at the next full run.
//
// The claim rules that judge these facts share a check lane (claimRulesLane), and the facts
// are read once per check of the lane (memoized): the judges only read them.
func ruleLoadChangedClaimFacts(ctx context.Context, env Env, changed voucherwatch.Changes) (map[string]string, *ruleClaimFacts, error) {
	type facts struct {
		cities map[string]string
		f      *ruleClaimFacts
	}
	got, err := memoized(ctx, "rule changed claim facts", func() (facts, error) {
		cities, f, err := ruleReadChangedClaimFacts(ctx, env, changed)
		return facts{cities, f}, err
	})
	return got.cities, got.f, err
}

// claimRulesLane is the check lane of the claim rules that judge ruleLoadChangedClaimFacts.
const claimRulesLane = "claim_rules"

func (d *RequestedOverLimit) CheckLane() string  { return claimRulesLane }
func (d *PolicyWindow) CheckLane() string        { return claimRulesLane }
func (d *NonSubsidisableItem) CheckLane() string { return claimRulesLane }
func (d *InvoiceMismatch) CheckLane() string     { return claimRulesLane }

// ruleReadChangedClaimFacts is ruleLoadChangedClaimFacts' read.
func ruleReadChangedClaimFacts(ctx context.Context, env Env, changed voucherwatch.Changes) (map[string]string, *ruleClaimFacts, error) {
	q := voucherwatch.ClaimQuery{IDs: changed.ClaimIDs(), Invoices: changed.InvoiceKeys(), Applicants: changed.EnterpriseList()}
	if q.IsZero() {
		return nil, nil, nil
	}
	rm := env.reads()
	touched, err := rm.LatestClaims(ctx, q)
	if err != nil {
		return nil, nil, fmt.Errorf("detectors: %w", err)
	}
	if len(touched) == 0 {
		return nil, nil, nil
	}
	applicants := map[string]bool{}
	asked := true // every applicant of the touched claims was asked for: touched holds their claims
	for _, c := range touched {
		applicants[c.ApplicantUSCC] = true
		asked = asked && changed.Enterprises[c.ApplicantUSCC]
	}
	stored := touched
	if !asked {
		if stored, err = rm.LatestClaims(ctx, voucherwatch.ClaimQuery{Applicants: ruleSortedKeys(applicants)}); err != nil {
			return nil, nil, fmt.Errorf("detectors: %w", err)
		}
	}
	f := &ruleClaimFacts{settlements: map[string]*ruleSettlement{}, byNumber: map[string][]*ruleSettlement{}}
	if err := ruleAddClaims(ctx, rm, f, stored, true); err != nil {
		return nil, nil, err
	}
	// The registry rows of the enterprises the alerts may name: applicants, and the suppliers
	// and buyers of the settlements.
	usccs := applicants
	for _, s := range f.settlements {
		usccs[s.SupplierUSCC], usccs[s.BuyerUSCC] = true, true
	}
	for _, ss := range f.byNumber {
		for _, s := range ss {
			usccs[s.SupplierUSCC], usccs[s.BuyerUSCC] = true, true
		}
	}
	ents, err := rm.LatestEntitiesOf(ctx, ruleSortedKeys(usccs))
	if err != nil {
		return nil, nil, fmt.Errorf("detectors: %w", err)
	}
	f.registry = ruleRegistryOf(ents)
	cities := make(map[string]string, len(f.registry))
	for uscc, e := range f.registry {
		cities[uscc] = e.City
	}
	return cities, f, nil
}

// ruleAddClaims sets f's claims to the stored ones, in claim_id order, and reads the latest
// settlements of the invoices they cite by canonical key (through lookup_keys), and, when
// byNumber, by number under any code (a read of the settlements' invoice_no column) as the
// full load reads them for the hints of the rules that give them.
func ruleAddClaims(ctx context.Context, rm voucherwatch.ReadModel, f *ruleClaimFacts, stored []voucherwatch.StoredClaim, byNumber bool) error {
	f.claims = make([]ruleClaim, len(stored))
	var sq voucherwatch.SettlementQuery
	for i, c := range stored {
		f.claims[i] = ruleClaim{Claim: c.Claim, Ref: ruleRef{Source: c.Source, ID: c.ID, EventTime: c.Time}}
		for _, inv := range c.Invoices {
			if byNumber {
				sq.InvoiceNos = append(sq.InvoiceNos, inv.InvoiceNo)
			}
			sq.Invoices = append(sq.Invoices, voucherwatch.InvoiceKey{Code: inv.InvoiceCode, No: inv.InvoiceNo})
		}
	}
	sort.Slice(f.claims, func(i, j int) bool { return f.claims[i].ClaimID < f.claims[j].ClaimID })
	if len(sq.Invoices) == 0 {
		return nil
	}
	ss, err := rm.LatestSettlements(ctx, sq)
	if err != nil {
		return fmt.Errorf("detectors: %w", err)
	}
	for i := range ss {
		s := &ruleSettlement{Settlement: ss[i].Settlement, Ref: ruleRef{Source: ss[i].Source, ID: ss[i].ID, EventTime: ss[i].Time}}
		f.settlements[s.CanonicalKey()] = s
		f.byNumber[s.InvoiceNo] = append(f.byNumber[s.InvoiceNo], s)
	}
	return nil
}

// ruleDate turns a ClickHouse Date into a date in CST; the zero date 1970-01-01, which the
// store writes for a missing date, becomes the zero time.
func ruleDate(t time.Time) time.Time {
	if t.IsZero() || t.Year() <= 1970 {
		return time.Time{}
	}
	return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, voucherwatch.CST)
}

// ruleDay formats a date for evidence and reasons; "" for the zero time.
func ruleDay(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.Format(time.DateOnly)
}

// ruleDaysBetween counts calendar days from a to b (b − a).
func ruleDaysBetween(a, b time.Time) int {
	a = time.Date(a.Year(), a.Month(), a.Day(), 0, 0, 0, 0, time.UTC)
	b = time.Date(b.Year(), b.Month(), b.Day(), 0, 0, 0, 0, time.UTC)
	return int(b.Sub(a).Hours() / 24)
}

// ruleEntityName is an enterprise's registered name, or its USCC when the registry lacks it.
func ruleEntityName(reg map[string]ruleEntity, uscc string) string {
	if e, ok := reg[uscc]; ok && e.Name != "" {
		return e.Name
	}
	return uscc
}

// ruleSortedKeys returns a set's members in order, for deterministic evidence.
func ruleSortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// ruleJoinZh joins Chinese list items with the enumeration comma.
func ruleJoinZh(items []string) string { return strings.Join(items, "、") }

// ruleAlerts builds the alerts of findings; a finding about a supplier alone (no applicant) takes
// the supplier's 市州, so that the city bureau that supervises it sees it.
func ruleAlerts(fs []finding, cities map[string]string, at time.Time) []voucherwatch.Alert {
	out := make([]voucherwatch.Alert, 0, len(fs))
	for _, f := range fs {
		a := f.alert(cities, at)
		a.Score = voucherwatch.RoundTo(a.Score, 2)
		if f.Subjects.ApplicantUSCC == "" {
			a.City = cities[f.Subjects.SupplierUSCC]
		}
		out = append(out, a)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

// ruleClaimSubjects are the subjects of a finding about a whole claim: the applicant and the claim,
// and the supplier and contract when all the applicant's settled invoices the claim cites come
// from one contract (or the claim cites one contract).
func ruleClaimSubjects(a voucherwatch.ClaimAssessment, c ruleClaim) voucherwatch.Subjects {
	s := voucherwatch.Subjects{ApplicantUSCC: c.ApplicantUSCC, ClaimID: c.ClaimID}
	type deal struct{ supplier, contract string }
	deals := map[deal]bool{}
	for _, ia := range a.Invoices {
		if ia.Settled && ia.BuyerIsApplicant {
			deals[deal{ia.SupplierUSCC, ia.ContractNo}] = true
		}
	}
	switch {
	case len(deals) == 1:
		for d := range deals {
			s.SupplierUSCC, s.ContractNo = d.supplier, d.contract
		}
	case len(deals) == 0 && len(c.Contracts) == 1:
		s.ContractNo = c.Contracts[0]
	}
	return s
}

// ruleInvoiceSubjects are the subjects of a finding about one invoice a claim cites; the supplier
// and contract are the settlement's, when there is one.
func ruleInvoiceSubjects(c ruleClaim, ia voucherwatch.InvoiceAssessment) voucherwatch.Subjects {
	return voucherwatch.Subjects{ApplicantUSCC: c.ApplicantUSCC, SupplierUSCC: ia.SupplierUSCC, ClaimID: c.ClaimID,
		ContractNo: ia.ContractNo, InvoiceCode: ia.InvoiceCode, InvoiceNo: ia.InvoiceNo}
}

// ruleInvoiceEvidence is what evidence shows of an assessed invoice, money in yuan.
func ruleInvoiceEvidence(ia voucherwatch.InvoiceAssessment) map[string]any {
	ev := map[string]any{
		"invoice_code": ia.InvoiceCode, "invoice_no": ia.InvoiceNo, "claimed": yuan(ia.ClaimedFen),
		"settled": ia.Settled, "eligible": yuan(ia.EligibleFen),
	}
	if ia.Settled {
		ev["settled_amount"] = yuan(ia.SettledFen)
		ev["settlement_id"] = ia.SettlementID
		ev["contract_no"] = ia.ContractNo
		ev["supplier_uscc"] = ia.SupplierUSCC
		ev["buyer_uscc"] = ia.BuyerUSCC
		ev["subsidisable"] = yuan(ia.SubsidisableFen)
		if ia.PeriodDays > 0 {
			ev["period"] = ia.PeriodStart + " ~ " + ia.PeriodEnd
			ev["period_days"] = ia.PeriodDays
			ev["days_in_window"] = ia.DaysInWindow
			ev["in_window"] = yuan(ia.InWindowFen)
		}
	}
	if len(ia.Reasons) > 0 {
		ev["reasons"] = ia.Reasons
	}
	return ev
}

// ruleClaimEvidence starts the evidence of a finding about a claim.
func ruleClaimEvidence(c ruleClaim) map[string]any {
	return map[string]any{
		"claim": c.Ref, "claim_id": c.ClaimID, "round": c.Round, "submitted_on": ruleDay(c.SubmittedOn),
		"requested": yuan(c.Requested), "usage_amount": yuan(c.UsageAmount),
	}
}

// ruleWan formats an amount in 万元 as the policy text writes its thresholds ("5万元",
// "1000万元"), in yuan when it is not a whole number of 万元.
func ruleWan(m voucherwatch.Money) string {
	if m%1_000_000 == 0 {
		return strconv.FormatInt(int64(m/1_000_000), 10) + "万元"
	}
	return yuan(m) + "元"
}

// ruleDealKey names a contract from the buyer's side: contract numbers are unique per supplier
// only, and a claim cites numbers without the supplier.
type ruleDealKey struct{ Buyer, ContractNo string }

// ruleClaimsCiting maps each (applicant, contract number) to the claims, latest versions, that
// cite the contract or an invoice settling it, in claim_id order.
func ruleClaimsCiting(ctx context.Context, env Env) (map[ruleDealKey][]string, error) {
	cs, err := env.reads().ClaimsCitingContracts(ctx)
	if err != nil {
		return nil, fmt.Errorf("detectors: %w", err)
	}
	out := make(map[ruleDealKey][]string, len(cs))
	for _, c := range cs {
		out[ruleDealKey{c.BuyerUSCC, c.ContractNo}] = c.ClaimIDs
	}
	return out, nil
}
