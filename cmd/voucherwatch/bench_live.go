package main

import (
	"bufio"
	"context"
	"encoding/binary"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/voucherwatch/voucherwatch/ingest"
	"github.com/voucherwatch/voucherwatch/store"
	"github.com/voucherwatch/voucherwatch/synth"
)

// liveUsageSeed seeds the hourly usage that tops the province's own up to --usage records.
const liveUsageSeed = 5005

// runBenchLive is issue 10's check on a province the engine has not seen: a fresh engine
// (`serve` in its own process, its default configuration, detectors live on their normal
// schedule) takes a synthetic province through its embedded broker, the other record types
// first, then --usage usage records at full rate; meanwhile claims re-using an already-claimed
// invoice are produced, spread over the stream, and each is timed from produce to its alert in
// GET /api/v1/alerts. The engine's ingest rate is measured against clickhouse-client
// JSONEachRow of the same usage rows into a plain MergeTree, and against the same engine with
// its detectors off, all in the same run (docs/benchmarks.md).
func runBenchLive(ctx context.Context, args []string) (err error) {
	fs := flag.NewFlagSet("voucherwatch bench live", flag.ContinueOnError)
	usage := fs.Int("usage", 2_000_000, "usage records streamed through Kafka, the province's own included")
	chAddr := fs.String("clickhouse-addr", "127.0.0.1:9000", "ClickHouse native address")
	probes := fs.Int("probes", 20, "claims re-using an already-claimed invoice, spread over the stream")
	offRun := fs.Bool("off-run", true, "also stream the records into an engine with its detectors off, for the ratio")
	probeWait := fs.Duration("probe-wait", time.Minute, "how long to wait for the probes' alerts after the last probe and the stream's end")
	keep := fs.Bool("keep", false, "keep the bench databases and the engines' logs")
	var engineFlags stringList
	fs.Var(&engineFlags, "engine-flag", "a flag for both engines' serve, as --engine-flag=--memory-limit=900 (repeatable)")
	codec := fs.String("compression", "none", "the usage producer's codec: none, gzip, snappy, lz4, zstd")
	if err := fs.Parse(args); err != nil {
		return err
	}
	var compression kafka.Compression
	if *codec != "none" {
		if err := compression.UnmarshalText([]byte(*codec)); err != nil {
			return fmt.Errorf("bench live: --compression %q: %w", *codec, err)
		}
	}
	self, err := os.Executable()
	if err != nil {
		return err
	}
	tmp, err := os.MkdirTemp("", "vwlive")
	if err != nil {
		return err
	}
	stamp := time.Now().Unix()
	dsnOf := func(db string) string { return fmt.Sprintf("clickhouse://%s/%s", *chAddr, db) }
	logf := func(format string, a ...any) {
		fmt.Printf("[%s] %s\n", time.Now().Format("15:04:05"), fmt.Sprintf(format, a...))
	}
	var dbs []string
	// A failed run keeps what it made, as --keep does, so that the failure can be read: the
	// engines' logs and the databases.
	defer func() {
		if *keep || err != nil {
			logf("kept: databases %v, logs in %s", dbs, tmp)
			return
		}
		for _, db := range dbs {
			_ = exec.Command("clickhouse-client", "--host", hostOf(*chAddr), "--port", portOf(*chAddr), "--query", "DROP DATABASE IF EXISTS "+db).Run()
		}
		os.RemoveAll(tmp)
	}()
	loadStart := loadAverage()

	// 1. The province, and its usage topped up with hourly telemetry: the messages to a file,
	// the rows as clickhouse-client reads them to another.
	cfg := historyProvince(*usage)
	logf("province: generating (%d enterprises, %d suppliers, planted cases)...", cfg.Enterprises, cfg.Suppliers)
	p := synth.Generate(cfg)
	s := liveStream{msgsPath: filepath.Join(tmp, "usage.msgs"), rowsPath: filepath.Join(tmp, "usage.jsonl"), want: map[string]uint64{}, compression: compression}
	for _, m := range p.Messages {
		if m.Topic != synth.TopicUsage {
			s.others = append(s.others, m)
		}
	}
	for _, topic := range synth.Topics {
		s.want[topic] = uint64(p.Stats.Topics[topic].Unique)
	}
	if err := s.writeUsage(p.Messages, *usage); err != nil {
		return err
	}
	logf("province: %d other records, %d usage messages (%d distinct records) written", len(s.others), s.messages, s.want[synth.TopicUsage])

	h := scaleHistory{Messages: p.Messages, Truth: p.Truth}
	dup := &probeKind{kind: "claim re-using an invoice", detector: "duplicate_claim"}
	all, err := makeProbes(h, *probes, 0, dup, &probeKind{detector: "related_party"}, &probeKind{detector: "price_out_of_range"})
	if err != nil {
		return err
	}
	var claimProbes []*probe
	for _, pr := range all {
		if pr.kind == dup {
			claimProbes = append(claimProbes, pr)
		}
	}

	// 2. The baseline: clickhouse-client JSONEachRow of the same rows into a plain MergeTree.
	plainDB := fmt.Sprintf("vwlive_%d_plain", stamp)
	dbs = append(dbs, plainDB)
	baseline, err := liveBaseline(ctx, *chAddr, dsnOf(plainDB), s)
	if err != nil {
		return err
	}
	logf("baseline: clickhouse-client JSONEachRow %.0f rows/s", baseline)

	c := liveConfig{self: self, tmp: tmp, stamp: stamp, dsnOf: dsnOf, logf: logf, stream: s, wait: *probeWait, flags: engineFlags}
	// 3. The engine with its detectors off (no full runs; no claim arrives during the stream,
	// so no check either), then with them live and the probes.
	estimate := time.Duration(float64(s.want[synth.TopicUsage]) / 40_000 * float64(time.Second))
	var off liveResult
	if *offRun {
		off, err = benchLiveRun(ctx, c, "off", nil, 0, &dbs)
		if err != nil {
			return err
		}
		logf("detectors off: %.0f records/s; %s", off.rate, off.cpu)
		estimate = time.Duration(off.secs * float64(time.Second))
	}
	on, err := benchLiveRun(ctx, c, "live", claimProbes, estimate, &dbs)
	if err != nil {
		return err
	}
	logf("detectors live: %.0f records/s; %s", on.rate, on.cpu)
	loadEnd := loadAverage()

	fmt.Println()
	fmt.Printf("voucherwatch bench live: %d usage messages (%d distinct records) through the engine's embedded broker after the province's %d other records; load average %s at the start, %s at the end\n",
		s.messages, s.want[synth.TopicUsage], len(s.others), loadStart, loadEnd)
	fmt.Printf("ingest   clickhouse-client JSONEachRow into a plain MergeTree    %8.0f rows/s\n", baseline)
	if *offRun {
		fmt.Printf("ingest   engine, detectors off                                  %8.0f records/s = %.2f × clickhouse-client (producer %.0f messages/s)\n", off.rate, off.rate/baseline, off.produceRate)
	}
	fmt.Printf("ingest   engine, detectors live                                 %8.0f records/s = %.2f × clickhouse-client", on.rate, on.rate/baseline)
	if *offRun {
		fmt.Printf(", %.2f × detectors off", on.rate/off.rate)
	}
	fmt.Printf(" (producer %.0f messages/s)\n", on.produceRate)
	if *offRun {
		fmt.Printf("cpu      detectors off: %s\n", off.cpu)
	}
	fmt.Printf("cpu      detectors live: %s\n", on.cpu)
	fmt.Printf("sweeps   full runs during the live stream: %d, %.1f s in all\n", on.sweeps, on.sweepSecs)
	var lat []float64
	within := 0
	for _, pr := range claimProbes {
		if pr.done {
			l := pr.visibleAt.Sub(pr.sentAt).Seconds()
			lat = append(lat, l)
			if l <= 5 {
				within++
			}
		}
	}
	fmt.Printf("alerts   claims re-using an already-claimed invoice: %d/%d alerted, %d within 5 s; p50 %.1fs, p99 %.1fs, max %.1fs (produce → visible in GET /api/v1/alerts)\n",
		len(lat), len(claimProbes), within, percentile(lat, 0.50), percentile(lat, 0.99), percentile(lat, 1))
	fmt.Println("probes   sent after the stream's start; then seconds from produce to: fetched, stored, duplicate_claim's check started, its alerts stored, visible in the API")
	for _, pr := range claimProbes {
		fmt.Printf("probe    %s\n", on.trace[pr.marker].line(pr))
	}
	return nil
}

// liveStream is the province's records as the bench sends them.
type liveStream struct {
	others             []synth.Message   // registry, contracts, settlements, claims, in order
	msgsPath, rowsPath string            // usage messages (framed), and their rows as JSONEachRow
	messages           int               // usage messages
	compression        kafka.Compression // the producer's codec for the usage stream
	want               map[string]uint64 // distinct records per topic: what the engine stores
}

// writeUsage writes the province's usage messages, then hourly usage up to n messages.
func (s *liveStream) writeUsage(province []synth.Message, n int) error {
	mf, err := os.Create(s.msgsPath)
	if err != nil {
		return err
	}
	defer mf.Close()
	rf, err := os.Create(s.rowsPath)
	if err != nil {
		return err
	}
	defer rf.Close()
	mw, rw := bufio.NewWriterSize(mf, 1<<20), bufio.NewWriterSize(rf, 1<<20)
	enc := json.NewEncoder(rw)
	enc.SetEscapeHTML(false)
	dec := &ingest.Decoder{PIIKey: []byte(devPIIKey)}
	var hdr [2 * binary.MaxVarintLen64]byte
	add := func(m synth.Message) error {
		if err := encodeUsageRow(enc, dec, m.Value); err != nil {
			return err
		}
		k := binary.PutUvarint(hdr[:], uint64(len(m.Key)))
		k += binary.PutUvarint(hdr[k:], uint64(len(m.Value)))
		if _, err := mw.Write(hdr[:k]); err != nil {
			return err
		}
		if _, err := mw.Write(m.Key); err != nil {
			return err
		}
		_, err := mw.Write(m.Value)
		s.messages++
		return err
	}
	for _, m := range province {
		if m.Topic == synth.TopicUsage {
			if err := add(m); err != nil {
				return err
			}
		}
	}
	filler := max(0, n-s.messages)
	if err := synth.UsageStream(liveUsageSeed, filler, add); err != nil {
		return err
	}
	s.want[synth.TopicUsage] += uint64(filler)
	if err := mw.Flush(); err != nil {
		return err
	}
	return rw.Flush()
}

// produceUsage sends the usage messages of the file as fast as the broker takes them.
func (s *liveStream) produceUsage(ctx context.Context, addr string) error {
	f, err := os.Open(s.msgsPath)
	if err != nil {
		return err
	}
	defer f.Close()
	r := bufio.NewReaderSize(f, 1<<20)
	w := ingest.NewProducer(&kafka.Writer{Addr: kafka.TCP(addr), Topic: synth.TopicUsage,
		Balancer: &kafka.Hash{}, BatchSize: 5000, BatchBytes: 8 << 20, BatchTimeout: 20 * time.Millisecond, RequiredAcks: kafka.RequireOne,
		ReadTimeout: time.Minute, WriteTimeout: time.Minute, Compression: s.compression})
	defer w.Close()
	buf := make([]kafka.Message, 0, 20000)
	for {
		kl, err := binary.ReadUvarint(r)
		if err == io.EOF {
			break
		} else if err != nil {
			return err
		}
		vl, err := binary.ReadUvarint(r)
		if err != nil {
			return err
		}
		b := make([]byte, kl+vl)
		if _, err := io.ReadFull(r, b); err != nil {
			return err
		}
		buf = append(buf, kafka.Message{Key: b[:kl], Value: b[kl:]})
		if len(buf) == cap(buf) {
			if err := w.Write(ctx, buf...); err != nil {
				return err
			}
			buf = buf[:0]
		}
	}
	if len(buf) > 0 {
		return w.Write(ctx, buf...)
	}
	return nil
}

// liveBaseline inserts the stream's usage rows with clickhouse-client into a plain MergeTree
// shaped like usage and returns its rate in rows/s.
func liveBaseline(ctx context.Context, chAddr, dsn string, s liveStream) (float64, error) {
	db, err := store.Open(ctx, dsn)
	if err != nil {
		return 0, err
	}
	defer db.Close()
	if err := db.Migrate(ctx); err != nil {
		return 0, err
	}
	if err := db.Conn().Exec(ctx, "CREATE TABLE usage_plain AS usage ENGINE = MergeTree PARTITION BY toYYYYMM(window_start) ORDER BY (supplier_uscc, resource_id, window_start, source, id)"); err != nil {
		return 0, fmt.Errorf("bench live: baseline table: %w", err)
	}
	start := time.Now()
	if err := clientInsert(ctx, chAddr, db.Database()+".usage_plain", s.rowsPath); err != nil {
		return 0, err
	}
	return float64(s.messages) / time.Since(start).Seconds(), nil
}

type liveConfig struct {
	self, tmp string
	stamp     int64
	dsnOf     func(string) string
	logf      func(string, ...any)
	stream    liveStream
	wait      time.Duration
	flags     []string // the operator's extra serve flags
}

// liveResult is one engine's run.
type liveResult struct {
	rate, secs  float64 // usage records/s from the first usage batch stored to the last
	produceRate float64 // usage messages/s the producer sent
	peak        uint64
	sweeps      int     // full detector runs that ended during the usage stream
	sweepSecs   float64 // and their time
	trace       map[string]*probeTrace
	cpu         cpuUse // from the first usage batch stored to the last (the engine holds the broker)
}

// benchLiveRun starts a fresh engine on a new database, sends the other record types, waits
// for them to be stored, then streams the usage while sending the probes every estimate/n
// (the first as the stream starts), and measures the usage's ingest rate and each probe's
// latency. With no probes, the engine's detectors are off: no full run, on a trigger or the
// schedule.
func benchLiveRun(ctx context.Context, c liveConfig, name string, probes []*probe, estimate time.Duration, dbs *[]string) (liveResult, error) {
	res := liveResult{trace: map[string]*probeTrace{}}
	db := fmt.Sprintf("vwlive_%d_%s", c.stamp, name)
	*dbs = append(*dbs, db)
	kafkaAddr, httpAddr := freeAddr(), freeAddr()
	logPath := filepath.Join(c.tmp, name+".log")
	logFile, err := os.Create(logPath)
	if err != nil {
		return res, err
	}
	defer logFile.Close()
	// The engine's defaults, but for what the bench needs: its own addresses, database and
	// data directory, a token for the API, development keys (synthetic records only), and
	// debug logs, which trace the probes.
	args := []string{"serve", "--embedded-kafka", kafkaAddr, "--data-dir", filepath.Join(c.tmp, name), "--clickhouse", c.dsnOf(db),
		"--http", httpAddr, "--bootstrap-token", "bench", "--dev-insecure-keys", "--log-level", "debug"}
	if len(probes) == 0 {
		args = append(args, "--detect-debounce", "24h", "--detect-schedule", "@every 24h")
	}
	args = append(args, c.flags...)
	eng := exec.CommandContext(ctx, c.self, args...)
	eng.Stderr = logFile
	if err := eng.Start(); err != nil {
		return res, err
	}
	defer stopProcess(eng)
	if err := waitTCP(ctx, httpAddr, 3*time.Minute); err != nil {
		return res, fmt.Errorf("bench live: engine http: %w (log: %s)", err, logPath)
	}
	st, err := store.Open(ctx, c.dsnOf(db))
	if err != nil {
		return res, err
	}
	defer st.Close()
	count := func(table string) (uint64, error) {
		return tableRows(ctx, st, "", table)
	}

	// The other record types first, each topic in order, and stored before the usage.
	c.logf("%s: engine up; producing the province's %d other records...", name, len(c.stream.others))
	byTopic := map[string][]kafka.Message{}
	for _, m := range c.stream.others {
		byTopic[m.Topic] = append(byTopic[m.Topic], kafka.Message{Key: m.Key, Value: m.Value})
	}
	writers := map[string]*ingest.Producer{}
	defer func() {
		for _, w := range writers {
			w.Close()
		}
	}()
	writer := func(topic string) *ingest.Producer {
		if w := writers[topic]; w != nil {
			return w
		}
		w := ingest.NewProducer(&kafka.Writer{Addr: kafka.TCP(kafkaAddr), Topic: topic, Balancer: &kafka.Hash{},
			BatchSize: 1000, BatchTimeout: time.Millisecond, RequiredAcks: kafka.RequireOne})
		writers[topic] = w
		return w
	}
	for _, topic := range synth.Topics {
		if msgs := byTopic[topic]; len(msgs) > 0 {
			if err := writer(topic).Write(ctx, msgs...); err != nil {
				return res, fmt.Errorf("bench live: produce %s: %w", topic, err)
			}
		}
	}
	tables := map[string]string{synth.TopicRegistry: "registry", synth.TopicContracts: "contracts", synth.TopicSettlements: "settlements", synth.TopicClaims: "claims"}
	for deadline := time.Now().Add(5 * time.Minute); ; {
		stored := true
		for topic, table := range tables {
			n, err := count(table)
			if err != nil {
				return res, err
			}
			stored = stored && n >= c.stream.want[topic]
		}
		if stored {
			break
		}
		if time.Now().After(deadline) {
			dumpStacks(eng)
			return res, fmt.Errorf("bench live: the province's other records not stored in 5 minutes (log: %s, the engine's goroutines at its end)", logPath)
		}
		time.Sleep(100 * time.Millisecond)
	}

	// The usage at full rate, the probes spread over it.
	before, err := count("usage")
	if err != nil {
		return res, err
	}
	want := before + c.stream.want[synth.TopicUsage]
	c.logf("%s: other records stored; streaming %d usage messages, %d probes", name, c.stream.messages, len(probes))
	produced := make(chan error, 1)
	var produceSecs float64
	streamStart := time.Now()
	go func() {
		err := c.stream.produceUsage(ctx, kafkaAddr)
		produceSecs = time.Since(streamStart).Seconds()
		produced <- err
	}()
	interval := time.Duration(0)
	if len(probes) > 0 {
		interval = time.Duration(0.9 * float64(estimate) / float64(len(probes)))
	}
	client := &http.Client{Timeout: 10 * time.Second}
	var firstAt, doneAt, lastProbe time.Time
	var firstCount uint64
	var firstCPU cpuSample
	next, lastCheck := 0, time.Time{}
	// The stored count is read often only where it times the rate, at the stream's first
	// rows and its last tenth; between, four times a second. Polled every 50 ms it was 147
	// reads of system.parts in an 11 s stream, 0.22 s of the server's CPU taken from what the
	// run measures.
	var counted time.Time
	var stored uint64
	for {
		res.peak = max(res.peak, peakRSS(eng.Process.Pid))
		if next < len(probes) && time.Since(streamStart) >= time.Duration(next)*interval {
			pr := probes[next]
			m := pr.msg
			m.Topic = ""
			sent := time.Now()
			if err := writer(synth.TopicClaims).Write(ctx, m); err != nil {
				return res, fmt.Errorf("bench live: probe: %w", err)
			}
			pr.sentAt, lastProbe = sent, time.Now()
			pr.kind.sent++
			res.trace[pr.marker] = &probeTrace{sentAfter: sent.Sub(streamStart), detector: pr.kind.detector}
			next++
		}
		if doneAt.IsZero() && (firstAt.IsZero() || 10*(stored-before) >= 9*(want-before) || time.Since(counted) >= 250*time.Millisecond) {
			n, err := count("usage")
			if err != nil {
				return res, err
			}
			stored, counted = n, time.Now()
			if n > before && firstAt.IsZero() {
				firstAt, firstCount = time.Now(), n
				firstCPU = sampleCPU(eng.Process.Pid, 0)
			}
			if n >= want {
				doneAt = time.Now()
				res.cpu = cpuBetween(firstCPU, sampleCPU(eng.Process.Pid, 0), n-firstCount, doneAt.Sub(firstAt).Seconds())
				c.logf("%s: usage stored, %.0f s after the stream's start", name, doneAt.Sub(streamStart).Seconds())
			}
		}
		if next > 0 && time.Since(lastCheck) >= 250*time.Millisecond {
			lastCheck = time.Now()
			if err := checkProbes(ctx, client, httpAddr, probes[:next]); err != nil {
				return res, err
			}
		}
		allDone := !slices.ContainsFunc(probes, func(p *probe) bool { return !p.done })
		if !doneAt.IsZero() && next == len(probes) && (allDone || time.Since(lastProbe) > c.wait && time.Since(doneAt) > c.wait) {
			break
		}
		if doneAt.IsZero() && time.Since(streamStart) > 30*time.Minute {
			dumpStacks(eng)
			return res, fmt.Errorf("bench live: usage not stored in 30 minutes (log: %s, the engine's goroutines at its end)", logPath)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if err := <-produced; err != nil {
		return res, fmt.Errorf("bench live: produce usage: %w", err)
	}
	res.produceRate = float64(c.stream.messages) / produceSecs
	res.secs = doneAt.Sub(firstAt).Seconds()
	res.rate = float64(want-firstCount) / res.secs
	stopProcess(eng)
	logFile.Close()
	if err := readTraces(logPath, res.trace, streamStart, doneAt, &res); err != nil {
		return res, err
	}
	return res, nil
}

// probeTrace is where one probe's time went, from the engine's debug log.
type probeTrace struct {
	sentAfter time.Duration // produce, after the stream's start
	detector  string        // whose check raises the probe's alert
	// From the small batch that stored the probe: produce to fetch, and when it was stored.
	hasBatch       bool
	produceToFetch time.Duration
	stored         time.Time
	// From the detector's check that named the probe: when it started, when its alerts
	// were stored, what it waited for and took, and whether a full run was under way.
	hasCheck, duringRun    bool
	started, checked       time.Time
	lockWait, took, upsert time.Duration
	upsertWait, stake      time.Duration
	subjects, round        string
}

func (t *probeTrace) line(p *probe) string {
	if t == nil {
		return p.marker + " not sent"
	}
	out := fmt.Sprintf("%-22s +%5.1fs", p.marker, t.sentAfter.Seconds())
	f := func(ok bool, at time.Time) string {
		if !ok {
			return "    ?"
		}
		return fmt.Sprintf("%5.2f", at.Sub(p.sentAt).Seconds())
	}
	if t.hasBatch {
		out += fmt.Sprintf("  fetch %5.2f", t.produceToFetch.Seconds())
	} else {
		out += "  fetch     ?"
	}
	out += "  stored " + f(t.hasBatch, t.stored)
	out += "  check start " + f(t.hasCheck, t.started)
	out += "  checked " + f(t.hasCheck, t.checked)
	if p.done {
		out += fmt.Sprintf("  visible %5.2f", p.visibleAt.Sub(p.sentAt).Seconds())
	} else {
		out += "  not alerted"
	}
	if t.hasCheck {
		out += fmt.Sprintf("  (check %s of %s subjects: waited %.2fs for the one before, took %.2fs; upsert %.2fs: %.2fs money at stake, %.2fs waiting for another)",
			t.round, t.subjects, t.lockWait.Seconds(), t.took.Seconds(), t.upsert.Seconds(), t.stake.Seconds(), t.upsertWait.Seconds())
		if t.duringRun {
			out += " beside a full run"
		}
	}
	return out
}

var logField = regexp.MustCompile(`(\w+)=("(?:[^"\\]|\\.)*"|\S*)`)

// readTraces reads the engine's debug log: the small batches that stored each probe,
// duplicate_claim's checks that named it, and the full runs that ended while the usage
// streamed in.
func readTraces(path string, traces map[string]*probeTrace, from, to time.Time, res *liveResult) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if !strings.Contains(line, `msg="ingest: small batch stored"`) && !strings.Contains(line, `msg="detectors: check"`) && !strings.Contains(line, `msg="detectors: full run"`) {
			continue
		}
		kv := map[string]string{}
		for _, m := range logField.FindAllStringSubmatch(line, -1) {
			v := m[2]
			if strings.HasPrefix(v, `"`) {
				if u, err := unquote(v); err == nil {
					v = u
				}
			}
			kv[m[1]] = v
		}
		dur := func(k string) time.Duration { d, _ := time.ParseDuration(kv[k]); return d }
		at, err := time.Parse(time.RFC3339Nano, kv["time"])
		if err != nil {
			continue
		}
		switch kv["msg"] {
		case "ingest: small batch stored":
			for _, id := range strings.Split(kv["ids"], ",") {
				for marker, t := range traces {
					if strings.HasSuffix(id, "-"+marker) && !t.hasBatch {
						t.hasBatch, t.produceToFetch, t.stored = true, dur("produce_to_fetch"), at
					}
				}
			}
		case "detectors: check":
			for _, id := range append(strings.Split(kv["claims"], ","), strings.Split(kv["contracts"], ",")...) {
				if t := traces[id]; t != nil && t.detector == kv["detector"] && !t.hasCheck {
					t.hasCheck, t.checked, t.duringRun = true, at, kv["during_full_run"] == "true"
					t.took, t.upsert, t.lockWait = dur("check"), dur("upsert"), dur("lock_wait")
					t.upsertWait, t.stake = dur("upsert_wait"), dur("stake")
					t.started = at.Add(-t.took - t.upsert)
					t.round, t.subjects = kv["round"], kv["subjects"]
				}
			}
		case "detectors: full run":
			if !at.Before(from) && !at.After(to) {
				res.sweeps++
				res.sweepSecs += dur("took").Seconds()
			}
		}
	}
	return sc.Err()
}

func unquote(s string) (string, error) {
	var out string
	err := json.Unmarshal([]byte(s), &out)
	return out, err
}

// loadAverage is the machine's load average over 1, 5 and 15 minutes.
func loadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "unknown"
	}
	return strings.Join(f[:3], " ")
}

// stringList is a repeatable string flag.
type stringList []string

func (l *stringList) String() string { return strings.Join(*l, " ") }

func (l *stringList) Set(s string) error {
	*l = append(*l, s)
	return nil
}

// dumpStacks has an engine that stopped making progress write every goroutine's stack to its
// log (SIGQUIT: Go's runtime prints them and exits), for the failure to be read afterwards.
func dumpStacks(eng *exec.Cmd) {
	if eng.Process != nil && eng.Process.Signal(syscall.SIGQUIT) == nil {
		time.Sleep(2 * time.Second)
	}
}
