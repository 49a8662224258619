package store

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/voucherwatch/voucherwatch"
	"github.com/voucherwatch/voucherwatch/store/storetest"
)

func rejected(partition int, offset int64, supplier, reason string) voucherwatch.DeadLetter {
	return voucherwatch.DeadLetter{
		Origin:   voucherwatch.Origin{Topic: "vw.usage", Partition: partition, Offset: offset},
		Key:      []byte("node-001"),
		Value:    []byte(`{"specversion":"1.0"}`),
		Source:   supplier,
		ID:       "u-1",
		Supplier: supplier,
		Reason:   reason,
		At:       time.Date(2026, 3, 1, 8, 0, int(offset%60), 0, voucherwatch.CST),
	}
}

func TestDeadLettersCountedOnce(t *testing.T) {
	db := newTestDB(t)
	ctx := testContext(t)
	batch := []voucherwatch.DeadLetter{
		rejected(0, 1, supplierUSCC, "data.cards: must be >= 1"),
		rejected(0, 2, supplierUSCC, "data.window_end: must be after window_start"),
		rejected(1, 1, buyerUSCC, "data.supplier_uscc: bad check character"),
		rejected(0, 1, supplierUSCC, "data.cards: must be >= 1"), // repeated within the batch
	}
	for range 2 {
		if err := db.StoreDeadLetters(ctx, batch); err != nil {
			t.Fatal(err)
		}
	}
	other := rejected(0, 1, supplierUSCC, "not JSON")
	other.Topic = "vw.claims"
	if err := db.StoreDeadLetters(ctx, []voucherwatch.DeadLetter{other}); err != nil {
		t.Fatal(err)
	}

	f := func(topic string, want uint64) {
		t.Helper()
		n, err := db.RejectedCount(ctx, topic)
		if err != nil || n != want {
			t.Errorf("RejectedCount(%s): got %d, %v, want %d", topic, n, err, want)
		}
	}
	f("vw.usage", 3)
	f("vw.claims", 1)
	f("vw.registry", 0)

	got, err := db.DeadLettersBySupplier(ctx)
	if err != nil {
		t.Fatal(err)
	}
	want := []SupplierRejections{
		{Supplier: supplierUSCC, Topic: "vw.usage", Count: 2, LastReason: "data.window_end: must be after window_start"},
		{Supplier: supplierUSCC, Topic: "vw.claims", Count: 1, LastReason: "not JSON"},
		{Supplier: buyerUSCC, Topic: "vw.usage", Count: 1, LastReason: "data.supplier_uscc: bad check character"},
	}
	for i := range got {
		got[i].LastAt = time.Time{}
	}
	check(t, "by supplier", got, want)
}

func TestDeadLetterValueTruncated(t *testing.T) {
	db := newTestDB(t)
	ctx := testContext(t)
	huge := rejected(0, 7, "", "message too large")
	huge.Value = bytes.Repeat([]byte("x"), 100_000)
	small := rejected(0, 8, "", "not JSON")
	small.Value = []byte{0xff, 0x00, '{'} // bytes as received, not text
	small.At = time.Time{}                // stamped when stored
	if err := db.StoreDeadLetters(ctx, []voucherwatch.DeadLetter{huge, small}); err != nil {
		t.Fatal(err)
	}
	var (
		value     string
		truncated uint8
		size      uint32
		at        time.Time
	)
	queryRow(t, db, "SELECT value, value_truncated, value_bytes FROM dead_letters WHERE kafka_offset = 7", &value, &truncated, &size)
	check(t, "huge value", []any{len(value), truncated, size}, []any{maxDeadLetterValue, uint8(1), uint32(100_000)})
	queryRow(t, db, "SELECT value, value_truncated, value_bytes, at FROM dead_letters WHERE kafka_offset = 8", &value, &truncated, &size, &at)
	check(t, "small value", []any{[]byte(value), truncated, size}, []any{small.Value, uint8(0), uint32(3)})
	if at.IsZero() || time.Since(at) > time.Hour {
		t.Errorf("at of a dead letter without time: got %v, want about now", at)
	}
}

// personalRejection is a registry record rejected for its city, carrying an identity number,
// a mobile number and an e-mail address, with a reason that quotes a mobile number.
func personalRejection(offset int64, at time.Time) voucherwatch.DeadLetter {
	dl := rejected(0, offset, supplierUSCC, "data.city: must be a Hunan 市州 name or division code, got \"13812345678\"")
	dl.Topic = "vw.registry"
	dl.Value = []byte(`{"specversion":"1.0","type":"registry.v1","source":"supplier/` + supplierUSCC + `","id":"r-7","data":{"uscc":"` + supplierUSCC +
		`","city":"13812345678","legal_rep":{"name":"张伟","id_type":"resident_id","id_number":"430104199003071234","phone":"13912345678","email":"zhang.wei@example.cn"}}}`)
	dl.At = at
	return dl
}

// noPersonalNumbers fails when any column of any dead letter holds a personal number in clear.
func noPersonalNumbers(t *testing.T, db *DB) {
	t.Helper()
	rows, err := db.conn.Query(testContext(t), "SELECT concat(kafka_key, '|', value, '|', source, '|', id, '|', reason) FROM dead_letters")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	n := 0
	for rows.Next() {
		var all string
		if err := rows.Scan(&all); err != nil {
			t.Fatal(err)
		}
		n++
		for _, secret := range []string{"430104199003071234", "13812345678", "13912345678", "zhang.wei@"} {
			if strings.Contains(all, secret) {
				t.Errorf("dead letter holds %s in clear: %s", secret, all)
			}
		}
		if !strings.Contains(all, "430***********1234") || !strings.Contains(all, "139****5678") {
			t.Errorf("dead letter lost its masked numbers (the redacted copy must stay useful): %s", all)
		}
	}
	if n == 0 {
		t.Error("no dead letters to check")
	}
}

// TestDeadLettersRedacted: no identity number, mobile number or e-mail address reaches the
// table, in the value or the reason.
func TestDeadLettersRedacted(t *testing.T) {
	db := newTestDB(t)
	if err := db.StoreDeadLetters(testContext(t), []voucherwatch.DeadLetter{personalRejection(1, time.Now())}); err != nil {
		t.Fatal(err)
	}
	noPersonalNumbers(t, db)
}

// waitForMutations waits until the server has applied the table's mutations.
func waitForMutations(t *testing.T, db *DB, table string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		var pending uint64
		queryRow(t, db, "SELECT count() FROM system.mutations WHERE database = currentDatabase() AND table = '"+table+"' AND is_done = 0", &pending)
		if pending == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d mutations of %s still pending", pending, table)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestMigrationRedactsOldDeadLetters: rows written raw by an engine from before redaction are
// masked by the migration "dead letters redacted".
func TestMigrationRedactsOldDeadLetters(t *testing.T) {
	db := openTestDB(t, storetest.Database(t))
	ctx := testContext(t)
	var before []migration
	for _, m := range migrations {
		if m.name == "dead letters redacted" {
			break
		}
		before = append(before, m)
	}
	if err := db.migrate(ctx, before); err != nil {
		t.Fatal(err)
	}
	// Written as the old engine did: raw value and reason.
	dl := personalRejection(1, time.Now())
	b, err := db.conn.PrepareBatch(ctx, `INSERT INTO dead_letters (kafka_topic, kafka_partition, kafka_offset, kafka_key, value,
		value_truncated, value_bytes, source, id, supplier, reason, at, ingested_at)`)
	if err != nil {
		t.Fatal(err)
	}
	if err := b.Append(dl.Topic, uint32(0), uint64(1), "node-1", string(dl.Value), uint8(0), uint32(len(dl.Value)),
		dl.Source, dl.ID, dl.Supplier, dl.Reason, dl.At, dl.At); err != nil {
		t.Fatal(err)
	}
	if err := b.Send(); err != nil {
		t.Fatal(err)
	}
	if err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	waitForMutations(t, db, "dead_letters")
	noPersonalNumbers(t, db)
	var value string
	queryRow(t, db, "SELECT value FROM dead_letters", &value)
	for _, want := range []string{`"uscc":"` + supplierUSCC, "z***@example.cn", `"name":"张伟"`} {
		if !strings.Contains(value, want) {
			t.Errorf("migrated value %s: want %s kept", value, want)
		}
	}
}

// TestPruneDeadLetters: rows rejected before the retention are deleted, newer ones stay, and
// an engine with nothing to prune queues no mutation.
func TestPruneDeadLetters(t *testing.T) {
	db := newTestDB(t)
	ctx := testContext(t)
	now := time.Now()
	old, recent := personalRejection(1, now.Add(-100*24*time.Hour)), personalRejection(2, now.Add(-89*24*time.Hour))
	if err := db.StoreDeadLetters(ctx, []voucherwatch.DeadLetter{old, recent}); err != nil {
		t.Fatal(err)
	}
	cutoff := now.Add(-DefaultDeadLetterRetention)
	n, err := db.PruneDeadLetters(ctx, cutoff)
	if err != nil || n != 1 {
		t.Fatalf("got %d, %v, want 1 row pruned", n, err)
	}
	waitForMutations(t, db, "dead_letters")
	var offsets []uint64
	rows, err := db.conn.Query(ctx, "SELECT kafka_offset FROM dead_letters ORDER BY kafka_offset")
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var o uint64
		if err := rows.Scan(&o); err != nil {
			t.Fatal(err)
		}
		offsets = append(offsets, o)
	}
	rows.Close()
	check(t, "offsets left", offsets, []uint64{2})
	// Again, as a second instance would: nothing to delete, no mutation queued.
	if n, err := db.PruneDeadLetters(ctx, cutoff); err != nil || n != 0 {
		t.Errorf("second prune: got %d, %v, want 0", n, err)
	}
	var mutations uint64
	queryRow(t, db, "SELECT count() FROM system.mutations WHERE database = currentDatabase() AND table = 'dead_letters' AND command LIKE '%DELETE%'", &mutations)
	if mutations != 1 {
		t.Errorf("got %d mutations, want the one prune (the second found nothing)", mutations)
	}
}
