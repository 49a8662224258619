package store

import (
	"context"
	"fmt"
	"math"
)

// Consistency is one comparison of a derived table with the records it is derived from
// (voucherwatch check).
type Consistency struct {
	// Table is the derived table, Measure what is compared.
	Table, Measure string
	// Want is computed from the records, Got read from the derived table.
	Want, Got float64
}

// Drift reports whether the derived table disagrees with the records. Sums of Float64
// columns are compared to a relative 1e-9: they are added up in another order.
func (c Consistency) Drift() bool {
	return math.Abs(c.Want-c.Got) > 1e-9*math.Max(1, math.Max(math.Abs(c.Want), math.Abs(c.Got)))
}

// lookupKeysSQL are the rows lookup_keys holds for the records (the views of migrations 15 and 22).
const lookupKeysSQL = `SELECT 'claim' AS kind, claim_id AS k, applicant_uscc AS owner, claim_id, '' AS invoice_code, '' AS invoice_no FROM claims
UNION ALL
SELECT 'claim_invoice' AS kind, concat(invoice_code, '/', invoice_no) AS k, applicant_uscc AS owner, claim_id, invoice_code, invoice_no
FROM claims ARRAY JOIN invoice_code, invoice_no
UNION ALL
SELECT 'settlement_invoice' AS kind, concat(invoice_code, '/', invoice_no) AS k, supplier_uscc AS owner, '' AS claim_id, invoice_code, invoice_no FROM settlements
UNION ALL
SELECT 'settlement_contract' AS kind, concat(buyer_uscc, '/', contract_no) AS k, supplier_uscc AS owner, '' AS claim_id, invoice_code, invoice_no FROM settlements
UNION ALL
SELECT 'payment_ref' AS kind, payment_ref AS k, supplier_uscc AS owner, '' AS claim_id, invoice_code, invoice_no FROM settlements WHERE payment_ref != ''
UNION ALL
SELECT 'claim_invoice_key' AS kind, ` + legacyInvoiceKeySQL + ` AS k, applicant_uscc AS owner, claim_id, invoice_code, invoice_no
FROM claims ARRAY JOIN invoice_key, invoice_code, invoice_no
UNION ALL
SELECT 'settlement_invoice_key' AS kind, ` + legacyInvoiceKeySQL + ` AS k, supplier_uscc AS owner, '' AS claim_id, invoice_code, invoice_no FROM settlements`

// legacyInvoiceKeySQL is a record's canonical invoice key as lookup_keys holds it (migration 22):
// the key made at decode, or, for a record stored before keys were, the code‖number the
// migration's backfill wrote.
const legacyInvoiceKeySQL = `if(invoice_key = '', if(invoice_code = '', invoice_no, concat(invoice_code, invoice_no)), invoice_key)`

// checkBucketRows is about how many records of a table one anti-join of Check holds (tests
// make it small).
var checkBucketRows uint64 = 4_000_000

// Check compares the derived tables with the records: record_keys and lookup_keys (the same
// keys, none missing, none without its record), and the rollups (usage_spans with the legacy
// usage_daily, settlements_daily) against sums over the records, each record once. It reads
// every table whole: run it off-peak on a large database. On a cluster it reads through the
// Distributed tables, so every shard must answer.
func (db *DB) Check(ctx context.Context) ([]Consistency, error) {
	var out []Consistency
	one := func(table, measure, want, got string) error {
		var w, g float64
		if err := db.conn.QueryRow(ctx, "SELECT toFloat64(("+want+")), toFloat64(("+got+"))").Scan(&w, &g); err != nil {
			return fmt.Errorf("store: check %s, %s: %w", table, measure, err)
		}
		out = append(out, Consistency{Table: table, Measure: measure, Want: w, Got: g})
		return nil
	}
	for _, t := range []string{"registry", "contracts", "settlements", "usage", "claims"} {
		if err := one("record_keys", t+": distinct records",
			"SELECT uniqExact(source, id) FROM "+t,
			"SELECT uniqExact(source, id) FROM record_keys WHERE tbl = '"+t+"'"); err != nil {
			return nil, err
		}
		// The anti-joins hold one side's (source, id) in memory: at 100 M usage records that
		// was over 10 GiB, and the server refused the query. They run in buckets of the
		// records' hash (rec_hash, the same on both sides), about checkBucketRows rows each.
		var rows uint64
		if err := db.conn.QueryRow(ctx, "SELECT count() FROM "+t).Scan(&rows); err != nil {
			return nil, fmt.Errorf("store: check record_keys, %s: %w", t, err)
		}
		buckets := max(1, (rows+checkBucketRows-1)/checkBucketRows)
		var noKey, noRecord float64
		for b := range buckets {
			in := fmt.Sprintf("rec_hash %% %d = %d", buckets, b)
			keys := "FROM record_keys WHERE tbl = '" + t + "' AND " + in
			recs := "FROM " + t + " WHERE " + in
			var n, m uint64
			if err := db.conn.QueryRow(ctx, "SELECT (SELECT count() FROM (SELECT DISTINCT source, id "+recs+") WHERE (source, id) NOT IN (SELECT source, id "+keys+")), "+
				"(SELECT count() FROM (SELECT DISTINCT source, id "+keys+") WHERE (source, id) NOT IN (SELECT source, id "+recs+"))").Scan(&n, &m); err != nil {
				return nil, fmt.Errorf("store: check record_keys, %s, bucket %d of %d: %w", t, b, buckets, err)
			}
			noKey, noRecord = noKey+float64(n), noRecord+float64(m)
		}
		out = append(out, Consistency{Table: "record_keys", Measure: t + ": records without a key", Want: 0, Got: noKey},
			Consistency{Table: "record_keys", Measure: t + ": keys without a record", Want: 0, Got: noRecord})
	}
	const lookupCols = "kind, k, owner, claim_id, invoice_code, invoice_no"
	if err := one("lookup_keys", "distinct keys",
		"SELECT uniqExact("+lookupCols+") FROM ("+lookupKeysSQL+")",
		"SELECT uniqExact("+lookupCols+") FROM lookup_keys"); err != nil {
		return nil, err
	}
	if err := one("lookup_keys", "keys of records missing", "0",
		"SELECT count() FROM (SELECT DISTINCT "+lookupCols+" FROM ("+lookupKeysSQL+")) WHERE ("+lookupCols+") NOT IN (SELECT "+lookupCols+" FROM lookup_keys)"); err != nil {
		return nil, err
	}
	// Each record once: FINAL keeps one row per sorting key, which ends with (source, id). The
	// spans of windows of a day or more are usage_runs' tuples (migration 30), and
	// usage_long_windows' rows since migration 32.
	const runSpans = "(SELECT arrayJoin(finalizeAggregation(run_spans)) AS s FROM usage_runs)"
	const longSpans = "usage_long_windows WHERE run_span >= 86400"
	if err := one("usage_spans", "card-hours",
		"SELECT sum(card_hours) FROM usage FINAL",
		"SELECT (SELECT sum(span_card_hours) FROM usage_spans) + (SELECT sum(day_card_hours) FROM usage_daily) + (SELECT sum(tupleElement(s, 2)) FROM "+runSpans+") + (SELECT sum(card_hours) FROM "+longSpans+")"); err != nil {
		return nil, err
	}
	if err := one("usage_spans", "utilised card-hours",
		"SELECT sum(card_hours * util_avg) FROM usage FINAL",
		"SELECT (SELECT sum(span_util_card_hours) FROM usage_spans) + (SELECT sum(util_card_hours) FROM usage_daily) + (SELECT sum(tupleElement(s, 3)) FROM "+runSpans+") + (SELECT sum(util_card_hours) FROM "+longSpans+")"); err != nil {
		return nil, err
	}
	if err := one("usage_spans", "windows",
		"SELECT count() FROM usage FINAL",
		"SELECT (SELECT sum(span_windows) FROM usage_spans) + (SELECT sum(windows) FROM usage_daily) + (SELECT count() FROM "+runSpans+") + (SELECT count() FROM "+longSpans+")"); err != nil {
		return nil, err
	}
	if err := one("settlements_daily", "item amount",
		"SELECT toFloat64(sum(a)) FROM settlements FINAL ARRAY JOIN item_amount AS a",
		"SELECT toFloat64(sum(item_amount)) FROM settlements_daily"); err != nil {
		return nil, err
	}
	if err := one("settlements_daily", "items",
		"SELECT sum(length(item_amount)) FROM settlements FINAL",
		"SELECT sum(items) FROM settlements_daily"); err != nil {
		return nil, err
	}
	return out, nil
}
