package store

// usageDaysSQL is the query of the view usage_days (migration 32, made first by 16) with a
// filter inside each part of its UNION ALL: 18.16 does not push a WHERE on the view into it,
// so a query on the view spread every row of usage_spans over its days before filtering.
// dailyWhere filters usage_daily (columns day, supplier_uscc, buyer_uscc, …), spansWhere the
// spans (span_start, span_end, supplier_uscc, buyer_uscc, contract_no, chip_model): those of
// usage_spans, those usage_runs carries for windows of a day or more written before migration
// 32 (usageDaysRunSpans), and those of usage_long_windows since (usageDaysLongSpans), so its
// parameters are given three times. A reader still filters the days it wants, since a span
// that overlaps its period may spread over days outside it. The arithmetic is the view's,
// character for character (TestUsageDaysViewIsItsQuery).
func usageDaysSQL(dailyWhere, spansWhere string) string {
	return usageDaysDaily + dailyWhere + `
UNION ALL
` + usageDaysSpread + usageDaysSpans + spansWhere + `
)
UNION ALL
` + usageDaysSpread + usageDaysRunSpans + spansWhere + `
		)
	)
)
UNION ALL
` + usageDaysSpread + usageDaysLongSpans + spansWhere + `
	)
)`
}

// usageDaysArgs are the parameters of usageDaysSQL: those of its daily filter, then those of
// its span filter for each of its three parts that read spans.
func usageDaysArgs(daily, spans []any) []any {
	return append(append(append(append(make([]any, 0, len(daily)+3*len(spans)), daily...), spans...), spans...), spans...)
}

// The parts of usage_days (migration 30). Migrations embed their text: never change them,
// write others.
const (
	usageDaysDaily = `SELECT day, supplier_uscc, buyer_uscc, contract_no, chip_model, chip_origin, day_card_hours, util_card_hours, windows
FROM usage_daily
WHERE `
	// usageDaysSpread spreads each span of the FROM that follows over the days it covers, in
	// proportion; windows counts a span's windows on the day it starts.
	usageDaysSpread = `SELECT
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
	FROM `
	usageDaysSpans = `usage_spans
	WHERE `
	// usageDaysRunSpans is the spans of the windows of a day or more (migration 30): the
	// group's start is its day and phase, and each of its records one tuple of run_spans.
	// Groups of shorter windows, and those written before, have no tuples.
	usageDaysRunSpans = `(
		SELECT span_start, span_end, supplier_uscc, buyer_uscc, contract_no, chip_model,
			tupleElement(s, 1) AS chip_origin, tupleElement(s, 2) AS span_card_hours,
			tupleElement(s, 3) AS span_util_card_hours, toUInt64(1) AS span_windows
		FROM (
			SELECT toDateTime(toUInt32(run_day) + run_phase, 'Asia/Shanghai') AS span_start,
				toDateTime(toUInt32(run_day) + run_phase + run_span, 'Asia/Shanghai') AS span_end,
				supplier_uscc, buyer_uscc, contract_no, chip_model, arrayJoin(finalizeAggregation(run_spans)) AS s
			FROM usage_runs
			WHERE run_span >= 86400 AND `
	// usageDaysLongSpans is the spans of the windows of a day or more stored since migration
	// 32, one row each in usage_long_windows.
	usageDaysLongSpans = `(
		SELECT window_start AS span_start, toDateTime(toUInt32(window_start) + run_span, 'Asia/Shanghai') AS span_end,
			supplier_uscc, buyer_uscc, contract_no, chip_model, chip_origin,
			card_hours AS span_card_hours, util_card_hours AS span_util_card_hours, toUInt64(1) AS span_windows
		FROM usage_long_windows
		WHERE run_span >= 86400 AND `
)
