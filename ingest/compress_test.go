package ingest_test

import (
	"bytes"
	"context"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/voucherwatch/voucherwatch"
	"github.com/voucherwatch/voucherwatch/ingest"
	"github.com/voucherwatch/voucherwatch/store"
	"github.com/voucherwatch/voucherwatch/store/storetest"
	"github.com/voucherwatch/voucherwatch/synth"
)

// TestCompressedBatchesAreRead produces usage batches compressed with each of Kafka's codecs,
// as a supplier's platform may (docs/contract.md asks for lz4), through the embedded broker:
// every record of every codec is stored, none dead-lettered.
func TestCompressedBatchesAreRead(t *testing.T) {
	ctx := context.Background()
	db, err := store.Open(ctx, storetest.Database(t))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	codecs := []kafka.Compression{kafka.Gzip, kafka.Snappy, kafka.Lz4, kafka.Zstd}
	var topics []string
	for _, c := range codecs {
		topics = append(topics, "vw.usage."+c.String())
	}
	broker, err := ingest.StartEmbedded(ingest.EmbeddedConfig{Addr: "127.0.0.1:0", Topics: append(topics, "vw.deadletter"), Partitions: 2})
	if err != nil {
		t.Fatal(err)
	}
	defer broker.Close()

	// One stream, cut in one slice per codec: every message is another record.
	const per = 300
	var msgs []kafka.Message
	if err := synth.UsageStream(7, per*len(codecs), func(m synth.Message) error {
		msgs = append(msgs, kafka.Message{Key: bytes.Clone(m.Key), Value: bytes.Clone(m.Value)})
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	dec := &ingest.Decoder{PIIKey: []byte("k")}
	for i, codec := range codecs {
		t.Run(codec.String(), func(t *testing.T) {
			topic := topics[i]
			w := &kafka.Writer{Addr: kafka.TCP(broker.Addr()), Topic: topic, Balancer: &kafka.Hash{},
				BatchTimeout: time.Millisecond, Compression: codec}
			if err := w.WriteMessages(ctx, msgs[i*per:(i+1)*per]...); err != nil {
				t.Fatal(err)
			}
			w.Close()
			cfg := ingest.Config{
				Brokers: []string{broker.Addr()}, Group: "compress-" + codec.String(), DeadLetterTopic: "vw.deadletter",
				Topics:    map[voucherwatch.RecordType]string{voucherwatch.TypeUsage: topic},
				BatchSize: 1000, FlushInterval: 200 * time.Millisecond, RetryMin: 10 * time.Millisecond,
			}
			runCtx, cancel := context.WithCancel(ctx)
			defer cancel()
			c := ingest.NewConsumer(cfg, dec, db, nil, nil)
			done := make(chan error, 1)
			go func() { done <- c.Run(runCtx) }()
			deadline := time.Now().Add(60 * time.Second)
			for {
				st, err := c.Status(ctx, db)
				if err == nil && st.Topics[topic].Consumed == per && st.Topics[topic].Lag == 0 {
					if got := st.Topics[topic].Rejected; got != 0 {
						t.Errorf("got %d rejected, want none", got)
					}
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("not consumed in 60 s: %+v %v", st, err)
				}
				time.Sleep(50 * time.Millisecond)
			}
			cancel()
			<-done
			n, err := db.StoredCount(ctx, voucherwatch.TypeUsage)
			if err != nil {
				t.Fatal(err)
			}
			if want := uint64((i + 1) * per); n != want {
				t.Errorf("got %d usage records stored after %s, want %d", n, codec, want)
			}
		})
	}
}
