package store

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"

	"github.com/voucherwatch/voucherwatch"
)

// usageViews are the materialized views that fire on every INSERT into usage.
var usageViews = []string{"usage_record_keys", "usage_spans_short_mv", "usage_runs_short_mv", "usage_long_windows_mv", "usage_foreign_logins_mv", "usage_touched_log_mv"}

// BenchmarkUsageViewsServerCPU is what each view of usage costs the server per 20,000-record
// INSERT: the same block (20,000 records stored by StoreRecords, copied into a Memory table) is
// inserted with INSERT … SELECT into databases holding usage with all its views, none, and each
// view alone, in rounds, and the server's own CPU time of each INSERT (user and system, and the
// system time alone; system.query_log's ProfileEvents) is reported, median over the rounds, with the files the
// INSERT wrote (two per column of every part, and the part's own six). CPU time is what the
// shared machine's load moves least: wall time moved threefold between rounds here. The system
// time is the one that grows with the load: it follows the files written (about 0.1 ms per
// file on a quiet server, 0.6 ms with one other query running).
func BenchmarkUsageViewsServerCPU(b *testing.B) {
	configs := append([]string{"all", "none"}, usageViews...)
	for _, shape := range []struct {
		name string
		gen  func(from, to int) []voucherwatch.Record
	}{{"hourly", hourlyStream}, {"weekly_backfill", weeklyBackfill}} {
		b.Run(shape.name, func(b *testing.B) {
			ctx := testContext(b)
			src := newTestDB(b)
			if _, err := src.StoreRecords(ctx, voucherwatch.TypeUsage, shape.gen(0, viewsBlock())); err != nil {
				b.Fatal(err)
			}
			if err := src.conn.Exec(ctx, "CREATE TABLE usage_block ENGINE = Memory AS SELECT * FROM usage"); err != nil {
				b.Fatal(err)
			}
			cols := strings.Join(columnNames(usageTable.columns()), ", ")
			dbs := make(map[string]*DB, len(configs))
			for _, c := range configs {
				db := newTestDB(b)
				for _, v := range usageViews {
					if c != "all" && c != v {
						if err := db.conn.Exec(ctx, "DROP TABLE "+v); err != nil {
							b.Fatal(err)
						}
					}
				}
				dbs[c] = db
			}
			run := fmt.Sprintf("vwviews-%d", time.Now().UnixNano())
			rounds := 0
			for b.Loop() {
				for _, c := range configs {
					qctx := clickhouse.Context(ctx, clickhouse.WithQueryID(fmt.Sprintf("%s-%s-%d", run, c, rounds)),
						clickhouse.WithSettings(clickhouse.Settings{"log_queries": 1}))
					if err := dbs[c].conn.Exec(qctx, "INSERT INTO usage ("+cols+") SELECT "+cols+" FROM "+src.database+".usage_block"); err != nil {
						b.Fatal(err)
					}
				}
				rounds++
			}
			b.StopTimer()
			if err := src.conn.Exec(ctx, "SYSTEM FLUSH LOGS"); err != nil {
				b.Fatal(err)
			}
			for _, c := range configs {
				var cpu, sys, files float64
				var n uint64
				if err := src.conn.QueryRow(ctx, `SELECT count(), quantileExact(0.5)(usr + sys) / 1000, quantileExact(0.5)(sys) / 1000, toFloat64(max(files))
FROM (SELECT ProfileEvents.Values[indexOf(ProfileEvents.Names, 'UserTimeMicroseconds')] AS usr,
		ProfileEvents.Values[indexOf(ProfileEvents.Names, 'SystemTimeMicroseconds')] AS sys,
		ProfileEvents.Values[indexOf(ProfileEvents.Names, 'FileOpen')] AS files
	FROM system.query_log WHERE type = 2 AND startsWith(query_id, ?))`, run+"-"+c+"-").Scan(&n, &cpu, &sys, &files); err != nil {
					b.Fatal(err)
				}
				if n != uint64(rounds) {
					b.Fatalf("%s: %d INSERTs logged, want %d", c, n, rounds)
				}
				b.ReportMetric(cpu, c+"_cpu_ms")
				b.ReportMetric(sys, c+"_sys_ms")
				b.ReportMetric(files, c+"_files")
			}
		})
	}
}

func columnNames(cols []column) []string {
	names := make([]string, len(cols))
	for i, c := range cols {
		names[i] = c.name
	}
	return names
}

// viewsBlock is the block BenchmarkUsageViewsServerCPU inserts: 20,000 records, or
// VW_BENCH_BLOCK (the engine's batch is 100,000 since the seventh session).
func viewsBlock() int {
	if n, err := strconv.Atoi(os.Getenv("VW_BENCH_BLOCK")); err == nil && n > 0 {
		return n
	}
	return 20_000
}
