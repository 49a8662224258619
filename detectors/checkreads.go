package detectors

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/voucherwatch/voucherwatch"
)

// CheckReads is the read model of the incremental checks. A new claim reaches sixteen lanes,
// and most of them first look up the same records around it: the settlements of the
// invoices it cites, its contracts, the registry rows of its parties, the claims of its
// applicant, the enterprises' cities (bench live: 16 LatestClaims per claim, 7
// LatestSettlements, 5 LatestEntitiesOf, 2 Cities).
// Within checks, CheckReads answers a look-up it has answered before from that answer, for at
// most MaxAge, unless records stored since could change it (Invalidate); outside checks (full
// runs, tests calling Check) it reads through.
//
// An answer kept is what the same look-up would have read when it was first made, and no
// record stored since touches it: a check using it reads what it would read now. Invalidate
// drops the answers a batch's records may change before the checks of those records are
// queued, and an answer whose read overlapped an Invalidate is not kept, so no check of a
// record reads from before it. Another engine instance's records are not seen until MaxAge
// has passed; that instance checks them itself, and the full runs read everything.
type CheckReads struct {
	voucherwatch.ReadModel
	// MaxAge is how long an answer serves at most (default 2 s).
	MaxAge time.Duration
	// MaxRows is the most rows of an answer that is kept (default 2,000): a check's
	// look-ups are keyed; a larger answer is read again.
	MaxRows int

	stored atomic.Uint64 // Invalidate's count
	mu     sync.Mutex
	kept   map[string]keptRead
	rows   int       // of all answers kept
	swept  time.Time // when answers past MaxAge were last dropped
}

type keptRead struct {
	rows any // a slice or map, given out as a copy
	n    int // its rows
	at   time.Time
	// touchedBy reports whether a stored record may change the answer.
	touchedBy func(r *voucherwatch.Record) bool
}

// keptRowsMost and keptMost bound the rows of all answers kept (a few MiB) and their
// number: adding past either drops them all, and so does storing a batch of more than
// invalidateMost records (a bulk load: its changes go to a full run anyway). Answers past
// MaxAge are dropped as others are added (every MaxAge/2 at most).
const (
	keptRowsMost   = 20_000
	keptMost       = 4096 // answers, empty ones included
	invalidateMost = 64
)

// NewCheckReads wraps rm.
func NewCheckReads(rm voucherwatch.ReadModel) *CheckReads {
	return &CheckReads{ReadModel: rm, MaxAge: 2 * time.Second, MaxRows: 2000, kept: map[string]keptRead{}}
}

// Invalidate says recs were stored: the answers they may change are dropped. Usage changes
// none of the look-ups kept.
func (c *CheckReads) Invalidate(recs []voucherwatch.Record) {
	var others []*voucherwatch.Record
	for i := range recs {
		if recs[i].Usage == nil {
			others = append(others, &recs[i])
		}
	}
	if len(others) == 0 {
		return
	}
	c.stored.Add(1)
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(others) > invalidateMost {
		clear(c.kept)
		c.rows = 0
		return
	}
	for key, k := range c.kept {
		if slices.ContainsFunc(others, k.touchedBy) {
			delete(c.kept, key)
			c.rows -= k.n
		}
	}
}

// keep adds an answer of n rows under key; c.mu is held.
func (c *CheckReads) keep(key string, k keptRead, now time.Time) {
	if now.Sub(c.swept) >= c.MaxAge/2 {
		c.swept = now
		for kk, old := range c.kept {
			if now.Sub(old.at) >= c.MaxAge {
				delete(c.kept, kk)
				c.rows -= old.n
			}
		}
	}
	if old, ok := c.kept[key]; ok {
		delete(c.kept, key)
		c.rows -= old.n
	}
	if c.rows+k.n > keptRowsMost || len(c.kept) >= keptMost {
		clear(c.kept)
		c.rows = 0
	}
	c.kept[key] = k
	c.rows += k.n
}

// LatestClaims is the read model's, kept within checks. A look-up by claim ids is kept per
// claim, since lanes checking at different moments ask for different sets of the same new
// claims, and is changed by a new version of the claim; any other look-up by any claim.
func (c *CheckReads) LatestClaims(ctx context.Context, q voucherwatch.ClaimQuery) ([]voucherwatch.StoredClaim, error) {
	if !q.All && len(q.Applicants) == 0 && len(q.Invoices) == 0 && len(q.ContractNumbers) == 0 {
		return keptByKey(ctx, c, "claim", q.IDs,
			func(s *voucherwatch.StoredClaim) string { return s.ClaimID },
			func(id string) func(*voucherwatch.Record) bool {
				return func(r *voucherwatch.Record) bool { return r.Claim != nil && r.Claim.ClaimID == id }
			},
			func(ids []string) ([]voucherwatch.StoredClaim, error) {
				return c.ReadModel.LatestClaims(ctx, voucherwatch.ClaimQuery{IDs: ids})
			})
	}
	touched := func(r *voucherwatch.Record) bool { return r.Claim != nil }
	return keptLookUp(ctx, c, "claims", q, touched, func() ([]voucherwatch.StoredClaim, error) { return c.ReadModel.LatestClaims(ctx, q) })
}

// LatestSettlements is the read model's, kept within checks. A look-up of invoices is kept
// per invoice (by canonical key, as the store looks them up) and changed by a settlement of
// the invoice; any other look-up by any settlement, and a look-up of the invoices claims
// cite by any claim.
func (c *CheckReads) LatestSettlements(ctx context.Context, q voucherwatch.SettlementQuery) ([]voucherwatch.StoredSettlement, error) {
	if len(q.Invoices) > 0 && !q.All && len(q.BuyerContracts) == 0 && !q.CitedByClaims && len(q.InvoiceNos) == 0 &&
		!q.NumbersCitedByClaims && len(q.Contracts) == 0 && len(q.Suppliers) == 0 {
		asked := map[string]voucherwatch.InvoiceKey{}
		var keys []string
		for _, k := range q.Invoices {
			ck := k.Canonical()
			if _, ok := asked[ck]; !ok {
				asked[ck] = k
				keys = append(keys, ck)
			}
		}
		return keptByKey(ctx, c, "invoice", keys,
			func(s *voucherwatch.StoredSettlement) string { return s.CanonicalKey() },
			func(key string) func(*voucherwatch.Record) bool {
				return func(r *voucherwatch.Record) bool { return r.Settlement != nil && r.Settlement.CanonicalKey() == key }
			},
			func(keys []string) ([]voucherwatch.StoredSettlement, error) {
				invoices := make([]voucherwatch.InvoiceKey, len(keys))
				for i, k := range keys {
					invoices[i] = asked[k]
				}
				return c.ReadModel.LatestSettlements(ctx, voucherwatch.SettlementQuery{Invoices: invoices})
			})
	}
	cited := q.CitedByClaims || q.NumbersCitedByClaims
	touched := func(r *voucherwatch.Record) bool { return r.Settlement != nil || cited && r.Claim != nil }
	return keptLookUp(ctx, c, "settlements", q, touched, func() ([]voucherwatch.StoredSettlement, error) { return c.ReadModel.LatestSettlements(ctx, q) })
}

// LatestContracts is the read model's, kept within checks; any contract may change it.
func (c *CheckReads) LatestContracts(ctx context.Context, q voucherwatch.ContractQuery) ([]voucherwatch.StoredContract, error) {
	touched := func(r *voucherwatch.Record) bool { return r.Contract != nil }
	return keptLookUp(ctx, c, "contracts", q, touched, func() ([]voucherwatch.StoredContract, error) { return c.ReadModel.LatestContracts(ctx, q) })
}

// LatestEntitiesOf is the read model's, kept within checks per enterprise; a registry record
// of the enterprise changes it.
func (c *CheckReads) LatestEntitiesOf(ctx context.Context, usccs []string) ([]voucherwatch.StoredEntity, error) {
	return keptByKey(ctx, c, "entity", usccs,
		func(e *voucherwatch.StoredEntity) string { return e.USCC },
		func(uscc string) func(*voucherwatch.Record) bool {
			return func(r *voucherwatch.Record) bool { return r.Entity != nil && r.Entity.USCC == uscc }
		},
		func(usccs []string) ([]voucherwatch.StoredEntity, error) {
			return c.ReadModel.LatestEntitiesOf(ctx, usccs)
		})
}

// Cities is the read model's, kept within checks (every check naming a city reads the whole
// map); any registry record changes it. Callers get a copy.
func (c *CheckReads) Cities(ctx context.Context) (map[string]string, error) {
	touched := func(r *voucherwatch.Record) bool { return r.Entity != nil }
	return keptAnswer(ctx, c, "cities", touched, func() (map[string]string, error) { return c.ReadModel.Cities(ctx) },
		maps.Clone, func(m map[string]string) int { return len(m) }, keptRowsMost/2)
}

// keptLookUp answers the look-up kind q from what c kept, or reads it with load and keeps
// it. Callers get a copy of the slice: they sort and append to what they get.
func keptLookUp[Q any, T any](ctx context.Context, c *CheckReads, kind string, q Q, touchedBy func(*voucherwatch.Record) bool, load func() ([]T, error)) ([]T, error) {
	return keptAnswer(ctx, c, kind+fmt.Sprintf("%#v", q), touchedBy, load,
		slices.Clone[[]T], func(rows []T) int { return len(rows) }, c.MaxRows)
}

// keptAnswer answers the look-up key from what c kept, or reads it with load and keeps a copy
// (clone) unless it is larger than most (size). Outside checks it reads through.
func keptAnswer[V any](ctx context.Context, c *CheckReads, key string, touchedBy func(*voucherwatch.Record) bool,
	load func() (V, error), clone func(V) V, size func(V) int, most int) (V, error) {
	if ctx.Value(checkMemoKey{}) == nil {
		return load()
	}
	now := time.Now()
	c.mu.Lock()
	k, ok := c.kept[key]
	c.mu.Unlock()
	if ok && now.Sub(k.at) < c.MaxAge {
		return clone(k.rows.(V)), nil
	}
	// Records stored while the read runs may be in its answer or not: if any were, the
	// answer is not kept.
	gen := c.stored.Load()
	v, err := load()
	if err != nil || size(v) > most {
		return v, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.stored.Load() != gen {
		return v, nil
	}
	c.keep(key, keptRead{rows: clone(v), n: size(v), at: now, touchedBy: touchedBy}, now)
	return v, nil
}

// keptByKey answers a look-up of keys whose answer is the rows of each key (keyOf), from the
// rows kept per key, reading those of the keys not kept in one look-up (load) and keeping
// them, none included: a key with no rows yet is kept as such until a record touches it.
// Outside checks it reads all through load.
func keptByKey[T any](ctx context.Context, c *CheckReads, kind string, keys []string, keyOf func(*T) string,
	touchedBy func(key string) func(*voucherwatch.Record) bool, load func(keys []string) ([]T, error)) ([]T, error) {
	if ctx.Value(checkMemoKey{}) == nil {
		return load(keys)
	}
	var out []T
	var missing []string
	now := time.Now()
	c.mu.Lock()
	for _, key := range slices.Compact(slices.Sorted(slices.Values(keys))) {
		k, ok := c.kept[kind+"\x00"+key]
		if ok && now.Sub(k.at) < c.MaxAge {
			out = append(out, k.rows.([]T)...)
		} else {
			missing = append(missing, key)
		}
	}
	c.mu.Unlock()
	if len(missing) == 0 {
		return out, nil
	}
	gen := c.stored.Load()
	rows, err := load(missing)
	if err != nil {
		return nil, err
	}
	out = append(out, rows...)
	if len(rows) > c.MaxRows {
		return out, nil
	}
	byKey := make(map[string][]T, len(missing))
	for _, key := range missing {
		byKey[key] = nil
	}
	for i := range rows {
		key := keyOf(&rows[i])
		if _, asked := byKey[key]; asked {
			byKey[key] = append(byKey[key], rows[i])
		}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.stored.Load() != gen {
		return out, nil
	}
	for key, rs := range byKey {
		c.keep(kind+"\x00"+key, keptRead{rows: rs, n: len(rs), at: now, touchedBy: touchedBy(key)}, now)
	}
	return out, nil
}
