package ui

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/voucherwatch/voucherwatch"
	"github.com/voucherwatch/voucherwatch/supervision/workflow"
)

// Sessions of the web UI are stateless: the cookie itself says who signed in, when, and until
// when, signed with HMAC-SHA256 under a key every engine instance shares. Any instance behind
// the load balancer can check any cookie; nothing about a session is kept on an instance. What
// a stateless cookie cannot do by itself, ending a session early, is covered by reading the
// user on every request (through a short cache): a disabled user, or one whose password
// changed since the cookie was signed, is signed out everywhere within the cache's TTL; and
// by the revocations of signed-out sessions, shared by every instance (logout.go).

// Cookie names.
const (
	sessionCookie    = "vw_session"
	loginCSRFCookie  = "vw_login_csrf"
	sessionCookieVer = "v1"
)

// DefaultSessionTTL is how long a sign-in lasts: a working day.
const DefaultSessionTTL = 8 * time.Hour

// DefaultSessionCacheTTL is how long the user behind a session is trusted without asking the
// user store again, so also how long a disabled user's session keeps working on other
// instances.
const DefaultSessionCacheTTL = 30 * time.Second

// sessionKeyLabel separates the session key from every other use of the PII key.
const sessionKeyLabel = "voucherwatch/v1/web-session-key"

// DeriveSessionKey derives the key that signs session cookies from the PII key, which every
// instance already shares, when the operator set no session key of its own: HMAC-SHA256 keyed
// by the PII key over a label used for nothing else, HKDF's extract step in effect. Knowing the
// session key tells nothing about the PII key.
func DeriveSessionKey(piiKey string) []byte {
	m := hmac.New(sha256.New, []byte(piiKey))
	m.Write([]byte(sessionKeyLabel))
	return m.Sum(nil)
}

// session is what a session cookie carries.
type session struct {
	UserID  string `json:"u"`
	Issued  int64  `json:"i"` // Unix seconds
	Expires int64  `json:"e"` // Unix seconds
	Nonce   string `json:"n"` // random per sign-in, so each sign-in has its own CSRF token
	// Password fingerprints the password hash the user signed in with: a keyed hash, so the
	// cookie reveals nothing of it. A new password ends the sessions of the old one.
	Password string `json:"p"`
}

// mac signs data under the session key, for purpose; purposes keep the signatures of
// cookies, CSRF tokens and password fingerprints apart.
func (h *Handler) mac(purpose string, data ...string) []byte {
	m := hmac.New(sha256.New, h.key)
	m.Write([]byte(purpose))
	for _, d := range data {
		m.Write([]byte{0})
		m.Write([]byte(d))
	}
	return m.Sum(nil)
}

func b64(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

// passwordFingerprint is the keyed hash of a password hash a session carries.
func (h *Handler) passwordFingerprint(hash string) string {
	return b64(h.mac("password", hash)[:12])
}

// encodeSession signs a session into a cookie value: v1.<payload>.<signature>.
func (h *Handler) encodeSession(ss session) string {
	payload, _ := json.Marshal(ss)
	p := b64(payload)
	return sessionCookieVer + "." + p + "." + b64(h.mac("session", p))
}

// decodeSession checks a cookie value's signature and expiry at now.
func (h *Handler) decodeSession(v string, now time.Time) (session, bool) {
	var ss session
	ver, rest, ok := strings.Cut(v, ".")
	if !ok || ver != sessionCookieVer {
		return ss, false
	}
	p, sig, ok := strings.Cut(rest, ".")
	if !ok {
		return ss, false
	}
	got, err := base64.RawURLEncoding.DecodeString(sig)
	if err != nil || !hmac.Equal(got, h.mac("session", p)) {
		return ss, false
	}
	payload, err := base64.RawURLEncoding.DecodeString(p)
	if err != nil || json.Unmarshal(payload, &ss) != nil || ss.UserID == "" {
		return ss, false
	}
	// A cookie from the future (clock skew between instances aside) was not signed by us, nor
	// one that lasts longer than a session: whoever could sign it is not to be trusted for
	// longer than a sign-in lasts.
	if n := now.Unix(); n >= ss.Expires || ss.Issued > n+300 || ss.Expires-ss.Issued > int64(h.sessionTTL()/time.Second) {
		return ss, false
	}
	return ss, true
}

// csrfToken is the CSRF token of a session: a signature of the session's identity, which only
// a holder of the session key can compute and only a page of this session shows.
func (h *Handler) csrfToken(ss session) string {
	return b64(h.mac("csrf", ss.UserID, ss.Nonce, time.Unix(ss.Issued, 0).UTC().Format(time.RFC3339))[:24])
}

// loginCSRFToken is the token of the sign-in form, bound to the pre-session cookie's nonce.
func (h *Handler) loginCSRFToken(nonce string) string {
	return b64(h.mac("login-csrf", nonce)[:24])
}

// validToken compares a submitted token with the expected one in constant time.
func validToken(got, want string) bool {
	return got != "" && hmac.Equal([]byte(got), []byte(want))
}

// crossOrigin refuses state-changing requests that the browser says come from another site:
// a Sec-Fetch-Site other than same-origin or none, or, from browsers without that header, an
// Origin whose host is not the request's. Requests with neither header (old browsers,
// non-browser clients) pass it and depend on the CSRF token alone. It is only read after start.
var crossOrigin = http.NewCrossOriginProtection()

// sameOrigin reports whether crossOrigin lets a state-changing request through.
func sameOrigin(r *http.Request) bool { return crossOrigin.Check(r) == nil }

// setCookie sets a cookie of the UI with the flags every one of them has.
func (h *Handler) setCookie(w http.ResponseWriter, name, value string, maxAge time.Duration) {
	c := &http.Cookie{
		Name: name, Value: value, Path: "/", HttpOnly: true, SameSite: http.SameSiteLaxMode,
		Secure: h.SecureCookies,
	}
	if maxAge < 0 {
		c.MaxAge = -1
	} else {
		c.MaxAge = int(maxAge / time.Second)
	}
	http.SetCookie(w, c)
}

// newSession signs u in: a session cookie valid for the session TTL.
func (h *Handler) newSession(w http.ResponseWriter, u voucherwatch.User, passwordHash string) {
	now := h.Workflow.Clock()
	ss := session{
		UserID: u.ID, Issued: now.Unix(), Expires: now.Add(h.sessionTTL()).Unix(),
		Nonce: workflow.RandomHex(12), Password: h.passwordFingerprint(passwordHash),
	}
	h.setCookie(w, sessionCookie, h.encodeSession(ss), h.sessionTTL())
}

// sessionUser returns the session of the request and its user, when the cookie is valid and
// the user still enabled with the same password. The error is the user store'h.
func (h *Handler) sessionUser(r *http.Request) (session, voucherwatch.User, bool, error) {
	c, err := r.Cookie(sessionCookie)
	if err != nil {
		return session{}, voucherwatch.User{}, false, nil
	}
	ss, ok := h.decodeSession(c.Value, h.Workflow.Clock())
	if !ok {
		return ss, voucherwatch.User{}, false, nil
	}
	if revoked, err := h.sessionRevoked(r.Context(), ss); err != nil || revoked {
		return ss, voucherwatch.User{}, false, err
	}
	e, err := h.sessionEntry(r.Context(), ss.UserID)
	if err != nil {
		return ss, voucherwatch.User{}, false, err
	}
	if !e.found || !hmac.Equal([]byte(e.password), []byte(ss.Password)) {
		return ss, voucherwatch.User{}, false, nil
	}
	return ss, e.user, true, nil
}

// sessionEntry reads a session's user and the fingerprint of its password, through the cache.
func (h *Handler) sessionEntry(ctx context.Context, id string) (cachedSession, error) {
	now := h.Workflow.Clock()
	ttl := h.SessionCacheTTL
	if ttl == 0 {
		ttl = DefaultSessionCacheTTL
	}
	if ttl > 0 {
		if e, ok := h.sessions.get(id, now); ok {
			return e, nil
		}
	}
	e := cachedSession{until: now.Add(ttl)}
	u, err := h.Workflow.Users.User(ctx, id)
	switch voucherwatch.ErrorCode(err) {
	case "":
		if u.Login == "" {
			break // no login, no sign-in: the user's login was taken away
		}
		byLogin, hash, err := h.Workflow.Users.UserByLogin(ctx, u.Login)
		switch voucherwatch.ErrorCode(err) {
		case "":
			if byLogin.ID == u.ID && hash != "" {
				e.user, e.found, e.password = u, true, h.passwordFingerprint(hash)
			}
		case voucherwatch.ENOTFOUND:
		default:
			return e, err
		}
	case voucherwatch.ENOTFOUND:
	default:
		return e, err
	}
	if ttl > 0 {
		h.sessions.put(id, e)
	}
	return e, nil
}

// maxCachedSessions bounds the session cache. Entries are per user id from a signed cookie,
// so only real users fill it.
const maxCachedSessions = 10000

// sessionCache remembers, per user id, the user behind recent sessions. Its zero value is
// empty and ready.
type sessionCache struct {
	mu      sync.Mutex
	entries map[string]cachedSession
}

type cachedSession struct {
	user     voucherwatch.User
	password string // fingerprint of the current password hash
	found    bool
	until    time.Time
}

func (c *sessionCache) get(id string, now time.Time) (cachedSession, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.entries[id]
	if !ok || now.After(e.until) {
		return cachedSession{}, false
	}
	return e, true
}

func (c *sessionCache) put(id string, e cachedSession) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.entries == nil || len(c.entries) >= maxCachedSessions {
		c.entries = make(map[string]cachedSession)
	}
	c.entries[id] = e
}

// forget drops a user's cached entry, on this instance.
func (c *sessionCache) forget(id string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.entries, id)
}

// newNonce is a random value for a pre-session cookie.
func newNonce() string {
	b := make([]byte, 18)
	_, _ = rand.Read(b)
	return b64(b)
}
