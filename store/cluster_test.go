package store

import (
	"context"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/voucherwatch/voucherwatch"
	"github.com/voucherwatch/voucherwatch/store/storetest"
)

// TestClusterTwins rewrites every migration for a cluster: each statement has a twin, every
// twin but the plain views and backfills runs ON CLUSTER, sharded tables get a Replicated local
// table and a Distributed one, views read and write local tables, and view targets keep
// blocks that happen to be equal.
func TestClusterTwins(t *testing.T) {
	c := newClusterDDL("vw", "vwdb", migrations)
	cms, err := c.clusterMigrations(migrations)
	if err != nil {
		t.Fatal(err)
	}
	if len(cms) != len(migrations) {
		t.Fatalf("cluster migrations: got %d, want %d", len(cms), len(migrations))
	}
	var all []string
	for i, cm := range cms {
		if cm.version != migrations[i].version || cm.checksum() != migrations[i].checksum() {
			t.Errorf("migration %d: twin has version %d checksum %x, want %d %x", migrations[i].version, cm.version, cm.checksum(), migrations[i].version, migrations[i].checksum())
		}
		for _, s := range cm.steps {
			all = append(all, s.sql)
			onCluster := strings.Contains(s.sql, " ON CLUSTER vw")
			switch {
			case s.recreate != nil:
				for _, q := range append([]string{s.recreate.create, s.recreate.drop, s.recreate.rename}, s.recreate.dropViews...) {
					if !strings.Contains(q, " ON CLUSTER vw") {
						t.Errorf("migration %d: %q has no ON CLUSTER", cm.version, q)
					}
				}
			case s.perNode || strings.HasPrefix(s.sql, "INSERT INTO"):
				if onCluster {
					t.Errorf("migration %d: %q runs ON CLUSTER, want per node or once", cm.version, s.sql)
				}
			case !onCluster:
				t.Errorf("migration %d: %q has no ON CLUSTER", cm.version, s.sql)
			}
			if mutation := regexp.MustCompile(`^ALTER TABLE \S+ ON CLUSTER vw (UPDATE|DELETE)`); mutation.MatchString(s.sql) != s.perShard {
				t.Errorf("migration %d: %q: perShard %v, want it exactly for mutations (the replicas of a shard race for them ON CLUSTER)", cm.version, s.sql, s.perShard)
			}
			if strings.Contains(s.sql, "ENGINE = ") && !strings.Contains(s.sql, "ENGINE = Replicated") && !strings.Contains(s.sql, "ENGINE = Distributed(") {
				t.Errorf("migration %d: %q keeps a non-replicated engine", cm.version, s.sql)
			}
		}
	}
	joined := strings.Join(all, "\n;\n")
	for _, want := range []string{
		"CREATE TABLE IF NOT EXISTS vwdb.usage_local ON CLUSTER vw (",
		") ENGINE = ReplicatedReplacingMergeTree('/clickhouse/tables/{shard}/vwdb/usage', '{replica}', ingested_at)\nPARTITION BY toYYYYMM(window_start)",
		"CREATE TABLE IF NOT EXISTS vwdb.usage ON CLUSTER vw AS vwdb.usage_local ENGINE = Distributed(vw, vwdb, usage_local, cityHash64(supplier_uscc))",
		// Dimension tables are on every node, without a Distributed layer.
		") ENGINE = ReplicatedReplacingMergeTree('/clickhouse/tables/all/vwdb/registry', '{shard}-{replica}', ingested_at)",
		"CREATE TABLE IF NOT EXISTS vwdb.alert_events ON CLUSTER vw (",
		") ENGINE = ReplicatedMergeTree('/clickhouse/tables/all/vwdb/alert_events', '{shard}-{replica}')\nORDER BY (alert_id, at, event_id)",
		"CREATE MATERIALIZED VIEW IF NOT EXISTS vwdb.usage_record_keys ON CLUSTER vw TO vwdb.record_keys_local AS\nSELECT 'usage' AS tbl, window_start AS at, rec_hash, source, id, ingested_at FROM vwdb.usage_local",
		"TO vwdb.record_keys_local AS\nSELECT 'registry' AS tbl, toDateTime(0, 'Asia/Shanghai') AS at, rec_hash, source, id, ingested_at FROM vwdb.registry\n",
		"ORDER BY (tbl, at, rec_hash, source, id)\nSETTINGS replicated_deduplication_window = 0",
		"ORDER BY (span_start, span_end, supplier_uscc, buyer_uscc, contract_no, chip_model, chip_origin)\nSETTINGS replicated_deduplication_window = 0",
		"DROP TABLE IF EXISTS vwdb.ingest_keys_local ON CLUSTER vw",
		"ALTER TABLE vwdb.alert_events ON CLUSTER vw ADD COLUMN kind String AFTER event_id",
		"ALTER TABLE vwdb.dead_letters ON CLUSTER vw UPDATE",
		"RECREATE usage_local PARTITION BY toYear(window_start)",
		// Migration 28 rebuilds record_keys' local table with its rows, in finer granules.
		"RECREATE record_keys_local PARTITION BY toYear(at) SETTINGS index_granularity = 1024",
	} {
		if !strings.Contains(joined, want) {
			t.Errorf("cluster DDL lacks %q", want)
		}
	}
	rebuilt := false
	for _, cm := range cms {
		for _, s := range cm.steps {
			if s.recreate == nil || s.recreate.table != "record_keys" {
				continue
			}
			rebuilt = true
			for _, want := range []string{
				"CREATE TABLE IF NOT EXISTS vwdb.record_keys_local_new ON CLUSTER vw AS vwdb.record_keys_local ENGINE = ReplicatedReplacingMergeTree('/clickhouse/tables/{shard}/vwdb/record_keys_v28', '{replica}', ingested_at) PARTITION BY toYear(at) PRIMARY KEY (tbl, at, rec_hash) ORDER BY (tbl, at, rec_hash, source, id) SETTINGS index_granularity = 1024, replicated_deduplication_window = 0",
				"INSERT INTO vwdb.record_keys_local_new SELECT * FROM vwdb.record_keys_local",
				"DROP TABLE IF EXISTS vwdb.usage_record_keys ON CLUSTER vw",
			} {
				if got := strings.Join(append([]string{s.recreate.create, s.recreate.copy}, s.recreate.dropViews...), "\n"); !strings.Contains(got, want) {
					t.Errorf("record_keys' rebuild on a cluster: got %s, want %s among it", got, want)
				}
			}
		}
	}
	if !rebuilt {
		t.Error("cluster DDL: got no rebuild of record_keys, want migration 28's")
	}
	// Record tables are not view targets: they keep block deduplication, which makes a
	// retried insert exactly-once.
	if regexp.MustCompile(`vwdb\.usage_local ON CLUSTER vw \([^;]*replicated_deduplication_window`).MatchString(joined) {
		t.Error("usage_local has replicated_deduplication_window, want the default (deduplication on)")
	}
	if _, err := c.twins(99, sqlStep("OPTIMIZE TABLE usage FINAL")); err == nil {
		t.Error("twin of OPTIMIZE: got no error, want statement not understood")
	}
}

// openClusterDB opens a DB in cluster mode on a new database of the test cluster.
func openClusterDB(t testing.TB, c *storetest.Cluster, dsn string) *DB {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	db, err := Open(ctx, dsn, WithCluster(c.Name), WithDDLTimeout(20*time.Second))
	if err != nil {
		t.Fatalf("Open(%s): %v", dsn, err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// TestClusterMigrate migrates a fresh database on the test cluster, cut short after 3 s, then
// twice to the end, and checks every node: the tables, their engines, and the schema version each node reports.
func TestClusterMigrate(t *testing.T) {
	c := storetest.RequireCluster(t)
	db := openClusterDB(t, c, c.Database(t))
	ctx := testContext(t)
	// A migration cut short (the deployment killed, a timeout) resumes where it stopped.
	short, cancel := context.WithTimeout(ctx, 3*time.Second)
	err := db.Migrate(short)
	cancel()
	if err == nil {
		t.Log("Migrate finished within 3 s: the resumption is not exercised")
	}
	var applied uint64
	// Cut before schema_migrations exists, there is nothing to count.
	_ = db.conn.QueryRow(ctx, "SELECT uniqExact(version) FROM schema_migrations").Scan(&applied)
	t.Logf("cut short after %d of %d migrations", applied, len(migrations))
	for round := range 2 {
		if err := db.Migrate(ctx); err != nil {
			t.Fatalf("round %d: Migrate: %v", round, err)
		}
	}
	nodes, err := db.Nodes(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(nodes) != 2 {
		t.Fatalf("nodes: got %v, want 2", nodes)
	}
	for _, n := range nodes {
		conn, err := db.nodeConn(n)
		if err != nil {
			t.Fatal(err)
		}
		engines := map[string]string{}
		rows, err := conn.Query(ctx, "SELECT name, engine FROM system.tables WHERE database = ?", db.database)
		if err != nil {
			t.Fatal(err)
		}
		for rows.Next() {
			var name, engine string
			if err := rows.Scan(&name, &engine); err != nil {
				t.Fatal(err)
			}
			engines[name] = engine
		}
		rows.Close()
		for _, want := range schemaObjects {
			if _, ok := engines[want]; !ok {
				t.Errorf("node %s: no %s", n, want)
			}
		}
		for _, gone := range droppedObjects {
			if _, ok := engines[gone]; ok {
				t.Errorf("node %s: %s not dropped", n, gone)
			}
		}
		for table := range shardKeys {
			if table == "ingest_keys" {
				continue
			}
			if engines[table] != "Distributed" || engines[table+"_local"] != "ReplicatedReplacingMergeTree" && engines[table+"_local"] != "ReplicatedSummingMergeTree" {
				t.Errorf("node %s: %s is %s over %s, want Distributed over a Replicated* table", n, table, engines[table], engines[table+"_local"])
			}
		}
		for _, table := range []string{"registry", "contracts", "alerts", "alert_events", "users", "schema_migrations"} {
			if !strings.HasPrefix(engines[table], "Replicated") {
				t.Errorf("node %s: %s is %s, want Replicated*", n, table, engines[table])
			}
		}
		var key string
		if err := conn.QueryRow(ctx, "SELECT partition_key FROM system.tables WHERE database = ? AND name = 'usage_local'", db.database).Scan(&key); err != nil || key != "toYear(window_start)" {
			t.Errorf("node %s: usage_local partition key %q (%v), want toYear(window_start)", n, key, err)
		}
	}
	schemas, err := db.NodeSchemas(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range schemas {
		if s.Err != nil || s.Version != LatestMigration() || s.Migrations != uint64(len(migrations)) {
			t.Errorf("node %s: schema version %d, %d migrations (%v), want %d, %d", s.Node, s.Version, s.Migrations, s.Err, LatestMigration(), len(migrations))
		}
	}
	var names []string
	for _, s := range schemas {
		names = append(names, s.Node.Addr)
	}
	if !slices.Equal(names, c.Addrs) {
		t.Errorf("nodes: got %v, want %v", names, c.Addrs)
	}
}

// TestClusterMigrateRecordKeysGranules: migration 28's twin rebuilds record_keys_local on
// every node in granules of 1,024 rows with the keys it held, and the views write the keys
// again afterwards: a redelivered record is found, a new one stored.
func TestClusterMigrateRecordKeysGranules(t *testing.T) {
	c := storetest.RequireCluster(t)
	db := openClusterDB(t, c, c.Database(t))
	ctx := testContext(t)
	i := slices.IndexFunc(migrations, func(m migration) bool { return m.name == "record keys in finer granules" })
	if err := db.migrateCluster(ctx, migrations[:i]); err != nil {
		t.Fatal(err)
	}
	check(t, "usage before the upgrade", store(t, db, voucherwatch.TypeUsage, meteredCardHours(0, 100)...), voucherwatch.WriteResult{Stored: 100})
	for round := range 2 {
		if err := db.Migrate(ctx); err != nil {
			t.Fatalf("round %d: Migrate: %v", round, err)
		}
	}
	nodes, err := db.Nodes(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range nodes {
		conn, err := db.nodeConn(n)
		if err != nil {
			t.Fatal(err)
		}
		var engine string
		var views uint64
		if err := conn.QueryRow(ctx, "SELECT engine_full, (SELECT count() FROM system.tables WHERE database = ? AND name LIKE '%_record_keys') FROM system.tables WHERE database = ? AND name = 'record_keys_local'",
			db.database, db.database).Scan(&engine, &views); err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(engine, "index_granularity = 1024") {
			t.Errorf("node %s: record_keys_local is %s, want granules of 1024 rows", n, engine)
		}
		check(t, "views writing record_keys on node "+n.String(), views, uint64(5))
	}
	var keys uint64
	queryRow(t, db, "SELECT uniqExact(source, id) FROM record_keys WHERE tbl = 'usage'", &keys)
	check(t, "usage keys after the upgrade", keys, uint64(100))
	check(t, "usage after the upgrade", store(t, db, voucherwatch.TypeUsage, meteredCardHours(50, 150)...), voucherwatch.WriteResult{Stored: 50, Duplicates: 50})
}
