package api

import (
	"time"

	"github.com/voucherwatch/voucherwatch"
)

// Query parameters are checked before they reach the store: a value the store cannot hold (a
// time after 2105, which ClickHouse's DateTime wraps to 1970) or does not know (a status or
// detector nobody has) is the client's mistake, answered 400 naming the parameter, never a
// 500 or an empty list that looks like an answer.

// earliestQueryTime and latestQueryTime bound the times a query may name: DateTime holds
// 1970-01-01 to 2106-02-07.
var (
	earliestQueryTime = time.Date(1970, 1, 1, 0, 0, 0, 0, time.UTC)
	latestQueryTime   = time.Date(2106, 1, 1, 0, 0, 0, 0, time.UTC)
)

// parseQueryTime parses the RFC 3339 time of query parameter field, within the range the
// store holds.
func parseQueryTime(field, v string) (time.Time, error) {
	t, err := time.Parse(time.RFC3339, v)
	if err != nil {
		return t, voucherwatch.FieldErrorf(field, "want an RFC 3339 timestamp, got %q", v)
	}
	if t.Before(earliestQueryTime) || !t.Before(latestQueryTime) {
		return t, voucherwatch.FieldErrorf(field, "want a time between 1970 and 2105, got %q", v)
	}
	return t, nil
}
