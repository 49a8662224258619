package voucherwatch

import (
	"context"
	"strings"
)

type queryLabelKey struct{}

// WithQueryLabel names what the database reads made with ctx are for: a detector's check or
// full run, an API route, ingest's key look-ups. The store puts the label in the query's id
// (vw:label:random), so that ClickHouse's query log tells an operator which detector or route
// costs the server what (docs/metrics.md, "Who asked the server"). Characters other than letters,
// digits and _ . : / - become _.
func WithQueryLabel(ctx context.Context, label string) context.Context {
	return context.WithValue(ctx, queryLabelKey{}, strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', strings.ContainsRune("_.:/-", r):
			return r
		}
		return '_'
	}, label))
}

// QueryLabel is ctx's label (WithQueryLabel), empty when it has none.
func QueryLabel(ctx context.Context) string {
	l, _ := ctx.Value(queryLabelKey{}).(string)
	return l
}
