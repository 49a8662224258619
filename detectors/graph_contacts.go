package detectors

import (
	"strings"
	"unicode"
	"unicode/utf8"
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

// graphAppendPhone keeps the digits of a phone number without the country code; a number of
// fewer than 7 digits is dropped.
func graphAppendPhone(dst []byte, s string) []byte {
	start := len(dst)
	for _, r := range s {
		if r = halfWidth(r); r >= '0' && r <= '9' {
			dst = append(dst, byte(r))
		}
	}
	d := dst[start:]
	cut := 0
	switch {
	case len(d) > 4 && string(d[:4]) == "0086":
		cut = 4
	case len(d) == 13 && string(d[:2]) == "86":
		cut = 2
	}
	if len(d)-cut < 7 {
		return dst[:start]
	}
	copy(d, d[cut:])
	return dst[:len(dst)-cut]
}

// graphAppendEmail lower-cases and trims an e-mail address; one without '@' is dropped.
func graphAppendEmail(dst []byte, s string) []byte {
	start, at := len(dst), false
	for _, r := range strings.TrimSpace(s) {
		r = unicode.ToLower(halfWidth(r))
		at = at || r == '@'
		dst = utf8.AppendRune(dst, r)
	}
	if !at {
		return dst[:start]
	}
	return dst
}

// graphAppendAccount drops spaces and dashes from a bank account number; one of fewer than 6
// characters is dropped.
func graphAppendAccount(dst []byte, s string) []byte {
	start := len(dst)
	for _, r := range s {
		r = halfWidth(r)
		if unicode.IsSpace(r) || r == '-' {
			continue
		}
		dst = utf8.AppendRune(dst, unicode.ToUpper(r))
	}
	if len(dst)-start < 6 {
		return dst[:start]
	}
	return dst
}
