package store

import (
	"bytes"
	"slices"
	"strconv"
	"testing"

	"github.com/voucherwatch/voucherwatch"
	"github.com/voucherwatch/voucherwatch/ingest"
	"github.com/voucherwatch/voucherwatch/synth"
)

// BenchmarkFillUsage is the client's side of an INSERT: filling a prepared batch with 20,000
// usage records as ingest decodes them (each record's strings in its own message), sorted as
// StoreRecords sorts them, column by column over the whole batch (chunk=20000, as before) and
// in chunks of defaultFillChunk records, in one run. The batch is aborted, never sent.
func BenchmarkFillUsage(b *testing.B) {
	const size = 20_000
	db := newTestDB(b)
	ctx := testContext(b)
	recs := decodedUsage(b, size)
	w := &writeState{}
	for i := range recs {
		w.pending = append(w.pending, pendingFor(usageTable, &recs[i]))
	}
	slices.SortFunc(w.pending, func(x, y pending) int {
		return bytes.Compare(usageTable.appendSortKey(nil, x.rec), usageTable.appendSortKey(nil, y.rec))
	})
	w.split()
	for _, n := range []int{size, defaultFillChunk} {
		b.Run("chunk="+strconv.Itoa(n), func(b *testing.B) {
			db.fillChunk = n
			b.ReportAllocs()
			for b.Loop() {
				batch, err := db.conn.PrepareBatch(ctx, insertSQLs[voucherwatch.TypeUsage])
				if err != nil {
					b.Fatal(err)
				}
				if err := db.fill(batch, usageTable, w, 0, nil); err != nil {
					b.Fatal(err)
				}
				if err := batch.Abort(); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*size), "ns/record")
		})
	}
}

// BenchmarkPrepareUsage is a usage batch's preparation before its turn to be stored
// (PrepareRecords): 100,000 records as ingest decodes them, each in its own message, dropped
// when repeated, keyed and sorted into the table's order.
func BenchmarkPrepareUsage(b *testing.B) {
	const size = 100_000
	recs := decodedUsage(b, size)
	db := &DB{}
	b.ReportAllocs()
	for b.Loop() {
		p, err := db.prepareBatch(voucherwatch.TypeUsage, recs)
		if err != nil {
			b.Fatal(err)
		}
		p.Release()
	}
}

// decodedUsage is n usage records of synth's stream as ingest decodes them, each record's
// strings in its own message.
func decodedUsage(b *testing.B, n int) []voucherwatch.Record {
	d := &ingest.Decoder{PIIKey: []byte("k")}
	recs := make([]voucherwatch.Record, 0, n)
	if err := synth.UsageStream(5, n, func(m synth.Message) error {
		r, err := d.Decode(voucherwatch.TypeUsage, bytes.Clone(m.Value))
		recs = append(recs, r)
		return err
	}); err != nil {
		b.Fatal(err)
	}
	return recs
}
