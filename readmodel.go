package voucherwatch

import (
	"cmp"
	"context"
	"slices"
	"time"
)

// InvoiceKey identifies an invoice nationally: its code and number, never the number alone
// (paper-era numbers repeat under different codes; fully digital invoices have no code).
type InvoiceKey struct {
	Code string
	No   string
}

// Canonical returns the invoice's canonical key (CanonicalInvoice): look-ups and comparisons
// go by it, so that one invoice cited in two forms is found either way.
func (k InvoiceKey) Canonical() string {
	c, _ := CanonicalInvoice(k.Code, k.No)
	return c
}

// StoredClaim is the stored version of a claim: the claim and the envelope it arrived in.
type StoredClaim struct {
	Envelope
	Claim
}

// StoredSettlement is the stored version of a settlement and the envelope it arrived in.
type StoredSettlement struct {
	Envelope
	Settlement
}

// StoredEntity is the stored version of a registry record and the envelope it arrived in.
type StoredEntity struct {
	Envelope
	Entity
}

// TradingPair is a buyer and a supplier that trade: under a contract or a settlement (any
// version), with the contract numbers and the claims citing them (sorted).
type TradingPair struct {
	Buyer, Supplier string
	Contracts       []string
	Claims          []string
}

// PairQuery selects trading pairs; the fields combine with OR, and a zero query selects none.
type PairQuery struct {
	All     bool
	Pairs   [][2]string // (buyer, supplier)
	Buyers  []string    // pairs with one of these as the buyer
	Parties []string    // pairs with one of these on either side
}

// IsZero reports whether q selects nothing.
func (q PairQuery) IsZero() bool {
	return !q.All && len(q.Pairs) == 0 && len(q.Buyers) == 0 && len(q.Parties) == 0
}

// StoredContract is the stored version of a contract and the envelope it arrived in.
type StoredContract struct {
	Envelope
	Contract
}

// ContractSettled is what the latest settlements of one deal (supplier, buyer, contract
// number) add up to.
type ContractSettled struct {
	SupplierUSCC, BuyerUSCC, ContractNo string
	Invoices                            int
	Settled                             Money
}

// ClaimYearPurchase is what a claim's applicant bought in the twelve months up to the claim
// (invoice or signing date after YearStart and at most SubmittedOn), counting the items of the
// given service types as compute.
type ClaimYearPurchase struct {
	ClaimID, ApplicantUSCC string
	Round                  int
	SubmittedOn, YearStart time.Time
	Compute, Total         Money    // settled: compute items, and everything
	Invoices               int      // settled invoices
	Contracts, Suppliers   []string // of the settled invoices, sorted
	Contracted             Money    // compute items of the contracts signed by the claim and serving in the year
	ContractsInYear        []string // sorted
}

// ContractQuery selects contracts by (supplier, contract_no); a zero query selects none.
type ContractQuery struct {
	All       bool
	Contracts [][2]string // (supplier USCC, contract number)
	// Numbers selects every supplier's contracts of these numbers, as a claim cites them
	// (without the supplier). Only LatestContracts reads it.
	Numbers []string
	// From and To, when set, are the first and last days wanted (dates). Only
	// ContractUsageDays reads them.
	From, To time.Time
}

// IsZero reports whether q selects nothing.
func (q ContractQuery) IsZero() bool { return !q.All && len(q.Contracts) == 0 && len(q.Numbers) == 0 }

// DealQuery selects deals, each (supplier, buyer, contract number) that a contract's latest
// version or an invoice's latest settlement names. The fields combine with OR and apply to
// the latest versions; a zero query selects none.
type DealQuery struct {
	Suppliers      []string    // the deals these enterprises sell
	Buyers         []string    // the deals these enterprises buy
	Contracts      [][2]string // (supplier USCC, contract number): the deals of these contracts, any buyer
	BuyerContracts [][2]string // (buyer USCC, contract number), as a claim cites a contract
}

// IsZero reports whether q selects nothing.
func (q DealQuery) IsZero() bool {
	return len(q.Suppliers) == 0 && len(q.Buyers) == 0 && len(q.Contracts) == 0 && len(q.BuyerContracts) == 0
}

// Matches reports whether q selects the deal (supplier, buyer, contract number).
func (q DealQuery) Matches(supplier, buyer, contractNo string) bool {
	return slices.Contains(q.Suppliers, supplier) || slices.Contains(q.Buyers, buyer) ||
		slices.Contains(q.Contracts, [2]string{supplier, contractNo}) || slices.Contains(q.BuyerContracts, [2]string{buyer, contractNo})
}

// Deal is one (supplier, buyer, contract number) as the latest contracts and settlements show
// it: the contract's latest version when it names this buyer, and what the latest settlements
// of the deal add up to.
type Deal struct {
	SupplierUSCC, BuyerUSCC, ContractNo string
	Contract                            *StoredContract // nil: only settlements name the deal
	Invoices                            int
	Settled                             Money
}

// PricedItem is a priced line (card-hour, card-month or million-token unit, price above zero)
// of a contract's latest version, or the distinct priced lines of its invoices' latest
// settlements: one per chip model, unit and price, with the invoices carrying it.
type PricedItem struct {
	SupplierUSCC, ContractNo, BuyerUSCC string
	// Signed is the contract's signing date, or for settlement lines the earliest period
	// start of the invoices carrying the price.
	Signed      time.Time
	ChipModel   string
	ChipOrigin  string
	ServiceType string
	Unit        string
	UnitPrice   Money
	Cards       int      // the most cards of the lines
	Invoices    []string // settlement lines: "code/no" (or "no"), sorted, at most 20
}

// Key is the invoice the settlement settles.
func (s *StoredSettlement) Key() InvoiceKey { return InvoiceKey{s.InvoiceCode, s.InvoiceNo} }

// ClaimQuery selects claims by their latest version. The fields combine with OR: a claim
// matches when its latest version matches any of them. A zero query selects none, so that an
// empty set of keys never reads the whole table.
type ClaimQuery struct {
	All        bool         // every claim
	IDs        []string     // these claim_ids
	Applicants []string     // every claim of these applicants
	Invoices   []InvoiceKey // claims citing any of these invoices
	// ContractNumbers selects the claims citing any of these contract numbers (as claims
	// cite them, without the supplier). No key holds them: the claims' contract_no column
	// is read.
	ContractNumbers []string
}

// IsZero reports whether q selects nothing.
func (q ClaimQuery) IsZero() bool {
	return !q.All && len(q.IDs) == 0 && len(q.Applicants) == 0 && len(q.Invoices) == 0 && len(q.ContractNumbers) == 0
}

// SettlementQuery selects settlements by their latest version (one per invoice). The fields
// combine with OR. A zero query selects none.
type SettlementQuery struct {
	All      bool         // every settlement
	Invoices []InvoiceKey // these invoices
	// BuyerContracts are (buyer USCC, contract number) pairs: the settlements of these
	// contracts from the buyer's side, as a claim cites them.
	BuyerContracts [][2]string
	// CitedByClaims selects the invoices that some stored claim cites.
	CitedByClaims bool
	// InvoiceNos selects invoices by number under any code, so that a number cited under
	// the wrong code can be pointed out.
	InvoiceNos []string
	// NumbersCitedByClaims selects the invoices whose numbers some stored claim cites, under
	// any code.
	NumbersCitedByClaims bool
	// Contracts are (supplier USCC, contract number) pairs: the settlements of these
	// contracts, whatever their buyer, through the supplier prefix of the settlements' key.
	Contracts [][2]string
	// Suppliers selects every settlement of these suppliers (the supplier prefix of the
	// settlements' key); the latest version is the latest among the supplier's own.
	Suppliers []string
}

// IsZero reports whether q selects nothing.
func (q SettlementQuery) IsZero() bool {
	return !q.All && len(q.Invoices) == 0 && len(q.BuyerContracts) == 0 && !q.CitedByClaims &&
		len(q.InvoiceNos) == 0 && !q.NumbersCitedByClaims && len(q.Contracts) == 0 && len(q.Suppliers) == 0
}

// ContractClaims names the claims that cite one contract from its buyer's side: the contract
// number itself, or an invoice the buyer was invoiced under it.
type ContractClaims struct {
	BuyerUSCC, ContractNo string
	ClaimIDs              []string // sorted
}

// ReadModel is what detectors read of the stored records: the latest version of each record,
// keyed look-ups of the subjects a new record touches, and rollups. A record's latest version
// is the one with the newest envelope time (ties: the greatest source, then id), so every
// reader agrees on it. Dates come back as midnight CST, a missing date as the zero time.
// Methods return errors from the database as they come, wrapped with their layer.
type ReadModel interface {
	// LatestClaims returns the latest version of each claim q selects, in no given order.
	LatestClaims(ctx context.Context, q ClaimQuery) ([]StoredClaim, error)
	// LatestSettlements returns the latest settlement of each invoice q selects, sorted by
	// invoice code and number.
	LatestSettlements(ctx context.Context, q SettlementQuery) ([]StoredSettlement, error)
	// SettlementsSharingPaymentRef returns the latest settlements whose payment reference
	// is non-empty and also on another invoice's latest settlement, ordered by reference, then
	// payment date, envelope time and invoice. refs, when not nil, restricts the answer to
	// those references.
	SettlementsSharingPaymentRef(ctx context.Context, refs []string) ([]StoredSettlement, error)
	// ClaimYearPurchases returns the purchases in the year before each latest claim whose
	// applicant's settled compute is below, in no given order.
	ClaimYearPurchases(ctx context.Context, computeServices []string, below Money) ([]ClaimYearPurchase, error)
	// ClaimYearPurchasesOf is ClaimYearPurchases of the claims q selects, by keyed look-ups.
	ClaimYearPurchasesOf(ctx context.Context, computeServices []string, below Money, q ClaimQuery) ([]ClaimYearPurchase, error)
	// ClaimsCitingContracts returns, per (buyer, contract number), the latest claims citing
	// the contract, in no given order.
	ClaimsCitingContracts(ctx context.Context) ([]ContractClaims, error)
	// ClaimsCitingContractsOf returns what ClaimsCitingContracts returns of these buyers'
	// contracts, by keyed look-ups.
	ClaimsCitingContractsOf(ctx context.Context, buyers []string) ([]ContractClaims, error)
	// Cities maps every enterprise's USCC to the 市州 code of its latest registry version.
	Cities(ctx context.Context) (map[string]string, error)
	UsageReader
	RealUseReader
	// LatestEntities returns the latest registry version of every enterprise, in no given
	// order.
	LatestEntities(ctx context.Context) ([]StoredEntity, error)
	// LatestEntitiesOf returns the latest registry version of each of these enterprises the
	// registry holds, in no given order.
	LatestEntitiesOf(ctx context.Context, usccs []string) ([]StoredEntity, error)
	// TradingPairs returns the pairs q selects, sorted by buyer, then supplier.
	TradingPairs(ctx context.Context, q PairQuery) ([]TradingPair, error)
	// LatestContracts returns the latest version of each contract q selects, sorted by
	// supplier and contract number.
	LatestContracts(ctx context.Context, q ContractQuery) ([]StoredContract, error)
	// SettledByContract adds up the latest settlement of every invoice by deal, in no given
	// order.
	SettledByContract(ctx context.Context) ([]ContractSettled, error)
	// ContractPricedItems returns the priced items of the latest version of the contracts q
	// selects, in no given order.
	ContractPricedItems(ctx context.Context, q ContractQuery) ([]PricedItem, error)
	// SettledPricedItems returns, per contract q selects, the distinct priced items of the
	// latest settlements naming it, in no given order.
	SettledPricedItems(ctx context.Context, q ContractQuery) ([]PricedItem, error)
	// LatestDeals returns the deals q selects, by keyed look-ups of the contracts and
	// settlements, sorted by supplier, buyer and contract number.
	LatestDeals(ctx context.Context, q DealQuery) ([]Deal, error)
}

// Changes names the subjects of records stored since the last check, so that detectors can
// check what a new record touches instead of everything. Add it up with Add; merge with Merge.
type Changes struct {
	Claims      map[string]bool     // claim_ids of new claim versions
	Invoices    map[InvoiceKey]bool // invoices of new settlement versions
	Contracts   map[[2]string]bool  // (supplier, contract_no) of new contract and settlement versions
	Pairs       map[[2]string]bool  // (buyer, supplier) of new contract and settlement versions
	Enterprises map[string]bool     // USCCs of new registry versions
	Usage       int                 // usage records, which full sweeps read through rollups
}

// Add records the subjects of recs.
func (c *Changes) Add(recs []Record) {
	for i := range recs {
		r := &recs[i]
		switch {
		case r.Claim != nil:
			setAdd(&c.Claims, r.Claim.ClaimID)
		case r.Settlement != nil:
			setAdd(&c.Invoices, InvoiceKey{r.Settlement.InvoiceCode, r.Settlement.InvoiceNo})
			setAdd(&c.Pairs, [2]string{r.Settlement.BuyerUSCC, r.Settlement.SupplierUSCC})
			setAdd(&c.Contracts, [2]string{r.Settlement.SupplierUSCC, r.Settlement.ContractNo})
		case r.Contract != nil:
			setAdd(&c.Contracts, [2]string{r.Contract.SupplierUSCC, r.Contract.ContractNo})
			setAdd(&c.Pairs, [2]string{r.Contract.BuyerUSCC, r.Contract.SupplierUSCC})
		case r.Entity != nil:
			setAdd(&c.Enterprises, r.Entity.USCC)
		case r.Usage != nil:
			c.Usage++
		}
	}
}

// Merge adds o's subjects to c.
func (c *Changes) Merge(o Changes) {
	for k := range o.Claims {
		setAdd(&c.Claims, k)
	}
	for k := range o.Invoices {
		setAdd(&c.Invoices, k)
	}
	for k := range o.Contracts {
		setAdd(&c.Contracts, k)
	}
	for k := range o.Enterprises {
		setAdd(&c.Enterprises, k)
	}
	for k := range o.Pairs {
		setAdd(&c.Pairs, k)
	}
	c.Usage += o.Usage
}

// Empty reports whether nothing changed.
func (c Changes) Empty() bool {
	return len(c.Claims) == 0 && len(c.Invoices) == 0 && len(c.Contracts) == 0 && len(c.Enterprises) == 0 && c.Usage == 0
}

// Subjects counts the keyed subjects (claims, invoices, contracts, enterprises).
func (c Changes) Subjects() int {
	return len(c.Claims) + len(c.Invoices) + len(c.Contracts) + len(c.Enterprises)
}

// PairList returns the changed trading pairs, sorted.
func (c Changes) PairList() [][2]string {
	out := make([][2]string, 0, len(c.Pairs))
	for k := range c.Pairs {
		out = append(out, k)
	}
	slices.SortFunc(out, func(a, b [2]string) int {
		if a[0] != b[0] {
			return cmp.Compare(a[0], b[0])
		}
		return cmp.Compare(a[1], b[1])
	})
	return out
}

// ContractList returns the changed contracts (supplier, contract_no), sorted.
func (c Changes) ContractList() [][2]string {
	out := make([][2]string, 0, len(c.Contracts))
	for k := range c.Contracts {
		out = append(out, k)
	}
	slices.SortFunc(out, func(a, b [2]string) int {
		if a[0] != b[0] {
			return cmp.Compare(a[0], b[0])
		}
		return cmp.Compare(a[1], b[1])
	})
	return out
}

// EnterpriseList returns the changed enterprises' USCCs, sorted.
func (c Changes) EnterpriseList() []string { return sortedKeys(c.Enterprises) }

// ClaimIDs returns the changed claims' ids, sorted.
func (c Changes) ClaimIDs() []string { return sortedKeys(c.Claims) }

// InvoiceKeys returns the changed settlements' invoices, sorted.
func (c Changes) InvoiceKeys() []InvoiceKey {
	out := make([]InvoiceKey, 0, len(c.Invoices))
	for k := range c.Invoices {
		out = append(out, k)
	}
	slices.SortFunc(out, func(a, b InvoiceKey) int {
		if a.Code != b.Code {
			return cmp.Compare(a.Code, b.Code)
		}
		return cmp.Compare(a.No, b.No)
	})
	return out
}

func sortedKeys[K ~string](m map[K]bool) []K {
	out := make([]K, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

func setAdd[K comparable](m *map[K]bool, k K) {
	if *m == nil {
		*m = map[K]bool{}
	}
	(*m)[k] = true
}

// IncrementalDetector is a detector that can also check only what changed: the alerts that
// records with the changed subjects raise or alter, each exactly as Run would return it, with
// work bounded by the subjects and their neighbourhood rather than by the history.
type IncrementalDetector interface {
	Detector
	// Check returns the current findings about the changed subjects as of at.
	Check(ctx context.Context, at time.Time, changed Changes) ([]Alert, error)
}

// InvoiceMetering compares one invoice's billed card-hours (card-months converted) with the
// card-hours metered for its contract over its service period: the usage windows overlapping
// the period, each counted by its share of hours inside, a window reported twice counted once.
type InvoiceMetering struct {
	SupplierUSCC, ContractNo, BuyerUSCC string
	Invoice                             InvoiceKey
	PeriodStart, PeriodEnd              time.Time // dates
	Billed, Metered                     float64   // card-hours
	Windows                             int       // windows overlapping the period
	FirstWindowStart, LastWindowEnd     time.Time // of those windows
	LongestWindow                       time.Duration
	// From and To are the period as instants: its first day's start and its last day's end.
	From, To time.Time
}

// CapacityPeak is the most cards of one chip a supplier metered at once, against the cards
// of that chip its latest registry version declares (chips compared lower-case without
// spaces).
type CapacityPeak struct {
	SupplierUSCC, ChipKey, ChipModel string
	Capacity, Peak                   int
	PeakAt, FirstOver                time.Time
	Over                             time.Duration // metered above capacity, in all
}

// TenantCards is a tenant's part of a supplier's metered cards at one instant.
type TenantCards struct {
	BuyerUSCC, ContractNo string
	Cards, Resources      int
}

// Tenancy is one buyer's use of a metered resource under one contract.
type Tenancy struct {
	SupplierUSCC, ResourceID, BuyerUSCC, ContractNo string
	Start, End                                      time.Time
	MaxCards, Windows                               int
}

// TenancyOverlap sums the overlapping windows of two tenancies (buyer A < buyer B) of one
// resource: the seconds of overlap, each side's card-hours pro rata within them, and the most
// cards metered at once.
type TenancyOverlap struct {
	SupplierUSCC, ResourceID string
	BuyerA, ContractA        string
	BuyerB, ContractB        string
	Windows                  int
	Seconds                  int64
	First, Last              time.Time
	CardHoursA, CardHoursB   float64
	PeakCards                int
}

// TradeLine is what one contract (or its invoices) trades of one chip (or service): summed
// card-hours, card-months and million tokens, and the amount.
type TradeLine struct {
	Seller, Buyer, ContractNo string
	Signed, Start, End        time.Time // contracts: signing and service dates; invoices: periods
	Chip, Service             string
	CardHours, CardMonths     float64
	Tokens                    float64
	Amount                    Money
	Invoices                  int
}

// ContractUsage is the metered use of one bought contract, each resource window once, and the
// windows in which other organisations logged in.
type ContractUsage struct {
	BuyerUSCC, SupplierUSCC, ContractNo string
	Windows                             int
	CardHours                           float64
	OtherWindows                        int
	OtherCardHours                      float64
	Logins                              map[string]int // other organisation → windows
}

// PartyCapacity is what the registry says of a party to a resale: its name, whether it is a
// registered supplier, and its declared cards by chip model as given.
type PartyCapacity struct {
	Name               string
	RegisteredSupplier bool
	ChipModels         []string
	Cards              []int
}

// ResaleFacts are the records resale weighs: what the enterprises that sell compute bought and
// sold, their metered use and logins, their claims and registry facts.
type ResaleFacts struct {
	Bought, Sold, Settled []TradeLine
	Usage                 []ContractUsage
	Claims                map[[2]string][]string // (applicant, contract) → claim ids, sorted
	Parties               map[string]PartyCapacity
}

// UsageReader is the part of the read model that reads usage: the sweeps that compare metering
// with billing, capacity and other tenants.
type UsageReader interface {
	// InvoiceMeterings compares every latest settlement with a service period and billed
	// card-hours with the metering of its contract.
	InvoiceMeterings(ctx context.Context, cardMonthHours float64) ([]InvoiceMetering, error)
	// InvoiceMeteringsOf is InvoiceMeterings of the invoices of these contracts (supplier,
	// contract number) and of the contracts any version of these invoices named, by keyed
	// look-ups.
	InvoiceMeteringsOf(ctx context.Context, cardMonthHours float64, contracts [][2]string, invoices []InvoiceKey) ([]InvoiceMetering, error)
	// CapacityPeaks returns, per supplier and chip, the peak of metered cards where it
	// exceeds the registered capacity.
	CapacityPeaks(ctx context.Context) ([]CapacityPeak, error)
	// CapacityPeaksOf is CapacityPeaks of these suppliers, by keyed look-ups.
	CapacityPeaksOf(ctx context.Context, suppliers []string) ([]CapacityPeak, error)
	// TenantsAt returns who was metered on a supplier's chip at an instant, sorted.
	TenantsAt(ctx context.Context, supplier, chipKey string, at time.Time) ([]TenantCards, error)
	// TenantsAtPeaks is TenantsAt at every peak's instant (PeakAt) in one read: the i-th
	// list is the i-th peak's.
	TenantsAtPeaks(ctx context.Context, peaks []CapacityPeak) ([][]TenantCards, error)
	// ResourceTenancies returns the tenancies of every resource that two buyers used in
	// overlapping spans.
	ResourceTenancies(ctx context.Context) ([]Tenancy, error)
	// TenancyOverlaps returns the overlaps of those tenancies.
	TenancyOverlaps(ctx context.Context) ([]TenancyOverlap, error)
	// ResaleFacts reads what the resale detector weighs.
	ResaleFacts(ctx context.Context) (ResaleFacts, error)
	// ResaleFactsOf is ResaleFacts of the purchases of the enterprises given (as buyers),
	// with their sales and invoices as sellers, read by the enterprise, without the metered
	// use of the purchases (PurchaseUse).
	ResaleFactsOf(ctx context.Context, enterprises []string) (ResaleFacts, error)
	// PurchaseUse returns the metered use of purchases, each (buyer, supplier, contract_no).
	PurchaseUse(ctx context.Context, purchases [][3]string) ([]ContractUsage, error)
}
