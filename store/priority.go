package store

import (
	"context"

	"github.com/ClickHouse/clickhouse-go/v2"
)

// Query priorities, ClickHouse's per-query `priority` setting (18.16 and current servers): while
// a query of a higher priority (a smaller number; 1 is the highest) runs, the queries of lower
// priorities pause between blocks; 0, the default, takes no part. The detectors' incremental
// checks run at PriorityCheck and their full runs at PrioritySweep, so that a sweep over a
// large history gives way to a check's keyed look-ups and never holds up a new alert. Ingest
// and the API keep the default.
const (
	PriorityCheck = 1
	PrioritySweep = 2
)

// WithQueryPriority returns ctx whose queries run at priority p. It replaces other per-query
// settings ctx carries (clickhouse.WithSettings).
func WithQueryPriority(ctx context.Context, p int) context.Context {
	return clickhouse.Context(ctx, clickhouse.WithSettings(clickhouse.Settings{"priority": p}))
}
