package ingest_test

import (
	"bytes"
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/voucherwatch/voucherwatch"
	"github.com/voucherwatch/voucherwatch/ingest"
	"github.com/voucherwatch/voucherwatch/store"
	"github.com/voucherwatch/voucherwatch/store/storetest"
	"github.com/voucherwatch/voucherwatch/synth"
)

// crashAfterStore stores a batch for real, then "dies": it cancels the consumer and fails, so
// the batch is stored but its offsets are never committed.
type crashAfterStore struct {
	*store.DB
	crash func()
	once  sync.Once
}

func (c *crashAfterStore) StoreRecords(ctx context.Context, typ voucherwatch.RecordType, recs []voucherwatch.Record) (voucherwatch.WriteResult, error) {
	res, err := c.DB.StoreRecords(ctx, typ, recs)
	if err != nil {
		return res, err
	}
	c.once.Do(c.crash)
	return voucherwatch.WriteResult{}, errors.New("crashed before the commit")
}

// StorePrepared crashes as StoreRecords does: the consumer stores a batch through it when
// the store prepares batches (store.DB does).
func (c *crashAfterStore) StorePrepared(ctx context.Context, p voucherwatch.PreparedRecords) (voucherwatch.WriteResult, error) {
	res, err := c.DB.StorePrepared(ctx, p)
	if err != nil {
		return res, err
	}
	c.once.Do(c.crash)
	return voucherwatch.WriteResult{}, errors.New("crashed before the commit")
}

func TestBatchReconsumedAfterCrashIsStoredOnce(t *testing.T) {
	ctx := context.Background()
	db, err := store.Open(ctx, storetest.Database(t))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	broker, err := ingest.StartEmbedded(ingest.EmbeddedConfig{Addr: "127.0.0.1:0", Topics: []string{"vw.usage", "vw.deadletter"}, Partitions: 3})
	if err != nil {
		t.Fatal(err)
	}
	defer broker.Close()

	var msgs []kafka.Message
	if err := synth.UsageStream(3, 500, func(m synth.Message) error {
		msgs = append(msgs, kafka.Message{Key: bytes.Clone(m.Key), Value: bytes.Clone(m.Value)})
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	w := &kafka.Writer{Addr: kafka.TCP(broker.Addr()), Topic: "vw.usage", Balancer: &kafka.Hash{}, BatchTimeout: time.Millisecond}
	if err := w.WriteMessages(ctx, msgs...); err != nil {
		t.Fatal(err)
	}
	w.Close()

	cfg := ingest.Config{
		Brokers: []string{broker.Addr()}, Group: "crash-test",
		Topics:    map[voucherwatch.RecordType]string{voucherwatch.TypeUsage: "vw.usage"},
		BatchSize: 1000, FlushInterval: 500 * time.Millisecond, ShutdownGrace: time.Nanosecond,
		RetryMin: 10 * time.Millisecond,
	}
	dec := &ingest.Decoder{PIIKey: []byte("k")}

	// First life: stores everything it read, then dies before committing.
	runCtx, cancel := context.WithCancel(ctx)
	first := ingest.NewConsumer(cfg, dec, &crashAfterStore{DB: db, crash: cancel}, nil, nil)
	done := make(chan error)
	go func() { done <- first.Run(runCtx) }()
	select {
	case <-done:
	case <-time.After(60 * time.Second):
		t.Fatal("first consumer did not crash")
	}
	storedBefore, err := db.StoredCount(ctx, voucherwatch.TypeUsage)
	if err != nil {
		t.Fatal(err)
	}
	if storedBefore == 0 {
		t.Fatal("got nothing stored before the crash, want the first batch stored")
	}

	// Second life: same group, real store. It receives the uncommitted batch again.
	var mu sync.Mutex
	var total voucherwatch.WriteResult
	counting := &countingStore{DB: db, add: func(r voucherwatch.WriteResult) {
		mu.Lock()
		defer mu.Unlock()
		total.Stored += r.Stored
		total.Duplicates += r.Duplicates
	}}
	runCtx2, cancel2 := context.WithCancel(ctx)
	defer cancel2()
	second := ingest.NewConsumer(cfg, dec, counting, nil, nil)
	go func() { _ = second.Run(runCtx2) }()
	deadline := time.Now().Add(60 * time.Second)
	for {
		st, err := second.Status(ctx, db)
		if err == nil && st.Topics["vw.usage"].Consumed == 500 && st.Topics["vw.usage"].Lag == 0 {
			// The status counts messages of the log: the re-consumed batch is the same
			// messages, not duplicates of them. The store's answers below show the re-reading.
			if got := st.Topics["vw.usage"]; got.Stored != 500 || got.Duplicates != 0 {
				t.Errorf("got stored %d duplicates %d, want 500 and 0", got.Stored, got.Duplicates)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("second consumer did not finish: %+v %v", st, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
	mu.Lock()
	defer mu.Unlock()
	if total.Duplicates != int(storedBefore) || total.Stored != 500-int(storedBefore) {
		t.Errorf("second life: got %+v, want %d duplicates and %d stored", total, storedBefore, 500-int(storedBefore))
	}
	var rows uint64
	if err := db.Conn().QueryRow(ctx, "SELECT count() FROM "+db.Database()+".usage").Scan(&rows); err != nil {
		t.Fatal(err)
	}
	if rows != 500 {
		t.Errorf("got %d usage rows, want 500", rows)
	}
}

type countingStore struct {
	*store.DB
	add func(voucherwatch.WriteResult)
}

func (c *countingStore) StoreRecords(ctx context.Context, typ voucherwatch.RecordType, recs []voucherwatch.Record) (voucherwatch.WriteResult, error) {
	res, err := c.DB.StoreRecords(ctx, typ, recs)
	if err == nil {
		c.add(res)
	}
	return res, err
}

func (c *countingStore) StorePrepared(ctx context.Context, p voucherwatch.PreparedRecords) (voucherwatch.WriteResult, error) {
	res, err := c.DB.StorePrepared(ctx, p)
	if err == nil {
		c.add(res)
	}
	return res, err
}
