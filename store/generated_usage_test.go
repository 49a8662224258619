package store

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/voucherwatch/voucherwatch"
	"github.com/voucherwatch/voucherwatch/synth"
)

// TestGeneratedUsageIsWhatTheWriterStores holds the scale benchmark's fast history path to
// the engine's writer: usage generated in ClickHouse (in several INSERT … SELECT chunks, some
// nodes with another organisation's logins, days of a node across midnight) and the same
// records read back and stored by StoreRecords into another database leave the same rows in
// usage and in every table its views write (record_keys, usage_runs, usage_spans,
// usage_foreign_logins), and a generated record sent again through StoreRecords is a
// duplicate (its key is the writer's).
func TestGeneratedUsageIsWhatTheWriterStores(t *testing.T) {
	ctx := testContext(t)
	defer func(n int) { generatedUsageChunk = n }(generatedUsageChunk)
	generatedUsageChunk = 700

	var nodes []voucherwatch.Usage
	for i, n := range synth.UsageStreamNodes(7)[:30] {
		u := voucherwatch.Usage{SupplierUSCC: n.SupplierUSCC, BuyerUSCC: n.BuyerUSCC, ContractNo: n.ContractNo, Tenant: n.Tenant,
			ResourceID: n.ResourceID, ChipModel: n.ChipModel, ChipOrigin: n.ChipOrigin, Cards: n.Cards, LoginOrgs: n.LoginOrgs,
			Datacenter: n.Datacenter, WindowStart: n.FirstWindow}
		if i%7 == 3 {
			u.LoginOrgs = []string{n.BuyerUSCC, supplierUSCC} // a tenant carrying another organisation's logins
		}
		if i%5 == 1 {
			u.WindowStart = u.WindowStart.Add(30 * time.Minute) // windows across every midnight: inexact runs
		}
		nodes = append(nodes, u)
	}
	g := GeneratedUsage{Nodes: nodes, Seed: 11, From: 5, N: 30*50 + 17, Topic: "usage.v1", OffsetBase: 900}

	fast, writer := newTestDB(t), newTestDB(t)
	var progressed int
	if err := fast.StoreGeneratedUsage(ctx, g, func(n int) { progressed = n }); err != nil {
		t.Fatal(err)
	}
	if progressed != g.N {
		t.Errorf("progress: got %d, want %d", progressed, g.N)
	}

	recs := readUsageRecords(t, fast)
	if len(recs) != g.N {
		t.Fatalf("generated: got %d usage rows, want %d", len(recs), g.N)
	}
	res, err := writer.StoreRecords(ctx, voucherwatch.TypeUsage, recs)
	if err != nil || res.Stored != g.N {
		t.Fatalf("StoreRecords: stored %d, err %v; want %d", res.Stored, err, g.N)
	}
	again, err := fast.StoreRecords(ctx, voucherwatch.TypeUsage, recs[100:110])
	if err != nil || again.Stored != 0 || again.Duplicates != 10 {
		t.Errorf("generated records sent again through StoreRecords: got %+v, %v; want 10 duplicates", again, err)
	}

	tables := map[string]string{
		"usage": `SELECT count(), sum(cityHash64(source, id, rec_hash, event_time, kafka_topic, kafka_partition, kafka_offset,
			supplier_uscc, buyer_uscc, contract_no, tenant, resource_id, chip_model, chip_origin, cards, window_start, window_end,
			card_hours, util_avg, jobs, users, arrayStringConcat(login_orgs, ','), datacenter)) FROM usage`,
		"record_keys": `SELECT count(), sum(cityHash64(tbl, at, rec_hash, source, id)) FROM record_keys`,
		"usage_runs": `SELECT count(), sum(cityHash64(` + usageRunKey + `, finalizeAggregation(run_first), finalizeAggregation(run_last),
			finalizeAggregation(run_slots), finalizeAggregation(run_records), round(finalizeAggregation(run_card_hours), 6))) FROM usage_runs FINAL`,
		"usage_spans": `SELECT count(), sum(cityHash64(span_start, span_end, supplier_uscc, buyer_uscc, contract_no, chip_model, chip_origin,
			round(c, 6), round(u, 6), w)) FROM (SELECT span_start, span_end, supplier_uscc, buyer_uscc, contract_no, chip_model, chip_origin,
			sum(span_card_hours) AS c, sum(span_util_card_hours) AS u, sum(span_windows) AS w FROM usage_spans
			GROUP BY span_start, span_end, supplier_uscc, buyer_uscc, contract_no, chip_model, chip_origin)`,
		"usage_foreign_logins": `SELECT count(), sum(cityHash64(buyer_uscc, supplier_uscc, contract_no, org, resource_id, tenant, window_start,
			source, id, card_hours)) FROM usage_foreign_logins`,
	}
	for table, q := range tables {
		var counts [2]uint64
		var sums [2]uint64
		for i, db := range []*DB{fast, writer} {
			if err := db.conn.QueryRow(ctx, q).Scan(&counts[i], &sums[i]); err != nil {
				t.Fatalf("%s: %v", table, err)
			}
		}
		if counts[0] == 0 || counts[0] != counts[1] || sums[0] != sums[1] {
			t.Errorf("%s: generated %d rows (checksum %d), the writer's %d rows (checksum %d): want the same, not none",
				table, counts[0], sums[0], counts[1], sums[1])
		}
	}
}

// readUsageRecords reads db's usage rows back as the records that made them.
func readUsageRecords(t *testing.T, db *DB) []voucherwatch.Record {
	t.Helper()
	var out []voucherwatch.Record
	err := db.scanRows(context.Background(), `SELECT source, id, event_time, kafka_topic, kafka_partition, kafka_offset,
		supplier_uscc, buyer_uscc, contract_no, tenant, resource_id, chip_model, chip_origin, cards, window_start, window_end,
		card_hours, util_avg, jobs, users, login_orgs, datacenter FROM usage ORDER BY kafka_offset`, nil, func(scan func(...any) error) error {
		var (
			r                    voucherwatch.Record
			u                    voucherwatch.Usage
			part, cards, j, usrs uint32
			offset               uint64
		)
		if err := scan(&r.Source, &r.ID, &r.Time, &r.Origin.Topic, &part, &offset, &u.SupplierUSCC, &u.BuyerUSCC, &u.ContractNo,
			&u.Tenant, &u.ResourceID, &u.ChipModel, &u.ChipOrigin, &cards, &u.WindowStart, &u.WindowEnd, &u.CardHours, &u.UtilAvg,
			&j, &usrs, &u.LoginOrgs, &u.Datacenter); err != nil {
			return err
		}
		r.Type, r.Origin.Partition, r.Origin.Offset = voucherwatch.TypeUsage, int(part), int64(offset)
		u.Cards, u.Jobs, u.Users = int(cards), int(j), int(usrs)
		r.Usage = &u
		out = append(out, r)
		return nil
	})
	if err != nil {
		t.Fatal(fmt.Errorf("read usage back: %w", err))
	}
	return out
}
