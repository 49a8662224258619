package detectors

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/voucherwatch/voucherwatch"
)

// TestPeopleLabelledByOrdinal: the people of one alert's evidence are named person:1,
// person:2 ... in the order of their keys, whatever order the graph met them in, so that a
// re-run gives the same evidence; no part of a key is left anywhere.
func TestPeopleLabelledByOrdinal(t *testing.T) {
	const keyA, keyB = "0a1b2c3d4e5f60718293a4b5c6d7e8f9", "f9e8d7c6b5a4938271605f4e3d2c1b0a"
	build := func(first, second string) string {
		ev := &evidenceGraph{EvidenceGraph: voucherwatch.EvidenceGraph{
			Nodes: []graphNode{{ID: "person:" + first, Kind: "person"}, {ID: "person:" + second, Kind: "person"}, {ID: "91430100MA0000001X"}, {ID: "person#3"}},
			Edges: []graphEdge{{From: "person:" + first, To: "91430100MA0000001X", Kind: "holds"}, {From: "person:" + second, To: "91430100MA0000001X", Kind: "officer"}},
		}}
		ties := []relatedTie{
			{Facts: voucherwatch.TieFacts{Person: "person:" + second, Name: "张伟"}},
			{Facts: voucherwatch.TieFacts{Holder: "person:" + first, Held: "91430100MA0000001X", Paths: [][]string{{"person:" + first, "91430100MA0000001X"}}}},
		}
		controllers := map[string]string{"buyer": "person:" + first, "supplier": "person#3"}
		labelPeople(ev, ties, controllers)
		b, err := json.Marshal(map[string]any{"graph": ev, "ties": ties, "controllers": controllers})
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	ab, ba := build(keyA, keyB), build(keyB, keyA)
	for _, key := range []string{keyA, keyB} {
		if strings.Contains(ab, key[:6]) || strings.Contains(ba, key[:6]) {
			t.Fatalf("a part of key %s is left in the evidence: %s", key[:6], ab)
		}
	}
	// keyA sorts first: it is person:1 whether it came first or second.
	if !strings.Contains(ab, `"buyer":"person:1"`) || !strings.Contains(ba, `"buyer":"person:2"`) ||
		!strings.Contains(ab, `"person":"person:2"`) || !strings.Contains(ba, `"person":"person:1"`) {
		t.Errorf("got %s and %s, want keyA labelled person:1 and keyB person:2 in both", ab, ba)
	}
	if !strings.Contains(ab, `"supplier":"person#3"`) {
		t.Errorf("got %s, want the keyless person's id kept", ab)
	}
}
