// Package detectors turns stored records into alerts. Each detector is one file with one job;
// the Runner evaluates them on a schedule, on demand, and shortly after ingest touched their
// inputs.
package detectors

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime/debug"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/robfig/cron/v3"

	"github.com/voucherwatch/voucherwatch"
)

// The runner's health and run summaries are domain types, so that the API can serve them
// without importing this package.
type (
	// State is a detector's health.
	State = voucherwatch.DetectorState
	// Health is what the UI and /metrics show about one detector.
	Health = voucherwatch.DetectorHealth
	// Summary is one detector's part of a run.
	Summary = voucherwatch.DetectorRun
)

// Detector health states.
const (
	StateUnknown = voucherwatch.DetectorStateUnknown // not run yet
	StateOK      = voucherwatch.DetectorStateOK
	StateFailing = voucherwatch.DetectorStateFailing
)

// Runner evaluates the registered detectors and stores their alerts. One run at a time: runs
// asked for while one is going wait for it.
type Runner struct {
	Alerts   voucherwatch.AlertStore
	Log      *slog.Logger
	Debounce time.Duration // quiet time after an ingest trigger before running (default 2 s)
	Now      func() time.Time
	// CheckDelay is the wait after a change before the incremental check, so that the batches
	// of a burst are checked together (default 200 ms).
	CheckDelay time.Duration
	// CheckMost is the most subjects one check takes (default 256). A larger change (a bulk
	// load), or more changes pending at once, is left to a full run, which it triggers: a
	// check's cost is mostly fixed (its keyed look-ups), so checking hundreds of subjects costs
	// more than a run, and would hold up the checks of the claims that follow.
	CheckMost int
	// CheckWorkers is how many incremental checks run at once, each of another detector
	// (default DefaultCheckWorkers). Set before Start.
	CheckWorkers int
	// LaneWait is how long a detector's changes may wait for the lanes before it in
	// registration order (default 1 s): past it, the workers take the lane waiting longest.
	LaneWait time.Duration
	// LanePace is the least time between the starts of one lane's checks (default 1 s; 0: no
	// pacing). A check's cost is mostly its keyed look-ups, whatever the number of subjects, so
	// claims arriving every half second (bench live's probes, a round's last day) are checked
	// two at a time instead of one by one, at about half the database's work; a claim after a
	// quiet spell is checked at once, and a lane whose checks take longer than the pace is
	// never held.
	LanePace time.Duration
	// SweepShare is the largest share of the time that full runs after ingest triggers take
	// (default 0.2; 0 or 1: no limit). Scheduled and requested runs are not limited.
	SweepShare float64
	// Stake sets the money at stake of a run's alerts before they are stored (Staker.Annotate);
	// nil leaves it zero. A failure is logged and the alerts are stored without it.
	Stake func(ctx context.Context, alerts []voucherwatch.Alert, at time.Time) error
	// UpsertChunk is the most alerts of a full run stored under the alert lock at once
	// (default 500): a check's alerts wait for one chunk at most.
	UpsertChunk int
	// Prioritise, when set, marks the context of a full run's queries (check false) and of a
	// check's (check true), so that the database runs a check's queries first: the wiring
	// sets ClickHouse's per-query priority (store.WithQueryPriority).
	Prioritise func(ctx context.Context, check bool) context.Context

	detectors []voucherwatch.Detector
	runMu     sync.Mutex  // serialises runs
	running   atomic.Bool // a full run is under way (the checks' log says so)

	mu     sync.Mutex
	health map[string]*Health
	missed int
	kick   chan struct{}

	lanes         []*checkLane // one per incremental detector, in registration order
	changedKick   chan struct{}
	alertLock     alertLock // serialises storing alerts, checks first
	lastSweepEnd  time.Time
	lastSweepTook time.Duration
	busyUntil     time.Time               // ingest has a backlog until then (TriggerBusy)
	yieldSweep    context.CancelCauseFunc // stops the triggered full run under way

	runs     *prometheus.CounterVec
	failures *prometheus.CounterVec
	duration *prometheus.HistogramVec
	missedC  prometheus.Counter

	checks        *prometheus.CounterVec
	checkFailures *prometheus.CounterVec
	checkDuration *prometheus.HistogramVec
	bulkChanges   prometheus.Counter
}

// NewRunner builds a runner that stores alerts in st and registers its metrics with reg
// (nil: unregistered).
func NewRunner(st voucherwatch.AlertStore, reg prometheus.Registerer, log *slog.Logger) *Runner {
	if log == nil {
		log = slog.Default()
	}
	r := &Runner{
		Alerts: st, Log: log, Debounce: 2 * time.Second, Now: time.Now,
		CheckDelay: 200 * time.Millisecond, CheckMost: 256, LaneWait: time.Second, LanePace: DefaultLanePace, SweepShare: 0.2, UpsertChunk: 500,
		health: map[string]*Health{}, kick: make(chan struct{}, 1), changedKick: make(chan struct{}, 64),
		runs: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "vw_detector_runs_total", Help: "Detector runs, per detector.",
		}, []string{"detector"}),
		failures: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "vw_detector_failures_total", Help: "Detector runs that failed, per detector.",
		}, []string{"detector"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "vw_detector_duration_seconds", Help: "Time of one detector run.",
			Buckets: prometheus.ExponentialBuckets(0.01, 3, 9),
		}, []string{"detector"}),
		missedC: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "vw_detector_missed_slots_total", Help: "Scheduled runs skipped because the previous run was still going.",
		}),
		checks: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "vw_detector_checks_total", Help: "Incremental checks of changed records, per detector.",
		}, []string{"detector"}),
		bulkChanges: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "vw_detector_bulk_changes_total", Help: "Changes of more subjects than one check takes, left to a full run.",
		}),
		checkFailures: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "vw_detector_check_failures_total", Help: "Incremental checks that failed, per detector.",
		}, []string{"detector"}),
		checkDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "vw_detector_check_duration_seconds", Help: "Time of one incremental check.",
			Buckets: prometheus.ExponentialBuckets(0.01, 3, 9),
		}, []string{"detector"}),
	}
	if reg != nil {
		reg.MustRegister(r.runs, r.failures, r.duration, r.missedC, r.checks, r.checkFailures, r.checkDuration, r.bulkChanges)
	}
	return r
}

// Register adds detectors. Call before Start.
func (r *Runner) Register(ds ...voucherwatch.Detector) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, d := range ds {
		r.detectors = append(r.detectors, d)
		r.health[d.Name()] = &Health{Detector: d.Name()}
		inc, ok := d.(voucherwatch.IncrementalDetector)
		if !ok {
			continue
		}
		var shared string
		if sh, ok := d.(LaneSharer); ok {
			shared = sh.CheckLane()
		}
		if i := slices.IndexFunc(r.lanes, func(l *checkLane) bool { return shared != "" && l.shared == shared }); i >= 0 {
			r.lanes[i].dets = append(r.lanes[i].dets, inc)
			continue
		}
		r.lanes = append(r.lanes, &checkLane{dets: []voucherwatch.IncrementalDetector{inc}, shared: shared})
	}
}

// workers is CheckWorkers, or its default.
func (r *Runner) workers() int {
	if r.CheckWorkers > 0 {
		return min(r.CheckWorkers, cap(r.changedKick))
	}
	return DefaultCheckWorkers
}

// Detectors returns the registered detectors' names, in order.
func (r *Runner) Detectors() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	names := make([]string, len(r.detectors))
	for i, d := range r.detectors {
		names[i] = d.Name()
	}
	return names
}

// RunAll runs every detector as of at and stores the alerts. A failing detector does not stop
// the others; its error is in its summary and its health.
func (r *Runner) RunAll(ctx context.Context, at time.Time) []Summary {
	r.runMu.Lock()
	defer r.runMu.Unlock()
	r.running.Store(true)
	defer r.running.Store(false)
	ctx = r.prioritise(ctx, false)
	r.mu.Lock()
	ds := append([]voucherwatch.Detector(nil), r.detectors...)
	r.mu.Unlock()
	start := time.Now()
	out := make([]Summary, 0, len(ds))
	for _, d := range ds {
		if yielded(ctx) {
			break
		}
		out = append(out, r.runOne(ctx, d, at))
	}
	r.Log.Debug("detectors: full run", "took", time.Since(start).Round(time.Millisecond), "yielded", yielded(ctx))
	return out
}

// prioritise marks ctx for a full run's or a check's queries (Prioritise).
func (r *Runner) prioritise(ctx context.Context, check bool) context.Context {
	if r.Prioritise == nil {
		return ctx
	}
	return r.Prioritise(ctx, check)
}

// errYielded ends a triggered full run when ingest gets a backlog (TriggerBusy): the run is
// not finished, not failed; it runs again once the backlog is gone.
var errYielded = errors.New("detectors: full run yielded to ingest")

func yielded(ctx context.Context) bool { return errors.Is(context.Cause(ctx), errYielded) }

func (r *Runner) runOne(ctx context.Context, d voucherwatch.Detector, at time.Time) Summary {
	name := d.Name()
	start := time.Now()
	alerts, res, err := r.evaluate(ctx, d, at)
	took := time.Since(start)
	if err != nil && yielded(ctx) {
		// Neither a run nor a failure: the detector's health stays as it was.
		return Summary{Detector: name, Error: errYielded.Error(), Seconds: took.Seconds()}
	}
	r.runs.WithLabelValues(name).Inc()
	r.duration.WithLabelValues(name).Observe(took.Seconds())
	s := Summary{Detector: name, Alerts: len(alerts), New: res.New, Updated: res.Updated, Seconds: took.Seconds()}

	r.mu.Lock()
	defer r.mu.Unlock()
	h := r.health[name]
	h.LastRun, h.LastDuration = at, took
	if err != nil {
		r.failures.WithLabelValues(name).Inc()
		h.State, h.LastError = StateFailing, err.Error()
		s.Error = err.Error()
		var pe *panicError
		if errors.As(err, &pe) {
			r.Log.Error("detector failed", "detector", name, "err", err, "stack", string(pe.stack))
		} else {
			r.Log.Error("detector failed", "detector", name, "err", err)
		}
	} else {
		h.State, h.LastError, h.LastResult, h.Alerts = StateOK, "", res, len(alerts)
	}
	return s
}

// evaluate runs one detector and stores its alerts. A panic in the detector (or below it) is
// turned into an error, so a scheduled run cannot take the process down and the detectors
// after it still run.
func (r *Runner) evaluate(ctx context.Context, d voucherwatch.Detector, at time.Time) (alerts []voucherwatch.Alert, res voucherwatch.UpsertResult, err error) {
	defer func() {
		if p := recover(); p != nil {
			alerts, res, err = nil, voucherwatch.UpsertResult{}, &panicError{value: p, stack: debug.Stack()}
		}
	}()
	ctx = voucherwatch.WithQueryLabel(ctx, "run:"+d.Name())
	alerts, err = d.Run(ctx, at)
	if err != nil {
		return alerts, res, err
	}
	for i := range alerts {
		if alerts[i].Detector == "" {
			alerts[i].Detector = d.Name()
		}
	}
	res, err = r.upsert(ctx, alerts, at)
	return alerts, res, err
}

// panicError is a detector run that panicked; the stack goes to the log, not to the health
// that the UI shows.
type panicError struct {
	value any
	stack []byte
}

func (e *panicError) Error() string { return fmt.Sprintf("detectors: panic: %v", e.value) }

// runAllRecovered is RunAll for the background paths (cron, debounce): whatever escapes a
// run is logged and the loop goes on.
func (r *Runner) runAllRecovered(ctx context.Context) {
	defer func() {
		if p := recover(); p != nil {
			r.Log.Error("detectors: run panicked", "panic", fmt.Sprint(p), "stack", string(debug.Stack()))
		}
	}()
	r.RunAll(ctx, r.Now())
}

// Health returns every detector's health and the count of missed schedule slots.
func (r *Runner) Health() ([]Health, int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]Health, 0, len(r.detectors))
	for _, d := range r.detectors {
		out = append(out, *r.health[d.Name()])
	}
	return out, r.missed
}

// Trigger asks for a run soon: after Debounce without further triggers. Ingest calls it after
// each batch that stored records; a burst of batches leads to one run.
func (r *Runner) Trigger() {
	select {
	case r.kick <- struct{}{}:
	default:
	}
}

// TriggerBusy is Trigger after a batch that says whether ingest has a backlog (a batch near
// the batch size: the consumer is catching up, not following a trickle). While batches keep
// coming so, triggered full runs wait until five Debounce periods after the last of them, and a triggered
// run under way stops (its detectors not yet done run with the next one), so that they never
// hold a catching-up ingest back; the incremental checks of new records go on, and scheduled
// and requested runs are not held.
func (r *Runner) TriggerBusy(backlog bool) {
	if backlog {
		r.mu.Lock()
		r.busyUntil = time.Now().Add(busyHold(r.Debounce))
		yield := r.yieldSweep
		r.mu.Unlock()
		if yield != nil {
			yield(errYielded)
		}
	}
	r.Trigger()
}

// busyHold is how long after a backlog's batch triggered runs still wait: five debounce
// periods (10 s by default), so that a batch stored late under load does not let a run start
// between two batches of the same backlog.
func busyHold(debounce time.Duration) time.Duration { return 5 * max(debounce, 200*time.Millisecond) }

// Start runs the detectors on the cron schedule spec (robfig/cron, with seconds optional:
// "@every 10m", "0 */15 * * * *") and after triggers, until ctx ends.
func (r *Runner) Start(ctx context.Context, spec string) error {
	parser := cron.NewParser(cron.SecondOptional | cron.Minute | cron.Hour | cron.Dom | cron.Month | cron.Dow | cron.Descriptor)
	sched, err := parser.Parse(spec)
	if err != nil {
		return fmt.Errorf("detectors: schedule %q: %w", spec, err)
	}
	c := cron.New(cron.WithParser(parser))
	c.Schedule(sched, cron.FuncJob(func() {
		if !r.runMu.TryLock() {
			r.mu.Lock()
			r.missed++
			r.mu.Unlock()
			r.missedC.Inc()
			r.Log.Warn("detectors: scheduled run skipped, the previous run is still going")
			return
		}
		r.runMu.Unlock()
		r.runAllRecovered(ctx)
	}))
	c.Start()
	go func() {
		<-ctx.Done()
		<-c.Stop().Done()
	}()
	go r.debounceLoop(ctx)
	go r.warm(ctx)
	for range r.workers() {
		go r.checkWorker(ctx)
	}
	return nil
}

func (r *Runner) debounceLoop(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-r.kick:
		}
		// Wait for quiet, but never longer than 5 debounce periods under a steady stream.
		deadline := time.NewTimer(5 * r.Debounce)
		quiet := time.NewTimer(r.Debounce)
	wait:
		for {
			select {
			case <-ctx.Done():
				deadline.Stop()
				quiet.Stop()
				return
			case <-r.kick:
				quiet.Reset(r.Debounce)
			case <-quiet.C:
				break wait
			case <-deadline.C:
				break wait
			}
		}
		deadline.Stop()
		quiet.Stop()
		r.sweepAfterIngest(ctx)
	}
}
