package store

import (
	"testing"
	"time"
)

func TestRevokedSessions(t *testing.T) {
	db := newTestDB(t)
	ctx := testContext(t)
	expires := time.Now().Add(8 * time.Hour).Truncate(time.Second)
	if err := db.RevokeSession(ctx, "digest-signed-out", expires); err != nil {
		t.Fatal(err)
	}
	for digest, want := range map[string]bool{"digest-signed-out": true, "digest-still-in": false, "digest-signed": false} {
		if got, err := db.SessionRevoked(ctx, digest); err != nil || got != want {
			t.Errorf("%s: got %v, %v; want %v", digest, got, err, want)
		}
	}
	// A second sign-out of the same session (two tabs) keeps it revoked.
	if err := db.RevokeSession(ctx, "digest-signed-out", expires); err != nil {
		t.Fatal(err)
	}
	if got, err := db.SessionRevoked(ctx, "digest-signed-out"); err != nil || !got {
		t.Errorf("after a second sign-out: got %v, %v; want revoked", got, err)
	}
}
