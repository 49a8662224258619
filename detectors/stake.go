package detectors

import (
	"context"
	"fmt"
	"math"
	"slices"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/voucherwatch/voucherwatch"
)

// Money at stake (docs/priorities.md). Every alert gets the subsidy that would not be payable
// if its finding holds, computed by the claim assessment's arithmetic (PayableOn):
// the finding selects the invoices it touches (by its subjects: an invoice of a claim, a whole
// claim, a contract, a buyer–supplier pair, a supplier) and the share of them it disputes (the
// excess over a price band's upper edge, the resold share, the billed hours beyond the metered
// ones; all of it otherwise). For each claim touched the stake is the claim's payable subsidy
// less what it would be without that share; for the policy rules whose exclusion the
// assessment already makes (non-subsidisable items, the window, invoices not settled as
// claimed, unregistered suppliers, the request over the limit) it is what the rule removes
// from the request. A finding touching no claim carries the subsidy the claimable amounts it
// touches would draw, marked potential.

// withheldByAssessment are the detectors whose finding the assessment already applies: the
// money they put at stake is what they keep out of the request (SubsidyWithheld).
var withheldByAssessment = map[string]bool{
	"non_subsidisable_item": true,
	"policy_window":         true,
	"invoice_mismatch":      true,
	"requested_over_limit":  true,
}

// Staker computes the money at stake of alerts. It reads the claims, every settlement and the
// registry once per evaluation time (a full run's detectors share one read); facts read for
// another evaluation time serve for MaxAge unless records were stored since (Invalidate).
type Staker struct {
	env Env
	// MaxAge is how long facts read for one evaluation time serve another (incremental
	// checks) while no record is stored: 30 s by default.
	MaxAge time.Duration

	loading sync.Mutex // held by the read of every claim and settlement under way
	mu      sync.Mutex // guards the fields below, never held during a read
	facts   *stakeFacts
	at      time.Time
	readAt  time.Time
	gen     uint64 // Invalidate's count when facts were read
	stored  atomic.Uint64
}

// Invalidate says records were stored: facts read before serve no other evaluation time.
func (s *Staker) Invalidate() { s.stored.Add(1) }

// NewStaker builds a staker over env's read model and policy.
func NewStaker(env Env) *Staker { return &Staker{env: env, MaxAge: 30 * time.Second} }

// stakeFacts are the claims assessed and the settlements no claim cites.
type stakeFacts struct {
	assessments []voucherwatch.ClaimAssessment
	ceilings    []voucherwatch.Money
	uncited     []*ruleSettlement
}

// keyedStakeMost is the most claims and deals whose facts Annotate reads by keyed look-ups.
const keyedStakeMost = 64

// Annotate sets AtStake, AtStakePotential and StakeClaims of every alert. When the facts read
// before no longer serve (records were stored since) and the alerts name a few claims or
// deals, as an incremental check's do, only the facts they touch are read, by keyed look-ups
// (keyed), not every claim and settlement: an alert is staked only by the claims and
// settlements its subjects select, which these facts give as the full read does.
func (s *Staker) Annotate(ctx context.Context, alerts []voucherwatch.Alert, at time.Time) error {
	if len(alerts) == 0 {
		return nil
	}
	f, err := s.keyed(ctx, alerts, at)
	if err == nil && f == nil {
		f, err = s.load(ctx, at)
	}
	if err != nil {
		return err
	}
	for i := range alerts {
		stakeAlert(s.env, f, &alerts[i])
	}
	return nil
}

// keyed returns the facts the alerts touch, read by key, when the facts read before do not
// serve and every alert names a claim or a deal a key reaches (a contract with its supplier
// or buyer, or a supplier), at most keyedStakeMost of them together; nil otherwise.
//
// An alert naming a claim is staked by that claim's assessment. One naming a deal is staked
// by the claims citing the deal's invoices (or the invoice it names) and, when none does, by
// the deal's settlements no claim cites: the deal's settlements are read through the
// supplier prefix of the settlements' key or the contract look-up, then the latest version of
// each of their invoices under any supplier (as the full read keeps it), and the claims citing
// them through the claims' invoice look-up, every claim citing one, so that what no claim
// cites is known without reading every claim.
func (s *Staker) keyed(ctx context.Context, alerts []voucherwatch.Alert, at time.Time) (*stakeFacts, error) {
	ids := map[string]bool{}
	var (
		sq       voucherwatch.SettlementQuery
		invoices []voucherwatch.InvoiceKey
		deals    = map[voucherwatch.Subjects]bool{}
	)
	for i := range alerts {
		sub := alerts[i].Subjects
		if sub.ClaimID != "" {
			ids[sub.ClaimID] = true
			continue
		}
		if !(stakeSelector{s: sub}).deal(sub.ApplicantUSCC, sub.SupplierUSCC, sub.ContractNo) {
			continue // stakeAlert leaves it at zero
		}
		deal := voucherwatch.Subjects{ApplicantUSCC: sub.ApplicantUSCC, SupplierUSCC: sub.SupplierUSCC, ContractNo: sub.ContractNo}
		if !deals[deal] {
			deals[deal] = true
			switch {
			case sub.ContractNo != "" && sub.SupplierUSCC != "":
				sq.Contracts = append(sq.Contracts, [2]string{sub.SupplierUSCC, sub.ContractNo})
			case sub.ContractNo != "" && sub.ApplicantUSCC != "":
				sq.BuyerContracts = append(sq.BuyerContracts, [2]string{sub.ApplicantUSCC, sub.ContractNo})
			case sub.SupplierUSCC != "":
				sq.Suppliers = append(sq.Suppliers, sub.SupplierUSCC)
			default:
				return nil, nil // a buyer alone, or a contract number alone: no key reaches its deals
			}
		}
		if sub.InvoiceNo != "" {
			invoices = append(invoices, voucherwatch.InvoiceKey{Code: sub.InvoiceCode, No: sub.InvoiceNo})
		}
	}
	if len(ids)+len(deals) > keyedStakeMost {
		return nil, nil
	}
	if s.serving(at) != nil {
		return nil, nil
	}
	return keyedStakeFacts(ctx, s.env, ids, sq, invoices)
}

// keyedStakeFacts reads, by key, the facts of the claims ids, of the deals sq selects and of
// the claims citing the deals' invoices or invoices: four look-ups, whatever the size of the
// province. The claims' invoices and the deals' settlements are read together, every version
// of each invoice under any supplier through lookup_keys, so that each invoice's settlement
// is the one the full read keeps (the last of its canonical key in invoice order); the
// numbers a claim cites under another code, which only explain an assessment, are not read.
func keyedStakeFacts(ctx context.Context, env Env, ids map[string]bool, sq voucherwatch.SettlementQuery, invoices []voucherwatch.InvoiceKey) (*stakeFacts, error) {
	rm := env.reads()
	var keys []voucherwatch.InvoiceKey // the deals' invoices
	if !sq.IsZero() {
		found, err := rm.LatestSettlements(ctx, sq)
		if err != nil {
			return nil, fmt.Errorf("detectors: money at stake: %w", err)
		}
		for i := range found {
			keys = append(keys, voucherwatch.InvoiceKey{Code: found[i].InvoiceCode, No: found[i].InvoiceNo})
		}
	}
	// The claims named, and every claim citing one of the deals' invoices (or the invoices
	// the alerts name), so that what no claim cites is known.
	cq := voucherwatch.ClaimQuery{IDs: ruleSortedKeys(ids), Invoices: append(slices.Clone(keys), invoices...)}
	var stored []voucherwatch.StoredClaim
	if !cq.IsZero() {
		var err error
		if stored, err = rm.LatestClaims(ctx, cq); err != nil {
			return nil, fmt.Errorf("detectors: money at stake: %w", err)
		}
	}
	cf := &ruleClaimFacts{settlements: map[string]*ruleSettlement{}, byNumber: map[string][]*ruleSettlement{}}
	cf.claims = make([]ruleClaim, len(stored))
	ssq := voucherwatch.SettlementQuery{Invoices: keys}
	cited := map[string]bool{}
	usccs := map[string]bool{}
	for i, c := range stored {
		cf.claims[i] = ruleClaim{Claim: c.Claim, Ref: ruleRef{Source: c.Source, ID: c.ID, EventTime: c.Time}}
		usccs[c.ApplicantUSCC] = true
		for _, inv := range c.Invoices {
			ssq.Invoices = append(ssq.Invoices, voucherwatch.InvoiceKey{Code: inv.InvoiceCode, No: inv.InvoiceNo})
			cited[inv.CanonicalKey()] = true
		}
	}
	sort.Slice(cf.claims, func(i, j int) bool { return cf.claims[i].ClaimID < cf.claims[j].ClaimID })
	if !ssq.IsZero() {
		ss, err := rm.LatestSettlements(ctx, ssq)
		if err != nil {
			return nil, fmt.Errorf("detectors: money at stake: %w", err)
		}
		for i := range ss {
			st := &ruleSettlement{Settlement: ss[i].Settlement, Ref: ruleRef{Source: ss[i].Source, ID: ss[i].ID, EventTime: ss[i].Time}}
			cf.settlements[st.CanonicalKey()] = st
			usccs[st.SupplierUSCC], usccs[st.BuyerUSCC] = true, true
		}
	}
	// The registry rows the assessments read: the applicants' (city, name) and the
	// suppliers' (registration).
	if len(usccs) > 0 {
		ents, err := rm.LatestEntitiesOf(ctx, ruleSortedKeys(usccs))
		if err != nil {
			return nil, fmt.Errorf("detectors: money at stake: %w", err)
		}
		cf.registry = ruleRegistryOf(ents)
	}
	f := &stakeFacts{}
	for _, c := range cf.claims {
		a := assessClaim(env.Policy, c, cf)
		f.assessments = append(f.assessments, a)
		f.ceilings = append(f.ceilings, StakeCeiling(env.Policy, a))
	}
	for k, st := range cf.settlements {
		if !cited[k] {
			f.uncited = append(f.uncited, st)
		}
	}
	sort.Slice(f.uncited, func(i, j int) bool { return f.uncited[i].SettlementID < f.uncited[j].SettlementID })
	return f, nil
}

// load returns the facts of every claim and settlement: those read before while they serve,
// else a new read. A caller that finds another's read under way reads on its own rather than
// wait for it: a check's alerts never wait for a full run's read (minutes on a large
// province under load); the facts kept are the read that began last.
func (s *Staker) load(ctx context.Context, at time.Time) (*stakeFacts, error) {
	if f := s.serving(at); f != nil {
		return f, nil
	}
	if s.loading.TryLock() {
		defer s.loading.Unlock()
		if f := s.serving(at); f != nil {
			return f, nil // read by another caller meanwhile
		}
	}
	gen, readAt := s.stored.Load(), time.Now()
	f, err := loadStakeFacts(ctx, s.env)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	if s.facts == nil || !readAt.Before(s.readAt) {
		s.facts, s.at, s.readAt, s.gen = f, at, readAt, gen
	}
	s.mu.Unlock()
	return f, nil
}

// serving returns the facts read before when they serve an evaluation at at: read for at, or
// less than MaxAge ago with no record stored since; nil otherwise.
func (s *Staker) serving(at time.Time) *stakeFacts {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.facts != nil && (at.Equal(s.at) || s.gen == s.stored.Load() && time.Since(s.readAt) < s.MaxAge) {
		return s.facts
	}
	return nil
}

func loadStakeFacts(ctx context.Context, env Env) (*stakeFacts, error) {
	cf := &ruleClaimFacts{settlements: map[string]*ruleSettlement{}, byNumber: map[string][]*ruleSettlement{}}
	var err error
	if cf.claims, err = ruleLoadClaims(ctx, env, ""); err != nil {
		return nil, err
	}
	if cf.registry, err = ruleLoadRegistry(ctx, env); err != nil {
		return nil, err
	}
	ss, err := env.reads().LatestSettlements(ctx, voucherwatch.SettlementQuery{All: true})
	if err != nil {
		return nil, err
	}
	for i := range ss {
		st := &ruleSettlement{Settlement: ss[i].Settlement, Ref: ruleRef{Source: ss[i].Source, ID: ss[i].ID, EventTime: ss[i].Time}}
		cf.settlements[st.CanonicalKey()] = st
		cf.byNumber[st.InvoiceNo] = append(cf.byNumber[st.InvoiceNo], st)
	}
	f := &stakeFacts{}
	cited := map[string]bool{}
	for _, c := range cf.claims {
		a := assessClaim(env.Policy, c, cf)
		f.assessments = append(f.assessments, a)
		f.ceilings = append(f.ceilings, StakeCeiling(env.Policy, a))
		for _, inv := range c.Invoices {
			cited[inv.CanonicalKey()] = true
		}
	}
	for k, st := range cf.settlements {
		if !cited[k] {
			f.uncited = append(f.uncited, st)
		}
	}
	sort.Slice(f.uncited, func(i, j int) bool { return f.uncited[i].SettlementID < f.uncited[j].SettlementID })
	return f, nil
}

// stakeSelector says which invoices of which claims, and which settlements, a finding touches.
type stakeSelector struct {
	s        voucherwatch.Subjects
	detector string
}

func (sel stakeSelector) claim(a voucherwatch.ClaimAssessment) bool {
	s := sel.s
	switch {
	case s.ClaimID != "":
		return a.ClaimID == s.ClaimID
	case s.ApplicantUSCC != "":
		return a.ApplicantUSCC == s.ApplicantUSCC
	}
	return true
}

func (sel stakeSelector) invoice(a voucherwatch.ClaimAssessment, ia voucherwatch.InvoiceAssessment) bool {
	s := sel.s
	if s.InvoiceNo != "" {
		// The finding names the invoice as its settlement writes it; the claim may cite it in
		// another form (docs/canonical.md), so the two meet on the canonical key.
		return voucherwatch.InvoiceKey{Code: ia.InvoiceCode, No: ia.InvoiceNo}.Canonical() ==
			voucherwatch.InvoiceKey{Code: s.InvoiceCode, No: s.InvoiceNo}.Canonical()
	}
	if s.ClaimID != "" && sel.detector != "unregistered_supplier" {
		return true // a finding about a whole claim
	}
	return sel.deal(ia.BuyerUSCC, ia.SupplierUSCC, ia.ContractNo) && ia.Settled
}

func (sel stakeSelector) deal(buyer, supplier, contract string) bool {
	s := sel.s
	switch {
	case s.ApplicantUSCC != "" && buyer != s.ApplicantUSCC:
		return false
	case s.SupplierUSCC != "" && supplier != s.SupplierUSCC:
		return false
	case s.ContractNo != "" && contract != s.ContractNo:
		return false
	}
	return s.ApplicantUSCC != "" || s.SupplierUSCC != "" || s.ContractNo != ""
}

// stakeShare is the part of the touched amounts a finding disputes, from its evidence.
func stakeShare(a *voucherwatch.Alert) float64 {
	switch a.Detector {
	case voucherwatch.DetectorPrice:
		if a.Kind == KindUnitPriceFarBelow {
			return 0 // a price below the band draws no subsidy beyond the band
		}
		var p voucherwatch.PriceEvidence
		if a.Evidence.Decode(&p) != nil {
			return 0
		}
		if n, h := p.WorstItem.Normalised, p.Band.High; n > 0 && h > 0 && n > h {
			return (n - h) / n
		}
		return 0
	case voucherwatch.DetectorResale:
		var r voucherwatch.ResaleEvidence
		if a.Evidence.Decode(&r) != nil {
			return 1
		}
		if r.Ratio > 0 {
			return math.Min(1, r.Ratio)
		}
		if l := r.Logins; l != nil && l.OfWindows > 0 {
			return math.Min(1, l.Windows/l.OfWindows)
		}
	case "billed_above_metered":
		var m struct {
			Billed  float64 `json:"billed_card_hours"`
			Metered float64 `json:"metered_card_hours"`
		}
		if a.Evidence.Decode(&m) == nil && m.Billed > 0 && m.Billed > m.Metered {
			return (m.Billed - m.Metered) / m.Billed
		}
	}
	return 1
}

// share is the fen of amount a share disputes, rounded half up.
func share(amount voucherwatch.Money, sh float64) voucherwatch.Money {
	if sh >= 1 {
		return amount
	}
	return voucherwatch.Money(math.Floor(float64(amount)*sh + 0.5))
}

// stakeAlert sets the money at stake of one alert.
func stakeAlert(env Env, f *stakeFacts, a *voucherwatch.Alert) {
	a.AtStake, a.AtStakePotential, a.StakeClaims = 0, false, nil
	sel := stakeSelector{s: a.Subjects, detector: a.Detector}
	if sel.s.ClaimID == "" && !sel.deal(sel.s.ApplicantUSCC, sel.s.SupplierUSCC, sel.s.ContractNo) {
		return
	}
	sh := stakeShare(a)
	withheld := withheldByAssessment[a.Detector] || a.Detector == "unregistered_supplier" && sel.s.ClaimID != ""
	touched := false
	for ci, as := range f.assessments {
		if !sel.claim(as) {
			continue
		}
		var idx []int
		removed := map[int]voucherwatch.Money{}
		for i, ia := range as.Invoices {
			if sel.invoice(as, ia) {
				idx = append(idx, i)
				removed[i] = share(ia.EligibleFen, sh)
			}
		}
		if len(idx) == 0 {
			continue
		}
		touched = true
		var fen voucherwatch.Money
		if withheld {
			if a.Detector == "requested_over_limit" && sel.s.InvoiceNo == "" {
				idx = nil // the request as a whole
			}
			fen = SubsidyWithheld(env.Policy, as, idx)
		} else {
			fen = SubsidyWithout(env.Policy, as, removed)
		}
		if fen <= 0 {
			continue
		}
		a.AtStake += fen
		a.StakeClaims = append(a.StakeClaims, voucherwatch.ClaimStake{ClaimID: as.ClaimID, AtStake: fen, Ceiling: f.ceilings[ci]})
	}
	if touched || sel.s.ClaimID != "" || sh <= 0 {
		return
	}
	// No claim cites what the finding touches: what its claimable amounts would draw.
	var eligible voucherwatch.Money
	for _, st := range f.uncited {
		if !sel.deal(st.BuyerUSCC, st.SupplierUSCC, st.ContractNo) {
			continue
		}
		var subs voucherwatch.Money
		for _, it := range st.Items {
			if env.Policy.Subsidisable(it.ServiceType) {
				subs += it.Amount
			}
		}
		if len(st.Items) == 0 || subs > st.Amount {
			subs = st.Amount
		}
		in, _, _ := env.Policy.InWindow(subs, st.PeriodStart, st.PeriodEnd)
		eligible += share(in, sh)
	}
	if a.AtStake = env.Policy.MaxSubsidy(eligible); a.AtStake > 0 {
		a.AtStakePotential = true
	}
}

// CombinedStake is the money a set of alerts puts at stake together: per claim the sum of
// their shares on it, at most the claim's ceiling, plus the potential stakes (docs/priorities.md).
func CombinedStake(alerts []voucherwatch.Alert) voucherwatch.Money {
	type claimSum struct{ sum, ceiling voucherwatch.Money }
	byClaim := map[string]*claimSum{}
	var total voucherwatch.Money
	for _, a := range alerts {
		if a.AtStakePotential {
			total += a.AtStake
			continue
		}
		for _, cs := range a.StakeClaims {
			c := byClaim[cs.ClaimID]
			if c == nil {
				c = &claimSum{ceiling: cs.Ceiling}
				byClaim[cs.ClaimID] = c
			}
			c.sum += cs.AtStake
		}
	}
	for _, c := range byClaim {
		total += min(c.sum, c.ceiling)
	}
	return total
}
