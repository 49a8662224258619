package synth

import (
	"encoding/json"
	"time"
)

// The w* types are the records exactly as the wire contract spells them. They are this package's
// own, not the root package's domain types, so that the generator stays independent of the
// decoder it is used to test.

type wPerson struct {
	Name     string `json:"name"`
	IDType   string `json:"id_type,omitempty"`
	IDNumber string `json:"id_number,omitempty"`
	Phone    string `json:"phone,omitempty"`
	Email    string `json:"email,omitempty"`
}

type wHolder struct {
	Kind     string   `json:"kind"`
	USCC     string   `json:"uscc,omitempty"`
	Person   *wPerson `json:"person,omitempty"`
	Name     string   `json:"name"`
	SharePct float64  `json:"share_pct"`
}

type wOfficer struct {
	Role   string  `json:"role"`
	Person wPerson `json:"person"`
}

type wAccount struct {
	Bank      string `json:"bank,omitempty"`
	AccountNo string `json:"account_no"`
}

type wCredit struct {
	SeriouslyDishonest bool `json:"seriously_dishonest"`
	MajorViolation     bool `json:"major_violation_within_3y"`
}

type wCapacity struct {
	ChipModel  string `json:"chip_model"`
	ChipOrigin string `json:"chip_origin,omitempty"`
	Cards      int    `json:"cards"`
	Datacenter string `json:"datacenter,omitempty"`
}

type wSupplier struct {
	Registered   bool        `json:"registered"`
	RegisteredOn string      `json:"registered_on,omitempty"`
	IDCLicense   bool        `json:"idc_license"`
	Capacity     []wCapacity `json:"capacity,omitempty"`
}

type wEntity struct {
	USCC              string     `json:"uscc"`
	Name              string     `json:"name"`
	City              string     `json:"city"`
	RegisteredAddress string     `json:"registered_address,omitempty"`
	OfficeAddress     string     `json:"office_address,omitempty"`
	RegisteredOn      string     `json:"registered_on,omitempty"`
	IsSME             bool       `json:"is_sme"`
	LegalRep          *wPerson   `json:"legal_rep,omitempty"`
	Contacts          []wPerson  `json:"contacts,omitempty"`
	Shareholders      []wHolder  `json:"shareholders,omitempty"`
	Officers          []wOfficer `json:"officers,omitempty"`
	BankAccounts      []wAccount `json:"bank_accounts,omitempty"`
	Credit            wCredit    `json:"credit"`
	Supplier          *wSupplier `json:"supplier,omitempty"`
}

type wItem struct {
	ServiceType string  `json:"service_type"`
	ChipModel   string  `json:"chip_model,omitempty"`
	ChipOrigin  string  `json:"chip_origin,omitempty"`
	Cards       int     `json:"cards,omitempty"`
	UnitPrice   fen     `json:"unit_price,omitempty"`
	Unit        string  `json:"unit,omitempty"`
	Quantity    float64 `json:"quantity,omitempty"`
	Amount      fen     `json:"amount"`
}

type wContract struct {
	ContractNo   string   `json:"contract_no"`
	Name         string   `json:"name,omitempty"`
	SupplierUSCC string   `json:"supplier_uscc"`
	BuyerUSCC    string   `json:"buyer_uscc"`
	SignedOn     string   `json:"signed_on"`
	ServiceStart string   `json:"service_start,omitempty"`
	ServiceEnd   string   `json:"service_end,omitempty"`
	Amount       fen      `json:"amount"`
	Items        []wItem  `json:"items,omitempty"`
	Datacenter   string   `json:"datacenter,omitempty"`
	ViaPlatform  bool     `json:"via_platform"`
	FiledOn      *string  `json:"filed_on"` // null, not absent, when not filed: the example does so
	Domains      []string `json:"domains,omitempty"`
	Purposes     []string `json:"purposes,omitempty"`
}

type wSettlement struct {
	SettlementID string  `json:"settlement_id"`
	ContractNo   string  `json:"contract_no"`
	SupplierUSCC string  `json:"supplier_uscc"`
	BuyerUSCC    string  `json:"buyer_uscc"`
	InvoiceCode  string  `json:"invoice_code"` // always present, empty for fully digital invoices
	InvoiceNo    string  `json:"invoice_no"`
	InvoiceDate  string  `json:"invoice_date"`
	Amount       fen     `json:"amount"`
	Tax          fen     `json:"tax"`
	PaymentRef   string  `json:"payment_ref,omitempty"`
	PaidOn       string  `json:"paid_on,omitempty"`
	PayerAccount string  `json:"payer_account,omitempty"`
	PayeeAccount string  `json:"payee_account,omitempty"`
	PeriodStart  string  `json:"period_start,omitempty"`
	PeriodEnd    string  `json:"period_end,omitempty"`
	Items        []wItem `json:"items,omitempty"`
}

type wUsage struct {
	SupplierUSCC string   `json:"supplier_uscc"`
	BuyerUSCC    string   `json:"buyer_uscc"`
	ContractNo   string   `json:"contract_no,omitempty"`
	Tenant       string   `json:"tenant,omitempty"`
	ResourceID   string   `json:"resource_id"`
	ChipModel    string   `json:"chip_model,omitempty"`
	ChipOrigin   string   `json:"chip_origin,omitempty"`
	Cards        int      `json:"cards"`
	WindowStart  string   `json:"window_start"`
	WindowEnd    string   `json:"window_end"`
	CardHours    float64  `json:"card_hours"`
	UtilAvg      float64  `json:"util_avg"`
	Jobs         int      `json:"jobs"`
	Users        int      `json:"users"`
	LoginOrgs    []string `json:"login_orgs,omitempty"`
	Datacenter   string   `json:"datacenter,omitempty"`
}

type wClaimInvoice struct {
	InvoiceCode string `json:"invoice_code"`
	InvoiceNo   string `json:"invoice_no"`
	Amount      fen    `json:"amount"`
}

type wClaim struct {
	ClaimID       string          `json:"claim_id"`
	ApplicantUSCC string          `json:"applicant_uscc"`
	Round         int             `json:"round"`
	SubmittedOn   string          `json:"submitted_on"`
	City          string          `json:"city,omitempty"`
	ViaPlatform   bool            `json:"via_platform"`
	Contracts     []string        `json:"contracts,omitempty"`
	Invoices      []wClaimInvoice `json:"invoices,omitempty"`
	UsageAmount   fen             `json:"usage_amount"`
	Requested     fen             `json:"requested"`
	ChipOrigin    string          `json:"chip_origin,omitempty"`
	BankAccount   string          `json:"bank_account,omitempty"`
}

// envelope is the CloudEvents 1.0 structured-mode header.
type envelope struct {
	SpecVersion string `json:"specversion"`
	ID          string `json:"id"`
	Source      string `json:"source"`
	Type        string `json:"type"`
	Time        string `json:"time"`
	Data        any    `json:"data"`
}

// Wire formats: dates in China Standard Time, timestamps RFC 3339 with the +08:00 offset.
const (
	dateLayout  = "2006-01-02"
	stampLayout = "2006-01-02T15:04:05-07:00"
)

func date(t time.Time) string  { return t.In(cst).Format(dateLayout) }
func stamp(t time.Time) string { return t.In(cst).Format(stampLayout) }

func datePtr(t time.Time) *string {
	s := date(t)
	return &s
}

func mustMarshal(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic("synth: marshal: " + err.Error()) // only our own wire types are marshalled
	}
	return b
}
