package main

import (
	"fmt"
	"github.com/voucherwatch/voucherwatch/supervision/workflow"

	"github.com/voucherwatch/voucherwatch"
	"github.com/voucherwatch/voucherwatch/spotcheck"
	"github.com/voucherwatch/voucherwatch/supervision"
)

// wireRegister builds the supplier register's operations and scheduler (supervision.New adds
// its routes). Its prices are read as the price detector reads them: card-months in the
// policy's hours, the market band the policy's factors around the market median.
func (m *Main) wireRegister() error {
	if m.Config.RegisterSchedule != "" {
		if _, err := spotcheck.Parse(m.Config.RegisterSchedule); err != nil {
			return fmt.Errorf("--register-schedule: %w", err)
		}
	}
	if h := m.Config.RegisterOnTimeHours; h < 0 || h > 24*31 {
		return fmt.Errorf("--register-on-time-hours: want 0..744, got %d", h)
	}
	m.RegisterDeps = workflow.Register{
		Store: m.DB,
		Params: voucherwatch.RegisterParams{
			OnTimeHours: m.Config.RegisterOnTimeHours, CardMonthHours: m.Policy.CardMonthHours,
			BandLowFactor: m.Policy.Price.LowFactor, BandHighFactor: m.Policy.Price.HighFactor,
		},
		UsageTopic: m.Config.Topics[voucherwatch.TypeUsage],
	}
	m.Register = &supervision.RegisterScheduler{Deps: m.RegisterDeps, Log: m.Log, Slots: supervision.NewRegisterSlotsMetric(m.Registry)}
	m.RegisterDeps.Schedule = m.Register.Status
	return nil
}
