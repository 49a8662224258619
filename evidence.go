package voucherwatch

import "encoding/json"

// An alert's evidence is stored and served as one JSON object (Alert.Evidence). The detectors
// whose evidence the web UI draws build it from the types below and store it with their
// Fields; the web UI reads it back with DecodeEvidence. Field order follows the JSON names
// alphabetically, the order encoding/json writes a map in, so the stored JSON is the same
// whether a detector wrote a map or one of these.

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

// Fields is the evidence as an alert carries it.
func (e RelatedPartyEvidence) Fields() map[string]any {
	return map[string]any{
		"buyer": e.Buyer, "claims": e.Claims, "contracts": e.Contracts, "controllers": e.Controllers,
		"graph": e.Graph, "integrated_ownership": e.IntegratedOwnership, "summary": e.Summary,
		"supplier": e.Supplier, "ties": e.Ties,
	}
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
// kinds (AlertKinds); Facts are the tie's particulars, by name, as the evidence table shows
// them.
type RelatedTie struct {
	Kind     string         `json:"kind"`
	Severity Severity       `json:"severity"`
	Score    float64        `json:"score"`
	Summary  string         `json:"summary"`
	Facts    map[string]any `json:"facts,omitempty"`
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

// DecodeEvidence reads an alert's evidence, as a detector built it or as the alert store read
// it back, into one of the evidence types. It returns false when the evidence does not have
// that shape.
func DecodeEvidence(ev map[string]any, into any) bool {
	b, err := json.Marshal(ev)
	if err != nil {
		return false
	}
	return json.Unmarshal(b, into) == nil
}
