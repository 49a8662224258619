package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"math/rand"
	"net/http"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/voucherwatch/voucherwatch"
	"github.com/voucherwatch/voucherwatch/store/storetest"
	"github.com/voucherwatch/voucherwatch/synth"
)

const testToken = "test-province-admin"

// testConfig is the serve defaults with an embedded broker and HTTP on free ports, quick
// flushes, and the given ClickHouse DSN.
func testConfig(t *testing.T, dsn string) Config {
	t.Helper()
	var c Config
	if err := c.parse(flag.NewFlagSet("test", flag.ContinueOnError), nil); err != nil {
		t.Fatal(err)
	}
	c.EmbeddedKafka = "127.0.0.1:0"
	c.DataDir = t.TempDir()
	c.HTTP = "127.0.0.1:0"
	c.ClickHouse = dsn
	c.BatchSize = 2000
	c.FlushInterval = 100 * time.Millisecond
	c.BootstrapToken = testToken
	c.LogLevel = "warn"
	c.PIIKey = "test-pii-key"
	c.SessionKey = "test-session-key-of-32-bytes...."
	c.ComplaintKey = "test-complaint-key-of-32-bytes.."
	return c
}

func startMain(t *testing.T, c Config) *Main {
	t.Helper()
	m := NewMain(c)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if err := m.Start(ctx); err != nil {
		m.Close()
		t.Fatalf("start: %v", err)
	}
	t.Cleanup(func() { m.Close() })
	return m
}

// status asks GET /api/v1/status as the province administrator.
func status(t *testing.T, m *Main) (voucherwatch.IngestStatus, error) {
	t.Helper()
	req, _ := http.NewRequest("GET", "http://"+m.HTTPAddr+"/api/v1/status", nil)
	req.Header.Set("Authorization", "Bearer "+testToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return voucherwatch.IngestStatus{}, err
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		return voucherwatch.IngestStatus{}, fmt.Errorf("status %d: %s", resp.StatusCode, body)
	}
	var out struct {
		Ingest voucherwatch.IngestStatus `json:"ingest"`
	}
	if err := json.Unmarshal(body, &out); err != nil {
		return out.Ingest, fmt.Errorf("decode %s: %w", body, err)
	}
	return out.Ingest, nil
}

// waitFor polls the status until done says so, failing the test after within.
func waitFor(t *testing.T, m *Main, within time.Duration, what string, done func(voucherwatch.IngestStatus) bool) voucherwatch.IngestStatus {
	t.Helper()
	deadline := time.Now().Add(within)
	var last voucherwatch.IngestStatus
	var lastErr error
	for time.Now().Before(deadline) {
		st, err := status(t, m)
		if err == nil && done(st) {
			return st
		}
		last, lastErr = st, err
		time.Sleep(200 * time.Millisecond)
	}
	t.Fatalf("%s: not reached in %v; last status %+v, err %v", what, within, last, lastErr)
	return last
}

func produce(t *testing.T, addr, topic string, msgs []kafka.Message) {
	t.Helper()
	w := newTopicWriter([]string{addr}, topic)
	defer w.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if err := w.Write(ctx, msgs...); err != nil {
		t.Fatalf("produce to %s: %v", topic, err)
	}
}

// TestProvinceThroughKcat: a province's records, 2 % delivered twice, produced by an
// independent Kafka client (kcat) to the embedded broker, are each stored once.
func TestProvinceThroughKcat(t *testing.T) {
	kcat, err := exec.LookPath("kcat")
	if err != nil {
		t.Fatalf("kcat is needed (Debian package kafkacat; make test installs it): %v", err)
	}
	m := startMain(t, testConfig(t, storetest.Database(t)))
	p := synth.Generate(synth.DefaultConfig(20261126))
	if p.Stats.Total.Messages < 30000 {
		t.Fatalf("got a province of %d messages, want about 40,000", p.Stats.Total.Messages)
	}
	for _, topic := range synth.Topics {
		var in bytes.Buffer
		for _, msg := range p.Topic(topic) {
			// Re-sent records are pretty-printed over several lines: delimit messages and
			// keys with ASCII separators, not newlines and tabs.
			in.Write(msg.Key)
			in.WriteByte(0x1f)
			in.Write(msg.Value)
			in.WriteByte(0x1e)
		}
		cmd := exec.Command(kcat, "-P", "-b", m.Brokers[0], "-t", topic, "-K", `\x1f`, "-D", `\x1e`, "-z", "lz4")
		cmd.Stdin = &in
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("kcat -P %s: %v\n%s", topic, err, out)
		}
	}
	st := waitFor(t, m, 3*time.Minute, "all consumed", func(st voucherwatch.IngestStatus) bool {
		for _, topic := range synth.Topics {
			if ts := st.Topics[topic]; ts.Lag != 0 || ts.Consumed != int64(p.Stats.Topics[topic].Messages) {
				return false
			}
		}
		return true
	})
	for _, topic := range synth.Topics {
		want := p.Stats.Topics[topic]
		got := st.Topics[topic]
		if got.Stored != int64(want.Unique) || got.Duplicates != int64(want.Redeliveries) || got.Rejected != 0 || got.Lag != 0 {
			t.Errorf("%s: got stored %d duplicates %d rejected %d lag %d, want stored %d duplicates %d rejected 0 lag 0",
				topic, got.Stored, got.Duplicates, got.Rejected, got.Lag, want.Unique, want.Redeliveries)
		}
	}
	// The table itself, not only the status, holds each record once.
	for typ, table := range map[voucherwatch.RecordType]string{voucherwatch.TypeUsage: "usage", voucherwatch.TypeClaim: "claims"} {
		var rows, distinct uint64
		if err := m.DB.Conn().QueryRow(context.Background(), "SELECT count(), uniqExact(source, id) FROM "+m.DB.Database()+"."+table).Scan(&rows, &distinct); err != nil {
			t.Fatal(err)
		}
		topic := voucherwatch.DefaultTopics[typ]
		if rows != distinct || rows != uint64(p.Stats.Topics[topic].Unique) {
			t.Errorf("%s: got %d rows, %d distinct, want %d rows each distinct", table, rows, distinct, p.Stats.Topics[topic].Unique)
		}
	}
}

// TestBadInputIsDeadLettered: twenty kinds of bad input among 200 good usage records; the good
// ones are stored, each bad one is on vw.deadletter with a reason naming its field, and the
// engine keeps running.
func TestBadInputIsDeadLettered(t *testing.T) {
	m := startMain(t, testConfig(t, storetest.Database(t)))
	var good []kafka.Message
	if err := synth.UsageStream(42, 200, func(msg synth.Message) error {
		good = append(good, kafka.Message{Key: bytes.Clone(msg.Key), Value: bytes.Clone(msg.Value)})
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	// BadUsage mixes good messages (Kind "") among the bad ones.
	var bad []synth.BadMessage
	for _, b := range synth.BadUsage(42) {
		if b.Kind == "" {
			good = append(good, kafka.Message{Key: bytes.Clone(b.Message.Key), Value: bytes.Clone(b.Message.Value)})
		} else {
			bad = append(bad, b)
		}
	}
	if len(bad) < 20 {
		t.Fatalf("got %d bad inputs, want 20", len(bad))
	}
	badByValue := map[string]synth.BadMessage{}
	all := append([]kafka.Message(nil), good...)
	for _, b := range bad {
		badByValue[string(b.Message.Value)] = b
		all = append(all, kafka.Message{Key: b.Message.Key, Value: b.Message.Value})
	}
	rand.New(rand.NewSource(1)).Shuffle(len(all), func(i, j int) { all[i], all[j] = all[j], all[i] })
	produce(t, m.Brokers[0], "vw.usage", all)

	st := waitFor(t, m, time.Minute, "usage consumed", func(st voucherwatch.IngestStatus) bool {
		return st.Topics["vw.usage"].Consumed == int64(len(all)) && st.Topics["vw.usage"].Lag == 0
	})
	if got := st.Topics["vw.usage"]; got.Stored != int64(len(good)) || got.Rejected != int64(len(bad)) || got.Duplicates != 0 {
		t.Errorf("got stored %d rejected %d duplicates %d, want %d, %d, 0", got.Stored, got.Rejected, got.Duplicates, len(good), len(bad))
	}

	r := kafka.NewReader(kafka.ReaderConfig{Brokers: m.Brokers, GroupID: "test-dlq-reader", Topic: "vw.deadletter",
		StartOffset: kafka.FirstOffset, MaxBytes: 16 << 20, MaxWait: 100 * time.Millisecond})
	defer r.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	seen := map[string]bool{}
	for len(seen) < len(bad) {
		msg, err := r.ReadMessage(ctx)
		if err != nil {
			t.Fatalf("read dead letters: %v (got %d of %d)", err, len(seen), len(bad))
		}
		h := map[string]string{}
		for _, x := range msg.Headers {
			h[x.Key] = string(x.Value)
		}
		b, ok := badByValue[string(msg.Value)]
		if !ok {
			t.Errorf("dead letter with a value that is not one of the bad inputs: %.80q (reason %q)", msg.Value, h["vw.error"])
			continue
		}
		seen[b.Kind] = true
		if h["vw.topic"] != "vw.usage" || h["vw.partition"] == "" || h["vw.offset"] == "" {
			t.Errorf("%s: got headers %v, want vw.topic=vw.usage and a partition and offset", b.Kind, h)
		}
		if _, err := strconv.Atoi(h["vw.partition"]); err != nil {
			t.Errorf("%s: vw.partition %q is not a number", b.Kind, h["vw.partition"])
		}
		if b.Field != "" && !strings.Contains(h["vw.error"], b.Field) {
			t.Errorf("%s: got reason %q, want it to name %q", b.Kind, h["vw.error"], b.Field)
		}
	}
	if _, err := status(t, m); err != nil {
		t.Errorf("engine not answering after bad input: %v", err)
	}
	// The data-quality view counts them per supplier.
	req, _ := http.NewRequest("GET", "http://"+m.HTTPAddr+"/api/v1/deadletters", nil)
	req.Header.Set("Authorization", "Bearer "+testToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var dq struct {
		Suppliers []struct {
			Supplier, Topic, LastReason string
			Count                       int
		} `json:"suppliers"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&dq); err != nil {
		t.Fatal(err)
	}
	total := 0
	for _, s := range dq.Suppliers {
		total += s.Count
	}
	if total != len(bad) {
		t.Errorf("data quality: got %d rejections over %d suppliers, want %d", total, len(dq.Suppliers), len(bad))
	}
}

// TestClickHouseOutage: while ClickHouse is down the engine retries, commits nothing and loses
// nothing; when it returns, ingest resumes by itself and every record is stored once.
func TestClickHouseOutage(t *testing.T) {
	srv := storetest.StartServer(t)
	c := testConfig(t, srv.DSN("vw_outage"))
	m := startMain(t, c)
	var msgs []kafka.Message
	if err := synth.UsageStream(7, 2000, func(msg synth.Message) error {
		msgs = append(msgs, kafka.Message{Key: bytes.Clone(msg.Key), Value: bytes.Clone(msg.Value)})
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	produce(t, m.Brokers[0], "vw.usage", msgs[:1000])
	waitFor(t, m, time.Minute, "first half stored", func(st voucherwatch.IngestStatus) bool {
		return st.Topics["vw.usage"].Stored == 1000 && st.Topics["vw.usage"].Lag == 0
	})

	srv.Stop()
	produce(t, m.Brokers[0], "vw.usage", msgs[1000:])
	time.Sleep(3 * time.Second)
	if got := committed(t, m, "vw.usage"); got != 1000 {
		t.Errorf("while ClickHouse was down: got %d committed, want 1000 (nothing committed that is not stored)", got)
	}

	if code, body := healthz(t, m); code != http.StatusServiceUnavailable || body != "unhealthy: clickhouse unreachable\n" {
		t.Errorf("healthz while ClickHouse was down: got %d %q, want 503 unhealthy: clickhouse unreachable", code, body)
	}

	srv.Start()
	st := waitFor(t, m, 2*time.Minute, "recovered", func(st voucherwatch.IngestStatus) bool {
		return st.Topics["vw.usage"].Consumed == 2000 && st.Topics["vw.usage"].Lag == 0
	})
	if got := st.Topics["vw.usage"]; got.Stored != 2000 || got.Duplicates != 0 || got.Rejected != 0 {
		t.Errorf("after recovery: got stored %d duplicates %d rejected %d, want 2000, 0, 0", got.Stored, got.Duplicates, got.Rejected)
	}
	if retries := counterValue(t, m, "vw_ingest_retries_total"); retries == 0 {
		t.Errorf("got no retries counted during the outage, want some")
	}
	if code, body := healthz(t, m); code != http.StatusOK || body != "ok\n" {
		t.Errorf("healthz after recovery: got %d %q, want 200 ok", code, body)
	}
}

// healthz asks GET /healthz, without a token.
func healthz(t *testing.T, m *Main) (int, string) {
	t.Helper()
	resp, err := http.Get("http://" + m.HTTPAddr + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}

// committed is the group's committed offsets on topic, summed, straight from the broker.
func committed(t *testing.T, m *Main, topic string) int64 {
	t.Helper()
	client := &kafka.Client{Addr: kafka.TCP(m.Brokers...)}
	meta, err := client.Metadata(context.Background(), &kafka.MetadataRequest{Topics: []string{topic}})
	if err != nil {
		t.Fatal(err)
	}
	var parts []int
	for _, p := range meta.Topics[0].Partitions {
		parts = append(parts, p.ID)
	}
	resp, err := client.OffsetFetch(context.Background(), &kafka.OffsetFetchRequest{GroupID: m.Consumer.GroupID(topic), Topics: map[string][]int{topic: parts}})
	if err != nil {
		t.Fatal(err)
	}
	var sum int64
	for _, p := range resp.Topics[topic] {
		sum += max(p.CommittedOffset, 0)
	}
	return sum
}

func counterValue(t *testing.T, m *Main, name string) float64 {
	t.Helper()
	mfs, err := m.Registry.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var sum float64
	for _, mf := range mfs {
		if mf.GetName() == name {
			for _, x := range mf.GetMetric() {
				sum += x.GetCounter().GetValue()
			}
		}
	}
	return sum
}

// TestSeveralInstancesShareTheGroup: two engines in one consumer group, one ClickHouse
// database, store a province once between them.
func TestSeveralInstancesShareTheGroup(t *testing.T) {
	dsn := storetest.Database(t)
	a := startMain(t, testConfig(t, dsn))
	cb := testConfig(t, dsn)
	cb.Kafka = a.Brokers[0]
	b := startMain(t, cb)

	// Both instances must be in each topic's group before anything is produced, or the first
	// drains the topics before the second joins.
	for _, topic := range synth.Topics {
		waitMembers(t, a, topic, 2)
	}
	p := synth.Generate(synth.Config{Seed: 99, Enterprises: 120, Suppliers: 10, DuplicateRate: 0.05, Plant: true})
	if err := publishProvince(t.Context(), a.Brokers, a.Config.Topics, p.Messages, nil); err != nil {
		t.Fatal(err)
	}
	for _, m := range []*Main{a, b} {
		st := waitFor(t, m, 3*time.Minute, "all consumed", func(st voucherwatch.IngestStatus) bool {
			for _, topic := range synth.Topics {
				if ts := st.Topics[topic]; ts.Lag != 0 || ts.Consumed != int64(p.Stats.Topics[topic].Messages) {
					return false
				}
			}
			return true
		})
		for _, topic := range synth.Topics {
			want, got := p.Stats.Topics[topic], st.Topics[topic]
			if got.Stored != int64(want.Unique) || got.Duplicates != int64(want.Redeliveries) {
				t.Errorf("%s: got stored %d duplicates %d, want %d and %d", topic, got.Stored, got.Duplicates, want.Unique, want.Redeliveries)
			}
		}
	}
	if a.Consumer == nil || b.Consumer == nil {
		t.Fatal("consumers not started")
	}
	if ca, cb := counterValue(t, a, "vw_ingest_consumed_total"), counterValue(t, b, "vw_ingest_consumed_total"); ca == 0 || cb == 0 {
		t.Errorf("got consumed %v by the first instance and %v by the second, want both to share the work", ca, cb)
	}
}

// waitMembers waits until topic's consumer group has n members in a stable state.
func waitMembers(t *testing.T, m *Main, topic string, n int) {
	t.Helper()
	client := &kafka.Client{Addr: kafka.TCP(m.Brokers...)}
	group := m.Consumer.GroupID(topic)
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		resp, err := client.DescribeGroups(context.Background(), &kafka.DescribeGroupsRequest{GroupIDs: []string{group}})
		if err == nil && len(resp.Groups) == 1 && resp.Groups[0].GroupState == "Stable" && len(resp.Groups[0].Members) == n {
			return
		}
		time.Sleep(200 * time.Millisecond)
	}
	t.Fatalf("group %s did not reach %d stable members", group, n)
}
