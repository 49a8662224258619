package detectors

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/voucherwatch/voucherwatch"
)

// This file normalises the contacts two enterprises can share, the attributes of the entity
// graph: addresses, phone numbers, e-mail addresses and bank accounts.
//
// The normalisers append the normal form of an attribute to dst and return it, or return dst
// unchanged when the value is too short or malformed to identify anything: building the graph
// normalises a million values, and appending into one buffer spares an allocation each.

// graphAppendAddress makes two spellings of one address compare equal: full-width characters
// become half-width, spaces and punctuation go, Latin letters are lower-cased. An address of
// fewer than six characters is dropped.
func graphAppendAddress(dst []byte, s string) []byte {
	start, runes := len(dst), 0
	for _, r := range s {
		r = halfWidth(r)
		if unicode.IsSpace(r) || unicode.IsPunct(r) || unicode.IsSymbol(r) {
			continue
		}
		dst = utf8.AppendRune(dst, unicode.ToLower(r))
		runes++
	}
	if runes < 6 {
		return dst[:start]
	}
	return dst
}

// halfWidth maps full-width ASCII variants (Ａ, １, （) and the ideographic space to their
// half-width forms.
func halfWidth(r rune) rune {
	switch {
	case r == '\u3000':
		return ' '
	case r >= '\uFF01' && r <= '\uFF5E':
		return r - 0xFEE0
	}
	return r
}

// graphAppendPhone appends the canonical form of a phone number (voucherwatch.CanonicalPhone:
// +86, 0086, the trunk 0, separators and extensions do not matter); a number of fewer than 7
// digits is dropped. A local number without its area code stays as written: only the same
// local number written alike matches it.
func graphAppendPhone(dst []byte, s string) []byte {
	c := voucherwatch.CanonicalPhone(s)
	digits := 0
	for i := 0; i < len(c); i++ {
		if c[i] >= '0' && c[i] <= '9' {
			digits++
		}
	}
	if digits < 7 {
		return dst
	}
	return append(dst, c...)
}

// graphAppendEmail appends the canonical form of an e-mail address
// (voucherwatch.CanonicalEmail: case, and the dots and +tags the provider ignores); one without
// '@' is dropped.
func graphAppendEmail(dst []byte, s string) []byte {
	c := voucherwatch.CanonicalEmail(s)
	if !strings.Contains(c, "@") {
		return dst
	}
	return append(dst, c...)
}

// graphAppendAccount appends the canonical form of a bank account number
// (voucherwatch.CanonicalBankAccount: no spaces or dashes); one of fewer than 6 characters is
// dropped.
func graphAppendAccount(dst []byte, s string) []byte {
	c := voucherwatch.CanonicalBankAccount(s)
	if len(c) < 6 {
		return dst
	}
	return append(dst, c...)
}
