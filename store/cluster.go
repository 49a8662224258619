package store

import (
	"fmt"
	"regexp"
	"strings"
)

// Cluster mode: the same migrations, rewritten for a ClickHouse cluster (see docs/cluster.md).
//
// The single-node migrations stay the schema's one definition; clusterDDL derives every step's
// cluster twin from its text when the engine runs with --clickhouse-cluster, so a migration
// appended by anyone gets its twin without being written twice. TestClusterTwins rewrites
// every migration and fails on a statement the rewrite does not know.
//
// Tables come in two kinds:
//   - Sharded (the big ones, shardKeys): <t>_local is the Replicated* twin of the table on every
//     node, with ZooKeeper path /clickhouse/tables/{shard}/<database>/<t>, and <t> is a
//     Distributed table over it with the shard key. Readers and writers keep using <t>.
//   - Replicated everywhere (every other table: registry, contracts, the workflow's tables):
//     <t> is a Replicated* table whose ZooKeeper path has no {shard}, so every node holds all
//     of it. The detectors join them locally on each shard, and small tables need no
//     Distributed layer.
//
// Materialized views stay views: their twins read the local table and write the local target,
// so they fire on the node that stores the record's block, in the same INSERT, and a record
// and its keys and rollup rows land on one shard. Replicated tables drop a block identical to
// one stored before; a retried block is dropped whole and its views skipped, so a view's rows
// are written once per record block. The targets of views take no deduplication of their own
// (replicated_deduplication_window = 0): two different record blocks can sum to identical
// rollup blocks (two hours of the same resources), and the second must count.
type clusterDDL struct {
	cluster  string
	database string
	// viewTargets are the tables that materialized views write, over all migrations.
	viewTargets map[string]bool
}

// shardKeys are the sharded tables and their sharding expressions. A record table is sharded
// by its owner (supplier or applicant), so a supplier's records are together on one shard and
// all copies of a record (same owner) too: FINAL and LIMIT 1 BY source, id are exact per
// shard. The keys and rollups that views write live where their record lives, whatever their
// own key, which only places rows inserted through the Distributed table (backfills).
var shardKeys = map[string]string{
	"usage":             "cityHash64(supplier_uscc)",
	"settlements":       "cityHash64(supplier_uscc)",
	"claims":            "cityHash64(applicant_uscc)",
	"record_keys":       "rec_hash",
	"ingest_keys":       "rec_hash",
	"lookup_keys":       "cityHash64(owner)",
	"usage_daily":       "cityHash64(supplier_uscc)",
	"usage_spans":       "cityHash64(supplier_uscc)",
	"settlements_daily": "cityHash64(supplier_uscc)",
}

// localName is the name of the table that holds a table's rows on each node.
func localName(table string) string {
	if _, ok := shardKeys[table]; ok {
		return table + "_local"
	}
	return table
}

var (
	viewTarget   = regexp.MustCompile(`(?s)^CREATE MATERIALIZED VIEW IF NOT EXISTS (\w+) TO (\w+) AS\n(.*)$`)
	fromTable    = regexp.MustCompile(`\bFROM (\w+)\b`)
	plainView    = regexp.MustCompile(`^CREATE VIEW IF NOT EXISTS \w+ AS`)
	dropTable    = regexp.MustCompile(`^DROP TABLE IF EXISTS (\w+)$`)
	alterTable   = regexp.MustCompile(`(?s)^ALTER TABLE (\w+) ((?:UPDATE|DELETE)\b.*)$`)
	insertSelect = regexp.MustCompile(`^INSERT INTO \w+ \(`)
	createTable  = regexp.MustCompile(`^CREATE TABLE IF NOT EXISTS (\w+) \(`)
)

func newClusterDDL(cluster, database string, ms []migration) clusterDDL {
	c := clusterDDL{cluster: cluster, database: database, viewTargets: map[string]bool{}}
	for _, m := range ms {
		for _, s := range m.steps {
			if v := viewTarget.FindStringSubmatch(s.sql); v != nil {
				c.viewTargets[v[2]] = true
			}
		}
	}
	return c
}

// onCluster is the clause every cluster DDL statement carries.
func (c clusterDDL) onCluster() string { return " ON CLUSTER " + c.cluster }

func (c clusterDDL) qualified(table string) string { return c.database + "." + table }

// twins returns the cluster steps that stand for s. The migration's checksum stays the one of
// its single-node text, so that a version means the same schema in both modes.
func (c clusterDDL) twins(version uint32, s step) ([]step, error) {
	switch {
	case s.repartition != nil:
		return c.repartitionTwin(version, s.repartition)
	case s.column != "":
		var out []step
		for _, t := range c.tablesOf(s.table) {
			if t != localName(t) {
				// The Distributed table over a sharded one: a cluster whose shards replicate
				// internally refuses an ALTER … ON CLUSTER of a table that is not replicated
				// (code 371), so each node alters its own.
				sql := "ALTER TABLE " + c.qualified(t) + strings.TrimPrefix(s.sql, "ALTER TABLE "+s.table)
				out = append(out, step{sql: sql, table: t, column: s.column, chType: s.chType, perNode: true})
				continue
			}
			sql := "ALTER TABLE " + c.qualified(t) + c.onCluster() + strings.TrimPrefix(s.sql, "ALTER TABLE "+s.table)
			out = append(out, step{sql: sql, table: t, column: s.column, chType: s.chType})
		}
		return out, nil
	}
	sql := s.sql
	switch {
	case createTable.MatchString(sql):
		return c.tableTwin(version, sql)
	case viewTarget.MatchString(sql):
		v := viewTarget.FindStringSubmatch(sql)
		body := fromTable.ReplaceAllStringFunc(v[3], func(m string) string {
			return "FROM " + c.qualified(localName(strings.TrimPrefix(m, "FROM ")))
		})
		return []step{{
			sql:    "CREATE MATERIALIZED VIEW IF NOT EXISTS " + c.qualified(v[1]) + c.onCluster() + " TO " + c.qualified(localName(v[2])) + " AS\n" + body,
			object: v[1],
		}}, nil
	case plainView.MatchString(sql):
		// A view's query names tables without a database, which a DDL worker resolves in
		// its own default database: plain views are created on each node in turn, in the
		// engine's database. They hold no data.
		return []step{{sql: sql, object: s.object, perNode: true}}, nil
	case dropTable.MatchString(sql):
		t := dropTable.FindStringSubmatch(sql)[1]
		out := []step{{sql: "DROP TABLE IF EXISTS " + c.qualified(t) + c.onCluster()}}
		if localName(t) != t {
			out = append(out, step{sql: "DROP TABLE IF EXISTS " + c.qualified(localName(t)) + c.onCluster()})
		}
		return out, nil
	case alterTable.MatchString(sql):
		// A mutation runs on the replicated table; one replica per shard queues it, and the
		// migrator does so itself (applyCluster): under ON CLUSTER the replicas of a shard
		// race for the task, as for ADD COLUMN (addColumnCluster).
		a := alterTable.FindStringSubmatch(sql)
		return []step{{sql: "ALTER TABLE " + c.qualified(localName(a[1])) + c.onCluster() + " " + a[2], perShard: true}}, nil
	case insertSelect.MatchString(sql):
		// Backfills read and write through the Distributed tables from one node; replicated
		// tables drop a repeated identical block, and the targets are sets or empty then.
		return []step{{sql: sql}}, nil
	}
	return nil, fmt.Errorf("store: cluster twin of migration %d: statement not understood: %.80s", version, sql)
}

// tablesOf returns the tables an ALTER of table must change: the local and the Distributed
// one of a sharded table, the table itself otherwise.
func (c clusterDDL) tablesOf(table string) []string {
	if localName(table) != table {
		return []string{localName(table), table}
	}
	return []string{table}
}

// engineClause splits a CREATE TABLE after its column list: the engine's name, its arguments
// (without parentheses) and the rest (PARTITION BY, ORDER BY ...).
func engineClause(sql string) (head, name, args, rest string, err error) {
	i := strings.LastIndex(sql, ") ENGINE = ")
	if i < 0 {
		return "", "", "", "", fmt.Errorf("no engine clause")
	}
	head = sql[:i+1]
	e := sql[i+len(") ENGINE = "):]
	j := 0
	for j < len(e) && (e[j] == '_' || 'a' <= e[j] && e[j] <= 'z' || 'A' <= e[j] && e[j] <= 'Z' || '0' <= e[j] && e[j] <= '9') {
		j++
	}
	name, e = e[:j], e[j:]
	if strings.HasPrefix(e, "(") {
		depth := 0
		for k, r := range e {
			switch r {
			case '(':
				depth++
			case ')':
				depth--
			}
			if depth == 0 {
				args, e = e[1:k], e[k+1:]
				break
			}
		}
		if depth != 0 {
			return "", "", "", "", fmt.Errorf("unbalanced engine arguments")
		}
	}
	if !strings.HasSuffix(name, "MergeTree") {
		return "", "", "", "", fmt.Errorf("engine %s has no replicated twin", name)
	}
	return head, name, args, e, nil
}

// replicated returns the Replicated* twin of engine name(args) for table: sharded tables are
// replicated within their shard, the others across every node.
func (c clusterDDL) replicated(table, zkName, name, args string) string {
	path, replica := "/clickhouse/tables/all/"+c.database+"/"+zkName, "{shard}-{replica}"
	if localName(table) != table {
		path, replica = "/clickhouse/tables/{shard}/"+c.database+"/"+zkName, "{replica}"
	}
	e := "Replicated" + name + "('" + path + "', '" + replica + "'"
	if args != "" {
		e += ", " + args
	}
	return e + ")"
}

func (c clusterDDL) tableTwin(version uint32, sql string) ([]step, error) {
	table := createTable.FindStringSubmatch(sql)[1]
	head, name, args, rest, err := engineClause(sql)
	if err != nil {
		return nil, fmt.Errorf("store: cluster twin of migration %d, table %s: %w", version, table, err)
	}
	local := localName(table)
	head = strings.Replace(head, "CREATE TABLE IF NOT EXISTS "+table+" (",
		"CREATE TABLE IF NOT EXISTS "+c.qualified(local)+c.onCluster()+" (", 1)
	if c.viewTargets[table] {
		// A table created with SETTINGS of its own (migration 31) takes one more: a
		// second SETTINGS clause is a syntax error.
		if strings.Contains(rest, "\nSETTINGS ") {
			rest += ", replicated_deduplication_window = 0"
		} else {
			rest += "\nSETTINGS replicated_deduplication_window = 0"
		}
	}
	out := []step{{sql: head + " ENGINE = " + c.replicated(table, table, name, args) + rest, object: local}}
	if key, ok := shardKeys[table]; ok {
		out = append(out, step{
			sql:    "CREATE TABLE IF NOT EXISTS " + c.qualified(table) + c.onCluster() + " AS " + c.qualified(local) + " ENGINE = Distributed(" + c.cluster + ", " + c.database + ", " + local + ", " + key + ")",
			object: table,
		})
	}
	return out, nil
}

// repartitionTwin rebuilds a sharded table's local table with a new engine clause: a new
// Replicated table under its own ZooKeeper path (the version makes it new), the old one
// dropped, the new one renamed into place. The Distributed table names the local one, so it
// follows. A repartition (migration 13) copies no rows: cluster mode is newer than it, so a
// cluster's tables are empty when it runs, and clusterRecreate refuses a table that holds
// rows. A rebuild with new settings (migration 28's index granularity) copies them, shard by
// shard on one replica each, after dropping the views that write the table ON CLUSTER (the
// migration creates them again).
func (c clusterDDL) repartitionTwin(version uint32, r *repartition) ([]step, error) {
	if localName(r.table) == r.table {
		return nil, fmt.Errorf("store: cluster twin of migration %d: repartition of %s, which is not sharded", version, r.table)
	}
	i := strings.Index(r.engine, "(")
	if i < 0 || !strings.HasSuffix(r.engine, ")") {
		return nil, fmt.Errorf("store: cluster twin of migration %d: repartition engine %s", version, r.engine)
	}
	local, fresh := localName(r.table), localName(r.table)+"_new"
	twin := *r
	twin.table = local
	twin.engine = c.replicated(r.table, fmt.Sprintf("%s_v%d", r.table, version), r.engine[:i], r.engine[i+1:len(r.engine)-1])
	if c.viewTargets[r.table] {
		if twin.settings != "" {
			twin.settings += ", "
		}
		twin.settings += "replicated_deduplication_window = 0"
	}
	rc := &clusterRecreate{
		table: r.table, local: local, fresh: fresh, built: r,
		create: "CREATE TABLE IF NOT EXISTS " + c.qualified(fresh) + c.onCluster() + " AS " + c.qualified(local) + " ENGINE = " + twin.clause(),
		drop:   "DROP TABLE IF EXISTS " + c.qualified(local) + c.onCluster(),
		rename: "RENAME TABLE " + c.qualified(fresh) + " TO " + c.qualified(local) + c.onCluster(),
	}
	if r.settings != "" {
		rc.copy = "INSERT INTO " + c.qualified(fresh) + " SELECT * FROM " + c.qualified(local)
		for _, v := range r.views {
			rc.dropViews = append(rc.dropViews, "DROP TABLE IF EXISTS "+c.qualified(v)+c.onCluster())
		}
	}
	sql := "RECREATE " + local + " PARTITION BY " + r.partitionBy
	if r.settings != "" {
		sql += " SETTINGS " + r.settings
	}
	return []step{{sql: sql, recreate: rc}}, nil
}

// clusterRecreate is a repartition on a cluster (see repartitionTwin).
type clusterRecreate struct {
	table, local, fresh string
	// built is the rebuilt local table's engine clause: the rebuild is done when the local
	// table has it.
	built                *repartition
	create, drop, rename string
	// copy, when set, copies the rows into the new table (run on one replica of each shard);
	// without it a table holding rows is refused. dropViews drop the views writing the table.
	copy      string
	dropViews []string
}

// clusterMigrations returns the cluster twins of ms, migration by migration.
func (c clusterDDL) clusterMigrations(ms []migration) ([]migration, error) {
	out := make([]migration, 0, len(ms))
	for _, m := range ms {
		cm := migration{version: m.version, name: m.name, sum: m.checksum()}
		for _, s := range m.steps {
			twins, err := c.twins(m.version, s)
			if err != nil {
				return nil, err
			}
			cm.steps = append(cm.steps, twins...)
		}
		out = append(out, cm)
	}
	return out, nil
}

// schemaMigrationsTwin is schema_migrations on a cluster: replicated to every node, so each
// node answers which versions are applied.
func (c clusterDDL) schemaMigrationsTwin() step {
	twins, err := c.tableTwin(0, schemaMigrations.sql)
	if err != nil || len(twins) != 1 {
		panic(fmt.Sprintf("store: cluster twin of schema_migrations: %v", err))
	}
	return twins[0]
}
