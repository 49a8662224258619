package store

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"time"
)

// DefaultInsertWait bounds how long a batch waits for the INSERTs of its table that started
// before its own (awaitInserts).
const DefaultInsertWait = 2 * time.Minute

// insertQueryID names one INSERT of StoreRecords on the server: the prefix of the database and
// table, then random, unique among the server's running queries.
//
// The names order the writers of one table across processes, as the writing token orders them
// within one. StoreRecords registers its INSERT (PrepareBatch) before it looks the batch's keys
// up, and the look-up's query lists, before it reads a key, the INSERTs of the table running
// then (lookUpKeys); when some registered before its own, it waits for them to end
// (awaitInserts) and looks the keys up again. So a look-up sees every record of an INSERT
// registered before its own, and of two writers of one record the later finds it stored:
// another engine instance storing the same record at the same moment (a record produced twice
// to two partitions, a rebalance in the middle of a batch), or a killed process's INSERT that
// the server is still writing when the next life looks the keys up. Both made copies that the
// sum rollups (usage_spans, settlements_daily) counted twice. A writer waits only for INSERTs
// registered before its own, so the earliest never waits and there is no deadlock. An INSERT
// whose client died is ended by the server when it reads the closed connection.
//
// "Before" is by the server's elapsed time of each query (earlierInserts): two INSERTs
// registered within the few microseconds the server takes to list its queries can each seem
// the earlier, and then both store. On a cluster the process list is the node's the engine is
// connected to: instances connected to different nodes are not ordered (docs/ingest-dedup.md).
func (db *DB) insertQueryID(tbl string) string {
	var r [8]byte
	_, _ = rand.Read(r[:])
	return db.insertQueryPrefix(tbl) + hex.EncodeToString(r[:])
}

func (db *DB) insertQueryPrefix(tbl string) string {
	return "voucherwatch-insert:" + db.database + "." + tbl + ":"
}

// earlierInserts returns the INSERTs among ids, listed with their elapsed seconds in one
// read of the process list, that registered before own. Earlier is what has run longer. The
// server computes each row's elapsed as it lists it, a few microseconds apart, so two INSERTs
// registered within those microseconds may each seem the earlier to its own writer, and both
// store (docs/ingest-dedup.md). The list's own order is no help: it is not the order of
// registration. When own is not listed (another node of a cluster took it), every INSERT
// listed started before the read.
func earlierInserts(own string, ids []string, elapsed []float64) []string {
	ownElapsed := -1.0
	for i, id := range ids {
		if id == own {
			ownElapsed = elapsed[i]
		}
	}
	var earlier []string
	for i, id := range ids {
		if id != own && (ownElapsed < 0 || elapsed[i] > ownElapsed || (elapsed[i] == ownElapsed && id < own)) {
			earlier = append(earlier, id)
		}
	}
	return earlier
}

// awaitInserts waits until none of the queries ids runs any more, at most db.insertWait.
func (db *DB) awaitInserts(ctx context.Context, tbl string, ids []string) error {
	if len(ids) == 0 {
		return nil
	}
	deadline := time.Now().Add(db.insertWait)
	pause := 5 * time.Millisecond
	for {
		var n uint64
		if err := db.conn.QueryRow(ctx, "SELECT count() FROM system.processes WHERE has(?, query_id)", ids).Scan(&n); err != nil {
			return fmt.Errorf("store: %s: wait for earlier inserts: %w", tbl, err)
		}
		if n == 0 {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("store: %s: %d earlier inserts still running after %v", tbl, n, db.insertWait)
		}
		select {
		case <-time.After(pause):
		case <-ctx.Done():
			return fmt.Errorf("store: %s: wait for earlier inserts: %w", tbl, context.Cause(ctx))
		}
		pause = min(2*pause, 100*time.Millisecond)
	}
}
