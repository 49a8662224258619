-- Rebuilds usage_long_windows (migration 32), the windows of twelve hours or more stored since that migration, from
-- the usage records, each record once (FINAL). Run with ingest stopped, after TRUNCATE TABLE usage_long_windows; see
-- dashboards/README.md. The SELECT is that of usage_long_windows_mv; windows stored before migration 32 are groups of
-- usage_runs and stay there.
INSERT INTO usage_long_windows (supplier_uscc, resource_id, run_day, buyer_uscc, contract_no, chip_model, cards, run_span, run_phase,
	window_start, card_hours, chip_origin, util_card_hours)
SELECT supplier_uscc, resource_id, toStartOfDay(window_start) AS run_day, buyer_uscc, contract_no, chip_model, cards,
	toUInt32(toUInt32(window_end) - toUInt32(window_start)) AS run_span,
	toUInt32((toUInt32(window_start) - toUInt32(run_day)) % run_span) AS run_phase,
	window_start, card_hours, chip_origin, card_hours * util_avg AS util_card_hours
FROM usage FINAL
WHERE window_end > window_start AND toUInt32(window_end) - toUInt32(window_start) >= 43200
	AND (supplier_uscc, resource_id, run_day, buyer_uscc, contract_no, chip_model, cards, run_span, run_phase) NOT IN (
		SELECT supplier_uscc, resource_id, run_day, buyer_uscc, contract_no, chip_model, cards, run_span, run_phase
		FROM usage_runs
		WHERE run_span >= 43200)
