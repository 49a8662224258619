package detectors

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
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
	sizes := []int{1, 10}
	if env := os.Getenv("VW_BENCH_SIZES"); env != "" {
		sizes = nil
		for _, f := range strings.Split(env, ",") {
			k, err := strconv.Atoi(strings.TrimSpace(f))
			if err != nil || k < 1 {
				b.Fatalf("VW_BENCH_SIZES=%q: want multiples such as 1,10,30", env)
			}
			sizes = append(sizes, k)
		}
	}
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
		var victim, other *voucherwatch.StoredClaim
		for i := range claims {
			c := &claims[i]
			if victim == nil && len(c.Invoices) > 0 {
				victim = c
			} else if victim != nil && c.ApplicantUSCC != victim.ApplicantUSCC {
				other = c
				break
			}
		}
		if victim == nil || other == nil {
			b.Fatal("province without two applicants' claims")
		}
		reuse := voucherwatch.Record{Envelope: voucherwatch.Envelope{Source: "bench", ID: "bench-dup-" + name,
			Type: voucherwatch.TypeClaim, Time: bp.at}, Claim: &voucherwatch.Claim{ClaimID: "BENCH-DUP-" + name,
			ApplicantUSCC: other.ApplicantUSCC, Round: other.Round, SubmittedOn: other.SubmittedOn, City: other.City,
			Contracts: other.Contracts, Invoices: victim.Invoices[:1], UsageAmount: victim.Invoices[0].Amount,
			Requested: victim.Invoices[0].Amount / 3}}
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
