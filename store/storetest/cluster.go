package storetest

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"
)

// Cluster is the test cluster that .ci/cluster/start-cluster.sh starts: VW_TEST_CLUSTER names
// its nodes (host:port,host:port), VW_TEST_CLUSTER_NAME its name (default vw), CHC_ROOT its
// state directory (default /tmp/chcluster), where the nodes' PID files are.
type Cluster struct {
	Name  string
	Addrs []string
	Root  string
	// Layout is "1x2" (one shard, two replicas) or "2x1" (two shards of one replica).
	Layout string
}

// RequireCluster returns the test cluster, or skips the test when VW_TEST_CLUSTER is unset.
// When it is set, a node that does not answer fails the test: CI must not pass by skipping.
func RequireCluster(t testing.TB) *Cluster {
	t.Helper()
	addrs := os.Getenv("VW_TEST_CLUSTER")
	if addrs == "" {
		t.Skip("no test cluster: set VW_TEST_CLUSTER=127.0.0.1:9101,127.0.0.1:9102 after .ci/cluster/start-cluster.sh (make test does)")
	}
	c := &Cluster{Name: "vw", Addrs: strings.Split(addrs, ","), Root: "/tmp/chcluster"}
	if n := os.Getenv("VW_TEST_CLUSTER_NAME"); n != "" {
		c.Name = n
	}
	if r := os.Getenv("CHC_ROOT"); r != "" {
		c.Root = r
	}
	for _, a := range c.Addrs {
		if err := ping(a); err != nil {
			t.Fatalf("test cluster node %s: %v", a, err)
		}
	}
	conn, err := clickhouse.Open(&clickhouse.Options{Addr: c.Addrs[:1], DialTimeout: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	var shards, replicas uint64
	if err := conn.QueryRow(context.Background(), "SELECT uniqExact(shard_num), toUInt64(max(replica_num)) FROM system.clusters WHERE cluster = ?", c.Name).Scan(&shards, &replicas); err != nil {
		t.Fatal(err)
	}
	c.Layout = fmt.Sprintf("%dx%d", shards, replicas)
	c.ensureDDL(t)
	return c
}

// ensureDDL checks that every node runs ON CLUSTER statements, and restarts the nodes when one
// does not. 18.16's DDL worker thread ends for good on some errors while its server answers on
// (docs/cluster.md): in layout 1x2 the two replicas race for a queued ALTER of a replicated
// table and the loser's worker stops on "Node exists". A test whose own migration meets that
// fails; without this, every cluster test after it failed too, waiting for that node.
func (c *Cluster) ensureDDL(t testing.TB) {
	t.Helper()
	for try := 1; ; try++ {
		err := c.probeDDL()
		if err == nil {
			return
		}
		if try == 3 {
			t.Fatalf("test cluster: ON CLUSTER statements do not run on every node: %v", err)
		}
		t.Logf("test cluster: %v; restarting the nodes (a DDL worker ended, docs/cluster.md)", err)
		for i := range c.Addrs {
			c.Kill(t, i)
		}
		c.Start(t)
	}
}

// probeDDL runs an ON CLUSTER statement that every node must run, waiting up to 30 s.
func (c *Cluster) probeDDL() error {
	conn, err := clickhouse.Open(&clickhouse.Options{Addr: c.Addrs[:1], DialTimeout: 2 * time.Second})
	if err != nil {
		return err
	}
	defer conn.Close()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	// 18.16 reads distributed_ddl_task_timeout as a zigzag varint: 60 is 30 s there (store's
	// ddlContext says more).
	ctx = clickhouse.Context(ctx, clickhouse.WithSettings(clickhouse.Settings{"distributed_ddl_task_timeout": 60}))
	return conn.Exec(ctx, "DROP DATABASE IF EXISTS vw_ddl_probe ON CLUSTER "+c.Name)
}

// Database returns the DSN (every node) of a new database name on the cluster; the engine
// creates it. It is dropped on every node when the test ends, unless VW_TEST_KEEP is set.
func (c *Cluster) Database(t testing.TB) string {
	t.Helper()
	name := "vwctest_" + randomHex(6)
	t.Cleanup(func() {
		if os.Getenv("VW_TEST_KEEP") != "" {
			t.Logf("kept database %s", name)
			return
		}
		c.Drop(name)
	})
	return fmt.Sprintf("clickhouse://%s/%s", strings.Join(c.Addrs, ","), name)
}

// Drop drops a database on every node that answers.
func (c *Cluster) Drop(name string) {
	for _, a := range c.Addrs {
		conn, err := clickhouse.Open(&clickhouse.Options{Addr: []string{a}, DialTimeout: 2 * time.Second})
		if err != nil {
			continue
		}
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		_ = conn.Exec(ctx, "DROP DATABASE IF EXISTS `"+strings.ReplaceAll(name, "`", "")+"`")
		cancel()
		conn.Close()
	}
}

// Kill sends SIGKILL to node i (0: a, 1: b), as a crash would.
func (c *Cluster) Kill(t testing.TB, i int) {
	t.Helper()
	pid := c.pid(t, i)
	if err := exec.Command("kill", "-KILL", pid).Run(); err != nil {
		t.Fatalf("kill node %d (pid %s): %v", i, pid, err)
	}
	for ping(c.Addrs[i]) == nil {
		time.Sleep(50 * time.Millisecond)
	}
}

// Stop stops node i with SIGTERM and waits until it is gone.
func (c *Cluster) Stop(t testing.TB, i int) {
	t.Helper()
	pid := c.pid(t, i)
	if err := exec.Command("kill", "-TERM", pid).Run(); err != nil {
		t.Fatalf("stop node %d (pid %s): %v", i, pid, err)
	}
	for exec.Command("kill", "-0", pid).Run() == nil {
		time.Sleep(100 * time.Millisecond)
	}
}

// Start (re)starts the nodes that are down with the cluster's start script and waits until
// they answer.
func (c *Cluster) Start(t testing.TB) {
	t.Helper()
	script := os.Getenv("VW_TEST_CLUSTER_START")
	if script == "" {
		// The repository's copy, found from the test's package directory upwards.
		dir, _ := os.Getwd()
		for ; dir != "/" && dir != "."; dir = filepath.Dir(dir) {
			if _, err := os.Stat(filepath.Join(dir, ".ci/cluster/start-cluster.sh")); err == nil {
				script = filepath.Join(dir, ".ci/cluster/start-cluster.sh")
				break
			}
		}
	}
	if script == "" {
		t.Fatal("no .ci/cluster/start-cluster.sh above the test's directory; set VW_TEST_CLUSTER_START")
	}
	cmd := exec.Command("bash", script)
	cmd.Env = append(os.Environ(), "LAYOUT="+c.Layout, "CHC_ROOT="+c.Root)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("restart cluster: %v\n%s", err, out)
	}
}

func (c *Cluster) pid(t testing.TB, i int) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(c.Root, string(rune('a'+i)), "server.pid"))
	if err != nil {
		t.Fatalf("node %d pid: %v", i, err)
	}
	return strings.TrimSpace(string(b))
}
