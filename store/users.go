package store

import (
	"context"
	"fmt"
	"time"

	"github.com/voucherwatch/voucherwatch"
)

var _ voucherwatch.UserStore = (*DB)(nil)

// userColumns are the users table's columns in the order writes append them.
const userColumns = `id, name, role, city, token_hash, password_hash, disabled, created_at, updated_at, version`

// latestUsers is the newest version of every user. Users are few (hundreds), so reading them
// all per look-up costs little; the HTTP layer caches the answers briefly.
const latestUsers = `SELECT id, name, role, city, token_hash, disabled, created_at, version
FROM users ORDER BY id, version DESC LIMIT 1 BY id`

// CreateUser stores a new user with the hash of its token. The password hash stays empty
// until the web UI sets one.
func (db *DB) CreateUser(ctx context.Context, u voucherwatch.User, tokenHash string, at time.Time) error {
	if err := db.writeUser(ctx, u, tokenHash, false, at, at, uint64(at.UnixNano())); err != nil {
		return fmt.Errorf("store: create user %s: %w", u.ID, err)
	}
	return nil
}

func (db *DB) writeUser(ctx context.Context, u voucherwatch.User, tokenHash string, disabled bool, created, at time.Time, version uint64) error {
	b, err := db.conn.PrepareBatch(ctx, "INSERT INTO users ("+userColumns+")")
	if err != nil {
		return err
	}
	defer b.Abort()
	var d uint8
	if disabled {
		d = 1
	}
	if err := b.Append(u.ID, u.Name, string(u.Role), u.City, tokenHash, "", d, created, at, version); err != nil {
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
	// The new version must win even when the clock says otherwise.
	version := max(uint64(at.UnixNano()), us[0].version+1)
	if err := db.writeUser(ctx, us[0].User, "", true, us[0].created, at, version); err != nil {
		return fmt.Errorf("store: disable user %s: %w", id, err)
	}
	return nil
}

type storedUser struct {
	voucherwatch.User
	created time.Time
	version uint64
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
		var role, hash string
		var disabled uint8
		if err := rows.Scan(&u.ID, &u.Name, &role, &u.City, &hash, &disabled, &u.created, &u.version); err != nil {
			return nil, fmt.Errorf("store: scan user: %w", err)
		}
		u.Role = voucherwatch.Role(role)
		out = append(out, u)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: query users: %w", err)
	}
	return out, nil
}
