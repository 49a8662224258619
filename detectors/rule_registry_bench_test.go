package detectors

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/voucherwatch/voucherwatch"
	"github.com/voucherwatch/voucherwatch/rules"
)

// BenchmarkKeyedChecks times the checks added for issue 10's registry, contract and buyer
// changes against the full run of their detector on the same province in the same run, on
// provinces of the sizes benchSizes gives (1x and 10x, or VW_BENCH_SIZES), and prints check
// time / full-run time: a registry row of a supplier that sells to several buyers
// (unregistered_supplier, late_filing, usage_above_capacity), a registry row of a claiming applicant
// (applicant_credit, annual_purchase), a contract re-sent (duplicate_claim, unregistered_supplier,
// late_filing, resale, idle_consumption, annual_purchase, billed_above_metered) and a claim
// re-sent (annual_purchase, billed_above_metered and the others). The check reads the keys a change touches, so the ratio should fall as the
// province grows.
func BenchmarkKeyedChecks(b *testing.B) {
	for _, k := range benchSizes(b) {
		name := fmt.Sprintf("%dx", k)
		bp := loadBenchProvince(b, name, k)
		ctx := context.Background()
		env := Env{DB: bp.db, Policy: rules.Default()}
		claims, err := bp.db.LatestClaims(ctx, voucherwatch.ClaimQuery{All: true})
		if err != nil || len(claims) == 0 {
			b.Fatalf("%s: claims: %d, %v", name, len(claims), err)
		}
		contracts, err := bp.db.LatestContracts(ctx, voucherwatch.ContractQuery{All: true})
		if err != nil || len(contracts) == 0 {
			b.Fatalf("%s: contracts: %d, %v", name, len(contracts), err)
		}
		ct := contracts[len(contracts)/2]
		changes := []struct {
			what string
			ch   voucherwatch.Changes
		}{
			{"a supplier's registry row", enterpriseChange(ct.SupplierUSCC)},
			{"an applicant's registry row", enterpriseChange(claims[len(claims)/2].ApplicantUSCC)},
			{"a contract", contractChange(ct.SupplierUSCC, ct.BuyerUSCC, ct.ContractNo)},
			{"a claim", claimChange(claims[len(claims)/2].ClaimID)},
		}
		for _, d := range []voucherwatch.IncrementalDetector{NewUnregisteredSupplier(env), NewApplicantCredit(env), NewLateFiling(env), NewDuplicateClaim(env), NewResale(env), NewIdleConsumption(env),
			NewAnnualPurchase(env), NewBilledAboveMetered(env), NewUsageAboveCapacity(env)} {
			if _, err := d.Run(ctx, bp.at); err != nil { // warm the caches once
				b.Fatal(err)
			}
			for _, c := range changes {
				var full, check time.Duration
				n := 0
				b.Run(name+"/"+d.Name()+"/"+c.what, func(b *testing.B) {
					for i := 0; i < b.N; i++ {
						start := time.Now()
						if _, err := d.Run(ctx, bp.at); err != nil {
							b.Fatal(err)
						}
						full += time.Since(start)
						start = time.Now()
						if _, err := d.Check(ctx, bp.at, c.ch); err != nil {
							b.Fatal(err)
						}
						check += time.Since(start)
						n++
					}
				})
				if n == 0 {
					continue
				}
				fmt.Printf("%s, %s province (%d records), check of %s: %.3f s, full run %.3f s: %.3f× the full run\n",
					d.Name(), name, bp.records, c.what, check.Seconds()/float64(n), full.Seconds()/float64(n), check.Seconds()/full.Seconds())
			}
		}
	}
}
