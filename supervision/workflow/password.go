package workflow

import (
	_ "embed"
	"errors"
	"strings"
	"unicode/utf8"

	"golang.org/x/crypto/bcrypt"

	"github.com/voucherwatch/voucherwatch"
)

// MinPasswordRunes is the shortest password the web UI accepts.
const MinPasswordRunes = 10

// passwordCost is bcrypt's work factor: about 50 ms a sign-in on the engine's machines, slow
// enough to make guessing from a stolen users table expensive.
const passwordCost = 11

// HashPassword checks a new password and returns its bcrypt hash, the form the user store
// keeps. Errors are EINVALID on the field password.
func HashPassword(pw string) (string, error) {
	switch n := utf8.RuneCountInString(pw); {
	case n < MinPasswordRunes:
		return "", voucherwatch.FieldErrorf("password", "at least %d characters", MinPasswordRunes)
	case len(pw) > 72:
		// bcrypt reads only the first 72 bytes; a longer password would be silently cut.
		return "", voucherwatch.FieldErrorf("password", "at most 72 bytes")
	case commonPassword(pw):
		return "", voucherwatch.FieldErrorf("password", "too common: it is among the first a guesser tries")
	}
	h, err := bcrypt.GenerateFromPassword([]byte(pw), passwordCost)
	if err != nil {
		return "", err
	}
	return string(h), nil
}

// CheckPassword reports whether pw matches hash. An empty hash (no password set) matches
// nothing.
func CheckPassword(hash, pw string) bool {
	if hash == "" {
		return false
	}
	err := bcrypt.CompareHashAndPassword([]byte(hash), []byte(pw))
	return err == nil && !errors.Is(err, bcrypt.ErrMismatchedHashAndPassword)
}

// commonPasswordList is a short list of the most common passwords long enough to pass the
// length check; a guesser spraying logins tries them first.
//
//go:embed common_passwords.txt
var commonPasswordList string

var commonPasswords = func() map[string]bool {
	m := map[string]bool{}
	for _, l := range strings.Split(commonPasswordList, "\n") {
		if l = strings.TrimSpace(l); l != "" && !strings.HasPrefix(l, "#") {
			m[l] = true
		}
	}
	return m
}()

// commonPassword reports whether pw is on the list (ignoring case and surrounding spaces), or
// one character repeated, or a run of consecutive digits or letters (1234567890, 9876543210,
// abcdefghijk).
func commonPassword(pw string) bool {
	p := strings.ToLower(strings.TrimSpace(pw))
	if commonPasswords[p] {
		return true
	}
	r := []rune(p)
	same, up, down := true, true, true
	for i := 1; i < len(r); i++ {
		same = same && r[i] == r[0]
		up = up && r[i] == r[i-1]+1
		down = down && r[i] == r[i-1]-1
	}
	return len(r) > 0 && (same || up || down)
}
