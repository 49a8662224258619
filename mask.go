package voucherwatch

import (
	"regexp"
	"strings"
	"unicode"
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

// MaskText hides personal numbers in a text shown to reviewers or written into an alert or the
// workflow log (comments are masked when they are written, so the log never holds them).
// Detectors keep identity numbers out of evidence (only the masked form travels), but a page
// must not show one should a sender or a reviewer have put it into a name, an address or a
// comment: an 18-character resident identity number (6-digit division, a 19xx/20xx birth
// date, 3 digits, a check character) keeps its first 3 and last 4 characters; a mainland
// mobile number (11 digits from 13 to 19, optionally after 86 or +86) keeps its first 3 and
// last 4 digits; an e-mail address keeps the first character of its local part and its
// domain. People write numbers in groups, so digits separated by single spaces or hyphens
// (138-1234-5678, 138 1234 5678, 430102 19880101 123X) count as one number. Numbers inside
// longer runs of digits (accounts, invoice numbers) are left alone.
func MaskText(s string) string {
	if strings.Contains(s, "@") {
		s = emailPattern.ReplaceAllStringFunc(s, MaskEmail)
	}
	if !hasDigits(s, 11) {
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
		j := maskNumberGroups(&b, s, i)
		i = j
	}
	return b.String()
}

// maxSeparator is the most separator characters taken between two groups of digits.
const maxSeparator = 3

func isSeparator(c byte) bool { return c == ' ' || c == '-' || c == '\t' }

// numberGroup is a run of digits (the last of a number may end in X) and where it ends.
type numberGroup struct{ start, end int }

// maskNumberGroups writes the groups of digits starting at s[i], with what lies between them,
// masking the consecutive groups that together form an identity or mobile number, and returns
// where it stopped.
func maskNumberGroups(b *strings.Builder, s string, i int) int {
	var groups []numberGroup
	for k := i; k < len(s) && isDigit(s[k]); {
		j := k
		for j < len(s) && isDigit(s[j]) {
			j++
		}
		// An identity number may end with X: its 18th character, so not after 18 digits.
		if j < len(s) && j-k < 18 && (s[j] == 'X' || s[j] == 'x') && (j+1 == len(s) || !isAlnum(s[j+1])) {
			j++
		}
		groups = append(groups, numberGroup{k, j})
		if j < len(s) && !isDigit(s[j-1]) {
			break // after an X, the number ends
		}
		n := j
		for n < len(s) && n-j < maxSeparator && isSeparator(s[n]) {
			n++
		}
		if n == j || n == len(s) || !isDigit(s[n]) {
			break
		}
		k = n
	}
	last := groups[len(groups)-1].end
	boundary := i == 0 || !isAlnum(s[i-1])
	for g := 0; g < len(groups); {
		digits, matched := "", -1
		var masked string
		for h := g; h < len(groups); h++ {
			digits += s[groups[h].start:groups[h].end]
			if len(digits) > 18 {
				break
			}
			// Only whole groups count: a group's part is part of another number.
			if m, ok := maskPersonalNumber(digits, boundary || g > 0); ok {
				matched, masked = h, m
			}
		}
		if matched < 0 {
			end := last
			if g+1 < len(groups) {
				end = groups[g+1].start
			}
			b.WriteString(s[groups[g].start:end])
			g++
			continue
		}
		b.WriteString(masked)
		if matched+1 < len(groups) {
			b.WriteString(s[groups[matched].end:groups[matched+1].start])
		}
		g = matched + 1
	}
	return last
}

// maskPersonalNumber masks digits when they form an identity number (which must not follow a
// letter or digit: idBoundary) or a mobile number.
func maskPersonalNumber(digits string, idBoundary bool) (string, bool) {
	switch {
	case idBoundary && looksLikeIDNumber(digits):
		return MaskIDNumber(digits), true
	case isMobile(digits):
		return MaskPhone(digits), true
	case len(digits) == 13 && strings.HasPrefix(digits, "86") && isMobile(digits[2:]):
		return "86" + MaskPhone(digits[2:]), true
	}
	return "", false
}

// hasDigits reports whether s has at least n digits.
func hasDigits(s string, n int) bool {
	k := 0
	for i := 0; i < len(s); i++ {
		if isDigit(s[i]) {
			if k++; k >= n {
				return true
			}
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

// MaskIDNumber shows an identity number (证件号) as the engine keeps and displays it: spaces
// dropped and letters upper-cased, then the first 3 and the last 4 characters, the rest
// replaced by '*'. A number shorter than 10 characters would show almost all of itself that
// way, so only its first and last characters are kept; shorter than 4, none.
func MaskIDNumber(s string) string {
	r := []rune(strings.Map(func(c rune) rune {
		if unicode.IsSpace(c) {
			return -1
		}
		return unicode.ToUpper(c)
	}, s))
	head, tail := 3, 4
	switch {
	case len(r) < 4:
		head, tail = 0, 0
	case len(r) < 10:
		head, tail = 1, 1
	}
	for i := head; i < len(r)-tail; i++ {
		r[i] = '*'
	}
	return string(r)
}
