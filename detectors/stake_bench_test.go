package detectors

import (
	"context"
	"testing"
	"time"

	"github.com/voucherwatch/voucherwatch"
	"github.com/voucherwatch/voucherwatch/detectors/detectortest"
	"github.com/voucherwatch/voucherwatch/rules"
	"github.com/voucherwatch/voucherwatch/synth"
)

// BenchmarkStakeOverhead measures what money at stake adds to a full run of every detector on
// the demo province: each iteration runs every detector (the baseline) and then annotates the
// alerts with a staker that reads its facts afresh, as a full run does. It reports
// stake/run, the staker's time as a share of the detectors' time in the same iteration.
func BenchmarkStakeOverhead(b *testing.B) {
	db, p := detectortest.Province(b, synth.DemoSeed)
	env := Env{DB: db, Policy: rules.Default()}
	ctx := context.Background()
	var runs, stakes time.Duration
	for i := 0; i < b.N; i++ {
		start := time.Now()
		var all []voucherwatch.Alert
		for _, d := range All(env) {
			alerts, err := d.Run(ctx, p.Config.End)
			if err != nil {
				b.Fatal(err)
			}
			all = append(all, alerts...)
		}
		mid := time.Now()
		if err := NewStaker(env).Annotate(ctx, all, p.Config.End); err != nil {
			b.Fatal(err)
		}
		runs += mid.Sub(start)
		stakes += time.Since(mid)
	}
	b.ReportMetric(float64(stakes)/float64(runs), "stake/run")
}
