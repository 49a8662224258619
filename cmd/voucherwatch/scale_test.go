package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math/rand"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/voucherwatch/voucherwatch"
	"github.com/voucherwatch/voucherwatch/ingest"
	"github.com/voucherwatch/voucherwatch/store"
	"github.com/voucherwatch/voucherwatch/store/storetest"
	"github.com/voucherwatch/voucherwatch/synth"
)

// scaleTestUsage is the history's size in usage records: VW_SCALE_USAGE, or 2,000,000
// (200,000 with -short).
func scaleTestUsage(t *testing.T) int {
	return envCount(t, "VW_SCALE_USAGE", 100_000, 2_000_000, 200_000)
}

// TestScaleTwoMillion is issue 10's scaled-down run: a province's history of about 2 M usage
// records written through the engine's writer, the planted cases found on it as at the demo's
// size, then live traffic on top through a broker in the test process over TCP, ingested by
// the engine as a subprocess with its incremental checks live, SIGKILLed twice mid-ingest
// (after it stored live records, so that an INSERT of its may be in flight) and started a
// third time. The live traffic holds new hourly usage, a supplier's re-send of some of it,
// history records delivered again, a record with a bad field and, once the third life runs,
// a claim re-using an already-claimed invoice. At the end every record is stored exactly once
// (rows = distinct (source, id) = usage FINAL, no copy even before merges), the rollups and
// keys equal the records (voucherwatch check finds no drift), the claim is alerted by the
// incremental check (the full runs are held off), and the bad record is the only dead letter,
// its reason naming the field.
func TestScaleTwoMillion(t *testing.T) {
	storetest.Require(t)
	t.Parallel()
	usage := scaleTestUsage(t)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Minute)
	defer cancel()
	seed := time.Now().UnixNano()
	rng := rand.New(rand.NewSource(seed))
	t.Logf("kill timings seed %d", seed)

	// The engine builds while the history is written.
	bin := filepath.Join(t.TempDir(), "voucherwatch")
	built := make(chan error, 1)
	go func() {
		cmd := exec.Command("go", "build", "-o", bin, ".")
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		out, err := cmd.CombinedOutput()
		if err != nil {
			err = fmt.Errorf("go build: %v\n%s", err, out)
		}
		built <- err
	}()

	dsn := storetest.Database(t)
	st, err := store.Open(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if err := st.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	started := time.Now()
	h, err := buildHistory(ctx, st, usage, historyOptions{}, t.Logf)
	if err != nil {
		t.Fatal(err)
	}
	historyTook := time.Since(started)
	for _, typ := range voucherwatch.RecordTypes {
		want := h.Stats.Topics[voucherwatch.DefaultTopics[typ]].Unique
		if typ == voucherwatch.TypeUsage {
			want = usage
		}
		if h.Stored[typ] != want {
			t.Fatalf("history: %s stored %d, want %d (the distinct records)", typ, h.Stored[typ], want)
		}
	}

	// The planted cases on the history, as at the demo's size.
	run, err := runDetectors(ctx, st, h.Truth, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if len(run.Failed) > 0 {
		t.Errorf("detectors failed: %v", run.Failed)
	}
	wantEveryPlantedCase(t, run)

	// The live traffic, in two halves: the second is produced after the first kill, so that
	// the second life has records to ingest when it is killed too.
	const live, resent, again = 200_000, 5_000, 5_000
	var msgs []synth.Message
	keep := func(m synth.Message) error {
		msgs = append(msgs, synth.Message{Topic: m.Topic, Key: bytes.Clone(m.Key), Value: bytes.Clone(m.Value)})
		return nil
	}
	if err := synth.UsageStream(5005, live, keep); err != nil {
		t.Fatal(err)
	}
	bad := msgs[live/4]
	bad.Value, err = rewrite(bad.Value, "usage-bad-card-hours", "card_hours", 1e9)
	if err != nil {
		t.Fatal(err)
	}
	first := append(slices.Clone(msgs[:live/2]), bad)
	// The second half opens with a supplier's re-send of records of the first (the same
	// messages again) and history records delivered again, so that all of them are read
	// before the last new record of their partition is stored.
	second := slices.Clone(msgs[:resent])
	rest := slices.Clone(msgs[live/2:])
	msgs = nil
	if err := synth.UsageStream(historyFillerUsageSeed, again, keep); err != nil {
		t.Fatal(err) // stored in the history already
	}
	second = append(append(second, msgs...), rest...)
	dup := &probeKind{kind: "claim re-using an invoice", detector: "duplicate_claim"}
	probes, err := makeProbes(h, 1, 0, dup, &probeKind{detector: "related_party"}, &probeKind{detector: "price_out_of_range"})
	if err != nil {
		t.Fatal(err)
	}
	var claimProbe *probe
	for _, p := range probes {
		if p.kind == dup {
			claimProbe = p
		}
	}

	var topics []string
	for _, tp := range voucherwatch.DefaultTopics {
		topics = append(topics, tp)
	}
	broker, err := ingest.StartEmbedded(ingest.EmbeddedConfig{Addr: "127.0.0.1:0", Partitions: 4,
		Topics: append(topics, voucherwatch.DefaultDeadLetterTopic)})
	if err != nil {
		t.Fatal(err)
	}
	defer broker.Close()
	produce := func(msgs []synth.Message) {
		t.Helper()
		if err := publishProvince(ctx, []string{broker.Addr()}, voucherwatch.DefaultTopics, msgs, nil); err != nil {
			t.Fatal(err)
		}
	}
	produce(first)
	if err := <-built; err != nil {
		t.Fatal(err)
	}

	args := []string{
		"--kafka", broker.Addr(), "--clickhouse", dsn, "--http", "127.0.0.1:0", "--bootstrap-token", testToken,
		"--pii-key", devPIIKey, "--log-level", "info", "--batch-size", "20000", "--flush-interval", "200ms",
		// The incremental checks run on every stored batch; the full runs, which the
		// history above was scored on, are held off, so that an alert here is the check's.
		"--detect-schedule", "@every 8760h", "--detect-debounce", "1h", "--spotcheck-schedule", "",
	}
	start, stop := engineLives(t, bin, 30, args...)
	defer stop()
	q := func(sql string) uint64 {
		t.Helper()
		var n uint64
		if err := st.Conn().QueryRow(ctx, sql).Scan(&n); err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
		return n
	}
	// killAfterProgress kills a life at a random moment once it has stored live records
	// beyond from rows of usage (count() is read from the parts' metadata: cheap to poll):
	// its next INSERT may be on its way to the server.
	killAfterProgress := func(e *engineProc, from uint64) uint64 {
		t.Helper()
		deadline := time.Now().Add(90 * time.Second)
		for q("SELECT count() FROM usage") <= from {
			if time.Now().After(deadline) {
				t.Fatalf("no live usage stored in 90 s (from %d rows)", from)
			}
			time.Sleep(50 * time.Millisecond)
		}
		time.Sleep(time.Duration(rng.Intn(1500)) * time.Millisecond)
		e.kill()
		return q("SELECT count() FROM usage")
	}
	atFirst := killAfterProgress(start(), uint64(usage))
	produce(second)
	atSecond := killAfterProgress(start(), atFirst)
	start() // the third life, which catches up
	produce([]synth.Message{{Topic: claimProbe.msg.Topic, Key: claimProbe.msg.Key, Value: claimProbe.msg.Value}})
	claimProbe.sentAt = time.Now()

	// Caught up: the status API counts every table's distinct records, which took more than
	// its 10 s at 2 M under load, so the test polls what is cheap: usage's row count (from
	// the parts' metadata), the probe's claim and the dead letter.
	wantUsage := uint64(usage + live)
	for {
		rows := q("SELECT count() FROM usage")
		claimed := q("SELECT count() FROM claims WHERE claim_id = '" + claimProbe.marker + "'")
		rejected := q("SELECT count() FROM dead_letters")
		if rows >= wantUsage && claimed > 0 && rejected > 0 {
			break
		}
		if time.Since(claimProbe.sentAt) > 5*time.Minute {
			t.Fatalf("not caught up 5 min after the third start: usage rows %d of %d, probe claim %d, dead letters %d", rows, wantUsage, claimed, rejected)
		}
		time.Sleep(time.Second)
	}
	caughtUp := time.Since(claimProbe.sentAt)
	t.Logf("history %d usage records in %.0fs; full detector run %.1fs (recall %.2f, precision %.2f); live usage rows at the kills %d and %d of %d; third life caught up in %.1fs",
		usage, historyTook.Seconds(), run.Took.Seconds(), run.Recall(), run.Precision(), atFirst-uint64(usage), atSecond-uint64(usage), live, caughtUp.Seconds())

	// The claim re-using an already-claimed invoice, alerted by the incremental check.
	deadline := time.Now().Add(2 * time.Minute)
	for {
		alerts, err := allAlerts(ctx, st)
		if err != nil {
			t.Fatal(err)
		}
		found := false
		for _, a := range alerts {
			b, _ := json.Marshal(a)
			found = found || (a.Detector == "duplicate_claim" && bytes.Contains(b, []byte(claimProbe.marker)))
		}
		if found {
			t.Logf("claim %s alerted: seen %.1fs after it was produced (polled once a second after catching up)", claimProbe.marker, time.Since(claimProbe.sentAt).Seconds())
			break
		}
		if time.Now().After(deadline) {
			t.Errorf("claim %s re-using an invoice: no duplicate_claim alert naming it %v after it was produced", claimProbe.marker, time.Since(claimProbe.sentAt))
			break
		}
		time.Sleep(time.Second)
	}

	// Every record once: no copy in usage even before merges, and the readers' counts agree.
	rows, final, distinct := q("SELECT count() FROM usage"), q("SELECT count() FROM usage FINAL"), q("SELECT uniqExact(source, id) FROM usage")
	if rows != wantUsage || final != wantUsage || distinct != wantUsage {
		t.Errorf("usage: got %d rows, %d FINAL, %d distinct, want %d each", rows, final, distinct, wantUsage)
	}
	if windows := q("SELECT sum(windows) FROM usage_days"); windows != wantUsage {
		t.Errorf("usage_days: got %d windows, want %d", windows, wantUsage)
	}
	cs, err := st.Check(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range cs {
		if c.Drift() {
			t.Errorf("voucherwatch check: drift in %s, %s: the records say %v, the table %v", c.Table, c.Measure, c.Want, c.Got)
		}
	}

	// The bad record alone is rejected, naming its field.
	for _, tp := range voucherwatch.DefaultTopics {
		n, err := st.RejectedCount(ctx, tp)
		if err != nil {
			t.Fatal(err)
		}
		want := uint64(0)
		if tp == voucherwatch.DefaultTopics[voucherwatch.TypeUsage] {
			want = 1
		}
		if n != want {
			t.Errorf("%s: %d dead letters, want %d", tp, n, want)
		}
	}
	var reason string
	if err := st.Conn().QueryRow(ctx, "SELECT any(reason) FROM dead_letters").Scan(&reason); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(reason, "card_hours") {
		t.Errorf("dead letter reason %q, want it to name data.card_hours", reason)
	}
}
