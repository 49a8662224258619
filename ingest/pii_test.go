package ingest

import (
	"regexp"
	"testing"
)

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
