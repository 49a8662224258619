-- Rebuilds settlements_daily (migration 7) from the settlement records, each record once
-- (FINAL). Run with ingest stopped, after TRUNCATE TABLE settlements_daily; see
-- dashboards/README.md. The SELECT is settlements_daily_mv's; dashboards_test.go checks that
-- both give the same table.
INSERT INTO settlements_daily (day, supplier_uscc, buyer_uscc, service_type, chip_origin, item_amount, items)
SELECT
	invoice_date AS day,
	supplier_uscc,
	buyer_uscc,
	service_type,
	chip_origin,
	item_amount,
	toUInt64(1) AS items
FROM settlements FINAL
ARRAY JOIN item_service_type AS service_type, item_chip_origin AS chip_origin, item_amount
