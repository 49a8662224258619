package detectors

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/voucherwatch/voucherwatch"
)

// detectorFn is a detector made of a function, for the runner's own tests.
type detectorFn struct {
	name string
	run  func(ctx context.Context, at time.Time) ([]voucherwatch.Alert, error)
}

func (d detectorFn) Name() string { return d.name }
func (d detectorFn) Run(ctx context.Context, at time.Time) ([]voucherwatch.Alert, error) {
	return d.run(ctx, at)
}

// recordingAlerts is an alert store that only counts what it was given: the runner's tests are
// about scheduling and failure handling, not storage.
type recordingAlerts struct {
	mu     sync.Mutex
	stored map[string]int // detector → alerts stored
}

func (s *recordingAlerts) UpsertAlerts(_ context.Context, alerts []voucherwatch.Alert, _ time.Time) (voucherwatch.UpsertResult, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, a := range alerts {
		s.stored[a.Detector]++
	}
	return voucherwatch.UpsertResult{New: len(alerts)}, nil
}
func (s *recordingAlerts) Alerts(context.Context, voucherwatch.AlertFilter) ([]voucherwatch.Alert, string, error) {
	return nil, "", nil
}
func (s *recordingAlerts) Alert(context.Context, string) (voucherwatch.Alert, error) {
	return voucherwatch.Alert{}, voucherwatch.Errorf(voucherwatch.ENOTFOUND, "no alert")
}
func (s *recordingAlerts) count(detector string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.stored[detector]
}

// syncBuffer is a log sink the runner's goroutines and the test can share.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}
func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// panickyRunner has a detector that panics (a nil pointer, as a real bug would) between
// two that work.
func panickyRunner(t *testing.T) (*Runner, *recordingAlerts, *syncBuffer) {
	t.Helper()
	st := &recordingAlerts{stored: map[string]int{}}
	logs := &syncBuffer{}
	reg := prometheus.NewRegistry()
	r := NewRunner(st, reg, slog.New(slog.NewTextHandler(logs, nil)))
	one := func(name string) detectorFn {
		return detectorFn{name: name, run: func(context.Context, time.Time) ([]voucherwatch.Alert, error) {
			return []voucherwatch.Alert{{ID: "al_" + name, Kind: name}}, nil
		}}
	}
	r.Register(one("before"), detectorFn{name: "panicky", run: func(context.Context, time.Time) ([]voucherwatch.Alert, error) {
		byClaim := map[string]*ruleClaim{}
		return nil, fmt.Errorf("claim %s", byClaim["c1"].ClaimID) // a claim that is not there
	}}, one("after"))
	return r, st, logs
}

func checkPanickyRecorded(t *testing.T, r *Runner, st *recordingAlerts, logs *syncBuffer) {
	t.Helper()
	health, _ := r.Health()
	states := map[string]State{}
	for _, h := range health {
		states[h.Detector] = h.State
		if h.Detector == "panicky" && !strings.Contains(h.LastError, "panic") {
			t.Errorf("panicky last error = %q, want it to say panic", h.LastError)
		}
	}
	want := map[string]State{"before": StateOK, "panicky": StateFailing, "after": StateOK}
	for name, s := range want {
		if states[name] != s {
			t.Errorf("%s state = %v, want %v", name, states[name], s)
		}
	}
	if got := st.count("after"); got == 0 {
		t.Errorf("the detector after the panicking one stored %d alerts, want it run", got)
	}
	if got := testutil.ToFloat64(r.failures.WithLabelValues("panicky")); got < 1 {
		t.Errorf("vw_detector_failures_total{panicky} = %v, want ≥ 1", got)
	}
	if got := testutil.ToFloat64(r.failures.WithLabelValues("after")); got != 0 {
		t.Errorf("vw_detector_failures_total{after} = %v, want 0", got)
	}
	out := logs.String()
	if !strings.Contains(out, "level=ERROR") || !strings.Contains(out, "detector=panicky") || !strings.Contains(out, "runner_test.go") {
		t.Errorf("log has no error line with the panicking detector and its stack:\n%s", out)
	}
}

// TestRunnerPanicOnDemand: RunAll (the API's "run now") survives a panicking detector.
func TestRunnerPanicOnDemand(t *testing.T) {
	r, st, logs := panickyRunner(t)
	sums := r.RunAll(context.Background(), time.Date(2025, 6, 1, 0, 0, 0, 0, time.UTC))
	if len(sums) != 3 || sums[1].Error == "" || sums[0].Error != "" || sums[2].Error != "" {
		t.Fatalf("summaries = %+v, want only the second failed", sums)
	}
	checkPanickyRecorded(t, r, st, logs)
}

// TestRunnerPanicScheduled: the debounce and cron paths run in goroutines of their own, where
// an unrecovered panic ends the process; the run is recorded as failed and the loop goes on.
func TestRunnerPanicScheduled(t *testing.T) {
	r, st, logs := panickyRunner(t)
	r.Debounce = 5 * time.Millisecond
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	// The cron slot fires every second; the trigger runs it within milliseconds.
	if err := r.Start(ctx, "@every 1s"); err != nil {
		t.Fatal(err)
	}
	r.Trigger()
	waitFor := func(runs int) {
		t.Helper()
		deadline := time.Now().Add(5 * time.Second)
		for st.count("after") < runs {
			if time.Now().After(deadline) {
				t.Fatalf("after %d runs wanted, the last detector ran %d times", runs, st.count("after"))
			}
			time.Sleep(5 * time.Millisecond)
		}
	}
	waitFor(1)
	checkPanickyRecorded(t, r, st, logs)
	// The loop is still alive: another trigger leads to another run.
	r.Trigger()
	waitFor(2)
}

// TestRunnerErrorIsNotPanic: an ordinary error is still recorded without a stack.
func TestRunnerErrorIsNotPanic(t *testing.T) {
	st := &recordingAlerts{stored: map[string]int{}}
	logs := &syncBuffer{}
	r := NewRunner(st, nil, slog.New(slog.NewTextHandler(logs, nil)))
	r.Register(detectorFn{name: "broken", run: func(context.Context, time.Time) ([]voucherwatch.Alert, error) {
		return nil, errors.New("detectors: broken: table missing")
	}})
	sums := r.RunAll(context.Background(), time.Now())
	if sums[0].Error != "detectors: broken: table missing" {
		t.Errorf("error = %q", sums[0].Error)
	}
	if strings.Contains(logs.String(), "stack=") {
		t.Errorf("an ordinary error logged a stack:\n%s", logs.String())
	}
}
