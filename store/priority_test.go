package store

import (
	"context"
	"testing"
)

// TestWithQueryPriority: a query under WithQueryPriority runs with that priority on the server
// (18.16 lists a query's settings in system.settings), and one outside it with the default 0.
func TestWithQueryPriority(t *testing.T) {
	db := newTestDB(t)
	ctx := context.Background()
	priority := func(ctx context.Context) string {
		t.Helper()
		var v string
		if err := db.conn.QueryRow(ctx, "SELECT value FROM system.settings WHERE name = 'priority'").Scan(&v); err != nil {
			t.Fatal(err)
		}
		return v
	}
	if got := priority(ctx); got != "0" {
		t.Errorf("without a priority: got %s, want 0", got)
	}
	if got := priority(WithQueryPriority(ctx, PrioritySweep)); got != "2" {
		t.Errorf("a sweep's query: got priority %s, want 2", got)
	}
	if got := priority(WithQueryPriority(ctx, PriorityCheck)); got != "1" {
		t.Errorf("a check's query: got priority %s, want 1", got)
	}
}
