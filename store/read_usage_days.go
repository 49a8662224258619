package store

// usageDaysSQL is the query of the view usage_days (migration 24, made first by 16) with a filter inside each
// part of its UNION ALL: 18.16 does not push a WHERE on the view into it, so a query on the view
// spread every row of usage_spans over its days before filtering. dailyWhere filters
// usage_daily (columns day, supplier_uscc, buyer_uscc, …), spansWhere usage_spans (span_start,
// span_end, supplier_uscc, buyer_uscc, …); a reader still filters the days it wants, since a
// span that overlaps its period may spread over days outside it. The arithmetic is the view's,
// character for character.
func usageDaysSQL(dailyWhere, spansWhere string) string {
	return `SELECT day, supplier_uscc, buyer_uscc, contract_no, chip_model, chip_origin, day_card_hours, util_card_hours, windows
FROM usage_daily
WHERE ` + dailyWhere + `
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
	WHERE ` + spansWhere + `
)`
}
