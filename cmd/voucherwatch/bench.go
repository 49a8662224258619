package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/voucherwatch/voucherwatch"
	"github.com/voucherwatch/voucherwatch/ingest"
	"github.com/voucherwatch/voucherwatch/store"
	"github.com/voucherwatch/voucherwatch/synth"
)

// runBench measures ingest (`voucherwatch bench scale` measures it on a history instead, see
// runBenchScale) against a baseline taken in the same run: N usage records that a
// broker already holds, ingested by the engine (its own process, so its peak memory is its
// own), against the same rows inserted by clickhouse-client as JSONEachRow into an identical
// table. It prints both rates, their ratio and the engine's peak RSS.
func runBench(ctx context.Context, args []string) error {
	if len(args) > 0 && args[0] == "scale" {
		return runBenchScale(ctx, args[1:])
	}
	if len(args) > 0 && args[0] == "live" {
		return runBenchLive(ctx, args[1:])
	}
	fs := flag.NewFlagSet("voucherwatch bench", flag.ContinueOnError)
	n := fs.Int("n", 1_000_000, "usage records")
	chAddr := fs.String("clickhouse-addr", "127.0.0.1:9000", "ClickHouse native address")
	partitions := fs.Int("partitions", 4, "partitions of the usage topic")
	readers := fs.Int("readers", 1, "consumer-group members for the usage topic in the engine")
	batch := fs.Int("batch-size", ingest.DefaultBatchSize, "engine batch size")
	keep := fs.Bool("keep", false, "keep the bench database")
	var engineFlags stringList
	fs.Var(&engineFlags, "engine-flag", "a flag for the engine's serve, as --engine-flag=--memory-limit=448 (repeatable)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	self, err := os.Executable()
	if err != nil {
		return err
	}
	tmp, err := os.MkdirTemp("", "vwbench")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	db := fmt.Sprintf("vwbench_%d", time.Now().Unix())
	dsn := fmt.Sprintf("clickhouse://%s/%s", *chAddr, db)

	// 1. A broker in its own process, holding the records.
	brokerAddr := freeAddr()
	broker := exec.CommandContext(ctx, self, "broker", "--embedded-kafka", brokerAddr, "--embedded-kafka-dir", "memory", "--partitions", strconv.Itoa(*partitions), "--log-level", "warn")
	broker.Stderr = os.Stderr
	if err := broker.Start(); err != nil {
		return err
	}
	defer func() { _ = broker.Process.Kill(); _, _ = broker.Process.Wait() }()
	if err := waitTCP(ctx, brokerAddr, 20*time.Second); err != nil {
		return fmt.Errorf("bench: broker: %w", err)
	}

	fmt.Printf("producing %d usage records to %s and writing the same rows as JSONEachRow...\n", *n, brokerAddr)
	rowsPath := filepath.Join(tmp, "usage.jsonl")
	start := time.Now()
	if err := produceUsage(ctx, brokerAddr, *n, rowsPath); err != nil {
		return err
	}
	fmt.Printf("  produced in %.1fs\n", time.Since(start).Seconds())

	// 2. The schema, and the baseline table: the engine's usage table, copied.
	st, err := store.Open(ctx, dsn)
	if err != nil {
		return err
	}
	defer func() {
		if !*keep {
			_ = st.Conn().Exec(context.Background(), "DROP DATABASE IF EXISTS "+db)
		}
		st.Close()
	}()
	if err := st.Migrate(ctx); err != nil {
		return err
	}
	if err := st.Conn().Exec(ctx, fmt.Sprintf("CREATE TABLE %s.usage_baseline AS %s.usage", db, db)); err != nil {
		return fmt.Errorf("bench: baseline table: %w", err)
	}

	host, port, _ := net.SplitHostPort(*chAddr)
	in, err := os.Open(rowsPath)
	if err != nil {
		return err
	}
	cli := exec.CommandContext(ctx, "clickhouse-client", "--host", host, "--port", port, "--query",
		fmt.Sprintf("INSERT INTO %s.usage_baseline (%s) FORMAT JSONEachRow", db, strings.Join(baselineColumns, ", ")))
	cli.Stdin, cli.Stderr = in, os.Stderr
	start = time.Now()
	err = cli.Run()
	baseSecs := time.Since(start).Seconds()
	in.Close()
	if err != nil {
		return fmt.Errorf("bench: clickhouse-client insert: %w", err)
	}
	baseRate := float64(*n) / baseSecs
	fmt.Printf("baseline  clickhouse-client JSONEachRow: %d rows in %.2fs = %.0f rows/s\n", *n, baseSecs, baseRate)
	_ = st.Conn().Exec(ctx, fmt.Sprintf("DROP TABLE %s.usage_baseline", db))

	// 3. The engine, in its own process, reading what the broker holds.
	eng := exec.CommandContext(ctx, self, append([]string{"serve", "--kafka", brokerAddr, "--clickhouse", dsn,
		"--http", "127.0.0.1:0", "--group", "bench-" + db, "--readers-per-topic", strconv.Itoa(*readers),
		"--batch-size", strconv.Itoa(*batch), "--log-level", "warn", "--bootstrap-token", "bench",
		"--dev-insecure-keys"}, engineFlags...)...) // synthetic records only: development keys are what they are for
	eng.Stderr = os.Stderr
	engStart := time.Now()
	if err := eng.Start(); err != nil {
		return err
	}
	defer func() { _ = eng.Process.Kill(); _, _ = eng.Process.Wait() }()
	var firstAt time.Time
	var firstCount uint64
	var peak uint64
	for {
		c, err := tableRows(ctx, st, db, "usage")
		if err != nil {
			return fmt.Errorf("bench: %w", err)
		}
		peak = max(peak, peakRSS(eng.Process.Pid))
		if c > 0 && firstAt.IsZero() {
			firstAt, firstCount = time.Now(), c
		}
		if c >= uint64(*n) {
			break
		}
		if time.Since(engStart) > 10*time.Minute {
			return fmt.Errorf("bench: engine stored %d of %d in 10 minutes", c, *n)
		}
		time.Sleep(20 * time.Millisecond)
	}
	end := time.Now()
	peak = max(peak, peakRSS(eng.Process.Pid))
	total := end.Sub(engStart).Seconds()
	steady := end.Sub(firstAt).Seconds()
	steadyRate := float64(uint64(*n)-firstCount) / steady
	fmt.Printf("engine    Kafka → decode → ClickHouse:  %d records in %.2fs from process start = %.0f records/s (start-up and group join included)\n", *n, total, float64(*n)/total)
	fmt.Printf("engine    steady rate after the first batch landed: %.0f records/s\n", steadyRate)
	fmt.Printf("ratio     engine/baseline = %.2f (steady), %.2f (from process start); target >= 0.40\n", steadyRate/baseRate, float64(*n)/total/baseRate)
	fmt.Printf("memory    engine peak RSS = %.0f MiB; target <= 512 MiB\n", float64(peak)/(1<<20))
	return nil
}

// baselineColumns are the usage columns the JSONEachRow rows carry.
var baselineColumns = []string{"source", "id", "event_time", "supplier_uscc", "buyer_uscc", "contract_no", "tenant",
	"resource_id", "chip_model", "chip_origin", "cards", "window_start", "window_end", "card_hours",
	"util_avg", "jobs", "users", "login_orgs", "datacenter"}

// produceUsage publishes n synthetic usage records and writes the same rows, decoded by the
// engine's own decoder (outside any timing), as JSONEachRow for the baseline.
func produceUsage(ctx context.Context, addr string, n int, rowsPath string) error {
	return produceShape(ctx, addr, rowsPath, func(fn func(synth.Message) error) error { return synth.UsageStream(1, n, fn) })
}

// produceShape publishes the usage messages gen makes and writes the same rows as
// JSONEachRow to rowsPath.
func produceShape(ctx context.Context, addr, rowsPath string, gen func(fn func(synth.Message) error) error) error {
	f, err := os.Create(rowsPath)
	if err != nil {
		return err
	}
	defer f.Close()
	bw := bufio.NewWriterSize(f, 1<<20)
	enc := json.NewEncoder(bw)
	enc.SetEscapeHTML(false)
	// On the shared machine (load average 20) the broker process, holding the earlier shapes'
	// messages, has answered later than kafka-go's timeouts: the Producer retries (issue 10).
	w := ingest.NewProducer(&kafka.Writer{Addr: kafka.TCP(addr), Topic: voucherwatch.DefaultTopics[voucherwatch.TypeUsage],
		Balancer: &kafka.Hash{}, BatchSize: 5000, BatchBytes: 8 << 20, BatchTimeout: 20 * time.Millisecond, RequiredAcks: kafka.RequireOne,
		ReadTimeout: time.Minute, WriteTimeout: time.Minute})
	defer w.Close()
	dec := &ingest.Decoder{PIIKey: []byte(devPIIKey)}
	buf := make([]kafka.Message, 0, 20000)
	flush := func() error {
		if len(buf) == 0 {
			return nil
		}
		err := w.Write(ctx, buf...)
		buf = buf[:0]
		return err
	}
	err = gen(func(m synth.Message) error {
		if err := encodeUsageRow(enc, dec, m.Value); err != nil {
			return err
		}
		// UsageStream reuses its buffers once fn returns.
		buf = append(buf, kafka.Message{Key: bytes.Clone(m.Key), Value: bytes.Clone(m.Value)})
		if len(buf) == cap(buf) {
			return flush()
		}
		return nil
	})
	if err != nil {
		return err
	}
	if err := flush(); err != nil {
		return err
	}
	return bw.Flush()
}

// encodeUsageRow writes the usage row of one message as a JSONEachRow line, as the engine's
// decoder reads it: the baseline's rows are the engine's.
func encodeUsageRow(enc *json.Encoder, dec *ingest.Decoder, value []byte) error {
	ts := func(t time.Time) string { return t.In(voucherwatch.CST).Format(time.DateTime) }
	rec, err := dec.Decode(voucherwatch.TypeUsage, value)
	if err != nil {
		return fmt.Errorf("bench: generated record rejected: %w", err)
	}
	u := rec.Usage
	orgs := u.LoginOrgs
	if orgs == nil {
		orgs = []string{}
	}
	return enc.Encode(map[string]any{
		"source": rec.Source, "id": rec.ID, "event_time": ts(rec.Time),
		"supplier_uscc": u.SupplierUSCC, "buyer_uscc": u.BuyerUSCC, "contract_no": u.ContractNo, "tenant": u.Tenant,
		"resource_id": u.ResourceID, "chip_model": u.ChipModel, "chip_origin": u.ChipOrigin, "cards": u.Cards,
		"window_start": ts(u.WindowStart), "window_end": ts(u.WindowEnd), "card_hours": u.CardHours,
		"util_avg": u.UtilAvg, "jobs": u.Jobs, "users": u.Users, "login_orgs": orgs, "datacenter": u.Datacenter,
	})
}

// peakRSS reads a process's peak resident set (VmHWM) in bytes; 0 when unknown.
func peakRSS(pid int) uint64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, _ := strconv.ParseUint(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return kb << 10
		}
	}
	return 0
}

func freeAddr() string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "127.0.0.1:19092"
	}
	defer l.Close()
	return l.Addr().String()
}

func waitTCP(ctx context.Context, addr string, within time.Duration) error {
	deadline := time.Now().Add(within)
	for {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			c.Close()
			return nil
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			return err
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// tableRows is how many rows a table of db holds, from the server's list of active parts:
// metadata, so that a harness polling it while the engine ingests costs ClickHouse nothing.
// `SELECT count()` on 18.16 reads a column of every row (56 ms for a 1 M-row usage, about a
// core's whole time when polled every 20 ms, and ten times that at 10 M), which took the
// machine from the engine it measures, the more so the larger the history. Exact for the
// engine's tables, which hold no copies to merge away; db "" is the connection's database.
func tableRows(ctx context.Context, st *store.DB, db, table string) (uint64, error) {
	var n uint64
	err := st.Conn().QueryRow(ctx, "SELECT sum(rows) FROM system.parts WHERE active AND database = if(? = '', currentDatabase(), ?) AND table = ?",
		db, db, table).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("count %s: %w", table, err)
	}
	return n, nil
}
