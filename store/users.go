package store

import (
	"context"
	"fmt"
	"time"

	"github.com/voucherwatch/voucherwatch"
)

var _ voucherwatch.UserStore = (*DB)(nil)

// userColumns are the users table's columns in the order writes append them.
const userColumns = `id, name, login, role, city, token_hash, password_hash, disabled, created_at, updated_at, version`

// latestUsers is the newest version of every user. Users are few (hundreds), so reading them
// all per look-up costs little; the HTTP layer caches the answers briefly.
const latestUsers = `SELECT id, name, login, role, city, token_hash, password_hash, disabled, created_at, version
FROM users ORDER BY id, version DESC LIMIT 1 BY id`

// CreateUser stores a new user with the hash of its token. The password hash stays empty
// until SetPassword sets one.
func (db *DB) CreateUser(ctx context.Context, u voucherwatch.User, tokenHash string, at time.Time) error {
	su := storedUser{User: u, tokenHash: tokenHash, created: at, version: uint64(at.UnixNano())}
	if err := db.writeUser(ctx, su, at); err != nil {
		return fmt.Errorf("store: create user %s: %w", u.ID, err)
	}
	return nil
}

// SetPassword writes a new version of the user with the password hash, keeping its token.
func (db *DB) SetPassword(ctx context.Context, id, passwordHash string, at time.Time) error {
	us, err := db.queryUsers(ctx, "SELECT * FROM ("+latestUsers+") WHERE id = ? AND disabled = 0", id)
	if err != nil {
		return err
	}
	if len(us) == 0 {
		return voucherwatch.Errorf(voucherwatch.ENOTFOUND, "user %s not found", id)
	}
	su := us[0]
	su.passwordHash = passwordHash
	su.version = max(uint64(at.UnixNano()), su.version+1)
	if err := db.writeUser(ctx, su, at); err != nil {
		return fmt.Errorf("store: set password of user %s: %w", id, err)
	}
	return nil
}

// UserByLogin returns the enabled user who signs in as login, with the hash of its password
// ("" when none is set). When two enabled users share a login (two instances creating them at
// once), the older one keeps it.
func (db *DB) UserByLogin(ctx context.Context, login string) (voucherwatch.User, string, error) {
	if login == "" {
		return voucherwatch.User{}, "", voucherwatch.Errorf(voucherwatch.ENOTFOUND, "no user signs in as %q", login)
	}
	us, err := db.queryUsers(ctx, "SELECT * FROM ("+latestUsers+") WHERE login = ? AND disabled = 0 ORDER BY created_at, id LIMIT 1", login)
	if err != nil {
		return voucherwatch.User{}, "", err
	}
	if len(us) == 0 {
		return voucherwatch.User{}, "", voucherwatch.Errorf(voucherwatch.ENOTFOUND, "no user signs in as %q", login)
	}
	return us[0].User, us[0].passwordHash, nil
}

func (db *DB) writeUser(ctx context.Context, u storedUser, at time.Time) error {
	b, err := db.conn.PrepareBatch(ctx, "INSERT INTO users ("+userColumns+")")
	if err != nil {
		return err
	}
	defer b.Abort()
	var d uint8
	if u.disabled {
		d = 1
	}
	if err := b.Append(u.ID, u.Name, u.Login, string(u.Role), u.City, u.tokenHash, u.passwordHash, d, u.created, at, u.version); err != nil {
		return err
	}
	return b.Send()
}

// UserByTokenHash returns the enabled user whose token hashes to tokenHash.
func (db *DB) UserByTokenHash(ctx context.Context, tokenHash string) (voucherwatch.User, error) {
	if tokenHash == "" {
		return voucherwatch.User{}, voucherwatch.Errorf(voucherwatch.ENOTFOUND, "no user with this token")
	}
	us, err := db.queryUsers(ctx, "SELECT * FROM ("+latestUsers+") WHERE token_hash = ? AND disabled = 0", tokenHash)
	if err != nil {
		return voucherwatch.User{}, err
	}
	if len(us) == 0 {
		return voucherwatch.User{}, voucherwatch.Errorf(voucherwatch.ENOTFOUND, "no user with this token")
	}
	return us[0].User, nil
}

// User returns one enabled user.
func (db *DB) User(ctx context.Context, id string) (voucherwatch.User, error) {
	us, err := db.queryUsers(ctx, "SELECT * FROM ("+latestUsers+") WHERE id = ? AND disabled = 0", id)
	if err != nil {
		return voucherwatch.User{}, err
	}
	if len(us) == 0 {
		return voucherwatch.User{}, voucherwatch.Errorf(voucherwatch.ENOTFOUND, "user %s not found", id)
	}
	return us[0].User, nil
}

// Users lists the enabled users by name.
func (db *DB) Users(ctx context.Context) ([]voucherwatch.User, error) {
	us, err := db.queryUsers(ctx, "SELECT * FROM ("+latestUsers+") WHERE disabled = 0 ORDER BY name, id")
	if err != nil {
		return nil, err
	}
	out := make([]voucherwatch.User, len(us))
	for i, u := range us {
		out[i] = u.User
	}
	return out, nil
}

// DisableUser writes a disabled version of the user without a token hash, so that its token
// stops working.
func (db *DB) DisableUser(ctx context.Context, id string, at time.Time) error {
	us, err := db.queryUsers(ctx, "SELECT * FROM ("+latestUsers+") WHERE id = ? AND disabled = 0", id)
	if err != nil {
		return err
	}
	if len(us) == 0 {
		return voucherwatch.Errorf(voucherwatch.ENOTFOUND, "user %s not found", id)
	}
	// The new version must win even when the clock says otherwise. It keeps no token and
	// no password, so neither works any more.
	su := storedUser{User: us[0].User, disabled: true, created: us[0].created}
	su.version = max(uint64(at.UnixNano()), us[0].version+1)
	if err := db.writeUser(ctx, su, at); err != nil {
		return fmt.Errorf("store: disable user %s: %w", id, err)
	}
	return nil
}

type storedUser struct {
	voucherwatch.User
	tokenHash    string
	passwordHash string
	disabled     bool
	created      time.Time
	version      uint64
}

func (db *DB) queryUsers(ctx context.Context, q string, args ...any) ([]storedUser, error) {
	rows, err := db.conn.Query(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("store: query users: %w", err)
	}
	defer rows.Close()
	var out []storedUser
	for rows.Next() {
		var u storedUser
		var role string
		var disabled uint8
		if err := rows.Scan(&u.ID, &u.Name, &u.Login, &role, &u.City, &u.tokenHash, &u.passwordHash, &disabled, &u.created, &u.version); err != nil {
			return nil, fmt.Errorf("store: scan user: %w", err)
		}
		u.Role = voucherwatch.Role(role)
		u.disabled = disabled != 0
		out = append(out, u)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: query users: %w", err)
	}
	return out, nil
}
