package detectors

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/voucherwatch/voucherwatch"
	"github.com/voucherwatch/voucherwatch/rules"
)

// BenchmarkClaimRulesCheck times each claim rule's incremental check of one changed claim
// against its full run on the same province in the same run, on provinces of the sizes
// benchSizes gives (1x and 10x, or VW_BENCH_SIZES). It prints check time / full-run time: the
// check reads one applicant's claims and their settlements by key, so the ratio should fall as
// the province grows (the registry and the cities are still read whole).
func BenchmarkClaimRulesCheck(b *testing.B) {
	for _, k := range benchSizes(b) {
		name := fmt.Sprintf("%dx", k)
		bp := loadBenchProvince(b, name, k)
		ctx := context.Background()
		env := Env{DB: bp.db, Policy: rules.Default()}
		claims, err := bp.db.LatestClaims(ctx, voucherwatch.ClaimQuery{All: true})
		if err != nil || len(claims) == 0 {
			b.Fatalf("%s: claims: %d, %v", name, len(claims), err)
		}
		ch := claimChange(claims[len(claims)/2].ClaimID)
		for _, d := range []voucherwatch.IncrementalDetector{NewPolicyWindow(env), NewNonSubsidisableItem(env), NewRequestedOverLimit(env), NewInvoiceMismatch(env)} {
			if _, err := d.Run(ctx, bp.at); err != nil { // warm the caches once
				b.Fatal(err)
			}
			var full, check time.Duration
			n := 0
			b.Run(name+"/"+d.Name(), func(b *testing.B) {
				for i := 0; i < b.N; i++ {
					start := time.Now()
					if _, err := d.Run(ctx, bp.at); err != nil {
						b.Fatal(err)
					}
					full += time.Since(start)
					start = time.Now()
					if _, err := d.Check(ctx, bp.at, ch); err != nil {
						b.Fatal(err)
					}
					check += time.Since(start)
					n++
				}
			})
			if n == 0 {
				continue
			}
			fmt.Printf("%s, %s province (%d records): check of one claim %.3f s, full run %.3f s: %.3f× the full run\n",
				d.Name(), name, bp.records, check.Seconds()/float64(n), full.Seconds()/float64(n), check.Seconds()/full.Seconds())
		}
	}
}
