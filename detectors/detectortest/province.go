package detectortest

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"github.com/voucherwatch/voucherwatch/store"
	"github.com/voucherwatch/voucherwatch/store/storetest"
	"github.com/voucherwatch/voucherwatch/synth"
)

// shared is one default province, generated and loaded once per test binary.
type shared struct {
	once sync.Once
	db   *store.DB
	p    *synth.Province
}

var (
	sharedMu  sync.Mutex
	provinces = map[int64]*shared{}
)

// Province returns the default province of seed, loaded into a database that every test of
// the binary shares. Several detectors' tests score themselves on the same seeds; loading each
// seed once instead of once per test is most of the package's test time. The database is
// read-only by contract: a test that stores alerts or records must use NewDB and Load. Call
// DropShared from TestMain to drop it.
func Province(t testing.TB, seed int64) (*store.DB, *synth.Province) {
	t.Helper()
	storetest.Require(t)
	sharedMu.Lock()
	s, ok := provinces[seed]
	if !ok {
		s = &shared{}
		provinces[seed] = s
	}
	sharedMu.Unlock()
	s.once.Do(func() {
		ctx := context.Background()
		dsn := fmt.Sprintf("clickhouse://%s/vwtest_province%d_%s", storetest.Addr(), seed, storetest.RandomSuffix())
		db, err := store.Open(ctx, dsn)
		if err != nil {
			t.Fatal(err)
		}
		if err := db.Migrate(ctx); err != nil {
			db.Close()
			t.Fatal(err)
		}
		p := synth.Generate(synth.DefaultConfig(seed))
		Load(t, db, p.Messages)
		s.db, s.p = db, p
	})
	if s.db == nil {
		t.Fatalf("the shared province of seed %d failed to load in an earlier test", seed)
	}
	return s.db, s.p
}

// DropShared drops the shared provinces' databases (kept when VW_TEST_KEEP is set).
func DropShared() {
	sharedMu.Lock()
	defer sharedMu.Unlock()
	for seed, s := range provinces {
		if s.db != nil {
			storetest.Drop(s.db.Database())
			s.db.Close()
		}
		delete(provinces, seed)
	}
}
