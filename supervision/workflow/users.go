package workflow

import (
	"context"
	"fmt"

	"github.com/voucherwatch/voucherwatch"
)

// NewUserRequest is the body of POST /api/v1/users.
type NewUserRequest struct {
	Name string `json:"name"`
	Role string `json:"role"`
	City string `json:"city"` // a division code or name, for city reviewers
	// Login and Password let the user sign in to the web UI; both optional, a password only
	// with a login.
	Login    string `json:"login"`
	Password string `json:"password"`
}

// CreateUser checks and creates the user q asks for on behalf of admin, with a new bearer token,
// and sets its password when q has one. The API and the web UI's user page create users here.
func (s *Service) CreateUser(ctx context.Context, admin voucherwatch.User, q NewUserRequest) (voucherwatch.User, string, error) {
	nu, err := voucherwatch.CheckNewUser(voucherwatch.User{Name: q.Name, Login: q.Login, Role: voucherwatch.Role(q.Role), City: q.City})
	if err != nil {
		return nu, "", err
	}
	var hash string
	if q.Password != "" {
		if nu.Login == "" {
			return nu, "", voucherwatch.FieldErrorf("password", "a password needs a login to sign in with")
		}
		if hash, err = HashPassword(q.Password); err != nil {
			return nu, "", err
		}
	}
	if nu.Login != "" {
		_, _, err := s.Users.UserByLogin(ctx, nu.Login)
		switch voucherwatch.ErrorCode(err) {
		case "":
			return nu, "", &voucherwatch.Error{Code: voucherwatch.ECONFLICT, Field: "login", Message: fmt.Sprintf("login %q is taken", nu.Login)}
		case voucherwatch.ENOTFOUND:
		default:
			return nu, "", err
		}
	}
	nu.ID = "u_" + RandomHex(8)
	token := "vw_" + RandomHex(32)
	now := s.Clock()
	if err := s.Users.CreateUser(ctx, nu, voucherwatch.TokenHash(token), now); err != nil {
		return nu, "", err
	}
	if hash != "" {
		if err := s.Users.SetPassword(ctx, nu.ID, hash, now); err != nil {
			return nu, "", err
		}
	}
	s.log().Info("supervision: user created", "id", nu.ID, "login", nu.Login, "role", nu.Role, "city", nu.City, "password", hash != "", "by", admin.ID)
	return nu, token, nil
}

// SetPassword sets the password of user id on behalf of u, a province administrator.
// Everyone else changes their own password with SetOwnPassword, after giving the current one.
func (s *Service) SetPassword(ctx context.Context, u voucherwatch.User, id, password string) error {
	if !u.Role.MayManageUsers() {
		return voucherwatch.Errorf(voucherwatch.EFORBIDDEN, "only a province administrator sets a password here; change your own on the account page")
	}
	return s.storePassword(ctx, u, id, password)
}

// SetOwnPassword sets u's own password; the caller has checked u's current one.
func (s *Service) SetOwnPassword(ctx context.Context, u voucherwatch.User, password string) error {
	return s.storePassword(ctx, u, u.ID, password)
}

// storePassword hashes and stores the password of user id, set by u, and tells PasswordSet, so
// that the sessions of the old one end on this instance at once.
func (s *Service) storePassword(ctx context.Context, u voucherwatch.User, id, password string) error {
	hash, err := HashPassword(password)
	if err != nil {
		return err
	}
	if err := s.Users.SetPassword(ctx, id, hash, s.Clock()); err != nil {
		return err
	}
	if s.PasswordSet != nil {
		s.PasswordSet(id)
	}
	s.log().Info("supervision: password set", "id", id, "by", u.ID)
	return nil
}
