package store

import (
	"database/sql"
	"errors"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"

	"github.com/voucherwatch/voucherwatch"
)

// TestQueryLabelInTheQueryLog: a read made with a labelled context shows in the server's query
// log under the id vw:label:random, the label's odd characters replaced; an unlabelled read
// keeps the driver's id.
func TestQueryLabelInTheQueryLog(t *testing.T) {
	db := newTestDB(t)
	ctx := clickhouse.Context(testContext(t), clickhouse.WithSettings(clickhouse.Settings{"log_queries": 1}))
	marker := strings.ReplaceAll(db.database, "_", "")
	for _, tc := range []struct {
		name, label string
		want        string // the query id's pattern
	}{
		{"a check", "check:duplicate_claim", `^vw:check:duplicate_claim:[0-9a-f]{16}$`},
		{"a route with spaces", "api:GET /api/v1/alerts", `^vw:api:GET_/api/v1/alerts:[0-9a-f]{16}$`},
		{"no label", "", `^[0-9a-f-]{36}$`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			qctx := ctx
			if tc.label != "" {
				qctx = voucherwatch.WithQueryLabel(ctx, tc.label)
			}
			tag := marker + strings.ReplaceAll(tc.name, " ", "")
			var n uint64
			if err := db.conn.QueryRow(qctx, "SELECT count() FROM record_keys WHERE id = '"+tag+"'").Scan(&n); err != nil {
				t.Fatal(err)
			}
			// The server logs a query as it finishes, which may be after the client has its
			// answer: a flush right after may not hold it yet.
			var id string
			for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(100 * time.Millisecond) {
				if err := db.conn.Exec(ctx, "SYSTEM FLUSH LOGS"); err != nil {
					t.Fatal(err)
				}
				err := db.conn.QueryRow(ctx, "SELECT query_id FROM system.query_log WHERE type = 2 AND query LIKE ? ORDER BY event_time DESC LIMIT 1",
					"SELECT count() FROM record_keys WHERE id = '"+tag+"'%").Scan(&id)
				if err == nil {
					break
				}
				if !errors.Is(err, sql.ErrNoRows) || time.Now().After(deadline) {
					t.Fatalf("the query log: %v", err)
				}
			}
			if !regexp.MustCompile(tc.want).MatchString(id) {
				t.Errorf("got query id %q, want %s", id, tc.want)
			}
		})
	}
}
