package detectors

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/voucherwatch/voucherwatch"
)

// Kinds of duplicate_claim alerts (M1b, 重复申领).
const (
	// KindInvoiceInTwoClaims: one invoice (invoice_code, invoice_no) cited by more than one claim.
	KindInvoiceInTwoClaims = "invoice_in_two_claims"
	// KindInvoiceRepeatedInClaim: one claim lists the same invoice more than once.
	KindInvoiceRepeatedInClaim = "invoice_repeated_in_claim"
	// KindClaimResubmitted: an applicant files the same invoices again under a new claim_id.
	KindClaimResubmitted = "claim_resubmitted"
	// KindPaymentRefShared: one payment reference (支付凭证) presented for several invoices.
	KindPaymentRefShared = "payment_ref_shared"
	// KindResourceTwoTenantsOverlap: one metered resource billed to two buyers at once.
	KindResourceTwoTenantsOverlap = "resource_two_tenants_overlap"
)

// dupClause is the policy clause every duplicate_claim alert rests on.
const dupClause = "五.1 / M1b"

// dupMinOverlap is the overlap of two tenants' windows on one resource below which it is taken
// for clock skew or a hand-over and reported only with low severity.
const dupMinOverlap = time.Hour

// DuplicateClaim finds the same invoice, claim, payment or metered resource-time claimed or
// billed more than once (policy 五.1, M1b 重复申领).
//
// Each finding names the record that repeats what an earlier one already used, so that one
// alert points at the party to be asked for an explanation:
//
//   - invoice_in_two_claims: one alert per invoice and per claim that cites it after the
//     rightful claim. The rightful claim is the earliest one of the invoice's buyer (the
//     settlement's buyer_uscc), or the earliest one at all when the buyer has not cited it or
//     the invoice is not settled in the data. Subjects: the later claim's applicant and
//     claim_id, the invoice (code and number), and the supplier and contract of its settlement.
//   - invoice_repeated_in_claim: one claim lists an invoice twice; same subjects.
//   - claim_resubmitted: a claim whose applicant filed the same set of invoices before under
//     another claim_id. Subjects: applicant, the later claim_id, and the supplier and contract
//     when all its invoices settle one contract. Its invoices are not reported again as
//     invoice_in_two_claims against the claim it copies.
//   - payment_ref_shared: one alert per payment reference and per contract that reuses a
//     reference first used to pay another invoice (the earliest paid one keeps it). Subjects:
//     buyer, supplier, contract, and the first invoice that reused the reference. Low severity
//     when every invoice has the same payer, payee and payment date: one transfer may pay
//     several invoices.
//   - resource_two_tenants_overlap: one alert per resource and tenant (buyer and contract)
//     whose use of the resource began while another buyer was still metered on it. Subjects:
//     that buyer, its contract, the supplier and the resource_id. Sequential lets, and windows
//     that only touch (end == start), are not overlaps.
//
// A claim is identified by claim_id: a newer version of a claim (the same claim_id under a new
// envelope id) replaces the older one and is not a duplicate of it; a redelivered record (the
// same source and id) is one record. Claims citing the contract of a finding are named in the
// evidence rather than the subjects, so that the alert keeps its id when a claim arrives later.
type DuplicateClaim struct {
	env Env
}

var _ voucherwatch.Detector = (*DuplicateClaim)(nil)

// NewDuplicateClaim builds the duplicate_claim detector.
func NewDuplicateClaim(env Env) *DuplicateClaim { return &DuplicateClaim{env: env} }

// Name returns "duplicate_claim".
func (d *DuplicateClaim) Name() string { return voucherwatch.DetectorDuplicateClaim }

// Kinds are the kinds its alerts may carry (voucherwatch.AlertKinds has their labels).
func (d *DuplicateClaim) Kinds() []string {
	return []string{KindInvoiceInTwoClaims, KindInvoiceRepeatedInClaim, KindClaimResubmitted, KindPaymentRefShared, KindResourceTwoTenantsOverlap,
		KindInvoiceOfAnotherBuyer, KindSettlementNotToContractBuyer, KindContractOfAnotherBuyer}
}

// Run finds the duplicate claims in the stored records. at stamps the alerts; every record
// stored counts.
func (d *DuplicateClaim) Run(ctx context.Context, at time.Time) ([]voucherwatch.Alert, error) {
	cities, err := Cities(ctx, d.env.reads())
	if err != nil {
		return nil, err
	}
	claims, err := latestClaimsInOrder(ctx, d.env.reads(), voucherwatch.ClaimQuery{All: true})
	if err != nil {
		return nil, err
	}
	settled, err := settlementsOf(ctx, d.env.reads(), voucherwatch.SettlementQuery{CitedByClaims: true})
	if err != nil {
		return nil, err
	}
	ix := newClaimIndex(claims)

	resubmitted, fs := d.resubmissions(ix, settled)
	fs = append(fs, d.invoiceReuse(ix, settled, resubmitted, nil)...)
	pay, err := d.paymentRefs(ctx, ix, nil)
	if err != nil {
		return nil, err
	}
	fs = append(fs, pay...)
	res, err := d.resourceOverlaps(ctx, ix)
	if err != nil {
		return nil, err
	}
	fs = append(fs, res...)
	other, err := loadOtherBuyerFacts(ctx, d.env)
	if err != nil {
		return nil, err
	}
	fs = append(fs, d.otherBuyers(ix, ix.claims, nil, settled, other)...)
	return dupAlerts(fs, cities, at), nil
}

var _ voucherwatch.IncrementalDetector = (*DuplicateClaim)(nil)

// Check returns the alerts that new claims and settlements raise or alter, each as Run returns
// it, by keyed look-ups of what they touch:
//
//   - the invoices a changed claim cites and the changed settlements' invoices, with every claim
//     citing them and every claim of those claims' applicants (a resubmission is a copy of one
//     applicant's claim), and those claims' settlements;
//   - the payment references of the touched invoices' settlements and of the settlements of the
//     contracts a changed claim cites (their alerts list the claims), with the claims their
//     alerts list;
//   - another buyer's purchase (checkOtherBuyers) for the changed claims and the claims citing
//     a touched invoice: the contracts of their settlements and of the numbers they cite, and,
//     only when a finding is raised, the registry's control groups for the tie.
//
// A changed contract (a new version, perhaps with another buyer) is checked as if the claims
// citing its number and its invoices' settlements had changed (contractChanges): the other-buyer
// findings read the contract's buyer.
//
// Resource overlaps come from usage and are left to the full run. So is a settlement corrected
// to another payment reference: the old reference's alerts change at the next full run.
func (d *DuplicateClaim) Check(ctx context.Context, at time.Time, changed voucherwatch.Changes) ([]voucherwatch.Alert, error) {
	rm := d.env.reads()
	if len(changed.Contracts) > 0 {
		var err error
		if changed, err = contractChanges(ctx, rm, changed); err != nil {
			return nil, err
		}
	}
	if len(changed.Claims) == 0 && len(changed.Invoices) == 0 {
		return nil, nil
	}
	// The cities, which every alert carries, depend on nothing the look-ups find: they are
	// read beside them.
	type citiesRead struct {
		cities map[string]string
		err    error
	}
	citiesC := make(chan citiesRead, 1)
	go func() {
		c, err := Cities(ctx, rm)
		citiesC <- citiesRead{c, err}
	}()
	ids := changed.ClaimIDs()
	direct, err := latestClaimsInOrder(ctx, rm, voucherwatch.ClaimQuery{IDs: ids})
	if err != nil {
		return nil, err
	}
	touched := map[dupInvoiceKey]bool{}
	for k := range changed.Invoices {
		touched[dupInvoiceKey(k.Canonical())] = true
	}
	var claimedContracts [][2]string
	for _, c := range direct {
		for _, inv := range c.Invoices {
			touched[inv.key()] = true
		}
		for _, no := range c.Contracts {
			claimedContracts = append(claimedContracts, [2]string{c.Applicant, no})
		}
	}
	invoices := dupInvoiceKeys(touched)

	// Every claim citing a touched invoice, and every claim of those claims' applicants: the
	// changed claims' applicants are asked for at once, the others', if any, after.
	applicants := dupApplicants(direct)
	claims, err := latestClaimsInOrder(ctx, rm, voucherwatch.ClaimQuery{IDs: ids, Invoices: invoices, Applicants: applicants})
	if err != nil {
		return nil, err
	}
	if more := dupApplicants(claims); len(more) > len(applicants) {
		if claims, err = latestClaimsInOrder(ctx, rm, voucherwatch.ClaimQuery{IDs: ids, Invoices: invoices, Applicants: more}); err != nil {
			return nil, err
		}
	}
	// Their settlements, and those of the contracts the changed claims cite, in one look-up.
	cited := map[dupInvoiceKey]bool{}
	for _, c := range claims {
		for _, inv := range c.Invoices {
			cited[inv.key()] = true
		}
	}
	for k := range touched {
		cited[k] = true
	}
	found, err := rm.LatestSettlements(ctx, voucherwatch.SettlementQuery{Invoices: dupInvoiceKeys(cited), BuyerContracts: claimedContracts})
	if err != nil {
		return nil, fmt.Errorf("detectors: duplicate_claim: %w", err)
	}
	settled := map[dupInvoiceKey]*dupSettlement{}
	contractOf := map[[2]string]bool{}
	for _, bc := range claimedContracts {
		contractOf[bc] = true
	}
	refSet := map[string]bool{}
	for i := range found {
		s := dupSettlementOf(&found[i])
		if cited[s.key()] {
			settled[s.key()] = s
		}
		// The payment references the touched invoices and the claimed contracts carry.
		if s.PaymentRef != "" && (touched[s.key()] || contractOf[[2]string{s.Buyer, s.ContractNo}]) {
			refSet[s.PaymentRef] = true
		}
	}
	ix := newClaimIndex(claims)
	resubmitted, fs := d.resubmissions(ix, settled)
	fs = append(fs, d.invoiceReuse(ix, settled, resubmitted, touched)...)

	// The settlements sharing a payment reference, and another buyer's purchase, depend on
	// the look-ups above alone: both are read at once.
	type sharedRead struct {
		fs  []finding
		err error
	}
	sharedC := make(chan sharedRead, 1)
	go func() {
		f, err := d.checkSharedRefs(ctx, rm, refSet)
		sharedC <- sharedRead{f, err}
	}()
	other, err := d.checkOtherBuyers(ctx, ix, direct, touched, settled)
	shared := <-sharedC
	if shared.err != nil {
		return nil, shared.err
	}
	if err != nil {
		return nil, err
	}
	fs = append(fs, shared.fs...)
	// Another buyer's purchase, after the others as Run finds it.
	fs = append(fs, other...)
	if len(fs) == 0 {
		return nil, nil
	}
	cr := <-citiesC
	if cr.err != nil {
		return nil, cr.err
	}
	cities := cr.cities
	return dupAlerts(fs, cities, at), nil
}

// checkSharedRefs returns the findings of settlements that share one of refs, the payment
// references of a check's touched invoices and claimed contracts.
func (d *DuplicateClaim) checkSharedRefs(ctx context.Context, rm voucherwatch.ReadModel, refSet map[string]bool) ([]finding, error) {
	if len(refSet) == 0 {
		return nil, nil
	}
	refs := make([]string, 0, len(refSet))
	for r := range refSet {
		refs = append(refs, r)
	}
	sort.Strings(refs)
	shared, err := rm.SettlementsSharingPaymentRef(ctx, refs)
	if err != nil {
		return nil, fmt.Errorf("detectors: duplicate_claim: %w", err)
	}
	if len(shared) == 0 {
		return nil, nil
	}
	// The claims the alerts list: those citing the invoices, and those of the buyers.
	var keys []voucherwatch.InvoiceKey
	var buyers []string
	for _, s := range shared {
		keys = append(keys, s.Key())
		buyers = append(buyers, s.BuyerUSCC)
	}
	listed, err := latestClaimsInOrder(ctx, rm, voucherwatch.ClaimQuery{Invoices: keys, Applicants: buyers})
	if err != nil {
		return nil, err
	}
	return d.sharedRefFindings(shared, newClaimIndex(listed)), nil
}

// contractChanges adds to changed (a copy) what its changed contracts touch: the claims citing
// their numbers (a claim cites a number without the supplier: contract_of_another_buyer, and
// the contract its evidence names) and the invoices settled under them, any buyer
// (settlement_not_to_contract_buyer). A contract whose buyer changed then yields the alerts of
// the claims of its old buyer, its new buyer and anyone else citing it, as the full run does.
func contractChanges(ctx context.Context, rm voucherwatch.ReadModel, changed voucherwatch.Changes) (voucherwatch.Changes, error) {
	contracts := changed.ContractList()
	var numbers []string
	for _, c := range contracts {
		numbers = append(numbers, c[1])
	}
	claims, err := rm.LatestClaims(ctx, voucherwatch.ClaimQuery{ContractNumbers: slices.Compact(slices.Sorted(slices.Values(numbers)))})
	if err != nil {
		return changed, fmt.Errorf("detectors: duplicate_claim: %w", err)
	}
	ss, err := rm.LatestSettlements(ctx, voucherwatch.SettlementQuery{Contracts: contracts})
	if err != nil {
		return changed, fmt.Errorf("detectors: duplicate_claim: %w", err)
	}
	var out voucherwatch.Changes
	out.Merge(changed)
	for _, c := range claims {
		out.Merge(voucherwatch.Changes{Claims: map[string]bool{c.ClaimID: true}})
	}
	for i := range ss {
		out.Merge(voucherwatch.Changes{Invoices: map[voucherwatch.InvoiceKey]bool{ss[i].Key(): true}})
	}
	return out, nil
}

// dupInvoiceKeys returns the invoices to look up by their canonical keys: a canonical key cited
// as a number alone is its own canonical key, so the look-up finds every form.
func dupInvoiceKeys(set map[dupInvoiceKey]bool) []voucherwatch.InvoiceKey {
	out := make([]voucherwatch.InvoiceKey, 0, len(set))
	for k := range set {
		out = append(out, voucherwatch.InvoiceKey{No: string(k)})
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Code != out[j].Code {
			return out[i].Code < out[j].Code
		}
		return out[i].No < out[j].No
	})
	return out
}

func dupApplicants(cs []*dupClaim) []string {
	var out []string
	for _, c := range cs {
		out = append(out, c.Applicant)
	}
	return slices.Compact(slices.Sorted(slices.Values(out)))
}

// dupAlerts turns findings into alerts, sorted by id. Findings on the same subjects have one
// id (ids follow the subjects): the first, stronger one is the alert, and its evidence names
// the kinds of the others (also_found), e.g. an invoice cited by an earlier claim that the
// later claim also lists twice.
func dupAlerts(fs []finding, cities map[string]string, at time.Time) []voucherwatch.Alert {
	seen := map[string]int{}
	var firsts []finding
	for _, f := range fs {
		id := voucherwatch.AlertID(f.Detector, f.Subjects)
		if i, ok := seen[id]; ok {
			also, _ := firsts[i].Evidence["also_found"].([]string)
			firsts[i].Evidence["also_found"] = append(also, f.Kind)
			continue
		}
		seen[id] = len(firsts)
		firsts = append(firsts, f)
	}
	out := make([]voucherwatch.Alert, 0, len(firsts))
	for _, f := range firsts {
		out = append(out, f.alert(cities, at))
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

// dupInvoice is an invoice as a claim cites it: the code and number as written, and the
// canonical key made at decode.
type dupInvoice struct {
	Code, No string
	Key      dupInvoiceKey
	Amount   voucherwatch.Money
}

// key identifies the invoice nationally: its canonical key (voucherwatch.CanonicalInvoice),
// never the number alone, so that one invoice cited split and joined, or without its leading
// zeros, is one invoice.
func (i dupInvoice) key() dupInvoiceKey { return i.Key }

// form is the invoice as written.
func (i dupInvoice) form() dupForm { return dupForm{i.Code, i.No} }

// dupInvoiceKey is the canonical key of an invoice.
type dupInvoiceKey string

// dupForm is an invoice's code and number as one record wrote them.
type dupForm struct{ Code, No string }

func (f dupForm) String() string {
	if f.Code == "" {
		return f.No
	}
	return f.Code + "/" + f.No
}

func (f dupForm) evidence() map[string]any {
	return map[string]any{"invoice_code": f.Code, "invoice_no": f.No}
}

// dupClaim is the current version of one claim.
type dupClaim struct {
	ClaimID     string
	Applicant   string
	Round       int
	SubmittedOn time.Time
	Contracts   []string
	Invoices    []dupInvoice
	UsageAmount voucherwatch.Money
	Requested   voucherwatch.Money
	EventTime   time.Time
	Source, ID  string
}

// before orders claims by submission: date, then arrival, then id.
func (c *dupClaim) before(o *dupClaim) bool {
	if !c.SubmittedOn.Equal(o.SubmittedOn) {
		return c.SubmittedOn.Before(o.SubmittedOn)
	}
	if !c.EventTime.Equal(o.EventTime) {
		return c.EventTime.Before(o.EventTime)
	}
	return c.ClaimID < o.ClaimID
}

func (c *dupClaim) cites(k dupInvoiceKey) (voucherwatch.Money, bool) {
	for _, inv := range c.Invoices {
		if inv.key() == k {
			return inv.Amount, true
		}
	}
	return 0, false
}

// formOf returns the form in which c first cites the invoice k.
func (c *dupClaim) formOf(k dupInvoiceKey) dupForm {
	for _, inv := range c.Invoices {
		if inv.key() == k {
			return inv.form()
		}
	}
	return dupForm{No: string(k)}
}

// formsOf lists the distinct forms in which c cites the invoice k.
func (c *dupClaim) formsOf(k dupInvoiceKey) []dupForm {
	var out []dupForm
	for _, inv := range c.Invoices {
		if inv.key() == k && !slices.Contains(out, inv.form()) {
			out = append(out, inv.form())
		}
	}
	return out
}

func (c *dupClaim) evidence() map[string]any {
	return map[string]any{
		"claim_id":       c.ClaimID,
		"applicant_uscc": c.Applicant,
		"round":          c.Round,
		"submitted_on":   dupDate(c.SubmittedOn),
		"contracts":      c.Contracts,
		"invoices":       len(c.Invoices),
		"usage_amount":   yuan(c.UsageAmount),
		"requested":      yuan(c.Requested),
		"record":         c.Source + " " + c.ID,
	}
}

// latestClaimsInOrder reads the latest version of the claims q selects, in submission order.
func latestClaimsInOrder(ctx context.Context, rm voucherwatch.ReadModel, q voucherwatch.ClaimQuery) ([]*dupClaim, error) {
	stored, err := rm.LatestClaims(ctx, q)
	if err != nil {
		return nil, fmt.Errorf("detectors: %w", err)
	}
	out := make([]*dupClaim, len(stored))
	for i := range stored {
		out[i] = dupClaimOf(&stored[i])
	}
	sort.Slice(out, func(i, j int) bool { return out[i].before(out[j]) })
	return out, nil
}

func dupClaimOf(c *voucherwatch.StoredClaim) *dupClaim {
	d := &dupClaim{ClaimID: c.ClaimID, Applicant: c.ApplicantUSCC, Round: c.Round, SubmittedOn: c.SubmittedOn,
		Contracts: c.Contracts, UsageAmount: c.UsageAmount, Requested: c.Requested,
		EventTime: c.Time, Source: c.Source, ID: c.ID}
	for _, inv := range c.Invoices {
		d.Invoices = append(d.Invoices, dupInvoice{Code: inv.InvoiceCode, No: inv.InvoiceNo, Key: dupInvoiceKey(inv.CanonicalKey()), Amount: inv.Amount})
	}
	return d
}

// claimIndex finds claims by invoice and by (applicant, contract).
type claimIndex struct {
	claims     []*dupClaim // in submission order
	byInvoice  map[dupInvoiceKey][]*dupClaim
	byContract map[[2]string][]*dupClaim
}

func newClaimIndex(claims []*dupClaim) *claimIndex {
	ix := &claimIndex{claims: claims, byInvoice: map[dupInvoiceKey][]*dupClaim{}, byContract: map[[2]string][]*dupClaim{}}
	for _, c := range claims {
		seen := map[dupInvoiceKey]bool{}
		for _, inv := range c.Invoices {
			if k := inv.key(); !seen[k] {
				seen[k] = true
				ix.byInvoice[k] = append(ix.byInvoice[k], c)
			}
		}
		seenC := map[string]bool{}
		for _, no := range c.Contracts {
			if !seenC[no] {
				seenC[no] = true
				ix.byContract[[2]string{c.Applicant, no}] = append(ix.byContract[[2]string{c.Applicant, no}], c)
			}
		}
	}
	return ix
}

// claimIDs lists the claims of an applicant that cite a contract, for evidence.
func (ix *claimIndex) claimIDs(applicant, contractNo string) []string {
	var out []string
	for _, c := range ix.byContract[[2]string{applicant, contractNo}] {
		out = append(out, c.ClaimID)
	}
	return out
}

// invoiceClaimIDs lists the claims that cite an invoice, for evidence.
func (ix *claimIndex) invoiceClaimIDs(k dupInvoiceKey) []string {
	var out []string
	for _, c := range ix.byInvoice[k] {
		out = append(out, c.ClaimID)
	}
	return out
}

// dupSettlement is the current version of one invoice's settlement.
type dupSettlement struct {
	InvoiceCode, InvoiceNo string
	Key                    dupInvoiceKey
	SettlementID           string
	ContractNo             string
	Supplier, Buyer        string
	InvoiceDate, PaidOn    time.Time
	Amount                 voucherwatch.Money
	PaymentRef             string
	PayerAccount           string
	PayeeAccount           string
	EventTime              time.Time
}

func (s *dupSettlement) key() dupInvoiceKey { return s.Key }

func (s *dupSettlement) form() dupForm { return dupForm{s.InvoiceCode, s.InvoiceNo} }

func (s *dupSettlement) evidence() map[string]any {
	return map[string]any{
		"settlement_id": s.SettlementID,
		"invoice_code":  s.InvoiceCode,
		"invoice_no":    s.InvoiceNo,
		"contract_no":   s.ContractNo,
		"supplier_uscc": s.Supplier,
		"buyer_uscc":    s.Buyer,
		"invoice_date":  dupDate(s.InvoiceDate),
		"amount":        yuan(s.Amount),
		"payment_ref":   s.PaymentRef,
		"paid_on":       dupDate(s.PaidOn),
		"payer_account": s.PayerAccount,
		"payee_account": s.PayeeAccount,
	}
}

func dupSettlementOf(s *voucherwatch.StoredSettlement) *dupSettlement {
	return &dupSettlement{InvoiceCode: s.InvoiceCode, InvoiceNo: s.InvoiceNo, Key: dupInvoiceKey(s.CanonicalKey()), SettlementID: s.SettlementID,
		ContractNo: s.ContractNo, Supplier: s.SupplierUSCC, Buyer: s.BuyerUSCC, InvoiceDate: s.InvoiceDate,
		PaidOn: s.PaidOn, Amount: s.Amount, PaymentRef: s.PaymentRef, PayerAccount: s.PayerAccount,
		PayeeAccount: s.PayeeAccount, EventTime: s.Time}
}

// settlementsOf reads the latest settlements q selects, by invoice.
func settlementsOf(ctx context.Context, rm voucherwatch.ReadModel, q voucherwatch.SettlementQuery) (map[dupInvoiceKey]*dupSettlement, error) {
	ss, err := rm.LatestSettlements(ctx, q)
	if err != nil {
		return nil, fmt.Errorf("detectors: duplicate_claim: %w", err)
	}
	out := make(map[dupInvoiceKey]*dupSettlement, len(ss))
	for i := range ss {
		s := dupSettlementOf(&ss[i])
		out[s.key()] = s
	}
	return out, nil
}

// resubmissions finds claims that repeat an earlier claim of the same applicant: the same set
// of invoices (or, for a claim without invoices, the same contracts and amount). It returns the
// resubmitted claims with the claim each copies.
func (d *DuplicateClaim) resubmissions(ix *claimIndex, settled map[dupInvoiceKey]*dupSettlement) (map[string]*dupClaim, []finding) {
	first := map[string]*dupClaim{} // content key → earliest claim
	copies := map[string]*dupClaim{}
	var fs []finding
	for _, c := range ix.claims { // in submission order
		k := dupContentKey(c)
		if k == "" {
			continue
		}
		orig, ok := first[k]
		if !ok {
			first[k] = c
			continue
		}
		copies[c.ClaimID] = orig
		fs = append(fs, d.resubmissionFinding(c, orig, settled))
	}
	return copies, fs
}

// dupContentKey is what makes two claims of one applicant the same claim.
func dupContentKey(c *dupClaim) string {
	var parts []string
	if len(c.Invoices) > 0 {
		for _, inv := range c.Invoices {
			parts = append(parts, string(inv.key()))
		}
	} else if len(c.Contracts) > 0 {
		parts = append(parts, c.Contracts...)
		parts = append(parts, "amount:"+c.UsageAmount.String())
	} else {
		return ""
	}
	sort.Strings(parts)
	parts = slices.Compact(parts)
	return c.Applicant + "\x1e" + strings.Join(parts, "\x1f")
}

func (d *DuplicateClaim) resubmissionFinding(c, orig *dupClaim, settled map[dupInvoiceKey]*dupSettlement) finding {
	subj := voucherwatch.Subjects{ApplicantUSCC: c.Applicant, ClaimID: c.ClaimID}
	// The supplier and contract apply when every invoice settles one contract.
	pairs := map[[2]string]bool{}
	for _, inv := range c.Invoices {
		if s, ok := settled[inv.key()]; ok {
			pairs[[2]string{s.Supplier, s.ContractNo}] = true
		} else {
			pairs[[2]string{"", ""}] = true
		}
	}
	if len(pairs) == 1 {
		for p := range pairs {
			subj.SupplierUSCC, subj.ContractNo = p[0], p[1]
		}
	}
	if subj.ContractNo == "" && len(slices.Compact(slices.Sorted(slices.Values(c.Contracts)))) == 1 {
		subj.ContractNo = c.Contracts[0]
	}
	var invoices []string
	for _, inv := range c.Invoices {
		invoices = append(invoices, inv.form().String())
	}
	sameAmounts := c.UsageAmount == orig.UsageAmount && c.Requested == orig.Requested
	sameContracts := strings.Join(slices.Compact(slices.Sorted(slices.Values(c.Contracts))), ",") == strings.Join(slices.Compact(slices.Sorted(slices.Values(orig.Contracts))), ",")
	return finding{
		Detector:     voucherwatch.DetectorDuplicateClaim,
		Kind:         KindClaimResubmitted,
		Severity:     voucherwatch.SeverityHigh,
		Score:        0.95,
		Subjects:     subj,
		PolicyClause: dupClause,
		Title:        "同一申报更换编号重复提交",
		Reason: fmt.Sprintf("申报 %s（%s 提交）与同一单位 %s 此前的申报 %s（%s 提交）所附 %d 张发票完全相同，属更换申报编号重复申领，违反《实施细则》五.1 重复申领（M1b）的规定",
			c.ClaimID, dupDate(c.SubmittedOn), c.Applicant, orig.ClaimID, dupDate(orig.SubmittedOn), len(c.Invoices)),
		Evidence: map[string]any{
			"claim":          c.evidence(),
			"earlier_claim":  orig.evidence(),
			"invoices":       invoices,
			"same_contracts": sameContracts,
			"same_amounts":   sameAmounts,
		},
	}
}

// invoiceReuse finds invoices cited by several claims, and invoices a claim lists twice, among
// the invoices only (nil: every invoice). Resubmitted claims are compared with other claims,
// but not with the claim they copy.
func (d *DuplicateClaim) invoiceReuse(ix *claimIndex, settled map[dupInvoiceKey]*dupSettlement, copies map[string]*dupClaim, only map[dupInvoiceKey]bool) []finding {
	var fs []finding
	keys := make([]dupInvoiceKey, 0, len(ix.byInvoice))
	for k := range ix.byInvoice {
		if only == nil || only[k] {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	for _, k := range keys {
		cs := ix.byInvoice[k] // in submission order
		inCS := map[*dupClaim]bool{}
		for _, c := range cs {
			inCS[c] = true
		}
		// A copy citing the invoice of the claim it copies is reported as claim_resubmitted.
		var rs []*dupClaim
		for _, c := range cs {
			if o, ok := copies[c.ClaimID]; !ok || !inCS[o] {
				rs = append(rs, c)
			}
		}
		if len(rs) < 2 {
			continue
		}
		s := settled[k]
		rightful := rs[0]
		if s != nil {
			for _, c := range rs {
				if c.Applicant == s.Buyer {
					rightful = c
					break
				}
			}
		}
		for _, c := range rs {
			if c != rightful {
				fs = append(fs, d.invoiceFinding(k, c, rightful, cs, s))
			}
		}
	}
	for _, c := range ix.claims {
		count := map[dupInvoiceKey]int{}
		for _, inv := range c.Invoices {
			count[inv.key()]++
		}
		for _, inv := range c.Invoices {
			k := inv.key()
			if count[k] < 2 || only != nil && !only[k] {
				continue
			}
			n := count[k]
			count[k] = 0 // once per invoice
			fs = append(fs, d.repeatedFinding(k, n, c, settled[k]))
		}
	}
	return fs
}

// dupInvoiceSubjects names the invoice as its settlement writes it, or, unsettled, as the first
// claim citing it (first) does: the subjects, and so the alert's id, do not change with the form
// a later claim chose.
func dupInvoiceSubjects(k dupInvoiceKey, c, first *dupClaim, s *dupSettlement) voucherwatch.Subjects {
	f := first.formOf(k)
	if s != nil {
		f = s.form()
	}
	subj := voucherwatch.Subjects{ApplicantUSCC: c.Applicant, ClaimID: c.ClaimID, InvoiceCode: f.Code, InvoiceNo: f.No}
	if s != nil {
		subj.SupplierUSCC, subj.ContractNo = s.Supplier, s.ContractNo
	}
	return subj
}

// dupCitedForms lists the forms in which the records cite the invoice k when they differ (nil
// when every record writes it alike), and a sentence saying so for the reason.
func dupCitedForms(k dupInvoiceKey, s *dupSettlement, cs ...*dupClaim) ([]map[string]any, string) {
	var forms []dupForm
	var out []map[string]any
	var said []string
	add := func(who string, f dupForm, e map[string]any) {
		if !slices.Contains(forms, f) {
			forms = append(forms, f)
		}
		out = append(out, e)
		said = append(said, who+"写作 "+dupFormLabel(f))
	}
	if s != nil {
		e := s.form().evidence()
		e["settlement_id"] = s.SettlementID
		add("结算记录 "+s.SettlementID, s.form(), e)
	}
	seen := map[*dupClaim]bool{}
	for _, c := range cs {
		if seen[c] {
			continue
		}
		seen[c] = true
		for _, f := range c.formsOf(k) {
			e := f.evidence()
			e["claim_id"] = c.ClaimID
			add("申报 "+c.ClaimID, f, e)
		}
	}
	if len(forms) < 2 {
		return nil, ""
	}
	return out, fmt.Sprintf("；同一发票以不同写法引用（%s），规范化后均为 %s", strings.Join(said, "，"), string(k))
}

func (d *DuplicateClaim) invoiceFinding(k dupInvoiceKey, c, rightful *dupClaim, all []*dupClaim, s *dupSettlement) finding {
	subj := dupInvoiceSubjects(k, c, all[0], s)
	shown := dupForm{subj.InvoiceCode, subj.InvoiceNo}
	ev := map[string]any{
		"invoice":       shown.evidence(),
		"invoice_key":   string(k),
		"claim":         c.evidence(),
		"earlier_claim": rightful.evidence(),
		"claim_ids":     dupClaimIDs(all),
	}
	amt, _ := c.cites(k)
	ev["claimed_amount"] = yuan(amt)
	amtFirst, _ := rightful.cites(k)
	ev["earlier_claimed_amount"] = yuan(amtFirst)
	owner := "发票结算记录缺失"
	score := 0.9
	if s != nil {
		ev["settlement"] = s.evidence()
		ev["applicant_is_invoice_buyer"] = c.Applicant == s.Buyer
		owner = "发票购买方为 " + s.Buyer
		score = 0.95
	}
	forms, said := dupCitedForms(k, s, rightful, c)
	if forms != nil {
		ev["cited_forms"] = forms
	}
	if rightful.Round != c.Round && rightful.Round > 0 && c.Round > 0 {
		ev["earlier_round"] = rightful.Round
		said += fmt.Sprintf("；该发票已在第 %d 轮申报中使用，本申报为第 %d 轮", rightful.Round, c.Round)
	}
	return finding{
		Detector:     voucherwatch.DetectorDuplicateClaim,
		Kind:         KindInvoiceInTwoClaims,
		Severity:     voucherwatch.SeverityHigh,
		Score:        score,
		Subjects:     subj,
		PolicyClause: dupClause,
		Title:        "同一发票被两个申报重复使用",
		Reason: fmt.Sprintf("发票 %s（%s）同时出现在申报 %s（申报单位 %s，%s 提交）和申报 %s（申报单位 %s，%s 提交）中%s，违反《实施细则》五.1 重复申领（M1b）的规定",
			dupFormLabel(shown), owner, rightful.ClaimID, rightful.Applicant, dupDate(rightful.SubmittedOn),
			c.ClaimID, c.Applicant, dupDate(c.SubmittedOn), said),
		Evidence: ev,
	}
}

func (d *DuplicateClaim) repeatedFinding(k dupInvoiceKey, n int, c *dupClaim, s *dupSettlement) finding {
	var amounts []string
	for _, inv := range c.Invoices {
		if inv.key() == k {
			amounts = append(amounts, yuan(inv.Amount))
		}
	}
	subj := dupInvoiceSubjects(k, c, c, s)
	shown := dupForm{subj.InvoiceCode, subj.InvoiceNo}
	ev := map[string]any{
		"invoice":         shown.evidence(),
		"invoice_key":     string(k),
		"claim":           c.evidence(),
		"times_cited":     n,
		"claimed_amounts": amounts,
	}
	if s != nil {
		ev["settlement"] = s.evidence()
	}
	forms, said := dupCitedForms(k, s, c)
	if forms != nil {
		ev["cited_forms"] = forms
	}
	return finding{
		Detector:     voucherwatch.DetectorDuplicateClaim,
		Kind:         KindInvoiceRepeatedInClaim,
		Severity:     voucherwatch.SeverityHigh,
		Score:        0.9,
		Subjects:     subj,
		PolicyClause: dupClause,
		Title:        "同一发票在一份申报中重复列报",
		Reason: fmt.Sprintf("申报 %s（申报单位 %s）将发票 %s 列报 %d 次%s，同一结算金额被重复计入，违反《实施细则》五.1 重复申领（M1b）的规定",
			c.ClaimID, c.Applicant, dupFormLabel(shown), n, said),
		Evidence: ev,
	}
}

// paymentRefs finds payment references presented for more than one invoice (only refs, when
// not nil). Only the settlements of shared references come into Go.
func (d *DuplicateClaim) paymentRefs(ctx context.Context, ix *claimIndex, refs []string) ([]finding, error) {
	ss, err := d.env.reads().SettlementsSharingPaymentRef(ctx, refs)
	if err != nil {
		return nil, fmt.Errorf("detectors: duplicate_claim: %w", err)
	}
	return d.sharedRefFindings(ss, ix), nil
}

// sharedRefFindings groups settlements that share payment references (in the order
// SettlementsSharingPaymentRef returns them) and reports each reference's reuses.
func (d *DuplicateClaim) sharedRefFindings(ss []voucherwatch.StoredSettlement, ix *claimIndex) []finding {
	groups := map[string][]*dupSettlement{}
	var order []string
	for i := range ss {
		s := dupSettlementOf(&ss[i])
		if _, ok := groups[s.PaymentRef]; !ok {
			order = append(order, s.PaymentRef)
		}
		groups[s.PaymentRef] = append(groups[s.PaymentRef], s)
	}
	var fs []finding
	for _, ref := range order {
		fs = append(fs, d.paymentFindings(ref, groups[ref], ix)...)
	}
	return fs
}

// paymentFindings reports the contracts that reuse ref after its first (earliest paid)
// invoice, one finding per contract, named by its first reusing invoice. ss is in payment order.
func (d *DuplicateClaim) paymentFindings(ref string, ss []*dupSettlement, ix *claimIndex) []finding {
	orig := ss[0]
	type party struct{ buyer, supplier, contract string }
	var order []party
	reuses := map[party][]*dupSettlement{}
	for _, s := range ss[1:] {
		p := party{s.Buyer, s.Supplier, s.ContractNo}
		if _, ok := reuses[p]; !ok {
			order = append(order, p)
		}
		reuses[p] = append(reuses[p], s)
	}
	var all []map[string]any
	for _, s := range ss {
		e := s.evidence()
		e["claim_ids"] = ix.invoiceClaimIDs(s.key())
		all = append(all, e)
	}
	var fs []finding
	for _, p := range order {
		rs := reuses[p]
		first := rs[0]
		// One transfer may settle several invoices of one payer to one payee on one day.
		oneTransfer := true
		var why []string
		for _, s := range rs {
			if s.PayerAccount != orig.PayerAccount || s.Buyer != orig.Buyer {
				oneTransfer = false
				why = append(why, "付款方不同")
			}
			if s.PayeeAccount != orig.PayeeAccount || s.Supplier != orig.Supplier {
				oneTransfer = false
				why = append(why, "收款方不同")
			}
			if !s.PaidOn.Equal(orig.PaidOn) {
				oneTransfer = false
				why = append(why, "付款日期不同")
			}
		}
		sev, score := voucherwatch.SeverityHigh, 0.9
		note := strings.Join(slices.Compact(slices.Sorted(slices.Values(why))), "、")
		if oneTransfer {
			sev, score = voucherwatch.SeverityLow, 0.3
			note = "付款方、收款方和付款日期均相同，可能为一笔合并付款，请核对金额"
		}
		var reused []string
		for _, s := range rs {
			reused = append(reused, dupFormLabel(s.form()))
		}
		fs = append(fs, finding{
			Detector: voucherwatch.DetectorDuplicateClaim,
			Kind:     KindPaymentRefShared,
			Severity: sev,
			Score:    score,
			Subjects: voucherwatch.Subjects{ApplicantUSCC: p.buyer, SupplierUSCC: p.supplier, ContractNo: p.contract,
				InvoiceCode: first.InvoiceCode, InvoiceNo: first.InvoiceNo},
			PolicyClause: dupClause,
			Title:        "同一支付凭证对应多张发票",
			Reason: fmt.Sprintf("支付凭证 %s 已于 %s 用于支付发票 %s（付款方 %s），又被用作发票 %s（付款方 %s，合同 %s）的支付凭证（%s），疑似重复使用支付凭证，违反《实施细则》五.1 重复申领（M1b）的规定",
				ref, dupDate(orig.PaidOn), dupFormLabel(orig.form()), orig.Buyer, strings.Join(reused, "、"), p.buyer, p.contract, note),
			Evidence: map[string]any{
				"payment_ref":        ref,
				"first_settlement":   orig.evidence(),
				"reusing_invoices":   reused,
				"settlements":        all,
				"claims_on_contract": ix.claimIDs(p.buyer, p.contract),
				"one_transfer":       oneTransfer,
			},
		})
	}
	// The first holder of the reference learns that others present it: with low severity,
	// because the earlier payment is taken for the genuine one.
	if p := (party{orig.Buyer, orig.Supplier, orig.ContractNo}); reuses[p] == nil {
		var others []string
		for _, s := range ss[1:] {
			others = append(others, dupFormLabel(s.form())+"（付款方 "+s.Buyer+"）")
		}
		fs = append(fs, finding{
			Detector: voucherwatch.DetectorDuplicateClaim,
			Kind:     KindPaymentRefShared,
			Severity: voucherwatch.SeverityLow,
			Score:    0.3,
			Subjects: voucherwatch.Subjects{ApplicantUSCC: p.buyer, SupplierUSCC: p.supplier, ContractNo: p.contract,
				InvoiceCode: orig.InvoiceCode, InvoiceNo: orig.InvoiceNo},
			PolicyClause: dupClause,
			Title:        "支付凭证被其他发票重复使用",
			Reason: fmt.Sprintf("发票 %s 的支付凭证 %s（%s 付款）又出现在其他发票 %s 上；本发票付款在先，按原始付款对待，请核实是否知情，依据《实施细则》五.1 重复申领（M1b）",
				dupFormLabel(orig.form()), ref, dupDate(orig.PaidOn), strings.Join(others, "、")),
			Evidence: map[string]any{
				"payment_ref":        ref,
				"first_settlement":   orig.evidence(),
				"settlements":        all,
				"claims_on_contract": ix.claimIDs(p.buyer, p.contract),
			},
		})
	}
	return fs
}

// dupTenancy is one buyer's use of a resource under one contract.
type dupTenancy struct {
	Buyer, Contract string
	Start, End      time.Time
	MaxCards        int
	Windows         int
}

type dupResourceKey struct{ Supplier, Resource string }

// dupOverlap is the overlap of two tenancies of one resource.
type dupOverlap struct {
	A, B             *dupTenancy
	Windows          int
	Seconds          int64
	First, Last      time.Time
	CardHoursA       float64
	CardHoursB       float64
	PeakCards        int
	resourceMaxCards int
}

// resourceOverlaps finds resources metered to two buyers at once. The join runs in ClickHouse
// over the few resources whose tenancies overlap at all; only the overlaps come into Go.
func (d *DuplicateClaim) resourceOverlaps(ctx context.Context, ix *claimIndex) ([]finding, error) {
	rm := d.env.reads()
	ts, err := rm.ResourceTenancies(ctx)
	if err != nil {
		return nil, fmt.Errorf("detectors: duplicate_claim: %w", err)
	}
	tenancies := map[dupResourceKey]map[[2]string]*dupTenancy{}
	for _, x := range ts {
		k := dupResourceKey{x.SupplierUSCC, x.ResourceID}
		t := &dupTenancy{Buyer: x.BuyerUSCC, Contract: x.ContractNo, Start: x.Start, End: x.End, MaxCards: x.MaxCards, Windows: x.Windows}
		if tenancies[k] == nil {
			tenancies[k] = map[[2]string]*dupTenancy{}
		}
		tenancies[k][[2]string{t.Buyer, t.Contract}] = t
	}
	ovs, err := rm.TenancyOverlaps(ctx)
	if err != nil {
		return nil, fmt.Errorf("detectors: duplicate_claim: %w", err)
	}
	// The later tenancy of each overlapping pair is the one sold twice; a tenancy may overlap
	// several earlier ones.
	type later struct {
		key dupResourceKey
		t   *dupTenancy
	}
	var order []later
	byLater := map[later][]*dupOverlap{}
	for _, x := range ovs {
		k := dupResourceKey{x.SupplierUSCC, x.ResourceID}
		ta, tb := tenancies[k][[2]string{x.BuyerA, x.ContractA}], tenancies[k][[2]string{x.BuyerB, x.ContractB}]
		if ta == nil || tb == nil {
			continue // usage arrived between the two queries; the next run sees it
		}
		maxCards := 0
		for _, t := range tenancies[k] {
			maxCards = max(maxCards, t.MaxCards)
		}
		o := &dupOverlap{A: ta, B: tb, Windows: x.Windows, Seconds: x.Seconds, First: x.First, Last: x.Last,
			CardHoursA: x.CardHoursA, CardHoursB: x.CardHoursB, PeakCards: x.PeakCards, resourceMaxCards: maxCards}
		// The tenancy that began later intruded on the other; when both began together, both
		// are reported.
		var ls []*dupTenancy
		switch {
		case ta.Start.After(tb.Start):
			ls = []*dupTenancy{ta}
		case tb.Start.After(ta.Start):
			ls = []*dupTenancy{tb}
		default:
			ls = []*dupTenancy{ta, tb}
		}
		for _, t := range ls {
			l := later{k, t}
			if _, ok := byLater[l]; !ok {
				order = append(order, l)
			}
			byLater[l] = append(byLater[l], o)
		}
	}
	var fs []finding
	for _, l := range order {
		ovs := byLater[l]
		// Earlier tenants in the order they began, for evidence that does not change between runs.
		sort.Slice(ovs, func(i, j int) bool {
			a, b := ovs[i].other(l.t), ovs[j].other(l.t)
			if !a.Start.Equal(b.Start) {
				return a.Start.Before(b.Start)
			}
			return a.Buyer+a.Contract < b.Buyer+b.Contract
		})
		fs = append(fs, d.overlapFinding(l.key, l.t, ovs, ix))
	}
	return fs, nil
}

// other is the tenancy of the overlap that is not t.
func (o *dupOverlap) other(t *dupTenancy) *dupTenancy {
	if o.A == t {
		return o.B
	}
	return o.A
}

func (d *DuplicateClaim) overlapFinding(k dupResourceKey, t *dupTenancy, ovs []*dupOverlap, ix *claimIndex) finding {
	var (
		secs        int64
		overCommit  bool
		others      []map[string]any
		otherNames  []string
		first, last time.Time
		doubled     float64
	)
	for _, o := range ovs {
		other, myCH, otherCH := o.B, o.CardHoursA, o.CardHoursB
		if o.B == t {
			other, myCH, otherCH = o.A, o.CardHoursB, o.CardHoursA
		}
		secs += o.Seconds
		if first.IsZero() || o.First.Before(first) {
			first = o.First
		}
		if o.Last.After(last) {
			last = o.Last
		}
		// More cards metered at once than the resource was ever let whole: the same cards
		// were sold twice. Otherwise the resource may be a cluster split between tenants.
		if o.PeakCards > o.resourceMaxCards {
			overCommit = true
		}
		doubled += min(myCH, otherCH)
		otherNames = append(otherNames, other.Buyer+"（合同 "+other.Contract+"）")
		others = append(others, map[string]any{
			"buyer_uscc":                  other.Buyer,
			"contract_no":                 other.Contract,
			"tenancy_start":               dupStamp(other.Start),
			"tenancy_end":                 dupStamp(other.End),
			"cards":                       other.MaxCards,
			"claims":                      ix.claimIDs(other.Buyer, other.Contract),
			"overlapping_window_pairs":    o.Windows,
			"overlap_hours":               voucherwatch.RoundTo(float64(o.Seconds)/3600, 1),
			"overlap_from":                dupStamp(o.First),
			"overlap_to":                  dupStamp(o.Last),
			"card_hours_in_overlap":       voucherwatch.RoundTo(myCH, 3),
			"other_card_hours_in_overlap": voucherwatch.RoundTo(otherCH, 3),
			"peak_cards_metered":          o.PeakCards,
		})
	}
	hours := float64(secs) / 3600
	sev, score := voucherwatch.SeverityHigh, 0.9
	switch {
	case time.Duration(secs)*time.Second < dupMinOverlap:
		sev, score = voucherwatch.SeverityLow, 0.2
	case !overCommit:
		sev, score = voucherwatch.SeverityMedium, 0.6
	}
	return finding{
		Detector: voucherwatch.DetectorDuplicateClaim,
		Kind:     KindResourceTwoTenantsOverlap,
		Severity: sev,
		Score:    score,
		Subjects: voucherwatch.Subjects{ApplicantUSCC: t.Buyer, SupplierUSCC: k.Supplier, ContractNo: t.Contract,
			ResourceID: k.Resource},
		PolicyClause: dupClause,
		Title:        "同一算力资源同时计量给两个用户",
		Reason: fmt.Sprintf("供给方 %s 的资源 %s 在 %s 至 %s 期间同时计量给 %s（合同 %s）和 %s，重叠 %.1f 小时，约 %.1f 卡时被重复销售，违反《实施细则》五.1 重复申领（M1b）的规定",
			k.Supplier, k.Resource, first.In(voucherwatch.CST).Format("2006-01-02 15:04"), last.In(voucherwatch.CST).Format("2006-01-02 15:04"), t.Buyer, t.Contract, strings.Join(otherNames, "、"), hours, doubled),
		Evidence: map[string]any{
			"supplier_uscc": k.Supplier,
			"resource_id":   k.Resource,
			"tenancy": map[string]any{
				"buyer_uscc":    t.Buyer,
				"contract_no":   t.Contract,
				"tenancy_start": dupStamp(t.Start),
				"tenancy_end":   dupStamp(t.End),
				"cards":         t.MaxCards,
				"windows":       t.Windows,
				"claims":        ix.claimIDs(t.Buyer, t.Contract),
			},
			"earlier_tenants":          others,
			"overlap_hours":            voucherwatch.RoundTo(hours, 1),
			"card_hours_sold_twice":    voucherwatch.RoundTo(doubled, 3),
			"more_cards_than_resource": overCommit,
		},
	}
}

func dupFormLabel(f dupForm) string {
	if f.Code == "" {
		return "号码 " + f.No
	}
	return "代码 " + f.Code + " 号码 " + f.No
}

func dupClaimIDs(cs []*dupClaim) []string {
	out := make([]string, len(cs))
	for i, c := range cs {
		out[i] = c.ClaimID
	}
	return out
}

// dupDate formats a stored date; ClickHouse's zero date is no date.
func dupDate(t time.Time) string {
	if t.IsZero() || t.Year() <= 1970 {
		return ""
	}
	return t.Format(time.DateOnly)
}

func dupStamp(t time.Time) string { return t.In(voucherwatch.CST).Format(time.RFC3339) }
