package supervision

import (
	"context"
	"encoding/hex"
	"net/http"
	"sync"
	"time"

	"github.com/voucherwatch/voucherwatch"
	"github.com/voucherwatch/voucherwatch/supervision/api"
	"github.com/voucherwatch/voucherwatch/supervision/workflow"
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

// getMe answers GET /api/v1/me with the user the token belongs to, for clients to show who is
// signed in and what they may do.
func (s *Server) getMe(w http.ResponseWriter, r *http.Request, u voucherwatch.User) {
	api.WriteJSON(w, http.StatusOK, u)
}

// createUser answers POST /api/v1/users {"name", "role", "city"?, "login"?, "password"?}
// (province administrators) with 201 {"id", "token", "name", "role", "city"?, "login"?}. The
// token is shown this once; the store keeps only its SHA-256, and of the password only its
// bcrypt hash. A login already used by an enabled user is refused with 409 (field login).
func (s *Server) createUser(w http.ResponseWriter, r *http.Request, u voucherwatch.User) {
	if !u.Role.MayManageUsers() {
		s.fail(w, voucherwatch.Errorf(voucherwatch.EFORBIDDEN, "only a province administrator manages users"))
		return
	}
	var q workflow.NewUserRequest
	if err := decodeJSON(w, r, &q); err != nil {
		s.fail(w, err)
		return
	}
	nu, token, err := s.flow().CreateUser(r.Context(), u, q)
	if err != nil {
		s.fail(w, err)
		return
	}
	api.WriteJSON(w, http.StatusCreated, map[string]any{"id": nu.ID, "token": token, "name": nu.Name, "login": nu.Login, "role": nu.Role, "city": nu.City})
}

// passwordRequest is the body of POST /api/v1/users/{id}/password.
type passwordRequest struct {
	Password string `json:"password"`
}

// setPassword answers POST /api/v1/users/{id}/password {"password"} with 204: a province
// administrator sets anyone's web UI password. Users change their own on the account page,
// which asks for the current one; a bearer token alone must not be enough to take over the
// account's sign-in. Sessions signed in with the old password end (see ui_session.go).
func (s *Server) setPassword(w http.ResponseWriter, r *http.Request, u voucherwatch.User) {
	var q passwordRequest
	if err := decodeJSON(w, r, &q); err != nil {
		s.fail(w, err)
		return
	}
	if err := s.flow().SetPassword(r.Context(), u, r.PathValue("id"), q.Password); err != nil {
		s.fail(w, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// listUsers answers GET /api/v1/users with {"users": [...]}: everyone for the province and
// auditors; for a city reviewer, the users who can act on its city's alerts (its city's
// reviewers and the province's), whom it may assign alerts to. Only province administrators
// see the logins of others.
func (s *Server) listUsers(w http.ResponseWriter, r *http.Request, u voucherwatch.User) {
	all, err := s.workflow.Users.Users(r.Context())
	if err != nil {
		s.fail(w, err)
		return
	}
	out := []voucherwatch.User{}
	for _, x := range all {
		if workflow.CityScope(u) == "" || voucherwatch.CheckAssignment(u, u.City, x) == nil {
			// Logins are half of what signs in: only administrators, who manage them, see
			// other users' logins.
			if !u.Role.MayManageUsers() && x.ID != u.ID {
				x.Login = ""
			}
			out = append(out, x)
		}
	}
	api.WriteJSON(w, http.StatusOK, map[string]any{"users": out})
}

// disableUser answers POST /api/v1/users/{id}/disable (province administrators) with 204: the
// user's token stops working at once on this instance and within the token cache's TTL on the
// others. Its events stay in the log.
func (s *Server) disableUser(w http.ResponseWriter, r *http.Request, u voucherwatch.User) {
	if !u.Role.MayManageUsers() {
		s.fail(w, voucherwatch.Errorf(voucherwatch.EFORBIDDEN, "only a province administrator manages users"))
		return
	}
	id := r.PathValue("id")
	if err := s.workflow.Users.DisableUser(r.Context(), id, s.workflow.now()); err != nil {
		s.fail(w, err)
		return
	}
	s.users.forget(id)
	s.sessions.forget(id)
	s.Log.Info("supervision: user disabled", "id", id, "by", u.ID)
	w.WriteHeader(http.StatusNoContent)
}
