package voucherwatch

import (
	"bytes"
	"encoding/json"
	"errors"
	"sort"
)

// Evidence is an alert's evidence: one JSON object, held as its JSON. A detector makes it with
// EvidenceOf from one of the evidence types below (or, for the kinds laid out as a table of
// facts, from a map of its own); the alert store writes those bytes and reads them back; the
// web UI decodes it into the evidence type of the alert's layout (Decode) or lists its facts
// (Facts). Holding JSON rather than Go values keeps the alert free of untyped fields and makes
// what a detector built, what the store keeps and what the API serves one thing.
//
// Read from JSON (UnmarshalJSON: the alert store, an API client) the evidence is held in its
// canonical form, keys sorted at every level, numbers as written: the form the API has always
// served, when the store read evidence back into Go maps. The fields of the evidence types
// follow their JSON names alphabetically, the order encoding/json writes a map in, so that a
// detector's evidence is stored as it was when detectors built maps.
type Evidence struct {
	raw []byte
	err error // why the value given to EvidenceOf does not encode (a NaN); MarshalJSON returns it
}

// EvidenceOf encodes v, an evidence type or a map of facts, as an alert's evidence. A value
// that does not encode (a NaN) gives evidence whose MarshalJSON fails, so the alert store
// refuses the alert as it always did, rather than the detector stopping.
func EvidenceOf(v any) Evidence {
	b, err := json.Marshal(v)
	if err != nil {
		return Evidence{err: err}
	}
	if string(b) == "null" {
		return Evidence{} // a nil map: no evidence
	}
	if len(b) == 0 || b[0] != '{' {
		return Evidence{err: errors.New("evidence: not a JSON object: " + string(b[:min(len(b), 40)]))}
	}
	return Evidence{raw: b}
}

// MarshalJSON writes the evidence as held; null when there is none.
func (e Evidence) MarshalJSON() ([]byte, error) {
	if e.err != nil {
		return nil, e.err
	}
	if e.raw == nil {
		return []byte("null"), nil
	}
	return e.raw, nil
}

// UnmarshalJSON reads evidence as the alert store or the API wrote it, into its canonical form
// (keys sorted at every level, numbers as written). null reads as no evidence.
func (e *Evidence) UnmarshalJSON(b []byte) error {
	*e = Evidence{}
	if bytes.Equal(bytes.TrimSpace(b), []byte("null")) {
		return nil
	}
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	var m map[string]any
	if err := d.Decode(&m); err != nil {
		return err
	}
	canon, err := json.Marshal(m)
	if err != nil {
		return err
	}
	e.raw = canon
	return nil
}

// String is the evidence's JSON, for messages; "null" when there is none.
func (e Evidence) String() string {
	b, err := e.MarshalJSON()
	if err != nil {
		return "evidence: " + err.Error()
	}
	return string(b)
}

// Decode reads the evidence into one of the evidence types (or any shape encoding/json can
// fill). Keys the type has no field for are ignored; no evidence decodes as nothing.
func (e Evidence) Decode(into any) error {
	if e.err != nil {
		return e.err
	}
	if e.raw == nil {
		return nil
	}
	return json.Unmarshal(e.raw, into)
}

// Empty reports whether the evidence has no facts: none at all, null, or an empty object.
func (e Evidence) Empty() bool {
	return e.err == nil && (e.raw == nil || bytes.Equal(e.raw, []byte("{}")))
}

// Fact is one top-level key of an alert's evidence with its value as JSON.
type Fact struct {
	Key   string
	Value json.RawMessage
}

// Facts lists the evidence's top-level keys, sorted, each with its value as JSON: what the web
// UI's table of facts shows, and what the catalogue must have a label for.
func (e Evidence) Facts() ([]Fact, error) {
	var m map[string]json.RawMessage
	if err := e.Decode(&m); err != nil {
		return nil, err
	}
	out := make([]Fact, 0, len(m))
	for k, v := range m {
		out = append(out, Fact{Key: k, Value: v})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Key < out[j].Key })
	return out, nil
}

// The evidence types of the layouts the web UI draws. Their fields follow the JSON names
// alphabetically (see Evidence).

// RelatedPartyEvidence is the evidence of a related_party alert (layout EvidenceRelatedParty):
// the two parties, every tie between them, and the graph that shows the ties.
type RelatedPartyEvidence struct {
	Buyer     EvidenceParty `json:"buyer"`
	Claims    []string      `json:"claims"`
	Contracts []string      `json:"contracts"`
	// Controllers are the node ids of the ultimate controllers of "buyer" and "supplier".
	Controllers         map[string]string   `json:"controllers"`
	Graph               EvidenceGraph       `json:"graph"`
	IntegratedOwnership IntegratedOwnership `json:"integrated_ownership"`
	Summary             string              `json:"summary"` // the ties' summaries, Chinese
	Supplier            EvidenceParty       `json:"supplier"`
	Ties                []RelatedTie        `json:"ties"`
}

// EvidenceParty is one side of a deal.
type EvidenceParty struct {
	Name string `json:"name"`
	USCC string `json:"uscc"`
}

// IntegratedOwnership is each side's direct and indirect holding in the other, in percent.
type IntegratedOwnership struct {
	BuyerInSupplier float64 `json:"buyer_in_supplier"`
	SupplierInBuyer float64 `json:"supplier_in_buyer"`
}

// RelatedTie is one way a buyer and a supplier are related. Kind is one of related_party's
// kinds (AlertKinds); Facts are the tie's particulars.
type RelatedTie struct {
	Kind     string   `json:"kind"`
	Severity Severity `json:"severity"`
	Score    float64  `json:"score"`
	Summary  string   `json:"summary"`
	Facts    TieFacts `json:"facts,omitzero"`
}

// TieFacts are the particulars of a related-party tie; each kind of tie sets its own and
// leaves the others zero (and out of the JSON). Node ids name nodes of the alert's graph.
type TieFacts struct {
	AccountNo          string   `json:"account_no,omitempty"`            // shared_bank_account
	Address            string   `json:"address,omitempty"`               // shared_address
	BuyerInSupplierPct float64  `json:"buyer_in_supplier_pct,omitempty"` // direct_stake
	BuyerRoles         []string `json:"buyer_roles,omitempty"`           // shared_officer, shared_contact: the person's roles
	Controller         string   `json:"controller,omitempty"`            // common_controller: node id
	ControllerName     string   `json:"controller_name,omitempty"`
	CrossHolding       bool     `json:"cross_holding,omitempty"` // direct_stake both ways
	// Direct is integrated_ownership's direct part, a share (0.25); set, if only to 0, on that
	// kind alone.
	Direct     *float64   `json:"direct,omitempty"`
	Email      string     `json:"email,omitempty"` // shared_contact, masked
	Held       string     `json:"held,omitempty"`  // integrated_ownership: node ids
	Holder     string     `json:"holder,omitempty"`
	Integrated float64    `json:"integrated,omitempty"` // a share
	MaskedID   string     `json:"masked_id,omitempty"`  // the person's masked identity number
	Name       string     `json:"name,omitempty"`       // the person's name
	Paths      [][]string `json:"paths,omitempty"`      // integrated_ownership: node ids, holder first
	Person     string     `json:"person,omitempty"`     // node id
	Phone      string     `json:"phone,omitempty"`      // shared_contact, masked
	// SupplierInBuyerPct is direct_stake's holding of the supplier in the buyer, in percent.
	SupplierInBuyerPct float64  `json:"supplier_in_buyer_pct,omitempty"`
	SupplierRoles      []string `json:"supplier_roles,omitempty"`
	Threshold          float64  `json:"threshold,omitempty"` // integrated_ownership's threshold, a share
}

// EvidenceGraph is the graph of a related-party alert, ready to be drawn.
type EvidenceGraph struct {
	Nodes []EvidenceNode `json:"nodes"`
	Edges []EvidenceEdge `json:"edges"`
}

// EvidenceNode is an enterprise or a person of the graph.
type EvidenceNode struct {
	ID       string `json:"id"`
	Kind     string `json:"kind"` // enterprise | person
	Name     string `json:"name"`
	USCC     string `json:"uscc,omitempty"`
	MaskedID string `json:"masked_id,omitempty"` // people: the masked identity number, never the number
	Side     string `json:"side,omitempty"`      // buyer | supplier
	// NotInRegistry marks an enterprise that other records name but that has no registry
	// record of its own.
	NotInRegistry bool `json:"not_in_registry,omitempty"`
}

// EvidenceEdge is a relation of the graph. Role is an officer's role (OfficerRoleLabel) or a
// contact's channel (phone, email); Value the shared account, address or contact.
type EvidenceEdge struct {
	From  string  `json:"from"`
	To    string  `json:"to"`
	Kind  string  `json:"kind"` // holds | officer | legal_rep | contact | bank_account | address
	Pct   float64 `json:"pct,omitempty"`
	Role  string  `json:"role,omitempty"`
	Value string  `json:"value,omitempty"`
}

// PriceEvidence is the evidence of a price_out_of_range alert (layout EvidencePrice): the
// contract's priced items, the worst first, against the market band of its chip.
type PriceEvidence struct {
	Band          PriceBand   `json:"band"`
	BuyerUSCC     string      `json:"buyer_uscc"`
	Claims        []string    `json:"claims"`
	ContractNo    string      `json:"contract_no"`
	Items         []PriceItem `json:"items"`
	RatioToMedian float64     `json:"ratio_to_median"`
	SupplierUSCC  string      `json:"supplier_uscc"`
	WorstItem     PriceItem   `json:"worst_item"`
}

// PriceItem is one priced item of a contract or a settlement.
type PriceItem struct {
	Cards          float64  `json:"cards"`
	ChipModel      string   `json:"chip_model"`
	ChipOrigin     string   `json:"chip_origin"`
	Invoices       []string `json:"invoices"` // the settlement's, when Source is settlement
	Normalised     float64  `json:"normalised"`
	NormalisedUnit string   `json:"normalised_unit"`
	RatioToMedian  float64  `json:"ratio_to_median"`
	ServiceType    string   `json:"service_type"`
	Source         string   `json:"source"` // contract | settlement
	Unit           string   `json:"unit"`
	UnitPrice      string   `json:"unit_price"` // yuan, as a decimal string
}

// PriceBand is the market band a price is weighed against.
type PriceBand struct {
	High   float64 `json:"high"`
	Low    float64 `json:"low"`
	Median float64 `json:"median"`
	Method string  `json:"method"`
	N      float64 `json:"n"`
	Of     string  `json:"of"`
	Unit   string  `json:"unit"`
}

// ComplaintEvidence is the evidence of a complaint's case (detector complaint): the complaint
// as registered, never its complainant's contact.
type ComplaintEvidence struct {
	Category string `json:"category"`
	Channel  string `json:"channel"`
	Receipt  string `json:"receipt"`
	Text     string `json:"text"`
}

// ObjectionEvidence is the evidence of an objection's case (detector objection): the round,
// the claim and the masked text, never the contact.
type ObjectionEvidence struct {
	Channel string `json:"channel"`
	ClaimID string `json:"claim_id"`
	RoundID string `json:"round_id"`
	Text    string `json:"text"`
}

// DuplicateEvidence is the evidence of a duplicate_claim alert (layout
// EvidenceDuplicateRecords): the records that repeat one another, each a JSON object of the
// facts it was written with, which the web UI sets side by side. A kind sets the records it
// compares (claim and earlier_claim; settlements; tenancy and earlier_tenants; claim and the
// other buyer's settlement or contract; claim and claimed_amounts) and facts of its own.
type DuplicateEvidence struct {
	Claim                Evidence          `json:"claim"`
	ClaimedAmount        json.RawMessage   `json:"claimed_amount"` // yuan, the invoice as this claim lists it
	ClaimedAmounts       []json.RawMessage `json:"claimed_amounts"`
	Contract             Evidence          `json:"contract"`
	ControlTie           *ControlTie       `json:"control_tie"`
	EarlierClaim         Evidence          `json:"earlier_claim"`
	EarlierClaimedAmount json.RawMessage   `json:"earlier_claimed_amount"`
	EarlierTenants       []Evidence        `json:"earlier_tenants"`
	Invoice              *EvidenceInvoice  `json:"invoice"`
	PaymentRef           string            `json:"payment_ref"`
	ResourceID           string            `json:"resource_id"`
	Settlement           Evidence          `json:"settlement"`
	Settlements          []Evidence        `json:"settlements"`
	SupplierUSCC         string            `json:"supplier_uscc"`
	Tenancy              Evidence          `json:"tenancy"`
}

// ControlTie is how an applicant and another buyer are under one control, told in Chinese.
type ControlTie struct {
	Summary string `json:"summary"`
}

// EvidenceInvoice is an invoice as a claim cites it.
type EvidenceInvoice struct {
	InvoiceCode string `json:"invoice_code"`
	InvoiceNo   string `json:"invoice_no"`
}

// ResaleEvidence is the evidence of a resale alert (layout EvidenceResale): the reseller, what
// it bought beside what it sold (each a JSON object of its facts), its signals and the logins
// of other organisations.
type ResaleEvidence struct {
	Bought   Evidence      `json:"bought"`
	Logins   *ResaleLogins `json:"logins_from_other_orgs"`
	Ratio    float64       `json:"ratio"` // sold over bought, of the kinds both share; 0 when nothing was sold
	Reseller Evidence      `json:"reseller"`
	Signals  []string      `json:"signals"`
	Sold     []Evidence    `json:"sold"`
	Summary  string        `json:"summary"`
}

// ResaleLogins are the metering windows of the bought compute in which other organisations
// logged in.
type ResaleLogins struct {
	CardHours float64    `json:"card_hours"`
	OfWindows float64    `json:"of_windows"`
	Orgs      []Evidence `json:"orgs"`
	Windows   float64    `json:"windows"`
}
