package store

import (
	"context"
	"crypto/rand"
	"encoding/hex"

	"github.com/ClickHouse/clickhouse-go/v2"
	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/voucherwatch/voucherwatch"
)

// labelledConn gives the reads made with a labelled context (voucherwatch.WithQueryLabel) the
// query id vw:label:random, where the server's query log shows it. Writes keep theirs: an
// INSERT's id is how later look-ups find it running (insertQueryID).
type labelledConn struct{ driver.Conn }

// labelled is ctx with the query id of its label; ctx itself without one.
func labelled(ctx context.Context) context.Context {
	l := voucherwatch.QueryLabel(ctx)
	if l == "" {
		return ctx
	}
	var b [8]byte
	_, _ = rand.Read(b[:])
	return clickhouse.Context(ctx, clickhouse.WithQueryID("vw:"+l+":"+hex.EncodeToString(b[:])))
}

func (c labelledConn) Query(ctx context.Context, query string, args ...any) (driver.Rows, error) {
	return c.Conn.Query(labelled(ctx), query, args...)
}

func (c labelledConn) QueryRow(ctx context.Context, query string, args ...any) driver.Row {
	return c.Conn.QueryRow(labelled(ctx), query, args...)
}

func (c labelledConn) Select(ctx context.Context, dest any, query string, args ...any) error {
	return c.Conn.Select(labelled(ctx), dest, query, args...)
}
