package detectors

import (
	"fmt"
	"os"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/voucherwatch/voucherwatch"
)

// TestDetectionDoc checks docs/detection.md against the code: its table of checks names exactly
// the detectors that implement IncrementalDetector, it counts the others right, and it names
// every method of the read model.
func TestDetectionDoc(t *testing.T) {
	b, err := os.ReadFile("../docs/detection.md")
	if err != nil {
		t.Fatal(err)
	}
	doc := string(b)
	var incremental []string
	others := 0
	for _, d := range All(Env{}) {
		if _, ok := d.(voucherwatch.IncrementalDetector); ok {
			incremental = append(incremental, d.Name())
		} else {
			others++
		}
	}
	var rows []string
	for _, m := range regexp.MustCompile("(?m)^\\| `([a-z_]+)` \\|").FindAllStringSubmatch(doc, -1) {
		rows = append(rows, m[1])
	}
	slices.Sort(rows)
	slices.Sort(incremental)
	if !slices.Equal(rows, incremental) {
		t.Errorf("docs/detection.md: got checks of %v in the table, want %v", rows, incremental)
	}
	words := map[int]string{2: "two", 3: "three", 4: "four", 5: "five", 6: "six", 7: "seven", 8: "eight", 9: "nine", 10: "ten", 11: "eleven", 12: "twelve", 13: "thirteen"}
	want := "the other " + words[others] + " detectors have no check"
	switch others {
	case 0:
		want = "every detector has a check"
	case 1:
		want = "the one other detector has no check"
	}
	if !strings.Contains(doc, want) {
		t.Errorf("docs/detection.md: want %q (%d detectors without a check)", want, others)
	}
	rm := reflect.TypeFor[voucherwatch.ReadModel]()
	for i := range rm.NumMethod() {
		if name := rm.Method(i).Name; !strings.Contains(doc, fmt.Sprintf("`%s", name)) {
			t.Errorf("docs/detection.md: read model method %s is not described", name)
		}
	}
}
