package store

import (
	"context"
	"fmt"
	"strconv"

	"github.com/ClickHouse/clickhouse-go/v2"
	"github.com/ClickHouse/clickhouse-go/v2/ext"

	"github.com/voucherwatch/voucherwatch"
)

// GeneratedUsage is hourly usage made up in ClickHouse for a scale benchmark's history, so
// that 100 M records do not each travel as JSON through the decoder and the client: message k
// (From <= k < From+N) is the (k div len(Nodes))-th hourly window of node k mod len(Nodes),
// with source the node's supplier, id "usage-" and k+1 in ten digits, Kafka offset
// OffsetBase+k on Topic, partition 0. Its figures (card-hours, utilisation, jobs, users, the
// event time's lateness) are hashes of Seed and k.
type GeneratedUsage struct {
	// Nodes carry every field of their records but the window and the figures; WindowStart
	// is the start of a node's first window, WindowEnd is ignored.
	Nodes      []voucherwatch.Usage
	Seed       uint64
	From, N    int
	Topic      string
	OffsetBase int64
}

// generatedUsageChunk is how many records one INSERT … SELECT stores (a variable for the
// test): its keys' hashes travel as an external table of 16 bytes a record.
var generatedUsageChunk = 1 << 20

// generatedUsageSQL makes the records of the keys in generated_keys (k, rec_hash) from the
// nodes in generated_nodes. Arguments: the seed, the topic, the offset base, the seed four
// times, the node count.
const generatedUsageSQL = `INSERT INTO usage (source, id, rec_hash, event_time, kafka_topic, kafka_partition, kafka_offset, ingested_at,
	supplier_uscc, buyer_uscc, contract_no, tenant, resource_id, chip_model, chip_origin, cards, window_start, window_end,
	card_hours, util_avg, jobs, users, login_orgs, datacenter)
SELECT supplier_uscc AS source, concat('usage-', substring(toString(10000000000 + k + 1), 2)) AS id, rec_hash,
	toDateTime(toUInt32(first_start + intDiv(k, n_nodes) * 3600 + 3600 + 300 + cityHash64(?, k, 1) % 600), 'Asia/Shanghai') AS event_time,
	? AS kafka_topic, toUInt32(0) AS kafka_partition, toUInt64(? + k) AS kafka_offset, now() AS ingested_at,
	supplier_uscc, buyer_uscc, contract_no, tenant, resource_id, chip_model, chip_origin, cards,
	toDateTime(toUInt32(first_start + intDiv(k, n_nodes) * 3600), 'Asia/Shanghai') AS window_start,
	toDateTime(toUInt32(first_start + intDiv(k, n_nodes) * 3600 + 3600), 'Asia/Shanghai') AS window_end,
	round(cards * (0.2 + 0.8 * (cityHash64(?, k, 2) % 1000000) / 1000000), 3) AS card_hours,
	round(0.05 + 0.9 * (cityHash64(?, k, 3) % 1000000) / 1000000, 3) AS util_avg,
	toUInt32(cityHash64(?, k, 4) % 4) AS jobs,
	toUInt32(1 + cityHash64(?, k, 5) % 4) AS users,
	login_orgs, datacenter
FROM (SELECT k, rec_hash, toUInt32(k % n_nodes) AS node, ? AS n_nodes FROM generated_keys)
ALL INNER JOIN generated_nodes USING node`

// StoreGeneratedUsage stores g's records as ingest would store them: the same usage rows,
// record_keys and rollups (the materialized views of usage run on the INSERT … SELECT), the
// keys' hashes made by RecordHash, as StoreRecords makes them. It does not look the records
// up first: it is for a history built into a database that holds none of them (storing a
// record that is there already stores a copy, which readers absorb, as after a kill -9).
// TestGeneratedUsageIsWhatTheWriterStores holds it to StoreRecords.
func (db *DB) StoreGeneratedUsage(ctx context.Context, g GeneratedUsage, progress func(stored int)) error {
	if len(g.Nodes) == 0 || g.N <= 0 {
		return nil
	}
	nodes, err := ext.NewTable("generated_nodes", ext.Column("node", "UInt32"), ext.Column("supplier_uscc", "String"),
		ext.Column("buyer_uscc", "String"), ext.Column("contract_no", "String"), ext.Column("tenant", "String"),
		ext.Column("resource_id", "String"), ext.Column("chip_model", "String"), ext.Column("chip_origin", "String"),
		ext.Column("cards", "UInt32"), ext.Column("first_start", "UInt32"), ext.Column("login_orgs", "Array(String)"),
		ext.Column("datacenter", "String"))
	for i, u := range g.Nodes {
		if err != nil {
			break
		}
		err = nodes.Append(uint32(i), u.SupplierUSCC, u.BuyerUSCC, u.ContractNo, u.Tenant, u.ResourceID, u.ChipModel,
			u.ChipOrigin, uint32(u.Cards), uint32(u.WindowStart.Unix()), u.LoginOrgs, u.Datacenter)
	}
	if err != nil {
		return fmt.Errorf("store: generated usage: nodes: %w", err)
	}
	n := uint64(len(g.Nodes))
	id := make([]byte, 0, 16)
	for from := g.From; from < g.From+g.N; from += generatedUsageChunk {
		to := min(from+generatedUsageChunk, g.From+g.N)
		ks, hashes := make([]uint64, 0, to-from), make([]uint64, 0, to-from)
		for k := from; k < to; k++ {
			id = strconv.AppendInt(append(id[:0], "usage-"...), 10_000_000_000+int64(k)+1, 10)
			id = append(id[:6], id[7:]...)
			ks, hashes = append(ks, uint64(k)), append(hashes, RecordHash(g.Nodes[uint64(k)%n].SupplierUSCC, string(id)))
		}
		keys, err := ext.NewTable("generated_keys", ext.Column("k", "UInt64"), ext.Column("rec_hash", "UInt64"))
		if err == nil {
			_, err = keys.Block().Columns[0].Append(ks)
		}
		if err == nil {
			_, err = keys.Block().Columns[1].Append(hashes)
		}
		if err != nil {
			return fmt.Errorf("store: generated usage: keys: %w", err)
		}
		qctx := clickhouse.Context(ctx, clickhouse.WithExternalTable(keys, nodes), clickhouse.WithSettings(clickhouse.Settings{
			"max_block_size": generatedUsageChunk, "min_insert_block_size_rows": generatedUsageChunk,
		}))
		if err := db.conn.Exec(qctx, generatedUsageSQL, g.Seed, g.Topic, g.OffsetBase, g.Seed, g.Seed, g.Seed, g.Seed, n); err != nil {
			return fmt.Errorf("store: generated usage %d-%d: %w", from, to, err)
		}
		if progress != nil {
			progress(to - g.From)
		}
	}
	return nil
}
