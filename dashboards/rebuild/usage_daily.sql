-- Rebuilds the rollup behind usage_days (migration 16 ("usage rolled up by window span")) from the usage records, each
-- record once (FINAL). Run with ingest stopped, after TRUNCATE TABLE usage_daily and TRUNCATE TABLE usage_spans; see
-- dashboards/README.md. The SELECT is that of usage_spans_mv, which sums per inserted block; dashboards_test.go checks that
-- both give the same usage_days.
INSERT INTO usage_spans (span_start, span_end, supplier_uscc, buyer_uscc, contract_no, chip_model, chip_origin, span_card_hours, span_util_card_hours, span_windows)
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
FROM usage FINAL
GROUP BY span_start, span_end, supplier_uscc, buyer_uscc, contract_no, chip_model, chip_origin
