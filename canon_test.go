package voucherwatch

import (
	"strings"
	"testing"
	"unicode/utf8"
)

// sameAndApart checks a canonical form on fixtures: every citation of a group has the group's
// first citation's form, and no two groups share one (each group's look-alikes are the other
// groups).
func sameAndApart(t *testing.T, canon func(string) string, groups map[string][]string) {
	t.Helper()
	owner := map[string]string{}
	for name, cites := range groups {
		want := canon(cites[0])
		for _, c := range cites[1:] {
			if got := canon(c); got != want {
				t.Errorf("%s: canon(%q) = %q, want %q as for %q", name, c, got, want, cites[0])
			}
		}
		if other, ok := owner[want]; ok {
			t.Errorf("%s and %s share the canonical form %q: different things merged", name, other, want)
		}
		owner[want] = name
	}
}

func TestCanonicalInvoice(t *testing.T) {
	type cite struct{ code, number string }
	f := func(name string, want string, wantForm InvoiceForm, cites ...cite) {
		t.Helper()
		for _, c := range cites {
			key, form := CanonicalInvoice(c.code, c.number)
			if key != want || form != wantForm {
				t.Errorf("%s: CanonicalInvoice(%q, %q) = %q, %s, want %q, %s", name, c.code, c.number, key, form, want, wantForm)
			}
		}
	}
	// A paper invoice with a 12-digit code, split, joined, with separators, full-width digits,
	// lost leading zeros.
	f("paperSplitOrJoined", "04300190010400012345", InvoicePaper,
		cite{"043001900104", "00012345"},
		cite{"043001900104", "12345"},
		cite{"43001900104", "00012345"}, // a spreadsheet dropped the code's leading 0
		cite{"", "04300190010400012345"},
		cite{"04300190010400012345", ""},
		cite{"", "043001900104-00012345"},
		cite{"", "043001900104 12345"}, // joined with a space: the number's zeros are back
		cite{" ０４３００１９００１０４ ", "No.00012345"},
		cite{"043001900104", "Ｎｏ．００１２３４５"},
		cite{"0430-0190-0104", "0001 2345"})
	// A 10-digit code (special VAT invoice).
	f("paperTenDigitCode", "430019413000067890", InvoicePaper,
		cite{"4300194130", "00067890"},
		cite{"4300194130", "67890"},
		cite{"", "430019413000067890"},
		cite{"", "4300194130/67890"},
		cite{"4300194130 67890", ""})
	// A fully digital invoice: the 20 digits alone, in both fields, or split 12+8 as a legacy
	// form with a code field asks.
	f("paperVsDigitalSameInvoice", "24432000000012345678", InvoiceDigital,
		cite{"", "24432000000012345678"},
		cite{"24432000000012345678", "24432000000012345678"},
		cite{"24432000000012345678", ""},
		cite{"244320000000", "12345678"},
		cite{"244320000000", "24432000000012345678"},
		cite{"", "2443 2000 0000 1234 5678"},
		cite{"", "２４４３２０００００００１２３４５６７８"})
	// Look-alikes, each its own invoice.
	f("consecutiveInvoiceNumbers", "04300190010400012346", InvoicePaper, cite{"043001900104", "00012346"})
	f("sameNumberOtherCode", "04300190020400012345", InvoicePaper, cite{"043001900204", "00012345"})
	f("consecutiveDigitalNumbers", "24432000000012345679", InvoiceDigital, cite{"", "24432000000012345679"})
	f("numberWithoutCode", "00012345", InvoiceUnknown, cite{"", "00012345"})
	f("notAnInvoice", "|INV-2024-001", InvoiceUnknown, cite{"", "INV-2024-001"})
	f("codeTooShort", "123|00012345", InvoiceUnknown, cite{"123", "00012345"})
	f("digitalNumberUnderAPaperCode", "043001900104|24432000000012345678", InvoiceUnknown,
		cite{"043001900104", "24432000000012345678"})
}

func TestInvoiceFormString(t *testing.T) {
	for f, want := range map[InvoiceForm]string{InvoicePaper: "paper", InvoiceDigital: "digital", InvoiceUnknown: "unknown"} {
		if got := f.String(); got != want {
			t.Errorf("InvoiceForm(%d).String() = %q, want %q", f, got, want)
		}
	}
}

func TestCanonicalPhone(t *testing.T) {
	sameAndApart(t, CanonicalPhone, map[string][]string{
		"landlineWithoutTrunkZero": {
			"0731-88888888", "0731-8888 8888", "(0731) 88888888", "（０７３１）８８８８８８８８",
			"731 88888888", "+86 731 8888 8888", "+86 (0)731 88888888", "0086-731-88888888",
			"86 731 88888888", "+86-731-88888888", "0731.8888.8888",
		},
		"landlineExtensionDropped": {
			"0731-88888887", "0731-88888887转8021", "0731-88888887 ext. 12", "0731-88888887x12",
			"0731-88888887#12", "0731-88888887-801", "0731-88888887 分机 3", "+86 731 88888887,2",
		},
		"beijingTwoDigitArea": {"010-62345678", "+86 10 6234 5678", "10 62345678"},
		"mobile": {
			"13800138000", "138 0013 8000", "138-0013-8000", "+86 138 0013 8000", "+8613800138000",
			"008613800138000", "8613800138000", "013800138000", "138-0013-8000-12", "+86 (0) 138 0013 8000", "１３８００１３８０００",
		},
		// Look-alikes.
		"nextMobile":             {"13800138001"},
		"sameLocalOtherCity":     {"0734-88888888"}, // Hengyang, not Changsha
		"localNumberUnknownArea": {"88888888", "8888 8888"},
		"otherCountry":           {"+1 650 253 0000", "001 650 253 0000"},
	})
	// A mobile and a landline of the same digits after the area never meet.
	if a, b := CanonicalPhone("0731-88888888"), CanonicalPhone("88888888"); a == b {
		t.Errorf("landline %q and local number %q merged", a, b)
	}
	if got := CanonicalPhone("0731-88888888"); got != "+8673188888888" {
		t.Errorf("CanonicalPhone(0731-88888888) = %q, want +8673188888888", got)
	}
	if got := CanonicalPhone("138 0013 8000"); got != "+8613800138000" {
		t.Errorf("CanonicalPhone(138 0013 8000) = %q, want +8613800138000", got)
	}
}

func TestCanonicalEmail(t *testing.T) {
	sameAndApart(t, CanonicalEmail, map[string][]string{
		"gmailDotsAndTags": {
			"zhang.wei@gmail.com", "Zhang.Wei@Gmail.com", "zhangwei@gmail.com", "z.h.a.n.g.wei+voucher@gmail.com",
			"zhangwei@googlemail.com", " zhangwei@GMAIL.COM ", "ｚｈａｎｇｗｅｉ＠ｇｍａｉｌ．ｃｏｍ",
		},
		"outlookTagsNotDots": {"li.na@outlook.com", "li.na+claims@outlook.com", "LI.NA@OUTLOOK.COM"},
		"qqCase":             {"12345678@qq.com", "12345678@QQ.com"},
		// Look-alikes: providers that keep dots and tags, and other people.
		"qqDotsMatter":         {"zhang.wei@qq.com"},
		"qqNoDots":             {"zhangwei@qq.com"},
		"neteaseDotsMatter":    {"zhang.wei@163.com"},
		"neteaseNoDots":        {"zhangwei@163.com"},
		"neteaseTagIsAMailbox": {"zhangwei+a@163.com"},
		"outlookDotsMatter":    {"lina@outlook.com"},
		"otherGmailUser":       {"zhang.wei2@gmail.com"},
	})
}

func TestCanonicalBankAccount(t *testing.T) {
	sameAndApart(t, CanonicalBankAccount, map[string][]string{
		"accountWithSeparators": {
			"6222 0243 0100 1234 567", "6222-0243-0100-1234-567", "6222024301001234567",
			"６２２２０２４３０１００１２３４５６７",
		},
		"leadingZerosKept":           {"0019 0123 4567 8901"},
		"withoutLeadingZeros":        {"1901 2345 6789 01"},
		"sameBankBranchOtherAccount": {"6222 0243 0100 1234 568"},
	})
}

func TestCanonicalIDNumber(t *testing.T) {
	// GB 11643-1999 Appendix example: 11010519491231002X.
	if got := IDNumberCheck("11010519491231002"); got != 'X' {
		t.Errorf("IDNumberCheck(11010519491231002) = %c, want X", got)
	}
	f := func(in, want string, wantOK bool) {
		t.Helper()
		got, ok := CanonicalIDNumber(in)
		if got != want || ok != wantOK {
			t.Errorf("CanonicalIDNumber(%q) = %q, %v, want %q, %v", in, got, ok, want, wantOK)
		}
	}
	f("11010519491231002X", "11010519491231002X", true)
	f("11010519491231002x", "11010519491231002X", true)
	f(" 110105 19491231 002x", "11010519491231002X", true)
	f("１１０１０５１９４９１２３１００２Ｘ", "11010519491231002X", true)
	f("110105491231002", "11010519491231002X", true) // legacy 15 digits: century and check added
	f("430102720119934", "43010219720119934"+string(IDNumberCheck("43010219720119934")), true)
	// Look-alikes and malformed numbers keep their own cleaned form.
	f("110105491231003", "11010519491231003"+string(IDNumberCheck("11010519491231003")), true)
	f("110105194912310021", "110105194912310021", false) // wrong check character
	f("11010519491231", "11010519491231", false)
	f("E12345678", "E12345678", false)
}

func TestCanonicalName(t *testing.T) {
	sameAndApart(t, CanonicalName, map[string][]string{
		"traditionalCompanyName": {
			"湖南长沙华电云网科技有限公司", "湖南長沙華電雲網科技有限公司", "湖南 長沙 華電雲網科技有限公司",
		},
		"fullWidthBrackets": {
			"长沙星算科技有限公司（湘江分公司）", "长沙星算科技有限公司(湘江分公司)", "長沙星算科技有限公司（湘江分公司）",
		},
		"latinWidthAndCase":        {"ＡＢＣ算力（湖南）有限公司", "abc算力(湖南)有限公司", "ABC 算力 (湖南) 有限公司"},
		"latinWords":               {"Hunan Cloud Compute Co., Ltd.", "HUNAN  CLOUD COMPUTE CO., LTD.", "hunan cloud compute co.,ltd."},
		"transliteratedPersonName": {"阿依古丽·买买提", "阿依古丽・买买提", "阿依古丽•买买提", "阿依古丽‧買買提"},
		"traditionalPersonName":    {"张伟", "張偉", "张 伟"},
		"networkAndIndustryWords":  {"湖南网络数据链科技有限公司", "湖南網絡數據鏈科技有限公司"},
		"surnamesTraditional":      {"陈刘杨黄赵吴郑孙马罗邓萧叶苏卢许韩冯谭赖", "陳劉楊黃趙吳鄭孫馬羅鄧蕭葉蘇盧許韓馮譚賴"},
		// Look-alikes: another legal form, another branch, another person.
		"limitedLiabilityIsAnotherName": {"湖南长沙华电云网科技有限责任公司"},
		"parentCompany":                 {"长沙星算科技有限公司"},
		"otherPersonSameSurname":        {"张伟明"},
		"latinWordsRunTogether":         {"HUNANCLOUD COMPUTE CO., LTD."},
	})
	if got := CanonicalName("湖南長沙華電有限公司"); got != "湖南长沙华电有限公司" {
		t.Errorf("CanonicalName(湖南長沙華電有限公司) = %q, want 湖南长沙华电有限公司", got)
	}
	// A character the table does not know is kept as it is.
	if got := CanonicalName("乾坤"); got != "乾坤" {
		t.Errorf("CanonicalName(乾坤) = %q, want it unchanged", got)
	}
}

// TestHantTable checks the traditional→simplified table: every entry is one pair of two
// characters, a simplified character is never itself mapped (so the mapping is idempotent and
// order-free), and the characters the brief lists are covered.
func TestHantTable(t *testing.T) {
	for _, p := range strings.Fields(hantPairs) {
		if utf8.RuneCountInString(p) != 2 {
			t.Errorf("hantPairs entry %q is not two characters", p)
		}
	}
	for trad, simp := range hantToHans {
		if again, ok := hantToHans[simp]; ok {
			t.Errorf("%c→%c but %c→%c too: not idempotent", trad, simp, simp, again)
		}
	}
	if n := len(hantToHans); n < 500 {
		t.Errorf("hantToHans has %d characters, want at least 500", n)
	}
	for _, p := range strings.Fields("灣湾 華华 東东 長长 電电 腦脑 雲云 網网 龍龙 鳳凤 國国 業业 與与 資资 訊讯 計计 機机 術术 務务 發发 開开 區区 廣广 張张 陳陈 劉刘 楊杨 黃黄 趙赵 吳吴 鄭郑 孫孙 馬马 羅罗 鄧邓 蕭萧 葉叶 蘇苏 盧卢 許许 韓韩 馮冯 譚谭 賴赖") {
		r := []rune(p)
		if got := hantToHans[r[0]]; got != r[1] {
			t.Errorf("hantToHans[%c] = %q, want %c", r[0], got, r[1])
		}
	}
}

var sink string

func BenchmarkCanonicalPhone(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		sink = CanonicalPhone("+86 (0731) 8888-8888 转 801")
	}
}

func BenchmarkCanonicalInvoice(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		sink, _ = CanonicalInvoice("043001900104", "12345")
	}
}

func BenchmarkCanonicalInvoiceDigital(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		sink, _ = CanonicalInvoice("", "24432000000012345678")
	}
}

func BenchmarkCanonicalIDNumber(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		sink, _ = CanonicalIDNumber("110105491231002")
	}
}

func BenchmarkCanonicalName(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		sink = CanonicalName("湖南長沙華電雲網科技有限公司（湘江分公司）")
	}
}

// BenchmarkCopyBaseline is the floor the canonical forms are measured against: copying a
// 20-byte identifier into a new string, which is what storing any form costs at least.
func BenchmarkCopyBaseline(b *testing.B) {
	b.ReportAllocs()
	src := []byte("04300190010400012345")
	for b.Loop() {
		sink = string(src)
	}
}

// The canonical forms are fixed points: the canonical form of a canonical form is itself, so a
// stored canonical value may be canonicalised again (by a later version, or on a look-up) and
// still match. The seeds run with every go test; go test -fuzz explores further.

func fuzzIdempotent(f *testing.F, canon func(string) string, seeds ...string) {
	for _, s := range seeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		once := canon(s)
		if twice := canon(once); twice != once {
			t.Errorf("canon(%q) = %q, but canon(%q) = %q", s, once, once, twice)
		}
	})
}

func FuzzCanonicalPhone(f *testing.F) {
	fuzzIdempotent(f, CanonicalPhone, "0731-88888888-801", "+86 (0)731 8888 8888 转 12", "731 88888888",
		"008613800138000", "88888888", "+1 650 253 0000", "tel 123", "0731-8888888-12", "010-62345678x9",
		"0000") // found by the fuzzer: the trunk 0 was stripped twice
}

func FuzzCanonicalInvoice(f *testing.F) {
	for _, s := range [][2]string{{"043001900104", "12345"}, {"", "24432000000012345678"},
		{"244320000000", "12345678"}, {"", "4300194130/67890"}, {"12", "3"}, {"No.1", "x"}} {
		f.Add(s[0], s[1])
	}
	f.Fuzz(func(t *testing.T, code, number string) {
		key, form := CanonicalInvoice(code, number)
		if form == InvoiceUnknown {
			return
		}
		if again, againForm := CanonicalInvoice("", key); again != key || againForm != form {
			t.Errorf("CanonicalInvoice(%q, %q) = %q, %s, but its key joined gives %q, %s", code, number, key, form, again, againForm)
		}
	})
}

func FuzzCanonicalIDNumber(f *testing.F) {
	fuzzIdempotent(f, func(s string) string { c, _ := CanonicalIDNumber(s); return c },
		"110105491231002", "11010519491231002x", " 4301 0219 7201 1993 44", "E12345678", "军字第1234567号")
}

func FuzzCanonicalEmail(f *testing.F) {
	fuzzIdempotent(f, CanonicalEmail, "Zhang.Wei+x@GoogleMail.com", "a.b@qq.com", "no-at-sign", "a@b@c", "x+@gmail.com")
}

func FuzzCanonicalBankAccount(f *testing.F) {
	fuzzIdempotent(f, CanonicalBankAccount, "6222 0243-0100 1234 567", "６２２２", "acct: 1", "GB33BUKB20201555555555",
		"\f0a") // found by the fuzzer: a form feed was not taken for a separator
}

func FuzzCanonicalName(f *testing.F) {
	fuzzIdempotent(f, CanonicalName, "湖南長沙華電有限公司（湘江分公司）", "Hunan  Cloud Co., Ltd.", "阿依古丽‧買買提", " a  b ")
}
