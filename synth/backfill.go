package synth

import "time"

// backfillWeeks is how far back a supplier's backfill reaches: a year of weekly windows.
const backfillWeeks = 52

// UsageBackfill calls fn with n valid usage.v1 messages shaped as a supplier's backfill: each
// node sends its week-long windows of the past year, Monday to Monday from 2025-11-03 (CST),
// one node after the other, so that any run of messages spans the whole year. Nodes, buyers and
// contracts are UsageStream's for the same seed, every (source, id) distinct from one another
// but not from UsageStream's: use another seed for both in one database. Like UsageStream it
// reuses the Key and Value after fn returns.
func UsageBackfill(seed int64, n int, fn func(Message) error) error {
	resources := max(1, (n+backfillWeeks-1)/backfillWeeks)
	s := newUsageStream(seed, resources)
	s.window = 7 * 24 * 3600
	first := time.Date(2025, 11, 3, 0, 0, 0, 0, cst).Unix()
	for i := range s.res {
		s.res[i].next = first
	}
	for k := 0; k < n; k++ {
		if err := fn(s.next(k / backfillWeeks)); err != nil {
			return err
		}
	}
	return nil
}
