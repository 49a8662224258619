package store

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"
	"github.com/cespare/xxhash/v2"
)

// migration is one numbered, named change of the schema.
type migration struct {
	version uint32
	name    string
	steps   []step
	// sum, when set, is the checksum: a cluster twin keeps its single-node migration's.
	sum uint64
}

// checksum identifies the migration's text, so that Migrate can tell when a database was
// migrated by a build whose migration of the same number differs.
func (m migration) checksum() uint64 {
	if m.sum != 0 {
		return m.sum
	}
	d := xxhash.New()
	for _, s := range m.steps {
		d.WriteString(s.sql)
		d.WriteString("\x00")
	}
	return d.Sum64()
}

// step is one DDL statement that may run any number of times, also concurrently.
type step struct {
	sql string
	// object is the table or view a CREATE ... IF NOT EXISTS makes. Two concurrent creates
	// can both pass the existence check, and the loser fails; the object existing then
	// means the step is done.
	object string
	// table, column and chType describe an ALTER TABLE ... ADD COLUMN, which runs only
	// when the column is missing. chType is spelled as system.columns spells it.
	table, column, chType string
	// repartition, when set, moves a table's rows into a table of another partition key.
	repartition *repartition
	// perNode runs the statement on each node of the cluster in turn (cluster mode only).
	perNode bool
	// perShard runs the statement, its ON CLUSTER clause taken out, on the first replica of
	// each shard, and replication carries it to the others (cluster mode only; mutations).
	perShard bool
	// recreate rebuilds a sharded table's local table (cluster mode only).
	recreate *clusterRecreate
}

// repartition describes a table rebuilt with a new engine clause: same name, same columns,
// same rows.
type repartition struct {
	table       string
	engine      string // ReplacingMergeTree(ingested_at)
	partitionBy string // as system.tables spells partition_key: toYear(window_start)
	primaryKey  string // the primary key, parenthesised, when it is shorter than the sorting key
	orderBy     string // the sorting key, parenthesised
	// settings, when set, is the rebuilt table's SETTINGS clause as system.tables' engine_full
	// spells it (index_granularity = 1024): the rebuild is then done when engine_full has
	// the partition key and these settings, not the partition key alone.
	settings string
	// views are the materialized views that write TO the table. The migrator that takes the
	// table for its rebuild drops them, and the steps after the rebuild create them again: a
	// view resolves its target by name on 18.16 but by the table's identity in current
	// ClickHouse's Atomic databases, where it would go on writing to the old, dropped table.
	views []string
}

// clause is the engine clause of the rebuilt table, after ENGINE = .
func (r *repartition) clause() string {
	c := r.engine + " PARTITION BY " + r.partitionBy
	if r.primaryKey != "" {
		c += " PRIMARY KEY " + r.primaryKey
	}
	c += " ORDER BY " + r.orderBy
	if r.settings != "" {
		c += " SETTINGS " + r.settings
	}
	return c
}

// builtBy reports whether a table whose engine_full and partition key system.tables gives is
// the rebuilt one.
func (r *repartition) builtBy(engineFull, partitionKey string) bool {
	if partitionKey != r.partitionBy {
		return false
	}
	if r.settings == "" {
		return true
	}
	_, set, ok := strings.Cut(engineFull, " SETTINGS ")
	if !ok {
		return false
	}
	have := strings.Split(set, ", ")
	for _, want := range strings.Split(r.settings, ", ") {
		if !slices.Contains(have, want) {
			return false
		}
	}
	return true
}

// repartitionStep rebuilds table with a new partition key (ClickHouse cannot change one in
// place): see (*DB).repartition.
func repartitionStep(table, engine, partitionBy, orderBy string) step {
	r := &repartition{table: table, engine: engine, partitionBy: partitionBy, orderBy: orderBy}
	return step{sql: "REPARTITION " + table + " ENGINE = " + engine + " PARTITION BY " + partitionBy + " ORDER BY " + orderBy, repartition: r}
}

// regranulateStep rebuilds table with the engine clause of r, whose settings (an
// index_granularity) ClickHouse cannot change in place either; r.views are dropped by the
// migrator that rebuilds, and the migration creates them again in later steps. See
// (*DB).repartition.
func regranulateStep(r repartition) step {
	return step{sql: "REBUILD " + r.table + " ENGINE = " + r.clause(), repartition: &r}
}

var createObject = regexp.MustCompile(`^CREATE (?:TABLE|VIEW|MATERIALIZED VIEW) IF NOT EXISTS (\w+)`)

// createStep is a CREATE TABLE, VIEW or MATERIALIZED VIEW ... IF NOT EXISTS.
func createStep(sql string) step {
	m := createObject.FindStringSubmatch(sql)
	if m == nil {
		panic("store: migration step is not a CREATE ... IF NOT EXISTS: " + sql)
	}
	return step{sql: sql, object: m[1]}
}

// addColumnStep adds a column to a table unless it is there with the same type: 18.16 has no
// ADD COLUMN IF NOT EXISTS. after names the column it follows, or is empty for the end.
func addColumnStep(table, column, chType, after string) step {
	sql := "ALTER TABLE " + table + " ADD COLUMN " + column + " " + chType
	if after != "" {
		sql += " AFTER " + after
	}
	return step{sql: sql, table: table, column: column, chType: chType}
}

// mutationStep is an ALTER TABLE ... UPDATE or DELETE that gives the same result however often
// it runs (masking what is masked already changes nothing). ClickHouse runs it in the
// background; the step only queues it.
func mutationStep(sql string) step { return step{sql: sql} }

// sqlStep is a statement that is safe to run again as it stands: DROP ... IF EXISTS, or an
// INSERT whose repeated rows collapse.
func sqlStep(sql string) step { return step{sql: sql} }

// schemaMigrations records the migrations applied. Its sorting key keeps the rows of two
// builds that disagree about a version apart, so that the disagreement stays visible.
var schemaMigrations = createStep(`CREATE TABLE IF NOT EXISTS schema_migrations (
	version UInt32,
	name String,
	checksum UInt64,
	applied_at DateTime('Asia/Shanghai')
) ENGINE = ReplacingMergeTree(applied_at)
ORDER BY (version, checksum)`)

// Migrate brings the schema up to date. It is idempotent and safe to run from several engine
// instances at once: every step tolerates having been done, by an earlier run or concurrently.
// It fails when a migration was applied with a different text than this build's. Migrations
// newer than this build's, applied by a newer build, are left alone.
//
// On a cluster (WithCluster) it runs the cluster twins of the migrations (see cluster.go), after
// checking that every node answers: ON CLUSTER statements wait for every node.
func (db *DB) Migrate(ctx context.Context) error {
	if db.cluster != "" {
		return db.migrateCluster(ctx, migrations)
	}
	return db.migrate(ctx, migrations)
}

func (db *DB) migrate(ctx context.Context, ms []migration) error {
	return db.migrateWith(ctx, ms, schemaMigrations)
}

func (db *DB) migrateWith(ctx context.Context, ms []migration, schema step) error {
	if err := db.apply(ctx, schema); err != nil {
		return fmt.Errorf("store: migrate: create schema_migrations: %w", err)
	}
	applied, err := db.appliedMigrations(ctx)
	if err != nil {
		return err
	}
	for _, m := range ms {
		sum := m.checksum()
		if sums, ok := applied[m.version]; ok {
			for _, s := range sums {
				if s != sum {
					return fmt.Errorf("store: migrate: migration %d (%s) was applied with checksum %x, this build's is %x", m.version, m.name, s, sum)
				}
			}
			continue
		}
		for i, s := range m.steps {
			if err := db.apply(ctx, s); err != nil {
				return fmt.Errorf("store: migrate: migration %d (%s) step %d: %w", m.version, m.name, i+1, err)
			}
		}
		if err := db.recordMigration(ctx, m, sum); err != nil {
			return fmt.Errorf("store: migrate: record migration %d (%s): %w", m.version, m.name, err)
		}
	}
	return nil
}

// recordMigration notes m as applied. It goes through a batch: on 18.16 an INSERT ... VALUES
// sent with Exec hangs (past a 10-minute test timeout), the server waiting for data blocks the
// driver does not send.
func (db *DB) recordMigration(ctx context.Context, m migration, sum uint64) error {
	b, err := db.conn.PrepareBatch(ctx, "INSERT INTO schema_migrations (version, name, checksum, applied_at)")
	if err != nil {
		return err
	}
	defer b.Abort() // a no-op once sent
	if err := b.Append(m.version, m.name, sum, db.now()); err != nil {
		return err
	}
	return b.Send()
}

// appliedMigrations returns the checksums recorded for each version.
func (db *DB) appliedMigrations(ctx context.Context) (map[uint32][]uint64, error) {
	rows, err := db.conn.Query(ctx, "SELECT version, checksum FROM schema_migrations")
	if err != nil {
		return nil, fmt.Errorf("store: migrate: read schema_migrations: %w", err)
	}
	defer rows.Close()
	applied := make(map[uint32][]uint64)
	for rows.Next() {
		var (
			version uint32
			sum     uint64
		)
		if err := rows.Scan(&version, &sum); err != nil {
			return nil, fmt.Errorf("store: migrate: read schema_migrations: %w", err)
		}
		applied[version] = append(applied[version], sum)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: migrate: read schema_migrations: %w", err)
	}
	return applied, nil
}

func (db *DB) apply(ctx context.Context, s step) error {
	if db.cluster != "" {
		return db.applyCluster(ctx, s)
	}
	if s.repartition != nil {
		return db.repartition(ctx, s.repartition)
	}
	if s.column != "" {
		return db.addColumn(ctx, s)
	}
	err := db.execAgain(ctx, s.sql)
	if err == nil {
		return nil
	}
	if ok, cerr := db.exists(ctx, s.object); cerr == nil && ok {
		return nil
	}
	return err
}

// execAgain runs a statement of a migration step, again for a few seconds while it fails with
// UNKNOWN_TABLE, FILE_DOESNT_EXIST or TABLE_IS_DROPPED. A table this step reads can be away for a moment while a
// concurrent migrator checks a rebuild (repartition); and 18.16 fails a DROP of a view that
// another migrator, behind this one, is creating at that moment (seen in
// TestMigrateConcurrently: "Cannot open file …/usage_record_keys.sql", code 107, when migration
// 28 dropped the view migration 13 was creating). Wait rather than fail the deployment.
func (db *DB) execAgain(ctx context.Context, q string) error {
	err := db.conn.Exec(ctx, q)
	for try := 0; err != nil && (isUnknownTable(err) || isFileMissing(err) || isTableDropped(err)) && try < 20; try++ {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(250 * time.Millisecond):
		}
		err = db.conn.Exec(ctx, q)
	}
	return err
}

// isTableExists reports ClickHouse's TABLE_ALREADY_EXISTS (code 57).
func isTableExists(err error) bool {
	var ex *clickhouse.Exception
	return errors.As(err, &ex) && ex.Code == 57
}

// isTableDropped reports ClickHouse's TABLE_IS_DROPPED (code 218): the statement resolved a
// table that a concurrent migrator's rebuild dropped (an INSERT … SELECT backfill of migration
// 13 into the record_keys that migration 28 replaced); run again, it finds the new table.
func isTableDropped(err error) bool {
	var ex *clickhouse.Exception
	return errors.As(err, &ex) && ex.Code == 218
}

// isFileMissing reports ClickHouse's FILE_DOESNT_EXIST (code 107).
func isFileMissing(err error) bool {
	var ex *clickhouse.Exception
	return errors.As(err, &ex) && ex.Code == 107
}

// isColumnExists reports an ADD COLUMN of a column the table has (ILLEGAL_COLUMN).
func isColumnExists(err error) bool {
	var ex *clickhouse.Exception
	return errors.As(err, &ex) && ex.Code == 44
}

// isUnknownTable reports ClickHouse's UNKNOWN_TABLE (code 60).
func isUnknownTable(err error) bool {
	var ex *clickhouse.Exception
	return errors.As(err, &ex) && ex.Code == 60
}

func (db *DB) addColumn(ctx context.Context, s step) error {
	done := func() (bool, error) {
		typ, err := db.columnType(ctx, s.table, s.column)
		switch {
		case err != nil:
			return false, err
		case typ == "":
			return false, nil
		case typ != s.chType:
			return false, fmt.Errorf("column %s.%s exists with type %s, want %s", s.table, s.column, typ, s.chType)
		}
		return true, nil
	}
	if ok, err := done(); ok || err != nil {
		return err
	}
	err := db.conn.Exec(ctx, s.sql)
	if err == nil {
		return nil
	}
	// A concurrent migrator may have added it since the check.
	if ok, cerr := done(); ok || cerr != nil {
		return cerr
	}
	return err
}

// catalog runs a read of system.tables, system.columns or system.parts. On 18.16 such a read
// fails with UNKNOWN_TABLE, or FILE_DOESNT_EXIST for the table's metadata file, when any table
// of the database is renamed or dropped while it runs (seen in TestMigrateConcurrently: "Table
// …usage_repartitioned doesn't exist", and "Cannot open file …/metadata/…/usage.sql" while
// another migrator renamed usage, from queries naming other tables), which concurrent
// migrators do on purpose: read again.
func (db *DB) catalog(ctx context.Context, read func() error) error {
	err := read()
	for try := 0; err != nil && (isUnknownTable(err) || isFileMissing(err)) && try < 40; try++ {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
		err = read()
	}
	return err
}

func (db *DB) exists(ctx context.Context, object string) (bool, error) {
	var n uint64
	err := db.catalog(ctx, func() error {
		return db.conn.QueryRow(ctx, "SELECT count() FROM system.tables WHERE database = ? AND name = ?", db.database, object).Scan(&n)
	})
	return n > 0, err
}

// partitionKey returns a table's partition key as system.tables spells it, "" when there is no
// such table.
func (db *DB) partitionKey(ctx context.Context, table string) (string, error) {
	var key string
	err := db.catalog(ctx, func() error {
		return db.conn.QueryRow(ctx, "SELECT any(partition_key) FROM system.tables WHERE database = ? AND name = ?", db.database, table).Scan(&key)
	})
	return key, err
}

// builtAs reports whether table exists and is the table r rebuilds it into.
func (db *DB) builtAs(ctx context.Context, table string, r *repartition) (bool, error) {
	var engine, key string
	err := db.catalog(ctx, func() error {
		return db.conn.QueryRow(ctx, "SELECT any(engine_full), any(partition_key) FROM system.tables WHERE database = ? AND name = ?", db.database, table).Scan(&engine, &key)
	})
	return err == nil && r.builtBy(engine, key), err
}

// columnType returns the type of a column, "" when the table has no such column.
func (db *DB) columnType(ctx context.Context, table, column string) (string, error) {
	var typ string
	err := db.catalog(ctx, func() error {
		typ = ""
		rows, err := db.conn.Query(ctx, "SELECT type FROM system.columns WHERE database = ? AND table = ? AND name = ?", db.database, table, column)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			if err := rows.Scan(&typ); err != nil {
				return err
			}
		}
		return rows.Err()
	})
	return typ, err
}

// repartitionQuiet is how long a migrator waits on another's rebuild that shows no progress
// before it takes over.
var repartitionQuiet = time.Minute

// repartition rebuilds r.table with r's engine clause unless it has r's partition key. The
// migrator that renames the table to <table>_repartitioning first does the work: it copies
// the rows into <table>_repartitioned, renames that to the table and drops the old one; the
// others wait for the new table. A migrator that dies half-way leaves <table>_repartitioning,
// and the next run resumes from it. Migrations run before ingest, so nothing writes to the
// table meanwhile; the copy of a large table takes minutes.
func (db *DB) repartition(ctx context.Context, r *repartition) error {
	old, staged := r.table+"_repartitioning", r.table+"_repartitioned"
	done := func() (bool, error) { return db.builtAs(ctx, r.table, r) }
	if ok, err := done(); ok || err != nil {
		return err
	}
	err := db.conn.Exec(ctx, "RENAME TABLE "+r.table+" TO "+old)
	if err == nil {
		// Another migrator may have finished the rebuild between done() and this RENAME: then
		// the table just taken is the rebuilt one. Put it back at once rather than rebuild it
		// again, which would take it away from the migrators already past this step for the
		// whole copy (seen as "usage doesn't exist" in TestMigrateConcurrently).
		built, err := db.builtAs(ctx, old, r)
		if err != nil {
			return err
		}
		if built {
			return db.conn.Exec(ctx, "RENAME TABLE "+old+" TO "+r.table)
		}
	}
	if err != nil {
		// Another migrator holds the table, or one died holding it: wait for the new table
		// while the copy makes progress, and take over after a quiet minute. Taking over
		// renames the table held to a name of its own, so that of several migrators done
		// waiting at once only one takes it; the others see the new name as progress.
		progress, quiet := "", time.Now()
		for {
			if ok, err := done(); ok || err != nil {
				return err
			}
			var rows, parts uint64
			var held string
			if err := db.catalog(ctx, func() error {
				return db.conn.QueryRow(ctx, "SELECT count(), sum(rows), (SELECT min(name) FROM system.tables WHERE database = ? AND startsWith(name, ?)) FROM system.parts WHERE database = ? AND table = ? AND active",
					db.database, old, db.database, staged).Scan(&parts, &rows, &held)
			}); err != nil {
				return err
			}
			if p := fmt.Sprint(parts, rows, held); p != progress {
				progress, quiet = p, time.Now()
			}
			if time.Since(quiet) > repartitionQuiet {
				if held == "" {
					return fmt.Errorf("repartition %s: neither the table nor %s is done or in progress", r.table, old)
				}
				taken := fmt.Sprintf("%s_%d", old, time.Now().UnixNano())
				if err := db.conn.Exec(ctx, "RENAME TABLE "+held+" TO "+taken); err == nil {
					old = taken
					break
				}
				progress = "" // another migrator took it first
			}
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(time.Second):
			}
		}
	}
	// Only the migrator that holds the table drops its views: one that waits for another's
	// rebuild could otherwise drop them after the rebuilder created them again and began to
	// ingest.
	for _, v := range r.views {
		if err := db.execAgain(ctx, "DROP TABLE IF EXISTS "+v); err != nil {
			return fmt.Errorf("repartition %s: drop view %s: %w", r.table, v, err)
		}
	}
	for _, q := range []string{
		"DROP TABLE IF EXISTS " + staged,
		"CREATE TABLE " + staged + " AS " + old + " ENGINE = " + r.clause(),
		"INSERT INTO " + staged + " SELECT * FROM " + old,
	} {
		if err := db.conn.Exec(ctx, q); err != nil {
			return fmt.Errorf("repartition %s: %s: %w", r.table, q, err)
		}
	}
	// A migrator still at the migration that created the table (a fresh database, several
	// instances starting at once) creates it again, empty, while it is away (seen in
	// TestMigrateConcurrently: "record_keys already exists" at this rename). Such a table
	// holds at most the rows that migration copied, which the copy already has: take its
	// rows too, drop it and rename again.
	for try := 0; ; try++ {
		err := db.conn.Exec(ctx, "RENAME TABLE "+staged+" TO "+r.table)
		if err == nil || !isTableExists(err) || try == 20 {
			if err != nil {
				return fmt.Errorf("repartition %s: rename %s: %w", r.table, staged, err)
			}
			break
		}
		for _, q := range []string{"INSERT INTO " + staged + " SELECT * FROM " + r.table, "DROP TABLE " + r.table} {
			if err := db.execAgain(ctx, q); err != nil && !isUnknownTable(err) {
				return fmt.Errorf("repartition %s: %s: %w", r.table, q, err)
			}
		}
	}
	if err := db.execAgain(ctx, "DROP TABLE IF EXISTS "+old); err != nil {
		return fmt.Errorf("repartition %s: drop %s: %w", r.table, old, err)
	}
	return nil
}
