package voucherwatch

import "testing"

func TestParseMoney(t *testing.T) {
	f := func(in string, want Money, wantOK bool) {
		t.Helper()
		got, ok := ParseMoney(in)
		if got != want || ok != wantOK {
			t.Errorf("ParseMoney(%q): got %d %v, want %d %v", in, got, ok, want, wantOK)
		}
	}
	f("128000.00", 12_800_000, true)
	f("5", 500, true)
	f("0.5", 50, true)
	f("-16183.16", -1_618_316, true)
	f("999999999999999.99", 99_999_999_999_999_999, true)
	f("1.234", 0, false)    // three decimals
	f("1.", 0, false)       // a dot without decimals
	f(".5", 0, false)       // no integer part
	f("1e5", 0, false)      // not a decimal string
	f("1,000.00", 0, false) // grouping
	f("", 0, false)
	f("1234567890123456", 0, false) // 16 integer digits
}

func TestMoneyString(t *testing.T) {
	for m, want := range map[Money]string{12_800_000: "128000.00", 5: "0.05", -1_618_316: "-16183.16", 0: "0.00", 50: "0.50"} {
		if got := m.String(); got != want {
			t.Errorf("Money(%d).String(): got %q, want %q", m, got, want)
		}
		if back, ok := ParseMoney(want); !ok || back != m {
			t.Errorf("round trip of %q: got %d, want %d", want, back, m)
		}
	}
}

func TestCityCode(t *testing.T) {
	f := func(in, want string, wantOK bool) {
		t.Helper()
		got, ok := CityCode(in)
		if got != want || ok != wantOK {
			t.Errorf("CityCode(%q): got %q %v, want %q %v", in, got, ok, want, wantOK)
		}
	}
	f("430100", "430100", true)
	f("长沙市", "430100", true)
	f("长沙", "430100", true)
	f("湘西州", "433100", true)
	f("湘西土家族苗族自治州", "433100", true)
	f("430000", "", false) // the province, not a 市州
	f("北京市", "", false)
}

func TestAlertIDIsStableAndDistinguishesSubjects(t *testing.T) {
	s := Subjects{ApplicantUSCC: "91431100X9GTAG5PLH", ClaimID: "SB2026-00117", InvoiceNo: "81710793371807343696"}
	a := AlertID(DetectorDuplicateClaim, s)
	if b := AlertID(DetectorDuplicateClaim, s); a != b {
		t.Errorf("got %s then %s for the same finding, want one id", a, b)
	}
	other := s
	other.InvoiceCode = "043001900111"
	if AlertID(DetectorDuplicateClaim, other) == a {
		t.Errorf("got the same id for another invoice code, want a different one")
	}
	if AlertID(DetectorPrice, s) == a {
		t.Errorf("got the same id for another detector, want a different one")
	}
	// The kind is not part of the id: a stronger tie on the same subjects updates the alert.
	weak, strong := LegacyAlertID(DetectorRelatedParty, "shared_person", s), LegacyAlertID(DetectorRelatedParty, "direct_stake", s)
	if weak == strong || weak == AlertID(DetectorRelatedParty, s) {
		t.Errorf("got legacy ids %s and %s and id %s, want the legacy ids to differ by kind and from the id", weak, strong, AlertID(DetectorRelatedParty, s))
	}
}
