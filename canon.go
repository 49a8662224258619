package voucherwatch

import (
	"bytes"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// Canonical forms of the identifiers the detectors compare (issue 16, family 1). Each function
// turns one identifier, written in any of the forms senders use for it, into one string that is
// equal for two citations of the same thing and different for two different things. The
// original stays what the evidence shows; the canonical form is only compared. The rules, their
// sources and what each form deliberately keeps apart are in docs/canonical.md.

// foldWidth maps a full-width ASCII variant (U+FF01..U+FF5E) to its ASCII character and the
// ideographic space to a space; other runes are returned unchanged. It is the part of NFKC the
// number forms need, without NFKC's cost on the hot path.
func foldWidth(r rune) rune {
	switch {
	case r >= 0xFF01 && r <= 0xFF5E:
		return r - 0xFEE0
	case r == 0x3000:
		return ' '
	}
	return r
}

// nextRune decodes the rune at s[i] folded by foldWidth, and the index after it.
func nextRune(s string, i int) (rune, int) {
	if c := s[i]; c < utf8.RuneSelf {
		return rune(c), i + 1
	}
	r, n := utf8.DecodeRuneInString(s[i:])
	return foldWidth(r), i + n
}

// isNumberSeparator reports whether r only separates groups of digits in a number as people write it.
func isNumberSeparator(r rune) bool {
	switch r {
	case ' ', '\t', '\n', '\r', '-', '.', '/', '_', '(', ')', '\u00a0', '\u2010', '\u2011',
		'\u2012', '\u2013', '\u2014', '\u2212', '\u3001', '\uff64':
		return true
	}
	return unicode.IsSpace(r)
}

// InvoiceForm says which kind of invoice a canonical invoice key stands for.
type InvoiceForm uint8

// The forms of an invoice citation.
const (
	// InvoiceUnknown is a citation that is neither form below (a number without its code, or
	// characters no invoice has). Its key is the citation cleaned of separators, and only an
	// identical key may be taken for the same invoice.
	InvoiceUnknown InvoiceForm = iota
	// InvoicePaper is a paper (or electronic ordinary) VAT invoice: a 10- or 12-digit invoice
	// code (发票代码) and an 8-digit number (发票号码). Its key is the 18 or 20 digits code‖number.
	InvoicePaper
	// InvoiceDigital is a fully digital invoice (全面数字化的电子发票, 数电票/全电发票): one
	// 20-digit number and no code. Its key is the 20 digits.
	InvoiceDigital
)

// String returns the form's name as the evidence shows it.
func (f InvoiceForm) String() string {
	switch f {
	case InvoicePaper:
		return "paper"
	case InvoiceDigital:
		return "digital"
	}
	return "unknown"
}

// CanonicalInvoice returns the key of the invoice a citation names and the form it has, so that
// two citations of one invoice have the same key however they were written:
//   - full-width digits are folded and separators (spaces, dashes, dots, slashes, parentheses)
//     dropped, and a leading "No" or "NO." is ignored;
//   - the code and number may come split (code in code, number in number) or joined (all in
//     number, or all in code, with or without a separator between the two parts);
//   - a paper invoice number shorter than 8 digits gets its leading zeros back, and an
//     11-digit code the leading 0 a spreadsheet dropped from a 12-digit code;
//   - a fully digital invoice's 20-digit number cited split, as legacy forms with a code and a
//     number field ask (its first 12 digits as code, its last 8 as number), is the digital
//     invoice; a 20-digit number starts with the 2-digit year of issue (20..99), a 12-digit
//     paper code with 0 or 1 (the tax authority digit), which is how the two are told apart.
//
// Different invoices never share a key: consecutive numbers differ, the same number under
// another code differs, and a number cited without its code is InvoiceUnknown (the same
// 8 digits recur under every code). Rules: GB/T 32905 and the State Taxation Administration's
// 2021-2024 notices on fully digital invoices; docs/canonical.md.
func CanonicalInvoice(code, number string) (key string, form InvoiceForm) {
	var cBuf, nBuf [24]byte
	c, cGroups, cOK := invoiceDigits(cBuf[:0], code)
	n, nGroups, nOK := invoiceDigits(nBuf[:0], number)
	if !cOK || !nOK {
		return strings.ToUpper(strings.TrimSpace(code)) + "|" + strings.ToUpper(strings.TrimSpace(number)), InvoiceUnknown
	}
	joined := number
	switch {
	case len(c) > 0 && len(n) == 0:
		c, n, nGroups, joined = nil, c, cGroups, code // all cited in the code field
	case len(n) == 20 && n[0] >= '2' && len(c) <= 20 && string(n[:len(c)]) == string(c):
		c = nil // the digital number repeated (or its first digits) in the code field
	}
	if len(c) == 0 {
		// Joined: a separator between two groups splits code from number; otherwise the length
		// does.
		if nGroups == 2 {
			if p := splitAt(joined); p > 0 && p < len(n) {
				c, n = n[:p], n[p:]
			}
		}
		if len(c) == 0 {
			switch {
			case len(n) == 20 && n[0] >= '2':
				return string(n), InvoiceDigital
			case len(n) == 20 || len(n) == 18:
				c, n = n[:len(n)-8], n[len(n)-8:]
			default:
				return string(n), InvoiceUnknown
			}
		}
	}
	if len(c) == 11 && c[0] != '0' {
		c = append([]byte{'0'}, c...)
	}
	if (len(c) != 10 && len(c) != 12) || len(n) > 8 || len(n) == 0 {
		return string(c) + "|" + string(n), InvoiceUnknown
	}
	out := make([]byte, 0, len(c)+8)
	out = append(out, c...)
	for i := len(n); i < 8; i++ {
		out = append(out, '0')
	}
	out = append(out, n...)
	if len(c) == 12 && c[0] >= '2' {
		return string(out), InvoiceDigital // a digital number cited split 12+8
	}
	return string(out), InvoicePaper
}

// invoiceDigits appends the digits of s to dst, folding width and dropping separators and a
// leading "No"; groups counts the runs of digits. ok is false when s holds anything else.
func invoiceDigits(dst []byte, s string) (digits []byte, groups int, ok bool) {
	s = strings.TrimSpace(s)
	if len(s) > 0 && s[0] >= utf8.RuneSelf {
		s = strings.Map(foldWidth, s) // a full-width "Ｎｏ．"
	}
	if len(s) >= 2 && (s[0] == 'N' || s[0] == 'n') && (s[1] == 'o' || s[1] == 'O') {
		s = strings.TrimLeft(s[2:], ".:： ")
	}
	in := false
	for i := 0; i < len(s); {
		var r rune
		r, i = nextRune(s, i)
		switch {
		case r >= '0' && r <= '9':
			dst = append(dst, byte(r))
			if !in {
				groups++
			}
			in = true
		case isNumberSeparator(r) || r == ':' || r == '：' || r == '|' || r == '#':
			in = false
		default:
			return dst, groups, false
		}
	}
	return dst, groups, true
}

// splitAt returns the number of digits before the first separator of s that follows a digit, or
// 0 when there is none.
func splitAt(s string) int {
	d := 0
	for i := 0; i < len(s); {
		var r rune
		r, i = nextRune(s, i)
		if r >= '0' && r <= '9' {
			d++
		} else if d > 0 {
			return d
		}
	}
	return 0
}

// CanonicalPhone returns a Chinese telephone number in one form: "+86" and the national
// significant number (the mobile's 11 digits, or the area code without its trunk 0 and the
// local number), so that 0731-8888 8888, (0731) 88888888, 731 88888888, +86 731 8888 8888 and
// 0086-731-88888888 are one number, and +86 138 0013 8000 and 13800138000 another. Full-width
// characters are folded, separators (space, -, ., /, parentheses) dropped, and an extension
// (after 转, 分机, ext, x, # or a comma, or a final dash group of up to 5 digits after a
// complete landline number) dropped: an extension reaches someone inside the same
// organisation. A country prefix is +86, 0086, or 86 before a number too long to be national.
// A local number without its area code (7 or 8 digits) is kept alone, never merged with a
// number of any area: every city has one like it. A number of another country keeps "+" and
// its digits. Anything with letters is returned as written, trimmed. Rules: ITU-T E.164, the
// numbering plan of the Ministry of Industry and Information Technology (电信网编号计划);
// docs/canonical.md.
func CanonicalPhone(s string) string {
	var buf [32]byte
	d := buf[:0]
	plus := false
	groups := 0       // digit groups seen
	lastGroup := 0    // digits in the last group
	lastDash := false // the last group followed a dash
	sepDash := false
	in := false
	for i := 0; i < len(s); {
		if extensionAt(s, i) {
			break
		}
		var r rune
		r, i = nextRune(s, i)
		switch {
		case r >= '0' && r <= '9':
			if len(d) == cap(d) {
				return strings.TrimSpace(s) // no telephone number is this long
			}
			d = append(d, byte(r))
			if !in {
				groups++
				lastGroup = 0
				lastDash = sepDash
			}
			lastGroup++
			in = true
		case r == '+' && len(d) == 0:
			plus = true
		case isNumberSeparator(r):
			if in {
				sepDash = r == '-' || r == '\u2013' || r == '\u2014' || r == '\u2212'
			}
			in = false
		default:
			return strings.TrimSpace(s) // letters: no number, compared as written
		}
	}
	national, intl := d, false
	switch {
	case plus && len(d) > 2 && d[0] == '8' && d[1] == '6':
		national, intl = d[2:], true
	case plus:
		return "+" + string(d)
	case len(d) > 4 && d[0] == '0' && d[1] == '0' && d[2] == '8' && d[3] == '6':
		national, intl = d[4:], true
	case len(d) > 4 && d[0] == '0' && d[1] == '0':
		return "+" + string(d[2:]) // another country's number
	case len(d) >= 12 && d[0] == '8' && d[1] == '6':
		national, intl = d[2:], true
	}
	if len(national) > 0 && national[0] == '0' {
		national = national[1:] // the trunk 0: 0731 and +86 731 are one area
		if len(national) == 0 || national[0] == '0' {
			return string(d) // no area code starts with 0: not a number
		}
	} else if !intl && len(national) <= 8 {
		return string(national) // a local number: its area is unknown
	}
	if isMobileNumber(national) {
		return "+86" + string(national[:11])
	}
	// A landline: area code (10, 2x or 3 digits) and a local number of 7 or 8 digits. Digits
	// after a complete landline number in their own dash group are an extension.
	area := 3
	if len(national) > 0 && (national[0] == '1' || national[0] == '2') {
		area = 2
	}
	if lastDash && groups >= 3 && lastGroup <= 5 && len(national)-lastGroup >= area+7 {
		national = national[:len(national)-lastGroup]
	}
	if len(national) > area+8 {
		national = national[:area+8] // digits after a complete number reach an extension
	}
	return "+86" + string(national)
}

// isMobileNumber reports whether n starts like a mainland mobile number, 1[3-9] and 11 digits
// at least (digits after the 11th reach an extension). No area code starts with 13..19.
func isMobileNumber(n []byte) bool {
	return len(n) >= 11 && n[0] == '1' && n[1] >= '3' && n[1] <= '9'
}

// extensionAt reports whether an extension marker starts at s[i].
func extensionAt(s string, i int) bool {
	switch c := s[i]; c {
	case 'x', 'X', '#', ',', ';', '~':
		return true
	case 'e', 'E':
		return len(s) >= i+3 && strings.EqualFold(s[i:i+3], "ext")
	case 0xE8: // 转 is E8 BD AC
		return strings.HasPrefix(s[i:], "转") || strings.HasPrefix(s[i:], "轉")
	case 0xE5: // 分 is E5 88 86
		return strings.HasPrefix(s[i:], "分机") || strings.HasPrefix(s[i:], "分機")
	case 0xEF: // full-width ＃ and ，
		return strings.HasPrefix(s[i:], "＃") || strings.HasPrefix(s[i:], "，") || strings.HasPrefix(s[i:], "；")
	}
	return false
}

// ignoresDots and ignoresTags are the mail providers whose mailboxes ignore dots in the local
// part, and those that deliver local+tag to local (subaddressing). Gmail documents both for
// gmail.com and googlemail.com (one mailbox); Outlook.com documents plus addresses for its
// domains but keeps dots. Every other provider, QQ Mail, NetEase (163.com, 126.com, yeah.net)
// and Sina among them, delivers a.b and ab to different mailboxes, so nothing is dropped there.
var (
	ignoresDots = map[string]bool{"gmail.com": true, "googlemail.com": true}
	ignoresTags = map[string]bool{
		"gmail.com": true, "googlemail.com": true,
		"outlook.com": true, "hotmail.com": true, "live.com": true, "msn.com": true,
	}
)

// CanonicalEmail returns an e-mail address in one form: full-width folded, spaces trimmed,
// lower case (every mainstream provider, Chinese ones included, treats the local part
// case-insensitively, although RFC 5321 allows otherwise), googlemail.com as gmail.com, and the
// dots and +tags dropped only where the provider ignores them (ignoresDots, ignoresTags). It
// returns the folded, lower-cased input when s has no single @.
func CanonicalEmail(s string) string {
	s = strings.ToLower(strings.TrimSpace(strings.Map(foldWidth, s)))
	at := strings.LastIndexByte(s, '@')
	if at <= 0 || at == len(s)-1 || strings.IndexByte(s, '@') != at {
		return s
	}
	local, domain := s[:at], strings.TrimSuffix(s[at+1:], ".")
	if ignoresTags[domain] {
		if p := strings.IndexByte(local, '+'); p > 0 {
			local = local[:p]
		}
	}
	if ignoresDots[domain] {
		local = strings.ReplaceAll(local, ".", "")
	}
	if domain == "googlemail.com" {
		domain = "gmail.com"
	}
	return local + "@" + domain
}

// CanonicalBankAccount returns a bank account number without its spaces, dashes and other
// separators, full-width digits folded and letters upper-cased. Leading zeros are kept: they are
// part of the account number, and two accounts of the same branch share every digit but a few.
func CanonicalBankAccount(s string) string {
	var buf [48]byte
	d := buf[:0]
	for i := 0; i < len(s); {
		var r rune
		r, i = nextRune(s, i)
		switch {
		case r >= '0' && r <= '9', r >= 'A' && r <= 'Z':
			d = append(d, byte(r))
		case r >= 'a' && r <= 'z':
			d = append(d, byte(r-'a'+'A'))
		case isNumberSeparator(r):
		default:
			return strings.TrimSpace(s) // not an account number: compared as written
		}
	}
	return string(d)
}

// idWeights are the weights of the first 17 digits of a resident identity number (GB
// 11643-1999): 2^(17-i) mod 11.
var idWeights = [17]int{7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2}

// IDNumberCheck returns the check character (0-9 or X) of a resident identity number whose
// first 17 characters are s[:17], or 0 when s is shorter or one of them is not a digit
// (GB 11643-1999, ISO 7064 MOD 11-2).
func IDNumberCheck(s string) byte {
	if len(s) < 17 {
		return 0
	}
	sum := 0
	for i := 0; i < 17; i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0
		}
		sum += int(s[i]-'0') * idWeights[i]
	}
	return "10X98765432"[sum%11]
}

// CanonicalIDNumber returns a resident identity number (居民身份证号码) in its 18-character
// form: full-width folded, spaces and dashes dropped, x upper-cased, and a legacy 15-digit
// number (issued before 1999: 6-digit division code, YYMMDD, 3-digit sequence) converted as
// GB 11643-1999 prescribes: "19" inserted before the 2-digit year, and the check character
// computed. ok reports whether the result is a well-formed 18-character number with the check
// character it calls for; when it is not, the result is still the cleaned input, so that the
// same mistyped number keys the same everywhere.
func CanonicalIDNumber(s string) (canon string, ok bool) {
	var buf [24]byte
	d := buf[:0]
	for i := 0; i < len(s); {
		var r rune
		r, i = nextRune(s, i)
		switch {
		case r >= '0' && r <= '9' || r == 'X':
			if len(d) == cap(d) {
				return normalizedID(s), false
			}
			d = append(d, byte(r))
		case r == 'x':
			if len(d) == cap(d) {
				return normalizedID(s), false
			}
			d = append(d, 'X')
		case isNumberSeparator(r) || unicode.IsSpace(r):
		default:
			return normalizedID(s), false
		}
	}
	if len(d) == 15 && bytes.IndexByte(d, 'X') < 0 {
		var out [18]byte
		copy(out[:6], d[:6])
		out[6], out[7] = '1', '9'
		copy(out[8:17], d[6:])
		out[17] = IDNumberCheck(string(out[:17]))
		return string(out[:]), true
	}
	canon = string(d)
	return canon, len(d) == 18 && IDNumberCheck(canon) == canon[17]
}

// normalizedID folds width, drops white space and upper-cases: the form of an identity number
// that is no resident identity number (a passport's, an officer card's).
func normalizedID(s string) string {
	return strings.Map(func(r rune) rune {
		r = foldWidth(r)
		if unicode.IsSpace(r) {
			return -1
		}
		return unicode.ToUpper(r)
	}, s)
}

// CanonicalName returns an enterprise's or a person's name in one typographic form, so that
// names differing only in how they were typed compare equal: NFKC (full-width letters, digits
// and brackets to half-width, （）to ()), the middle-dot variants of transliterated names
// (·・•‧･) to ·, white space dropped next to a Chinese character and collapsed to one space
// between Latin words, Latin letters upper-cased, and traditional characters to simplified ones
// by the table in canon_hant.go (unmapped characters are kept as they are). It never changes a
// word: 有限公司 and 有限责任公司, 分公司 and its parent, are different legal names.
func CanonicalName(s string) string {
	s = norm.NFKC.String(s)
	var b strings.Builder
	b.Grow(len(s))
	space := false // a space is pending between two words
	var prev rune
	for _, r := range s {
		switch {
		case unicode.IsSpace(r):
			space = prev != 0
			continue
		case r == '・' || r == '•' || r == '‧' || r == '･' || r == '∙' || r == '⋅':
			r = '·'
		case r >= 'a' && r <= 'z':
			r -= 'a' - 'A'
		default:
			if t, ok := hantToHans[r]; ok {
				r = t
			}
		}
		if space && r < utf8.RuneSelf && prev < utf8.RuneSelf && isWordRune(r) && isWordRune(prev) {
			b.WriteByte(' ')
		}
		space = false
		b.WriteRune(r)
		prev = r
	}
	return b.String()
}

// isWordRune reports whether r is a Latin letter or digit, between two of which a space
// separates words.
func isWordRune(r rune) bool {
	return r >= '0' && r <= '9' || r >= 'A' && r <= 'Z'
}
