// Package store keeps the engine's records in ClickHouse: connection and migrations, the
// writers of records and dead letters, and the counts of the status endpoint. The SQL runs on
// ClickHouse 18.16 and on current ClickHouse: no LowCardinality, DateTime64, Map, JSON or Bool
// (flags are UInt8), and every INSERT lists its columns.
//
// # Record tables
//
// One table per record type, one row per record. Nested lists are parallel Array columns, so
// that one INSERT stores whole records and ARRAY JOIN unfolds them: element i of every item_*
// column of a contract describes its item i.
//
//	registry     registry.entity.v1  ORDER BY (uscc, source, id)
//	             uscc, name, city (division code), addresses, registered_on, is_sme,
//	             legal_rep_{name,person_key,masked,phone,email},
//	             contact_{name,person_key,masked,phone,email}[],
//	             holder_{kind,uscc,person_key,masked,name,pct}[],
//	             officer_{role,person_key,name,masked,phone,email}[],
//	             bank_{name,account_no}[], seriously_dishonest, major_violation_within_3y,
//	             is_supplier, supplier_registered, supplier_registered_on, idc_license,
//	             capacity_{chip_model,chip_origin,cards,datacenter}[]
//	contracts    contract.v1         ORDER BY (supplier_uscc, contract_no, source, id)
//	             contract_no, name, supplier_uscc, buyer_uscc, signed_on, service_start,
//	             service_end, amount, item_{service_type,chip_model,chip_origin,cards,
//	             unit_price,unit,quantity,amount}[], datacenter, via_platform,
//	             filed_on (Nullable: NULL when not filed), domains[], purposes[]
//	settlements  settlement.v1       ORDER BY (supplier_uscc, invoice_code, invoice_no, source, id)
//	             settlement_id, contract_no, supplier_uscc, buyer_uscc, invoice_code,
//	             invoice_no, invoice_date, amount, tax, payment_ref, paid_on, payer_account,
//	             payee_account, period_start, period_end, item_*[] as in contracts
//	usage        usage.v1            ORDER BY (supplier_uscc, resource_id, window_start, source, id)
//	             PARTITION BY toYear(window_start) (monthly before migration 40)
//	             supplier_uscc, buyer_uscc, contract_no, tenant, resource_id, chip_model,
//	             chip_origin, cards, window_start, window_end, card_hours, util_avg, jobs,
//	             users, login_orgs[], datacenter
//	claims       claim.v1            ORDER BY (applicant_uscc, claim_id, source, id)
//	             claim_id, applicant_uscc, round, submitted_on, city, via_platform,
//	             contract_no[] (the contracts claimed), invoice_{code,no,amount}[],
//	             usage_amount, requested, chip_origin, bank_account
//
// Every record table starts with source, id, rec_hash, event_time (the envelope's time),
// kafka_topic, kafka_partition, kafka_offset and ingested_at. Money is Decimal(18, 2) yuan,
// exact; dates are Date, a missing one 1970-01-01 (shown 0000-00-00) except filed_on;
// timestamps are DateTime('Asia/Shanghai'). People appear only as the keyed hash of their
// identity number (*_person_key) and its masked form (*_masked), never the number.
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
//   - Within one process, concurrent calls for one type take turns. Two processes (engine
//     instances in one consumer group hold different Kafka partitions, so this takes a
//     record produced twice to two partitions, or a rebalance in the middle of a batch) can
//     both find a record missing and both insert it. The record tables are
//     ReplacingMergeTree(ingested_at) with sorting keys that end with (source, id), so such
//     copies are equal in the sorting key and a merge keeps one; until then, a query that
//     must be exact reads with FINAL or counts distinct (source, id), e.g. uniqExact(source,
//     id) or LIMIT 1 BY source, id.
//
// The daily rollups (usage_daily, settlements_daily) are written by materialized views within
// the records' INSERT, so they hold exactly the records stored: a record found is added
// nowhere. usage_daily_block_mv adds each insert block up by day before writing it (a
// week-long window is one seven-day share among the block's rows of each day, not seven rows
// of its own).
//
// Yearly partitions (usage, usage_daily, record_keys) keep a batch that spans a year of
// windows, a supplier's backfill, in one or two parts per table: monthly partitions made it
// twelve per table, which was most of such a batch's insert time.
//
// On a cluster the record tables and record_keys would be sharded alike (by supplier or by
// rec_hash), and the views fire on the shard that receives the record's local INSERT, so a
// record and its key land on one shard and the look-up of a shard's batch is local.
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
// kafka_offset), the ReplacingMergeTree sorting key: kafka_key, value (the original bytes, cut
// at 64 KiB, value_truncated and value_bytes saying so), source, id, supplier, reason, at.
//
// # Workflow log and users
//
// alert_events is the supervision workflow's append-only log (events.go): a plain MergeTree
// that nothing updates or deletes. Each row is one event: event_id, alert_id, kind
// (transition, assignment, proposal), seq (nanoseconds, increasing along an alert's history),
// at, the actor (actor_id, actor_name, actor_role), from_status and to_status (equal for
// events that change no status), comment, deadline (explanation requests), amount (recovery
// orders), assignee_id and assignee_name (assignments), proposed_to (proposals) and evidence
// (the alert's evidence when the event was recorded, which is what a dismissal is compared with
// when detectors re-run, reopen.go). An alert's status is to_status of its latest event, new
// when it has none. events.go says what the optimistic check of concurrent moves guarantees
// and what it does not across instances.
//
// users holds one row per version of a user (ReplacingMergeTree(version), ORDER BY id): id,
// name, role, city, token_hash (hex SHA-256 of the bearer token; the token itself is never
// stored), password_hash (for the web UI, empty until then), disabled, created_at, updated_at.
package store
