package supervision

import (
	"context"
	"encoding/hex"
	"sync"
	"time"

	"github.com/voucherwatch/voucherwatch"
)

// DefaultTokenCacheTTL is how long a token found in the user store is trusted without asking
// the store again.
const DefaultTokenCacheTTL = 30 * time.Second

// maxCachedTokens bounds the token cache; unknown tokens are cached too, so a client trying
// many cannot grow it without limit.
const maxCachedTokens = 10000

// tokenCache remembers recent look-ups of token hashes in the user store, found or not, so
// that a request does not cost a ClickHouse query. Its zero value is empty and ready.
type tokenCache struct {
	mu      sync.Mutex
	entries map[[32]byte]cachedToken
}

type cachedToken struct {
	user  voucherwatch.User
	found bool
	until time.Time
}

func (c *tokenCache) get(sum [32]byte, now time.Time) (cachedToken, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.entries[sum]
	if !ok || now.After(e.until) {
		return cachedToken{}, false
	}
	return e, true
}

func (c *tokenCache) put(sum [32]byte, e cachedToken) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.entries == nil || len(c.entries) >= maxCachedTokens {
		c.entries = make(map[[32]byte]cachedToken)
	}
	c.entries[sum] = e
}

// forget drops the cached look-ups of one user, on this instance.
func (c *tokenCache) forget(userID string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for k, e := range c.entries {
		if e.found && e.user.ID == userID {
			delete(c.entries, k)
		}
	}
}

// storedUserFor looks a token's SHA-256 up in the user store, through the cache. A user
// disabled on another instance keeps working here for up to the cache's TTL.
func (s *Server) storedUserFor(ctx context.Context, sum [32]byte) (voucherwatch.User, bool, error) {
	users := s.workflow.Users
	if users == nil {
		return voucherwatch.User{}, false, nil
	}
	ttl := s.workflow.TokenCacheTTL
	if ttl == 0 {
		ttl = DefaultTokenCacheTTL
	}
	now := s.workflow.now()
	if ttl > 0 {
		if e, ok := s.users.get(sum, now); ok {
			return e.user, e.found, nil
		}
	}
	u, err := users.UserByTokenHash(ctx, hex.EncodeToString(sum[:]))
	switch voucherwatch.ErrorCode(err) {
	case "":
	case voucherwatch.ENOTFOUND:
		u = voucherwatch.User{}
	default:
		return voucherwatch.User{}, false, err
	}
	found := err == nil
	if ttl > 0 {
		s.users.put(sum, cachedToken{user: u, found: found, until: now.Add(ttl)})
	}
	return u, found, nil
}
