package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/voucherwatch/voucherwatch"
	"github.com/voucherwatch/voucherwatch/store/storetest"
	"github.com/voucherwatch/voucherwatch/synth"
)

// processPeakRSS returns a process's peak resident set size in bytes (VmHWM in /proc/<pid>/status).
func processPeakRSS(t testing.TB, pid int) int64 {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^VmHWM:\s+(\d+) kB`).FindSubmatch(b)
	if m == nil {
		t.Fatalf("no VmHWM in /proc/%d/status", pid)
	}
	kb, _ := strconv.ParseInt(string(m[1]), 10, 64)
	return kb << 10
}

// produceUsageChunked produces n synthetic usage records to topic in chunks, never holding them all.
func produceUsageChunked(t testing.TB, addr, topic string, n int) int64 {
	t.Helper()
	w := newTopicWriter([]string{addr}, topic)
	defer w.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	var chunk []kafka.Message
	var bytesOut int64
	flush := func() error {
		err := w.Write(ctx, chunk...)
		chunk = chunk[:0]
		return err
	}
	err := synth.UsageStream(1, n, func(m synth.Message) error {
		chunk = append(chunk, kafka.Message{Key: bytes.Clone(m.Key), Value: bytes.Clone(m.Value)})
		bytesOut += int64(len(m.Key) + len(m.Value))
		if len(chunk) == 20000 {
			return flush()
		}
		return nil
	})
	if err == nil && len(chunk) > 0 {
		err = flush()
	}
	if err != nil {
		t.Fatalf("produce usage: %v", err)
	}
	return bytesOut
}

// brokerRSS runs `voucherwatch broker` with args, produces n usage records to it, reads them all
// back as a consumer does, and returns the broker process's peak RSS and the bytes produced.
func brokerRSS(t testing.TB, bin string, n int, args ...string) (int64, int64) {
	t.Helper()
	cmd := exec.Command(bin, append([]string{"broker", "--embedded-kafka", "127.0.0.1:0", "--log-level", "info"}, args...)...)
	// serve sets the Go heap's soft limit from --memory-limit; broker does not, so set it alike.
	cmd.Env = append(os.Environ(), "GOMEMLIMIT=384MiB")
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = cmd.Process.Signal(syscall.SIGKILL); _ = cmd.Wait() }()
	addr := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			if m := regexp.MustCompile(`embedded broker running" addr=(\S+)`).FindStringSubmatch(sc.Text()); m != nil {
				addr <- m[1]
			}
		}
	}()
	var a string
	select {
	case a = <-addr:
	case <-time.After(30 * time.Second):
		t.Fatal("broker did not start")
	}
	topic := voucherwatch.DefaultTopics[voucherwatch.TypeUsage]
	produced := produceUsageChunked(t, a, topic, n)
	// Read everything back, as the engine's readers would.
	r := kafka.NewReader(kafka.ReaderConfig{Brokers: []string{a}, GroupID: "memory-test", Topic: topic,
		StartOffset: kafka.FirstOffset, MaxBytes: 4 << 20, MaxWait: 100 * time.Millisecond})
	defer r.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	for i := 0; i < n; i++ {
		if _, err := r.FetchMessage(ctx); err != nil {
			t.Fatalf("read back: %v after %d of %d", err, i, n)
		}
	}
	return processPeakRSS(t, cmd.Process.Pid), produced
}

// TestEmbeddedBrokerMemory: the embedded broker with its log on disk (the default) holds a
// million usage records, produced and read back, within 384 MiB (half the engine's default
// --memory-limit), though the records alone are larger. The in-memory log (the
// look-alike, --embedded-kafka-dir memory) holds them all in RAM; run with VW_MEMORY_BASELINE=1
// to measure it beside (it takes as long again).
func TestEmbeddedBrokerMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("produces a million records")
	}
	storetest.Require(t) // the CI runs where the engine's tests run
	t.Parallel()         // it overlaps with TestKilledTwiceMidIngest
	bin := buildEngine(t, t.TempDir())
	const n = 1_000_000
	limit := int64(384) << 20
	disk, produced := brokerRSS(t, bin, n, "--data-dir", t.TempDir())
	t.Logf("log on disk: %d records, %d MiB produced; broker peak RSS %d MiB (limit %d MiB)", n, produced>>20, disk>>20, limit>>20)
	if produced < limit {
		t.Fatalf("produced %d MiB, want more than the limit, or the test shows nothing", produced>>20)
	}
	if disk > limit {
		t.Errorf("log on disk: got peak RSS %d MiB, want within the engine's memory limit %d MiB", disk>>20, limit>>20)
	}
	if os.Getenv("VW_MEMORY_BASELINE") != "" {
		mem, _ := brokerRSS(t, bin, n, "--embedded-kafka-dir", "memory")
		t.Logf("log in memory: broker peak RSS %d MiB; on disk / in memory = %.2f", mem>>20, float64(disk)/float64(mem))
	}
}

// BenchmarkEngineMillionInLog measures the whole engine (serve, embedded broker) while a
// million usage records go through its log into ClickHouse: the engine's peak RSS with the log
// on disk and, as the baseline, in memory. It reports both in MiB and their ratio.
//
//	VW_TEST_CLICKHOUSE=127.0.0.1:9000 go test -run '^$' -bench EngineMillionInLog -benchtime 1x ./cmd/voucherwatch/
func BenchmarkEngineMillionInLog(b *testing.B) {
	storetest.Require(b)
	dir := b.TempDir()
	cmd := exec.Command("go", "build", "-o", dir+"/voucherwatch", ".")
	if out, err := cmd.CombinedOutput(); err != nil {
		b.Fatalf("go build: %v\n%s", err, out)
	}
	const n = 1_000_000
	run := func(kafkaDir ...string) int64 {
		args := append([]string{"--clickhouse", storetest.Database(b), "--http", "127.0.0.1:0", "--embedded-kafka", "127.0.0.1:0",
			"--bootstrap-token", testToken, "--log-level", "info", "--detect-schedule", "@every 8760h", "--detect-debounce", "1h",
			"--spotcheck-schedule", ""}, kafkaDir...)
		p := startCrashEngine(b, dir+"/voucherwatch", args...)
		defer p.kill()
		produceUsageChunked(b, p.kafka, voucherwatch.DefaultTopics[voucherwatch.TypeUsage], n)
		deadline := time.Now().Add(15 * time.Minute)
		for {
			st, err := p.status()
			if ts := st.Topics[voucherwatch.DefaultTopics[voucherwatch.TypeUsage]]; err == nil && ts.Lag == 0 && ts.Consumed == n {
				break
			}
			if time.Now().After(deadline) {
				b.Fatalf("not ingested: %+v %v", st, err)
			}
			time.Sleep(time.Second)
		}
		return processPeakRSS(b, p.cmd.Process.Pid)
	}
	for i := 0; i < b.N; i++ {
		disk := run("--data-dir", b.TempDir())
		mem := run("--embedded-kafka-dir", "memory")
		b.ReportMetric(float64(disk>>20), "MiB-peak-disk")
		b.ReportMetric(float64(mem>>20), "MiB-peak-memory")
		b.ReportMetric(float64(disk)/float64(mem), "disk/memory")
	}
}
