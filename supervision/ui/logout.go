package ui

import (
	"context"
	"strconv"
	"sync"
	"time"
)

// Signing out revokes the session, not only the cookie in the browser that signed out: a copy
// of the cookie (a shared desk, a proxy log) must not open the UI afterwards. The session is
// recorded in the shared revocations (UIDeps.Revocations, a ClickHouse table), which every
// instance reads through a short cache: the instance that signed out refuses the cookie at
// once, the others within SessionCacheTTL (30 s by default). Records last until the session
// would have expired anyway, so they are bounded by a working day of sign-outs.

// sessionDigest names a session in the revocations: a keyed hash of its identity, so that
// the table says nothing about the cookie.
func (h *Handler) sessionDigest(ss session) string {
	return b64(h.mac("revocation", ss.UserID, ss.Nonce, strconv.FormatInt(ss.Issued, 10))[:18])
}

// revokeSession ends ss on this instance at once and records it for the others.
func (h *Handler) revokeSession(ctx context.Context, ss session) error {
	digest := h.sessionDigest(ss)
	expires := time.Unix(ss.Expires, 0)
	h.revoked.put(digest, revocation{revoked: true, until: expires}, h.Workflow.Clock())
	if h.Revocations == nil {
		return nil
	}
	return h.Revocations.RevokeSession(ctx, digest, expires)
}

// sessionRevoked reports whether ss was signed out, here or on another instance.
func (h *Handler) sessionRevoked(ctx context.Context, ss session) (bool, error) {
	digest := h.sessionDigest(ss)
	now := h.Workflow.Clock()
	if e, ok := h.revoked.get(digest, now); ok {
		return e.revoked, nil
	}
	if h.Revocations == nil {
		return false, nil
	}
	revoked, err := h.Revocations.SessionRevoked(ctx, digest)
	if err != nil {
		return false, err
	}
	ttl := h.SessionCacheTTL
	if ttl == 0 {
		ttl = DefaultSessionCacheTTL
	}
	e := revocation{revoked: revoked, until: now.Add(ttl)}
	if revoked {
		e.until = time.Unix(ss.Expires, 0)
	}
	if ttl > 0 || revoked {
		h.revoked.put(digest, e, now)
	}
	return revoked, nil
}

// maxCachedRevocations bounds the revocation cache; entries are per signed session, so only
// real sign-ins fill it.
const maxCachedRevocations = 10000

// revocationCache remembers, per session digest, whether the session was revoked. Its zero
// value is empty and ready.
type revocationCache struct {
	mu      sync.Mutex
	entries map[string]revocation
}

type revocation struct {
	revoked bool
	until   time.Time
}

func (c *revocationCache) get(digest string, now time.Time) (revocation, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.entries[digest]
	if !ok || now.After(e.until) {
		return revocation{}, false
	}
	return e, true
}

func (c *revocationCache) put(digest string, e revocation, now time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.entries == nil {
		c.entries = make(map[string]revocation)
	}
	if len(c.entries) >= maxCachedRevocations {
		// Drop what has run out first; the revocations of this instance without a shared
		// store are the ones worth keeping.
		for k, v := range c.entries {
			if !v.revoked || now.After(v.until) {
				delete(c.entries, k)
			}
		}
		if len(c.entries) >= maxCachedRevocations {
			c.entries = make(map[string]revocation)
		}
	}
	c.entries[digest] = e
}
