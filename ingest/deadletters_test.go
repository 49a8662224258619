package ingest_test

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/voucherwatch/voucherwatch"
	"github.com/voucherwatch/voucherwatch/ingest"
	"github.com/voucherwatch/voucherwatch/store"
	"github.com/voucherwatch/voucherwatch/store/storetest"
)

// lockedBuffer is a log sink shared by the consumer's goroutines and the test.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// exampleMessage is the wire contract's example of a record type, with edits applied to its
// data members (nil deletes one) and the envelope's id replaced.
func exampleMessage(t *testing.T, file, id string, data map[string]any) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "..", "shared", "contract", "examples", file))
	if err != nil {
		b, err = os.ReadFile(filepath.Join("/work/shared/contract/examples", file))
	}
	if err != nil {
		t.Skipf("contract examples: %v", err)
	}
	var msg map[string]any
	if err := json.Unmarshal(b, &msg); err != nil {
		t.Fatal(err)
	}
	msg["id"] = id
	d := msg["data"].(map[string]any)
	for k, v := range data {
		if v == nil {
			delete(d, k)
		} else {
			d[k] = v
		}
	}
	out, err := json.Marshal(msg)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestDeadLettersRedactedAndReplayed runs the consumer against the embedded broker over TCP
// and a real ClickHouse. A registry record carrying identity and mobile numbers is rejected: the
// numbers reach neither the dead letters' table nor the log, while the dead-letter topic keeps
// the raw bytes with the headers replay needs. A supplier's usage records rejected because
// they were over the engine's message limit are replayed once the limit was raised: they pass
// and are stored; its record with a real fault still fails and is counted by its rule; another
// supplier's rejects are left alone.
func TestDeadLettersRedactedAndReplayed(t *testing.T) {
	ctx := context.Background()
	db, err := store.Open(ctx, storetest.Database(t))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	broker, err := ingest.StartEmbedded(ingest.EmbeddedConfig{Addr: "127.0.0.1:0",
		Topics: []string{"vw.usage", "vw.registry", "vw.deadletter"}, Partitions: 2})
	if err != nil {
		t.Fatal(err)
	}
	defer broker.Close()

	const (
		supplier = "91430200PQ3G7YMPXF" // the examples' supplier
		other    = "91430100B97R5NQ72N"
		idNumber = "430104199003071234"
		mobile   = "13812345678"
	)
	// 120 login organisations make a usage record of about 3 KB, over the 2.5 KB limit.
	var orgs []any
	for range 120 {
		orgs = append(orgs, "91433100MDQ28CBNXU")
	}
	start := time.Now()
	msgs := map[string][]byte{
		"good":           exampleMessage(t, "usage.v1.json", "usage-good", nil),
		"overLimit":      exampleMessage(t, "usage.v1.json", "usage-big", map[string]any{"login_orgs": orgs}),
		"noCards":        exampleMessage(t, "usage.v1.json", "usage-nocards", map[string]any{"cards": 0}),
		"otherOverLimit": exampleMessage(t, "usage.v1.json", "usage-other", map[string]any{"supplier_uscc": other, "login_orgs": orgs}),
		"personal": exampleMessage(t, "registry.entity.v1.json", "registry-bad-city", map[string]any{"city": mobile,
			"legal_rep": map[string]any{"name": "张伟", "id_type": "id_card", "id_number": idNumber, "phone": mobile, "email": "zhang.wei@example.cn"}}),
	}
	// The other supplier's record names it in the envelope too.
	msgs["otherOverLimit"] = bytes.Replace(msgs["otherOverLimit"], []byte(`"source":"`+supplier+`"`), []byte(`"source":"`+other+`"`), 1)
	send := func(topic string, names ...string) {
		t.Helper()
		w := &kafka.Writer{Addr: kafka.TCP(broker.Addr()), Topic: topic, Balancer: &kafka.Hash{}, BatchTimeout: time.Millisecond}
		defer w.Close()
		var out []kafka.Message
		for _, n := range names {
			out = append(out, kafka.Message{Key: []byte(n), Value: msgs[n]})
		}
		if err := w.WriteMessages(ctx, out...); err != nil {
			t.Fatal(err)
		}
	}
	send("vw.usage", "good", "overLimit", "noCards", "otherOverLimit")
	send("vw.registry", "personal")

	logs := &lockedBuffer{}
	cfg := ingest.Config{
		Brokers: []string{broker.Addr()}, Group: "dl-test",
		Topics:    map[voucherwatch.RecordType]string{voucherwatch.TypeUsage: "vw.usage", voucherwatch.TypeRegistry: "vw.registry"},
		BatchSize: 100, FlushInterval: 100 * time.Millisecond, RetryMin: 10 * time.Millisecond,
	}
	key := []byte("test-pii-key")
	// run starts a consumer with dec and returns what stops it.
	run := func(dec *ingest.Decoder) (stop func()) {
		consumer := ingest.NewConsumer(cfg, dec, db, nil, slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})))
		runCtx, cancel := context.WithCancel(ctx)
		done := make(chan struct{})
		go func() { defer close(done); _ = consumer.Run(runCtx) }()
		return func() { cancel(); <-done }
	}
	stop := run(&ingest.Decoder{PIIKey: key, MaxBytes: 2500})
	defer func() { stop() }()

	waitFor := func(what string, ok func() bool) {
		t.Helper()
		deadline := time.Now().Add(60 * time.Second)
		for !ok() {
			if time.Now().After(deadline) {
				t.Fatalf("timed out waiting for %s", what)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	counts := func(typ voucherwatch.RecordType, topic string) (uint64, uint64) {
		stored, _ := db.StoredCount(ctx, typ)
		rejected, _ := db.RejectedCount(ctx, topic)
		return stored, rejected
	}
	waitFor("1 usage record stored and 3 rejected, 1 registry record rejected", func() bool {
		us, ur := counts(voucherwatch.TypeUsage, "vw.usage")
		_, rr := counts(voucherwatch.TypeRegistry, "vw.registry")
		return us == 1 && ur == 3 && rr == 1
	})

	// No personal number in clear in the table or the log.
	secrets := []string{idNumber, mobile, "zhang.wei@", "432449197201199348", "13387636861"}
	rows, err := db.Conn().Query(ctx, "SELECT concat(kafka_key, value, source, id, supplier, reason) FROM "+db.Database()+".dead_letters")
	if err != nil {
		t.Fatal(err)
	}
	var table []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			t.Fatal(err)
		}
		table = append(table, s)
	}
	rows.Close()
	for _, s := range secrets {
		if all := strings.Join(table, "\n"); strings.Contains(all, s) {
			t.Errorf("dead_letters holds %s in clear:\n%s", s, all)
		}
		if strings.Contains(logs.String(), s) {
			t.Errorf("the log holds %s in clear:\n%s", s, logs.String())
		}
	}
	if !strings.Contains(strings.Join(table, "\n"), "data.city: must be a Hunan 市州 name or division code") {
		t.Errorf("dead_letters lost the reason's field and rule:\n%s", strings.Join(table, "\n"))
	}

	// The dead-letter topic keeps the raw bytes, with where they came from and whose they are.
	r := kafka.NewReader(kafka.ReaderConfig{Brokers: []string{broker.Addr()}, GroupID: "dl-test-reader", Topic: "vw.deadletter", StartOffset: kafka.FirstOffset, MaxWait: 100 * time.Millisecond})
	defer r.Close()
	found := map[string]map[string]string{}
	rctx, rcancel := context.WithTimeout(ctx, 30*time.Second)
	for len(found) < 4 {
		m, err := r.ReadMessage(rctx)
		if err != nil {
			t.Fatalf("reading the dead-letter topic: %v (found %d)", err, len(found))
		}
		h := map[string]string{}
		for _, x := range m.Headers {
			h[x.Key] = string(x.Value)
		}
		if !bytes.Equal(m.Value, msgs[string(m.Key)]) {
			t.Errorf("dead letter %s: got value %.60s…, want the raw message", m.Key, m.Value)
		}
		found[string(m.Key)] = h
	}
	rcancel()
	if h := found["overLimit"]; h["vw.topic"] != "vw.usage" || h[ingest.HeaderSupplier] != supplier || h[ingest.HeaderRejectedAt] == "" || h["vw.error"] == "" {
		t.Errorf("dead letter headers: got %v, want the topic, the supplier, the time and the reason", h)
	}

	// The limit was raised: replay the supplier's dead letters with the engine's new decoder.
	replay := ingest.ReplayConfig{Brokers: []string{broker.Addr()}, Topics: cfg.Topics, Supplier: supplier, Since: start.Add(-time.Minute), DryRun: true}
	dec := &ingest.Decoder{PIIKey: key}
	got, err := ingest.Replay(ctx, replay, dec)
	if err != nil {
		t.Fatal(err)
	}
	want := ingest.ReplayResult{Selected: 2, WouldPass: 1, StillFailing: map[string]int{"data.cards: must be an integer >= 1": 1}}
	if got.Selected != want.Selected || got.WouldPass != 1 || got.Replayed != 0 || len(got.StillFailing) != 1 || got.StillFailing["data.cards: must be an integer >= 1"] != 1 {
		t.Fatalf("dry run: got %+v, want %+v", got, want)
	}
	if us, _ := counts(voucherwatch.TypeUsage, "vw.usage"); us != 1 {
		t.Errorf("a dry run stored %d usage records, want the 1 from before", us)
	}
	later := replay
	later.Since, later.DryRun = time.Now().Add(time.Hour), false
	if got, err := ingest.Replay(ctx, later, dec); err != nil || got.Selected != 0 {
		t.Errorf("since an hour ahead: got %+v, %v, want nothing selected", got, err)
	}
	// The engine is restarted with the new limit, then the dead letters are replayed.
	stop()
	stop = run(dec)
	replay.DryRun = false
	got, err = ingest.Replay(ctx, replay, dec)
	if err != nil {
		t.Fatal(err)
	}
	if got.Replayed != 1 || got.WouldPass != 1 || got.Selected != 2 {
		t.Fatalf("replay: got %+v, want 1 of 2 replayed", got)
	}
	waitFor("the replayed record stored", func() bool {
		us, ur := counts(voucherwatch.TypeUsage, "vw.usage")
		return us == 2 && ur == 3
	})
}
