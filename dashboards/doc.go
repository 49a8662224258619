// Package dashboards holds what operators and supervisors look at besides the engine's own UI:
// Grafana provisioning and dashboards over the ClickHouse tables, and the Prometheus scrape
// configuration and alerting rules over the engine's /metrics. The files are the product; this
// package embeds them so that a command can write them out, and its tests run every dashboard
// query against a real ClickHouse and check the rules with promtool.
//
//	provisioning/datasources/clickhouse.yaml  the ClickHouse data source (native protocol, uid voucherwatch-clickhouse)
//	provisioning/dashboards/voucherwatch.yaml the file provider that loads json/
//	json/*.json                               the dashboards, in Chinese
//	prometheus/scrape.yml                     a Prometheus configuration scraping the engine
//	prometheus/alerts.yml                     alerting rules on the engine's metrics
//	prometheus/alerts_test.yml                promtool unit tests of the rules
//	rebuild/*.sql                             recompute the daily aggregates from the record tables
//
// The dashboards' SQL runs on ClickHouse 18.16 and current ClickHouse alike and uses only the
// plugin macros whose expansion does too ($__timeFilter, $__fromTime, $__toTime,
// $__dateFilter, $__interval_s). Large tables are read through the daily aggregates of
// migration 7 (usage_daily, settlements_daily). See README.md for installing them.
package dashboards

import "embed"

// Files are the provisioning files, dashboards, Prometheus files and rebuild scripts, under the
// paths above.
//
//go:embed provisioning json prometheus rebuild
var Files embed.FS
