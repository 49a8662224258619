package spotcheck

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/robfig/cron/v3"

	"github.com/voucherwatch/voucherwatch"
)

// Slots runs a job once per slot of a calendar schedule across engine instances and keeps the
// schedule's state: the spot-check draws (Scheduler) and the register's editions
// (supervision.RegisterScheduler) both run on it. The job makes its record under an id every
// instance computes alike for the slot, so a store that refuses a known id (ECONFLICT) means
// another instance did the slot. The zero value is ready to use.
type Slots struct {
	mu     sync.Mutex
	status SchedulerStatus
}

// Status reports the schedule's state.
func (s *Slots) Status() SchedulerStatus {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.status
}

// Start runs run on each slot of the schedule spec until ctx ends, after making up for the
// latest slot if it was missed: a slot missed while no instance was running (a deployment at
// 03:00 on the 1st) is run at start, from the inputs as they are now; an instance that finds
// it done already only logs so. A policy of monthly checks should not depend on uptime.
func (s *Slots) Start(ctx context.Context, spec string, now func() time.Time, run func(ctx context.Context, slot time.Time)) error {
	sched, err := Parse(spec)
	if err != nil {
		return err
	}
	s.mu.Lock()
	s.status.Schedule, s.status.Next = spec, sched.Next(now())
	s.mu.Unlock()
	c := cron.New()
	c.Schedule(sched, cron.FuncJob(func() {
		run(ctx, SlotOf(sched, now()))
		s.mu.Lock()
		s.status.Next = sched.Next(now())
		s.mu.Unlock()
	}))
	c.Start()
	go func() {
		<-ctx.Done()
		<-c.Stop().Done()
	}()
	if last, ok := LastSlot(sched, now()); ok {
		go run(ctx, last)
	}
	return nil
}

// SlotRun is how one slot's job went, for Settle.
type SlotRun struct {
	Slot time.Time
	ID   string // the record's id, the same on every instance
	Err  error  // the job's error
	// Nothing is the job's error for "no inputs yet, nothing to record" (errors.Is).
	Nothing error
	Log     *slog.Logger           // nil: slog.Default()
	Count   *prometheus.CounterVec // by outcome (NewSlotsMetric); nil counts nothing
	// Messages are logged for the outcomes, Recorded's with the attributes RecordedAttrs.
	Messages      SlotMessages
	RecordedAttrs []any
}

// SlotMessages are the log messages of a slot's outcomes.
type SlotMessages struct{ Recorded, Elsewhere, Nothing, Failed string }

// Settle records how the slot's job went in the status, the log and the counter; it returns
// the job's error, nil when another instance did the slot or there was nothing to do.
func (s *Slots) Settle(r SlotRun) error {
	log := r.Log
	if log == nil {
		log = slog.Default()
	}
	err := r.Err
	result := SlotRecorded
	s.mu.Lock()
	defer s.mu.Unlock()
	s.status.LastSlot, s.status.LastID, s.status.LastError, s.status.DrawnHere = r.Slot, r.ID, "", err == nil
	switch {
	case err == nil:
		log.Info(r.Messages.Recorded, append([]any{"id", r.ID}, r.RecordedAttrs...)...)
	case voucherwatch.ErrorCode(err) == voucherwatch.ECONFLICT:
		result, err = SlotDrawnElsewhere, nil
		log.Info(r.Messages.Elsewhere, "id", r.ID)
	case r.Nothing != nil && errors.Is(err, r.Nothing):
		result, err = SlotNothingToDraw, nil
		s.status.DrawnHere = false
		log.Info(r.Messages.Nothing, "id", r.ID)
	default:
		result = SlotFailed
		s.status.LastError = err.Error()
		s.status.Failed++
		log.Error(r.Messages.Failed, "id", r.ID, "err", err)
	}
	if r.Count != nil {
		r.Count.WithLabelValues(result).Inc()
	}
	return err
}

// NewSlotsMetric is a counter of scheduled slots by outcome (the Slot* results), each present
// at 0 so that increase() sees the first failure, registered with reg when reg is not nil.
func NewSlotsMetric(reg prometheus.Registerer, name, help string) *prometheus.CounterVec {
	c := prometheus.NewCounterVec(prometheus.CounterOpts{Name: name, Help: help}, []string{"result"})
	for _, r := range []string{SlotRecorded, SlotDrawnElsewhere, SlotNothingToDraw, SlotFailed} {
		c.WithLabelValues(r)
	}
	if reg != nil {
		reg.MustRegister(c)
	}
	return c
}
