package store

import (
	"bytes"
	"testing"
	"time"

	"github.com/voucherwatch/voucherwatch"
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
