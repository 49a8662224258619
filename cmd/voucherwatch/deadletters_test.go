package main

import (
	"bytes"
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/voucherwatch/voucherwatch/ingest"
)

// TestDeadLettersReplayCommand: the command reads a running engine's embedded broker over TCP,
// selects by supplier and time, and prints what would pass and what still fails, by rule.
func TestDeadLettersReplayCommand(t *testing.T) {
	ctx := context.Background()
	broker, err := ingest.StartEmbedded(ingest.EmbeddedConfig{Addr: "127.0.0.1:0", Topics: []string{"vw.usage", "vw.deadletter"}, Partitions: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer broker.Close()
	good, err := os.ReadFile("../../docs/examples/usage.json")
	if err != nil {
		t.Fatal(err)
	}
	noCards := bytes.Replace(good, []byte(`"cards": 8`), []byte(`"cards": 0`), 1)
	if bytes.Equal(noCards, good) {
		t.Fatal("the example has no \"cards\": 8 to break")
	}
	letter := func(value []byte, supplier string, at time.Time) kafka.Message {
		return kafka.Message{Value: value, Headers: []kafka.Header{
			{Key: "vw.topic", Value: []byte("vw.usage")}, {Key: "vw.partition", Value: []byte("0")},
			{Key: "vw.offset", Value: []byte(at.Format("150405.000"))},
			{Key: ingest.HeaderSupplier, Value: []byte(supplier)}, {Key: ingest.HeaderRejectedAt, Value: []byte(at.UTC().Format(time.RFC3339Nano))},
		}}
	}
	const supplier = "91430200PQ3G7YMPXF"
	day := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	// RequireAll: kafka-go's default acks nothing, so the read below could run before the
	// broker holds the letters (it did on a loaded machine).
	w := &kafka.Writer{Addr: kafka.TCP(broker.Addr()), Topic: "vw.deadletter", BatchTimeout: time.Millisecond, RequiredAcks: kafka.RequireAll}
	if err := w.WriteMessages(ctx,
		letter(good, supplier, day),                     // rejected under an older limit; passes now
		letter(noCards, supplier, day.Add(time.Minute)), // still wrong
		letter(good, supplier, day.AddDate(0, 0, -2)),   // before --since
		letter(good, "91430100B97R5NQ72N", day),         // another supplier's
	); err != nil {
		t.Fatal(err)
	}
	w.Close()

	var out bytes.Buffer
	err = runDeadLetters(ctx, []string{"replay", "--kafka", broker.Addr(), "--supplier", supplier, "--since", "2026-03-02", "--dry-run"}, &out)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"selected      2 ", "would pass    1", "replayed (dry run) 0", "still failing 1", "1  data.cards: must be an integer >= 1"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("got\n%s\nwant a line with %q", out.String(), want)
		}
	}
	if err := runDeadLetters(ctx, []string{"replay", "--kafka", broker.Addr(), "--since", "2026-03-02"}, &out); err == nil {
		t.Error("without --supplier: got no error")
	}
}
