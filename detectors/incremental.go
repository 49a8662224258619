package detectors

import (
	"context"
	"fmt"
	"runtime/debug"
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
}

// StoreRecords stores the records, then reports them when some were new.
func (s NotifyingStore) StoreRecords(ctx context.Context, typ voucherwatch.RecordType, recs []voucherwatch.Record) (voucherwatch.WriteResult, error) {
	res, err := s.RecordStore.StoreRecords(ctx, typ, recs)
	if err == nil && res.Stored > 0 && s.Changed != nil {
		s.Changed(recs)
	}
	return res, err
}

// Changed records the subjects of newly stored records for the next incremental check, which
// starts CheckDelay later (so that the batches of one burst are checked together).
func (r *Runner) Changed(recs []voucherwatch.Record) {
	var ch voucherwatch.Changes
	ch.Add(recs)
	if ch.Subjects() == 0 {
		return // usage: full sweeps read it through the rollups
	}
	r.mu.Lock()
	r.pending.Merge(ch)
	r.mu.Unlock()
	select {
	case r.changedKick <- struct{}{}:
	default:
	}
}

// takePending returns the subjects changed since the last check and forgets them.
func (r *Runner) takePending() voucherwatch.Changes {
	r.mu.Lock()
	defer r.mu.Unlock()
	ch := r.pending
	r.pending = voucherwatch.Changes{}
	return ch
}

// CheckChanged runs the incremental check of every detector that has one, for the changed
// subjects, and stores the alerts. Checks run one at a time, beside a full run if one is going;
// the alerts of both are stored one run at a time. A failing check is logged and counted; the
// next full run covers what it missed.
func (r *Runner) CheckChanged(ctx context.Context, at time.Time, changed voucherwatch.Changes) []Summary {
	r.checkMu.Lock()
	defer r.checkMu.Unlock()
	r.mu.Lock()
	ds := append([]voucherwatch.Detector(nil), r.detectors...)
	r.mu.Unlock()
	var out []Summary
	for _, d := range ds {
		inc, ok := d.(voucherwatch.IncrementalDetector)
		if !ok {
			continue
		}
		name := d.Name()
		start := time.Now()
		alerts, err := r.check(ctx, inc, at, changed)
		var res voucherwatch.UpsertResult
		if err == nil && len(alerts) > 0 {
			for i := range alerts {
				if alerts[i].Detector == "" {
					alerts[i].Detector = name
				}
			}
			res, err = r.upsert(ctx, alerts, at)
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

// upsert stores alerts, one run or check at a time: a check may run beside a full run, and
// both may store the same finding.
func (r *Runner) upsert(ctx context.Context, alerts []voucherwatch.Alert, at time.Time) (voucherwatch.UpsertResult, error) {
	r.upsertMu.Lock()
	defer r.upsertMu.Unlock()
	if r.Stake != nil {
		if err := r.Stake(ctx, alerts, at); err != nil {
			r.Log.Warn("money at stake not computed", "err", err)
		}
	}
	return r.Alerts.UpsertAlerts(ctx, alerts, at)
}

// checkLoop runs the incremental checks after changes until ctx ends.
func (r *Runner) checkLoop(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-r.changedKick:
		}
		if r.CheckDelay > 0 {
			t := time.NewTimer(r.CheckDelay)
			select {
			case <-ctx.Done():
				t.Stop()
				return
			case <-t.C:
			}
		}
		if ch := r.takePending(); ch.Subjects() > 0 {
			r.CheckChanged(ctx, r.Now(), ch)
		}
	}
}

// sweepAfterIngest runs every detector after an ingest trigger, but never sooner after the
// previous one than keeps full runs to SweepShare of the time: after a run of d, the next waits
// d × (1/SweepShare − 1). Incremental checks meanwhile keep alerts on new records current.
func (r *Runner) sweepAfterIngest(ctx context.Context) {
	r.mu.Lock()
	wait := time.Until(r.lastSweepEnd.Add(sweepGap(r.lastSweepTook, r.SweepShare)))
	r.mu.Unlock()
	if wait > 0 {
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
	}
	start := time.Now()
	r.runAllRecovered(ctx)
	r.mu.Lock()
	r.lastSweepEnd, r.lastSweepTook = time.Now(), time.Since(start)
	r.mu.Unlock()
}

// sweepGap is the rest after a full run of took that keeps full runs to share of the time.
func sweepGap(took time.Duration, share float64) time.Duration {
	if share <= 0 || share >= 1 {
		return 0
	}
	return time.Duration(float64(took) * (1/share - 1))
}
