package detectors

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"runtime/debug"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/voucherwatch/voucherwatch"
)

// Detection that follows what changed. Ingest tells the runner which records it stored
// (Changed, or a NotifyingStore in front of the record store); shortly after, the runner asks
// each detector that implements voucherwatch.IncrementalDetector for the alerts about those
// subjects alone (Check), by keyed look-ups. A claim re-using an invoice is alerted in about a
// second, whatever the size of the history. The full run (RunAll) remains: on the schedule, on
// POST /api/v1/detectors/run, and after ingest (Trigger) at most SweepShare of the time, so
// that sweeps never hold ingest back for long.

// NotifyingStore is a record store that tells Changed about every batch that stored new
// records, with the batch's records (a batch's duplicates included: re-checking them repeats
// the alerts they already have).
type NotifyingStore struct {
	voucherwatch.RecordStore
	Changed func(recs []voucherwatch.Record)
	// Storing, when set, is told of every batch before it is stored: the size of a batch
	// says whether ingest is catching up on a backlog (Runner.TriggerBusy) seconds before the
	// batch is stored.
	Storing func(typ voucherwatch.RecordType, n int)
}

// StoreRecords stores the records, then reports them when some were new.
func (s NotifyingStore) StoreRecords(ctx context.Context, typ voucherwatch.RecordType, recs []voucherwatch.Record) (voucherwatch.WriteResult, error) {
	if s.Storing != nil {
		s.Storing(typ, len(recs))
	}
	res, err := s.RecordStore.StoreRecords(ctx, typ, recs)
	if err == nil && res.Stored > 0 && s.Changed != nil {
		s.Changed(recs)
	}
	return res, err
}

// errNotPreparer says that the wrapped store prepares no batches: the consumer stores them
// with StoreRecords.
var errNotPreparer = errors.New("detectors: the record store prepares no batches")

// PrepareRecords prepares a batch when the wrapped store can (voucherwatch.RecordPreparer).
func (s NotifyingStore) PrepareRecords(typ voucherwatch.RecordType, recs []voucherwatch.Record) (voucherwatch.PreparedRecords, error) {
	p, ok := s.RecordStore.(voucherwatch.RecordPreparer)
	if !ok {
		return nil, errNotPreparer
	}
	return p.PrepareRecords(typ, recs)
}

// StorePrepared stores a prepared batch, then reports its records when some were new, as
// StoreRecords does.
func (s NotifyingStore) StorePrepared(ctx context.Context, prepared voucherwatch.PreparedRecords) (voucherwatch.WriteResult, error) {
	p, ok := s.RecordStore.(voucherwatch.RecordPreparer)
	if !ok {
		return voucherwatch.WriteResult{}, errNotPreparer
	}
	recs := prepared.Records()
	if s.Storing != nil && len(recs) > 0 {
		s.Storing(recs[0].Type, len(recs))
	}
	res, err := p.StorePrepared(ctx, prepared)
	if err == nil && res.Stored > 0 && s.Changed != nil {
		s.Changed(recs)
	}
	return res, err
}

// DefaultCheckWorkers is how many incremental checks run at once by default, each of another
// detector (Runner.CheckWorkers). A new contract or claim reaches nine to thirteen lanes, and
// while changes keep coming each lane waits for one pass of the others: with two workers that
// pass took 2.5 s at 1 M and about 9 s at 100 M (checks of 0.1–0.6 s each, mostly waiting on
// ClickHouse's keyed reads, not on its CPU). On the 2-core machine, ingest streaming beside
// (bench scale, 1 M, load 6–8): p99 4.7–7.8 s with two workers, 2.3–4.3 s with four, 1.8–4.2 s
// with six.
const DefaultCheckWorkers = 4

// DefaultLanePace is Runner.LanePace by default (docs/detection.md).
const DefaultLanePace = time.Second

// checkLane is one incremental detector's queue: the subjects changed since its last check.
// Each detector has its own; Runner.CheckWorkers workers take the first lane, in registration order
// (duplicate_claim first), that has changes and is not being checked, unless a lane's changes
// have waited longer than Runner.LaneWait: then the lane whose changes have waited longest.
// So a new claim waits at most for one check of another detector while the checks keep up,
// and no lane waits long for the lanes before it while changes keep coming for them (a stream
// of contracts kept the first two lanes busy, and related_party's check of 20 contracts waited
// for the stream's end, 14 s at 100 M); the checks of one detector run one at a time (a
// detector may keep state between them).
type checkLane struct {
	// dets is the lane's detector, or the detectors that share it (LaneSharer), checked one
	// after another on the same changes.
	dets   []voucherwatch.IncrementalDetector
	shared string // the LaneSharer lane's name; empty: the detector's own lane
	// run serialises this detector's checks, those of CheckChanged included.
	run sync.Mutex

	// Guarded by the runner's mu.
	pending   voucherwatch.Changes
	since     time.Time // when the first pending subject arrived
	busy      bool      // a worker is checking it
	rounds    int
	lastStart time.Time // when its last check by a worker started (LanePace)
}

// Changed records the subjects of newly stored records for the next incremental check of
// every detector that has one, which starts CheckDelay later (so that the batches of one burst
// are checked together). A change of more than CheckMost subjects is left to a full run,
// triggered here, and so is the larger of a change and those pending when together they are
// more.
func (r *Runner) Changed(recs []voucherwatch.Record) {
	var ch voucherwatch.Changes
	ch.Add(recs)
	if ch.Subjects() == 0 {
		return // usage: full sweeps read it through the rollups
	}
	if r.CheckMost > 0 && ch.Subjects() > r.CheckMost {
		r.leaveToRun(ch.Subjects())
		return
	}
	r.mu.Lock()
	lanes := r.lanes
	now := time.Now()
	left := 0
	for _, l := range lanes {
		if n := l.pending.Subjects(); r.CheckMost > 0 && n+ch.Subjects() > r.CheckMost {
			// Together they would be a bulk: the larger part goes to the full run, so that a
			// claim arriving behind a bulk load's last batches is still checked at once.
			if n >= ch.Subjects() {
				l.pending, l.since = voucherwatch.Changes{}, time.Time{}
				left = max(left, n)
			} else {
				left = max(left, ch.Subjects())
				continue
			}
		}
		if l.pending.Subjects() == 0 {
			l.since = now
		}
		l.pending.Merge(ch)
	}
	r.mu.Unlock()
	if left > 0 {
		r.leaveToRun(left)
	}
	r.kickWorkers()
}

// kickWorkers wakes every check worker.
func (r *Runner) kickWorkers() {
	for range r.workers() {
		select {
		case r.changedKick <- struct{}{}:
		default:
		}
	}
}

// leaveToRun counts a change of n subjects left to the next triggered full run, and
// triggers it.
func (r *Runner) leaveToRun(n int) {
	r.bulkChanges.Inc()
	r.Log.Debug("detectors: changes left to the full run", "subjects", n)
	r.Trigger()
}

// next takes the lane to check (checkLane: the first in registration order, or the one
// waiting longest once one has waited more than LaneWait) among those with changes that no
// worker is checking and whose last check started at least LanePace ago, marks it busy and
// returns its changes and since when they have waited. When there is none it returns nil and
// how soon a lane held by its pace may be checked (0: none is).
func (r *Runner) next() (*checkLane, voucherwatch.Changes, time.Time, time.Duration) {
	r.mu.Lock()
	defer r.mu.Unlock()
	now := time.Now()
	for {
		var first, oldest *checkLane
		var wake time.Duration
		for _, c := range r.lanes {
			if c.busy || c.pending.Subjects() == 0 {
				continue
			}
			if r.LanePace > 0 && !c.lastStart.IsZero() {
				if d := c.lastStart.Add(r.LanePace).Sub(now); d > 0 {
					if wake == 0 || d < wake {
						wake = d
					}
					continue
				}
			}
			if first == nil {
				first = c
			}
			if oldest == nil || c.since.Before(oldest.since) {
				oldest = c
			}
		}
		if first == nil {
			return nil, voucherwatch.Changes{}, time.Time{}, wake
		}
		l := first
		if time.Since(oldest.since) > r.LaneWait {
			l = oldest
		}
		n := l.pending.Subjects()
		ch, since := l.pending, l.since
		l.pending, l.since = voucherwatch.Changes{}, time.Time{}
		if r.CheckMost > 0 && n > r.CheckMost {
			defer r.leaveToRun(n)
			continue
		}
		l.busy, l.lastStart = true, now
		return l, ch, since, 0
	}
}

// CheckChanged runs the incremental check of every detector that has one, for the changed
// subjects, and stores the alerts. Each detector's checks run one at a time, beside a full run
// if one is going; the alerts of both are stored one run at a time. A failing check is logged
// and counted; the next full run covers what it missed.
func (r *Runner) CheckChanged(ctx context.Context, at time.Time, changed voucherwatch.Changes) []Summary {
	r.mu.Lock()
	lanes := slices.Clone(r.lanes)
	r.mu.Unlock()
	var out []Summary
	for _, l := range lanes {
		out = append(out, r.checkLaneOnce(ctx, l, at, changed, time.Time{})...)
	}
	return out
}

// checkLaneOnce runs the check of changed by the lane's detectors (one, or those sharing the
// lane), pending since since (zero: unknown), and stores their alerts. The detectors of a
// shared lane are checked one after another under one memo (memoized), so the facts they all
// judge are read once. Each check is logged at debug level with where its time went and
// whether a full run was under way, naming up to 20 of its claims and contracts: the latency
// probes of `voucherwatch bench live` and `bench scale` follow their records through it.
func (r *Runner) checkLaneOnce(ctx context.Context, l *checkLane, at time.Time, changed voucherwatch.Changes, since time.Time) []Summary {
	asked := time.Now()
	duringRun := r.running.Load()
	ctx = withCheckMemo(r.prioritise(ctx, true))
	l.run.Lock()
	defer l.run.Unlock()
	locked := time.Now()
	r.mu.Lock()
	l.rounds++
	round := l.rounds
	r.mu.Unlock()
	debug := r.Log.Enabled(ctx, slog.LevelDebug)
	var pendingFor time.Duration
	var claims, contracts []string // the subjects the log names, the same for every detector of the lane
	if debug {
		if !since.IsZero() {
			pendingFor = asked.Sub(since)
		}
		claims = slices.Sorted(maps.Keys(changed.Claims))
		claims = claims[:min(len(claims), 20)]
		for _, c := range changed.ContractList()[:min(len(changed.Contracts), 20)] {
			contracts = append(contracts, c[1])
		}
	}
	out := make([]Summary, 0, len(l.dets))
	for _, det := range l.dets {
		name := det.Name()
		start := time.Now()
		alerts, err := r.check(voucherwatch.WithQueryLabel(ctx, "check:"+name), det, at, changed)
		checked := time.Since(start)
		var res voucherwatch.UpsertResult
		var ut upsertTimes
		if err == nil && len(alerts) > 0 {
			for i := range alerts {
				if alerts[i].Detector == "" {
					alerts[i].Detector = name
				}
			}
			res, ut, err = r.upsertCheck(voucherwatch.WithQueryLabel(ctx, "upsert:"+name), alerts, at)
		}
		took := time.Since(start)
		r.checks.WithLabelValues(name).Inc()
		r.checkDuration.WithLabelValues(name).Observe(took.Seconds())
		s := Summary{Detector: name, Alerts: len(alerts), New: res.New, Updated: res.Updated, Seconds: took.Seconds()}
		if err != nil {
			r.checkFailures.WithLabelValues(name).Inc()
			s.Error = err.Error()
			r.Log.Error("detector check failed", "detector", name, "err", err)
		}
		out = append(out, s)
		if debug {
			r.Log.Debug("detectors: check", "detector", name, "round", round, "subjects", changed.Subjects(),
				"claims", strings.Join(claims, ","), "contracts", strings.Join(contracts, ","),
				"during_full_run", duringRun || r.running.Load(),
				"pending_for", pendingFor.Round(time.Millisecond), "lock_wait", start.Sub(asked).Round(time.Millisecond),
				"lane_lock_wait", locked.Sub(asked).Round(time.Millisecond),
				"check", checked.Round(time.Millisecond), "upsert", (took - checked).Round(time.Millisecond),
				"upsert_wait", ut.wait.Round(time.Millisecond), "stake", ut.stake.Round(time.Millisecond))
		}
	}
	return out
}

// check runs one detector's incremental check; a panic in it is the check's error (logged with
// its stack), like a panicking full run, so that the check loop and the other checks go on.
func (r *Runner) check(ctx context.Context, inc voucherwatch.IncrementalDetector, at time.Time, changed voucherwatch.Changes) (alerts []voucherwatch.Alert, err error) {
	defer func() {
		if p := recover(); p != nil {
			pe := &panicError{value: p, stack: debug.Stack()}
			r.Log.Error("detector check panicked", "detector", inc.Name(), "panic", fmt.Sprint(p), "stack", string(pe.stack))
			alerts, err = nil, pe
		}
	}()
	return inc.Check(ctx, at, changed)
}

// upsert stores a full run's alerts: money at stake first, outside the alert lock, then the
// alerts in chunks of UpsertChunk, each under the lock taken only when no check waits for it.
// A check's alerts so wait for one chunk of a full run's at most, never for its money at stake
// (which reads every claim and settlement) or for the rest of its alerts.
func (r *Runner) upsert(ctx context.Context, alerts []voucherwatch.Alert, at time.Time) (voucherwatch.UpsertResult, error) {
	r.stake(ctx, alerts, at)
	chunk := r.UpsertChunk
	if chunk <= 0 {
		chunk = len(alerts)
	}
	var res voucherwatch.UpsertResult
	for lo := 0; lo < len(alerts); lo += chunk {
		part := alerts[lo:min(lo+chunk, len(alerts))]
		r.alertLock.lock(false)
		got, err := r.Alerts.UpsertAlerts(ctx, part, at)
		r.alertLock.unlock()
		res.New, res.Updated, res.Unchanged = res.New+got.New, res.Updated+got.Updated, res.Unchanged+got.Unchanged
		if err != nil {
			return res, err
		}
	}
	return res, nil
}

// stake sets the money at stake of alerts (Runner.Stake); a failure is logged.
func (r *Runner) stake(ctx context.Context, alerts []voucherwatch.Alert, at time.Time) {
	if r.Stake == nil || len(alerts) == 0 {
		return
	}
	if err := r.Stake(ctx, alerts, at); err != nil {
		r.Log.Warn("money at stake not computed", "err", err)
	}
}

// upsertTimes is where a check's upsert time went.
type upsertTimes struct{ wait, stake time.Duration }

// upsertCheck stores a check's alerts: money at stake (keyed, for a check's few claims), then
// the alerts, before any full run's chunk that waits. A check and a full run may store the same
// finding; the lock keeps one process from writing it twice at once (several instances write
// equal rows, which collapse on merge).
func (r *Runner) upsertCheck(ctx context.Context, alerts []voucherwatch.Alert, at time.Time) (voucherwatch.UpsertResult, upsertTimes, error) {
	var t upsertTimes
	start := time.Now()
	r.stake(ctx, alerts, at)
	t.stake = time.Since(start)
	start = time.Now()
	r.alertLock.lock(true)
	defer r.alertLock.unlock()
	t.wait = time.Since(start)
	res, err := r.Alerts.UpsertAlerts(ctx, alerts, at)
	return res, t, err
}

// alertLock serialises the stores of alerts in one process, checks first: a full run's chunk
// takes it only when no check is waiting for it.
type alertLock struct {
	mu     sync.Mutex
	cond   *sync.Cond
	held   bool
	checks int // checks waiting
}

func (l *alertLock) lock(check bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.cond == nil {
		l.cond = sync.NewCond(&l.mu)
	}
	if check {
		l.checks++
		defer func() { l.checks-- }()
	}
	for l.held || !check && l.checks > 0 {
		l.cond.Wait()
	}
	l.held = true
}

func (l *alertLock) unlock() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.held = false
	l.cond.Broadcast()
}

// checkWorker runs incremental checks after changes until ctx ends: CheckDelay after a
// change, then the lanes' changes, first lane first, until none is left.
func (r *Runner) checkWorker(ctx context.Context) {
	// paced fires when a lane held by its pace (LanePace) may be checked: its changes have
	// waited already, so no CheckDelay then.
	paced := time.NewTimer(time.Hour)
	paced.Stop()
	defer paced.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-paced.C:
		case <-r.changedKick:
			if r.CheckDelay > 0 {
				t := time.NewTimer(r.CheckDelay)
				select {
				case <-ctx.Done():
					t.Stop()
					return
				case <-t.C:
				}
			}
		}
		for ctx.Err() == nil {
			l, ch, since, wake := r.next()
			if l == nil {
				if wake > 0 {
					paced.Reset(wake)
				}
				break
			}
			r.checkLaneOnce(ctx, l, r.Now(), ch, since)
			r.mu.Lock()
			l.busy = false
			more := l.pending.Subjects() > 0
			r.mu.Unlock()
			if more {
				r.kickWorkers() // changes that came for it meanwhile waited for this check
			}
		}
	}
}

// sweepAfterIngest runs every detector after an ingest trigger, but never sooner after the
// previous one than keeps full runs to SweepShare of the time (after a run of d, the next waits
// d × (1/SweepShare − 1)), and never while ingest catches up on a backlog (TriggerBusy).
// Incremental checks meanwhile keep alerts on new records current.
func (r *Runner) sweepAfterIngest(ctx context.Context) {
	r.mu.Lock()
	wait := max(time.Until(r.lastSweepEnd.Add(sweepGap(r.lastSweepTook, r.SweepShare))), time.Until(r.busyUntil))
	r.mu.Unlock()
	for wait > 0 {
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
		// Ingest catching up on a backlog holds the run until the backlog is gone.
		r.mu.Lock()
		wait = time.Until(r.busyUntil)
		r.mu.Unlock()
	}
	start := time.Now()
	sctx, yield := context.WithCancelCause(ctx)
	defer yield(nil)
	r.mu.Lock()
	r.yieldSweep = yield
	r.mu.Unlock()
	r.runAllRecovered(sctx)
	r.mu.Lock()
	r.yieldSweep = nil
	if !yielded(sctx) {
		r.lastSweepEnd, r.lastSweepTook = time.Now(), time.Since(start)
	}
	r.mu.Unlock()
	if yielded(sctx) {
		r.Trigger() // again, once the backlog is gone
	}
}

// sweepGap is the rest after a full run of took that keeps full runs to share of the time.
func sweepGap(took time.Duration, share float64) time.Duration {
	if share <= 0 || share >= 1 {
		return 0
	}
	return time.Duration(float64(took) * (1/share - 1))
}

// LaneSharer is an incremental detector that shares a check lane with the others naming the
// same lane: they judge the same facts of the same changes (the claim rules judge the claims a
// change touches, with their settlements and registry rows), so the runner checks them one
// after another on the same changes, and the facts, read through memoized, are read once. A
// lane fewer is a check fewer in the pass every change waits for.
type LaneSharer interface {
	CheckLane() string
}

type checkMemoKey struct{}

// checkMemo holds what the checks of one lane's changes read once for all of them.
type checkMemo struct {
	mu sync.Mutex
	v  map[string]any
}

func withCheckMemo(ctx context.Context) context.Context {
	return context.WithValue(ctx, checkMemoKey{}, &checkMemo{v: map[string]any{}})
}

// memoized returns what load returns, read once per check of a lane (checkLaneOnce) under
// key: the detectors of a shared lane judge the same changes. Outside a check (a full run,
// a test calling Check) it calls load. Errors are not kept: the next caller reads again.
func memoized[T any](ctx context.Context, key string, load func() (T, error)) (T, error) {
	m, _ := ctx.Value(checkMemoKey{}).(*checkMemo)
	if m == nil {
		return load()
	}
	// Held through the load: the lane's detectors run one after another, so nobody waits
	// on it but a second reader of the same facts, which is the point.
	m.mu.Lock()
	defer m.mu.Unlock()
	if v, ok := m.v[key]; ok {
		return v.(T), nil
	}
	v, err := load()
	if err == nil {
		m.v[key] = v
	}
	return v, err
}

// Warmer is an incremental detector that keeps state between checks (the registry graph, the
// market's observations) and reads it on its first check. Start warms every such lane at once,
// holding the lane, so the first changes after the engine starts do not wait for that read
// behind a pass of the other lanes (at 100 M: related_party's graph 2.5 s, price's
// observations 2.6 s; the first related-party probe's check began 3.5 s after it was stored).
type Warmer interface {
	Warm(ctx context.Context) error
}

// warm reads the kept state of every lane whose detectors are Warmers, one lane at a time,
// each under its lane's lock (a check of the lane waits for it, as it would have waited for
// its own read); a failure is logged and the first check reads it instead.
func (r *Runner) warm(ctx context.Context) {
	r.mu.Lock()
	lanes := slices.Clone(r.lanes)
	r.mu.Unlock()
	for _, l := range lanes {
		for _, det := range l.dets {
			w, ok := det.(Warmer)
			if !ok || ctx.Err() != nil {
				continue
			}
			start := time.Now()
			l.run.Lock()
			err := w.Warm(r.prioritise(ctx, true))
			l.run.Unlock()
			if err != nil {
				r.Log.Warn("detectors: warming a check failed; its first check reads its state", "detector", det.Name(), "err", err)
				continue
			}
			r.Log.Debug("detectors: check warmed", "detector", det.Name(), "took", time.Since(start).Round(time.Millisecond))
		}
	}
}
