package detectors

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
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
// is not checked but triggers a full run; so are the changes pending when a new one would
// make them too many together, while the new one is checked (bench live saw two claims
// arriving behind a province's last batches wait 170 s for the full run after the stream).
func TestBulkChangeLeftToFullRun(t *testing.T) {
	st := &recordingAlerts{stored: map[string]int{}}
	r := NewRunner(st, nil, nil)
	r.CheckDelay, r.Debounce, r.CheckMost = 10*time.Millisecond, 10*time.Millisecond, 3
	ran := make(chan struct{}, 10)
	r.Register(checkFn{detectorFn{name: "d", run: func(context.Context, time.Time) ([]voucherwatch.Alert, error) {
		ran <- struct{}{}
		return nil, nil
	}}, alertPerClaim("d")})
	claims := func(prefix string, n int) []voucherwatch.Record {
		var out []voucherwatch.Record
		for i := range n {
			out = append(out, claimRecord(fmt.Sprintf("%s-%d", prefix, i)))
		}
		return out
	}
	// Before the workers start, so that the changes meet in the pending set: a bulk load's
	// batches, then a claim.
	r.Changed(claims("bulk", 4))  // too many alone
	r.Changed(claims("tail", 2))  // pending
	r.Changed(claims("tail2", 2)) // together too many: the older part goes to the full run
	r.Changed(claims("probe", 1)) // fits beside the last batch
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if err := r.Start(ctx, "@every 24h"); err != nil {
		t.Fatal(err)
	}
	select {
	case <-ran:
	case <-time.After(5 * time.Second):
		t.Fatal("a bulk change triggered no full run")
	}
	waitFor(t, 5*time.Second, "the claim and the batch before it are checked", func() bool {
		return st.count("d/probe-0") == 1 && st.count("d/tail2-0") == 1 && st.count("d/tail2-1") == 1
	})
	r.Changed(claims("one", 1))
	waitFor(t, 5*time.Second, "a small change after them is checked", func() bool { return st.count("d/one-0") == 1 })
	for _, id := range []string{"bulk-0", "bulk-3", "tail-0", "tail-1"} {
		if n := st.count("d/" + id); n != 0 {
			t.Errorf("%s checked %d times, want it left to the full run", id, n)
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

// TestLaneNotStarvedByEarlierLanes: while changes keep coming (contracts and settlements
// streamed beside the probes), the lanes before a detector's in the registration order always
// have changes again by the time their check ends; a later lane's change is still checked
// once it has waited LaneWait, not when the stream stops. (Before, the workers always took the
// first lane with changes: at 100 M related_party's check of 20 contracts started 14 s after
// the first was stored, when the stream ended.)
func TestLaneNotStarvedByEarlierLanes(t *testing.T) {
	st := &recordingAlerts{stored: map[string]int{}}
	r := NewRunner(st, nil, nil)
	r.CheckDelay, r.LaneWait = 5*time.Millisecond, 100*time.Millisecond
	slow := func(name string) func(context.Context, voucherwatch.Changes) ([]voucherwatch.Alert, error) {
		return func(ctx context.Context, ch voucherwatch.Changes) ([]voucherwatch.Alert, error) {
			time.Sleep(40 * time.Millisecond) // a check's keyed look-ups under load
			return alertPerClaim(name)(ctx, ch)
		}
	}
	r.Register(
		checkFn{detectorFn{name: "first", run: noRun}, slow("first")},
		checkFn{detectorFn{name: "second", run: noRun}, slow("second")},
		checkFn{detectorFn{name: "third", run: noRun}, alertPerClaim("third")},
	)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if err := r.Start(ctx, "@every 24h"); err != nil {
		t.Fatal(err)
	}
	// A stream of changes every 10 ms for 2 s: each lane's check of 40 ms finds its lane
	// changed again.
	start := time.Now()
	var checkedAt time.Duration
	for i := 0; time.Since(start) < 2*time.Second; i++ {
		r.Changed([]voucherwatch.Record{claimRecord(fmt.Sprintf("c%d", i))})
		if checkedAt == 0 && st.count("third/c0") > 0 {
			checkedAt = time.Since(start)
		}
		time.Sleep(10 * time.Millisecond)
	}
	if checkedAt == 0 {
		t.Fatalf("the third lane's first change was not checked while the stream of 2 s went on")
	}
	if checkedAt > 500*time.Millisecond {
		t.Errorf("the third lane's first change checked after %v, want within 500 ms (LaneWait 100 ms and a check of 40 ms)", checkedAt)
	}
	waitFor(t, 5*time.Second, "every lane checks the stream's first change", func() bool {
		return st.count("first/c0") == 1 && st.count("second/c0") == 1 && st.count("third/c0") == 1
	})
}

// TestLaneOrder: the workers take the first lane in registration order with changes while
// no lane's changes have waited LaneWait (a new claim goes first), and the lane waiting
// longest once one has.
func TestLaneOrder(t *testing.T) {
	r := NewRunner(&recordingAlerts{stored: map[string]int{}}, nil, nil)
	r.LaneWait = time.Second
	r.LanePace = 0 // the order, not the pace: every lane is taken again at once
	r.Register(
		checkFn{detectorFn{name: "first", run: noRun}, alertPerClaim("first")},
		checkFn{detectorFn{name: "second", run: noRun}, alertPerClaim("second")},
		checkFn{detectorFn{name: "third", run: noRun}, alertPerClaim("third")},
	)
	now := time.Now()
	set := func(i int, claim string, waited time.Duration) {
		r.lanes[i].pending = voucherwatch.Changes{}
		r.lanes[i].pending.Add([]voucherwatch.Record{claimRecord(claim)})
		r.lanes[i].since = now.Add(-waited)
	}
	f := func(want string) {
		t.Helper()
		l, _, _, _ := r.next()
		if l == nil || l.dets[0].Name() != want {
			t.Fatalf("got lane %v, want %s", l, want)
		}
		l.busy = false
	}
	set(1, "a", 500*time.Millisecond)
	set(2, "b", 800*time.Millisecond)
	set(0, "c", 0)
	f("first") // the others waited less than LaneWait
	f("second")
	f("third")
	set(0, "d", 0)
	set(2, "e", 3*time.Second)
	set(1, "f", 2*time.Second)
	f("third") // waited longest, past LaneWait
	f("second")
	f("first")
}

// sharingCheck is a checkFn that shares the lane named lane.
type sharingCheck struct {
	checkFn
	lane string
}

func (d sharingCheck) CheckLane() string { return d.lane }

// TestSharedLaneReadsOnce: detectors naming the same lane are one lane, checked one after
// another on the same changes, each storing its own alerts, and what they read through
// memoized is read once per check of the lane; a detector naming another lane, and one
// naming none, keep lanes of their own and read on their own.
func TestSharedLaneReadsOnce(t *testing.T) {
	st := &recordingAlerts{stored: map[string]int{}}
	r := NewRunner(st, nil, nil)
	var mu sync.Mutex
	reads := map[string]int{} // per memo key
	readingCheck := func(name, key string) func(context.Context, voucherwatch.Changes) ([]voucherwatch.Alert, error) {
		return func(ctx context.Context, ch voucherwatch.Changes) ([]voucherwatch.Alert, error) {
			if _, err := memoized(ctx, key, func() (int, error) {
				mu.Lock()
				defer mu.Unlock()
				reads[key]++
				return len(ch.Claims), nil
			}); err != nil {
				return nil, err
			}
			return alertPerClaim(name)(ctx, ch)
		}
	}
	r.Register(
		sharingCheck{checkFn{detectorFn{name: "rule_a", run: noRun}, readingCheck("rule_a", "facts")}, "rules"},
		checkFn{detectorFn{name: "own", run: noRun}, readingCheck("own", "own facts")},
		sharingCheck{checkFn{detectorFn{name: "rule_b", run: noRun}, readingCheck("rule_b", "facts")}, "rules"},
		sharingCheck{checkFn{detectorFn{name: "other", run: noRun}, readingCheck("other", "other facts")}, "others"},
	)
	if got := len(r.lanes); got != 3 {
		t.Fatalf("%d lanes, want 3 (rules, own, others)", got)
	}
	if got := r.lanes[0].dets; len(got) != 2 || got[0].Name() != "rule_a" || got[1].Name() != "rule_b" {
		t.Fatalf("first lane %v, want rule_a and rule_b in registration order", got)
	}
	var ch voucherwatch.Changes
	ch.Add([]voucherwatch.Record{claimRecord("c1"), claimRecord("c2")})
	sums := r.CheckChanged(context.Background(), time.Now(), ch)
	var names []string
	for _, s := range sums {
		names = append(names, fmt.Sprintf("%s:%d", s.Detector, s.Alerts))
	}
	if want := "rule_a:2 rule_b:2 own:2 other:2"; strings.Join(names, " ") != want {
		t.Errorf("summaries %q, want %q", strings.Join(names, " "), want)
	}
	if want := map[string]int{"facts": 1, "own facts": 1, "other facts": 1}; !maps.Equal(reads, want) {
		t.Errorf("reads %v, want %v", reads, want)
	}
	for _, id := range []string{"rule_a/c1", "rule_b/c2", "own/c1", "other/c2"} {
		if st.stored[id] != 1 {
			t.Errorf("alert %s stored %d times, want once", id, st.stored[id])
		}
	}
	// A second check of the lane reads again: the memo lives for one check.
	r.CheckChanged(context.Background(), time.Now(), ch)
	if reads["facts"] != 2 {
		t.Errorf("facts read %d times after two checks, want 2", reads["facts"])
	}
}

// warmingCheck is a checkFn that keeps state its Warm reads.
type warmingCheck struct {
	checkFn
	warm func(context.Context) error
}

func (d warmingCheck) Warm(ctx context.Context) error { return d.warm(ctx) }

// TestStartWarmsKeptState: Start reads every Warmer's state once, under its lane, so that a
// change arriving while it reads is checked after it, on the warmed state; detectors without
// state are not held up by it.
func TestStartWarmsKeptState(t *testing.T) {
	st := &recordingAlerts{stored: map[string]int{}}
	r := NewRunner(st, nil, nil)
	r.CheckDelay = time.Millisecond
	var warmed, warms, coldChecks atomic.Int32
	var statelessWaited atomic.Bool
	r.Register(
		warmingCheck{checkFn{detectorFn{name: "graph", run: noRun}, func(ctx context.Context, ch voucherwatch.Changes) ([]voucherwatch.Alert, error) {
			if warmed.Load() == 0 {
				coldChecks.Add(1)
			}
			return alertPerClaim("graph")(ctx, ch)
		}}, func(context.Context) error {
			// The registry's read: it lasts until the other lane's check is stored (5 s at
			// most), which must not wait for it.
			for deadline := time.Now().Add(5 * time.Second); st.count("stateless/c1") == 0 && time.Now().Before(deadline); {
				time.Sleep(5 * time.Millisecond)
			}
			if st.count("stateless/c1") == 0 {
				statelessWaited.Store(true)
			}
			warms.Add(1)
			warmed.Store(1)
			return nil
		}},
		checkFn{detectorFn{name: "stateless", run: noRun}, alertPerClaim("stateless")},
	)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if err := r.Start(ctx, "@every 1h"); err != nil {
		t.Fatal(err)
	}
	r.Changed([]voucherwatch.Record{claimRecord("c1")})
	waitFor(t, 5*time.Second, "the warmed lane's check", func() bool { return st.count("graph/c1") == 1 })
	if n := coldChecks.Load(); n != 0 {
		t.Errorf("%d checks ran before the state was warmed, want none", n)
	}
	if n := warms.Load(); n != 1 {
		t.Errorf("warmed %d times, want once", n)
	}
	if statelessWaited.Load() {
		t.Error("the stateless lane's check waited for another lane's warming")
	}
}

// TestLanePacesItsChecks: claims arriving right after a lane's check are checked together, one
// pace after that check started, and a claim after a quiet spell at once (checks of claims
// arriving every half second, bench live's probes, each cost the database a check).
func TestLanePacesItsChecks(t *testing.T) {
	st := &recordingAlerts{stored: map[string]int{}}
	r := NewRunner(st, nil, nil)
	r.CheckDelay = 10 * time.Millisecond
	r.LanePace = 3 * time.Second // long beside the waits below, so that a loaded machine's delays do not decide
	var mu sync.Mutex
	var starts []time.Time
	var rounds [][]string
	r.Register(checkFn{detectorFn{name: "paced", run: noRun}, func(ctx context.Context, ch voucherwatch.Changes) ([]voucherwatch.Alert, error) {
		mu.Lock()
		starts = append(starts, time.Now())
		rounds = append(rounds, slices.Sorted(maps.Keys(ch.Claims)))
		mu.Unlock()
		return alertPerClaim("paced")(ctx, ch)
	}})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if err := r.Start(ctx, "@every 24h"); err != nil {
		t.Fatal(err)
	}
	checked := func(id string) func() bool { return func() bool { return st.count("paced/"+id) == 1 } }
	sent := time.Now()
	r.Changed([]voucherwatch.Record{claimRecord("a")})
	waitFor(t, 5*time.Second, "claim a checked", checked("a"))
	if took := time.Since(sent); took > r.LanePace*2/3 {
		t.Fatalf("the first claim waited %v: a lane with no check before is not paced", took)
	}
	r.Changed([]voucherwatch.Record{claimRecord("b")})
	time.Sleep(20 * time.Millisecond)
	r.Changed([]voucherwatch.Record{claimRecord("c")})
	waitFor(t, 10*time.Second, "claims b and c checked", func() bool { return checked("b")() && checked("c")() })
	mu.Lock()
	defer mu.Unlock()
	if len(rounds) != 2 || strings.Join(rounds[1], " ") != "b c" {
		t.Fatalf("checks %v, want [a] then [b c] together", rounds)
	}
	if gap := starts[1].Sub(starts[0]); gap < r.LanePace {
		t.Fatalf("the second check started %v after the first, within the pace %v", gap, r.LanePace)
	}
}
