package main

import (
	"testing"

	"github.com/ClickHouse/clickhouse-go/v2"
)

// TestAPIPoolIsBounded: the HTTP side's DSN keeps the operator's settings and bounds the
// driver's pool, so that requests cannot take the connections ingest needs.
func TestAPIPoolIsBounded(t *testing.T) {
	dsn, err := withPool("clickhouse://vw:secret@127.0.0.1:9000/voucherwatch?dial_timeout=5s", 3)
	if err != nil {
		t.Fatal(err)
	}
	opt, err := clickhouse.ParseDSN(dsn)
	if err != nil {
		t.Fatal(err)
	}
	if opt.MaxOpenConns != 3 || opt.MaxIdleConns != 3 || opt.Auth.Database != "voucherwatch" || opt.Auth.Password != "secret" || opt.DialTimeout.Seconds() != 5 {
		t.Errorf("got max open %d, idle %d, database %q, dial timeout %v; want 3, 3, voucherwatch, 5s", opt.MaxOpenConns, opt.MaxIdleConns, opt.Auth.Database, opt.DialTimeout)
	}
	if _, err := withPool("clickhouse://127.0.0.1:9000/voucherwatch", 0); err == nil {
		t.Error("a pool of 0: got no error")
	}
}
