package ingest_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/voucherwatch/voucherwatch/ingest"
)

// offsets returns topic's first and last offsets summed over its partitions.
func offsets(t *testing.T, addr, topic string, partitions int) (first, last int64) {
	t.Helper()
	client := &kafka.Client{Addr: kafka.TCP(addr), Timeout: 10 * time.Second}
	req := map[string][]kafka.OffsetRequest{}
	for p := 0; p < partitions; p++ {
		req[topic] = append(req[topic], kafka.FirstOffsetOf(p), kafka.LastOffsetOf(p))
	}
	resp, err := client.ListOffsets(context.Background(), &kafka.ListOffsetsRequest{Topics: req})
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range resp.Topics[topic] {
		if p.Error != nil {
			t.Fatal(p.Error)
		}
		first += p.FirstOffset
		last += p.LastOffset
	}
	return first, last
}

func produceN(t *testing.T, addr, topic string, from, n int) {
	t.Helper()
	w := &kafka.Writer{Addr: kafka.TCP(addr), Topic: topic, Balancer: &kafka.RoundRobin{}, BatchTimeout: time.Millisecond, BatchSize: 100, RequiredAcks: kafka.RequireAll}
	defer w.Close()
	msgs := make([]kafka.Message, n)
	for i := range msgs {
		msgs[i] = kafka.Message{Value: fmt.Appendf(nil, `{"n":%d,"pad":"%0200d"}`, from+i, 0)}
	}
	if err := w.WriteMessages(context.Background(), msgs...); err != nil {
		t.Fatal(err)
	}
}

// TestEmbeddedLogSurvivesRestart: what the embedded broker acknowledged with a data directory
// is there after it stops and starts again, and so are the group's committed offsets; in
// memory (the look-alike) the log starts empty.
func TestEmbeddedLogSurvivesRestart(t *testing.T) {
	dir := t.TempDir()
	cfg := ingest.EmbeddedConfig{Addr: "127.0.0.1:0", Topics: []string{"t"}, Partitions: 3, DataDir: dir}
	b, err := ingest.StartEmbedded(cfg)
	if err != nil {
		t.Fatal(err)
	}
	produceN(t, b.Addr(), "t", 0, 3000)
	client := &kafka.Client{Addr: kafka.TCP(b.Addr()), Timeout: 10 * time.Second}
	if _, err := client.OffsetCommit(context.Background(), &kafka.OffsetCommitRequest{GroupID: "g", GenerationID: -1,
		Topics: map[string][]kafka.OffsetCommit{"t": {{Partition: 0, Offset: 500}}}}); err != nil {
		t.Fatal(err)
	}
	b.Close()

	for _, c := range []struct {
		dir  string
		want int64
	}{{dir, 3000}, {"", 0}} {
		cfg.DataDir = c.dir
		b, err := ingest.StartEmbedded(cfg)
		if err != nil {
			t.Fatal(err)
		}
		if _, last := offsets(t, b.Addr(), "t", 3); last != c.want {
			t.Errorf("data dir %q: got %d records after the restart, want %d", c.dir, last, c.want)
		}
		if c.dir != "" {
			resp, err := (&kafka.Client{Addr: kafka.TCP(b.Addr())}).OffsetFetch(context.Background(), &kafka.OffsetFetchRequest{GroupID: "g", Topics: map[string][]int{"t": {0}}})
			if err != nil || len(resp.Topics["t"]) != 1 || resp.Topics["t"][0].CommittedOffset != 500 {
				t.Errorf("committed offset after the restart: got %+v %v, want 500", resp, err)
			}
		}
		b.Close()
	}
}

// TestEmbeddedRetention: the size limit deletes a partition's oldest records, the age limit the
// expired ones; a broker whose limits are not reached (the look-alike) keeps everything.
func TestEmbeddedRetention(t *testing.T) {
	for _, c := range []struct {
		name    string
		cfg     ingest.EmbeddedConfig
		deletes bool
	}{
		{"size", ingest.EmbeddedConfig{RetentionBytes: 20 << 10}, true},
		{"age", ingest.EmbeddedConfig{RetentionTime: time.Millisecond}, true},
		{"within limits", ingest.EmbeddedConfig{RetentionBytes: 64 << 20, RetentionTime: time.Hour}, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			cfg := c.cfg
			cfg.Addr, cfg.Topics, cfg.Partitions, cfg.DataDir = "127.0.0.1:0", []string{"t"}, 2, t.TempDir()
			cfg.RetentionCheck = 50 * time.Millisecond
			b, err := ingest.StartEmbedded(cfg)
			if err != nil {
				t.Fatal(err)
			}
			defer b.Close()
			produceN(t, b.Addr(), "t", 0, 2000)
			time.Sleep(time.Second)
			first, last := offsets(t, b.Addr(), "t", 2)
			if last != 2000 {
				t.Errorf("got last offsets summing to %d, want 2000", last)
			}
			if deleted := first > 0; deleted != c.deletes {
				t.Errorf("got first offsets summing to %d (deleted: %v), want deleted %v", first, deleted, c.deletes)
			}
		})
	}
}
