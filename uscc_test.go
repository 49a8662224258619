package voucherwatch_test

import (
	"strings"
	"testing"

	"github.com/voucherwatch/voucherwatch"
)

func TestValidUSCC(t *testing.T) {
	tests := []struct {
		uscc          string
		valid, shaped bool
	}{
		// The codes of the contract's examples.
		{"91430200PQ3G7YMPXF", true, true},
		{"91433100MDQ28CBNXU", true, true},
		{"914307005E7R4XMW05", true, true},
		{"91430100B97R5NQ72N", true, true},
		{"91431100X9GTAG5PLH", true, true},
		{"91350100M000100Y43", true, true},  // a published code, check character Y
		{"91430200PQ3G7YMPXA", false, true}, // a mistyped check character
		{"91430200PQ3G7YMPX", false, false},
		{"91430200PQ3G7YMPXFF", false, false},
		{"91430200pq3g7ympxf", false, false},
		{"9143020OPQ3G7YMPXF", false, false}, // O is not in the alphabet, and positions 3-8 are digits
		{"91A30200PQ3G7YMPXF", false, false},
		{"91430200PQ3G7YMPXO", false, false}, // a check character outside the alphabet
		{"", false, false},
		{"中文中文中文", false, false},
	}
	for _, tt := range tests {
		if got := voucherwatch.ValidUSCC(tt.uscc); got != tt.valid {
			t.Errorf("ValidUSCC(%q) = %v, want %v", tt.uscc, got, tt.valid)
		}
		if got := voucherwatch.USCCShaped(tt.uscc); got != tt.shaped {
			t.Errorf("USCCShaped(%q) = %v, want %v", tt.uscc, got, tt.shaped)
		}
	}
	// Exactly one check character fits any 17 characters, and it is the one USCCCheck and
	// CompleteUSCC give.
	for _, first17 := range []string{"91430200PQ3G7YMPX", "12100000000000000", "Y1430000MA4L00000"} {
		var fit []byte
		for i := 0; i < len(voucherwatch.USCCAlphabet); i++ {
			if voucherwatch.ValidUSCC(first17 + string(voucherwatch.USCCAlphabet[i])) {
				fit = append(fit, voucherwatch.USCCAlphabet[i])
			}
		}
		if len(fit) != 1 || fit[0] != voucherwatch.USCCCheck(first17) {
			t.Errorf("%s: check characters %q fit, want exactly USCCCheck's %q", first17, fit, voucherwatch.USCCCheck(first17))
		}
		if got := voucherwatch.CompleteUSCC(first17); !voucherwatch.ValidUSCC(got) {
			t.Errorf("CompleteUSCC(%s) = %s, not valid", first17, got)
		}
	}
	if a := voucherwatch.USCCAlphabet; strings.ContainsAny(a, "IOSVZ") || len(a) != 31 {
		t.Errorf("alphabet %q", a)
	}
	if c := voucherwatch.USCCCheck("91430200pq3g7ympx"); c != 0 {
		t.Errorf("USCCCheck of lower case = %q, want 0", c)
	}
}
