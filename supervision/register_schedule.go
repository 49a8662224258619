package supervision

import (
	"context"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/voucherwatch/voucherwatch"
	"github.com/voucherwatch/voucherwatch/spotcheck"
	"github.com/voucherwatch/voucherwatch/supervision/workflow"
)

// RegisterScheduler makes the register's editions on a cron schedule, the way the spot-check
// scheduler draws (spotcheck.Scheduler): several engine instances run one each, and a slot's
// edition is made once cluster-wide because every instance computes the same id for it
// (RegisterSlotID) and the store refuses a known id. The schedule is run, caught up and its
// outcomes counted by the spot-check scheduler's own runner (spotcheck.Slots), so the two
// behave alike. An edition covers the month before its slot.
type RegisterScheduler struct {
	Deps workflow.Register
	Log  *slog.Logger
	Now  func() time.Time
	// Slots counts the scheduled slots by outcome (NewRegisterSlotsMetric); nil counts nothing.
	Slots *prometheus.CounterVec

	runner spotcheck.Slots
}

// RegisterSlotID is the id of the scheduled edition of a slot, the same on every instance.
func RegisterSlotID(slot time.Time) string {
	return "rg-" + slot.In(voucherwatch.CST).Format("20060102-1504")
}

// NewRegisterSlotsMetric is vw_register_slots_total (results as vw_spotcheck_slots_total's),
// registered with reg when reg is not nil.
func NewRegisterSlotsMetric(reg prometheus.Registerer) *prometheus.CounterVec {
	return spotcheck.NewSlotsMetric(reg, "vw_register_slots_total", "Scheduled supplier-register slots this instance handled, by outcome.")
}

// Status reports the schedule's state.
func (s *RegisterScheduler) Status() spotcheck.SchedulerStatus { return s.runner.Status() }

func (s *RegisterScheduler) now() time.Time {
	if s.Now == nil {
		return time.Now()
	}
	return s.Now()
}

// Start makes editions on the schedule spec until ctx ends, after making up for the latest
// slot if no instance made it (spotcheck.Slots.Start).
func (s *RegisterScheduler) Start(ctx context.Context, spec string) error {
	return s.runner.Start(ctx, spec, s.now, func(ctx context.Context, slot time.Time) { _, _ = s.RunSlot(ctx, slot) })
}

// RunSlot makes the scheduled edition of slot (the month before it) unless another instance
// made it already.
func (s *RegisterScheduler) RunSlot(ctx context.Context, slot time.Time) (voucherwatch.RegisterEdition, error) {
	id := RegisterSlotID(slot)
	e, err := s.Deps.MakeEdition(ctx, workflow.EditionRun{
		ID: id, Period: voucherwatch.PreviousPeriod(slot), Trigger: voucherwatch.RegisterScheduled, By: "engine", At: s.now(), SkipEmpty: true,
	})
	err = s.runner.Settle(spotcheck.SlotRun{
		Slot: slot, ID: id, Err: err, Nothing: workflow.ErrNoSuppliers, Log: s.Log, Count: s.Slots,
		Messages: spotcheck.SlotMessages{
			Recorded:  "register: scheduled edition recorded",
			Elsewhere: "register: the slot's edition was made by another instance",
			Nothing:   "register: no suppliers yet, no edition",
			Failed:    "register: scheduled edition failed",
		},
		RecordedAttrs: []any{"period", e.Period, "suppliers", len(e.Suppliers)},
	})
	return e, err
}
