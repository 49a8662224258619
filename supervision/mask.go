package supervision

import (
	"strings"
	"unicode/utf8"
)

// The enterprise page shows people's contact details only in part: enough for a supervisor to
// recognise a number or address seen elsewhere, not enough to call or write to the person.
// Identity numbers are never here at all: the domain holds only their masked form.

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
