package detectors

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/voucherwatch/voucherwatch"
)

// checkFn is an incremental detector made of functions, for the runner's scheduling tests.
type checkFn struct {
	detectorFn
	check func(ctx context.Context, changed voucherwatch.Changes) ([]voucherwatch.Alert, error)
}

func (d checkFn) Check(ctx context.Context, _ time.Time, changed voucherwatch.Changes) ([]voucherwatch.Alert, error) {
	return d.check(ctx, changed)
}

func noRun(context.Context, time.Time) ([]voucherwatch.Alert, error) { return nil, nil }

func claimRecord(id string) voucherwatch.Record {
	return voucherwatch.Record{Claim: &voucherwatch.Claim{ClaimID: id}}
}

// alertPerClaim is a check that alerts every changed claim, so the recording store shows
// which claims it checked.
func alertPerClaim(name string) func(context.Context, voucherwatch.Changes) ([]voucherwatch.Alert, error) {
	return func(_ context.Context, ch voucherwatch.Changes) ([]voucherwatch.Alert, error) {
		var out []voucherwatch.Alert
		for id := range ch.Claims {
			out = append(out, voucherwatch.Alert{ID: name + "-" + id, Detector: name + "/" + id})
		}
		return out, nil
	}
}

func waitFor(t *testing.T, within time.Duration, what string, ok func() bool) {
	t.Helper()
	for deadline := time.Now().Add(within); !ok(); time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("not within %v: %s", within, what)
		}
	}
}

// TestNewClaimNotBehindOtherChecks: a claim stored while another detector's check of an
// earlier claim is still going (as idle_consumption's took 7 s under load in `bench live`) is
// checked by the first detector at once, not after that check; the slow detector checks it
// when its check in hand is done. (Before, each check round ran every detector's check in
// turn, and a claim waited for the whole round before it.)
func TestNewClaimNotBehindOtherChecks(t *testing.T) {
	st := &recordingAlerts{stored: map[string]int{}}
	r := NewRunner(st, nil, nil)
	r.CheckDelay = 10 * time.Millisecond
	release := make(chan struct{})
	var once sync.Once
	r.Register(
		checkFn{detectorFn{name: "first", run: noRun}, alertPerClaim("first")},
		checkFn{detectorFn{name: "slow", run: noRun}, func(ctx context.Context, ch voucherwatch.Changes) ([]voucherwatch.Alert, error) {
			if ch.Claims["early"] {
				<-release
			}
			return alertPerClaim("slow")(ctx, ch)
		}},
	)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	defer once.Do(func() { close(release) })
	if err := r.Start(ctx, "@every 24h"); err != nil {
		t.Fatal(err)
	}
	r.Changed([]voucherwatch.Record{claimRecord("early")})
	waitFor(t, 5*time.Second, "the first detector checks the early claim", func() bool { return st.count("first/early") == 1 })
	r.Changed([]voucherwatch.Record{claimRecord("late")})
	waitFor(t, 5*time.Second, "the first detector checks the late claim while the slow check of the early one goes on",
		func() bool { return st.count("first/late") == 1 })
	if st.count("slow/early") != 0 || st.count("slow/late") != 0 {
		t.Fatalf("the slow detector stored alerts before its check was released")
	}
	once.Do(func() { close(release) })
	waitFor(t, 5*time.Second, "the slow detector checks both claims", func() bool { return st.count("slow/early") == 1 && st.count("slow/late") == 1 })
}

// TestBulkChangeLeftToFullRun: a change of more subjects than one check takes (a bulk load)
// is not checked but triggers a full run; a small change after it is checked.
func TestBulkChangeLeftToFullRun(t *testing.T) {
	st := &recordingAlerts{stored: map[string]int{}}
	r := NewRunner(st, nil, nil)
	r.CheckDelay, r.Debounce, r.CheckMost = 10*time.Millisecond, 10*time.Millisecond, 3
	ran := make(chan struct{}, 10)
	r.Register(checkFn{detectorFn{name: "d", run: func(context.Context, time.Time) ([]voucherwatch.Alert, error) {
		ran <- struct{}{}
		return nil, nil
	}}, alertPerClaim("d")})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if err := r.Start(ctx, "@every 24h"); err != nil {
		t.Fatal(err)
	}
	var bulk []voucherwatch.Record
	for i := range 4 {
		bulk = append(bulk, claimRecord(fmt.Sprintf("bulk-%d", i)))
	}
	r.Changed(bulk)
	select {
	case <-ran:
	case <-time.After(5 * time.Second):
		t.Fatal("a bulk change triggered no full run")
	}
	r.Changed([]voucherwatch.Record{claimRecord("one")})
	waitFor(t, 5*time.Second, "the small change is checked", func() bool { return st.count("d/one") == 1 })
	for i := range 4 {
		if n := st.count(fmt.Sprintf("d/bulk-%d", i)); n != 0 {
			t.Errorf("bulk-%d checked %d times, want it left to the full run", i, n)
		}
	}
}

// TestTriggeredRunYieldsToBacklog: a full run after ingest stops when ingest reports a
// backlog (a full batch), without marking its detectors failing, and runs again once the
// backlog is gone (Debounce after the last full batch); while batches keep coming full, no
// triggered run starts.
func TestTriggeredRunYieldsToBacklog(t *testing.T) {
	st := &recordingAlerts{stored: map[string]int{}}
	r := NewRunner(st, nil, nil)
	r.Debounce = 50 * time.Millisecond
	var mu sync.Mutex
	started, finished := 0, 0
	r.Register(detectorFn{name: "sweep", run: func(ctx context.Context, _ time.Time) ([]voucherwatch.Alert, error) {
		mu.Lock()
		started++
		n := started
		mu.Unlock()
		if n == 1 {
			<-ctx.Done() // the first run lasts until it is stopped
			return nil, ctx.Err()
		}
		mu.Lock()
		finished++
		mu.Unlock()
		return nil, nil
	}})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if err := r.Start(ctx, "@every 24h"); err != nil {
		t.Fatal(err)
	}
	r.Trigger()
	waitFor(t, 5*time.Second, "the triggered run starts", func() bool { mu.Lock(); defer mu.Unlock(); return started == 1 })
	// Ingest catches up for a while: full batches every 20 ms for 300 ms.
	busyEnd := time.Now().Add(300 * time.Millisecond)
	for time.Now().Before(busyEnd) {
		r.TriggerBusy(true)
		time.Sleep(20 * time.Millisecond)
		mu.Lock()
		s := started
		mu.Unlock()
		if s > 1 {
			t.Fatalf("a triggered run started while batches kept coming full")
		}
	}
	waitFor(t, 5*time.Second, "the run again after the backlog", func() bool { mu.Lock(); defer mu.Unlock(); return finished == 1 })
	if h, _ := r.Health(); h[0].State != StateOK {
		t.Errorf("health after a yielded run and a finished one: %s (%s), want ok", h[0].State, h[0].LastError)
	}
}
