package storetest_test

import (
	"context"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"

	"github.com/voucherwatch/voucherwatch/store/storetest"
)

// TestDropUsesTheDriver creates a database, then drops it with an empty PATH: Drop must reach
// the server through the driver, not a clickhouse-client it would have to find. A look-alike
// database next to it must survive.
func TestDropUsesTheDriver(t *testing.T) {
	storetest.Require(t)
	t.Setenv("VW_TEST_KEEP", "")
	conn, err := clickhouse.Open(&clickhouse.Options{Addr: []string{storetest.Addr()}, DialTimeout: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	ctx := context.Background()
	name := "vwtest_drop_" + storetest.RandomSuffix()
	kept := name + "_kept"
	for _, db := range []string{name, kept} {
		if err := conn.Exec(ctx, "CREATE DATABASE "+db); err != nil {
			t.Fatal(err)
		}
	}
	defer func() { _ = conn.Exec(ctx, "DROP DATABASE IF EXISTS "+kept) }()

	t.Setenv("PATH", "")
	storetest.Drop(name)

	exists := func(db string) bool {
		var n uint64
		if err := conn.QueryRow(ctx, "SELECT count() FROM system.databases WHERE name = ?", db).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n == 1
	}
	if exists(name) {
		t.Errorf("database %s still exists after Drop, want it dropped", name)
	}
	if !exists(kept) {
		t.Errorf("database %s was dropped too, want it kept", kept)
	}
}
