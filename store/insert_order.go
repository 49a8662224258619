package store

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"time"
)

// DefaultInsertWait bounds how long a batch waits for the INSERTs of its table that started
// before its own (awaitEarlierInserts).
const DefaultInsertWait = 2 * time.Minute

// insertQueryID names one INSERT of StoreRecords on the server: the prefix of the database and
// table, then random, unique among the server's running queries.
func (db *DB) insertQueryID(tbl string) string {
	var r [8]byte
	_, _ = rand.Read(r[:])
	return db.insertQueryPrefix(tbl) + hex.EncodeToString(r[:])
}

func (db *DB) insertQueryPrefix(tbl string) string {
	return "voucherwatch-insert:" + db.database + "." + tbl + ":"
}

// awaitEarlierInserts waits until every INSERT of StoreRecords into tbl that the server
// started before own (an INSERT already registered by PrepareBatch) has ended, by the
// server's process list. Called between registering an INSERT and looking its batch's keys
// up, it orders the writers of one table across processes as the writing token orders them
// within one: a look-up sees every record of an INSERT registered before its own, so of two
// writers of one record the later finds it stored. "Before" is by the server's elapsed time
// of each query; two INSERTs registered within the few microseconds the server takes to list
// its queries can each seem the earlier, and then both store.
//
// That covers what the token cannot: another engine instance storing the same record at the
// same moment (a record produced twice to two partitions, a rebalance in the middle of a
// batch), and a killed process's INSERT that the server is still writing when the next life
// looks the keys up. Both made copies that the sum rollups (usage_spans, settlements_daily)
// counted twice. A writer waits only for INSERTs registered before its own, so the earliest
// never waits and there is no deadlock. An INSERT whose client died is ended by the server
// when it reads the closed connection.
//
// On a cluster the process list is the node's the engine is connected to: instances connected
// to different nodes are not ordered (docs/ingest-dedup.md).
func (db *DB) awaitEarlierInserts(ctx context.Context, tbl, own string) error {
	if db.unordered {
		return nil
	}
	prefix := db.insertQueryPrefix(tbl)
	rows, err := db.conn.Query(ctx, "SELECT query_id, elapsed FROM system.processes WHERE substring(query_id, 1, ?) = ?",
		uint64(len(prefix)), prefix)
	if err != nil {
		return fmt.Errorf("store: %s: list running inserts: %w", tbl, err)
	}
	type running struct {
		id      string
		elapsed float64
	}
	var others []running
	ownElapsed := -1.0
	for rows.Next() {
		var r running
		if err := rows.Scan(&r.id, &r.elapsed); err != nil {
			rows.Close()
			return fmt.Errorf("store: %s: list running inserts: %w", tbl, err)
		}
		if r.id == own {
			ownElapsed = r.elapsed
			continue
		}
		others = append(others, r)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("store: %s: list running inserts: %w", tbl, err)
	}
	// Earlier is what has run longer. The server computes each row's elapsed as it lists
	// it, a few microseconds apart, so two INSERTs registered within those microseconds may
	// each seem the earlier to its own writer, and both store (docs/ingest-dedup.md). The
	// list's own order is no help: it is not the order of registration.
	var earlier []string
	for _, r := range others {
		// Not listed (another node of a cluster took the INSERT): every INSERT running now
		// started before this look-up.
		if ownElapsed < 0 || r.elapsed > ownElapsed || (r.elapsed == ownElapsed && r.id < own) {
			earlier = append(earlier, r.id)
		}
	}
	if len(earlier) == 0 {
		return nil
	}
	deadline := time.Now().Add(db.insertWait)
	pause := 5 * time.Millisecond
	for {
		var n uint64
		if err := db.conn.QueryRow(ctx, "SELECT count() FROM system.processes WHERE has(?, query_id)", earlier).Scan(&n); err != nil {
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
