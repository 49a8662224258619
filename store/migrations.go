package store

import "slices"

// migrations is the schema's history, oldest first. A released migration never changes: its
// checksum is recorded in schema_migrations and Migrate refuses a database where a version was
// applied with different text. Change the schema by appending a migration.
//
// Every step must be safe to run again and to run concurrently with itself, because several
// engine instances migrate at start: CREATE ... IF NOT EXISTS, and addColumn instead of ALTER
// TABLE ... ADD COLUMN (18.16 has no ADD COLUMN IF NOT EXISTS). ClickHouse runs one statement
// per query, so a step is one statement.
//
// On a ClickHouse cluster (--clickhouse-cluster) every step runs as its cluster twin, derived
// from its text by cluster.go (Replicated* engines, Distributed tables, ON CLUSTER): write the
// single-node statement only. TestClusterTwins fails on a statement the rewrite does not know.
var migrations = []migration{
	{
		version: 1,
		name:    "record tables",
		steps: []step{
			createStep(`CREATE TABLE IF NOT EXISTS registry (
	source String,
	id String,
	rec_hash UInt64,
	event_time DateTime('Asia/Shanghai'),
	kafka_topic String,
	kafka_partition UInt32,
	kafka_offset UInt64,
	ingested_at DateTime('Asia/Shanghai'),
	uscc String,
	name String,
	city String,
	registered_address String,
	office_address String,
	registered_on Date,
	is_sme UInt8,
	legal_rep_name String,
	legal_rep_person_key String,
	legal_rep_masked String,
	legal_rep_phone String,
	legal_rep_email String,
	contact_name Array(String),
	contact_person_key Array(String),
	contact_masked Array(String),
	contact_phone Array(String),
	contact_email Array(String),
	holder_kind Array(String),
	holder_uscc Array(String),
	holder_person_key Array(String),
	holder_masked Array(String),
	holder_name Array(String),
	holder_pct Array(Float64),
	officer_role Array(String),
	officer_person_key Array(String),
	officer_name Array(String),
	officer_masked Array(String),
	officer_phone Array(String),
	officer_email Array(String),
	bank_name Array(String),
	bank_account_no Array(String),
	seriously_dishonest UInt8,
	major_violation_within_3y UInt8,
	is_supplier UInt8,
	supplier_registered UInt8,
	supplier_registered_on Date,
	idc_license UInt8,
	capacity_chip_model Array(String),
	capacity_chip_origin Array(String),
	capacity_cards Array(UInt32),
	capacity_datacenter Array(String)
) ENGINE = ReplacingMergeTree(ingested_at)
ORDER BY (uscc, source, id)`),
			createStep(`CREATE TABLE IF NOT EXISTS contracts (
	source String,
	id String,
	rec_hash UInt64,
	event_time DateTime('Asia/Shanghai'),
	kafka_topic String,
	kafka_partition UInt32,
	kafka_offset UInt64,
	ingested_at DateTime('Asia/Shanghai'),
	contract_no String,
	name String,
	supplier_uscc String,
	buyer_uscc String,
	signed_on Date,
	service_start Date,
	service_end Date,
	amount Decimal(18, 2),
	item_service_type Array(String),
	item_chip_model Array(String),
	item_chip_origin Array(String),
	item_cards Array(UInt32),
	item_unit_price Array(Decimal(18, 2)),
	item_unit Array(String),
	item_quantity Array(Float64),
	item_amount Array(Decimal(18, 2)),
	datacenter String,
	via_platform UInt8,
	filed_on Nullable(Date),
	domains Array(String),
	purposes Array(String)
) ENGINE = ReplacingMergeTree(ingested_at)
ORDER BY (supplier_uscc, contract_no, source, id)`),
			createStep(`CREATE TABLE IF NOT EXISTS settlements (
	source String,
	id String,
	rec_hash UInt64,
	event_time DateTime('Asia/Shanghai'),
	kafka_topic String,
	kafka_partition UInt32,
	kafka_offset UInt64,
	ingested_at DateTime('Asia/Shanghai'),
	settlement_id String,
	contract_no String,
	supplier_uscc String,
	buyer_uscc String,
	invoice_code String,
	invoice_no String,
	invoice_date Date,
	amount Decimal(18, 2),
	tax Decimal(18, 2),
	payment_ref String,
	paid_on Date,
	payer_account String,
	payee_account String,
	period_start Date,
	period_end Date,
	item_service_type Array(String),
	item_chip_model Array(String),
	item_chip_origin Array(String),
	item_cards Array(UInt32),
	item_unit_price Array(Decimal(18, 2)),
	item_unit Array(String),
	item_quantity Array(Float64),
	item_amount Array(Decimal(18, 2))
) ENGINE = ReplacingMergeTree(ingested_at)
ORDER BY (supplier_uscc, invoice_code, invoice_no, source, id)`),
			createStep(`CREATE TABLE IF NOT EXISTS usage (
	source String,
	id String,
	rec_hash UInt64,
	event_time DateTime('Asia/Shanghai'),
	kafka_topic String,
	kafka_partition UInt32,
	kafka_offset UInt64,
	ingested_at DateTime('Asia/Shanghai'),
	supplier_uscc String,
	buyer_uscc String,
	contract_no String,
	tenant String,
	resource_id String,
	chip_model String,
	chip_origin String,
	cards UInt32,
	window_start DateTime('Asia/Shanghai'),
	window_end DateTime('Asia/Shanghai'),
	card_hours Float64,
	util_avg Float64,
	jobs UInt32,
	users UInt32,
	login_orgs Array(String),
	datacenter String
) ENGINE = ReplacingMergeTree(ingested_at)
PARTITION BY toYYYYMM(window_start)
ORDER BY (supplier_uscc, resource_id, window_start, source, id)`),
			createStep(`CREATE TABLE IF NOT EXISTS claims (
	source String,
	id String,
	rec_hash UInt64,
	event_time DateTime('Asia/Shanghai'),
	kafka_topic String,
	kafka_partition UInt32,
	kafka_offset UInt64,
	ingested_at DateTime('Asia/Shanghai'),
	claim_id String,
	applicant_uscc String,
	round UInt16,
	submitted_on Date,
	city String,
	via_platform UInt8,
	contract_no Array(String),
	invoice_code Array(String),
	invoice_no Array(String),
	invoice_amount Array(Decimal(18, 2)),
	usage_amount Decimal(18, 2),
	requested Decimal(18, 2),
	chip_origin String,
	bank_account String
) ENGINE = ReplacingMergeTree(ingested_at)
ORDER BY (applicant_uscc, claim_id, source, id)`),
		},
	},
	{
		version: 2,
		name:    "ingest keys",
		steps: []step{
			// The sorting key ends with source and id so that two records whose hashes
			// collide are two rows, never merged into one; the primary key stops at rec_hash,
			// which is all the look-up filters on.
			createStep(`CREATE TABLE IF NOT EXISTS ingest_keys (
	tbl String,
	rec_hash UInt64,
	source String,
	id String,
	event_time DateTime('Asia/Shanghai'),
	ingested_at DateTime('Asia/Shanghai')
) ENGINE = ReplacingMergeTree(ingested_at)
PRIMARY KEY (tbl, rec_hash)
ORDER BY (tbl, rec_hash, source, id)`),
			createStep(`CREATE MATERIALIZED VIEW IF NOT EXISTS registry_keys TO ingest_keys AS
SELECT 'registry' AS tbl, rec_hash, source, id, event_time, ingested_at FROM registry`),
			createStep(`CREATE MATERIALIZED VIEW IF NOT EXISTS contracts_keys TO ingest_keys AS
SELECT 'contracts' AS tbl, rec_hash, source, id, event_time, ingested_at FROM contracts`),
			createStep(`CREATE MATERIALIZED VIEW IF NOT EXISTS settlements_keys TO ingest_keys AS
SELECT 'settlements' AS tbl, rec_hash, source, id, event_time, ingested_at FROM settlements`),
			createStep(`CREATE MATERIALIZED VIEW IF NOT EXISTS usage_keys TO ingest_keys AS
SELECT 'usage' AS tbl, rec_hash, source, id, event_time, ingested_at FROM usage`),
			createStep(`CREATE MATERIALIZED VIEW IF NOT EXISTS claims_keys TO ingest_keys AS
SELECT 'claims' AS tbl, rec_hash, source, id, event_time, ingested_at FROM claims`),
		},
	},
	{
		version: 3,
		name:    "dead letters",
		steps: []step{
			createStep(`CREATE TABLE IF NOT EXISTS dead_letters (
	kafka_topic String,
	kafka_partition UInt32,
	kafka_offset UInt64,
	kafka_key String,
	value String,
	value_truncated UInt8,
	value_bytes UInt32,
	source String,
	id String,
	supplier String,
	reason String,
	at DateTime('Asia/Shanghai'),
	ingested_at DateTime('Asia/Shanghai')
) ENGINE = ReplacingMergeTree(ingested_at)
ORDER BY (kafka_topic, kafka_partition, kafka_offset)`),
		},
	},
	{
		version: 4,
		name:    "latest versions of entities and contracts",
		steps: []step{
			// LIMIT 1 BY takes whole rows, so every column comes from one version; argMax per
			// column could mix two versions that share an event_time. Copies of one record
			// are equal, so the views need no FINAL.
			createStep(`CREATE VIEW IF NOT EXISTS registry_latest AS
SELECT * FROM registry
ORDER BY uscc, event_time DESC, source DESC, id DESC
LIMIT 1 BY uscc`),
			createStep(`CREATE VIEW IF NOT EXISTS contracts_latest AS
SELECT * FROM contracts
ORDER BY supplier_uscc, contract_no, event_time DESC, source DESC, id DESC
LIMIT 1 BY supplier_uscc, contract_no`),
		},
	},
	{
		version: 5,
		name:    "alerts and their workflow events",
		steps: []step{
			// One row per version of a finding; the newest version wins. A finding that did
			// not change between runs writes nothing.
			createStep(`CREATE TABLE IF NOT EXISTS alerts (
	id String,
	detector String,
	kind String,
	severity String,
	score Float64,
	applicant_uscc String,
	supplier_uscc String,
	claim_id String,
	contract_no String,
	invoice_code String,
	invoice_no String,
	resource_id String,
	city String,
	policy_clause String,
	title String,
	reason String,
	evidence String,
	evidence_hash UInt64,
	created_at DateTime('Asia/Shanghai'),
	updated_at DateTime('Asia/Shanghai'),
	version UInt64
) ENGINE = ReplacingMergeTree(version)
ORDER BY id`),
			// Append-only: the workflow's state is derived from these events, never updated
			// in place. A plain MergeTree has no merge that could drop a row.
			createStep(`CREATE TABLE IF NOT EXISTS alert_events (
	event_id String,
	alert_id String,
	at DateTime('Asia/Shanghai'),
	actor_id String,
	actor_name String,
	actor_role String,
	from_status String,
	to_status String,
	comment String,
	deadline Nullable(Date),
	amount Decimal(18, 2)
) ENGINE = MergeTree
ORDER BY (alert_id, at, event_id)`),
		},
	},
	{
		version: 6,
		name:    "workflow events and users",
		steps: []step{
			// What an event records besides a status change (see events.go): its kind, its
			// place in the log (seq, nanoseconds: at has whole seconds, and two events of one
			// alert in one second must still be ordered), the person an assignment names, the
			// decision a proposal recommends, and the evidence the actor saw.
			addColumnStep("alert_events", "kind", "String", "event_id"),
			addColumnStep("alert_events", "seq", "UInt64", "kind"),
			addColumnStep("alert_events", "assignee_id", "String", ""),
			addColumnStep("alert_events", "assignee_name", "String", "assignee_id"),
			addColumnStep("alert_events", "proposed_to", "String", "assignee_name"),
			addColumnStep("alert_events", "evidence", "String", "proposed_to"),
			// One row per version of a user; the newest version wins. Tokens are kept as their
			// SHA-256 (hex) only; password_hash is for the web UI's sign-in (bcrypt), empty
			// until a password is set.
			createStep(`CREATE TABLE IF NOT EXISTS users (
	id String,
	name String,
	role String,
	city String,
	token_hash String,
	password_hash String,
	disabled UInt8,
	created_at DateTime('Asia/Shanghai'),
	updated_at DateTime('Asia/Shanghai'),
	version UInt64
) ENGINE = ReplacingMergeTree(version)
ORDER BY id`),
		},
	},
	{
		version: 7,
		name:    "daily aggregates for the dashboards",
		steps: []step{
			// The dashboards read these instead of usage and settlements, which grow by the
			// million: a day of one supplier, buyer, contract and chip is one row however many
			// metering windows it had. A materialized view sees only the rows inserted after it
			// exists; on a fresh database this migration runs before ingest, so nothing is
			// missed. A database that already held records needs a one-off rebuild
			// (dashboards/rebuild/*.sql, see dashboards/README.md), which also removes the
			// double counts described next.
			//
			// SummingMergeTree adds up rows with equal sorting keys, so a record stored twice
			// is counted twice here, whereas the record tables' ReplacingMergeTree collapses
			// the copies. Copies come only from two ingest processes racing past the
			// ingest_keys pre-check with the same record (see store/doc.go), which is rare;
			// the dashboards accept that small overcount for reading a few thousand rows
			// instead of scanning usage with FINAL. Exact figures come from the record tables.
			//
			// contract_no is in the key so that card-hours can be split by the contract's
			// application domains (contracts.domains) at query time. The buyer's city is not:
			// the registry record may arrive after the usage, so it is joined from
			// registry_latest, which is small, when the dashboard asks.
			createStep(`CREATE TABLE IF NOT EXISTS usage_daily (
	day Date,
	supplier_uscc String,
	buyer_uscc String,
	contract_no String,
	chip_model String,
	chip_origin String,
	day_card_hours Float64,
	util_card_hours Float64,
	windows UInt64
) ENGINE = SummingMergeTree((day_card_hours, util_card_hours, windows))
PARTITION BY toYYYYMM(day)
ORDER BY (day, supplier_uscc, buyer_uscc, contract_no, chip_model, chip_origin)`),
			// A metering window spans hours to days. Its card-hours are spread over the days
			// it covers (China Standard Time, the column's zone) in proportion to the seconds
			// in each, so that a week-long window is not a spike on its first day:
			// day_card_hours is the part of card_hours that fell in day. util_card_hours /
			// day_card_hours is the card-hour-weighted utilisation; windows counts each window
			// once, on the day it starts. A window whose end is not after its start counts as
			// one second long.
			//
			// The target column is not called card_hours because an alias equal to a source
			// column that the expression reads is a cyclic alias; and 18.16 resolves no
			// aliases of a subquery inside a materialized view, so the arithmetic stays on one
			// level and repeats itself.
			createStep(`CREATE MATERIALIZED VIEW IF NOT EXISTS usage_daily_mv TO usage_daily AS
SELECT
	arrayJoin(arrayMap(i -> toDate(window_start) + i,
		range(toUInt32(dateDiff('day', toDate(window_start), toDate(greatest(window_end, window_start + 1) - 1, 'Asia/Shanghai')) + 1)))) AS day,
	supplier_uscc,
	buyer_uscc,
	contract_no,
	chip_model,
	chip_origin,
	card_hours
		* (least(toUInt32(greatest(window_end, window_start + 1)), toUInt32(toDateTime(day + 1, 'Asia/Shanghai')))
			- greatest(toUInt32(window_start), toUInt32(toDateTime(day, 'Asia/Shanghai'))))
		/ (toUInt32(greatest(window_end, window_start + 1)) - toUInt32(window_start)) AS day_card_hours,
	day_card_hours * util_avg AS util_card_hours,
	toUInt64(day = toDate(window_start)) AS windows
FROM usage`),
			// One row per invoice day, supplier, buyer, service type and chip origin, summing
			// the items' amounts: whether an item may be subsidised depends on its service type
			// (rules.Policy.Subsidisable), so the subsidy dashboard filters on it. The sum keeps
			// the array's name, item_amount: 18.16 refuses an ARRAY JOIN alias equal to the
			// column settlements.amount.
			createStep(`CREATE TABLE IF NOT EXISTS settlements_daily (
	day Date,
	supplier_uscc String,
	buyer_uscc String,
	service_type String,
	chip_origin String,
	item_amount Decimal(18, 2),
	items UInt64
) ENGINE = SummingMergeTree((item_amount, items))
PARTITION BY toYYYYMM(day)
ORDER BY (day, supplier_uscc, buyer_uscc, service_type, chip_origin)`),
			createStep(`CREATE MATERIALIZED VIEW IF NOT EXISTS settlements_daily_mv TO settlements_daily AS
SELECT
	invoice_date AS day,
	supplier_uscc,
	buyer_uscc,
	service_type,
	chip_origin,
	item_amount,
	toUInt64(1) AS items
FROM settlements
ARRAY JOIN item_service_type AS service_type, item_chip_origin AS chip_origin, item_amount`),
		},
	},
	{
		version: 8,
		name:    "sign-in names",
		steps: []step{
			// The web UI signs in with a login name and a password. People's names repeat
			// (two 张伟 in one bureau), so the login is its own column, unique among enabled
			// users.
			addColumnStep("users", "login", "String", "name"),
		},
	},
	{
		version: 9,
		name:    "spot checks",
		steps: []step{
			// The pool spot-check inspectors are drawn from, versioned like users.
			createStep(`CREATE TABLE IF NOT EXISTS inspectors (
	id String,
	name String,
	city String,
	conflicts Array(String),
	disabled UInt8,
	created_at DateTime('Asia/Shanghai'),
	created_by String,
	version UInt64
) ENGINE = ReplacingMergeTree(version)
ORDER BY id`),
			// One row per draw. draw fingerprints the draw (id, seed, method, parameters,
			// inputs): two instances drawing the same scheduled slot from the same inputs
			// write equal rows that collapse; drawn from inputs that differ by a late record,
			// both rows stay and readers take the first (created_at, draw), with its items
			// (see store/spotchecks.go). inputs is the canonical JSON the draw read, so that
			// it can be repeated exactly.
			createStep(`CREATE TABLE IF NOT EXISTS spotchecks (
	id String,
	draw String,
	seed UInt64,
	method String,
	params String,
	inputs_digest String,
	inputs String,
	trigger String,
	item_count UInt32,
	created_at DateTime('Asia/Shanghai'),
	created_by String
) ENGINE = ReplacingMergeTree
ORDER BY (id, draw)`),
			createStep(`CREATE TABLE IF NOT EXISTS spotcheck_items (
	spotcheck_id String,
	draw String,
	uscc String,
	name String,
	city String,
	risk Float64,
	drawn_by String,
	inspector_ids Array(String),
	inspector_names Array(String),
	inspector_cities Array(String),
	note String
) ENGINE = ReplacingMergeTree
ORDER BY (spotcheck_id, draw, uscc)`),
			// Append-only, like the workflow's events: the newest result per enterprise is
			// the one published; earlier ones stay as history. seq orders results within a
			// second (nanoseconds).
			createStep(`CREATE TABLE IF NOT EXISTS inspection_results (
	spotcheck_id String,
	uscc String,
	result String,
	comment String,
	recorded_at DateTime('Asia/Shanghai'),
	seq UInt64,
	by_id String,
	by_name String,
	by_role String
) ENGINE = MergeTree
ORDER BY (spotcheck_id, uscc, seq)`),
		},
	},
	{
		version: 10,
		name:    "revoked web sessions",
		steps: []step{
			// A row per signed-out web UI session, by a digest of its nonce, so that every
			// instance refuses the cookie until it would have expired anyway. 18.16 has no
			// TTL: readers ignore rows past expires_at and DB.RevokeSession deletes them now
			// and then; a day's partition keeps that cheap.
			createStep(`CREATE TABLE IF NOT EXISTS revoked_sessions (
	session_digest String,
	revoked_at DateTime('Asia/Shanghai'),
	expires_at DateTime('Asia/Shanghai')
) ENGINE = ReplacingMergeTree
PARTITION BY toYYYYMMDD(expires_at)
ORDER BY session_digest`),
		},
	},
	{
		// Dead letters used to keep the raw message. New rows are redacted in Go
		// (voucherwatch.RedactMessage, MaskText); this masks the rows already there the same
		// way, as far as a regular expression can: e-mail addresses, identity numbers, mobile
		// numbers (with or without 86). The raw bytes stay only on the dead-letter topic.
		version: 11,
		name:    "dead letters redacted",
		steps: []step{
			mutationStep(`ALTER TABLE dead_letters UPDATE
	value = ` + maskSQL("value") + `,
	reason = ` + maskSQL("reason") + `,
	kafka_key = ` + maskSQL("kafka_key") + `
WHERE 1`),
		},
	},
	{
		version: 12,
		name:    "supplier register editions",
		steps: []step{
			// One row per edition, kept like a spot-check draw (see store/register.go): draw
			// fingerprints the edition (id, method, inputs' digest), so two instances making
			// the same scheduled edition from the same inputs write equal rows that collapse;
			// from inputs that differ by a late record, both stay and readers take the first
			// (created_at, draw). inputs is the canonical JSON the edition was computed from.
			createStep(`CREATE TABLE IF NOT EXISTS register_editions (
	id String,
	draw String,
	period String,
	method String,
	inputs_digest String,
	inputs String,
	trigger String,
	supplier_count UInt32,
	created_at DateTime('Asia/Shanghai'),
	created_by String
) ENGINE = ReplacingMergeTree
ORDER BY (id, draw)`),
			// One row per supplier and edition: its published line as JSON. Ordered by
			// supplier so that a supplier's history across editions is a keyed read.
			createStep(`CREATE TABLE IF NOT EXISTS register_rows (
	edition_id String,
	draw String,
	period String,
	uscc String,
	row String
) ENGINE = ReplacingMergeTree
ORDER BY (uscc, edition_id, draw)`),
		},
	},
	{
		version: 13,
		name:    "record keys by time, usage by year, daily usage rolled up per insert",
		steps: slices.Concat([]step{
			// The views of migrations 2 and 7 go first, so that none is bound to a table
			// that the steps below rebuild.
			sqlStep(`DROP TABLE IF EXISTS registry_keys`),
			sqlStep(`DROP TABLE IF EXISTS contracts_keys`),
			sqlStep(`DROP TABLE IF EXISTS settlements_keys`),
			sqlStep(`DROP TABLE IF EXISTS usage_keys`),
			sqlStep(`DROP TABLE IF EXISTS claims_keys`),
			sqlStep(`DROP TABLE IF EXISTS ingest_keys`),
			sqlStep(`DROP TABLE IF EXISTS usage_daily_mv`),
			// A batch of a year's weekly windows wrote one part per month into usage and
			// again into usage_daily: 12 parts per table per batch, most of a backfill's
			// insert time. Yearly partitions write one or two; the sorting key, which the
			// queries use, is unchanged.
			repartitionStep("usage", "ReplacingMergeTree(ingested_at)", "toYear(window_start)",
				"(supplier_uscc, resource_id, window_start, source, id)"),
			repartitionStep("usage_daily", "SummingMergeTree((day_card_hours, util_card_hours, windows))", "toYear(day)",
				"(day, supplier_uscc, buyer_uscc, contract_no, chip_model, chip_origin)"),
			// The look-up of a batch's keys (store/records.go) reads only the keys of the
			// times its records fall in: at is a usage record's window_start, which a
			// redelivered or re-sent usage record repeats, and the epoch for the other types,
			// whose few hundred thousand keys a province holds are looked up whole. The
			// primary key (tbl, at, rec_hash) lets a batch of an hour, or of a year's weekly
			// windows, read the granules of its own windows instead of every key stored
			// (ingest_keys, ordered by hash, was read whole by every batch). Yearly
			// partitions keep a batch spanning months in one or two parts.
			createStep(`CREATE TABLE IF NOT EXISTS record_keys (
	tbl String,
	at DateTime('Asia/Shanghai'),
	rec_hash UInt64,
	source String,
	id String,
	ingested_at DateTime('Asia/Shanghai')
) ENGINE = ReplacingMergeTree(ingested_at)
PARTITION BY toYear(at)
PRIMARY KEY (tbl, at, rec_hash)
ORDER BY (tbl, at, rec_hash, source, id)`),
		}, recordKeyViews(), []step{
			// Keys of the records stored before this migration. Running this again, or from
			// two instances at once, writes equal rows that the look-up reads as one and
			// merges collapse.
			sqlStep(`INSERT INTO record_keys (tbl, at, rec_hash, source, id, ingested_at)
SELECT 'usage', window_start, rec_hash, source, id, ingested_at FROM usage`),
			sqlStep(`INSERT INTO record_keys (tbl, at, rec_hash, source, id, ingested_at)
SELECT 'registry', toDateTime(0, 'Asia/Shanghai'), rec_hash, source, id, ingested_at FROM registry`),
			sqlStep(`INSERT INTO record_keys (tbl, at, rec_hash, source, id, ingested_at)
SELECT 'contracts', toDateTime(0, 'Asia/Shanghai'), rec_hash, source, id, ingested_at FROM contracts`),
			sqlStep(`INSERT INTO record_keys (tbl, at, rec_hash, source, id, ingested_at)
SELECT 'settlements', toDateTime(0, 'Asia/Shanghai'), rec_hash, source, id, ingested_at FROM settlements`),
			sqlStep(`INSERT INTO record_keys (tbl, at, rec_hash, source, id, ingested_at)
SELECT 'claims', toDateTime(0, 'Asia/Shanghai'), rec_hash, source, id, ingested_at FROM claims`),
			// usage_daily_mv wrote one row per day of every window (a week-long window, seven
			// rows). This view adds the insert block up first: one row per day and key of the
			// block, the same sums, written within the records' own INSERT, so the rollup
			// holds exactly the records stored. The arithmetic is usage_daily_mv's
			// (migration 7), summed.
			createStep(`CREATE MATERIALIZED VIEW IF NOT EXISTS usage_daily_block_mv TO usage_daily AS
SELECT
	arrayJoin(arrayMap(i -> toDate(window_start) + i,
		range(toUInt32(dateDiff('day', toDate(window_start), toDate(greatest(window_end, window_start + 1) - 1, 'Asia/Shanghai')) + 1)))) AS day,
	supplier_uscc,
	buyer_uscc,
	contract_no,
	chip_model,
	chip_origin,
	sum(card_hours
		* (least(toUInt32(greatest(window_end, window_start + 1)), toUInt32(toDateTime(day + 1, 'Asia/Shanghai')))
			- greatest(toUInt32(window_start), toUInt32(toDateTime(day, 'Asia/Shanghai'))))
		/ (toUInt32(greatest(window_end, window_start + 1)) - toUInt32(window_start))) AS day_card_hours,
	sum(card_hours
		* (least(toUInt32(greatest(window_end, window_start + 1)), toUInt32(toDateTime(day + 1, 'Asia/Shanghai')))
			- greatest(toUInt32(window_start), toUInt32(toDateTime(day, 'Asia/Shanghai'))))
		/ (toUInt32(greatest(window_end, window_start + 1)) - toUInt32(window_start))
		* util_avg) AS util_card_hours,
	toUInt64(countIf(day = toDate(window_start))) AS windows
FROM usage
GROUP BY day, supplier_uscc, buyer_uscc, contract_no, chip_model, chip_origin`),
		}),
	},
	{
		version: 14,
		name:    "complaints",
		steps: []step{
			// The protected part of a complaint: its public part is the alert of its case
			// (detector complaint). The contact details are sealed with the complaint key
			// (voucherwatch.ContactBox), the follow-up secret kept as a hash.
			createStep(`CREATE TABLE IF NOT EXISTS complaints (
	id String,
	receipt String,
	uscc String,
	city String,
	category String,
	channel String,
	registered_by String,
	secret_hash String,
	contact_sealed String,
	created_at DateTime('Asia/Shanghai')
) ENGINE = ReplacingMergeTree
ORDER BY id`),
		},
	},
	{
		version: 15,
		name:    "lookup keys of claims and settlements",
		steps: []step{
			// The incremental checks look claims and settlements up by invoice, claim id,
			// (buyer, contract) and payment reference, but claims are sorted by applicant and
			// settlements by supplier: such a look-up read the whole table. lookup_keys maps
			// each of those keys (k, under its kind) to the record table's sorting-key prefix
			// (owner: a claim's applicant_uscc, a settlement's supplier_uscc; claim_id or the
			// invoice), so that a look-up reads a few granules of lookup_keys and then the
			// records through their primary key (store/read.go). The views below write it
			// within the records' own INSERT, as record_keys is written: a record is stored
			// if and only if its keys are. Rows are a set: copies are harmless and merges
			// collapse them.
			createStep(`CREATE TABLE IF NOT EXISTS lookup_keys (
	kind String,
	k String,
	owner String,
	claim_id String,
	invoice_code String,
	invoice_no String,
	ingested_at DateTime('Asia/Shanghai')
) ENGINE = ReplacingMergeTree(ingested_at)
ORDER BY (kind, k, owner, claim_id, invoice_code, invoice_no)`),
			createStep(`CREATE MATERIALIZED VIEW IF NOT EXISTS claims_lookup_ids TO lookup_keys AS
SELECT 'claim' AS kind, claim_id AS k, applicant_uscc AS owner, claim_id, '' AS invoice_code, '' AS invoice_no, ingested_at
FROM claims`),
			createStep(`CREATE MATERIALIZED VIEW IF NOT EXISTS claims_lookup_invoices TO lookup_keys AS
SELECT 'claim_invoice' AS kind, concat(invoice_code, '/', invoice_no) AS k, applicant_uscc AS owner, claim_id,
	invoice_code, invoice_no, ingested_at
FROM claims ARRAY JOIN invoice_code, invoice_no`),
			createStep(`CREATE MATERIALIZED VIEW IF NOT EXISTS settlements_lookup_invoices TO lookup_keys AS
SELECT 'settlement_invoice' AS kind, concat(invoice_code, '/', invoice_no) AS k, supplier_uscc AS owner, '' AS claim_id,
	invoice_code, invoice_no, ingested_at
FROM settlements`),
			createStep(`CREATE MATERIALIZED VIEW IF NOT EXISTS settlements_lookup_contracts TO lookup_keys AS
SELECT 'settlement_contract' AS kind, concat(buyer_uscc, '/', contract_no) AS k, supplier_uscc AS owner, '' AS claim_id,
	invoice_code, invoice_no, ingested_at
FROM settlements`),
			createStep(`CREATE MATERIALIZED VIEW IF NOT EXISTS settlements_lookup_payment_refs TO lookup_keys AS
SELECT 'payment_ref' AS kind, payment_ref AS k, supplier_uscc AS owner, '' AS claim_id,
	invoice_code, invoice_no, ingested_at
FROM settlements WHERE payment_ref != ''`),
			// Keys of the records stored before this migration. Running this again, or a
			// record stored between the views and these steps, writes equal rows.
			sqlStep(`INSERT INTO lookup_keys (kind, k, owner, claim_id, invoice_code, invoice_no, ingested_at)
SELECT 'claim', claim_id, applicant_uscc, claim_id, '', '', ingested_at FROM claims`),
			sqlStep(`INSERT INTO lookup_keys (kind, k, owner, claim_id, invoice_code, invoice_no, ingested_at)
SELECT 'claim_invoice', concat(invoice_code, '/', invoice_no), applicant_uscc, claim_id, invoice_code, invoice_no, ingested_at
FROM claims ARRAY JOIN invoice_code, invoice_no`),
			sqlStep(`INSERT INTO lookup_keys (kind, k, owner, claim_id, invoice_code, invoice_no, ingested_at)
SELECT 'settlement_invoice', concat(invoice_code, '/', invoice_no), supplier_uscc, '', invoice_code, invoice_no, ingested_at
FROM settlements`),
			sqlStep(`INSERT INTO lookup_keys (kind, k, owner, claim_id, invoice_code, invoice_no, ingested_at)
SELECT 'settlement_contract', concat(buyer_uscc, '/', contract_no), supplier_uscc, '', invoice_code, invoice_no, ingested_at
FROM settlements`),
			sqlStep(`INSERT INTO lookup_keys (kind, k, owner, claim_id, invoice_code, invoice_no, ingested_at)
SELECT 'payment_ref', payment_ref, supplier_uscc, '', invoice_code, invoice_no, ingested_at
FROM settlements WHERE payment_ref != ''`),
		},
	},
	{
		version: 16,
		name:    "usage rolled up by window span",
		steps: []step{
			// usage_daily_block_mv spread every window over its days at insert: a week-long
			// window made seven rollup rows, and a supplier's weekly backfill, whose
			// resources each have their own contract, about seven rows per record, most of
			// its insert time. usage_spans keeps the rollup no finer than the data: windows
			// within one day are added up by (day, key) as before, their span set to the
			// day's bounds; longer windows by (start, end, key). usage_days spreads the spans
			// over days at query time with the arithmetic of usage_daily_block_mv, and adds
			// the rows usage_daily holds from before this migration (it is written no more):
			// readers query usage_days for what usage_daily gave. Columns are named span_*
			// because 18.16 cannot alias an aggregate to a column of the source table.
			createStep(`CREATE TABLE IF NOT EXISTS usage_spans (
	span_start DateTime('Asia/Shanghai'),
	span_end DateTime('Asia/Shanghai'),
	supplier_uscc String,
	buyer_uscc String,
	contract_no String,
	chip_model String,
	chip_origin String,
	span_card_hours Float64,
	span_util_card_hours Float64,
	span_windows UInt64
) ENGINE = SummingMergeTree((span_card_hours, span_util_card_hours, span_windows))
PARTITION BY toYear(span_start)
ORDER BY (span_start, span_end, supplier_uscc, buyer_uscc, contract_no, chip_model, chip_origin)`),
			createStep(`CREATE MATERIALIZED VIEW IF NOT EXISTS usage_spans_mv TO usage_spans AS
SELECT
	if(toDate(window_start) = toDate(greatest(window_end, window_start + 1) - 1, 'Asia/Shanghai'),
		toDateTime(toDate(window_start), 'Asia/Shanghai'), window_start) AS span_start,
	if(toDate(window_start) = toDate(greatest(window_end, window_start + 1) - 1, 'Asia/Shanghai'),
		toDateTime(toDate(window_start) + 1, 'Asia/Shanghai'), greatest(window_end, window_start + 1)) AS span_end,
	supplier_uscc,
	buyer_uscc,
	contract_no,
	chip_model,
	chip_origin,
	sum(card_hours) AS span_card_hours,
	sum(card_hours * util_avg) AS span_util_card_hours,
	toUInt64(count()) AS span_windows
FROM usage
GROUP BY span_start, span_end, supplier_uscc, buyer_uscc, contract_no, chip_model, chip_origin`),
			// The new view is in place before the old one goes: a record stored in between,
			// by an instance already ingesting, is counted twice (the rebuild in
			// dashboards/README.md repairs that); the other order would lose it.
			sqlStep(`DROP TABLE IF EXISTS usage_daily_block_mv`),
			createStep(`CREATE VIEW IF NOT EXISTS usage_days AS
SELECT day, supplier_uscc, buyer_uscc, contract_no, chip_model, chip_origin, day_card_hours, util_card_hours, windows
FROM usage_daily
UNION ALL
SELECT
	arrayJoin(arrayMap(i -> toDate(span_start) + i,
		range(toUInt32(dateDiff('day', toDate(span_start), toDate(span_end - 1, 'Asia/Shanghai')) + 1)))) AS day,
	supplier_uscc,
	buyer_uscc,
	contract_no,
	chip_model,
	chip_origin,
	span_card_hours
		* (least(toUInt32(span_end), toUInt32(toDateTime(day + 1, 'Asia/Shanghai')))
			- greatest(toUInt32(span_start), toUInt32(toDateTime(day, 'Asia/Shanghai'))))
		/ (toUInt32(span_end) - toUInt32(span_start)) AS day_card_hours,
	span_util_card_hours
		* (least(toUInt32(span_end), toUInt32(toDateTime(day + 1, 'Asia/Shanghai')))
			- greatest(toUInt32(span_start), toUInt32(toDateTime(day, 'Asia/Shanghai'))))
		/ (toUInt32(span_end) - toUInt32(span_start)) AS util_card_hours,
	span_windows * toUInt64(day = toDate(span_start)) AS windows
FROM usage_spans`),
		},
	},
	{
		version: 17,
		name:    "annual subsidy rounds",
		steps: []step{
			// A round's settings and state; each change writes a new version of its row.
			createStep(`CREATE TABLE IF NOT EXISTS rounds (
	id String,
	year UInt16,
	budget Decimal(18, 2),
	notice_days UInt8,
	weights String,
	mode String,
	state String,
	frozen_version UInt32,
	created_at DateTime('Asia/Shanghai'),
	created_by String,
	published_at DateTime('Asia/Shanghai'),
	finalised_at DateTime('Asia/Shanghai'),
	updated_at DateTime('Asia/Shanghai'),
	version UInt64
) ENGINE = ReplacingMergeTree(version)
ORDER BY id`),
			// Expert scores: the newest score of a claim and criterion counts.
			createStep(`CREATE TABLE IF NOT EXISTS round_scores (
	round_id String,
	claim_id String,
	criterion String,
	score Float64,
	comment String,
	created_by String,
	created_at DateTime('Asia/Shanghai'),
	version UInt64
) ENGINE = ReplacingMergeTree(version)
ORDER BY (round_id, claim_id, criterion)`),
			// Frozen versions: the inputs (canonical JSON), their digest and the lines (JSON).
			// Never updated: a plain MergeTree.
			createStep(`CREATE TABLE IF NOT EXISTS round_versions (
	round_id String,
	version UInt32,
	method String,
	inputs_digest String,
	inputs String,
	lines String,
	total Decimal(18, 2),
	frozen_at DateTime('Asia/Shanghai'),
	frozen_by String
) ENGINE = MergeTree
ORDER BY (round_id, version)`),
			// The round's append-only log, like the workflow's events.
			createStep(`CREATE TABLE IF NOT EXISTS round_events (
	round_id String,
	seq UInt64,
	at DateTime('Asia/Shanghai'),
	actor_id String,
	actor_role String,
	action String,
	claim_id String,
	city String,
	detail String
) ENGINE = MergeTree
ORDER BY (round_id, seq)`),
			// Objections: the case is the alert with the same id; the contact is sealed like a
			// complainant's.
			createStep(`CREATE TABLE IF NOT EXISTS round_objections (
	id String,
	round_id String,
	claim_id String,
	uscc String,
	city String,
	channel String,
	registered_by String,
	contact_sealed String,
	created_at DateTime('Asia/Shanghai')
) ENGINE = ReplacingMergeTree
ORDER BY (round_id, id)`),
		},
	},
	{
		version: 18,
		name:    "usage rolled up in runs of windows",
		steps: []step{
			// The usage sweeps (capacity peaks, metering against invoices, tenancies) compare
			// windows with instants, periods and other windows, so usage_spans (summed per
			// day) cannot answer them. usage_runs keeps, per resource, tenancy, window length
			// and China Standard Time day, which windows of the day were stored: run_slots has
			// bit k set for the window starting k window lengths after the day's first
			// possible start (run_phase). Where the bits form one unbroken run, each window
			// stored once (run_records) and the run ending by the next midnight (or a single
			// window), the group is the run [run_first, run_last + run_span) with the sum of
			// its card-hours: what the windows say, exactly. Any other group (a gap, a copy
			// written twice by a killed process or two instances, windows shorter than half an
			// hour) is read from usage by key (usage_units). Hourly telemetry makes one row per
			// resource and day, 24 times fewer than usage.
			createStep(`CREATE TABLE IF NOT EXISTS usage_runs (
	supplier_uscc String,
	resource_id String,
	run_day DateTime('Asia/Shanghai'),
	buyer_uscc String,
	contract_no String,
	chip_model String,
	cards UInt32,
	run_span UInt32,
	run_phase UInt32,
	run_first AggregateFunction(min, DateTime('Asia/Shanghai')),
	run_last AggregateFunction(max, DateTime('Asia/Shanghai')),
	run_slots AggregateFunction(groupBitOr, UInt64),
	run_records AggregateFunction(sum, UInt64),
	run_card_hours AggregateFunction(sum, Float64)
) ENGINE = AggregatingMergeTree()
PARTITION BY toYear(run_day)
ORDER BY (supplier_uscc, resource_id, run_day, buyer_uscc, contract_no, chip_model, cards, run_span, run_phase)`),
			createStep(`CREATE MATERIALIZED VIEW IF NOT EXISTS usage_runs_mv TO usage_runs AS
` + usageRunsStates + `
GROUP BY supplier_uscc, resource_id, run_day, buyer_uscc, contract_no, chip_model, cards, run_span, run_phase`),
			// The records stored before: a record stored between the view and this copy is
			// counted twice, which makes its group read from usage, not wrong.
			sqlStep(`INSERT INTO usage_runs (supplier_uscc, resource_id, run_day, buyer_uscc, contract_no, chip_model, cards,
	run_span, run_phase, run_first, run_last, run_slots, run_records, run_card_hours)
SELECT supplier_uscc, resource_id, toStartOfDay(window_start) AS run_day, buyer_uscc, contract_no, chip_model, cards,
	toUInt32(toUInt32(window_end) - toUInt32(window_start)) AS run_span,
	toUInt32((toUInt32(window_start) - toUInt32(run_day)) % run_span) AS run_phase,
	minState(window_start), maxState(window_start),
	groupBitOrState(if(run_span >= 1800, toUInt64(bitShiftLeft(toUInt64(1), intDiv(toUInt32(window_start) - toUInt32(run_day), run_span))), toUInt64(0))),
	sumState(toUInt64(1)), sumState(card_hours)
FROM usage
WHERE window_end > window_start
GROUP BY supplier_uscc, resource_id, run_day, buyer_uscc, contract_no, chip_model, cards, run_span, run_phase`),
		},
	},
	{
		version: 19,
		name:    "usage windows with another organisation's logins",
		steps: []step{
			// resale asks which buyers' tenants carried another organisation's logins, and in
			// how many windows: it read every usage record's login_orgs to find the few that
			// do. usage_foreign_logins holds those records only, one row per such organisation;
			// readers count each (supplier, resource, tenant, window start) once, as they did
			// on usage, so a copy stored twice changes nothing.
			createStep(`CREATE TABLE IF NOT EXISTS usage_foreign_logins (
	buyer_uscc String,
	supplier_uscc String,
	contract_no String,
	org String,
	resource_id String,
	tenant String,
	window_start DateTime('Asia/Shanghai'),
	source String,
	id String,
	card_hours Float64,
	ingested_at DateTime('Asia/Shanghai')
) ENGINE = ReplacingMergeTree(ingested_at)
ORDER BY (buyer_uscc, supplier_uscc, contract_no, org, resource_id, tenant, window_start, source, id)`),
			createStep(`CREATE MATERIALIZED VIEW IF NOT EXISTS usage_foreign_logins_mv TO usage_foreign_logins AS
SELECT buyer_uscc, supplier_uscc, contract_no, org, resource_id, tenant, window_start, source, id, card_hours, ingested_at
FROM usage
ARRAY JOIN login_orgs AS org
WHERE org != '' AND org != buyer_uscc`),
			sqlStep(`INSERT INTO usage_foreign_logins (buyer_uscc, supplier_uscc, contract_no, org, resource_id, tenant, window_start,
	source, id, card_hours, ingested_at)
SELECT buyer_uscc, supplier_uscc, contract_no, org, resource_id, tenant, window_start, source, id, card_hours, ingested_at
FROM usage
ARRAY JOIN login_orgs AS org
WHERE org != '' AND org != buyer_uscc`),
		},
	},
	{
		version: 20,
		name:    "money at stake on alerts",
		steps: []step{
			// The subsidy an alert puts at stake (docs/priorities.md), whether it is only
			// potential (no claim cites what it touches), and its split by claim with each
			// claim's ceiling, so that sums over alerts can cap each claim. Rows written
			// before read 0 and no claims until the next run rewrites them.
			addColumnStep("alerts", "at_stake", "Decimal(18, 2)", "evidence_hash"),
			addColumnStep("alerts", "at_stake_potential", "UInt8", "at_stake"),
			addColumnStep("alerts", "stake_claim_ids", "Array(String)", "at_stake_potential"),
			addColumnStep("alerts", "stake_claim_fen", "Array(Int64)", "stake_claim_ids"),
			addColumnStep("alerts", "stake_claim_ceiling_fen", "Array(Int64)", "stake_claim_fen"),
		},
	},
	{
		version: 21,
		name:    "backtests log",
		steps: []step{
			// One row per backtest (docs/priorities.md): who ran it, the digest and version
			// of the policy file, when, how it ended, and its diff as JSON. Backtests never
			// write alerts; this log is all they leave.
			createStep(`CREATE TABLE IF NOT EXISTS backtests (
	id String,
	at DateTime('Asia/Shanghai'),
	user_id String,
	user_name String,
	user_role String,
	policy_digest String,
	policy_version String,
	status String,
	error String,
	seconds Float64,
	diff String
) ENGINE = MergeTree
ORDER BY (at, id)`),
		},
	},
	{
		version: 22,
		name:    "canonical invoice keys",
		steps: []step{
			// The canonical key of each invoice (voucherwatch.CanonicalInvoice), made at decode and
			// stored beside the code and number as sent: the detectors and the look-ups compare
			// invoices by it, so that one invoice cited split and joined, with and without its
			// leading zeros, is one invoice. The code and number stay what the evidence shows.
			addColumnStep("settlements", "invoice_key", "String", "invoice_no"),
			addColumnStep("claims", "invoice_key", "Array(String)", "invoice_no"),
			// Rows stored before this migration have no key: readers make it in Go
			// (ClaimInvoice.CanonicalKey, Settlement.CanonicalKey), and their look-up keys below
			// are code‖number, the key of every paper invoice with its 8 digits and of every
			// digital one; a record ingested again gets its full key.
			createStep(`CREATE MATERIALIZED VIEW IF NOT EXISTS claims_lookup_invoice_keys TO lookup_keys AS
SELECT 'claim_invoice_key' AS kind, invoice_key AS k, applicant_uscc AS owner, claim_id,
	invoice_code, invoice_no, ingested_at
FROM claims ARRAY JOIN invoice_key, invoice_code, invoice_no`),
			createStep(`CREATE MATERIALIZED VIEW IF NOT EXISTS settlements_lookup_invoice_keys TO lookup_keys AS
SELECT 'settlement_invoice_key' AS kind, invoice_key AS k, supplier_uscc AS owner, '' AS claim_id,
	invoice_code, invoice_no, ingested_at
FROM settlements`),
			sqlStep(`INSERT INTO lookup_keys (kind, k, owner, claim_id, invoice_code, invoice_no, ingested_at)
SELECT 'claim_invoice_key', if(invoice_code = '', invoice_no, concat(invoice_code, invoice_no)), applicant_uscc, claim_id,
	invoice_code, invoice_no, ingested_at
FROM claims ARRAY JOIN invoice_code, invoice_no`),
			sqlStep(`INSERT INTO lookup_keys (kind, k, owner, claim_id, invoice_code, invoice_no, ingested_at)
SELECT 'settlement_invoice_key', if(invoice_code = '', invoice_no, concat(invoice_code, invoice_no)), supplier_uscc, '',
	invoice_code, invoice_no, ingested_at
FROM settlements`),
		},
	},
	{
		version: 23,
		name:    "canonical registry keys",
		steps: []step{
			// The canonical forms of the registry's identifiers (voucherwatch.CanonicalPhone,
			// CanonicalEmail, CanonicalBankAccount, CanonicalName), made at decode and stored
			// beside them: the related-party graph compares them. Rows stored before this
			// migration have empty keys, and readers make the keys in Go.
			addColumnStep("registry", "name_key", "String", "name"),
			addColumnStep("registry", "legal_rep_phone_key", "String", "legal_rep_email"),
			addColumnStep("registry", "legal_rep_email_key", "String", "legal_rep_phone_key"),
			addColumnStep("registry", "contact_phone_key", "Array(String)", "contact_email"),
			addColumnStep("registry", "contact_email_key", "Array(String)", "contact_phone_key"),
			addColumnStep("registry", "holder_name_key", "Array(String)", "holder_name"),
			addColumnStep("registry", "officer_phone_key", "Array(String)", "officer_email"),
			addColumnStep("registry", "officer_email_key", "Array(String)", "officer_phone_key"),
			addColumnStep("registry", "bank_account_key", "Array(String)", "bank_account_no"),
			// The server expanded registry_latest's SELECT * when the view was made: made again,
			// it has the new columns. Readers asking in between get an error and retry at their
			// next run.
			sqlStep(`DROP TABLE IF EXISTS registry_latest`),
			createStep(`CREATE VIEW IF NOT EXISTS registry_latest AS
SELECT * FROM registry
ORDER BY uscc, event_time DESC, source DESC, id DESC
LIMIT 1 BY uscc`),
		},
	},
	{
		version: 24,
		name:    "usage_days spreads spans in a subquery",
		steps: []step{
			// On a cluster, 18.16 answers "Number of columns doesn't match" when a query takes
			// some of usage_days' columns: the span part computed day_card_hours from the alias
			// day made by arrayJoin in the same SELECT over a Distributed table, and pruning the
			// unread columns broke that. The days are now spread in a subquery of their own; the
			// arithmetic is unchanged, so every reader gets the same rows on one node.
			sqlStep(`DROP TABLE IF EXISTS usage_days`),
			createStep(`CREATE VIEW IF NOT EXISTS usage_days AS
SELECT day, supplier_uscc, buyer_uscc, contract_no, chip_model, chip_origin, day_card_hours, util_card_hours, windows
FROM usage_daily
UNION ALL
SELECT
	day,
	supplier_uscc,
	buyer_uscc,
	contract_no,
	chip_model,
	chip_origin,
	span_card_hours
		* (least(toUInt32(span_end), toUInt32(toDateTime(day + 1, 'Asia/Shanghai')))
			- greatest(toUInt32(span_start), toUInt32(toDateTime(day, 'Asia/Shanghai'))))
		/ (toUInt32(span_end) - toUInt32(span_start)) AS day_card_hours,
	span_util_card_hours
		* (least(toUInt32(span_end), toUInt32(toDateTime(day + 1, 'Asia/Shanghai')))
			- greatest(toUInt32(span_start), toUInt32(toDateTime(day, 'Asia/Shanghai'))))
		/ (toUInt32(span_end) - toUInt32(span_start)) AS util_card_hours,
	span_windows * toUInt64(day = toDate(span_start)) AS windows
FROM (
	SELECT
		arrayJoin(arrayMap(i -> toDate(span_start) + i,
			range(toUInt32(dateDiff('day', toDate(span_start), toDate(span_end - 1, 'Asia/Shanghai')) + 1)))) AS day,
		span_start, span_end, supplier_uscc, buyer_uscc, contract_no, chip_model, chip_origin,
		span_card_hours, span_util_card_hours, span_windows
	FROM usage_spans
)`),
		},
	},
	{
		version: 25,
		name:    "usage units kept per run group",
		steps: []step{
			// The usage sweeps (capacity peaks, metering against invoices) read every group of
			// usage_runs as units; the FINAL merge of usage_runs' aggregate states, twice per
			// sweep, was most of a full run and grew with the history. usage_units keeps each
			// group's units finalized, one row per group (its units in arrays, so a group that
			// turns inexact replaces its one run by its windows), and the sweeps refresh only
			// the groups of the (resource, day) pairs written since their last pass:
			// usage_touched, which a view writes with the insert's time, says which. The
			// passes are recorded in sweep_passes. See docs/detection.md.
			createStep(`CREATE TABLE IF NOT EXISTS usage_touched (
	touched_at DateTime('Asia/Shanghai'),
	supplier_uscc String,
	resource_id String,
	run_day DateTime('Asia/Shanghai')
) ENGINE = MergeTree()
PARTITION BY toYYYYMM(touched_at)
ORDER BY (touched_at, supplier_uscc, resource_id, run_day)`),
			createStep(`CREATE MATERIALIZED VIEW IF NOT EXISTS usage_touched_mv TO usage_touched AS
SELECT now() AS touched_at, supplier_uscc, resource_id, toStartOfDay(window_start) AS run_day
FROM usage
WHERE window_end > window_start
GROUP BY supplier_uscc, resource_id, run_day`),
			// usage_units is sorted by day and a 64-bit hash of the group's other key columns
			// (unit_key): FINAL over nine key columns, seven of them strings, took 12 s on a
			// 100 M history where this key takes under 1 s. shared says that another group has
			// the same resource, day and buyer: only such groups can hold copies of a window,
			// so only they need the capacity sweep's deduplication.
			createStep(`CREATE TABLE IF NOT EXISTS usage_units (
	run_day DateTime('Asia/Shanghai'),
	unit_key UInt64,
	supplier_uscc String,
	resource_id String,
	buyer_uscc String,
	contract_no String,
	chip_model String,
	cards UInt32,
	run_span UInt32,
	run_phase UInt32,
	shared UInt8,
	unit_ws Array(Int64),
	unit_we Array(Int64),
	unit_windows Array(UInt64),
	unit_ch Array(Float64),
	unit_slots Array(UInt64),
	unit_version DateTime('Asia/Shanghai')
) ENGINE = ReplacingMergeTree(unit_version)
PARTITION BY toYear(run_day)
ORDER BY (run_day, unit_key)`),
			createStep(`CREATE TABLE IF NOT EXISTS sweep_passes (
	sweep String,
	pass_at DateTime('Asia/Shanghai')
) ENGINE = MergeTree()
ORDER BY (sweep, pass_at)`),
		},
	},
	{
		version: 26,
		name:    "invoice meterings kept",
		steps: []step{
			// Metering against invoices compared every settlement with its contract's whole
			// metering on every full run. invoice_meterings keeps each invoice's comparison (the
			// sums of migration 18's units within its period), rebuilt for the invoices whose
			// settlement was stored, or whose contract's units within its period were
			// rebuilt, since the last pass: the sweep reads one row per invoice. Versions are
			// twice the pass's Unix time for the tombstone of an invoice that no longer
			// compares (present = 0) and one more for its comparison, so that the comparison
			// wins within a pass. See docs/detection.md.
			createStep(`CREATE TABLE IF NOT EXISTS invoice_meterings (
	card_month_hours Float64,
	invoice_code String,
	invoice_no String,
	supplier_uscc String,
	contract_no String,
	buyer_uscc String,
	period_start Date,
	period_end Date,
	billed Float64,
	metered Float64,
	windows UInt64,
	first_ws Int64,
	last_we Int64,
	ps Int64,
	pe Int64,
	present UInt8,
	metering_version UInt64
) ENGINE = ReplacingMergeTree(metering_version)
ORDER BY (card_month_hours, invoice_code, invoice_no)`),
		},
	},
	{
		version: 27,
		name:    "paid period usages kept",
		steps: []step{
			// idle_consumption compared every contract's daily metering over the whole
			// history with its paid period on every full run. paid_period_usages keeps each
			// contract's days within its paid period for one idle utilisation, rebuilt for the
			// contracts whose settlements were stored, or whose usage within the paid period
			// was written, since the last pass; versions and tombstones as invoice_meterings'.
			createStep(`CREATE TABLE IF NOT EXISTS paid_period_usages (
	idle_util Float64,
	supplier_uscc String,
	buyer_uscc String,
	contract_no String,
	paid_from Date,
	paid_to Date,
	metered_days UInt64,
	idle_days UInt64,
	total_ch Float64,
	total_uch Float64,
	present UInt8,
	usage_version UInt64
) ENGINE = ReplacingMergeTree(usage_version)
ORDER BY (idle_util, supplier_uscc, buyer_uscc, contract_no)`),
		},
	},
	{
		version: 28,
		name:    "record keys in finer granules",
		steps: append([]step{
			// A batch's look-up (store/records.go) reads at least one granule of record_keys
			// in every part whose range covers one of its key times, and a time's keys fill
			// a fraction of a granule of 8,192 rows in each part: the rows read grew with the
			// parts a history holds, not with the batch (docs/ingest-dedup.md). Granules of
			// 1,024 rows read an eighth of that; the primary index of 100 M keys is then
			// about 100,000 marks. The rebuild copies every key (exact rows kept) and is
			// resumable and safe under concurrent migrators (see (*DB).repartition); the
			// views writing the keys are dropped by the migrator that rebuilds and created
			// again below, as migration 13 made them.
			regranulateStep(repartition{
				table:       "record_keys",
				engine:      "ReplacingMergeTree(ingested_at)",
				partitionBy: "toYear(at)",
				primaryKey:  "(tbl, at, rec_hash)",
				orderBy:     "(tbl, at, rec_hash, source, id)",
				settings:    "index_granularity = 1024",
				views:       []string{"usage_record_keys", "registry_record_keys", "contracts_record_keys", "settlements_record_keys", "claims_record_keys"},
			}),
		}, recordKeyViews()...),
	},
	{
		version: 29,
		name:    "usage views without a group per record",
		steps: []step{
			// A year of weekly windows backfilled (docs/ingest-dedup.md) makes one usage_runs
			// group per record, and usage_runs_mv's GROUP BY over nine keys, six of them
			// strings, then only adds cost: 169 ms of server CPU per 100,000 weekly records,
			// against 89 ms for a state per record. Windows of twelve hours or more (at most two
			// of a group per day) now get their states per record through arrayReduce; shorter
			// ones, which share their group with the day's others, keep the GROUP BY. Readers
			// merge the states (FINAL, or -Merge over the group), so rows per record read the
			// same. The new views are in place before the old one goes: a record stored in
			// between is counted twice, which makes its group read from usage, not wrong
			// (migration 18).
			createStep(`CREATE MATERIALIZED VIEW IF NOT EXISTS usage_runs_short_mv TO usage_runs AS
` + usageRunsStates + ` AND toUInt32(window_end) - toUInt32(window_start) < 43200
GROUP BY supplier_uscc, resource_id, run_day, buyer_uscc, contract_no, chip_model, cards, run_span, run_phase`),
			createStep(`CREATE MATERIALIZED VIEW IF NOT EXISTS usage_runs_long_mv TO usage_runs AS
` + usageRunsLongHead + usageRunsLongFrom),
			sqlStep(`DROP TABLE IF EXISTS usage_runs_mv`),
			// usage_touched_mv wrote one row per (supplier, resource, day) of a block: a
			// year's weekly windows of a resource, 52 rows and a GROUP BY of as many keys
			// (68 ms of server CPU per 100,000 records). usage_touched_days holds one row per
			// (supplier, resource) of a block with its days in an array (23 ms); readers
			// take the pairs of both tables (store/read_units.go), the old one holding what
			// was written before.
			createStep(`CREATE TABLE IF NOT EXISTS usage_touched_days (
` + touchedDaysColumns),
			createStep(`CREATE MATERIALIZED VIEW IF NOT EXISTS usage_touched_days_mv TO usage_touched_days AS
` + touchedDaysSelect),
			sqlStep(`DROP TABLE IF EXISTS usage_touched_mv`),
		},
	},
	{
		version: 30,
		name:    "windows of a day or more spread from usage_runs",
		steps: []step{
			// A window of a day or more is the only one of its usage_runs group (its group's
			// day and phase fix its start), so the group's row can carry what usage_spans
			// held for it: its chip origin, card-hours and utilised card-hours, one tuple per
			// record (run_spans). Such windows then write usage_runs alone, not usage_spans
			// too: on a year of weekly windows backfilled, the spans view's part was about a
			// quarter of the server's CPU (docs/benchmarks.md, tenth session). Rows written
			// before have no tuples (their spans stay in usage_spans) and shorter windows
			// never do, so nothing is counted twice; usage_days and usageDaysSQL read both.
			// Every view writing usage_runs must name the new column (18.16: "Expected
			// column"), so all three are replaced; inserts between the column and its views
			// fail and are retried, and one between the spans views' swap would miss or
			// double its spans: stop ingest while this runs (docs/deploy.md).
			addColumnStep("usage_runs", "run_spans", "AggregateFunction(groupArray, Tuple(String, Float64, Float64))", ""),
			sqlStep(`DROP TABLE IF EXISTS usage_runs_short_mv`),
			createStep(`CREATE MATERIALIZED VIEW IF NOT EXISTS usage_runs_short_mv TO usage_runs AS
` + usageRunsStatesSpans + ` AND toUInt32(window_end) - toUInt32(window_start) < 43200
GROUP BY supplier_uscc, resource_id, run_day, buyer_uscc, contract_no, chip_model, cards, run_span, run_phase`),
			sqlStep(`DROP TABLE IF EXISTS usage_runs_long_mv`),
			createStep(`CREATE MATERIALIZED VIEW IF NOT EXISTS usage_runs_long_mv TO usage_runs AS
` + usageRunsLongHead + `,
	arrayReduce('groupArrayState', arrayFilter(x -> ` + daySpanSQL + `, [tuple(chip_origin, card_hours, card_hours * util_avg)])) AS run_spans` + usageRunsLongFrom),
			sqlStep(`DROP TABLE IF EXISTS usage_spans_mv`),
			createStep(`CREATE MATERIALIZED VIEW IF NOT EXISTS usage_spans_short_mv TO usage_spans AS
SELECT
	if(toDate(window_start) = toDate(greatest(window_end, window_start + 1) - 1, 'Asia/Shanghai'), toDateTime(toDate(window_start), 'Asia/Shanghai'), window_start) AS span_start,
	if(toDate(window_start) = toDate(greatest(window_end, window_start + 1) - 1, 'Asia/Shanghai'), toDateTime(toDate(window_start) + 1, 'Asia/Shanghai'), greatest(window_end, window_start + 1)) AS span_end,
	supplier_uscc, buyer_uscc, contract_no, chip_model, chip_origin,
	sum(card_hours) AS span_card_hours, sum(card_hours * util_avg) AS span_util_card_hours, toUInt64(count()) AS span_windows
FROM usage
WHERE NOT (` + daySpanSQL + `)
GROUP BY span_start, span_end, supplier_uscc, buyer_uscc, contract_no, chip_model, chip_origin`),
			sqlStep(`DROP TABLE IF EXISTS usage_days`),
			createStep(`CREATE VIEW IF NOT EXISTS usage_days AS
` + usageDaysDaily + `1
UNION ALL
` + usageDaysSpread + usageDaysSpans + `1
)
UNION ALL
` + usageDaysSpread + usageDaysRunSpans + `1
		)
	)
)`),
		},
	},
	{
		version: 31,
		name:    "touched pairs in parts of at most a mebibyte",
		steps: []step{
			// usage_touched_days gets a few thousand rows a batch and holds a month's in one
			// partition, and 18.16 merged each batch's small part into the month's large
			// one: on a 100 M history built that day, every batch of a weekly backfill
			// rewrote the 450,000 rows of that part, 3 s of the server's merges for 59,000
			// rows written in a run (system.part_log, docs/benchmarks.md, eleventh session),
			// a cost that grew through the month. The readers take only the rows since the
			// last pass (store/read_units.go), so large parts are of no use to them: this
			// table's merges stop at a mebibyte (about 200,000 rows), and a month of a
			// province's hourly telemetry is a few such parts. SETTINGS cannot change in
			// place on 18.16, so it is a new table; its view is created before the old one
			// is dropped, and the readers take the pairs of all three tables (a pair read
			// twice is one pair).
			createStep(`CREATE TABLE IF NOT EXISTS usage_touched_log (
` + touchedDaysColumns + `
SETTINGS max_bytes_to_merge_at_max_space_in_pool = 1048576`),
			createStep(`CREATE MATERIALIZED VIEW IF NOT EXISTS usage_touched_log_mv TO usage_touched_log AS
` + touchedDaysSelect),
			sqlStep(`DROP TABLE IF EXISTS usage_touched_days_mv`),
		},
	},
	{
		version: 32,
		name:    "windows of twelve hours or more in a plain table",
		steps: []step{
			// A window of twelve hours or more shares its usage_runs group with one other at
			// most (a day holds two starts of one length and phase), so that group's aggregate
			// states carried one or two records, at a cost: usage_runs_long_mv's arrayReduce per record, and
			// merges that read and rewrite the states. On a year of weekly windows backfilled,
			// the view and its merges were about a third of the server's CPU: 1 M weekly
			// records into an empty database took 450 ticks of it with the view and 315
			// without (docs/benchmarks.md, thirteenth session). usage_long_windows holds such
			// windows as plain columns in a MergeTree keyed by the prefix of usage_runs' key
			// (OPTIMIZE FINAL of a million rows: 0.40 s against 0.72 s for usage_runs). Every
			// row is one record: the readers (runGroupsSQL) group the long windows of both
			// tables by usage_runs' key, so a window in both (written between this view and the
			// old one's drop, or a copy sent after a first stored before) counts as two
			// records, which sends its group to usage, as any copy does (migration 18). Spans
			// of a day or more are read from it by usage_days, made again below; a window
			// written in both would count twice there, so, as for migration 30, stop ingest
			// while this runs (docs/deploy.md).
			createStep(`CREATE TABLE IF NOT EXISTS usage_long_windows (
	supplier_uscc String,
	resource_id String,
	run_day DateTime('Asia/Shanghai'),
	buyer_uscc String,
	contract_no String,
	chip_model String,
	cards UInt32,
	run_span UInt32,
	run_phase UInt32,
	window_start DateTime('Asia/Shanghai'),
	card_hours Float64,
	chip_origin String,
	util_card_hours Float64
) ENGINE = MergeTree()
PARTITION BY toYear(run_day)
ORDER BY (supplier_uscc, resource_id, run_day)`),
			createStep(`CREATE MATERIALIZED VIEW IF NOT EXISTS usage_long_windows_mv TO usage_long_windows AS
SELECT supplier_uscc, resource_id, toStartOfDay(window_start) AS run_day, buyer_uscc, contract_no, chip_model, cards,
	toUInt32(toUInt32(window_end) - toUInt32(window_start)) AS run_span,
	toUInt32((toUInt32(window_start) - toUInt32(run_day)) % run_span) AS run_phase,
	window_start, card_hours, chip_origin, card_hours * util_avg AS util_card_hours
FROM usage
WHERE window_end > window_start AND toUInt32(window_end) - toUInt32(window_start) >= 43200`),
			sqlStep(`DROP TABLE IF EXISTS usage_runs_long_mv`),
			sqlStep(`DROP TABLE IF EXISTS usage_days`),
			createStep(`CREATE VIEW IF NOT EXISTS usage_days AS
` + usageDaysDaily + `1
UNION ALL
` + usageDaysSpread + usageDaysSpans + `1
)
UNION ALL
` + usageDaysSpread + usageDaysRunSpans + `1
		)
	)
)
UNION ALL
` + usageDaysSpread + usageDaysLongSpans + `1
	)
)`),
		},
	},
	{
		version: 33,
		name:    "look-up keys in one part per insert",
		steps: append([]step{
			// Three views wrote a claim's look-up keys (its id, its invoices as sent, their
			// canonical keys) and four a settlement's, each its own part of lookup_keys per
			// INSERT. Claims arrive one at a time, so a claim cost five new parts, and the
			// small parts of lookup_keys were merged again after every few claims (a 2 M-record
			// live stream with 20 claims: 67 new parts and 37 merges of lookup_keys). One view
			// per record table now writes all of its keys: arrayJoin makes one row per key,
			// pos numbering them within the record (0 the claim id, then each invoice as sent,
			// then each canonical key; a settlement's invoice, contract, payment reference and
			// canonical key). 18.16 refuses a view column the target does not have, hence pos
			// in the table; the sorting key leaves it out, so copies still collapse and the rows
			// of the old views equal the new ones'.
			//
			// The claims view leans on ClickHouse's alias rules: invoice_code and invoice_no in
			// k's expression are the row's values (the aliases), in their own expressions the
			// arrays (a column named in its own alias's expression). A claim's three invoice
			// arrays are equally long (the old ARRAY JOIN views required it, and decode makes
			// them so), and index 0 of an array reads ''.
			addColumnStep("lookup_keys", "pos", "UInt32", "ingested_at"),
			createStep(`CREATE MATERIALIZED VIEW IF NOT EXISTS claims_lookup_keys TO lookup_keys AS
SELECT
	arrayJoin(range(toUInt32(1 + 2 * length(invoice_key)))) AS pos,
	multiIf(pos = 0, 'claim', pos <= length(invoice_key), 'claim_invoice', 'claim_invoice_key') AS kind,
	invoice_code[if(pos <= length(invoice_key), pos, pos - length(invoice_key))] AS invoice_code,
	invoice_no[if(pos <= length(invoice_key), pos, pos - length(invoice_key))] AS invoice_no,
	multiIf(pos = 0, claim_id, pos <= length(invoice_key), concat(invoice_code, '/', invoice_no),
		invoice_key[pos - length(invoice_key)]) AS k,
	applicant_uscc AS owner,
	claim_id,
	ingested_at
FROM claims`),
			createStep(`CREATE MATERIALIZED VIEW IF NOT EXISTS settlements_lookup_keys TO lookup_keys AS
SELECT
	toUInt32(arrayJoin(if(payment_ref = '', [0, 1, 3], [0, 1, 2, 3]))) AS pos,
	['settlement_invoice', 'settlement_contract', 'payment_ref', 'settlement_invoice_key'][pos + 1] AS kind,
	multiIf(pos = 0, concat(invoice_code, '/', invoice_no), pos = 1, concat(buyer_uscc, '/', contract_no),
		pos = 2, payment_ref, invoice_key) AS k,
	supplier_uscc AS owner,
	'' AS claim_id,
	invoice_code,
	invoice_no,
	ingested_at
FROM settlements`),
			// The new views are in place before the old ones go: a record stored in between
			// writes its keys twice, which merges collapse; the other order would lose them.
		}, dropSteps("claims_lookup_ids", "claims_lookup_invoices", "claims_lookup_invoice_keys",
			"settlements_lookup_invoices", "settlements_lookup_contracts", "settlements_lookup_payment_refs",
			"settlements_lookup_invoice_keys")...),
	},
}

// dropSteps drops each of tables (or views) if it exists.
func dropSteps(tables ...string) []step {
	out := make([]step, len(tables))
	for i, t := range tables {
		out[i] = sqlStep(`DROP TABLE IF EXISTS ` + t)
	}
	return out
}

// touchedDaysColumns is the columns and engine clause of usage_touched_days (migration 29) and
// usage_touched_log (migration 31, which adds a SETTINGS clause), after the opening parenthesis.
const touchedDaysColumns = `	touched_at DateTime('Asia/Shanghai'),
	supplier_uscc String,
	resource_id String,
	run_days Array(DateTime('Asia/Shanghai'))
) ENGINE = MergeTree()
PARTITION BY toYYYYMM(touched_at)
ORDER BY (touched_at, supplier_uscc, resource_id)`

// touchedDaysSelect is the query of the views writing them: one row per (supplier, resource)
// of an insert block, its days in an array, stamped with the server's time.
const touchedDaysSelect = `SELECT now() AS touched_at, supplier_uscc, resource_id, groupUniqArray(toStartOfDay(window_start)) AS run_days
FROM usage
WHERE window_end > window_start
GROUP BY supplier_uscc, resource_id`

// usageRunsStates is usage_runs_mv's query up to its GROUP BY (migration 18), which
// usage_runs_short_mv narrows (migration 29). Migrations embed its text: never change it,
// write another.
const usageRunsStates = usageRunsStatesHead + usageRunsStatesFrom

// usageRunsStatesSpans is usageRunsStates with the column run_spans (migration 30): empty
// for windows shorter than a day. Migrations embed its text: never change it, write another.
const usageRunsStatesSpans = usageRunsStatesHead + `,
	groupArrayStateIf(tuple(chip_origin, card_hours, card_hours * util_avg), 0) AS run_spans` + usageRunsStatesFrom

// usageRunsStatesHead and usageRunsStatesFrom are the two queries' common text, before and
// after the column run_spans.
const usageRunsStatesHead = `SELECT supplier_uscc, resource_id, toStartOfDay(window_start) AS run_day, buyer_uscc, contract_no, chip_model, cards,
	toUInt32(toUInt32(window_end) - toUInt32(window_start)) AS run_span,
	toUInt32((toUInt32(window_start) - toUInt32(run_day)) % run_span) AS run_phase,
	minState(window_start) AS run_first,
	maxState(window_start) AS run_last,
	groupBitOrState(if(run_span >= 1800, toUInt64(bitShiftLeft(toUInt64(1), intDiv(toUInt32(window_start) - toUInt32(run_day), run_span))), toUInt64(0))) AS run_slots,
	sumState(toUInt64(1)) AS run_records,
	sumState(card_hours) AS run_card_hours`

const usageRunsStatesFrom = `
FROM usage
WHERE window_end > window_start`

// usageRunsLongHead and usageRunsLongFrom are usage_runs_long_mv's query (migration 29: a
// state per record, no GROUP BY), before and after the column run_spans that migration 30
// adds. Migrations embed their text: never change it, write another.
const usageRunsLongHead = `SELECT supplier_uscc, resource_id, toStartOfDay(window_start) AS run_day, buyer_uscc, contract_no, chip_model, cards,
	toUInt32(toUInt32(window_end) - toUInt32(window_start)) AS run_span,
	toUInt32((toUInt32(window_start) - toUInt32(run_day)) % run_span) AS run_phase,
	arrayReduce('minState', [window_start]) AS run_first,
	arrayReduce('maxState', [window_start]) AS run_last,
	arrayReduce('groupBitOrState', [if(run_span >= 1800, toUInt64(bitShiftLeft(toUInt64(1), intDiv(toUInt32(window_start) - toUInt32(run_day), run_span))), toUInt64(0))]) AS run_slots,
	arrayReduce('sumState', [toUInt64(1)]) AS run_records,
	arrayReduce('sumState', [card_hours]) AS run_card_hours`

const usageRunsLongFrom = `
FROM usage
WHERE toUInt32(window_end) - toUInt32(window_start) >= 43200`

// daySpanSQL holds for a usage window of a day or more, whose spans usage_runs carries
// (migration 30). Migrations embed its text: never change it, write another.
const daySpanSQL = `window_end > window_start AND toUInt32(window_end) - toUInt32(window_start) >= 86400`

// maskSQL masks personal numbers in a string column the way voucherwatch.MaskText does, for
// rows written before masking: e-mail addresses keep their first character and domain,
// identity numbers their first 3 and last 4 characters, mobile numbers their first 3 and last
// 4 digits. Migrations embed its text: never change it, write another.
func maskSQL(col string) string {
	return `replaceRegexpAll(replaceRegexpAll(replaceRegexpAll(` + col + `,
		'([A-Za-z0-9._%+-])[A-Za-z0-9._%+-]*@([A-Za-z0-9-]+[.])', '\\1***@\\2'),
		'(^|[^0-9])([1-9][0-9]{2})[0-9]{11}([0-9]{3}[0-9Xx])', '\\1\\2***********\\3'),
		'(^|[^0-9])((?:86)?1[3-9][0-9])[0-9]{4}([0-9]{4})([^0-9]|$)', '\\1\\2****\\3\\4')`
}

// recordKeyViews are the views that write every record table's keys into record_keys
// (migration 13), made again by migration 28 after its rebuild of the table.
func recordKeyViews() []step {
	return []step{
		createStep(`CREATE MATERIALIZED VIEW IF NOT EXISTS usage_record_keys TO record_keys AS
SELECT 'usage' AS tbl, window_start AS at, rec_hash, source, id, ingested_at FROM usage`),
		createStep(`CREATE MATERIALIZED VIEW IF NOT EXISTS registry_record_keys TO record_keys AS
SELECT 'registry' AS tbl, toDateTime(0, 'Asia/Shanghai') AS at, rec_hash, source, id, ingested_at FROM registry`),
		createStep(`CREATE MATERIALIZED VIEW IF NOT EXISTS contracts_record_keys TO record_keys AS
SELECT 'contracts' AS tbl, toDateTime(0, 'Asia/Shanghai') AS at, rec_hash, source, id, ingested_at FROM contracts`),
		createStep(`CREATE MATERIALIZED VIEW IF NOT EXISTS settlements_record_keys TO record_keys AS
SELECT 'settlements' AS tbl, toDateTime(0, 'Asia/Shanghai') AS at, rec_hash, source, id, ingested_at FROM settlements`),
		createStep(`CREATE MATERIALIZED VIEW IF NOT EXISTS claims_record_keys TO record_keys AS
SELECT 'claims' AS tbl, toDateTime(0, 'Asia/Shanghai') AS at, rec_hash, source, id, ingested_at FROM claims`),
	}
}
