package store

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/voucherwatch/voucherwatch"
	"github.com/voucherwatch/voucherwatch/store/storetest"
)

// clusterHour is hour h of six suppliers' 40 resources each: the suppliers spread over both
// shards of a 2x1 cluster.
func clusterHour(h int) []voucherwatch.Record {
	var recs []voucherwatch.Record
	for s := range 6 {
		supplier := fmt.Sprintf("9143010%011d", 7000+s)
		for i := range 40 {
			r := meteredCardHour(h*240 + s*40 + i)
			r.Source = supplier
			r.ID = fmt.Sprintf("usage-h%04d-r%03d", h, i)
			r.Usage.SupplierUSCC = supplier
			r.Usage.ResourceID = fmt.Sprintf("res-%03d", i)
			r.Usage.WindowStart = time.Date(2026, 3, 1, 0, 0, 0, 0, voucherwatch.CST).Add(time.Duration(h) * time.Hour)
			r.Usage.WindowEnd = r.Usage.WindowStart.Add(time.Hour)
			// Equal hours of a resource sum to equal rollup blocks: the second must count.
			r.Usage.CardHours = float64(1 + i%4)
			recs = append(recs, r)
		}
	}
	return recs
}

// TestClusterStoreThroughFaults stores a day of a province's usage hour by hour on the test cluster
// while a node fails halfway: on 1x2, replica B is killed (SIGKILL) and restarted 10 s later,
// ingest going on; on 2x1, shard 2 is stopped for 20 s, and ingest holds back (StoreRecords
// fails, nothing is acknowledged) until it is back, as the consumer's retry does. Every fifth
// batch is delivered twice. Then every record is stored once, the duplicates are the
// redeliveries, every replica has every row, and Check finds no drift.
func TestClusterStoreThroughFaults(t *testing.T) {
	c := storetest.RequireCluster(t)
	db := openClusterDB(t, c, c.Database(t))
	ctx := testContext(t)
	if err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	var stored, dups, failures int
	storeRetrying := func(typ voucherwatch.RecordType, recs []voucherwatch.Record) {
		for {
			res, err := db.StoreRecords(ctx, typ, recs)
			if err == nil {
				stored += res.Stored
				dups += res.Duplicates
				return
			}
			failures++
			if ctx.Err() != nil {
				t.Fatal(err)
			}
			time.Sleep(200 * time.Millisecond)
		}
	}
	const hours = 24
	redelivered := 0
	restarted := make(chan struct{})
	var down time.Duration
	for h := range hours {
		if h == hours/2 {
			switch c.Layout {
			case "1x2":
				c.Kill(t, 1)
				down = 10 * time.Second
			default:
				c.Stop(t, 1)
				down = 20 * time.Second
			}
			go func() {
				defer close(restarted)
				time.Sleep(down)
				c.Start(t)
			}()
		}
		if h == hours/2 {
			checkMigrateNamesDownNode(t, db, c)
		}
		storeRetrying(voucherwatch.TypeUsage, clusterHour(h))
		if h%5 == 4 {
			storeRetrying(voucherwatch.TypeUsage, clusterHour(h))
			redelivered += len(clusterHour(h))
		}
		time.Sleep(50 * time.Millisecond)
	}
	<-restarted
	unique := hours * 240
	if stored != unique || dups != redelivered {
		t.Errorf("stored %d, duplicates %d; want %d (unique records), %d (redelivered)", stored, dups, unique, redelivered)
	}
	if c.Layout == "2x1" && failures == 0 {
		t.Error("no StoreRecords failed while shard 2 was down, want back-pressure")
	}
	t.Logf("layout %s: %d failed StoreRecords while a node was down", c.Layout, failures)

	nodes, err := db.Nodes(ctx)
	if err != nil {
		t.Fatal(err)
	}
	perNode := make([]uint64, len(nodes))
	for i, n := range nodes {
		conn, err := db.nodeConn(n)
		if err != nil {
			t.Fatal(err)
		}
		deadline := time.Now().Add(60 * time.Second)
		for {
			// A restarted replica is read-only until its old ZooKeeper session expires.
			err = conn.Exec(ctx, "SYSTEM SYNC REPLICA "+db.database+".usage_local")
			if err == nil || time.Now().After(deadline) {
				break
			}
			time.Sleep(time.Second)
		}
		if err != nil {
			t.Fatalf("node %s: sync replica: %v", n, err)
		}
		var rows, records uint64
		if err := conn.QueryRow(ctx, "SELECT count(), uniqExact(source, id) FROM usage_local").Scan(&rows, &records); err != nil {
			t.Fatal(err)
		}
		if rows != records {
			t.Errorf("node %s: %d rows for %d records, want one each", n, rows, records)
		}
		perNode[i] = records
	}
	switch c.Layout {
	case "1x2":
		for i, n := range perNode {
			if n != uint64(unique) {
				t.Errorf("replica %s holds %d records, want all %d", nodes[i], n, unique)
			}
		}
	default:
		if perNode[0]+perNode[1] != uint64(unique) || perNode[0] == 0 || perNode[1] == 0 {
			t.Errorf("shards hold %v records, want %d in all, some on each", perNode, unique)
		}
	}
	n, err := db.StoredCount(ctx, voucherwatch.TypeUsage)
	if err != nil || n != uint64(unique) {
		t.Errorf("StoredCount: %d (%v), want %d", n, err, unique)
	}
	checkNoDrift(t, db)
}

// checkNoDrift fails the test on any drift Check reports.
func checkNoDrift(t *testing.T, db *DB) {
	t.Helper()
	cs, err := db.Check(context.Background())
	if err != nil {
		t.Fatalf("Check: %v", err)
	}
	for _, c := range cs {
		if c.Drift() {
			t.Errorf("drift in %s, %s: records say %v, the table %v", c.Table, c.Measure, c.Want, c.Got)
		}
	}
}

// checkMigrateNamesDownNode: with node B down, Migrate fails at once naming it, and an ON
// CLUSTER ALTER that goes ahead anyway fails after the DDL timeout naming it, instead of
// hanging (the ALTER completes in the background once B is back).
func checkMigrateNamesDownNode(t *testing.T, db *DB, c *storetest.Cluster) {
	t.Helper()
	start := time.Now()
	err := db.Migrate(context.Background())
	if err == nil || !strings.Contains(err.Error(), c.Addrs[1]) || time.Since(start) > 10*time.Second {
		t.Errorf("Migrate with %s down: got %v after %s, want an error naming it at once", c.Addrs[1], err, time.Since(start))
	}
	old := db.ddlTimeout
	db.ddlTimeout = 3 * time.Second
	defer func() { db.ddlTimeout = old }()
	start = time.Now()
	err = db.applyCluster(db.ddlContext(context.Background()), step{sql: "ALTER TABLE " + db.database + ".complaints ON CLUSTER " + c.Name + " ADD COLUMN zz_probe UInt8"})
	if err == nil || !strings.Contains(err.Error(), c.Addrs[1]) || time.Since(start) > 30*time.Second {
		t.Errorf("ALTER ON CLUSTER with %s down: got %v after %s, want an error naming it within the DDL timeout", c.Addrs[1], err, time.Since(start))
	}
	t.Logf("ALTER ON CLUSTER with a node down failed after %s: %v", time.Since(start).Round(time.Second), err)
}
