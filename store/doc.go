// Package store keeps the engine's records in ClickHouse: connection and migrations, the
// writers of records and dead letters, and the counts of the status endpoint. The SQL runs on
// ClickHouse 18.16 and on current ClickHouse: no LowCardinality, DateTime64, Map, JSON or Bool
// (flags are UInt8), and every INSERT lists its columns.
//
// The schema is the list of migrations in migrations.go, oldest first: every table, view and
// column is created there and nowhere else, so read it for the columns; this comment says only
// what they promise.
//
// # Record tables
//
// One table per record type (registry, contracts, settlements, usage, claims), one row per
// record. Nested lists are parallel Array columns, so that one INSERT stores whole records and
// ARRAY JOIN unfolds them: element i of every item_* column of a contract describes its item i.
// Every record table starts with the envelope (source, id, rec_hash, event_time) and where the
// record came from (kafka_topic, kafka_partition, kafka_offset, ingested_at). Money is
// Decimal(18, 2) yuan, exact; dates are Date, a missing one 1970-01-01 except where a column is
// Nullable; timestamps are DateTime('Asia/Shanghai'). People appear only as the keyed hash of
// their identity number (*_person_key) and its masked form (*_masked), never the number.
// usage is partitioned by year of window_start (by month before the migration "record keys by
// time", which rebuilt it): a backfill batch spanning a year writes one part, not twelve.
//
// # Each record once
//
// (source, id) identifies a record; rec_hash is RecordHash(source, id). A materialized view on
// each record table writes (tbl, at, rec_hash, source, id) to record_keys within the record's
// own INSERT, so a record is stored if and only if its key is. at is a usage record's
// window_start and the epoch for the other types. StoreRecords looks the batch's (at,
// rec_hash) pairs up there, through the primary key (tbl, at, rec_hash), and inserts only the
// records not found: the look-up reads the keys stored at the batch's windows (a province's
// resources for each hour the batch covers), not the history, and the other types' keys whole
// (a province holds some hundred thousand).
//
// The guarantee, precisely:
//   - A redelivered record (a crash between the INSERT and the Kafka commit, a rebalance) is
//     the same message, so it has the same window and is found: it is stored once.
//   - A usage record re-sent by its supplier under the same (source, id) with the same window
//     is found and stored once. A re-send that moves the window under the same (source, id)
//     (which the contract's "same pair is the same record" rules out for an unchanged record)
//     is not found and is stored beside the first; counts of distinct (source, id), such as
//     StoredCount, still count one record, and the rollups count both.
//   - Contracts, settlements, claims and registry records re-sent under the same (source, id)
//     are found whatever else changed, their envelope time included.
//   - Within one process, concurrent calls for one type take turns. Across processes the
//     server's process list orders them (insert_order.go): each INSERT carries a query id
//     naming the database and table, and after registering it a writer waits for the INSERTs
//     of the table registered before its own to end, then looks its keys up. So of two engine
//     instances storing one record at once (a record produced twice to two partitions, a
//     rebalance in the middle of a batch), the later finds it stored, and a killed process's
//     INSERT that the server is still writing is waited for by the next life's look-up.
//   - A batch larger than defaultFlushRows is sent in blocks that the server squashes into
//     one (flushedBlocks), and only once the look-up has answered. 18.16 writes the blocks it
//     has when the client hangs up: a process killed while sending leaves the batch's first
//     blocks stored, and the next life finds them and stores the rest.
//   - What can still store a record twice: two INSERTs registered within the microseconds the
//     server takes to list its queries (each may seem the earlier to its writer), instances
//     of a cluster connected to different nodes (each sees its own node's list), and copies
//     written past StoreRecords. The record tables are ReplacingMergeTree(ingested_at) with
//     sorting keys that end with (source, id), so such copies are equal in the sorting key and
//     a merge keeps one; until then, a query that must be exact reads with FINAL or counts
//     distinct (source, id), e.g. uniqExact(source, id) or LIMIT 1 BY source, id.
//   - The rollups (usage_spans and usage_runs' spans behind usage_days, settlements_daily) are sums: such copies
//     stay counted twice there, merges or not, until the rebuild of dashboards/README.md;
//     voucherwatch check reports them.
//   - The detectors' usage rollup usage_runs (migration 18) counts a group's records beside
//     the mask of its window slots: a group holding such a copy has more records than slots
//     and is read from usage by key, deduplicated there, so the usage sweeps stay exact;
//     usage_foreign_logins (migration 19) is read counting each window once.
//
// The rollups (usage_spans, settlements_daily) are written by materialized views within the
// records' INSERT, so they hold exactly the records stored: a record found is added nowhere.
// usage_spans_short_mv adds each insert block's windows shorter than a day up by window span
// and key, no finer than the data: windows within one day by (day, key), the others by
// (start, end, key). A window of a day or more (migration 30) is the only one of its
// usage_runs group, so it is a tuple there (run_spans: chip origin, card-hours, utilised
// card-hours) and writes no usage_spans row: a week-long window is one row, not seven, and
// one part fewer per INSERT (a quarter of the server's CPU on a weekly backfill). The view
// usage_days spreads both kinds of span over days when read (the arithmetic of the migration
// "usage rolled up by window span") and adds usage_daily, the per-day rollup written before
// that migration and no more: readers of daily usage query usage_days.
//
// Yearly partitions (usage, usage_daily, usage_spans, record_keys) keep a batch that spans a year of
// windows, a supplier's backfill, in one or two parts per table: monthly partitions made it
// twelve per table, which was most of such a batch's insert time.
//
// On a ClickHouse cluster (WithCluster, cluster.go, docs/cluster.md) the same migrations create
// Replicated* twins: the big tables sharded under Distributed tables, the small ones on every
// node; the views read and write local tables, so a record and its keys and rollup rows land on
// one shard within one INSERT, and Check compares every derived table with the records.
//
// # Keyed look-ups
//
// Claims are sorted by applicant and settlements by supplier, but the incremental checks look
// them up by invoice, claim id, (buyer, contract) and payment reference. lookup_keys maps each
// such key (kind, k) to the sorting-key prefix of the records carrying it (owner: a claim's
// applicant_uscc, a settlement's supplier_uscc; with claim_id or the invoice), ordered by
// (kind, k): LatestClaims and LatestSettlements with keys, and SettlementsSharingPaymentRef
// with references, read a few granules of lookup_keys and then every version of the records
// found through the record table's primary key, whatever the history's size. Materialized
// views write the keys within the records' own INSERT, as record_keys is written, so a record
// is stored if and only if its keys are; the migration that created them wrote the keys of
// the records stored before. Its rows are a set (copies are harmless; merges collapse them).
//
// # Versions
//
// Registry entities and contracts keep every version; the newest event_time wins. The views
// registry_latest (one row per uscc) and contracts_latest (one per supplier_uscc,
// contract_no) give the latest versions, whole rows, so no column mixes two versions: query
// them rather than argMax(column, event_time) per column. A migration that adds a column to
// registry or contracts must recreate its view, which 18.16 stores with a fixed column list.
//
// # Dead letters
//
// dead_letters holds every rejected message once per (kafka_topic, kafka_partition,
// kafka_offset), its ReplacingMergeTree sorting key, with the reason (masked) and a redacted
// copy of the message (personal numbers masked, cut at a bound, the row saying so). The raw
// bytes stay only on the dead-letter topic. Rows older than the retention are deleted by a
// mutation (PruneDeadLetters): 18.16 has no TTL. See docs/deadletters.md.
//
// # Workflow log and users
//
// alert_events is the supervision workflow's append-only log (events.go): a plain MergeTree
// that nothing updates or deletes, one row per event (transition, assignment, proposal) with
// its actor, the statuses it moves between and the alert's evidence when it was recorded,
// which is what a dismissal is compared with when detectors re-run (reopen.go). An alert's
// status is the to_status of its latest event, new when it has none. events.go says what the
// optimistic check of concurrent moves guarantees and what it does not across instances.
//
// users holds one row per version of a user (ReplacingMergeTree(version), ORDER BY id). A
// bearer token is kept only as its SHA-256, a password only as its bcrypt hash.
package store
