package detectors

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/voucherwatch/voucherwatch"
	"github.com/voucherwatch/voucherwatch/detectors/detectortest"
	"github.com/voucherwatch/voucherwatch/rules"
)

// BenchmarkIncrementalProvince compares, on the default province (1x) and one ten times its
// size (10x; VW_BENCH_SIZES=1 for 1x only), what serve did after every ingest batch, a full run
// of every detector, with what it does now: the incremental check of the records the batch
// stored. Two changes are timed: a claim that re-uses an invoice another applicant already
// claimed (the alert is stored when the check returns), and a new version of a contract
// (related_party and price_out_of_range check its pair and chip). It prints the ratios.
func BenchmarkIncrementalProvince(b *testing.B) {
	for _, k := range benchSizes(b) {
		name := fmt.Sprintf("%dx", k)
		bp := loadBenchProvince(b, name, k)
		ctx := context.Background()
		r := NewRunner(bp.db, nil, nil)
		r.Register(All(Env{DB: bp.db, Policy: rules.Default()})...)
		r.RunAll(ctx, bp.at) // a steady engine: the alerts of the history are known

		claims, err := bp.db.LatestClaims(ctx, voucherwatch.ClaimQuery{All: true})
		if err != nil {
			b.Fatal(err)
		}
		victim, other := reusablePair(claims)
		contracts, err := bp.db.LatestContracts(ctx, voucherwatch.ContractQuery{All: true})
		if err != nil || victim == nil || other == nil || len(contracts) == 0 {
			b.Fatalf("province without claims or contracts to copy: %v", err)
		}

		var full, claimCheck, contractCheck time.Duration
		var lastClaim, lastContract []Summary
		n := 0
		b.Run(name, func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				n++
				start := time.Now()
				r.RunAll(ctx, bp.at)
				full += time.Since(start)

				// A claim of another applicant citing the victim's first invoice.
				reuse := invoiceReuse(victim, other, fmt.Sprintf("bench-claim-%s-%d", name, n), fmt.Sprintf("BENCH-REUSE-%d", n), bp.at)
				detectortest.Store(b, bp.db, reuse)
				var ch voucherwatch.Changes
				ch.Add([]voucherwatch.Record{reuse})
				start = time.Now()
				sums := r.CheckChanged(ctx, bp.at, ch)
				claimCheck += time.Since(start)
				lastClaim = sums
				if !alerted(sums, voucherwatch.DetectorDuplicateClaim) {
					b.Fatalf("%s: no duplicate_claim alert from the check: %+v", name, sums)
				}

				// A new version of a contract.
				c := contracts[(n*7919)%len(contracts)]
				again := voucherwatch.Record{Envelope: voucherwatch.Envelope{Source: c.Source, ID: fmt.Sprintf("bench-contract-%s-%d", name, n),
					Type: voucherwatch.TypeContract, Time: c.Time.Add(time.Second)}, Contract: &c.Contract}
				detectortest.Store(b, bp.db, again)
				ch = voucherwatch.Changes{}
				ch.Add([]voucherwatch.Record{again})
				start = time.Now()
				lastContract = r.CheckChanged(ctx, bp.at, ch)
				contractCheck += time.Since(start)
			}
		})
		if n == 0 {
			continue
		}
		f, cl, co := full.Seconds()/float64(n), claimCheck.Seconds()/float64(n), contractCheck.Seconds()/float64(n)
		fmt.Printf("detection after a batch, %s province (%d records): full run %.3f s; check of a new claim %.3f s (full/check = %.0f); check of a new contract %.3f s (full/check = %.0f)\n",
			name, bp.records, f, cl, f/cl, co, f/co)
		fmt.Printf("  last checks by detector: claim %s; contract %s\n", checkTimes(lastClaim), checkTimes(lastContract))
	}
}

func alerted(sums []Summary, detector string) bool {
	for _, s := range sums {
		if s.Detector == detector && s.Alerts > 0 && s.Error == "" {
			return true
		}
	}
	return false
}

func checkTimes(sums []Summary) string {
	var parts []string
	for _, s := range sums {
		parts = append(parts, fmt.Sprintf("%s %.3f s", s.Detector, s.Seconds))
	}
	return strings.Join(parts, ", ")
}
