package detectors

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/voucherwatch/voucherwatch"
	"github.com/voucherwatch/voucherwatch/detectors/detectortest"
	"github.com/voucherwatch/voucherwatch/ingest"
	"github.com/voucherwatch/voucherwatch/rules"
)

// TestRelatedPartyCanonicalForms: related_party compares contacts, accounts, people and holders
// on their canonical forms (docs/canonical.md), against the real ClickHouse. Each case is one
// buyer and one supplier that trade; a tie written two ways is found, and its look-alike (two
// things that only look alike) raises nothing high or medium.
func TestRelatedPartyCanonicalForms(t *testing.T) {
	f := newRPFixture()
	// A person keyed as ingest keys them, from the identity number as written.
	personWithID := func(name, id string) voucherwatch.Person {
		f.n++
		return voucherwatch.Person{Name: name, IDType: "id_card", Key: ingest.PersonKey([]byte(detectortest.PIIKey), "id_card", id),
			Masked: voucherwatch.MaskIDNumber(id), Phone: fmt.Sprintf("137%08d", f.n), Email: fmt.Sprintf("p%d@example.cn", f.n)}
	}
	cases := []struct {
		name    string
		tie     bool // a tie must be found (high or medium); else none may be
		kind    string
		prepare func(b, s *voucherwatch.Entity)
	}{
		{"mobileWithPlus86", true, KindSharedContact, func(b, s *voucherwatch.Entity) {
			s.Contacts[0].Phone, b.Contacts[0].Phone = "13912345678", "+86 139 1234 5678"
		}},
		{"mobileWith0086AndDashes", true, KindSharedContact, func(b, s *voucherwatch.Entity) {
			s.Contacts[0].Phone, b.Contacts[0].Phone = "13912345679", "0086-139-1234-5679"
		}},
		{"landlineWithoutTrunkZero", true, KindSharedContact, func(b, s *voucherwatch.Entity) {
			s.Contacts[0].Phone, b.Contacts[0].Phone = "0731-88886666", "+86 731 8888 6666 转 801"
		}},
		{"sameLocalOtherCity", false, "", func(b, s *voucherwatch.Entity) {
			s.Contacts[0].Phone, b.Contacts[0].Phone = "0731-88887777", "0730-88887777"
		}},
		{"emailCase", true, KindSharedContact, func(b, s *voucherwatch.Entity) {
			s.Contacts[0].Email, b.Contacts[0].Email = "finance@hnzs.cn", " Finance@HNZS.cn"
		}},
		{"gmailDots", true, KindSharedContact, func(b, s *voucherwatch.Entity) {
			s.Contacts[0].Email, b.Contacts[0].Email = "zhang.wei.hn@gmail.com", "ZhangWeiHN+vw@googlemail.com"
		}},
		{"qqDotsMatter", false, "", func(b, s *voucherwatch.Entity) {
			s.Contacts[0].Email, b.Contacts[0].Email = "li.na@qq.com", "lina@qq.com"
		}},
		{"accountInGroups", true, KindSharedBankAccount, func(b, s *voucherwatch.Entity) {
			b.BankAccounts = append(b.BankAccounts, voucherwatch.BankAccount{Bank: s.BankAccounts[0].Bank,
				AccountNo: s.BankAccounts[0].AccountNo[:4] + " " + s.BankAccounts[0].AccountNo[4:8] + "-" + s.BankAccounts[0].AccountNo[8:]})
		}},
		{"sameBankBranchOtherAccount", false, "", func(b, s *voucherwatch.Entity) {
			no := s.BankAccounts[0].AccountNo
			b.BankAccounts = append(b.BankAccounts, voucherwatch.BankAccount{Bank: s.BankAccounts[0].Bank, AccountNo: no[:len(no)-3] + "999"})
		}},
		{"legacyIDCard", true, KindSharedOfficer, func(b, s *voucherwatch.Entity) {
			b.Officers = append(b.Officers, voucherwatch.Officer{Role: "director", Person: personWithID("赵立新", "11010519491231002X")})
			s.Officers = append(s.Officers, voucherwatch.Officer{Role: "supervisor", Person: personWithID("赵立新", "110105491231002")})
		}},
		{"sameNameSameBirthDateOtherPerson", false, "", func(b, s *voucherwatch.Entity) {
			b.Officers = append(b.Officers, voucherwatch.Officer{Role: "director", Person: personWithID("王伟", "430101198001010031")})
			s.Officers = append(s.Officers, voucherwatch.Officer{Role: "director", Person: personWithID("王伟", "430101198001010058")})
		}},
		{"holderNamedInTraditionalFullWidth", true, KindDirectStake, func(b, s *voucherwatch.Entity) {
			b.Shareholders[0].SharePct -= 12
			b.Shareholders = append(b.Shareholders, voucherwatch.Holder{Kind: "enterprise", Name: "湖南長沙華電數據（麓谷）有限公司", SharePct: 12})
		}},
		{"sameBuildingOtherFloor", false, "", func(b, s *voucherwatch.Entity) {
			s.OfficeAddress, b.OfficeAddress = "长沙市岳麓区麓谷大道627号麓谷企业广场F2栋12层", "长沙市岳麓区麓谷大道627号麓谷企业广场F2栋15层"
		}},
	}
	type pair struct{ b, s *voucherwatch.Entity }
	pairs := make([]pair, len(cases))
	for i, c := range cases {
		name := fmt.Sprintf("湖南测试%02d", i)
		if c.name == "holderNamedInTraditionalFullWidth" {
			name = "湖南长沙华电数据(麓谷)有限公司"
		}
		s := f.supplier(name+"算力", "A800")
		if c.name == "holderNamedInTraditionalFullWidth" {
			s.Name = name
		}
		b := f.firm(fmt.Sprintf("湖南客户%02d科技有限公司", i))
		c.prepare(b, s)
		f.trade(s, b)
		pairs[i] = pair{b, s}
	}
	db := f.store(t)
	alerts := rpRun(t, NewRelatedParty(Env{DB: db, Policy: rules.Default()}))
	rpCheckNoIdentityNumbers(t, f, alerts)
	for i, c := range cases {
		a, found := rpAlertFor(alerts, pairs[i].b.USCC, pairs[i].s.USCC)
		strong := found && (a.Severity == voucherwatch.SeverityHigh || a.Severity == voucherwatch.SeverityMedium)
		switch {
		case c.tie && !strong:
			t.Errorf("%s: got no high or medium alert, want the %s tie", c.name, c.kind)
		case c.tie && !slices.Contains(rpTieKinds(a), c.kind):
			t.Errorf("%s: got ties %v, want %s", c.name, rpTieKinds(a), c.kind)
		case !c.tie && strong:
			t.Errorf("%s: got %s alert %s (%v), want none: a look-alike", c.name, a.Severity, a.Kind, rpTieKinds(a))
		}
	}
}

// TestDuplicateClaimCanonicalInvoices: duplicate_claim takes one invoice cited in two valid
// forms for one invoice, and tells the supervisor so, showing both forms; consecutive numbers
// and one number under another code stay two invoices. Real ClickHouse, one case per pair of
// claims.
func TestDuplicateClaimCanonicalInvoices(t *testing.T) {
	cases := []struct {
		name           string
		settled        [2]string // the invoice as the supplier's settlement writes it
		first, second  [2]string // as the two claims cite it
		sameInvoice    bool
		wantFormsShown bool
	}{
		{"paperJoinedVsSplit", [2]string{"043001900104", "00012345"}, [2]string{"043001900104", "00012345"}, [2]string{"", "04300190010400012345"}, true, true},
		{"paperLostLeadingZeros", [2]string{"043001900104", "00012346"}, [2]string{"043001900104", "00012346"}, [2]string{"043001900104", "12346"}, true, true},
		{"paperCodeLostItsZero", [2]string{"043001900104", "00012347"}, [2]string{"043001900104", "00012347"}, [2]string{"43001900104", "00012347"}, true, true},
		{"digitalCitedSplit", [2]string{"", "26432000123456789012"}, [2]string{"", "26432000123456789012"}, [2]string{"264320001234", "56789012"}, true, true},
		{"digitalRepeatedInCode", [2]string{"", "26432000123456789013"}, [2]string{"", "26432000123456789013"}, [2]string{"26432000123456789013", "26432000123456789013"}, true, true},
		{"sameFormTwice", [2]string{"043001900104", "00012348"}, [2]string{"043001900104", "00012348"}, [2]string{"043001900104", "00012348"}, true, false},
		{"consecutiveInvoiceNumbers", [2]string{"043001900104", "00012349"}, [2]string{"043001900104", "00012349"}, [2]string{"", "04300190010400012350"}, false, false},
		{"sameNumberOtherCode", [2]string{"043001900105", "00012351"}, [2]string{"043001900105", "00012351"}, [2]string{"043001900106", "00012351"}, false, false},
	}
	f := newDupFixture()
	for i, c := range cases {
		no := fmt.Sprintf("HT-%d", i)
		f.contract(dupSupplierS, dupBuyerA, no, "A800", "10.00")
		f.settlement(dupSettle{supplier: dupSupplierS, buyer: dupBuyerA, contract: no, code: c.settled[0], no: c.settled[1],
			amount: "1000.00", paid: "2026-03-10"})
		f.claim(fmt.Sprintf("SB-%d-1", i), dupBuyerA, "2026-10-10", []string{no}, c.first[0]+"/"+c.first[1]+"=1000.00")
		f.claim(fmt.Sprintf("SB-%d-2", i), dupBuyerB, "2026-10-20", nil, c.second[0]+"/"+c.second[1]+"=1000.00")
	}
	db := detectortest.NewDB(t)
	detectortest.Store(t, db, f.recs...)
	alerts, err := NewDuplicateClaim(Env{DB: db, Policy: rules.Default()}).Run(context.Background(), dupAt)
	if err != nil {
		t.Fatal(err)
	}
	for i, c := range cases {
		var got *voucherwatch.Alert
		for k := range alerts {
			if alerts[k].Kind == KindInvoiceInTwoClaims && alerts[k].Subjects.ClaimID == fmt.Sprintf("SB-%d-2", i) {
				got = &alerts[k]
			}
		}
		switch {
		case c.sameInvoice && got == nil:
			t.Errorf("%s: got no invoice_in_two_claims alert on the second claim, want one", c.name)
			continue
		case !c.sameInvoice && got != nil:
			t.Errorf("%s: got alert %s (%s), want none: two invoices", c.name, got.ID, got.Reason)
			continue
		case got == nil:
			continue
		}
		if got.Subjects.InvoiceCode != c.settled[0] || got.Subjects.InvoiceNo != c.settled[1] {
			t.Errorf("%s: got subjects invoice %s/%s, want it as settled, %s/%s", c.name, got.Subjects.InvoiceCode, got.Subjects.InvoiceNo, c.settled[0], c.settled[1])
		}
		forms, shown := evFacts(got.Evidence)["cited_forms"].([]any)
		formMaps := evList(forms)
		if shown != c.wantFormsShown {
			t.Errorf("%s: got cited_forms %v, want shown %v", c.name, evFacts(got.Evidence)["cited_forms"], c.wantFormsShown)
		}
		if shown {
			var written []string
			for _, fm := range formMaps {
				written = append(written, fmt.Sprint(fm["invoice_code"], "/", fm["invoice_no"]))
			}
			if want := c.second[0] + "/" + c.second[1]; !slices.Contains(written, want) {
				t.Errorf("%s: got forms %v, want the second claim's %s among them", c.name, written, want)
			}
			if !strings.Contains(got.Reason, "不同写法") {
				t.Errorf("%s: got reason %q, want it to say the invoice was cited in different forms", c.name, got.Reason)
			}
		}
	}
}
