package ingest

import (
	"strings"
	"testing"
)

func TestValidUSCC(t *testing.T) {
	tests := []struct {
		uscc string
		want bool
	}{
		// The codes of the contract's examples.
		{"91430200PQ3G7YMPXF", true},
		{"91433100MDQ28CBNXU", true},
		{"914307005E7R4XMW05", true},
		{"91430100B97R5NQ72N", true},
		{"91431100X9GTAG5PLH", true},
		{"91350100M000100Y43", true}, // a published code, check character Y
		{"91430200PQ3G7YMPXA", false},
		{"91430200PQ3G7YMPX", false},
		{"91430200PQ3G7YMPXFF", false},
		{"91430200pq3g7ympxf", false},
		{"9143020OPQ3G7YMPXF", false}, // O is not in the alphabet, and positions 3-8 are digits
		{"91A30200PQ3G7YMPXF", false},
		{"", false},
		{"中文中文中文", false},
	}
	for _, tt := range tests {
		if got := ValidUSCC(tt.uscc); got != tt.want {
			t.Errorf("ValidUSCC(%q) = %v, want %v", tt.uscc, got, tt.want)
		}
	}
	// Exactly one check character fits any 17 characters.
	for _, first17 := range []string{"91430200PQ3G7YMPX", "12100000000000000", "Y1430000MA4L00000"} {
		n := 0
		for _, c := range usccAlphabet {
			if ValidUSCC(first17 + string(c)) {
				n++
			}
		}
		if n != 1 {
			t.Errorf("%s: %d check characters fit, want 1", first17, n)
		}
	}
	if strings.ContainsAny(usccAlphabet, "IOSVZ") || len(usccAlphabet) != 31 {
		t.Errorf("alphabet %q", usccAlphabet)
	}
}
