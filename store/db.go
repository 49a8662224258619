package store

import (
	"context"
	"fmt"
	"net"
	"net/url"
	"regexp"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"
	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
	"github.com/cespare/xxhash/v2"

	"github.com/voucherwatch/voucherwatch"
)

// DB is the engine's ClickHouse database. It is safe for concurrent use.
type DB struct {
	conn     driver.Conn
	database string
	// cluster is the ClickHouse cluster's name in cluster mode, empty on a single node; opt
	// and nodes reach each node of it (see cluster_db.go).
	cluster    string
	opt        *clickhouse.Options
	ddlTimeout time.Duration
	nodes      nodeConns

	// writing holds one token per record table. StoreRecords takes it around the look-up and
	// the insert, so that concurrent writers in one process never store a record twice; across
	// processes the server's process list orders them (insertQueryID).
	writing map[voucherwatch.RecordType]chan struct{}
	// unsure holds, per type, the records of the last INSERT that failed: it may have stored
	// some (a Distributed insert stores the shards that answer). Guarded by writing's token.
	unsure map[voucherwatch.RecordType]map[recordKey]struct{}
	// ended holds, per type, the query ids of this DB's last INSERTs that ended (sent, or
	// abandoned before their data), which the server lists for a moment after: a look-up does
	// not wait for them. Guarded by writing's token.
	ended map[voucherwatch.RecordType][]string

	// lookupChunk is how many keys one look-up query carries.
	lookupChunk int
	// fillChunk is how many records an INSERT's fill appends to every column before the next
	// ones; 0: defaultFillChunk. Tests make it small.
	fillChunk int
	// parallelFill is the batch from which the fill runs on two goroutines; 0:
	// parallelFillMin. Tests lower it.
	parallelFill int
	// flushRows is how many records an INSERT sends per block; 0: defaultFlushRows, -1:
	// the whole batch in one block (cluster mode, see flushedBlocks).
	flushRows int
	// insertWait bounds the wait for earlier INSERTs (insertQueryID); unordered skips
	// that wait, for the benchmark that measures its cost.
	insertWait time.Duration
	unordered  bool
	// now stamps ingested_at; tests replace it.
	now func() time.Time

	// unitsMu makes this process's refreshes of usage_units take turns; unitsSlack is how far
	// before the last pass they look (read_units.go).
	unitsMu    sync.Mutex
	unitsSlack time.Duration
	// unitsFullShare and unitsFullMin decide when a refresh builds every group instead of
	// the touched pairs' (read_units.go; a share of 0 never does).
	unitsFullShare float64
	unitsFullMin   uint64
	// unitsBatch is how many units a refresh sends per INSERT (defaultUnitsBatch; tests
	// lower it).
	unitsBatch int
	// unitsBegan is when (this process's clock) the last refresh that completed began; a
	// sweep begun before it finds the units fresh (WithSweepStart). Guarded by unitsMu.
	unitsBegan time.Time
	// noOldLongRuns is set once usage_runs is found to hold no window of twelve hours or
	// more (hasOldLongRuns).
	noOldLongRuns atomic.Bool
	// meteringsMu makes this process's refreshes of invoice_meterings take turns
	// (read_meterings.go).
	meteringsMu sync.Mutex
	// paidUsagesMu does the same for paid_period_usages (read_paid_usages.go).
	paidUsagesMu sync.Mutex

	// purgeMu guards lastPurge, when this instance last deleted expired session revocations.
	purgeMu   sync.Mutex
	lastPurge time.Time
	// legacyIDs remembers, per process, the legacy id adopted for a finding's id (see
	// UpsertAlerts), so that adoption costs its query once, not on every run.
	legacyIDs sync.Map // string → string
	// alertWrites counts this process's writes to the database's alerts and alert_events,
	// shared by every DB opened on the database (AlertWrites).
	alertWrites *atomic.Uint64
}

// alertWriteCounters holds, per database name, the count of writes to its alerts that DBs of
// this process made. serve lists alerts through one DB and stores them through another, so
// the count is the database's, not the DB's. Two servers with a database of the same name
// share a count, which costs a cached list its answer early, never an answer late.
var alertWriteCounters sync.Map // database name → *atomic.Uint64

// AlertWrites counts the writes this process made to the alerts and their workflow events
// (alerts, alert_events) of the DB's database, after each write's INSERT ended, failed ones
// included. A list read while it stays the same has seen every write of this process made
// before the read began; other processes' writes it does not count (supervision's list cache
// keeps answers a second at most for them).
func (db *DB) AlertWrites() uint64 { return db.alertWrites.Load() }

// alertsWritten counts a write to alerts or alert_events; deferred by the writer, it runs
// after the INSERT has ended.
func (db *DB) alertsWritten() { db.alertWrites.Add(1) }

var _ voucherwatch.RecordStore = (*DB)(nil)

// databaseName is what Open accepts as a database name: it is spliced into DDL, so it must be a
// plain identifier.
var databaseName = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// Open connects to the ClickHouse server named by dsn, of the form
// clickhouse://user:password@host:9000/database?dial_timeout=5s, and creates the database if it
// is missing. Several servers may be named, host1:9000,host2:9000: the connections go to the
// first that answers. Only the native protocol works with ClickHouse 18.16. Open returns by
// the deadline of ctx even when the server accepts connections and never answers. It does not
// migrate: call Migrate. WithCluster turns on cluster mode.
func Open(ctx context.Context, dsn string, opts ...Option) (*DB, error) {
	o := openOptions{ddlTimeout: DefaultDDLTimeout}
	for _, f := range opts {
		f(&o)
	}
	if o.cluster != "" && !databaseName.MatchString(o.cluster) {
		return nil, voucherwatch.Errorf(voucherwatch.EINVALID, "store: cluster name %q: want letters, digits and underscores", o.cluster)
	}
	u, err := url.Parse(dsn)
	if err != nil {
		return nil, fmt.Errorf("store: parse dsn: %w", redact(err))
	}
	if u.Scheme != "clickhouse" && u.Scheme != "tcp" {
		return nil, voucherwatch.Errorf(voucherwatch.EINVALID, "store: dsn scheme %q: want clickhouse:// (the native protocol; HTTP does not work with ClickHouse 18.16)", u.Scheme)
	}
	opt, err := clickhouse.ParseDSN(dsn)
	if err != nil {
		return nil, fmt.Errorf("store: parse dsn: %w", redact(err))
	}
	database := opt.Auth.Database
	if database == "" {
		database = "voucherwatch"
	}
	if !databaseName.MatchString(database) {
		return nil, voucherwatch.Errorf(voucherwatch.EINVALID, "store: database name %q: want letters, digits and underscores", database)
	}
	// The driver dials with net.DialTimeout, which ignores the context; dialling through a
	// net.Dialer at least bounds the TCP connect by the caller's context.
	opt.DialContext = func(ctx context.Context, addr string) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, "tcp", addr)
	}

	// The database may not exist yet, and the server refuses a connection to a missing
	// database: create it over a connection to "default" first.
	if o.cluster != "" {
		opt.Settings = clusterSettings(o)
	}
	defaultOpt := *opt
	defaultOpt.Auth.Database = "default"
	if err := within(ctx, func() error { return createDatabase(ctx, &defaultOpt, database, o.cluster) }); err != nil {
		return nil, err
	}

	opt.Auth.Database = database
	conn, err := clickhouse.Open(opt)
	if err != nil {
		return nil, fmt.Errorf("store: open %s: %w", database, err)
	}
	if err := within(ctx, func() error { return conn.Ping(ctx) }); err != nil {
		conn.Close()
		return nil, fmt.Errorf("store: connect to %s: %w", database, err)
	}
	if o.cluster != "" {
		if err := checkClusterProfile(ctx, conn); err != nil {
			conn.Close()
			return nil, err
		}
	}
	db := &DB{
		conn:           labelledConn{conn},
		database:       database,
		cluster:        o.cluster,
		ddlTimeout:     o.ddlTimeout,
		opt:            opt,
		writing:        make(map[voucherwatch.RecordType]chan struct{}, len(recordTables)),
		unsure:         make(map[voucherwatch.RecordType]map[recordKey]struct{}, len(recordTables)),
		ended:          make(map[voucherwatch.RecordType][]string, len(recordTables)),
		lookupChunk:    defaultLookupChunk,
		insertWait:     DefaultInsertWait,
		unitsSlack:     defaultUnitsSlack,
		unitsFullShare: defaultUnitsFullShare,
		unitsFullMin:   defaultUnitsFullMin,
		unitsBatch:     defaultUnitsBatch,
		now:            time.Now,
	}
	if o.cluster != "" {
		db.flushRows = -1 // see flushedBlocks
	}
	counter, _ := alertWriteCounters.LoadOrStore(database, new(atomic.Uint64))
	db.alertWrites = counter.(*atomic.Uint64)
	for typ := range recordTables {
		db.writing[typ] = make(chan struct{}, 1)
	}
	return db, nil
}

// createDatabase creates the database unless it exists; on a cluster, on every node, which
// needs every node up: the check first lets the engine start while a node is down.
func createDatabase(ctx context.Context, opt *clickhouse.Options, database, cluster string) error {
	conn, err := clickhouse.Open(opt)
	if err != nil {
		return fmt.Errorf("store: open default database: %w", err)
	}
	defer conn.Close()
	q := "CREATE DATABASE IF NOT EXISTS " + database
	if cluster != "" {
		var n uint64
		if err := conn.QueryRow(ctx, "SELECT count() FROM system.databases WHERE name = ?", database).Scan(&n); err != nil {
			return fmt.Errorf("store: look for database %s: %w", database, err)
		}
		if n > 0 {
			return nil
		}
		if err := pingClusterNodes(ctx, conn, opt, cluster); err != nil {
			return fmt.Errorf("store: create database %s on cluster %s: %w", database, cluster, err)
		}
		q += " ON CLUSTER " + cluster
	}
	if err := conn.Exec(ctx, q); err != nil {
		return fmt.Errorf("store: create database %s: %w", database, err)
	}
	return nil
}

// within runs f and returns its error, or the context's error as soon as ctx is done: the
// driver's handshake waits for its own dial timeout, not for the context. f goes on in the
// background until that timeout.
func within(ctx context.Context, f func() error) error {
	done := make(chan error, 1)
	go func() { done <- f() }()
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
		return fmt.Errorf("store: connect: %w", context.Cause(ctx))
	}
}

// redact drops the password from a URL parse error, which quotes the DSN.
func redact(err error) error {
	if ue, ok := err.(*url.Error); ok {
		return ue.Err
	}
	return err
}

// Close closes the connections.
func (db *DB) Close() error {
	db.nodes.closeAll()
	if err := db.conn.Close(); err != nil {
		return fmt.Errorf("store: close: %w", err)
	}
	return nil
}

// Conn returns the connection for the detectors' queries. Its default database is the
// engine's, so queries name tables without a database.
func (db *DB) Conn() driver.Conn { return db.conn }

// Database returns the name of the engine's database.
func (db *DB) Database() string { return db.database }

// RecordHash returns the rec_hash column of the record (source, id): xxHash64 of
// source + "\x00" + id. Two records with the same hash are told apart by source and id.
func RecordHash(source, id string) uint64 {
	var d xxhash.Digest
	d.Reset()
	d.WriteString(source)
	d.WriteString("\x00")
	d.WriteString(id)
	return d.Sum64()
}
