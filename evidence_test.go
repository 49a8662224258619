package voucherwatch

import (
	"encoding/json"
	"math"
	"reflect"
	"sort"
	"strings"
	"testing"
)

// TestEvidenceTypesSorted: the evidence types that detectors once wrote as maps list their
// fields in the order of their JSON names, the order encoding/json writes a map in, so that
// evidence made from them is stored byte for byte as before (its hash too: an unchanged
// finding stays unchanged).
func TestEvidenceTypesSorted(t *testing.T) {
	for _, v := range []any{RelatedPartyEvidence{}, IdleEvidence{}, TradeCycleEvidence{}, TieFacts{},
		ComplaintEvidence{}, ObjectionEvidence{}, PriceEvidence{}, PriceItem{}, PriceBand{}, DuplicateEvidence{}, ResaleEvidence{}, ResaleLogins{}} {
		typ := reflect.TypeOf(v)
		var names []string
		for i := range typ.NumField() {
			name, _, _ := strings.Cut(typ.Field(i).Tag.Get("json"), ",")
			names = append(names, name)
		}
		if !sort.StringsAreSorted(names) {
			t.Errorf("%s: got fields %v, want them in the order of their JSON names", typ.Name(), names)
		}
	}
}

// TestEvidenceSameAsMap: evidence made from a type is the JSON a map of the same facts made,
// and a tie's facts leave out what its kind does not set.
func TestEvidenceSameAsMap(t *testing.T) {
	direct := 0.0
	typed := EvidenceOf(RelatedPartyEvidence{Summary: "甲", Claims: []string{"SB-1"},
		Ties: []RelatedTie{{Kind: "direct_stake", Facts: TieFacts{BuyerInSupplierPct: 12.5}},
			{Kind: "integrated_ownership", Facts: TieFacts{Holder: "a", Held: "b", Direct: &direct, Integrated: 0.3, Threshold: 0.2}},
			{Kind: "shared_address"}}})
	asMap := EvidenceOf(map[string]any{"summary": "甲", "claims": []string{"SB-1"}, "buyer": EvidenceParty{},
		"contracts": nil, "controllers": nil, "graph": EvidenceGraph{}, "integrated_ownership": IntegratedOwnership{}, "supplier": EvidenceParty{},
		"ties": []map[string]any{
			{"kind": "direct_stake", "severity": "", "score": 0, "summary": "", "facts": map[string]any{"buyer_in_supplier_pct": 12.5}},
			{"kind": "integrated_ownership", "severity": "", "score": 0, "summary": "", "facts": map[string]any{"holder": "a", "held": "b", "direct": 0, "integrated": 0.3, "threshold": 0.2}},
			{"kind": "shared_address", "severity": "", "score": 0, "summary": ""}}})
	// The map's ties are written in key order, the struct's in field order: compare the
	// stored bytes of everything but the ties, and the ties as the API serves them.
	canon := func(e Evidence) string {
		var c Evidence
		if err := json.Unmarshal([]byte(e.String()), &c); err != nil {
			t.Fatal(err)
		}
		return c.String()
	}
	if got, want := canon(typed), canon(asMap); got != want {
		t.Errorf("got %s, want %s", got, want)
	}
	if !strings.HasPrefix(typed.String(), `{"buyer":{"name":"","uscc":""},"claims":["SB-1"],"contracts":null,`) {
		t.Errorf("got %s, want the keys in order", typed)
	}
}

// TestEvidenceJSON: evidence is written as held, read back in canonical form (keys sorted at
// every level, numbers as written), and none, null and a value that does not encode each
// behave as the alert store needs.
func TestEvidenceJSON(t *testing.T) {
	ev := EvidenceOf(TradeCycleEvidence{CycleLength: 3, AmountRatio: 0.1, Graph: TradeGraph{Nodes: []TradeNode{{ID: "n1", USCC: "U", Role: "applicant"}}}})
	stored, err := json.Marshal(ev)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(stored), `"nodes":[{"id":"n1","uscc":"U","role":"applicant"}]`) {
		t.Errorf("got stored %s, want the node in its fields' order", stored)
	}
	var back Evidence
	if err := json.Unmarshal(stored, &back); err != nil {
		t.Fatal(err)
	}
	if got := back.String(); !strings.Contains(got, `"nodes":[{"id":"n1","role":"applicant","uscc":"U"}]`) || !strings.Contains(got, `"amount_ratio":0.1,`) {
		t.Errorf("got read back %s, want keys sorted at every level and 0.1 as written", got)
	}
	var tc TradeCycleEvidence
	if err := back.Decode(&tc); err != nil || tc.CycleLength != 3 || tc.Graph.Nodes[0].Role != "applicant" {
		t.Errorf("got %+v, %v; want the cycle back", tc, err)
	}
	big := EvidenceOf(map[string]any{"n": uint64(math.MaxUint64)})
	if err := json.Unmarshal([]byte(big.String()), &back); err != nil || back.String() != `{"n":18446744073709551615}` {
		t.Errorf("got %s, %v; want the number as written", back, err)
	}
	facts, err := back.Facts()
	if err != nil || len(facts) != 1 || facts[0].Key != "n" || string(facts[0].Value) != "18446744073709551615" {
		t.Errorf("got facts %v, %v", facts, err)
	}

	var none Evidence
	if b, err := json.Marshal(none); err != nil || string(b) != "null" || !none.Empty() {
		t.Errorf("no evidence: got %s, %v, empty %v; want null, empty", b, err, none.Empty())
	}
	if err := json.Unmarshal([]byte("null"), &back); err != nil || !back.Empty() {
		t.Errorf("null: got %s, %v; want no evidence", back, err)
	}
	if e := EvidenceOf(map[string]any(nil)); !e.Empty() {
		t.Errorf("nil map: got %s, want no evidence", e)
	}
	if e := EvidenceOf(map[string]any{}); !e.Empty() || e.String() != "{}" {
		t.Errorf("empty map: got %s, want {} and empty", e)
	}
	bad := EvidenceOf(map[string]any{"ratio": math.NaN()})
	if _, err := json.Marshal(bad); err == nil {
		t.Error("NaN: got it marshalled, want the error the store refuses the alert with")
	}
	if err := bad.Decode(&tc); err == nil || bad.Empty() {
		t.Errorf("NaN: got decode error %v, empty %v; want an error, not empty", err, bad.Empty())
	}
	if e := EvidenceOf([]string{"x"}); e.err == nil {
		t.Error("a list: got evidence, want an error: evidence is an object")
	}
}
