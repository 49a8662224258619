package store

import (
	"context"
	"testing"
	"time"

	"github.com/voucherwatch/voucherwatch"
	"github.com/voucherwatch/voucherwatch/store/storetest"
)

// BenchmarkClusterStoreUsage stores the same hours of six suppliers' usage (240 records a
// batch, as clusterHour) on a private single server and on the test cluster, in one run, and reports
// the cluster's rate as a ratio of the single server's (cluster/single): the price of
// replication, Distributed inserts that wait for every shard, and the look-up asking every
// shard. Run: VW_TEST_CLUSTER=... go test -run '^$' -bench ClusterStoreUsage ./store/
func BenchmarkClusterStoreUsage(b *testing.B) {
	c := storetest.RequireCluster(b)
	// The baseline is a private server like the cluster's nodes, not the shared one, which
	// other tests keep busy.
	single := openTestDB(b, storetest.StartServer(b).DSN("vwbench"))
	cluster := openClusterDB(b, c, c.Database(b))
	ctx := context.Background()
	for _, db := range []*DB{single, cluster} {
		if err := db.Migrate(ctx); err != nil {
			b.Fatal(err)
		}
	}
	const hours = 40
	batches := make([][]voucherwatch.Record, hours)
	for h := range batches {
		batches[h] = clusterHour(h)
	}
	rate := func(db *DB, round int) float64 {
		start := time.Now()
		n := 0
		for h, recs := range batches {
			// Each round stores new records: a round's ids differ.
			rs := make([]voucherwatch.Record, len(recs))
			copy(rs, recs)
			for i := range rs {
				rs[i].ID = rs[i].ID + "-" + string(rune('a'+round%26)) + string(rune('a'+round/26%26))
			}
			res, err := db.StoreRecords(ctx, voucherwatch.TypeUsage, rs)
			if err != nil {
				b.Fatalf("hour %d: %v", h, err)
			}
			n += res.Stored
		}
		return float64(n) / time.Since(start).Seconds()
	}
	var singleRate, clusterRate float64
	b.ResetTimer()
	for i := range b.N {
		singleRate += rate(single, i)
		clusterRate += rate(cluster, i)
	}
	b.ReportMetric(singleRate/float64(b.N), "single_records/s")
	b.ReportMetric(clusterRate/float64(b.N), "cluster_records/s")
	b.ReportMetric(clusterRate/singleRate, "cluster/single")
}
