package voucherwatch

import (
	"regexp"
	"strings"
	"unicode/utf8"
)

// Pages and alerts show people's contact details only in part: enough for a supervisor to
// recognise a number or address seen elsewhere, not enough to call or write to the person.
// Identity numbers are masked at decode (ingest); the domain holds only their masked form.

// MaskPhone keeps the first three and last four digits of a phone number and stars the rest:
// 13812345678 → 138****5678. Numbers shorter than eleven keep two at each end, so that at least
// half is hidden; a number of four or fewer digits is starred whole.
func MaskPhone(p string) string {
	p = strings.TrimSpace(p)
	if p == "" {
		return ""
	}
	r := []rune(p)
	n := len(r)
	keepHead, keepTail := 3, 4
	switch {
	case n <= 4:
		return strings.Repeat("*", n)
	case n < 11:
		keepHead, keepTail = 2, 2
	}
	return string(r[:keepHead]) + strings.Repeat("*", n-keepHead-keepTail) + string(r[n-keepTail:])
}

// MaskEmail keeps the first character of the mailbox and the domain: zhang.wei@example.cn →
// z***@example.cn. Something that is not an address is starred but for its first character.
func MaskEmail(e string) string {
	e = strings.TrimSpace(e)
	if e == "" {
		return ""
	}
	local, domain, ok := strings.Cut(e, "@")
	first, _ := utf8.DecodeRuneInString(local)
	if !ok || local == "" {
		return string(first) + "***"
	}
	return string(first) + "***@" + domain
}

// MaskAccount keeps the last four digits of a bank account number.
func MaskAccount(a string) string {
	a = strings.TrimSpace(a)
	r := []rune(a)
	if len(r) <= 4 {
		return strings.Repeat("*", len(r))
	}
	return "****" + string(r[len(r)-4:])
}

var emailPattern = regexp.MustCompile(`[A-Za-z0-9._%+\-]+@[A-Za-z0-9\-]+(\.[A-Za-z0-9\-]+)+`)

// MaskText hides personal numbers in a text shown to reviewers or written into an alert.
// Detectors keep identity numbers out of evidence (only the masked form travels), but a page
// must not show one should a sender have put it into a name or an address: an 18-character resident identity number
// (6-digit division, a 19xx/20xx birth date, 3 digits, a check character) keeps its first 3
// and last 4 characters; a mainland mobile number (11 digits from 13 to 19, optionally after
// 86) keeps its first 3 and last 4 digits; an e-mail address keeps the first character of
// its local part and its domain. Numbers inside longer runs of digits (accounts,
// invoice numbers) are left alone.
func MaskText(s string) string {
	if strings.Contains(s, "@") {
		s = emailPattern.ReplaceAllStringFunc(s, MaskEmail)
	}
	if !hasDigitRun(s, 11) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); {
		if !isDigit(s[i]) {
			b.WriteByte(s[i])
			i++
			continue
		}
		j := i
		for j < len(s) && isDigit(s[j]) {
			j++
		}
		run := s[i:j]
		// An identity number may end with X.
		if len(run) == 17 && j < len(s) && (s[j] == 'X' || s[j] == 'x') && (j+1 == len(s) || !isAlnum(s[j+1])) {
			run = s[i : j+1]
			j++
		}
		switch {
		case looksLikeIDNumber(run) && (i == 0 || !isAlnum(s[i-1])):
			b.WriteString(MaskIDNumber(run))
		case isMobile(run):
			b.WriteString(MaskPhone(run))
		case len(run) == 13 && strings.HasPrefix(run, "86") && isMobile(run[2:]):
			b.WriteString("86" + MaskPhone(run[2:]))
		default:
			b.WriteString(run)
		}
		i = j
	}
	return b.String()
}

func hasDigitRun(s string, n int) bool {
	k := 0
	for i := 0; i < len(s); i++ {
		if isDigit(s[i]) {
			k++
			if k >= n {
				return true
			}
		} else {
			k = 0
		}
	}
	return false
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

func isAlnum(c byte) bool {
	return isDigit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
}

func looksLikeIDNumber(s string) bool {
	if len(s) != 18 || s[0] == '0' {
		return false
	}
	for i := 0; i < 17; i++ {
		if !isDigit(s[i]) {
			return false
		}
	}
	if c := s[17]; !isDigit(c) && c != 'X' && c != 'x' {
		return false
	}
	century, month, day := s[6:8], s[10:12], s[12:14]
	return (century == "19" || century == "20") && month >= "01" && month <= "12" && day >= "01" && day <= "31"
}

func isMobile(s string) bool {
	return len(s) == 11 && s[0] == '1' && s[1] >= '3' && s[1] <= '9'
}

// MaskIDNumber shows an identity number as the engine stores it: the first 3 and last 4
// characters.
func MaskIDNumber(s string) string {
	if len(s) <= 7 {
		return strings.Repeat("*", len(s))
	}
	return s[:3] + strings.Repeat("*", len(s)-7) + s[len(s)-4:]
}
