package supervision

import (
	"errors"
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
