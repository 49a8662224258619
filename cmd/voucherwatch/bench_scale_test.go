package main

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/voucherwatch/voucherwatch"
	"github.com/voucherwatch/voucherwatch/ingest"
	"github.com/voucherwatch/voucherwatch/store"
	"github.com/voucherwatch/voucherwatch/store/storetest"
	"github.com/voucherwatch/voucherwatch/synth"
)

// TestScaleHistory is `voucherwatch bench scale` scaled down: the history holds each distinct
// record once, with its key and its rollup rows, also when it is stored a second time (every
// record redelivered) and after its partitions are merged whole; the detectors find every
// planted case on it and flag no look-alike.
func TestScaleHistory(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 8*time.Minute)
	defer cancel()
	st, err := store.Open(ctx, storetest.Database(t))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if err := st.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	const usage = 60_000
	h, err := buildHistory(ctx, st, usage, historyOptions{}, t.Logf)
	if err != nil {
		t.Fatal(err)
	}
	if h.Filler == 0 {
		t.Fatalf("filler: got none, want the hourly usage on top of the province's %d", h.Stored[voucherwatch.TypeUsage])
	}
	for _, typ := range voucherwatch.RecordTypes {
		want := h.Stats.Topics[voucherwatch.DefaultTopics[typ]].Unique
		if typ == voucherwatch.TypeUsage {
			want = usage
		}
		if h.Stored[typ] != want {
			t.Errorf("%s: stored %d, want %d (the distinct records)", typ, h.Stored[typ], want)
		}
	}

	again, err := buildHistory(ctx, st, usage, historyOptions{}, t.Logf)
	if err != nil {
		t.Fatal(err)
	}
	for typ, n := range again.Stored {
		if n != 0 {
			t.Errorf("%s stored again: got %d new records, want 0", typ, n)
		}
	}
	q := func(sql string) uint64 {
		t.Helper()
		var n uint64
		if err := st.Conn().QueryRow(ctx, sql).Scan(&n); err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
		return n
	}
	// The live shapes run on the history merged whole (mergeHistory): it leaves one part per
	// partition and the same records, keys and rollups (checked below, after it).
	merged, err := mergeHistory(ctx, st, st.Database())
	if err != nil {
		t.Fatal(err)
	}
	split := q("SELECT count() FROM (SELECT table, partition_id FROM system.parts WHERE database = currentDatabase() AND active GROUP BY table, partition_id HAVING count() > 1)")
	if merged.Partitions == 0 || split != 0 {
		t.Errorf("merged the history: %+v; %d partitions still of more than one part, want none", merged, split)
	}
	if rows, windows := q("SELECT count() FROM usage"), q("SELECT sum(windows) FROM usage_days"); rows != usage || windows != usage {
		t.Errorf("usage rows %d, usage_days windows %d: want %d each", rows, windows, usage)
	}
	if keys := q("SELECT uniqExact(source, id) FROM record_keys WHERE tbl = 'usage'"); keys != usage {
		t.Errorf("usage keys: got %d, want %d", keys, usage)
	}

	run, err := runDetectors(ctx, st, h.Truth, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if len(run.Failed) > 0 {
		t.Errorf("detectors failed: %v", run.Failed)
	}
	wantEveryPlantedCase(t, run)
}

// TestScaleProbes: each latency probe decodes as a new record (new id, new claim or contract
// number) that still carries what the original record had, so that it raises the original's
// kind of alert.
func TestScaleProbes(t *testing.T) {
	p := synth.Generate(historyProvince(1))
	h := scaleHistory{Truth: p.Truth, Messages: p.Messages}
	dup := &probeKind{detector: "duplicate_claim"}
	rel := &probeKind{detector: "related_party"}
	price := &probeKind{detector: "price_out_of_range"}
	probes, err := makeProbes(h, 20, 0, dup, rel, price)
	if err != nil {
		t.Fatal(err)
	}
	if len(probes) != 60 {
		t.Fatalf("probes: got %d, want 20 of each of the 3 kinds", len(probes))
	}
	dec := &ingest.Decoder{PIIKey: []byte(devPIIKey)}
	ids := map[string]bool{}
	for _, pr := range probes {
		typ := voucherwatch.TypeContract
		if pr.kind == dup {
			typ = voucherwatch.TypeClaim
		}
		rec, err := dec.Decode(typ, pr.msg.Value)
		if err != nil {
			t.Fatalf("probe %s: %v", pr.marker, err)
		}
		if ids[rec.ID] {
			t.Errorf("probe %s: id %s used twice", pr.marker, rec.ID)
		}
		ids[rec.ID] = true
		switch {
		case rec.Claim != nil:
			if rec.Claim.ClaimID != pr.marker || len(rec.Claim.Invoices) == 0 {
				t.Errorf("claim probe: got claim %s with %d invoices, want %s re-using its original's", rec.Claim.ClaimID, len(rec.Claim.Invoices), pr.marker)
			}
		case rec.Contract != nil:
			if rec.Contract.ContractNo != pr.marker {
				t.Errorf("contract probe: got %s, want %s", rec.Contract.ContractNo, pr.marker)
			}
		}
	}
}

// wantEveryPlantedCase fails t unless a detector run found every planted case and flagged no
// look-alike.
func wantEveryPlantedCase(t *testing.T, run detectorRun) {
	t.Helper()
	for _, f := range run.Findings {
		if f.Found != f.Planted || f.Flagged != 0 {
			t.Errorf("%s: found %d of %d planted cases and flagged %d of %d look-alikes, want all and none", f.Detector, f.Found, f.Planted, f.Flagged, f.LookAlikes)
		}
	}
	if run.Planted == 0 {
		t.Error("no planted cases")
	}
}

// TestReadTracesSplitsChecksBesideFullRun: the probes' traces come from the engine's debug log:
// a contract probe is traced by its own detector's check (not by another detector's check that
// names the same contract), and a check logged during a full run marks its probe as checked
// beside one, which is how `bench scale` splits the latencies.
func TestReadTracesSplitsChecksBesideFullRun(t *testing.T) {
	log := `time=2026-12-06T17:00:00.100Z level=DEBUG msg="ingest: small batch stored" topic=contracts messages=1 ids=probe-related_party-HT-7-P01 produce_to_fetch=20ms
time=2026-12-06T17:00:00.900Z level=DEBUG msg="detectors: check" detector=price_out_of_range round=4 subjects=2 claims="" contracts=HT-7-P01 during_full_run=false pending_for=1ms lock_wait=0s check=300ms upsert=0s upsert_wait=0s stake=0s
time=2026-12-06T17:00:01.000Z level=DEBUG msg="detectors: check" detector=related_party round=3 subjects=2 claims="" contracts=HT-3,HT-7-P01 during_full_run=true pending_for=1ms lock_wait=0s check=400ms upsert=100ms upsert_wait=0s stake=50ms
time=2026-12-06T17:00:01.200Z level=DEBUG msg="detectors: check" detector=duplicate_claim round=9 subjects=1 claims=SB-9-P02 contracts="" during_full_run=false pending_for=1ms lock_wait=0s check=200ms upsert=100ms upsert_wait=0s stake=20ms
`
	path := filepath.Join(t.TempDir(), "engine.log")
	if err := os.WriteFile(path, []byte(log), 0o600); err != nil {
		t.Fatal(err)
	}
	traces := map[string]*probeTrace{
		"HT-7-P01": {detector: "related_party"},
		"SB-9-P02": {detector: "duplicate_claim"},
	}
	var res liveResult
	if err := readTraces(path, traces, time.Time{}, time.Now(), &res); err != nil {
		t.Fatal(err)
	}
	rel, dup := traces["HT-7-P01"], traces["SB-9-P02"]
	if !rel.hasBatch || !rel.hasCheck || !rel.duringRun || rel.took != 400*time.Millisecond || rel.stake != 50*time.Millisecond {
		t.Errorf("contract probe: got batch %v, check %v, beside a full run %v, took %v, stake %v; want its related_party check (400ms, stake 50ms) beside a full run",
			rel.hasBatch, rel.hasCheck, rel.duringRun, rel.took, rel.stake)
	}
	if !dup.hasCheck || dup.duringRun || dup.took != 200*time.Millisecond {
		t.Errorf("claim probe: got check %v, beside a full run %v, took %v; want its check (200ms) with no full run", dup.hasCheck, dup.duringRun, dup.took)
	}
}

// Every broker of bench scale starts empty: one that loaded the log an earlier broker left in
// the working directory handed the engine's new consumer group every earlier run's messages
// first (millions after a few runs, found stored or stored as if they were the live shape's).
func TestBenchBrokerStartsEmpty(t *testing.T) {
	bin := buildEngine(t, t.TempDir())
	t.Chdir(t.TempDir())
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	topic := voucherwatch.DefaultTopics[voucherwatch.TypeUsage]
	lastOffset := func(addr string) int64 {
		t.Helper()
		conn, err := kafka.DialLeader(ctx, "tcp", addr, topic, 0)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		last, err := conn.ReadLastOffset()
		if err != nil {
			t.Fatal(err)
		}
		return last
	}
	first, addr, err := startBroker(ctx, bin, 1)
	if err != nil {
		t.Fatal(err)
	}
	w := ingest.NewProducer(&kafka.Writer{Addr: kafka.TCP(addr), Topic: topic, BatchTimeout: time.Millisecond, RequiredAcks: kafka.RequireOne})
	if err := w.Write(ctx, kafka.Message{Value: []byte(`{}`)}); err != nil {
		t.Fatal(err)
	}
	w.Close()
	if got := lastOffset(addr); got != 1 {
		t.Fatalf("first broker: got last offset %d, want 1", got)
	}
	stopProcess(first)
	second, addr, err := startBroker(ctx, bin, 1)
	if err != nil {
		t.Fatal(err)
	}
	defer stopProcess(second)
	if got := lastOffset(addr); got != 0 {
		t.Errorf("second broker: got last offset %d, want 0 (the first broker's message is not its)", got)
	}
}
