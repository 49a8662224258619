package voucherwatch

import (
	"strconv"
	"strings"
	"time"
)

// RecordType is the CloudEvents `type` of a record.
type RecordType string

// The record types of the wire contract.
const (
	TypeRegistry   RecordType = "registry.entity.v1"
	TypeContract   RecordType = "contract.v1"
	TypeSettlement RecordType = "settlement.v1"
	TypeUsage      RecordType = "usage.v1"
	TypeClaim      RecordType = "claim.v1"
)

// RecordTypes lists every record type in the order the engine ingests them.
var RecordTypes = []RecordType{TypeRegistry, TypeContract, TypeSettlement, TypeUsage, TypeClaim}

// DefaultTopics maps each record type to its default Kafka topic.
var DefaultTopics = map[RecordType]string{
	TypeRegistry:   "vw.registry",
	TypeContract:   "vw.contracts",
	TypeSettlement: "vw.settlements",
	TypeUsage:      "vw.usage",
	TypeClaim:      "vw.claims",
}

// DefaultDeadLetterTopic receives every message the engine could not accept.
const DefaultDeadLetterTopic = "vw.deadletter"

// Envelope is the CloudEvents 1.0 header of a record. (Source, ID) identifies the record: a
// redelivered or re-sent record with the same pair is the same record.
type Envelope struct {
	Source string
	ID     string
	Type   RecordType
	Time   time.Time
}

// Origin says where in Kafka a record was read, for evidence and dead letters.
type Origin struct {
	Topic     string
	Partition int
	Offset    int64
}

// Record is one decoded, validated record: its envelope and exactly one non-nil body, the one
// named by Envelope.Type.
type Record struct {
	Envelope
	Origin     Origin
	Entity     *Entity
	Contract   *Contract
	Settlement *Settlement
	Usage      *Usage
	Claim      *Claim
}

// Money is an amount in fen (0.01 yuan). The wire carries yuan as decimal strings with at most
// two decimals, so fen represent every wire amount exactly; floats never hold money.
type Money int64

// String formats m as yuan with two decimals, the wire form: "128000.00".
func (m Money) String() string {
	neg := m < 0
	if neg {
		m = -m
	}
	s := strconv.FormatInt(int64(m/100), 10) + "." + pad2(int64(m%100))
	if neg {
		return "-" + s
	}
	return s
}

func pad2(v int64) string {
	if v < 10 {
		return "0" + strconv.FormatInt(v, 10)
	}
	return strconv.FormatInt(v, 10)
}

// Yuan returns m in yuan as a float, for statistics only (never for sums of money).
func (m Money) Yuan() float64 { return float64(m) / 100 }

// ParseMoney parses a wire amount: an optional minus, 1 to 15 integer digits, and at most two
// decimals ("128000.00", "5", "0.5").
func ParseMoney(s string) (Money, bool) {
	neg := strings.HasPrefix(s, "-")
	if neg {
		s = s[1:]
	}
	intPart, frac, hasDot := strings.Cut(s, ".")
	if len(intPart) < 1 || len(intPart) > 15 || (hasDot && (len(frac) < 1 || len(frac) > 2)) {
		return 0, false
	}
	var v int64
	for _, c := range []byte(intPart) {
		if c < '0' || c > '9' {
			return 0, false
		}
		v = v*10 + int64(c-'0')
	}
	v *= 100
	for i, c := range []byte(frac) {
		if c < '0' || c > '9' {
			return 0, false
		}
		if i == 0 {
			v += int64(c-'0') * 10
		} else {
			v += int64(c - '0')
		}
	}
	if neg {
		v = -v
	}
	return Money(v), true
}

// Service types (service_type) of contract and settlement items.
const (
	ServiceComputeResource    = "compute_resource"
	ServiceComputeService     = "compute_service"
	ServiceModelService       = "model_service"
	ServiceDomesticAdaptation = "domestic_adaptation"
	ServiceBandwidth          = "bandwidth"
	ServiceSecurity           = "security"
	ServiceDatabase           = "database"
)

// Units of a priced item.
const (
	UnitCardHour     = "card_hour"
	UnitCardMonth    = "card_month"
	UnitTokenMillion = "token_million"
)

// Chip origins.
const (
	OriginDomestic = "domestic"
	OriginForeign  = "foreign"
	OriginMixed    = "mixed" // claims only
)

// Person is a natural person as the registry names them. The raw identity number never enters
// the domain: Key is a keyed hash of (id_type, id_number) that identifies the person, Masked the
// number as it may be shown (first 3 and last 4 characters). Both are empty when the sender gave
// no number; such a person can be matched by nobody.
type Person struct {
	Name   string
	IDType string
	Key    string
	Masked string
	Phone  string
	Email  string
	// PhoneKey and EmailKey are the canonical forms of Phone and Email (CanonicalPhone,
	// CanonicalEmail), made at decode; Phone and Email stay as sent, for the evidence.
	PhoneKey string
	EmailKey string
}

// CanonicalPhoneKey returns PhoneKey, or, for a record decoded before keys were stored, the
// canonical form made now.
func (p *Person) CanonicalPhoneKey() string {
	if p.PhoneKey != "" || p.Phone == "" {
		return p.PhoneKey
	}
	return CanonicalPhone(p.Phone)
}

// CanonicalEmailKey returns EmailKey, or the canonical form made now.
func (p *Person) CanonicalEmailKey() string {
	if p.EmailKey != "" || p.Email == "" {
		return p.EmailKey
	}
	return CanonicalEmail(p.Email)
}

// Holder is one shareholder of an enterprise: another enterprise (USCC) or a person.
type Holder struct {
	Kind     string // "enterprise" or "person"
	USCC     string
	Person   *Person
	Name     string
	SharePct float64
	NameKey  string // CanonicalName(Name), made at decode
}

// CanonicalNameKey returns NameKey, or the canonical name made now.
func (h *Holder) CanonicalNameKey() string {
	if h.NameKey != "" || h.Name == "" {
		return h.NameKey
	}
	return CanonicalName(h.Name)
}

// Officer is a director, supervisor, manager or legal representative.
type Officer struct {
	Role   string // one of OfficerRoles
	Person Person
}

// The officers' roles of the wire contract.
const (
	OfficerDirector   = "director"   // 董事
	OfficerSupervisor = "supervisor" // 监事
	OfficerManager    = "manager"    // 高级管理人员
	OfficerLegalRep   = "legal_rep"  // 法定代表人
)

// OfficerRoles are the roles an officer may have.
var OfficerRoles = []string{OfficerDirector, OfficerSupervisor, OfficerManager, OfficerLegalRep}

// BankAccount is one account an enterprise holds.
type BankAccount struct {
	Bank      string
	AccountNo string
	// AccountKey is CanonicalBankAccount(AccountNo), made at decode.
	AccountKey string
}

// CanonicalAccountKey returns AccountKey, or the canonical form made now.
func (a *BankAccount) CanonicalAccountKey() string {
	if a.AccountKey != "" || a.AccountNo == "" {
		return a.AccountKey
	}
	return CanonicalBankAccount(a.AccountNo)
}

// Credit is the enterprise's credit standing (D1).
type Credit struct {
	SeriouslyDishonest     bool
	MajorViolationWithin3Y bool
}

// Capacity is compute a registered supplier declares.
type Capacity struct {
	ChipModel  string
	ChipOrigin string
	Cards      int
	Datacenter string
}

// SupplierProfile is present when an entity offers compute.
type SupplierProfile struct {
	Registered   bool
	RegisteredOn time.Time // zero when absent
	IDCLicense   bool
	Capacity     []Capacity
}

// Entity is a registry.entity.v1 record: the facts about one enterprise.
type Entity struct {
	USCC              string
	Name              string
	NameKey           string // CanonicalName(Name), made at decode
	City              string // 6-digit division code, normalised from a city name at decode
	RegisteredAddress string
	OfficeAddress     string
	RegisteredOn      time.Time
	IsSME             bool
	LegalRep          *Person
	Contacts          []Person
	Shareholders      []Holder
	Officers          []Officer
	BankAccounts      []BankAccount
	Credit            Credit
	Supplier          *SupplierProfile
}

// Item is one line of a contract or settlement. UnitPrice and Unit are zero when the sender
// gave no price.
type Item struct {
	ServiceType string
	ChipModel   string
	ChipOrigin  string
	Cards       int
	UnitPrice   Money
	Unit        string
	Quantity    float64
	Amount      Money
}

// Contract is a contract.v1 record: a compute purchase contract and its filing (备案).
type Contract struct {
	ContractNo   string
	Name         string
	SupplierUSCC string
	BuyerUSCC    string
	SignedOn     time.Time
	ServiceStart time.Time // zero when absent
	ServiceEnd   time.Time // zero when absent
	Amount       Money
	Items        []Item
	Datacenter   string
	ViaPlatform  bool
	FiledOn      time.Time // zero when not filed
	Domains      []string
	Purposes     []string
}

// Settlement is a settlement.v1 record: an invoice and its payment (结算凭证).
type Settlement struct {
	SettlementID string
	ContractNo   string
	SupplierUSCC string
	BuyerUSCC    string
	InvoiceCode  string // empty for fully digital invoices
	InvoiceNo    string
	// InvoiceKey is the canonical key of the invoice (CanonicalInvoice), made at decode; the
	// code and number above stay as sent, for the evidence.
	InvoiceKey   string
	InvoiceDate  time.Time
	Amount       Money
	Tax          Money
	PaymentRef   string
	PaidOn       time.Time
	PayerAccount string
	PayeeAccount string
	PeriodStart  time.Time
	PeriodEnd    time.Time
	Items        []Item
}

// MaxUsageWindow is the longest usage window accepted. Suppliers meter hourly to monthly; a
// longer window hides when the compute was used and is taken to be a broken sender. Ingest
// rejects longer windows, and the store's reads of daily metering rely on none being stored.
const MaxUsageWindow = 31 * 24 * time.Hour

// Usage is a usage.v1 record: metered use of one resource by one tenant in one time window.
type Usage struct {
	SupplierUSCC string
	BuyerUSCC    string
	ContractNo   string
	Tenant       string
	ResourceID   string
	ChipModel    string
	ChipOrigin   string
	Cards        int
	WindowStart  time.Time
	WindowEnd    time.Time
	CardHours    float64
	UtilAvg      float64
	Jobs         int
	Users        int
	LoginOrgs    []string
	Datacenter   string
}

// ClaimInvoice is an invoice a claim cites. An invoice is (InvoiceCode, InvoiceNo), never the
// number alone.
type ClaimInvoice struct {
	InvoiceCode string
	InvoiceNo   string
	Amount      Money
	// Key is the canonical key of the invoice (CanonicalInvoice), made at decode: the same
	// invoice cited split, joined or without its leading zeros has one key.
	Key string
}

// CanonicalKey returns the invoice's canonical key: Key, or, for a record decoded before keys
// were stored, the key made now.
func (i ClaimInvoice) CanonicalKey() string {
	if i.Key != "" {
		return i.Key
	}
	k, _ := CanonicalInvoice(i.InvoiceCode, i.InvoiceNo)
	return k
}

// CanonicalKey returns the settlement's canonical invoice key: InvoiceKey, or, for a record
// decoded before keys were stored, the key made now.
func (s *Settlement) CanonicalKey() string {
	if s.InvoiceKey != "" {
		return s.InvoiceKey
	}
	k, _ := CanonicalInvoice(s.InvoiceCode, s.InvoiceNo)
	return k
}

// Claim is a claim.v1 record: a subsidy application (算力补贴申报表).
type Claim struct {
	ClaimID       string
	ApplicantUSCC string
	Round         int
	SubmittedOn   time.Time
	City          string
	ViaPlatform   bool
	Contracts     []string
	Invoices      []ClaimInvoice
	UsageAmount   Money
	Requested     Money
	ChipOrigin    string
	BankAccount   string
}

// DeadLetter is a message the engine could not accept, with the reason.
type DeadLetter struct {
	Origin
	Key      []byte
	Value    []byte // the original bytes, as received
	Source   string // the envelope's source where it could be read
	ID       string // the envelope's id where it could be read
	Supplier string // the supplier's USCC where it could be read (data.supplier_uscc or a USCC source)
	Reason   string // names the field and the problem
	At       time.Time
}

// SetCanonicalKeys stores beside each identifier of the registry record its canonical form
// (NameKey, PhoneKey, EmailKey, AccountKey; docs/canonical.md), which the detectors compare;
// the identifiers stay as sent. The decoder calls it.
func (e *Entity) SetCanonicalKeys() {
	person := func(p *Person) {
		if p == nil {
			return
		}
		p.PhoneKey, p.EmailKey = "", ""
		if p.Phone != "" {
			p.PhoneKey = CanonicalPhone(p.Phone)
		}
		if p.Email != "" {
			p.EmailKey = CanonicalEmail(p.Email)
		}
	}
	e.NameKey = CanonicalName(e.Name)
	person(e.LegalRep)
	for i := range e.Contacts {
		person(&e.Contacts[i])
	}
	for i := range e.Officers {
		person(&e.Officers[i].Person)
	}
	for i := range e.Shareholders {
		h := &e.Shareholders[i]
		person(h.Person)
		h.NameKey = ""
		if h.Name != "" {
			h.NameKey = CanonicalName(h.Name)
		}
	}
	for i := range e.BankAccounts {
		a := &e.BankAccounts[i]
		a.AccountKey = CanonicalBankAccount(a.AccountNo)
	}
}
