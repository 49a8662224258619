package ui

import (
	"net"
	"net/http"
	"sync"
	"time"
)

// Sign-in throttling: after MaxSignInFailures wrong passwords for one login within
// SignInLockout, that login cannot sign in on this instance until the oldest of them is
// SignInLockout old. It slows guessing a password to a few tries an hour per instance; a
// successful sign-in clears the count. The count is kept per instance, not in the shared
// store, so with n instances behind a load balancer a guesser gets n × MaxSignInFailures tries
// per window: still slow, and no write to ClickHouse per failed attempt. The price is that a
// guesser can keep a login locked; the lockout is short for that reason.
//
// A second count, per client address, stops one address trying one likely password on many
// logins (spraying), which the per-login count never sees: after
// MaxSignInFailuresPerAddress wrong passwords from one address within SignInLockout, that
// address cannot sign in on this instance. A success does not clear it: a sprayer with an
// account of its own could otherwise reset it. The limit is high enough for an office behind
// one NAT address where people mistype. The address is the connection's: X-Forwarded-For is
// not trusted, since anyone can write it; behind a proxy, the proxy must limit.
const (
	MaxSignInFailures           = 5
	MaxSignInFailuresPerAddress = 20
	SignInLockout               = 15 * time.Minute
	// maxThrottled bounds the logins remembered, so that a flood of made-up logins cannot
	// grow the map without end.
	maxThrottled = 10000
)

type signInThrottle struct {
	// limit is the failures within the window that lock a key; MaxSignInFailures when 0.
	limit    int
	mu       sync.Mutex
	failures map[string][]time.Time // key (a login, an address) → its recent failures, oldest first
}

func (t *signInThrottle) max() int {
	if t.limit > 0 {
		return t.limit
	}
	return MaxSignInFailures
}

// lockedUntil is when login may try again; zero when it may now.
func (t *signInThrottle) lockedUntil(login string, now time.Time) time.Time {
	t.mu.Lock()
	defer t.mu.Unlock()
	fs := t.recent(login, now)
	if len(fs) < t.max() {
		return time.Time{}
	}
	return fs[len(fs)-t.max()].Add(SignInLockout)
}

// failed counts a wrong password for login.
func (t *signInThrottle) failed(login string, now time.Time) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.failures == nil {
		t.failures = map[string][]time.Time{}
	}
	if len(t.failures) >= maxThrottled {
		// First the logins whose failures have left the window; if a flood of made-up
		// logins filled the map within it, arbitrary ones: the bound matters more than
		// the count of a login someone is spraying among thousands.
		for l := range t.failures {
			t.recent(l, now)
		}
		for l := range t.failures {
			if len(t.failures) < maxThrottled {
				break
			}
			delete(t.failures, l)
		}
	}
	fs := append(t.recent(login, now), now)
	if len(fs) > t.max() {
		fs = fs[len(fs)-t.max():]
	}
	t.failures[login] = fs
}

// succeeded forgets login's failures.
func (t *signInThrottle) succeeded(login string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	delete(t.failures, login)
}

// recent drops login's failures older than the window and returns the rest. t.mu is held.
func (t *signInThrottle) recent(login string, now time.Time) []time.Time {
	fs := t.failures[login]
	i := 0
	for i < len(fs) && !fs[i].After(now.Add(-SignInLockout)) {
		i++
	}
	if i == len(fs) {
		delete(t.failures, login)
		return nil
	}
	if i > 0 {
		fs = fs[i:]
		t.failures[login] = fs
	}
	return fs
}

// clientAddress is the address a request came from, without its port.
func clientAddress(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// Per-address limits of the public pages, within SignInLockout (15 minutes), per instance:
// a person files a complaint in two posts (find the enterprise, then submit) and may correct
// a mistake; a flood from one address stops here. Behind a proxy, the proxy must limit (the
// connection's address is used, as for sign-in). Public objections to a round are bounded as
// the complaint form is.
const (
	MaxComplaintPostsPerAddress       = 10
	MaxStatusLookupFailuresPerAddress = 20
	MaxObjectionsPerAddress           = 10
)
