package store

import (
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"

	"github.com/voucherwatch/voucherwatch"
	"github.com/voucherwatch/voucherwatch/store/storetest"
)

// recordKeyRows returns every row of record_keys, one string each, sorted.
func recordKeyRows(t *testing.T, db *DB) []string {
	t.Helper()
	var keys []string
	queryRow(t, db, "SELECT arraySort(groupArray(concat(tbl, '|', toString(at), '|', toString(rec_hash), '|', source, '|', id, '|', toString(ingested_at)))) FROM record_keys", &keys)
	return keys
}

// TestMigrateRecordKeysGranules: migration 28 rebuilds record_keys in granules of 1,024 rows
// with every key row it held, resuming the rebuild of a migrator that died holding the table
// (and having dropped a view), with three migrators at once; the views write the keys again
// afterwards, and a redelivered record is still found.
func TestMigrateRecordKeysGranules(t *testing.T) {
	dsn := storetest.Database(t)
	db := openTestDB(t, dsn)
	ctx := testContext(t)
	i := slices.IndexFunc(migrations, func(m migration) bool { return m.name == "record keys in finer granules" })
	if i < 0 {
		t.Fatal("no migration \"record keys in finer granules\"")
	}
	if err := db.migrate(ctx, migrations[:i]); err != nil {
		t.Fatal(err)
	}
	store(t, db, voucherwatch.TypeUsage, meteredCardHours(0, 100)...)
	store(t, db, voucherwatch.TypeUsage, meteredCardHours(100, 200)...)
	store(t, db, voucherwatch.TypeContract, unfiledDirectPurchase())
	before := recordKeyRows(t, db)
	check(t, "key rows before the upgrade", len(before), 201)

	// An earlier upgrade died right after taking record_keys for its rebuild and dropping
	// the first of its views.
	for _, q := range []string{"RENAME TABLE record_keys TO record_keys_repartitioning", "DROP TABLE usage_record_keys"} {
		if err := db.conn.Exec(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	defer func(q time.Duration) { repartitionQuiet = q }(repartitionQuiet)
	repartitionQuiet = 2 * time.Second
	dbs := []*DB{db, openTestDB(t, dsn), openTestDB(t, dsn)}
	for round := range 2 {
		var wg sync.WaitGroup
		errs := make([]error, len(dbs))
		for i, d := range dbs {
			wg.Go(func() { errs[i] = d.Migrate(ctx) })
		}
		wg.Wait()
		for i, err := range errs {
			if err != nil {
				t.Errorf("round %d, migrator %d: %v", round, i, err)
			}
		}
	}
	checkSchema(t, db)
	var engine string
	queryRow(t, db, "SELECT engine_full FROM system.tables WHERE database = '"+db.database+"' AND name = 'record_keys'", &engine)
	if !strings.Contains(engine, "SETTINGS index_granularity = 1024") || !strings.Contains(engine, "PRIMARY KEY (tbl, at, rec_hash)") {
		t.Errorf("record_keys: got %s, want granules of 1024 rows and primary key (tbl, at, rec_hash)", engine)
	}
	var leftover uint64
	queryRow(t, db, "SELECT count() FROM system.tables WHERE database = '"+db.database+"' AND name LIKE 'record_keys_%'", &leftover)
	check(t, "record_keys_repartitioning/_repartitioned left", leftover, uint64(0))
	if got := recordKeyRows(t, db); !slices.Equal(got, before) {
		t.Errorf("key rows after the upgrade: got %d rows, want the %d before, the same", len(got), len(before))
	}

	check(t, "usage after the upgrade", store(t, db, voucherwatch.TypeUsage, meteredCardHours(150, 250)...), voucherwatch.WriteResult{Stored: 50, Duplicates: 50})
	check(t, "contract after the upgrade", store(t, db, voucherwatch.TypeContract, unfiledDirectPurchase()), voucherwatch.WriteResult{Duplicates: 1})
	var keys uint64
	queryRow(t, db, "SELECT uniqExact(source, id) FROM record_keys WHERE tbl = 'usage'", &keys)
	check(t, "usage keys after the upgrade", keys, uint64(250))
}

// TestLookupReadsFewRowsPerPart: a batch's look-up reads at least one granule in every part
// whose range covers its times, so what it reads grows with the parts of the history. Six
// parts each holding the same 40 hours of other resources (merges held off, as a large
// history holds dozens of parts): looking up one hour's 300 keys reads a granule or two of
// 1,024 rows in each part, not one of 8,192 (about 49,000 rows).
func TestLookupReadsFewRowsPerPart(t *testing.T) {
	db := newTestDB(t)
	ctx := testContext(t)
	if err := db.conn.Exec(ctx, "SYSTEM STOP MERGES "+db.database+".record_keys"); err != nil {
		t.Fatal(err)
	}
	const parts, hours, resources = 6, 40, 300
	batchOf := func(p, h0, h1 int) []voucherwatch.Record {
		var batch []voucherwatch.Record
		for h := h0; h < h1; h++ {
			for _, r := range hourOfProvince(h, resources) {
				r.ID = fmt.Sprintf("usage-p%d-h%05d-%s", p, h, r.Usage.ResourceID)
				r.Usage.ResourceID = fmt.Sprintf("p%d-%s", p, r.Usage.ResourceID)
				batch = append(batch, r)
			}
		}
		return batch
	}
	for p := range parts {
		store(t, db, voucherwatch.TypeUsage, batchOf(p, 0, hours)...)
	}
	var n uint64
	queryRow(t, db, "SELECT count() FROM system.parts WHERE database = '"+db.database+"' AND table = 'record_keys' AND active", &n)
	check(t, "parts of record_keys", n, uint64(parts))

	var read atomic.Uint64
	ctx = clickhouse.Context(ctx, clickhouse.WithProgress(func(p *clickhouse.Progress) { read.Add(p.Rows) }))
	f := func(what string, recs []voucherwatch.Record, want int) {
		t.Helper()
		read.Store(0)
		var ats []time.Time
		var hashes []uint64
		for i := range recs {
			ats = append(ats, recs[i].Usage.WindowStart)
			hashes = append(hashes, RecordHash(recs[i].Source, recs[i].ID))
		}
		stored, err := db.storedKeys(ctx, "usage", ats, hashes)
		if err != nil {
			t.Fatal(err)
		}
		check(t, what+": stored", len(stored), want)
		if r := read.Load(); r > parts*2*1024 {
			t.Errorf("%s: the look-up read %d key rows, want at most %d (two granules of 1,024 in each of %d parts)", what, r, parts*2*1024, parts)
		}
	}
	f("new resources' hour", batchOf(parts, hours/2, hours/2+1), 0)
	f("redelivered hour", batchOf(2, hours/2, hours/2+1), resources)
}
