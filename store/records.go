package store

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"
	"github.com/ClickHouse/clickhouse-go/v2/ext"
	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/voucherwatch/voucherwatch"
)

// defaultLookupChunk is how many keys one look-up query carries at most, to bound the
// server's memory for the set.
const defaultLookupChunk = 200_000

// insertSQLs holds the INSERT of each record table.
var insertSQLs = func() map[voucherwatch.RecordType]string {
	m := make(map[voucherwatch.RecordType]string, len(recordTables))
	for typ, t := range recordTables {
		m[typ] = insertSQL(t)
	}
	return m
}()

// recordKey identifies a record.
type recordKey struct{ source, id string }

// pending is a record of the batch not known to be stored.
type pending struct {
	rec  *voucherwatch.Record
	hash uint64
	// at is the record's key time (recordTable.keyTime) in Unix seconds, read while the
	// record is at hand: once the batch is sorted, reading it through rec missed the cache.
	at int64
	// key is the record's sorting key, writeState.keys[key[0]:key[1]].
	key [2]uint32
}

// writeState is the working memory of one StoreRecords call, pooled across calls.
type writeState struct {
	// seen is the batch's records so far by their hash (RecordHash), as the index of the first
	// in pending; collided holds the (rare) records whose hash an earlier, different record
	// already has. A uint64 key costs the map a fraction of the two strings' hashing.
	seen     map[uint64]int32
	collided map[recordKey]struct{}
	pending  []pending
	sorting  []pending // sortPending's scratch
	keys     []byte
	recs     []*voucherwatch.Record
	hashes   []uint64
	ats      []time.Time
	s, peer  scratch // the fill's, and its second goroutine's
}

var writeStates = sync.Pool{New: func() any {
	return &writeState{seen: make(map[uint64]int32)}
}}

func (w *writeState) release() {
	clear(w.seen)
	w.collided = nil
	clear(w.pending[:cap(w.pending)])
	clear(w.sorting[:cap(w.sorting)])
	clear(w.recs[:cap(w.recs)])
	w.pending, w.keys, w.recs, w.hashes, w.ats = w.pending[:0], w.keys[:0], w.recs[:0], w.hashes[:0], w.ats[:0]
	w.s.release()
	writeStates.Put(w)
}

// add appends r, whose RecordHash is h, to the pending records unless an earlier record of
// the batch has its (source, id).
func (w *writeState) add(t recordTable, r *voucherwatch.Record, h uint64) {
	if j, ok := w.seen[h]; ok {
		if first := w.pending[j].rec; first.Source == r.Source && first.ID == r.ID {
			return
		}
		k := recordKey{r.Source, r.ID}
		if _, dup := w.collided[k]; dup {
			return
		}
		if w.collided == nil {
			w.collided = map[recordKey]struct{}{}
		}
		w.collided[k] = struct{}{}
	} else {
		w.seen[h] = int32(len(w.pending))
	}
	start := len(w.keys)
	w.keys = t.appendSortKey(w.keys, r)
	w.pending = append(w.pending, pending{r, h, t.keyTime(r).Unix(), [2]uint32{uint32(start), uint32(len(w.keys))}})
}

// split fills w.recs, w.hashes and w.ats from w.pending, the form the column writers and the
// look-up take.
func (w *writeState) split() {
	w.recs, w.hashes, w.ats = w.recs[:0], w.hashes[:0], w.ats[:0]
	for _, p := range w.pending {
		w.recs = append(w.recs, p.rec)
		w.hashes = append(w.hashes, p.hash)
		w.ats = append(w.ats, time.Unix(p.at, 0))
	}
}

// StoreRecords stores the records of one type that are not stored yet: each record once, by
// (source, id), also when it recurs within recs. It returns an EINVALID error when a record is
// not of type typ. One INSERT writes all new records, and their record_keys and rollup rows
// with them. The package documentation ("Each record once") says what "once" guarantees: a
// usage record is found by its window.
//
// Within one DB, concurrent calls for one type take turns, so that none stores a record
// another just stored; across processes, each INSERT waits for the INSERTs of its table that
// the server registered before it (insertQueryID) before looking its keys up. What can
// still store a record twice (the package documentation says what) is merged away by
// ReplacingMergeTree later, and readers that need exact answers before that use FINAL or count
// distinct (source, id), as StoredCount does.
func (db *DB) StoreRecords(ctx context.Context, typ voucherwatch.RecordType, recs []voucherwatch.Record) (voucherwatch.WriteResult, error) {
	p, err := db.prepareBatch(typ, recs)
	if err != nil || p == nil {
		return voucherwatch.WriteResult{}, err
	}
	defer p.Release()
	return db.storePrepared(ctx, p)
}

// Prepared is a batch of one record type checked, rid of the records it repeats and put in
// its table's order (PrepareRecords), waiting for its turn to be stored (StorePrepared). That
// work is the batch's own, independent of the server and of other writers, so a consumer does
// it while the batch before is being stored.
type Prepared struct {
	typ  voucherwatch.RecordType
	t    recordTable
	recs []voucherwatch.Record
	w    *writeState
	used bool
}

// Records returns the batch's records as given.
func (p *Prepared) Records() []voucherwatch.Record { return p.recs }

// Release gives the batch's working memory back; the batch cannot be stored after.
func (p *Prepared) Release() {
	if p.w != nil {
		p.w.release()
		p.w = nil
	}
}

// PrepareRecords does a batch's own work before its turn to be stored: it checks the records'
// type (an EINVALID error, as StoreRecords), drops the records that repeat an earlier one of
// the batch and sorts the rest into the table's order. StorePrepared stores the result once;
// StoreRecords is PrepareRecords and StorePrepared in one.
func (db *DB) PrepareRecords(typ voucherwatch.RecordType, recs []voucherwatch.Record) (voucherwatch.PreparedRecords, error) {
	p, err := db.prepareBatch(typ, recs)
	if err != nil {
		return nil, err
	}
	if p == nil {
		return &Prepared{typ: typ}, nil
	}
	return p, nil
}

// StorePrepared stores a batch prepared by PrepareRecords, as StoreRecords stores it. A batch
// is stored once: after an error, store its records with StoreRecords.
func (db *DB) StorePrepared(ctx context.Context, prepared voucherwatch.PreparedRecords) (voucherwatch.WriteResult, error) {
	p, ok := prepared.(*Prepared)
	if !ok {
		return voucherwatch.WriteResult{}, voucherwatch.Errorf(voucherwatch.EINVALID, "store: store prepared records: a batch of type %T", prepared)
	}
	if p.used || (p.w == nil && len(p.recs) > 0) {
		return voucherwatch.WriteResult{}, voucherwatch.Errorf(voucherwatch.EINVALID, "store: store prepared records: the batch was stored or released before")
	}
	p.used = true
	if len(p.recs) == 0 {
		return voucherwatch.WriteResult{}, nil
	}
	return db.storePrepared(ctx, p)
}

// prepareBatch is PrepareRecords; nil for no records.
func (db *DB) prepareBatch(typ voucherwatch.RecordType, recs []voucherwatch.Record) (*Prepared, error) {
	t, ok := recordTables[typ]
	if !ok {
		return nil, voucherwatch.Errorf(voucherwatch.EINVALID, "store: store records: unknown record type %q", typ)
	}
	for i := range recs {
		if r := &recs[i]; r.Type != typ || !t.hasBody(r) {
			return nil, voucherwatch.Errorf(voucherwatch.EINVALID,
				"store: store %s records: record %d (source %q, id %q) has type %q or lacks its body", t.name(), i, r.Source, r.ID, r.Type)
		}
	}
	if len(recs) == 0 {
		return nil, nil
	}

	w := writeStates.Get().(*writeState)
	for i := range recs {
		r := &recs[i]
		w.add(t, r, RecordHash(r.Source, r.ID))
	}
	// A block in the table's order takes the server half the work of an unordered one.
	w.sorting = sortPending(w.pending, w.keys, w.sorting)
	w.split()
	return &Prepared{typ: typ, t: t, recs: recs, w: w}, nil
}

// storePrepared stores p, which it may do once (its pending records shrink to those not found
// stored).
func (db *DB) storePrepared(ctx context.Context, p *Prepared) (voucherwatch.WriteResult, error) {
	typ, t, recs, w := p.typ, p.t, p.recs, p.w
	var st voucherwatch.WriteStages
	mark := time.Now()
	lap := func(d *time.Duration) {
		now := time.Now()
		*d += now.Sub(mark)
		mark = now
	}
	turn := db.writing[typ]
	select {
	case turn <- struct{}{}:
	case <-ctx.Done():
		return voucherwatch.WriteResult{}, fmt.Errorf("store: store %s records: %w", t.name(), context.Cause(ctx))
	}
	defer func() { <-turn }()
	lap(&st.Turn)

	// Almost every batch is all new, so the client fills the INSERT while the server looks
	// the keys up; a batch with stored records is filled again without them, under a new
	// INSERT that waits its turn again (see insertQueryID).
	type lookup struct {
		stored       map[recordKey]bool
		err          error
		lookUp, wait time.Duration
	}
	var b driver.Batch
	found := map[recordKey]bool{}
	var qid string
	for {
		qid = db.insertQueryID(t.name())
		var err error
		// The one decision whether this batch goes in blocks: the fill sends blocks only of an
		// INSERT whose settings have the server squash them.
		opts := []clickhouse.QueryOption{clickhouse.WithQueryID(qid)}
		flush := db.flushBlock()
		if flush > 0 && len(w.pending) > flush {
			opts = append(opts, clickhouse.WithSettings(flushedBlocks(len(w.pending))))
		} else {
			flush = 0
		}
		if b, err = db.conn.PrepareBatch(clickhouse.Context(ctx, opts...), insertSQLs[typ]); err != nil {
			return voucherwatch.WriteResult{}, fmt.Errorf("store: insert %s batch: %w", t.name(), err)
		}
		lap(&st.Prepare)
		lookedCh := make(chan lookup, 1)
		go func() {
			begin := time.Now()
			stored, earlier, err := db.lookUpKeys(ctx, t.name(), qid, w.ats, w.hashes)
			looked, waited := time.Since(begin), time.Duration(0)
			// This DB's own INSERTs that ended (sent, or abandoned before their data) are
			// still listed for a moment after: nothing to wait for.
			earlier = slices.DeleteFunc(earlier, func(id string) bool { return slices.Contains(db.ended[typ], id) })
			if err == nil && len(earlier) > 0 {
				// INSERTs registered before this one ran while the keys were read: once
				// they have ended, their records are found.
				if err = db.awaitInserts(ctx, t.name(), earlier); err == nil {
					stored, err = db.storedKeys(ctx, t.name(), w.ats, w.hashes)
				}
				waited = time.Since(begin) - looked
			}
			lookedCh <- lookup{stored, err, looked, waited}
		}()
		// A batch sent in blocks waits for the look-up before its first block: an INSERT
		// that has sent data cannot be taken back (18.16 writes what it has when the client
		// hangs up).
		var l lookup
		looked, gated := false, time.Duration(0)
		gate := func() error {
			begin := time.Now()
			l, looked = <-lookedCh, true
			gated = time.Since(begin)
			if l.err == nil && len(l.stored) > 0 {
				return errStoredFound
			}
			return l.err
		}
		err = db.fill(b, t, w, flush, gate)
		st.Fill += time.Since(mark) - gated
		if !looked {
			l = <-lookedCh
		}
		st.LookUp, st.Wait = st.LookUp+l.lookUp, st.Wait+l.wait
		mark = time.Now()
		if errors.Is(err, errStoredFound) {
			err = nil
		}
		if l.err != nil || err != nil {
			if w.s.flushed {
				db.markUnsure(typ, w.pending)
			}
			b.Abort()
			return voucherwatch.WriteResult{}, cmp.Or(l.err, err)
		}
		if len(l.stored) == 0 {
			break
		}
		b.Abort()
		db.endedInsert(typ, qid)
		st.Retries++
		for k := range l.stored {
			found[k] = true
		}
		w.pending = slices.DeleteFunc(w.pending, func(p pending) bool { return l.stored[recordKey{p.rec.Source, p.rec.ID}] })
		w.split()
		if len(w.pending) == 0 {
			b = nil
			break
		}
	}
	res := voucherwatch.WriteResult{Stored: len(w.pending), Duplicates: len(recs) - len(w.pending), Stages: st}
	// Records that this DB's failed INSERT may have stored after all (on a cluster, the
	// shards that answered; on one node, an INSERT that timed out on the client) are found
	// now: they are this batch's first storing, not redeliveries.
	if unsure := db.unsure[typ]; len(unsure) > 0 {
		for k := range found {
			if _, ok := unsure[k]; ok {
				res.Stored++
				res.Duplicates--
			}
		}
	}
	if len(w.pending) > 0 {
		if err := b.Send(); err != nil {
			db.markUnsure(typ, w.pending)
			return voucherwatch.WriteResult{}, fmt.Errorf("store: insert %s batch: %w", t.name(), err)
		}
		lap(&res.Stages.Send)
	}
	db.endedInsert(typ, qid)
	clear(db.unsure[typ])
	return res, nil
}

// markUnsure remembers the records of an INSERT that failed after sending some of them. Called
// holding typ's writing token.
func (db *DB) markUnsure(typ voucherwatch.RecordType, pending []pending) {
	unsure := db.unsure[typ]
	if unsure == nil {
		unsure = make(map[recordKey]struct{}, len(pending))
		db.unsure[typ] = unsure
	}
	for _, p := range pending {
		unsure[recordKey{p.rec.Source, p.rec.ID}] = struct{}{}
	}
}

// errStoredFound ends the fill of a batch in which the look-up found stored records.
var errStoredFound = errors.New("store: stored records found")

// flushBlock is how many records an INSERT sends per block; 0 or less: the whole batch in one.
func (db *DB) flushBlock() int {
	if db.flushRows == 0 {
		return defaultFlushRows
	}
	return db.flushRows
}

// flushedBlocks are the settings of an INSERT of rows records sent in blocks. The server
// squashes blocks smaller than these into one before its views and its table see them (18.16
// and current releases alike): one part per table, written once the last block is in. On a
// cluster the engine inserts through Distributed tables with insert_distributed_sync, which
// 18.16 does not squash, so there a batch stays one block (flushRows -1).
func flushedBlocks(rows int) clickhouse.Settings {
	return clickhouse.Settings{"min_insert_block_size_rows": rows + 1, "min_insert_block_size_bytes": 1 << 40}
}

// endedInsert remembers that this DB's INSERT qid of typ ended, the last few per type. Called
// holding typ's writing token.
func (db *DB) endedInsert(typ voucherwatch.RecordType, qid string) {
	ended := db.ended[typ]
	if len(ended) == 8 {
		ended = append(ended[:0], ended[1:]...)
	}
	db.ended[typ] = append(ended, qid)
}

// storedKeys returns the records among those with the given key times and hashes that
// record_keys holds. Source and id are compared, not only the hash, so a collision cannot hide
// a new record.
//
// The keys travel as an external table, binary columns beside the query: 18.16 takes about
// 6 µs per key to parse a literal IN list, which would cost more than the insert itself. Both
// IN conditions are on the primary key (tbl, at, rec_hash), so the server reads the granules
// of the batch's key times only, whatever else the table holds: the cost follows the batch
// and the records stored at its times (a province's resources for one hour), not the history.
func (db *DB) storedKeys(ctx context.Context, tbl string, ats []time.Time, hashes []uint64) (map[recordKey]bool, error) {
	stored, _, err := db.lookUpKeys(ctx, tbl, "", ats, hashes)
	return stored, err
}

// lookUpKeys is storedKeys for the INSERT own, registered on the server: its first query also
// lists, before it reads a key, the INSERTs of the table running then (a scalar subquery of
// system.processes, evaluated before the table is read), and it returns those registered
// before own (insertQueryID says why). None: the keys read are final. Some: the caller
// waits for them and looks the keys up again. One query, not two: a query of its own cost a
// loaded server's round trip per batch (BenchmarkStoreUsageInsertOrder).
func (db *DB) lookUpKeys(ctx context.Context, tbl, own string, ats []time.Time, hashes []uint64) (map[recordKey]bool, []string, error) {
	var stored map[recordKey]bool
	var earlier []string
	running := own != "" && !db.unordered
	for len(hashes) > 0 {
		n := min(db.lookupChunk, len(hashes))
		keys, err := ext.NewTable("batch_keys", ext.Column("at", "DateTime"), ext.Column("rec_hash", "UInt64"))
		if err == nil {
			_, err = keys.Block().Columns[0].Append(ats[:n])
		}
		if err == nil {
			_, err = keys.Block().Columns[1].Append(hashes[:n])
		}
		if err != nil {
			return nil, nil, fmt.Errorf("store: look up %s keys: %w", tbl, err)
		}
		ats, hashes = ats[n:], hashes[n:]
		kctx := clickhouse.Context(ctx, clickhouse.WithExternalTable(keys))
		// rec_hash IN is the PREWHERE: left to itself, 18.16 moves tbl = ? there, which
		// every row of the granules read passes, and then reads source and id of all of
		// them, about 130 bytes a row, where the batch's keys match a few. The granules of
		// a weekly backfill's window starts hold every other record of those hours; with
		// this PREWHERE a look-up reads a seventh of the bytes and half the server's CPU
		// (docs/benchmarks.md, eleventh session).
		const where = " FROM record_keys PREWHERE rec_hash IN (SELECT rec_hash FROM batch_keys) WHERE tbl = ? AND at IN (SELECT at FROM batch_keys)"
		if running && db.cluster != "" {
			// On a cluster record_keys is a Distributed table, and 18.16 evaluates the
			// scalar subquery twice for it, failing on the two values ("Different
			// expressions with the same alias"): the list is a query of its own there.
			running = false
			prefix := db.insertQueryPrefix(tbl)
			var ids []string
			var elapsed []float64
			if err := db.conn.QueryRow(ctx, "SELECT groupArray(query_id), groupArray(elapsed) FROM system.processes WHERE substring(query_id, 1, ?) = ?",
				uint64(len(prefix)), prefix).Scan(&ids, &elapsed); err != nil {
				return nil, nil, fmt.Errorf("store: %s: list running inserts: %w", tbl, err)
			}
			earlier = earlierInserts(own, ids, elapsed)
		}
		if running {
			running = false
			// running is a constant of the query, so it comes back also when no key is
			// stored (an aggregate of no rows would give an empty list).
			prefix := db.insertQueryPrefix(tbl)
			var ids, sources, recIDs []string
			var elapsed []float64
			err := db.conn.QueryRow(kctx, `WITH (SELECT (groupArray(query_id), groupArray(elapsed)) FROM system.processes
	WHERE substring(query_id, 1, `+fmt.Sprint(len(prefix))+`) = ?) AS running
SELECT tupleElement(running, 1), tupleElement(running, 2), groupArray(source), groupArray(id)`+where, prefix, tbl).
				Scan(&ids, &elapsed, &sources, &recIDs)
			if err != nil {
				return nil, nil, fmt.Errorf("store: look up %s keys: %w", tbl, err)
			}
			earlier = earlierInserts(own, ids, elapsed)
			for i := range sources {
				if stored == nil {
					stored = make(map[recordKey]bool)
				}
				stored[recordKey{sources[i], recIDs[i]}] = true
			}
			continue
		}
		rows, err := db.conn.Query(kctx, "SELECT source, id"+where, tbl)
		if err != nil {
			return nil, nil, fmt.Errorf("store: look up %s keys: %w", tbl, err)
		}
		for rows.Next() {
			var k recordKey
			if err := rows.Scan(&k.source, &k.id); err != nil {
				rows.Close()
				return nil, nil, fmt.Errorf("store: look up %s keys: %w", tbl, err)
			}
			if stored == nil {
				stored = make(map[recordKey]bool)
			}
			stored[k] = true
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, nil, fmt.Errorf("store: look up %s keys: %w", tbl, err)
		}
	}
	return stored, earlier, nil
}

// fill appends w.recs to the INSERT b, column by column; with flush above 0 it sends them in
// blocks of flush records, calling gate before the first (see table.write).
func (db *DB) fill(b driver.Batch, t recordTable, w *writeState, flush int, gate func() error) error {
	w.s.hashes, w.s.ingestedAt, w.s.chunk = w.hashes, db.now(), db.fillChunk
	w.s.peer, w.s.parallel = &w.peer, db.parallelFill
	w.s.flush, w.s.gate, w.s.flushed = flush, gate, false
	if err := t.write(b, w.recs, &w.s); err != nil {
		return fmt.Errorf("store: insert %s batch: %w", t.name(), err)
	}
	return nil
}

// StoredCount returns how many distinct records of a type are stored. It is exact also while
// copies that racing writers stored are not merged yet.
func (db *DB) StoredCount(ctx context.Context, typ voucherwatch.RecordType) (uint64, error) {
	t, ok := recordTables[typ]
	if !ok {
		return 0, voucherwatch.Errorf(voucherwatch.EINVALID, "store: stored count: unknown record type %q", typ)
	}
	var n uint64
	if err := db.conn.QueryRow(ctx, "SELECT uniqExact(source, id) FROM "+t.name()).Scan(&n); err != nil {
		return 0, fmt.Errorf("store: count %s: %w", t.name(), err)
	}
	return n, nil
}
