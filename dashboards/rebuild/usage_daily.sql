-- Rebuilds usage_daily (migration 7) from the usage records, each record once (FINAL).
-- Run with ingest stopped, after TRUNCATE TABLE usage_daily; see dashboards/README.md.
-- The SELECT is that of usage_daily_block_mv (migration 13 ("record keys by time")) row by row, which the view sums per
-- inserted block; dashboards_test.go checks that both give the same table.
INSERT INTO usage_daily (day, supplier_uscc, buyer_uscc, contract_no, chip_model, chip_origin, day_card_hours, util_card_hours, windows)
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
FROM usage FINAL
