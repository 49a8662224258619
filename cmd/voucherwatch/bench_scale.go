package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/voucherwatch/voucherwatch"
	"github.com/voucherwatch/voucherwatch/ingest"
	"github.com/voucherwatch/voucherwatch/store"
	"github.com/voucherwatch/voucherwatch/synth"
)

// usageShape is a kind of live usage traffic: the generator and its seed.
type usageShape struct {
	name string
	gen  func(seed int64, n int, fn func(synth.Message) error) error
	seed int64
}

var usageShapes = []usageShape{
	{"hourly, time-ordered", synth.UsageStream, 2002},
	{"weekly windows backfilled over a year", synth.UsageBackfill, 3003},
}

// shapeResult is one shape's rates, each measured in the same run.
type shapeResult struct {
	Shape                   string
	Baseline                float64 // clickhouse-client JSONEachRow into a plain MergeTree, rows/s
	Empty, History          float64 // the engine into an empty database, and on top of the history, records/s
	PeakEmpty, PeakHistory  uint64  // the engine's peak RSS in each run
	EmptySecs, HistorySecs  float64
	BaselineSecs            float64
	HistoryRows, EmptyCount uint64
	CPUHistory              cpuUse // the engine on the history
}

// runBenchScale builds a history of the chosen size, streams live traffic through Kafka on top
// and prints each figure as a ratio against a baseline measured in the same run (docs/benchmarks.md).
func runBenchScale(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("voucherwatch bench scale", flag.ContinueOnError)
	usage := fs.Int("usage", 1_000_000, "usage records of history")
	live := fs.Int("live", 1_000_000, "usage records streamed through Kafka per shape and run (ten batches of the default size)")
	chAddr := fs.String("clickhouse-addr", "127.0.0.1:9000", "ClickHouse native address")
	partitions := fs.Int("partitions", 4, "partitions of the usage topic")
	readers := fs.Int("readers", 1, "consumer-group members per topic in the engine")
	batch := fs.Int("batch-size", ingest.DefaultBatchSize, "engine batch size")
	probes := fs.Int("probes", 20, "latency probes per kind")
	withShapes := fs.Bool("shapes", true, "measure the ingest of both live shapes; false: the history, the full run and the probes only")
	keep := fs.Bool("keep", false, "keep the bench databases and the run's directory with the engines' logs")
	detectTimeout := fs.Duration("detect-timeout", 15*time.Minute, "bound on the full detector run (reported as not finished beyond it)")
	fastHistory := fs.Bool("fast-history", false, "generate the hourly filler of the history in ClickHouse (INSERT … SELECT) instead of through the engine's writer")
	asIs := fs.Bool("history-as-is", false, "with --history-db, take the history as it is also when it holds fewer than --usage records (a build cut short); the province is still --usage's")
	historyDB := fs.String("history-db", "", "database of the history: reused when it already holds --usage records (a --keep run's), else built there")
	if err := fs.Parse(args); err != nil {
		return err
	}
	self, err := os.Executable()
	if err != nil {
		return err
	}
	tmp, err := os.MkdirTemp("", "vwscale")
	if err != nil {
		return err
	}
	defer func() {
		if *keep {
			// The engines' logs (probes.log: every check's trace) are what explains a slow probe.
			fmt.Printf("kept the run's directory %s (engine logs)\n", tmp)
			return
		}
		os.RemoveAll(tmp)
	}()
	stamp := time.Now().Unix()
	histDB := fmt.Sprintf("vwscale_%d", stamp)
	// salt keeps a run's live records and probes new to a reused history, which holds an
	// earlier run's under the default seeds and numbers.
	var salt int64
	if *historyDB != "" {
		histDB, salt = *historyDB, stamp%100_000
	}
	dsnOf := func(db string) string { return fmt.Sprintf("clickhouse://%s/%s", *chAddr, db) }
	logf := func(format string, a ...any) {
		fmt.Printf("[%s] %s\n", time.Now().Format("15:04:05"), fmt.Sprintf(format, a...))
	}
	var dbs []string
	defer func() {
		if *keep {
			return
		}
		for _, db := range dbs {
			_ = exec.Command("clickhouse-client", "--host", hostOf(*chAddr), "--port", portOf(*chAddr), "--query", "DROP DATABASE IF EXISTS "+db).Run()
		}
	}()

	// 1. The history, and a full detector run on it. A reused history is never dropped.
	if *historyDB == "" {
		dbs = append(dbs, histDB)
	}
	st, err := store.Open(ctx, dsnOf(histDB))
	if err != nil {
		return err
	}
	defer st.Close()
	if err := st.Migrate(ctx); err != nil {
		return err
	}
	h, err := buildHistory(ctx, st, *usage, historyOptions{reuse: *historyDB != "", asIs: *historyDB != "" && *asIs, fast: *fastHistory}, logf)
	if err != nil {
		return err
	}
	var histRows uint64
	if histRows, err = tableRows(ctx, st, "", "usage"); err != nil {
		return err
	}
	logf("history: %d usage records (%d of the hourly filler), %v in all, built in %.0fs", histRows, h.Filler, h.Stored, h.Took.Seconds())
	logf("full detector run...")
	dctx, dcancel := context.WithTimeout(ctx, *detectTimeout)
	run, err := runDetectors(dctx, st, h.Truth, time.Now())
	dcancel()
	if err != nil {
		return err
	}
	logf("full detector run: %.1fs, %d alerts, recall %.2f, precision %.2f, failed %v", run.Took.Seconds(), run.Alerts, run.Recall(), run.Precision(), run.Failed)
	logf("full detector run by detector: %s", run.byDetector())

	// 2. Live traffic of each shape: the baseline, the engine into an empty database, the
	// engine on top of the history. Detectors are held off here; the probes run with them.
	// A history just written (--fast-history writes 100 M records in five minutes) is still
	// being merged for minutes after: the ingest on it waits for those merges, within a
	// bound, so that it measures ingest on a history, not beside its build. (At 10 M the full
	// run outlasts them: the wait was 0 s.)
	settled, merged := time.Duration(-1), mergedHistory{}
	if *live > 0 && *withShapes {
		if settled, err = awaitMerges(ctx, st, histDB, 5*time.Minute); err != nil {
			return err
		}
		logf("history: merges settled after %.0fs", settled.Seconds())
		// Awaiting the merges under way is not enough for a history built a minute ago:
		// the stream's first parts start merges of the history's parts that the server had
		// not chosen yet (at 10 M, 5 M rows of usage and of record_keys within the 6 s of
		// the hourly shape: docs/benchmarks.md, eleventh session). A province's history is
		// months old and merged; one built by this run is merged whole first.
		if !h.Reused {
			if merged, err = mergeHistory(ctx, st, histDB); err != nil {
				return err
			}
			logf("history: %d partitions of %d parts merged whole in %.0fs", merged.Partitions, merged.Parts, merged.Took.Seconds())
		}
	}
	var shapes []shapeResult
	for i, shape := range usageShapes {
		if *live == 0 || !*withShapes {
			break
		}
		shape.seed += salt
		r, err := benchShape(ctx, self, shape, benchShapeConfig{
			live: *live, chAddr: *chAddr, partitions: *partitions, readers: *readers, batch: *batch,
			tmp: tmp, histDB: histDB, emptyDB: fmt.Sprintf("vwscale_%d_empty%d", stamp, i), dsnOf: dsnOf, logf: logf,
		}, &dbs)
		if err != nil {
			return err
		}
		shapes = append(shapes, r)
	}

	// 3. Alert latency while hourly traffic streams in, detectors live.
	var lat probeResult
	if *live > 0 {
		lat, err = benchProbes(ctx, self, h, probeConfig{
			n: *probes, live: *live, chAddr: *chAddr, partitions: *partitions, readers: *readers, batch: *batch,
			histDB: histDB, dsn: dsnOf(histDB), logf: logf, fullRun: run.Took, salt: salt, tmp: tmp,
		})
		if err != nil {
			return err
		}
	}

	var disk uint64
	if err := st.Conn().QueryRow(ctx, "SELECT sum(bytes) FROM system.parts WHERE active AND database = ?", histDB).Scan(&disk); err != nil {
		return fmt.Errorf("bench scale: disk use: %w", err)
	}
	var peak uint64
	for _, s := range shapes {
		peak = max(peak, s.PeakHistory, s.PeakEmpty)
	}
	peak = max(peak, lat.peak)

	fmt.Println()
	fmt.Printf("voucherwatch bench scale: %d usage records of history (%d in usage), %d live per shape and run\n", *usage, histRows, *live)
	if h.Reused {
		fmt.Printf("history        %s reused (%d usage records stored before); the province regenerated in %.0fs\n", histDB, histRows, h.Took.Seconds())
	} else {
		fmt.Printf("history        %v, built in %.0fs\n", h.Stored, h.Took.Seconds())
	}
	if settled >= 0 {
		fmt.Printf("history        merges of the history awaited %.0fs before the live shapes (at most 5 minutes)\n", settled.Seconds())
	}
	if merged.Partitions > 0 {
		fmt.Printf("history        built by this run: %d partitions of %d parts merged whole (OPTIMIZE … FINAL) in %.0fs before the live shapes\n",
			merged.Partitions, merged.Parts, merged.Took.Seconds())
	}
	for _, s := range shapes {
		fmt.Printf("ingest         %-40s engine on history / empty = %.2f (%.0f vs %.0f records/s); / clickhouse-client JSONEachRow = %.2f (%.0f rows/s)\n",
			s.Shape, s.History/s.Empty, s.History, s.Empty, s.History/s.Baseline, s.Baseline)
		fmt.Printf("               %-40s on history: %s\n", "", s.CPUHistory)
	}
	for _, k := range lat.kinds {
		fmt.Printf("alert latency  %-28s %d/%d probes alerted; p50 %.1fs, p99 %.1fs (produce → visible in GET /api/v1/alerts)\n",
			k.kind, len(k.latencies), k.sent, percentile(k.latencies, 0.50), percentile(k.latencies, 0.99))
		fmt.Printf("               %-28s checked beside a full run: %d, p50 %.1fs, p99 %.1fs; without: %d, p50 %.1fs, p99 %.1fs; beside / without: p50 %.2f, p99 %.2f\n",
			"", len(k.beside), percentile(k.beside, 0.50), percentile(k.beside, 0.99), len(k.alone), percentile(k.alone, 0.50), percentile(k.alone, 0.99),
			percentile(k.beside, 0.50)/percentile(k.alone, 0.50), percentile(k.beside, 0.99)/percentile(k.alone, 0.99))
	}
	if *live > 0 {
		fmt.Printf("probes         load average %s at the first probe, %s at the end; the requested full run took %.1fs; %d full runs ended meanwhile (%.1fs)\n",
			lat.load[0], lat.load[1], lat.run.Seconds(), lat.sweeps, lat.sweepSecs)
	}
	if len(run.Failed) > 0 {
		fmt.Printf("detectors      %d failed or did not finish within --detect-timeout %v: %v\n", len(run.Failed), *detectTimeout, run.Failed)
	}
	fmt.Printf("detectors      full run %.1fs; %d alerts; planted cases: recall %.2f (%d/%d), precision %.2f (%d look-alikes of %d flagged)\n",
		run.Took.Seconds(), run.Alerts, run.Recall(), run.Found, run.Planted, run.Precision(), run.Flagged, run.LookAlike)
	fmt.Printf("detectors      by detector: %s\n", run.byDetector())
	fmt.Printf("engine         peak RSS %.0f MiB\n", float64(peak)/(1<<20))
	fmt.Printf("clickhouse     %s on disk: %.2f GiB (system.parts, active)\n", histDB, float64(disk)/(1<<30))
	return nil
}

type benchShapeConfig struct {
	live, partitions, readers, batch int
	chAddr, tmp, histDB, emptyDB     string
	dsnOf                            func(string) string
	logf                             func(string, ...any)
}

func benchShape(ctx context.Context, self string, shape usageShape, c benchShapeConfig, dbs *[]string) (shapeResult, error) {
	r := shapeResult{Shape: shape.name}
	broker, brokerAddr, err := startBroker(ctx, self, c.partitions)
	if err != nil {
		return r, err
	}
	defer stopProcess(broker)
	rowsPath := filepath.Join(c.tmp, "usage.jsonl")
	c.logf("%s: producing %d usage records...", shape.name, c.live)
	if err := produceShape(ctx, brokerAddr, rowsPath, func(fn func(synth.Message) error) error { return shape.gen(shape.seed, c.live, fn) }); err != nil {
		return r, err
	}

	// The baseline: the same rows by clickhouse-client into a plain MergeTree shaped like usage.
	*dbs = append(*dbs, c.emptyDB)
	empty, err := store.Open(ctx, c.dsnOf(c.emptyDB))
	if err != nil {
		return r, err
	}
	defer empty.Close()
	if err := empty.Migrate(ctx); err != nil {
		return r, err
	}
	if err := empty.Conn().Exec(ctx, "CREATE TABLE usage_plain AS usage ENGINE = MergeTree PARTITION BY toYYYYMM(window_start) ORDER BY (supplier_uscc, resource_id, window_start, source, id)"); err != nil {
		return r, fmt.Errorf("bench scale: baseline table: %w", err)
	}
	start := time.Now()
	if err := clientInsert(ctx, c.chAddr, c.emptyDB+".usage_plain", rowsPath); err != nil {
		return r, err
	}
	r.BaselineSecs = time.Since(start).Seconds()
	r.Baseline = float64(c.live) / r.BaselineSecs
	c.logf("%s: clickhouse-client JSONEachRow %.0f rows/s", shape.name, r.Baseline)
	// usage_plain stays until its database is dropped with the others at the end. Dropping it
	// here freed its files' inodes just before the engine's runs: on ext4 without a journal
	// (this machine's root) every file created in the next minutes skips the recently freed
	// inodes one by one, and the engine's INSERTs, which create a part per view, paid for the
	// baseline's cleanup (docs/benchmarks.md, eighth session).

	// Detection is held off, and so are the monthly register edition and spot-check draw: an
	// engine started on a history catches up the month's missed slot, and on the 100 M history
	// the register's edition (a month of usage) ran beside the ingest being measured, cancelled
	// at the engine's stop and so begun again by the next one (01:17, sixth session: on the
	// history 0.61 and 0.44 of the empty database's rate, hourly and weekly).
	held := []string{"--detect-debounce", "24h", "--detect-schedule", "@every 24h", "--register-schedule", "", "--spotcheck-schedule", ""}
	emptyRun, err := engineIngest(ctx, self, engineRun{brokerAddr: brokerAddr, dsn: c.dsnOf(c.emptyDB), group: "scale-empty-" + c.emptyDB,
		readers: c.readers, batch: c.batch, want: uint64(c.live), count: empty, extra: held, brokerPID: broker.Process.Pid})
	if err != nil {
		return r, err
	}
	r.Empty, r.PeakEmpty, r.EmptySecs = emptyRun.rate, emptyRun.peak, emptyRun.secs
	c.logf("%s: engine into an empty database %.0f records/s; %s; %s", shape.name, r.Empty, emptyRun.cpu, emptyRun.stages)

	hist, err := store.Open(ctx, c.dsnOf(c.histDB))
	if err != nil {
		return r, err
	}
	defer hist.Close()
	if r.HistoryRows, err = tableRows(ctx, hist, "", "usage"); err != nil {
		return r, err
	}
	histRun, err := engineIngest(ctx, self, engineRun{brokerAddr: brokerAddr, dsn: c.dsnOf(c.histDB), group: "scale-hist-" + strconv.Itoa(int(time.Now().UnixNano())),
		readers: c.readers, batch: c.batch, want: r.HistoryRows + uint64(c.live), from: r.HistoryRows, count: hist, extra: held, brokerPID: broker.Process.Pid})
	if err != nil {
		return r, err
	}
	r.History, r.PeakHistory, r.HistorySecs = histRun.rate, histRun.peak, histRun.secs
	c.logf("%s: engine on the history %.0f records/s; %s; %s", shape.name, r.History, histRun.cpu, histRun.stages)
	r.CPUHistory = histRun.cpu
	return r, nil
}

type engineRun struct {
	brokerAddr, dsn, group string
	readers, batch         int
	want, from             uint64 // usage rows to wait for, and the rows before the run
	count                  *store.DB
	extra                  []string
	http                   string
	stderr                 io.Writer // the engine's log; nil: this process's stderr
	brokerPID              int       // the broker's process, for its CPU (0: not accounted)
}

type engineResult struct {
	rate, secs float64
	peak       uint64
	stages     string // where the usage batches' time went (usageStages)
	cpu        cpuUse // the CPU spent over the steady part of the run
}

// engineIngest starts `voucherwatch serve` on the broker and waits until usage holds want
// rows: the steady rate counts from the first batch landing, as in `voucherwatch bench`.
func engineIngest(ctx context.Context, self string, e engineRun) (engineResult, error) {
	if e.http == "" {
		e.http = freeAddr()
	}
	// The engine's queries go to system.query_log (queryCosts).
	e.dsn += "?log_queries=1"
	started := time.Now()
	eng, err := startEngine(ctx, self, e)
	if err != nil {
		return engineResult{}, err
	}
	defer stopProcess(eng)
	r, err := waitIngest(ctx, eng, e)
	if err == nil {
		r.stages = usageStages(ctx, e.http) + "; " + queryCosts(ctx, e.count, started)
		if m := mergeCosts(ctx, e.count, started); m != "" {
			r.stages += "; " + m
		}
	}
	return r, err
}

// mergeCosts sums, from system.part_log, the merges of the database's tables that ended since
// start, by table, largest first: a history's own parts merged beside the ingest being measured
// (the 10 M hourly shape, eleventh session), or a small part merged into a large one per batch
// (usage_touched_days before migration 31), show here and nowhere else. Empty when the server
// keeps no part log (part_log in its configuration: docs/benchmarks.md).
func mergeCosts(ctx context.Context, st *store.DB, start time.Time) string {
	var exists uint8
	if err := st.Conn().QueryRow(ctx, "EXISTS TABLE system.part_log").Scan(&exists); err != nil || exists == 0 {
		return ""
	}
	// The query log was flushed by queryCosts just before; the part log with it.
	rows, err := st.Conn().Query(ctx, `SELECT table, count(), sum(rows), sum(duration_ms)
FROM system.part_log
WHERE event_type = 2 AND database = ? AND event_time >= ?
GROUP BY table ORDER BY sum(duration_ms) DESC, table LIMIT 4`, st.Database(), start.Add(-time.Second))
	if err != nil {
		return "part log not read: " + err.Error()
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var table string
		var n, read, ms uint64
		if err := rows.Scan(&table, &n, &read, &ms); err != nil {
			return "part log not read: " + err.Error()
		}
		out = append(out, fmt.Sprintf("%s %d (%d rows, %.2fs)", table, n, read, float64(ms)/1000))
	}
	if len(out) == 0 {
		return "server: no merges"
	}
	return "server: merges " + strings.Join(out, ", ")
}

// queryCosts sums, from system.query_log, the server's side of the engine's usage batches
// since start: the INSERTs (their materialized views included, and the time a prepared
// INSERT waits for its turn) and the key look-ups, each with its count, time and rows read.
// Only the engine logs its queries (log_queries in its DSN), and one engine runs at a time.
func queryCosts(ctx context.Context, st *store.DB, start time.Time) string {
	if err := st.Conn().Exec(ctx, "SYSTEM FLUSH LOGS"); err != nil {
		return "query log not read: " + err.Error()
	}
	// The INSERTs by their query ids, which name the database; the look-ups by their text
	// (another engine logging its queries at the same time would be counted too).
	rows, err := st.Conn().Query(ctx, `SELECT multiIf(query LIKE 'INSERT INTO usage%', 'insert', 'lookup') AS kind,
	count(), sum(query_duration_ms), sum(read_rows), max(read_rows), sum(written_rows)
FROM system.query_log
WHERE type = 2 AND query_start_time >= ?
	AND (query LIKE 'INSERT INTO usage%' AND startsWith(query_id, ?) OR query LIKE '%FROM record_keys PREWHERE rec_hash%')
GROUP BY kind ORDER BY kind`, start.Add(-time.Second), "voucherwatch-insert:"+st.Database()+".usage:")
	if err != nil {
		return "query log not read: " + err.Error()
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var kind string
		var n, ms, read, maxRead, written uint64
		if err := rows.Scan(&kind, &n, &ms, &read, &maxRead, &written); err != nil {
			return "query log not read: " + err.Error()
		}
		out = append(out, fmt.Sprintf("server: %d %ss %.2fs, rows read %d (at most %d), written %d", n, kind, float64(ms)/1000, read, maxRead, written))
	}
	return strings.Join(out, "; ")
}

// usageStages reads the engine's vw_ingest_stage_seconds for the usage topic from its
// /metrics and says where the batches' time went: per stage, the seconds summed over the
// batches and their share of all batches' time from fetch to commit (stages that overlap,
// lookup and fill, count both).
func usageStages(ctx context.Context, httpAddr string) string {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+httpAddr+"/metrics", nil)
	if err != nil {
		return err.Error()
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return "stages not read: " + err.Error()
	}
	defer resp.Body.Close()
	var body bytes.Buffer
	_, _ = body.ReadFrom(resp.Body)
	topic := `topic="` + voucherwatch.DefaultTopics[voucherwatch.TypeUsage] + `"`
	sums := map[string]float64{}
	var batches float64
	for _, line := range strings.Split(body.String(), "\n") {
		if !strings.HasPrefix(line, "vw_ingest_stage_seconds_") || !strings.Contains(line, topic) {
			continue
		}
		name, value, ok := strings.Cut(line, " ")
		f, err := strconv.ParseFloat(value, 64)
		if !ok || err != nil {
			continue
		}
		_, stage, _ := strings.Cut(name, `stage="`)
		stage, _, _ = strings.Cut(stage, `"`)
		switch {
		case strings.HasPrefix(name, "vw_ingest_stage_seconds_sum"):
			sums[stage] = f
		case strings.HasPrefix(name, "vw_ingest_stage_seconds_count") && stage == "decode":
			batches = f
		}
	}
	var out []string
	for _, stage := range []string{"decode", "turn", "prepare", "lookup", "wait", "fill", "send", "commit"} {
		out = append(out, fmt.Sprintf("%s %.2fs", stage, sums[stage]))
	}
	return fmt.Sprintf("%.0f batches: %s", batches, strings.Join(out, ", "))
}

func startEngine(ctx context.Context, self string, e engineRun) (*exec.Cmd, error) {
	httpAddr := e.http
	if httpAddr == "" {
		httpAddr = "127.0.0.1:0"
	}
	args := append([]string{"serve", "--kafka", e.brokerAddr, "--clickhouse", e.dsn,
		"--http", httpAddr, "--group", e.group, "--readers-per-topic", strconv.Itoa(e.readers),
		"--batch-size", strconv.Itoa(e.batch), "--log-level", "warn", "--bootstrap-token", "bench",
		"--dev-insecure-keys"}, e.extra...) // synthetic records only
	eng := exec.CommandContext(ctx, self, args...)
	eng.Stderr = os.Stderr
	if e.stderr != nil {
		eng.Stderr = e.stderr
	}
	if err := eng.Start(); err != nil {
		return nil, err
	}
	return eng, nil
}

func waitIngest(ctx context.Context, eng *exec.Cmd, e engineRun) (engineResult, error) {
	var firstAt time.Time
	var firstCount, peak uint64
	start := time.Now()
	startCPU := sampleCPU(eng.Process.Pid, e.brokerPID)
	var firstCPU cpuSample
	for {
		c, err := tableRows(ctx, e.count, "", "usage")
		if err != nil {
			return engineResult{}, fmt.Errorf("bench scale: %w", err)
		}
		peak = max(peak, peakRSS(eng.Process.Pid))
		if c > e.from && firstAt.IsZero() {
			firstAt, firstCount = time.Now(), c
			firstCPU = sampleCPU(eng.Process.Pid, e.brokerPID)
		}
		if c >= e.want {
			break
		}
		if time.Since(start) > 20*time.Minute {
			return engineResult{}, fmt.Errorf("bench scale: engine stored %d of %d usage rows in 20 minutes", c-e.from, e.want-e.from)
		}
		time.Sleep(20 * time.Millisecond)
	}
	// The steady rate needs most of the run after the first batch; a run too short for that
	// counts from the process start, start-up and group join included.
	endCPU := sampleCPU(eng.Process.Pid, e.brokerPID)
	secs := time.Since(firstAt).Seconds()
	rate := float64(e.want-firstCount) / secs
	cpu := cpuBetween(firstCPU, endCPU, e.want-firstCount, secs)
	if 2*(e.want-firstCount) < e.want-e.from {
		secs = time.Since(start).Seconds()
		rate = float64(e.want-e.from) / secs
		cpu = cpuBetween(startCPU, endCPU, e.want-e.from, secs)
	}
	return engineResult{rate: rate, secs: secs, peak: max(peak, peakRSS(eng.Process.Pid)), cpu: cpu}, nil
}

func startBroker(ctx context.Context, self string, partitions int) (*exec.Cmd, string, error) {
	addr := freeAddr()
	// The broker's log in memory: on disk (the default, <working directory>/data/kafka) the
	// next bench's broker read every earlier run's topics from it, and its engines ingested
	// them again from the start, probes and streamed usage included.
	broker := exec.CommandContext(ctx, self, "broker", "--embedded-kafka", addr, "--embedded-kafka-dir", "memory",
		"--partitions", strconv.Itoa(partitions), "--log-level", "warn")
	broker.Stderr = os.Stderr
	if err := broker.Start(); err != nil {
		return nil, "", err
	}
	if err := waitTCP(ctx, addr, 20*time.Second); err != nil {
		stopProcess(broker)
		return nil, "", fmt.Errorf("bench scale: broker: %w", err)
	}
	return broker, addr, nil
}

func stopProcess(c *exec.Cmd) {
	if c != nil && c.Process != nil {
		_ = c.Process.Signal(os.Interrupt)
		done := make(chan struct{})
		go func() { _, _ = c.Process.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			_ = c.Process.Kill()
			<-done
		}
	}
}

func clientInsert(ctx context.Context, chAddr, table, rowsPath string) error {
	in, err := os.Open(rowsPath)
	if err != nil {
		return err
	}
	defer in.Close()
	cli := exec.CommandContext(ctx, "clickhouse-client", "--host", hostOf(chAddr), "--port", portOf(chAddr), "--query",
		fmt.Sprintf("INSERT INTO %s (%s) FORMAT JSONEachRow", table, strings.Join(baselineColumns, ", ")))
	cli.Stdin, cli.Stderr = in, os.Stderr
	if err := cli.Run(); err != nil {
		return fmt.Errorf("bench scale: clickhouse-client insert: %w", err)
	}
	return nil
}

func hostOf(addr string) string { h, _, _ := net.SplitHostPort(addr); return h }
func portOf(addr string) string { _, p, _ := net.SplitHostPort(addr); return p }

// percentile returns the q-quantile of xs (nearest rank), NaN for none.
func percentile(xs []float64, q float64) float64 {
	if len(xs) == 0 {
		return float64(0) / float64(len(xs)) // NaN
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	i := int(q*float64(len(s))+0.999999) - 1
	return s[min(max(i, 0), len(s)-1)]
}

// probeKind is one kind of planted alert the latency probes send.
type probeKind struct {
	kind     string
	detector string
	sent     int
	// latencies are the seconds from produce to the alert being visible, per alerted probe;
	// beside and alone split them by whether the probe's check ran while a full run was under
	// way (the engine's debug log says so).
	latencies, beside, alone []float64
}

type probeConfig struct {
	n, live, partitions, readers, batch int
	chAddr, histDB, dsn, tmp            string
	logf                                func(string, ...any)
	// fullRun is the full detector run's duration: a probe that arrives after a run has
	// read its records waits for the next, so the probes are waited for two runs' time.
	fullRun time.Duration
	// salt makes the streamed usage and the probes' numbers new to a reused history.
	salt int64
}

type probeResult struct {
	kinds []*probeKind
	peak  uint64
	// run is the requested full run's time, and load the load average when the probes began
	// and ended.
	run       time.Duration
	load      [2]string
	sweeps    int
	sweepSecs float64
}

// probe is one message that must raise an alert naming marker.
type probe struct {
	kind   *probeKind
	msg    kafka.Message
	marker string
	sentAt time.Time
	done   bool
	// visibleAt is when the API first showed the probe's alert.
	visibleAt time.Time
}

// benchProbes starts the engine on the history with its detectors live, streams hourly usage
// and, meanwhile, sends probes (waiting for them up to two full detector runs, at least 3
// minutes, after the last): claims re-using an already-claimed invoice, contracts between
// related parties, contracts at an out-of-band price, each a copy of a record of the province
// under a new id and number. It measures each probe from produce to its alert in the API.
func benchProbes(ctx context.Context, self string, h scaleHistory, c probeConfig) (probeResult, error) {
	var res probeResult
	dup := &probeKind{kind: "claim re-using an invoice", detector: "duplicate_claim"}
	rel := &probeKind{kind: "contract, related parties", detector: "related_party"}
	price := &probeKind{kind: "out-of-band price", detector: "price_out_of_range"}
	res.kinds = []*probeKind{dup, rel, price}
	probes, err := makeProbes(h, c.n, c.salt, dup, rel, price)
	if err != nil {
		return res, err
	}

	broker, brokerAddr, err := startBroker(ctx, self, c.partitions)
	if err != nil {
		return res, err
	}
	defer stopProcess(broker)
	c.logf("probes: producing %d hourly usage records to stream during the probes...", c.live)
	if err := produceShape(ctx, brokerAddr, os.DevNull, func(fn func(synth.Message) error) error { return synth.UsageStream(4004+c.salt, c.live, fn) }); err != nil {
		return res, err
	}
	hist, err := store.Open(ctx, c.dsn)
	if err != nil {
		return res, err
	}
	defer hist.Close()
	before, err := tableRows(ctx, hist, "", "usage")
	if err != nil {
		return res, err
	}
	httpAddr := freeAddr()
	// The engine logs at debug level, which traces each probe: its batch, its check (what it
	// waited for, whether a full run was under way) and the full runs.
	logPath := filepath.Join(c.tmp, "probes.log")
	logFile, err := os.Create(logPath)
	if err != nil {
		return res, err
	}
	defer logFile.Close()
	eng, err := startEngine(ctx, self, engineRun{brokerAddr: brokerAddr, dsn: c.dsn, group: "scale-probes-" + strconv.Itoa(int(time.Now().UnixNano())),
		readers: c.readers, batch: c.batch, http: httpAddr, extra: []string{"--log-level", "debug"}, stderr: logFile})
	if err != nil {
		return res, err
	}
	defer stopProcess(eng)
	if err := waitTCP(ctx, httpAddr, 60*time.Second); err != nil {
		return res, fmt.Errorf("bench scale: engine http: %w", err)
	}

	writers := map[string]*ingest.Producer{}
	defer func() {
		for _, w := range writers {
			w.Close()
		}
	}()
	client := &http.Client{Timeout: 10 * time.Second}
	traces := map[string]*probeTrace{}
	start := time.Now()
	sent := 0
	send := func(p *probe) error {
		w := writers[p.msg.Topic]
		if w == nil {
			w = ingest.NewProducer(&kafka.Writer{Addr: kafka.TCP(brokerAddr), Topic: p.msg.Topic, Balancer: &kafka.Hash{}, BatchTimeout: time.Millisecond, RequiredAcks: kafka.RequireOne})
			writers[p.msg.Topic] = w
		}
		m := p.msg
		m.Topic = ""
		// Latency counts from the first attempt, retries included.
		at := time.Now()
		if err := w.Write(ctx, m); err != nil {
			return fmt.Errorf("bench scale: probe: %w", err)
		}
		p.sentAt = at
		p.kind.sent++
		traces[p.marker] = &probeTrace{sentAfter: at.Sub(start), detector: p.kind.detector}
		sent++
		return nil
	}
	// sendAndWait sends ps, one every 250 ms, then waits until every probe sent is alerted or
	// until wait has passed after the last.
	sendAndWait := func(ps []*probe, wait time.Duration) error {
		deadline := time.Time{}
		for next := 0; ; {
			res.peak = max(res.peak, peakRSS(eng.Process.Pid))
			if next < len(ps) {
				if err := send(ps[next]); err != nil {
					return err
				}
				if next++; next == len(ps) {
					deadline = time.Now().Add(wait)
				}
			}
			if err := checkProbes(ctx, client, httpAddr, probes[:sent]); err != nil {
				return err
			}
			if next == len(ps) && (!slices.ContainsFunc(probes[:sent], func(p *probe) bool { return !p.done }) || time.Now().After(deadline)) {
				return nil
			}
			time.Sleep(250 * time.Millisecond)
		}
	}
	// Half the probes with no full run asked for, half while one runs (POST
	// /api/v1/detectors/run, which runs at once and is not stopped by ingest's backlog): the
	// checks' log says which probes' checks ran beside a full run.
	wait := max(3*time.Minute, 2*c.fullRun+30*time.Second)
	half := len(probes) / 2
	res.load[0] = loadAverage()
	c.logf("probes: sending %d probes, one every 250 ms, while the usage streams in (load average %s); waiting up to %v after the last...",
		half, res.load[0], wait)
	if err := sendAndWait(probes[:half], wait); err != nil {
		return res, err
	}
	c.logf("probes: asking for a full run, and sending %d probes while it runs...", len(probes)-half)
	ran := make(chan time.Duration, 1)
	go func() {
		began := time.Now()
		req, err := http.NewRequestWithContext(ctx, "POST", "http://"+httpAddr+"/api/v1/detectors/run", nil)
		if err == nil {
			req.Header.Set("Authorization", "Bearer bench")
			var resp *http.Response
			if resp, err = http.DefaultClient.Do(req); err == nil {
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
			}
		}
		if err != nil {
			c.logf("probes: full run: %v", err)
		}
		ran <- time.Since(began)
	}()
	time.Sleep(time.Second)
	if err := sendAndWait(probes[half:], wait); err != nil {
		return res, err
	}
	select {
	case res.run = <-ran:
	case <-time.After(wait):
	}
	res.load[1] = loadAverage()
	after, _ := tableRows(ctx, hist, "", "usage")
	c.logf("probes: done (load average %s); %d of %d streamed usage records stored meanwhile; the requested full run took %.1fs",
		res.load[1], after-before, c.live, res.run.Seconds())
	stopProcess(eng)
	logFile.Close()
	var lr liveResult
	if err := readTraces(logPath, traces, start, time.Now(), &lr); err != nil {
		return res, err
	}
	res.sweeps, res.sweepSecs = lr.sweeps, lr.sweepSecs
	for _, p := range probes {
		t := traces[p.marker]
		c.logf("probe %-9s %s", p.kind.detector[:min(9, len(p.kind.detector))], t.line(p))
		if !p.done {
			continue
		}
		l := p.visibleAt.Sub(p.sentAt).Seconds()
		if t != nil && t.hasCheck && t.duringRun {
			p.kind.beside = append(p.kind.beside, l)
		} else {
			p.kind.alone = append(p.kind.alone, l)
		}
	}
	return res, nil
}

// checkProbes marks the probes whose alert the API shows. An alert is a probe's when its JSON
// names the probe's marker (the new claim or contract number), as subject or evidence.
func checkProbes(ctx context.Context, client *http.Client, httpAddr string, probes []*probe) error {
	byDetector := map[string][]*probe{}
	for _, p := range probes {
		if !p.done {
			byDetector[p.kind.detector] = append(byDetector[p.kind.detector], p)
		}
	}
	// One request per detector at once: a poll takes the slowest request's time, not the sum,
	// so that the latency measured is the engine's more than the poll's.
	var wg sync.WaitGroup
	for detector, ps := range byDetector {
		wg.Add(1)
		go func() {
			defer wg.Done()
			pollDetector(ctx, client, httpAddr, detector, ps)
		}()
	}
	wg.Wait()
	return nil
}

// pollDetector marks the probes of one detector whose alert the API shows.
func pollDetector(ctx context.Context, client *http.Client, httpAddr, detector string, ps []*probe) {
	cursor := ""
	for {
		req, err := http.NewRequestWithContext(ctx, "GET", fmt.Sprintf("http://%s/api/v1/alerts?detector=%s&limit=1000&cursor=%s", httpAddr, detector, cursor), nil)
		if err != nil {
			return
		}
		req.Header.Set("Authorization", "Bearer bench")
		resp, err := client.Do(req)
		if err != nil {
			return // the engine is busy; ask again
		}
		var page struct {
			Alerts []json.RawMessage `json:"alerts"`
			Next   string            `json:"next_cursor"`
		}
		err = json.NewDecoder(resp.Body).Decode(&page)
		resp.Body.Close()
		if err != nil {
			return
		}
		now := time.Now()
		for _, a := range page.Alerts {
			for _, p := range ps {
				if !p.done && bytes.Contains(a, []byte(p.marker)) {
					p.done, p.visibleAt = true, now
					p.kind.latencies = append(p.kind.latencies, now.Sub(p.sentAt).Seconds())
				}
			}
		}
		if page.Next == "" {
			break
		}
		cursor = page.Next
	}
}

// makeProbes copies n records of the province per kind, under new ids and numbers: claims
// (each re-uses the invoices its original claimed), and the contracts of the planted
// related-party and out-of-band-price cases (taken round-robin when fewer than n). A non-zero
// salt goes into the new numbers, so that probes into a reused history are new records.
func makeProbes(h scaleHistory, n int, salt int64, dup, rel, price *probeKind) ([]*probe, error) {
	tag := ""
	if salt != 0 {
		tag = strings.ToUpper(strconv.FormatInt(salt, 36))
	}
	claims := map[string]synth.Message{}
	contracts := map[string]synth.Message{}
	var claimOrder []string
	for _, m := range h.Messages {
		var env struct {
			Data struct {
				ClaimID    string `json:"claim_id"`
				ContractNo string `json:"contract_no"`
			} `json:"data"`
		}
		switch m.Topic {
		case synth.TopicClaims:
			if json.Unmarshal(m.Value, &env) == nil && env.Data.ClaimID != "" {
				if _, ok := claims[env.Data.ClaimID]; !ok {
					claimOrder = append(claimOrder, env.Data.ClaimID)
				}
				claims[env.Data.ClaimID] = m
			}
		case synth.TopicContracts:
			if json.Unmarshal(m.Value, &env) == nil && env.Data.ContractNo != "" {
				contracts[env.Data.ContractNo] = m
			}
		}
	}
	var out []*probe
	add := func(kind *probeKind, m synth.Message, field, orig string, i int) error {
		marker := fmt.Sprintf("%s-%sP%02d", orig, tag, i)
		v, err := rewrite(m.Value, fmt.Sprintf("probe-%s-%s", kind.detector, marker), field, marker)
		if err != nil {
			return err
		}
		out = append(out, &probe{kind: kind, msg: kafka.Message{Topic: m.Topic, Key: []byte(marker), Value: v}, marker: marker})
		return nil
	}
	if len(claimOrder) == 0 {
		return nil, fmt.Errorf("bench scale: probes: the province has no claims")
	}
	for i := 0; i < n; i++ {
		id := claimOrder[(i*7919)%len(claimOrder)]
		if err := add(dup, claims[id], "claim_id", id, i); err != nil {
			return nil, err
		}
	}
	for _, k := range []*probeKind{rel, price} {
		var nos []string
		for _, c := range h.Truth.Findings(k.detector) {
			if no := c.Subjects["contract_no"]; no != "" && contracts[no].Value != nil {
				nos = append(nos, no)
			}
		}
		if len(nos) == 0 {
			continue
		}
		for i := 0; i < n; i++ {
			no := nos[i%len(nos)]
			if err := add(k, contracts[no], "contract_no", no, i); err != nil {
				return nil, err
			}
		}
	}
	// Interleave the kinds, so each sees the same load.
	slices.SortStableFunc(out, func(a, b *probe) int { return strings.Compare(a.marker[len(a.marker)-2:], b.marker[len(b.marker)-2:]) })
	return out, nil
}

// rewrite returns a CloudEvents message with a new id, the time of now and one data field
// replaced.
func rewrite(value []byte, id, field string, to any) ([]byte, error) {
	dec := json.NewDecoder(bytes.NewReader(value))
	dec.UseNumber()
	var env map[string]any
	if err := dec.Decode(&env); err != nil {
		return nil, err
	}
	data, ok := env["data"].(map[string]any)
	if !ok {
		return nil, fmt.Errorf("bench scale: probe: message without data")
	}
	env["id"] = id
	env["time"] = time.Now().In(voucherwatch.CST).Format(time.RFC3339)
	data[field] = to
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(env); err != nil {
		return nil, err
	}
	return bytes.TrimSpace(b.Bytes()), nil
}

// mergedHistory is what mergeHistory did.
type mergedHistory struct {
	Partitions, Parts int
	Took              time.Duration
}

// mergeHistory merges every partition of database's tables that holds more than one active
// part into one (OPTIMIZE … PARTITION ID … FINAL), the state a history months old approaches.
// The rows stay what they were: the replacing and summing tables collapse what their merges
// would collapse anyway.
func mergeHistory(ctx context.Context, st *store.DB, database string) (mergedHistory, error) {
	start := time.Now()
	parts, err := splitPartitions(ctx, st, database)
	if err != nil {
		return mergedHistory{}, fmt.Errorf("bench scale: merge the history: %w", err)
	}
	var m mergedHistory
	for _, p := range parts {
		q := fmt.Sprintf("OPTIMIZE TABLE `%s`.`%s` PARTITION ID '%s' FINAL", database, p.table, p.id)
		if err := st.Conn().Exec(ctx, q); err != nil {
			return m, fmt.Errorf("bench scale: merge the history: %s: %w", q, err)
		}
		m.Partitions++
		m.Parts += int(p.parts)
	}
	m.Took = time.Since(start)
	return m, nil
}

// splitPartition is a partition of more than one active part.
type splitPartition struct {
	table, id string
	parts     uint64
}

// splitPartitions lists database's partitions of more than one active part.
func splitPartitions(ctx context.Context, st *store.DB, database string) ([]splitPartition, error) {
	rows, err := st.Conn().Query(ctx, `SELECT table, partition_id, count() FROM system.parts
		WHERE database = ? AND active GROUP BY table, partition_id HAVING count() > 1 ORDER BY table, partition_id`, database)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []splitPartition
	for rows.Next() {
		var p splitPartition
		if err := rows.Scan(&p.table, &p.id, &p.parts); err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, rows.Err()
}

// awaitMerges waits until the server runs no merge of database's tables, or for at most
// limit, and returns how long it waited.
func awaitMerges(ctx context.Context, st *store.DB, database string, limit time.Duration) (time.Duration, error) {
	start := time.Now()
	for time.Since(start) < limit {
		var n uint64
		if err := st.Conn().QueryRow(ctx, "SELECT count() FROM system.merges WHERE database = ?", database).Scan(&n); err != nil {
			return 0, fmt.Errorf("bench scale: merges of the history: %w", err)
		}
		if n == 0 {
			break
		}
		select {
		case <-ctx.Done():
			return 0, ctx.Err()
		case <-time.After(time.Second):
		}
	}
	return time.Since(start), nil
}
