package store

import (
	"context"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/voucherwatch/voucherwatch"
	"github.com/voucherwatch/voucherwatch/store/storetest"
)

// TestOpenUnreachable: a server that is not there, or that never answers, is an error by the
// context's deadline, not a panic or a hang.
func TestOpenUnreachable(t *testing.T) {
	closed, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closedAddr := closed.Addr().String()
	closed.Close()

	silent, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer silent.Close()
	go func() {
		for {
			c, err := silent.Accept()
			if err != nil {
				return
			}
			defer c.Close() // hold the connection open, say nothing
		}
	}()

	f := func(name, addr string) {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		start := time.Now()
		db, err := Open(ctx, "clickhouse://"+addr+"/voucherwatch")
		if took := time.Since(start); took > 3*time.Second {
			t.Errorf("%s: Open took %v, want at most the 2s deadline", name, took)
		}
		if err == nil {
			db.Close()
			t.Errorf("%s: Open succeeded, want an error", name)
		} else if !strings.HasPrefix(err.Error(), "store: ") {
			t.Errorf("%s: got %q, want an error of the store layer", name, err)
		}
	}
	f("closed port", closedAddr)
	f("silent server", silent.Addr().String())
}

func TestOpenBadDSN(t *testing.T) {
	f := func(dsn string) {
		t.Helper()
		_, err := Open(context.Background(), dsn)
		if voucherwatch.ErrorCode(err) != voucherwatch.EINVALID {
			t.Errorf("Open(%q): got %v, want an EINVALID error", dsn, err)
		}
	}
	f("http://127.0.0.1:8123/voucherwatch")
	f("clickhouse://127.0.0.1:9000/vw;DROP")
	f("clickhouse://127.0.0.1:9000/vw-test")
}

// TestOpenCreatesDatabase opens a database that does not exist yet.
func TestOpenCreatesDatabase(t *testing.T) {
	db := openTestDB(t, storetest.Database(t))
	var n uint64
	queryRow(t, db, "SELECT count() FROM system.databases WHERE name = '"+db.Database()+"'", &n)
	check(t, "databases", n, uint64(1))
}
