package store

import (
	"context"
	"fmt"
	"time"

	"github.com/voucherwatch/voucherwatch"
)

var _ voucherwatch.SessionRevocations = (*DB)(nil)

// purgeRevokedEvery is how often RevokeSession also deletes the records of sessions that have
// expired anyway, keeping revoked_sessions to about a working day of sign-outs.
const purgeRevokedEvery = time.Hour

// RevokeSession records a signed-out session until it would have expired.
func (db *DB) RevokeSession(ctx context.Context, digest string, expires time.Time) error {
	now := db.now()
	b, err := db.conn.PrepareBatch(ctx, "INSERT INTO revoked_sessions (session_digest, revoked_at, expires_at)")
	if err != nil {
		return fmt.Errorf("store: revoke session: %w", err)
	}
	if err := b.Append(digest, now, expires); err != nil {
		_ = b.Abort()
		return fmt.Errorf("store: revoke session: %w", err)
	}
	if err := b.Send(); err != nil {
		return fmt.Errorf("store: revoke session: %w", err)
	}
	db.purgeRevokedSessions(ctx, now)
	return nil
}

// SessionRevoked reports whether a session was revoked. Whether it has expired is the
// cookie's to say; a record outliving its session answers for a cookie nobody accepts.
func (db *DB) SessionRevoked(ctx context.Context, digest string) (bool, error) {
	var n uint64
	row := db.conn.QueryRow(ctx, "SELECT count() FROM revoked_sessions WHERE session_digest = ?", digest)
	if err := row.Scan(&n); err != nil {
		return false, fmt.Errorf("store: session revoked: %w", err)
	}
	return n > 0, nil
}

// purgeRevokedSessions deletes, at most once per purgeRevokedEvery on this instance, the
// records of sessions that expired more than a day ago. A failure only leaves rows readers
// ignore; the next purge takes them.
func (db *DB) purgeRevokedSessions(ctx context.Context, now time.Time) {
	db.purgeMu.Lock()
	due := now.Sub(db.lastPurge) >= purgeRevokedEvery
	if due {
		db.lastPurge = now
	}
	db.purgeMu.Unlock()
	if !due {
		return
	}
	_ = db.conn.Exec(ctx, "ALTER TABLE revoked_sessions DELETE WHERE expires_at < ?", now.Add(-24*time.Hour))
}
