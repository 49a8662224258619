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

// TestPersonKeyLegacyIDNumber: a person who registered with the legacy 15-digit identity number
// on one record and the 18-digit one on another is one person (GB 11643-1999 conversion), and
// two people with the same name and birth date are two.
func TestPersonKeyLegacyIDNumber(t *testing.T) {
	key := []byte("k1")
	f := func(name, a, b string, same bool) {
		t.Helper()
		ka, kb := PersonKey(key, "id_card", a), PersonKey(key, "id_card", b)
		if (ka == kb) != same {
			t.Errorf("%s: PersonKey(%q) == PersonKey(%q) is %v, want %v", name, a, b, ka == kb, same)
		}
	}
	// 430102 720119 934: born 1972-01-19 in Changsha; its 18-digit form is 43010219720119934 and
	// the check character GB 11643 computes, 4.
	f("legacyAndCurrentNumber", "430102720119934", "430102197201199344", true)
	f("legacyFullWidth", "４３０１０２７２０１１９９３４", "430102197201199344", true)
	f("sameNameSameBirthDateOtherPerson", "430102720119934", "430102197201199352", false)
	f("sameNameSameBirthDateOtherPersonLegacy", "430102720119934", "430102720119935", false)
	// Another document type is never converted: a passport's digits are the passport's.
	if PersonKey(key, "passport", "430102720119934") == PersonKey(key, "passport", "430102197201199344") {
		t.Errorf("passport numbers converted as identity card numbers")
	}
}
