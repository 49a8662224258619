package store

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"
	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
)

// Option configures Open.
type Option func(*openOptions)

type openOptions struct {
	cluster    string
	ddlTimeout time.Duration
}

// WithCluster runs the engine on the ClickHouse cluster name (remote_servers in the servers'
// configuration): Migrate creates the cluster twins of the tables (see cluster.go and
// docs/cluster.md), inserts into Distributed tables wait for every shard, and subqueries over
// Distributed tables run GLOBAL. An empty name is single-node mode.
func WithCluster(name string) Option { return func(o *openOptions) { o.cluster = name } }

// WithDDLTimeout bounds how long an ON CLUSTER statement waits for the nodes (default
// DefaultDDLTimeout): a node that does not finish in time fails the migration with its name
// instead of hanging it.
func WithDDLTimeout(d time.Duration) Option { return func(o *openOptions) { o.ddlTimeout = d } }

// DefaultDDLTimeout is the default of WithDDLTimeout.
const DefaultDDLTimeout = 60 * time.Second

// clusterSettings are the session settings of cluster mode.
func clusterSettings(o openOptions) clickhouse.Settings {
	return clickhouse.Settings{
		// An insert into a Distributed table returns once every shard has its rows, or fails:
		// a shard that is down holds ingest back (Kafka offsets stay uncommitted) rather than
		// filling a send queue on the receiving node.
		"insert_distributed_sync":    1,
		"insert_distributed_timeout": 60,
	}
}

// ddlContext carries distributed_ddl_task_timeout for ON CLUSTER statements. Servers before
// settings travelled as strings (18.16: revision 54412) read this Int64 setting as a zigzag
// varint, and the driver sends an unsigned one: 2n arrives as n.
func (db *DB) ddlContext(ctx context.Context) context.Context {
	secs := int(db.ddlTimeout / time.Second)
	if v, err := db.conn.ServerVersion(); err == nil && v.Revision <= 54429 {
		secs *= 2
	}
	return clickhouse.Context(ctx, clickhouse.WithSettings(clickhouse.Settings{"distributed_ddl_task_timeout": secs}))
}

// Node is one ClickHouse server of the cluster.
type Node struct {
	Addr    string // host:port, native protocol
	Shard   uint32
	Replica uint32
}

func (n Node) String() string {
	return fmt.Sprintf("%s (shard %d, replica %d)", n.Addr, n.Shard, n.Replica)
}

// nodeConns holds one small connection pool per node, opened on first use.
type nodeConns struct {
	mu    sync.Mutex
	conns map[string]driver.Conn
}

func (nc *nodeConns) closeAll() {
	nc.mu.Lock()
	defer nc.mu.Unlock()
	for _, c := range nc.conns {
		c.Close()
	}
	nc.conns = nil
}

// Cluster returns the cluster's name, empty in single-node mode.
func (db *DB) Cluster() string { return db.cluster }

// Nodes returns the cluster's nodes as the server the engine is connected to lists them.
func (db *DB) Nodes(ctx context.Context) ([]Node, error) {
	rows, err := db.conn.Query(ctx, "SELECT host_address, port, shard_num, replica_num FROM system.clusters WHERE cluster = ? ORDER BY shard_num, replica_num", db.cluster)
	if err != nil {
		return nil, fmt.Errorf("store: nodes of cluster %s: %w", db.cluster, err)
	}
	defer rows.Close()
	var nodes []Node
	for rows.Next() {
		var (
			host       string
			port       uint16
			shard, rep uint32
		)
		if err := rows.Scan(&host, &port, &shard, &rep); err != nil {
			return nil, fmt.Errorf("store: nodes of cluster %s: %w", db.cluster, err)
		}
		nodes = append(nodes, Node{Addr: fmt.Sprintf("%s:%d", host, port), Shard: shard, Replica: rep})
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: nodes of cluster %s: %w", db.cluster, err)
	}
	if len(nodes) == 0 {
		return nil, fmt.Errorf("store: cluster %s: the server knows no such cluster (remote_servers)", db.cluster)
	}
	return nodes, nil
}

// nodeConn returns a connection to one node, in the engine's database.
func (db *DB) nodeConn(n Node) (driver.Conn, error) {
	db.nodes.mu.Lock()
	defer db.nodes.mu.Unlock()
	if c, ok := db.nodes.conns[n.Addr]; ok {
		return c, nil
	}
	opt := *db.opt
	opt.Addr = []string{n.Addr}
	opt.MaxOpenConns, opt.MaxIdleConns = 2, 1
	opt.DialTimeout = 3 * time.Second
	c, err := clickhouse.Open(&opt)
	if err != nil {
		return nil, err
	}
	if db.nodes.conns == nil {
		db.nodes.conns = map[string]driver.Conn{}
	}
	db.nodes.conns[n.Addr] = c
	return c, nil
}

// pingNode checks that a node answers within a few seconds.
func (db *DB) pingNode(ctx context.Context, n Node) error {
	c, err := db.nodeConn(n)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	return within(ctx, func() error { return c.Ping(ctx) })
}

// checkNodes fails, naming the node, when one does not answer: ON CLUSTER statements wait for
// every node, and ALTERs of replicated tables hang on a dead replica.
func (db *DB) checkNodes(ctx context.Context) ([]Node, error) {
	nodes, err := db.Nodes(ctx)
	if err != nil {
		return nil, err
	}
	for _, n := range nodes {
		if err := db.pingNode(ctx, n); err != nil {
			return nil, fmt.Errorf("store: migrate on cluster %s: node %s does not answer (%v); migrations need every node: start it, or take it out of remote_servers", db.cluster, n, err)
		}
	}
	return nodes, nil
}

func (db *DB) migrateCluster(ctx context.Context, ms []migration) error {
	ctx = db.ddlContext(ctx)
	if _, err := db.checkNodes(ctx); err != nil {
		return err
	}
	c := newClusterDDL(db.cluster, db.database, ms)
	cms, err := c.clusterMigrations(ms)
	if err != nil {
		return err
	}
	return db.migrateWith(ctx, cms, c.schemaMigrationsTwin())
}

// applyCluster runs one cluster step (see clusterDDL.twins).
func (db *DB) applyCluster(ctx context.Context, s step) error {
	switch {
	case s.recreate != nil:
		return db.recreateCluster(ctx, s.recreate)
	case s.column != "":
		return db.addColumnCluster(ctx, s)
	case s.perShard:
		return db.perShardCluster(ctx, s)
	case s.perNode:
		nodes, err := db.Nodes(ctx)
		if err != nil {
			return err
		}
		for _, n := range nodes {
			c, err := db.nodeConn(n)
			if err != nil {
				return fmt.Errorf("node %s: %w", n, err)
			}
			if err := c.Exec(ctx, s.sql); err != nil {
				return fmt.Errorf("node %s: %w", n, err)
			}
		}
		return nil
	}
	err := db.conn.Exec(ctx, s.sql)
	if err == nil {
		return nil
	}
	if s.object != "" {
		if ok, cerr := db.exists(ctx, s.object); cerr == nil && ok && !isDDLTimeout(err) {
			return nil
		}
	}
	return db.ddlError(err)
}

// isDDLTimeout reports an ON CLUSTER statement that some node did not finish in
// distributed_ddl_task_timeout (code 159, TIMEOUT_EXCEEDED).
func isDDLTimeout(err error) bool {
	var ex *clickhouse.Exception
	return errors.As(err, &ex) && ex.Code == 159 || err != nil && strings.Contains(err.Error(), "distributed_ddl_task_timeout")
}

// ddlError says which step to take when an ON CLUSTER statement timed out.
func (db *DB) ddlError(err error) error {
	if !isDDLTimeout(err) {
		return err
	}
	msg := "a node did not finish the statement in time"
	if nodes, nerr := db.Nodes(context.Background()); nerr == nil {
		for _, n := range nodes {
			if perr := db.pingNode(context.Background(), n); perr != nil {
				msg = fmt.Sprintf("node %s does not answer (%v)", n, perr)
				break
			}
		}
	}
	return fmt.Errorf("%s; the statement stays queued and completes when the node is back; migrate again then (it resumes): %w", msg, err)
}

// addColumnCluster adds a column on every node unless every node has it: ON CLUSTER runs an
// ALTER of a replicated table on one replica per shard, and a table replicated to every node
// gets it from the first shard, the others then failing with "already exists".
func (db *DB) addColumnCluster(ctx context.Context, s step) error {
	nodes, err := db.Nodes(ctx)
	if err != nil {
		return err
	}
	done := func() (bool, error) {
		for _, n := range nodes {
			c, err := db.nodeConn(n)
			if err != nil {
				return false, fmt.Errorf("node %s: %w", n, err)
			}
			var typ string
			rows, err := c.Query(ctx, "SELECT type FROM system.columns WHERE database = ? AND table = ? AND name = ?", db.database, s.table, s.column)
			if err != nil {
				return false, fmt.Errorf("node %s: %w", n, err)
			}
			for rows.Next() {
				if err := rows.Scan(&typ); err != nil {
					rows.Close()
					return false, err
				}
			}
			rows.Close()
			switch {
			case typ == "":
				return false, nil
			case typ != s.chType:
				return false, fmt.Errorf("node %s: column %s.%s exists with type %s, want %s", n, s.table, s.column, typ, s.chType)
			}
		}
		return true, nil
	}
	if ok, err := done(); ok || err != nil {
		return err
	}
	if s.perNode {
		// Each node alters its own table where the column is still missing, so that a run
		// cut short resumes.
		for _, n := range nodes {
			c, err := db.nodeConn(n)
			if err != nil {
				return fmt.Errorf("node %s: %w", n, err)
			}
			var has uint64
			if err := c.QueryRow(ctx, "SELECT count() FROM system.columns WHERE database = ? AND table = ? AND name = ?", db.database, s.table, s.column).Scan(&has); err != nil {
				return fmt.Errorf("node %s: %w", n, err)
			}
			if has > 0 {
				continue
			}
			if err := c.Exec(ctx, s.sql); err != nil {
				return fmt.Errorf("node %s: %w", n, err)
			}
		}
		return nil
	}
	// A replicated table: its first replica in each shard alters it, without ON CLUSTER, and
	// replication carries the change to the other replicas. Under ON CLUSTER the replicas of a
	// shard race for the task, and on 18.16 the loser's DDL worker can end for good ("Node
	// exists"), after which no ON CLUSTER statement finishes on that node (docs/cluster.md).
	// A table replicated to every node gets the column from the first shard's ALTER, so the
	// later shards' may find it there ("already exists").
	local := db.withoutOnCluster(s.sql)
	err = db.onFirstReplicas(nodes, func(c driver.Conn) error {
		var has uint64
		if err := c.QueryRow(ctx, "SELECT count() FROM system.columns WHERE database = ? AND table = ? AND name = ?", db.database, s.table, s.column).Scan(&has); err != nil {
			return err
		}
		if has > 0 {
			return nil
		}
		if err := c.Exec(ctx, local); err != nil && !isColumnExists(err) {
			return err
		}
		return nil
	})
	// Replicas apply a replicated ALTER from ZooKeeper a moment later.
	for try := 0; try < 20; try++ {
		if ok, cerr := done(); ok || cerr != nil {
			return cerr
		}
		time.Sleep(250 * time.Millisecond)
	}
	if err != nil {
		return db.ddlError(err)
	}
	return fmt.Errorf("column %s.%s missing on a node after ALTER", s.table, s.column)
}

// perShardCluster runs a mutation of a replicated table on the first replica of each shard,
// without ON CLUSTER: replication carries it to the other replicas. Under ON CLUSTER the
// replicas of a shard race for the task, and on 18.16 the loser's DDL worker can end for good
// ("Node exists"; the cluster tests met it in migration 11's UPDATE of dead_letters), after
// which no ON CLUSTER statement finishes on that node (docs/cluster.md). A table replicated to
// every node receives the mutation once per shard; mutations are written to give the same
// result however often they run (mutationStep).
func (db *DB) perShardCluster(ctx context.Context, s step) error {
	nodes, err := db.Nodes(ctx)
	if err != nil {
		return err
	}
	local := db.withoutOnCluster(s.sql)
	return db.onFirstReplicas(nodes, func(c driver.Conn) error { return c.Exec(ctx, local) })
}

// onFirstReplicas runs fn on the first replica of each shard in turn, stopping at the first
// error, which names the node: the statements that replication carries to the other
// replicas (addColumnCluster, perShardCluster).
func (db *DB) onFirstReplicas(nodes []Node, fn func(c driver.Conn) error) error {
	for _, n := range nodes {
		if n.Replica != 1 {
			continue
		}
		c, err := db.nodeConn(n)
		if err == nil {
			err = fn(c)
		}
		if err != nil {
			return fmt.Errorf("node %s: %w", n, err)
		}
	}
	return nil
}

// withoutOnCluster is a cluster twin's statement as one node runs it on its own.
func (db *DB) withoutOnCluster(sql string) string {
	return strings.Replace(sql, " ON CLUSTER "+db.cluster+" ", " ", 1)
}

// recreateCluster carries out a repartition on a cluster (see repartitionTwin), resuming
// wherever an earlier run stopped: new table made (and filled), old dropped, new renamed. A
// copy cut short is run again whole into the new table: its rows are a set, and the
// ReplacingMergeTree collapses the copies.
func (db *DB) recreateCluster(ctx context.Context, r *clusterRecreate) error {
	cur, err := db.partitionKey(ctx, r.local)
	if err != nil {
		return err
	}
	built, err := db.builtAs(ctx, r.local, r.built)
	if err != nil {
		return err
	}
	fresh, err := db.exists(ctx, r.fresh)
	if err != nil {
		return err
	}
	if built && !fresh {
		return nil
	}
	if cur != "" && !built {
		if r.copy == "" {
			var n uint64
			if err := db.conn.QueryRow(ctx, "SELECT count() FROM "+r.table).Scan(&n); err != nil {
				return err
			}
			if n > 0 {
				return fmt.Errorf("repartition %s on a cluster: it holds %d rows; cluster mode creates its tables at the newest schema, so a cluster's %s is empty here (was it filled by hand?)", r.table, n, r.table)
			}
		}
		for _, q := range append(slices.Clone(r.dropViews), r.create) {
			if err := db.conn.Exec(ctx, q); err != nil {
				return fmt.Errorf("repartition %s: %s: %w", r.table, q, db.ddlError(err))
			}
		}
		if r.copy != "" {
			if err := db.copyPerShard(ctx, r.copy); err != nil {
				return fmt.Errorf("repartition %s: %w", r.table, err)
			}
		}
		if err := db.conn.Exec(ctx, r.drop); err != nil {
			return fmt.Errorf("repartition %s: %s: %w", r.table, r.drop, db.ddlError(err))
		}
	}
	if err := db.conn.Exec(ctx, r.rename); err != nil {
		return fmt.Errorf("repartition %s: %s: %w", r.table, r.rename, db.ddlError(err))
	}
	return nil
}

// copyPerShard runs an INSERT … SELECT between two local tables on the first replica of each
// shard: the replicated target carries the rows to the shard's other replicas.
func (db *DB) copyPerShard(ctx context.Context, q string) error {
	nodes, err := db.Nodes(ctx)
	if err != nil {
		return err
	}
	done := map[uint32]bool{}
	for _, n := range nodes {
		if done[n.Shard] {
			continue
		}
		c, err := db.nodeConn(n)
		if err != nil {
			return fmt.Errorf("node %s: %w", n, err)
		}
		if err := c.Exec(ctx, q); err != nil {
			return fmt.Errorf("node %s: %s: %w", n, q, err)
		}
		done[n.Shard] = true
	}
	return nil
}

// NodeSchema is what one node says about the engine's schema.
type NodeSchema struct {
	Node Node
	// Err is why the node did not answer; the other fields are zero then.
	Err error
	// Version is the newest migration the node's schema_migrations lists; Migrations how
	// many distinct versions it lists.
	Version    uint32
	Migrations uint64
}

// NodeSchemas asks every node of the cluster for its schema version (migrate --cluster).
func (db *DB) NodeSchemas(ctx context.Context) ([]NodeSchema, error) {
	nodes, err := db.Nodes(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]NodeSchema, len(nodes))
	for i, n := range nodes {
		out[i].Node = n
		if err := db.pingNode(ctx, n); err != nil {
			out[i].Err = err
			continue
		}
		c, _ := db.nodeConn(n)
		qctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		out[i].Err = c.QueryRow(qctx, "SELECT max(version), uniqExact(version) FROM schema_migrations").Scan(&out[i].Version, &out[i].Migrations)
		cancel()
	}
	return out, nil
}

// LatestMigration is the newest migration version this build knows.
func LatestMigration() uint32 { return migrations[len(migrations)-1].version }

// pingClusterNodes fails, naming the node, when a node of cluster does not answer: CREATE
// DATABASE ON CLUSTER would wait for it.
func pingClusterNodes(ctx context.Context, conn driver.Conn, opt *clickhouse.Options, cluster string) error {
	rows, err := conn.Query(ctx, "SELECT host_address, port FROM system.clusters WHERE cluster = ?", cluster)
	if err != nil {
		return err
	}
	var addrs []string
	for rows.Next() {
		var (
			host string
			port uint16
		)
		if err := rows.Scan(&host, &port); err != nil {
			rows.Close()
			return err
		}
		addrs = append(addrs, fmt.Sprintf("%s:%d", host, port))
	}
	rows.Close()
	if len(addrs) == 0 {
		return fmt.Errorf("the server knows no cluster %s (remote_servers)", cluster)
	}
	for _, a := range addrs {
		o := *opt
		o.Addr, o.DialTimeout = []string{a}, 3*time.Second
		c, err := clickhouse.Open(&o)
		if err == nil {
			pctx, cancel := context.WithTimeout(ctx, 3*time.Second)
			err = within(pctx, func() error { return c.Ping(pctx) })
			cancel()
			c.Close()
		}
		if err != nil {
			return fmt.Errorf("node %s does not answer (%v): creating the database needs every node", a, err)
		}
	}
	return nil
}

// checkClusterProfile checks the settings cluster mode needs from the server's profile:
// distributed_product_mode = global, so that the detectors' subqueries and JOINs over
// Distributed tables inside queries over others run once and travel to the shards (the
// default, deny, refuses them). The driver cannot send a string setting to 18.16, so it is
// the profile's (users.xml) to set.
func checkClusterProfile(ctx context.Context, conn driver.Conn) error {
	var mode string
	if err := conn.QueryRow(ctx, "SELECT value FROM system.settings WHERE name = 'distributed_product_mode'").Scan(&mode); err != nil {
		return fmt.Errorf("store: read distributed_product_mode: %w", err)
	}
	if mode != "global" {
		return fmt.Errorf("store: cluster mode needs distributed_product_mode = global in the ClickHouse user's profile (users.xml), the server has %q (docs/cluster.md)", mode)
	}
	return nil
}
