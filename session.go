package voucherwatch

import (
	"context"
	"time"
)

// SessionRevocations ends web UI sessions before they expire, on every engine instance: a
// signed-out session is recorded here and every instance refuses its cookie from then on.
// A session is named by a digest of its per-sign-in nonce, never by the cookie.
type SessionRevocations interface {
	// RevokeSession records that the session ends now; expires is when it would have ended
	// anyway, after which the record may be forgotten.
	RevokeSession(ctx context.Context, sessionDigest string, expires time.Time) error
	// SessionRevoked reports whether the session was revoked.
	SessionRevoked(ctx context.Context, sessionDigest string) (bool, error)
}
