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

// BenchmarkDuplicateClaimCheck times duplicate_claim's incremental check of one claim that
// re-uses an invoice another applicant already claimed, alone (no other detector, no full run,
// alerts not stored), on provinces of several sizes in the same run: 1x and 10x the default
// province, or the multiples VW_BENCH_SIZES lists ("1,10,30"). It prints each size's time
// against 1x's: the look-ups go through lookup_keys and the records' primary keys, so the
// ratio should stay near 1 while history grows.
func BenchmarkDuplicateClaimCheck(b *testing.B) {
	sizes := benchSizes(b)
	var base float64
	for _, k := range sizes {
		name := fmt.Sprintf("%dx", k)
		bp := loadBenchProvince(b, name, k)
		ctx := context.Background()
		d := NewDuplicateClaim(Env{DB: bp.db, Policy: rules.Default()})
		claims, err := bp.db.LatestClaims(ctx, voucherwatch.ClaimQuery{All: true})
		if err != nil {
			b.Fatal(err)
		}
		victim, other := reusablePair(claims)
		if victim == nil || other == nil {
			b.Fatal("province without two applicants' claims")
		}
		reuse := invoiceReuse(victim, other, "bench-dup-"+name, "BENCH-DUP-"+name, bp.at)
		detectortest.Store(b, bp.db, reuse)
		var ch voucherwatch.Changes
		ch.Add([]voucherwatch.Record{reuse})
		if _, err := d.Check(ctx, bp.at, ch); err != nil { // warm the caches once
			b.Fatal(err)
		}
		var total time.Duration
		n := 0
		b.Run(name, func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				start := time.Now()
				as, err := d.Check(ctx, bp.at, ch)
				total += time.Since(start)
				n++
				if err != nil || len(as) == 0 {
					b.Fatalf("%s: check: %d alerts, %v; want the invoice re-use", name, len(as), err)
				}
			}
		})
		if n == 0 {
			continue
		}
		per := total.Seconds() / float64(n)
		if base == 0 {
			base = per
		}
		fmt.Printf("duplicate_claim check of a re-used invoice, %s province (%d records): %.3f s (%.2f× the %dx province's)\n",
			name, bp.records, per, per/base, sizes[0])
	}
}
