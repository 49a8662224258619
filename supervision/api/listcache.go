package api

import (
	"context"
	"sync"
	"time"
)

// AlertWriteCounter is an alert store that counts the writes this process made to the alerts
// and their workflow (store.DB.AlertWrites). Over such a store GET /api/v1/alerts keeps its
// answers (listCache).
type AlertWriteCounter interface {
	AlertWrites() uint64
}

// DefaultListTTL is how long a kept answer of GET /api/v1/alerts serves at most: how late
// another engine instance's alerts and workflow actions may show in this instance's list.
const DefaultListTTL = time.Second

// listCacheMost and listCacheBytes bound the answers kept, by number and by their bytes (a
// page of 1,000 alerts with their evidence is about a megabyte): adding past either drops the
// answers past the TTL, and all the others when that is not enough.
const (
	listCacheMost  = 512
	listCacheBytes = 32 << 20
)

// listCache keeps the encoded answers of GET /api/v1/alerts for the same filter, so that
// pollers (a dashboard refreshing, a harness timing its alerts, several supervisors on the
// same queue) cost one read of the list per change, not one per request. Each list read is two
// queries of a few milliseconds of ClickHouse's CPU, taken from ingest while it streams.
//
// An answer serves while no write of this process to the alerts or their events has ended
// since its read began (AlertWriteCounter), for at most ttl: a new alert, a status change or
// an assignment made here shows at the next request; one made by another instance within ttl.
// Requests that arrive while the same answer is being read wait for it instead of reading it
// again.
type listCache struct {
	mu      sync.Mutex
	entries map[string]*listEntry
	bytes   int // of the bodies kept
}

type listEntry struct {
	writes uint64    // the count of writes when its read began
	at     time.Time // when its read began
	ready  chan struct{}
	body   []byte // set before ready is closed; nil when the read failed
}

// get answers key from a kept answer read since writes was the count and within ttl, or
// reads it with load and keeps it. An answer whose read failed is not kept: the requests that
// waited for it read on their own.
func (c *listCache) get(ctx context.Context, key string, writes uint64, ttl time.Duration, load func() ([]byte, error)) ([]byte, error) {
	now := time.Now()
	c.mu.Lock()
	e, ok := c.entries[key]
	if ok && e.writes == writes && now.Sub(e.at) < ttl {
		c.mu.Unlock()
		select {
		case <-e.ready:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
		if e.body != nil {
			return e.body, nil
		}
		return load()
	}
	e = &listEntry{writes: writes, at: now, ready: make(chan struct{})}
	if c.entries == nil {
		c.entries = map[string]*listEntry{}
	}
	c.makeRoom(now, ttl, 1, 0)
	c.entries[key] = e
	c.mu.Unlock()

	body, err := load()
	c.mu.Lock()
	if err == nil {
		e.body = body // the requests waiting for it take it, kept or not
	}
	cur, present := c.entries[key]
	mine := present && cur == e
	if mine {
		delete(c.entries, key) // kept again below, with its bytes counted
	}
	// A newer read of the same list that began meanwhile keeps its place.
	if err == nil && len(body) <= listCacheBytes/4 && (mine || !present) {
		c.makeRoom(time.Now(), ttl, 1, len(body))
		c.entries[key] = e
		c.bytes += len(body)
	}
	close(e.ready)
	c.mu.Unlock()
	return body, err
}

// makeRoom drops answers until n more and size more bytes fit, first those older than ttl;
// c.mu is held.
func (c *listCache) makeRoom(now time.Time, ttl time.Duration, n, size int) {
	if len(c.entries)+n <= listCacheMost && c.bytes+size <= listCacheBytes {
		return
	}
	for k, old := range c.entries {
		if now.Sub(old.at) >= ttl {
			c.drop(k, old)
		}
	}
	if len(c.entries)+n > listCacheMost || c.bytes+size > listCacheBytes {
		for k, old := range c.entries {
			c.drop(k, old)
		}
	}
}

// drop forgets the answer under k; c.mu is held.
func (c *listCache) drop(k string, e *listEntry) {
	delete(c.entries, k)
	select {
	case <-e.ready:
		c.bytes -= len(e.body)
	default: // still being read: its bytes are not counted yet
	}
}
