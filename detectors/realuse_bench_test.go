package detectors

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/voucherwatch/voucherwatch"
	"github.com/voucherwatch/voucherwatch/detectors/detectortest"
	"github.com/voucherwatch/voucherwatch/rules"
)

// BenchmarkRealUse times, on the shared province of seed 1, the sweeps of idle_consumption and
// wash_trade against billed_above_metered's (the usage sweep the engine already ran, on the same
// data), and each detector's check of one changed claim against its sweep. It prints ratios.
func BenchmarkRealUse(b *testing.B) {
	db, p := detectortest.Province(b, 1)
	ctx := context.Background()
	env := Env{DB: db, Policy: rules.Default()}
	idle, wash, billed := NewIdleConsumption(env), NewWashTrade(env), NewBilledAboveMetered(env)
	at := p.Config.End
	claimOf := func(d voucherwatch.Detector) voucherwatch.Changes {
		as, err := d.Run(ctx, at)
		if err != nil || len(as) == 0 {
			b.Fatalf("%s: %d alerts, %v", d.Name(), len(as), err)
		}
		claims, err := db.LatestClaims(ctx, voucherwatch.ClaimQuery{Applicants: []string{as[0].Subjects.ApplicantUSCC}})
		if err != nil || len(claims) == 0 {
			b.Fatalf("%s: no claim of %s: %v", d.Name(), as[0].Subjects.ApplicantUSCC, err)
		}
		return claimChange(claims[0].ClaimID)
	}
	idleChange, washChange := claimOf(idle), claimOf(wash)
	timeIt := func(f func() error) time.Duration {
		start := time.Now()
		if err := f(); err != nil {
			b.Fatal(err)
		}
		return time.Since(start)
	}
	var tBilled, tIdle, tWash, tIdleCheck, tWashCheck time.Duration
	n := 0
	b.Run("province1", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			n++
			tBilled += timeIt(func() error { _, err := billed.Run(ctx, at); return err })
			tIdle += timeIt(func() error { _, err := idle.Run(ctx, at); return err })
			tWash += timeIt(func() error { _, err := wash.Run(ctx, at); return err })
			tIdleCheck += timeIt(func() error { _, err := idle.Check(ctx, at, idleChange); return err })
			tWashCheck += timeIt(func() error { _, err := wash.Check(ctx, at, washChange); return err })
		}
	})
	if n == 0 {
		return
	}
	per := func(d time.Duration) float64 { return d.Seconds() / float64(n) }
	fmt.Printf("real use on province 1 (%d records): billed_above_metered sweep %.3f s; idle_consumption sweep %.3f s (%.2f of it), check of a claim %.3f s (sweep/check = %.1f); wash_trade sweep %.3f s (%.2f of it), check of a claim %.3f s (sweep/check = %.1f)\n",
		len(p.Messages), per(tBilled), per(tIdle), per(tIdle)/per(tBilled), per(tIdleCheck), per(tIdle)/per(tIdleCheck),
		per(tWash), per(tWash)/per(tBilled), per(tWashCheck), per(tWash)/per(tWashCheck))
}
