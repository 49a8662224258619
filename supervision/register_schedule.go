package supervision

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/robfig/cron/v3"

	"github.com/voucherwatch/voucherwatch"
	"github.com/voucherwatch/voucherwatch/supervision/spotcheck"
)

// RegisterScheduler makes the register's editions on a cron schedule, the way the spot-check
// scheduler draws (spotcheck.Scheduler): several engine instances run one each, and a slot's
// edition is made once cluster-wide because every instance computes the same id for it
// (RegisterSlotID) and the store refuses a known id. The schedule is parsed, aligned and
// caught up with the spot-check scheduler's own functions (spotcheck.Parse, SlotOf,
// LastSlot), so the two behave alike. An edition covers the month before its slot.
type RegisterScheduler struct {
	Deps RegisterDeps
	Log  *slog.Logger
	Now  func() time.Time
	// Slots counts the scheduled slots by outcome (NewRegisterSlotsMetric); nil counts nothing.
	Slots *prometheus.CounterVec

	mu     sync.Mutex
	status spotcheck.SchedulerStatus
}

// RegisterSlotID is the id of the scheduled edition of a slot, the same on every instance.
func RegisterSlotID(slot time.Time) string {
	return "rg-" + slot.In(voucherwatch.CST).Format("20060102-1504")
}

// NewRegisterSlotsMetric is vw_register_slots_total (results as vw_spotcheck_slots_total's),
// registered with reg when reg is not nil.
func NewRegisterSlotsMetric(reg prometheus.Registerer) *prometheus.CounterVec {
	c := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "vw_register_slots_total",
		Help: "Scheduled supplier-register slots this instance handled, by outcome.",
	}, []string{"result"})
	for _, r := range []string{spotcheck.SlotRecorded, spotcheck.SlotDrawnElsewhere, spotcheck.SlotNothingToDraw, spotcheck.SlotFailed} {
		c.WithLabelValues(r)
	}
	if reg != nil {
		reg.MustRegister(c)
	}
	return c
}

// Status reports the schedule's state.
func (s *RegisterScheduler) Status() spotcheck.SchedulerStatus {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.status
}

func (s *RegisterScheduler) now() time.Time {
	if s.Now == nil {
		return time.Now()
	}
	return s.Now()
}

// Start makes editions on the schedule spec until ctx ends, after making up for the latest
// slot if no instance made it.
func (s *RegisterScheduler) Start(ctx context.Context, spec string) error {
	sched, err := spotcheck.Parse(spec)
	if err != nil {
		return err
	}
	s.mu.Lock()
	s.status.Schedule, s.status.Next = spec, sched.Next(s.now())
	s.mu.Unlock()
	c := cron.New()
	c.Schedule(sched, cron.FuncJob(func() {
		_, _ = s.RunSlot(ctx, spotcheck.SlotOf(sched, s.now()))
		s.mu.Lock()
		s.status.Next = sched.Next(s.now())
		s.mu.Unlock()
	}))
	c.Start()
	go func() {
		<-ctx.Done()
		<-c.Stop().Done()
	}()
	if last, ok := spotcheck.LastSlot(sched, s.now()); ok {
		go func() { _, _ = s.RunSlot(ctx, last) }()
	}
	return nil
}

// RunSlot makes the scheduled edition of slot (the month before it) unless another instance
// made it already.
func (s *RegisterScheduler) RunSlot(ctx context.Context, slot time.Time) (voucherwatch.RegisterEdition, error) {
	log := s.Log
	if log == nil {
		log = slog.Default()
	}
	id := RegisterSlotID(slot)
	e, err := s.Deps.MakeEdition(ctx, EditionRun{
		ID: id, Period: voucherwatch.PreviousPeriod(slot), Trigger: voucherwatch.RegisterScheduled, By: "engine", At: s.now(), SkipEmpty: true,
	})
	result := spotcheck.SlotRecorded
	s.mu.Lock()
	defer s.mu.Unlock()
	s.status.LastSlot, s.status.LastID, s.status.LastError, s.status.DrawnHere = slot, id, "", err == nil
	switch {
	case err == nil:
		log.Info("register: scheduled edition recorded", "id", id, "period", e.Period, "suppliers", len(e.Suppliers))
	case voucherwatch.ErrorCode(err) == voucherwatch.ECONFLICT:
		result, err = spotcheck.SlotDrawnElsewhere, nil
		log.Info("register: the slot's edition was made by another instance", "id", id)
	case errors.Is(err, errNoSuppliers):
		result, err = spotcheck.SlotNothingToDraw, nil
		s.status.DrawnHere = false
		log.Info("register: no suppliers yet, no edition", "id", id)
	default:
		result = spotcheck.SlotFailed
		s.status.LastError = err.Error()
		s.status.Failed++
		log.Error("register: scheduled edition failed", "id", id, "err", err)
	}
	if s.Slots != nil {
		s.Slots.WithLabelValues(result).Inc()
	}
	return e, err
}
