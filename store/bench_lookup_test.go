package store

import (
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"
)

// BenchmarkStoreLookupGranules is what record_keys' index granularity costs a batch's key
// look-up on a history of many parts: two databases hold the same 1.2 M usage keys in 12
// parts (merges held off), each part 50 hours of 2,000 resources, one in granules of 1,024
// rows (migration 28) and one rebuilt in granules of 8,192 (migration 13's table). Each op
// looks up the same 20,000 keys in both (10 hours, half of them stored), alternately and each
// first every other op. x_8192 is the look-up's time at 1,024 over its time at 8,192;
// rows_1024 and rows_8192 the key rows each look-up read.
func BenchmarkStoreLookupGranules(b *testing.B) {
	const parts, hours, resources = 12, 50, 2000
	fine, coarse := newTestDB(b), newTestDB(b)
	ctx := testContext(b)
	for _, q := range []string{
		"DROP TABLE record_keys",
		`CREATE TABLE record_keys (
	tbl String,
	at DateTime('Asia/Shanghai'),
	rec_hash UInt64,
	source String,
	id String,
	ingested_at DateTime('Asia/Shanghai')
) ENGINE = ReplacingMergeTree(ingested_at)
PARTITION BY toYear(at)
PRIMARY KEY (tbl, at, rec_hash)
ORDER BY (tbl, at, rec_hash, source, id)`,
	} {
		if err := coarse.conn.Exec(ctx, q); err != nil {
			b.Fatal(err)
		}
	}
	const keys = `INSERT INTO record_keys (tbl, at, rec_hash, source, id, ingested_at)
SELECT 'usage', toDateTime('2026-03-01 00:00:00', 'Asia/Shanghai') + 3600 * intDiv(number %% %[1]d, %[2]d), cityHash64(id), 'bench', concat('usage-', toString(number)) AS id, now()
FROM numbers(%[3]d, %[1]d)`
	for _, db := range []*DB{fine, coarse} {
		if err := db.conn.Exec(ctx, "SYSTEM STOP MERGES "+db.database+".record_keys"); err != nil {
			b.Fatal(err)
		}
		for p := range parts {
			if err := db.conn.Exec(ctx, fmt.Sprintf(keys, hours*resources, resources, p*hours*resources)); err != nil {
				b.Fatal(err)
			}
		}
	}
	// The batch: hours 20 to 29, the first part's 1,000 of each hour's resources stored and
	// 1,000 new.
	var ats []time.Time
	var hashes []uint64
	if err := fine.conn.QueryRow(ctx, `SELECT groupArray(at), groupArray(rec_hash) FROM (
	SELECT at, rec_hash FROM record_keys WHERE toUInt32(at) - toUInt32(toDateTime('2026-03-01 00:00:00', 'Asia/Shanghai')) BETWEEN 20 * 3600 AND 29 * 3600
	ORDER BY id LIMIT 1000 BY at)`).Scan(&ats, &hashes); err != nil {
		b.Fatal(err)
	}
	for i := range len(ats) {
		ats = append(ats, ats[i])
		hashes = append(hashes, hashes[i]^0x9e3779b97f4a7c15)
	}
	var read atomic.Uint64
	ctx = clickhouse.Context(ctx, clickhouse.WithProgress(func(p *clickhouse.Progress) { read.Add(p.Rows) }))
	var tFine, tCoarse time.Duration
	var rFine, rCoarse uint64
	ops := 0
	for b.Loop() {
		pair := []*DB{fine, coarse}
		if ops%2 == 1 {
			pair[0], pair[1] = coarse, fine
		}
		ops++
		for _, db := range pair {
			read.Store(0)
			start := time.Now()
			if _, err := db.storedKeys(ctx, "usage", ats, hashes); err != nil {
				b.Fatal(err)
			}
			if db == fine {
				tFine += time.Since(start)
				rFine += read.Load()
			} else {
				tCoarse += time.Since(start)
				rCoarse += read.Load()
			}
		}
	}
	b.ReportMetric(tFine.Seconds()/tCoarse.Seconds(), "x_8192")
	b.ReportMetric(float64(rFine)/float64(ops), "rows_1024")
	b.ReportMetric(float64(rCoarse)/float64(ops), "rows_8192")
}
