package ingest

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"unicode"

	"github.com/voucherwatch/voucherwatch"
)

// PersonKey identifies a natural person without keeping their identity number (证件号): the
// hex HMAC-SHA256, under key, of the identity type and the normalised number, truncated to 128
// bits (32 hex digits), which is ample to keep the people of a province apart. The key must
// be secret: identity numbers are few and structured enough that an unkeyed hash of one is
// easily reversed. Anything that looks a person up by number (a supervisor's search) must
// call PersonKey with the same key. A resident identity card number is keyed in its canonical
// 18-digit form (voucherwatch.CanonicalIDNumber), so that a person registered with the legacy
// 15-digit number on one record and the 18-digit one on another is one person.
func PersonKey(key []byte, idType, idNumber string) string {
	number := normalizeID(idNumber)
	if idType == "id_card" {
		number, _ = voucherwatch.CanonicalIDNumber(idNumber)
	}
	m := hmac.New(sha256.New, key)
	m.Write([]byte(idType))
	m.Write([]byte{0}) // keeps ("ab", "c") and ("a", "bc") apart
	m.Write([]byte(number))
	var sum [sha256.Size]byte
	return hex.EncodeToString(m.Sum(sum[:0])[:16])
}

// normalizeID drops spaces and upper-cases, so that "43010119900101123x" and
// "43010119900101123X " key the same person: senders differ in both.
func normalizeID(s string) string {
	return strings.Map(func(r rune) rune {
		if unicode.IsSpace(r) {
			return -1
		}
		return unicode.ToUpper(r)
	}, s)
}
