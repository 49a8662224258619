package ingest_test

import (
	"bytes"
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/segmentio/kafka-go"

	"github.com/voucherwatch/voucherwatch"
	"github.com/voucherwatch/voucherwatch/ingest"
	"github.com/voucherwatch/voucherwatch/store"
	"github.com/voucherwatch/voucherwatch/store/storetest"
	"github.com/voucherwatch/voucherwatch/synth"
)

// stageRig is a broker holding n hourly usage messages and a migrated database.
func stageRig(t *testing.T, n int) (*store.DB, *ingest.Embedded) {
	t.Helper()
	ctx := context.Background()
	db, err := store.Open(ctx, storetest.Database(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	broker, err := ingest.StartEmbedded(ingest.EmbeddedConfig{Addr: "127.0.0.1:0", Topics: []string{"vw.usage", "vw.deadletter"}, Partitions: 2})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { broker.Close() })
	var msgs []kafka.Message
	if err := synth.UsageStream(5, n, func(m synth.Message) error {
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
	return db, broker
}

// consumeAll runs c until it has consumed (stored and committed) n usage messages, within the
// given time, and stops it.
func consumeAll(t *testing.T, c *ingest.Consumer, metrics *ingest.Metrics, n int, within time.Duration) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- c.Run(ctx) }()
	defer func() { cancel(); <-done }()
	deadline := time.Now().Add(within)
	for testutil.ToFloat64(metrics.Consumed.WithLabelValues("vw.usage")) < float64(n) {
		if time.Now().After(deadline) {
			t.Fatalf("%d messages not consumed in %v", n, within)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// The lag gauge comes from Kafka alone: RefreshLag gives the messages not yet consumed
// without asking the store anything (the status's stored counts read every record).
func TestRefreshLagReadsKafkaOnly(t *testing.T) {
	_, broker := stageRig(t, 300)
	metrics := ingest.NewMetrics(prometheus.NewRegistry())
	c := ingest.NewConsumer(ingest.Config{
		Brokers: []string{broker.Addr()}, Group: "lag-test",
		Topics: map[voucherwatch.RecordType]string{voucherwatch.TypeUsage: "vw.usage"},
	}, &ingest.Decoder{PIIKey: []byte("k")}, nil, metrics, nil)
	if err := c.RefreshLag(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := testutil.ToFloat64(metrics.Lag.WithLabelValues("vw.usage")); got != 300 {
		t.Errorf("got lag %v, want 300 (nothing consumed)", got)
	}
}

// Every batch's time is recorded by stage: decode, the store's stages and the commit.
func TestBatchStagesAreObserved(t *testing.T) {
	db, broker := stageRig(t, 600)
	reg := prometheus.NewRegistry()
	metrics := ingest.NewMetrics(reg)
	c := ingest.NewConsumer(ingest.Config{
		Brokers: []string{broker.Addr()}, Group: "stages-test",
		Topics:    map[voucherwatch.RecordType]string{voucherwatch.TypeUsage: "vw.usage"},
		BatchSize: 200, FlushInterval: 200 * time.Millisecond,
	}, &ingest.Decoder{PIIKey: []byte("k")}, db, metrics, nil)
	consumeAll(t, c, metrics, 600, time.Minute)

	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	sums, counts := map[string]float64{}, map[string]uint64{}
	for _, f := range families {
		if f.GetName() != "vw_ingest_stage_seconds" {
			continue
		}
		for _, m := range f.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "stage" {
					sums[l.GetValue()] += m.GetHistogram().GetSampleSum()
					counts[l.GetValue()] += m.GetHistogram().GetSampleCount()
				}
			}
		}
	}
	batches := counts["decode"]
	if batches < 3 {
		t.Fatalf("got %d batches observed, want at least 3 (600 messages in batches of at most 200)", batches)
	}
	for _, stage := range []string{"decode", "turn", "prepare", "lookup", "wait", "fill", "send", "commit"} {
		if counts[stage] != batches {
			t.Errorf("stage %s: got %d observations, want one per batch (%d)", stage, counts[stage], batches)
		}
	}
	// Work that every batch does takes time; a single writer never waits for another.
	for _, stage := range []string{"decode", "prepare", "lookup", "fill", "send", "commit"} {
		if sums[stage] <= 0 {
			t.Errorf("stage %s: got %v s in all, want more than 0", stage, sums[stage])
		}
	}
	if sums["wait"] != 0 {
		t.Errorf("stage wait: got %v s, want 0 with one writer", sums["wait"])
	}
}

// heldStore holds the first StoreRecords call until the consumer has decoded the batch after
// it, or until a minute passes.
type heldStore struct {
	voucherwatch.RecordStore
	decoded    *atomic.Int64 // messages decoded so far
	next       int64         // messages decoded once the second batch is
	overlapped atomic.Bool
	calls      atomic.Int32
}

func (h *heldStore) StoreRecords(ctx context.Context, typ voucherwatch.RecordType, recs []voucherwatch.Record) (voucherwatch.WriteResult, error) {
	if h.calls.Add(1) == 1 {
		for deadline := time.Now().Add(time.Minute); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
			if h.decoded.Load() >= h.next {
				h.overlapped.Store(true)
				break
			}
		}
	}
	return h.RecordStore.StoreRecords(ctx, typ, recs)
}

// A reader decodes its next batch while the one before is stored: the engine's decoding and
// the server's INSERT overlap instead of waiting for each other. The batches are still all
// stored, once, and committed.
func TestNextBatchIsDecodedWhileOneIsStored(t *testing.T) {
	db, broker := stageRig(t, 600)
	metrics := ingest.NewMetrics(prometheus.NewRegistry())
	var decoded atomic.Int64
	dec := &ingest.Decoder{PIIKey: []byte("k"), Now: func() time.Time { decoded.Add(1); return time.Now() }}
	held := &heldStore{RecordStore: db, decoded: &decoded, next: 400}
	c := ingest.NewConsumer(ingest.Config{
		Brokers: []string{broker.Addr()}, Group: "pipeline-test",
		Topics:    map[voucherwatch.RecordType]string{voucherwatch.TypeUsage: "vw.usage"},
		BatchSize: 200, FlushInterval: 2 * time.Second,
	}, dec, held, metrics, nil)
	consumeAll(t, c, metrics, 600, 90*time.Second)
	if !held.overlapped.Load() {
		t.Errorf("the second batch was not decoded while the first was stored (decoded %d messages, want %d)", decoded.Load(), held.next)
	}
	if n, err := db.StoredCount(context.Background(), voucherwatch.TypeUsage); err != nil || n != 600 {
		t.Errorf("got %d usage records stored (%v), want 600", n, err)
	}
}

// preparingStore is a store.DB that counts how the consumer stores its batches, holds the
// first prepared batch until the next is prepared, and fails the first StorePrepared when
// failFirst is set.
type preparingStore struct {
	*store.DB
	failFirst                bool
	prepares, prepared, recs atomic.Int32 // PrepareRecords, StorePrepared and StoreRecords calls
	overlapped               atomic.Bool
}

func (p *preparingStore) PrepareRecords(typ voucherwatch.RecordType, recs []voucherwatch.Record) (voucherwatch.PreparedRecords, error) {
	p.prepares.Add(1)
	return p.DB.PrepareRecords(typ, recs)
}

func (p *preparingStore) StorePrepared(ctx context.Context, b voucherwatch.PreparedRecords) (voucherwatch.WriteResult, error) {
	if p.prepared.Add(1) == 1 {
		if p.failFirst {
			return voucherwatch.WriteResult{}, errors.New("the server went away")
		}
		for deadline := time.Now().Add(time.Minute); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
			if p.prepares.Load() >= 2 {
				p.overlapped.Store(true)
				break
			}
		}
	}
	return p.DB.StorePrepared(ctx, b)
}

func (p *preparingStore) StoreRecords(ctx context.Context, typ voucherwatch.RecordType, recs []voucherwatch.Record) (voucherwatch.WriteResult, error) {
	p.recs.Add(1)
	return p.DB.StoreRecords(ctx, typ, recs)
}

// A store that prepares batches (voucherwatch.RecordPreparer) gets the next batch prepared
// while the one before is stored, and every batch stored through its preparation, once; a
// prepared batch whose store failed is stored afresh by the retry.
func TestNextBatchIsPreparedWhileOneIsStored(t *testing.T) {
	for _, tc := range []struct {
		name      string
		failFirst bool
	}{{"prepared in the fetch stage", false}, {"retried after a failed store", true}} {
		t.Run(tc.name, func(t *testing.T) {
			db, broker := stageRig(t, 600)
			metrics := ingest.NewMetrics(prometheus.NewRegistry())
			ps := &preparingStore{DB: db, failFirst: tc.failFirst}
			c := ingest.NewConsumer(ingest.Config{
				Brokers: []string{broker.Addr()}, Group: "prepare-test",
				Topics:    map[voucherwatch.RecordType]string{voucherwatch.TypeUsage: "vw.usage"},
				BatchSize: 200, FlushInterval: 2 * time.Second, RetryMin: 10 * time.Millisecond,
			}, &ingest.Decoder{PIIKey: []byte("k")}, ps, metrics, nil)
			consumeAll(t, c, metrics, 600, 90*time.Second)
			if n, err := db.StoredCount(context.Background(), voucherwatch.TypeUsage); err != nil || n != 600 {
				t.Errorf("got %d usage records stored (%v), want 600", n, err)
			}
			if got := testutil.ToFloat64(metrics.Stored.WithLabelValues("vw.usage")); got != 600 {
				t.Errorf("the consumer counted %v records stored, want 600", got)
			}
			prepares, prepared, recs := ps.prepares.Load(), ps.prepared.Load(), ps.recs.Load()
			if prepares < 3 || prepared != prepares {
				t.Errorf("%d batches prepared, %d stored prepared: want every batch (at least 3) prepared and stored so", prepares, prepared)
			}
			switch {
			case tc.failFirst && recs != 1:
				t.Errorf("%d StoreRecords calls after a failed prepared store, want 1 (the retry)", recs)
			case !tc.failFirst && recs != 0:
				t.Errorf("%d StoreRecords calls, want none: every batch was prepared", recs)
			case !tc.failFirst && !ps.overlapped.Load():
				t.Errorf("the second batch was not prepared while the first was stored")
			}
		})
	}
}
