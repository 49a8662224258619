package store

import (
	"context"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/voucherwatch/voucherwatch/store/storetest"
)

// droppedObjects are the key look-up and rollup of the builds before migration 13 ("record keys by time"), the
// daily rollup view that migration 16 ("usage rolled up by window span") replaced, and the look-up key views that
// migration 33 ("look-up keys in one part per insert") replaced.
var droppedObjects = []string{"ingest_keys", "usage_keys", "registry_keys", "contracts_keys", "settlements_keys", "claims_keys", "usage_daily_mv",
	"usage_repartitioning", "usage_repartitioned", "usage_daily_repartitioning", "usage_daily_repartitioned", "usage_daily_block_mv", "usage_spans_mv",
	"claims_lookup_ids", "claims_lookup_invoices", "claims_lookup_invoice_keys", "settlements_lookup_invoices", "settlements_lookup_contracts",
	"settlements_lookup_payment_refs", "settlements_lookup_invoice_keys"}

// schemaObjects lists the tables and views the record store needs.
var schemaObjects = []string{
	"claims", "claims_record_keys", "contracts", "contracts_record_keys", "contracts_latest", "dead_letters",
	"record_keys", "registry", "registry_record_keys", "registry_latest", "schema_migrations",
	"settlements", "settlements_record_keys", "usage", "usage_record_keys", "usage_daily", "usage_spans", "usage_spans_short_mv", "usage_days",
	"lookup_keys", "claims_lookup_keys", "settlements_lookup_keys",
	"inspectors", "spotchecks", "spotcheck_items", "inspection_results",
}

func checkSchema(t *testing.T, db *DB) {
	t.Helper()
	ctx := testContext(t)
	var names []string
	rows, err := db.conn.Query(ctx, "SELECT name FROM system.tables WHERE database = ? ORDER BY name", db.database)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			t.Fatal(err)
		}
		names = append(names, n)
	}
	for _, want := range schemaObjects {
		if !slices.Contains(names, want) {
			t.Errorf("tables: got %v, want %s among them", names, want)
		}
	}
	for _, gone := range droppedObjects {
		if slices.Contains(names, gone) {
			t.Errorf("tables: got %v, want no %s (dropped by a migration)", names, gone)
		}
	}

	var versions []uint32
	rows, err = db.conn.Query(ctx, "SELECT DISTINCT version FROM schema_migrations ORDER BY version")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	for rows.Next() {
		var v uint32
		if err := rows.Scan(&v); err != nil {
			t.Fatal(err)
		}
		versions = append(versions, v)
	}
	var want []uint32
	for _, m := range migrations {
		want = append(want, m.version)
	}
	if !slices.Equal(versions, want) {
		t.Errorf("schema_migrations versions: got %v, want %v", versions, want)
	}
}

func TestMigrateTwice(t *testing.T) {
	db := newTestDB(t)
	if err := db.Migrate(testContext(t)); err != nil {
		t.Fatalf("second Migrate: %v", err)
	}
	checkSchema(t, db)
}

// TestMigrateConcurrently starts several instances on one fresh database at once, as a
// deployment does.
func TestMigrateConcurrently(t *testing.T) {
	dsn := storetest.Database(t)
	const instances = 4
	dbs := make([]*DB, instances)
	for i := range dbs {
		dbs[i] = openTestDB(t, dsn)
	}
	for round := range 2 {
		var wg sync.WaitGroup
		errs := make([]error, instances)
		for i, db := range dbs {
			wg.Go(func() { errs[i] = db.Migrate(testContext(t)) })
		}
		wg.Wait()
		for i, err := range errs {
			if err != nil {
				t.Errorf("round %d, instance %d: Migrate: %v", round, i, err)
			}
		}
	}
	checkSchema(t, dbs[0])
}

// TestSchemaMatchesWriters checks that every record table has the columns, in the order and
// of the types, that StoreRecords writes.
func TestSchemaMatchesWriters(t *testing.T) {
	db := newTestDB(t)
	ctx := testContext(t)
	for typ, tbl := range recordTables {
		rows, err := db.conn.Query(ctx, "SELECT name, type FROM system.columns WHERE database = ? AND table = ?", db.database, tbl.name()) // 18.16 has no position column; rows come in table order
		if err != nil {
			t.Fatal(err)
		}
		var got []column
		for rows.Next() {
			var c column
			if err := rows.Scan(&c.name, &c.chType); err != nil {
				t.Fatal(err)
			}
			got = append(got, c)
		}
		rows.Close()
		if want := tbl.columns(); !slices.Equal(got, want) {
			t.Errorf("%s: table %s has columns\n%v\nthe writer writes\n%v", typ, tbl.name(), got, want)
		}
	}
}

func TestMigrateAddColumn(t *testing.T) {
	history := []migration{
		{version: 1, name: "t", steps: []step{createStep("CREATE TABLE IF NOT EXISTS t (a UInt8) ENGINE = MergeTree ORDER BY a")}},
		{version: 2, name: "t.b", steps: []step{addColumnStep("t", "b", "Array(String)", "a")}},
	}
	dsn := storetest.Database(t)
	dbs := []*DB{openTestDB(t, dsn), openTestDB(t, dsn), openTestDB(t, dsn)}
	var wg sync.WaitGroup
	errs := make([]error, len(dbs))
	for i, db := range dbs {
		wg.Go(func() { errs[i] = db.migrate(testContext(t), history) })
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("instance %d: migrate: %v", i, err)
		}
	}
	// The step itself, run again after it was done, is a no-op.
	if err := dbs[0].apply(testContext(t), history[1].steps[0]); err != nil {
		t.Errorf("adding b again: got %v, want nil", err)
	}
	typ, err := dbs[0].columnType(testContext(t), "t", "b")
	if err != nil || typ != "Array(String)" {
		t.Errorf("t.b: got type %q (%v), want Array(String)", typ, err)
	}

	err = dbs[0].apply(testContext(t), addColumnStep("t", "b", "UInt64", ""))
	if err == nil || !strings.Contains(err.Error(), "exists with type Array(String)") {
		t.Errorf("adding b with another type: got %v, want an error naming the existing type", err)
	}
}

func TestMigrateRefusesChangedHistory(t *testing.T) {
	db := openTestDB(t, storetest.Database(t))
	ctx := context.Background()
	v1 := []migration{{version: 1, name: "t", steps: []step{createStep("CREATE TABLE IF NOT EXISTS t (a UInt8) ENGINE = MergeTree ORDER BY a")}}}
	if err := db.migrate(ctx, v1); err != nil {
		t.Fatal(err)
	}
	changed := []migration{{version: 1, name: "t", steps: []step{createStep("CREATE TABLE IF NOT EXISTS t (a UInt16) ENGINE = MergeTree ORDER BY a")}}}
	if err := db.migrate(ctx, changed); err == nil || !strings.Contains(err.Error(), "migration 1 (t) was applied with checksum") {
		t.Errorf("migrate with a changed migration 1: got %v, want a checksum error", err)
	}
}
