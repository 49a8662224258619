package voucherwatch

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"time"
	"unicode/utf8"
)

// Role is what a user may see and do.
type Role string

// The roles of the supervision workflow.
const (
	RoleProvinceAdmin    Role = "province_admin"    // users and everything else
	RoleProvinceReviewer Role = "province_reviewer" // all cities; final decisions
	RoleCityReviewer     Role = "city_reviewer"     // its own city only
	RoleAuditor          Role = "auditor"           // reads everything, changes nothing
)

// User is an authenticated person or machine acting on the engine.
type User struct {
	ID   string `json:"id"`
	Name string `json:"name"`
	// Login is the name the user signs in to the web UI with; empty for users of the API
	// only. Unique among enabled users.
	Login string `json:"login,omitempty"`
	Role  Role   `json:"role"`
	City  string `json:"city,omitempty"` // division code; set for city reviewers
}

// MaxUserNameRunes bounds a user's name.
const MaxUserNameRunes = 100

// CheckNewUser validates a user about to be created and normalises its city to the division
// code ("长沙" → "430100"). A city reviewer needs a city; the other roles have none. It returns
// EINVALID errors naming the field: name, role or city.
func CheckNewUser(u User) (User, error) {
	u.Name = strings.TrimSpace(u.Name)
	u.Login = strings.TrimSpace(u.Login)
	if u.Login != "" && !validLogin(u.Login) {
		return u, FieldErrorf("login", "want 2 to 64 of a-z, 0-9, '.', '_' and '-', got %q", u.Login)
	}
	switch {
	case u.Name == "" || !utf8.ValidString(u.Name):
		return u, FieldErrorf("name", "required")
	case utf8.RuneCountInString(u.Name) > MaxUserNameRunes:
		return u, FieldErrorf("name", "at most %d characters", MaxUserNameRunes)
	case !u.Role.IsUserRole():
		return u, FieldErrorf("role", "unknown role %q; want province_admin, province_reviewer, city_reviewer or auditor", u.Role)
	}
	if u.Role != RoleCityReviewer {
		if u.City != "" {
			return u, FieldErrorf("city", "only a city reviewer has a city; a %s sees every city", u.Role)
		}
		return u, nil
	}
	code, ok := CityCode(strings.TrimSpace(u.City))
	if !ok {
		return u, FieldErrorf("city", "a city reviewer needs one of Hunan's 14 市州, got %q", u.City)
	}
	u.City = code
	return u, nil
}

// TokenHash is how a bearer token is kept: the hex SHA-256 of the token. Tokens are 256-bit
// random strings, so an unsalted fast hash is enough: there is nothing to guess.
func TokenHash(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// UserStore keeps the users, shared by every engine instance. Tokens are kept only as
// TokenHash.
type UserStore interface {
	// CreateUser stores a new user whose bearer token hashes to tokenHash.
	CreateUser(ctx context.Context, u User, tokenHash string, at time.Time) error
	// UserByTokenHash returns the enabled user whose token hashes to tokenHash; ENOTFOUND
	// when there is none.
	UserByTokenHash(ctx context.Context, tokenHash string) (User, error)
	// User returns one enabled user; ENOTFOUND when there is none.
	User(ctx context.Context, id string) (User, error)
	// Users lists the enabled users by name.
	Users(ctx context.Context) ([]User, error)
	// SetPassword keeps the hash of the user's new web UI password (bcrypt); ENOTFOUND when
	// there is no such enabled user.
	SetPassword(ctx context.Context, id, passwordHash string, at time.Time) error
	// UserByLogin returns the enabled user who signs in as login and its password hash (""
	// when it has none); ENOTFOUND when there is none.
	UserByLogin(ctx context.Context, login string) (User, string, error)
	// DisableUser stops a user's token and password from working; ENOTFOUND when there is no such
	// enabled user.
	DisableUser(ctx context.Context, id string, at time.Time) error
}

// validLogin reports whether s is a login name: 2 to 64 lower-case ASCII letters, digits, '.',
// '_' or '-', so that it reads the same on every keyboard and in every log.
func validLogin(s string) bool {
	if len(s) < 2 || len(s) > 64 {
		return false
	}
	for _, c := range []byte(s) {
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}
