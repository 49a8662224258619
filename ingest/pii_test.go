package ingest

import (
	"regexp"
	"testing"
)

func TestMaskID(t *testing.T) {
	tests := []struct{ in, want string }{
		{"432449197201199348", "432***********9348"},
		{"43244919720119934x", "432***********934X"},
		{"4324 4919 7201 1993 48", "432***********9348"},
		{"E12345678", "E*******8"},
		{"G1234567890", "G12****7890"},
		{"南字第1234567号", "南字第****567号"},
		{"123", "***"},
		{"", ""},
	}
	for _, tt := range tests {
		if got := MaskID(tt.in); got != tt.want {
			t.Errorf("MaskID(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestPersonKey(t *testing.T) {
	key := []byte("k1")
	a := PersonKey(key, "id_card", "43244919720119934X")
	if !regexp.MustCompile(`^[0-9a-f]{32}$`).MatchString(a) {
		t.Fatalf("PersonKey = %q, want 32 hex digits", a)
	}
	same := []string{"43244919720119934x", " 43244919720119934X", "432449 19720119934X"}
	for _, n := range same {
		if got := PersonKey(key, "id_card", n); got != a {
			t.Errorf("PersonKey(%q) = %s, want %s as for the normalised number", n, got, a)
		}
	}
	differ := map[string]string{
		"another key":    PersonKey([]byte("k2"), "id_card", "43244919720119934X"),
		"another type":   PersonKey(key, "passport", "43244919720119934X"),
		"another number": PersonKey(key, "id_card", "432449197201199348"),
		"shifted split":  PersonKey(key, "id_car", "d43244919720119934X"),
	}
	for what, got := range differ {
		if got == a {
			t.Errorf("%s: same key %s", what, got)
		}
	}
}
