package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/voucherwatch/voucherwatch"
	"github.com/voucherwatch/voucherwatch/ingest"
	"github.com/voucherwatch/voucherwatch/store"
	"github.com/voucherwatch/voucherwatch/store/storetest"
	"github.com/voucherwatch/voucherwatch/synth"
)

// buildEngine builds the voucherwatch binary into dir, so that a test can SIGKILL a real
// process.
func buildEngine(t *testing.T, dir string) string {
	t.Helper()
	bin := filepath.Join(dir, "voucherwatch")
	cmd := exec.Command("go", "build", "-o", bin, ".")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// engineProc is one life of the engine as a subprocess.
type engineProc struct {
	cmd   *exec.Cmd
	http  string // host:port of its HTTP server
	kafka string // the brokers it uses
	mu    sync.Mutex
	log   strings.Builder
	ready chan struct{}
	exit  chan struct{}
}

var (
	servingHTTP  = regexp.MustCompile(`msg="voucherwatch serving" http=(\S+)`)
	servingKafka = regexp.MustCompile(`kafka="?\[([^\]" ]+)`)
)

// startCrashEngine starts `voucherwatch serve` with args and waits until it serves.
func startCrashEngine(t testing.TB, bin string, args ...string) *engineProc {
	t.Helper()
	e := &engineProc{ready: make(chan struct{}), exit: make(chan struct{})}
	e.cmd = exec.Command(bin, append([]string{"serve"}, args...)...)
	// Keys of its own, as production runs (serve refuses to start without them).
	e.cmd.Env = append(os.Environ(), "GOMAXPROCS=2", "VW_PII_KEY=crash-drill-pii-key-0123456789", "VW_SESSION_KEY=crash-drill-session-key-0123456789", "VW_COMPLAINT_KEY=crash-drill-complaint-key-0123456789")
	stderr, err := e.cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := e.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		defer close(e.exit)
		sc := bufio.NewScanner(stderr)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		once := sync.Once{}
		for sc.Scan() {
			line := sc.Text()
			e.mu.Lock()
			e.log.WriteString(line + "\n")
			e.mu.Unlock()
			if m := servingHTTP.FindStringSubmatch(line); m != nil {
				if k := servingKafka.FindStringSubmatch(line); k != nil {
					e.http, e.kafka = m[1], k[1]
					once.Do(func() { close(e.ready) })
				}
			}
		}
		_ = e.cmd.Wait()
	}()
	select {
	case <-e.ready:
	case <-e.exit:
		t.Fatalf("engine exited before serving:\n%s", e.logs())
	case <-time.After(60 * time.Second):
		e.kill()
		t.Fatalf("engine not serving after 60 s:\n%s", e.logs())
	}
	return e
}

func (e *engineProc) logs() string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.log.String()
}

// kill sends SIGKILL and waits for the process to be gone.
func (e *engineProc) kill() {
	_ = e.cmd.Process.Signal(syscall.SIGKILL)
	<-e.exit
}

// status asks the engine's GET /api/v1/status.
func (e *engineProc) status() (voucherwatch.IngestStatus, error) {
	req, _ := http.NewRequest("GET", "http://"+e.http+"/api/v1/status", nil)
	req.Header.Set("Authorization", "Bearer "+testToken)
	client := &http.Client{Timeout: 10 * time.Second}
	resp, err := client.Do(req)
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
	err = json.Unmarshal(body, &out)
	return out.Ingest, err
}

func (e *engineProc) healthz() (int, string, error) {
	resp, err := (&http.Client{Timeout: 10 * time.Second}).Get("http://" + e.http + "/healthz")
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body), nil
}

// crashSequences is how many kill sequences each broker mode runs: VW_CRASH_SEQUENCES, or 10
// (2 with -short).
func crashSequences(t *testing.T) int {
	return envCount(t, "VW_CRASH_SEQUENCES", 1, 10, 2)
}

// envCount is a count a test takes from the environment variable name (at least least), or
// def, or short with -short.
func envCount(t *testing.T, name string, least, def, short int) int {
	t.Helper()
	if v := os.Getenv(name); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < least {
			t.Fatalf("%s=%q: want a number of at least %d", name, v, least)
		}
		return n
	}
	if testing.Short() {
		return short
	}
	return def
}

// TestKilledTwiceMidIngest is the operator's crash drill (issue 18): a province is produced,
// the engine is started and SIGKILLed mid-ingest, started and SIGKILLed again while it joins
// the groups the dead first life still sits in, then started a third time. Every sequence must
// end, within 90 s of the last start, with every record stored once and every topic's lag 0.
// It runs against an external broker (kfake in the test process, 6 partitions per topic: dead
// members stay in its groups) and against the embedded broker with its log on disk (the
// broker dies with the engine: what it acknowledged must be there after the restart).
// Sequences run six at a time: most of a sequence is waiting for session timeouts.
func TestKilledTwiceMidIngest(t *testing.T) {
	storetest.Require(t)
	t.Parallel() // mostly waiting: it overlaps with TestEmbeddedBrokerMemory
	bin := buildEngine(t, t.TempDir())
	p := synth.Generate(synth.Config{Seed: 18, Enterprises: 80, Suppliers: 10, DuplicateRate: 0.02})
	n := crashSequences(t)
	sem := make(chan struct{}, 6)
	var wg sync.WaitGroup
	for _, mode := range []string{"external", "embedded"} {
		for i := 0; i < n; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				sem <- struct{}{}
				defer func() { <-sem }()
				t.Run(fmt.Sprintf("%s/%d", mode, i), func(t *testing.T) {
					crashSequence(t, bin, mode, int64(i), p)
				})
			}()
		}
	}
	wg.Wait()
}

func crashSequence(t *testing.T, bin, mode string, seed int64, p *synth.Province) {
	rng := rand.New(rand.NewSource(seed))
	dsn := storetest.Database(t)
	args := []string{
		"--clickhouse", dsn, "--http", "127.0.0.1:0", "--bootstrap-token", testToken, "--pii-key", "test-pii-key",
		"--log-level", "info", "--batch-size", "2000", "--flush-interval", "100ms",
		// Detectors and spot checks only add load here.
		"--detect-schedule", "@every 8760h", "--detect-debounce", "1h", "--spotcheck-schedule", "",
	}
	produce := func(addr string) {
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		defer cancel()
		if err := publishProvince(ctx, []string{addr}, voucherwatch.DefaultTopics, p.Messages, nil); err != nil {
			t.Fatalf("produce: %v", err)
		}
	}
	switch mode {
	case "external":
		var topics []string
		for _, tp := range voucherwatch.DefaultTopics {
			topics = append(topics, tp)
		}
		broker, err := ingest.StartEmbedded(ingest.EmbeddedConfig{Addr: "127.0.0.1:0", Partitions: 6,
			Topics: append(topics, voucherwatch.DefaultDeadLetterTopic)})
		if err != nil {
			t.Fatal(err)
		}
		defer broker.Close()
		produce(broker.Addr())
		args = append(args, "--kafka", broker.Addr())
	case "embedded":
		args = append(args, "--embedded-kafka", "127.0.0.1:0", "--data-dir", t.TempDir())
	}
	// The lives start with the broker's arguments, and are killed before the broker closes.
	start, stop := engineLives(t, bin, 40, args...)
	defer stop()

	db, err := store.Open(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	usageStored := func() uint64 {
		n, _ := db.StoredCount(context.Background(), voucherwatch.TypeUsage)
		return n
	}

	// First life: killed mid-ingest, once usage records are being stored.
	first := start()
	if mode == "embedded" {
		produce(first.kafka) // acknowledged by the broker that is about to die
	}
	deadline := time.Now().Add(60 * time.Second)
	for usageStored() == 0 && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	time.Sleep(time.Duration(rng.Intn(1500)) * time.Millisecond)
	first.kill()
	storedAtFirstKill := usageStored()

	// Second life: killed while it joins the groups the first life's dead members still hold.
	second := start()
	time.Sleep(time.Duration(1000+rng.Intn(3000)) * time.Millisecond)
	second.kill()

	third := start()
	started := time.Now()
	var last voucherwatch.IngestStatus
	var lastErr error
	for {
		st, err := third.status()
		last, lastErr = st, err
		done := err == nil
		for _, tp := range synth.Topics {
			ts := st.Topics[tp]
			done = done && ts.Lag == 0 && ts.Consumed == int64(p.Stats.Topics[tp].Messages) && ts.Stored == int64(p.Stats.Topics[tp].Unique)
		}
		if done {
			break
		}
		if time.Since(started) > 90*time.Second {
			t.Fatalf("not caught up 90 s after the last start: status %+v, err %v", last, lastErr)
		}
		// Each status counts every table's distinct records: polled often by several
		// sequences, it would load ClickHouse more than the ingest does.
		time.Sleep(2 * time.Second)
	}
	took := time.Since(started)
	for _, tp := range synth.Topics {
		want, got := p.Stats.Topics[tp], last.Topics[tp]
		if got.Stored != int64(want.Unique) || got.Rejected != 0 || got.Lag != 0 {
			t.Errorf("%s: got stored %d rejected %d lag %d, want %d, 0, 0", tp, got.Stored, got.Rejected, got.Lag, want.Unique)
		}
	}
	// The tables themselves hold each record once, as their readers see them (FINAL or
	// distinct). Raw copies are allowed by the store's contract (store/records.go: an INSERT
	// the killed life sent may complete on the server after the next life looked the keys up;
	// ReplacingMergeTree merges them away): they are counted, not failed on.
	copies := uint64(0)
	for typ, table := range map[voucherwatch.RecordType]string{voucherwatch.TypeUsage: "usage", voucherwatch.TypeClaim: "claims", voucherwatch.TypeSettlement: "settlements"} {
		var rows, final, distinct uint64
		q := fmt.Sprintf("SELECT (SELECT count() FROM %[1]s), (SELECT count() FROM %[1]s FINAL), (SELECT uniqExact(source, id) FROM %[1]s)", db.Database()+"."+table)
		if err := db.Conn().QueryRow(context.Background(), q).Scan(&rows, &final, &distinct); err != nil {
			t.Fatal(err)
		}
		if want := uint64(p.Stats.Topics[voucherwatch.DefaultTopics[typ]].Unique); final != want || distinct != want {
			t.Errorf("%s: got %d rows FINAL, %d distinct, want %d each once", table, final, distinct, want)
		}
		copies += rows - distinct
	}
	if code, body, err := third.healthz(); err != nil || code != 200 {
		t.Errorf("healthz after catching up: got %d %q %v, want 200", code, body, err)
	}
	rebuilds := strings.Count(third.logs(), "ingest: watchdog:")
	if took > 60*time.Second {
		// Slow but in time: say where the time went.
		var lines []string
		for _, l := range strings.Split(third.logs(), "\n") {
			if strings.Contains(l, "level=WARN") || strings.Contains(l, "serving") {
				lines = append(lines, l)
			}
		}
		t.Logf("life 3 took %.0fs; its warnings:\n%s", took.Seconds(), tail(strings.Join(lines, "\n"), 20))
	}
	t.Logf("%s: usage stored at the first kill %d of %d; caught up %.1fs after the last start; watchdog rebuilds %d; raw copies not merged yet %d",
		mode, storedAtFirstKill, p.Stats.Topics[synth.TopicUsage].Unique, took.Seconds(), rebuilds, copies)
}

func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// engineLives returns start, which starts a life of the engine bin with args, and stop, which
// kills every life still running and, when the test has failed, logs the last tailLines lines
// of each life's log.
func engineLives(t *testing.T, bin string, tailLines int, args ...string) (start func() *engineProc, stop func()) {
	var lives []*engineProc
	start = func() *engineProc {
		e := startCrashEngine(t, bin, args...)
		lives = append(lives, e)
		return e
	}
	stop = func() {
		for _, e := range lives {
			e.kill()
		}
		if t.Failed() {
			for i, e := range lives {
				t.Logf("life %d log (tail):\n%s", i+1, tail(e.logs(), tailLines))
			}
		}
	}
	return start, stop
}
