-- Rebuilds the rollup behind usage_days (migration 16 ("usage rolled up by window span")) from the usage records, each
-- record once (FINAL). Run with ingest stopped, after TRUNCATE TABLE usage_daily and TRUNCATE TABLE usage_spans; see
-- dashboards/README.md. The SELECT is that of usage_spans_short_mv, which sums per inserted block; dashboards_test.go
-- checks that both give the same usage_days. Since migration 30 a window of a day or more has its span in its
-- usage_runs group (run_spans), and since migration 32 in usage_long_windows (rebuilt by usage_long_windows.sql), not
-- in usage_spans: such windows are rebuilt here only when their usage_runs group carries no spans (stored before
-- migration 30).
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
WHERE NOT (window_end > window_start AND toUInt32(window_end) - toUInt32(window_start) >= 86400)
	OR (supplier_uscc, resource_id, toStartOfDay(window_start), buyer_uscc, contract_no, chip_model, cards,
		toUInt32(toUInt32(window_end) - toUInt32(window_start)),
		toUInt32((toUInt32(window_start) - toUInt32(toStartOfDay(window_start))) % (toUInt32(window_end) - toUInt32(window_start)))) IN (
		SELECT supplier_uscc, resource_id, run_day, buyer_uscc, contract_no, chip_model, cards, run_span, run_phase
		FROM usage_runs
		WHERE run_span >= 86400
		GROUP BY supplier_uscc, resource_id, run_day, buyer_uscc, contract_no, chip_model, cards, run_span, run_phase
		HAVING empty(groupArrayMerge(run_spans)))
GROUP BY span_start, span_end, supplier_uscc, buyer_uscc, contract_no, chip_model, chip_origin
