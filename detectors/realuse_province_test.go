package detectors

import (
	"context"
	"fmt"
	"testing"

	"github.com/voucherwatch/voucherwatch"
	"github.com/voucherwatch/voucherwatch/detectors/detectortest"
	"github.com/voucherwatch/voucherwatch/rules"
	"github.com/voucherwatch/voucherwatch/synth"
)

// TestRealUseProvince scores idle_consumption and wash_trade on the shared provinces of seeds 1
// and 2, and on a province of another size, duplicate rate and seed that nobody tuned for (as a
// hidden province would be drawn): recall and precision at least 0.9, no look-alike flagged.
// TestProvinceAllDetectors scores them on seeds 3, 5 and 8 besides.
func TestRealUseProvince(t *testing.T) {
	score := func(t *testing.T, db voucherwatch.ReadModel, p *synth.Province) {
		env := Env{Read: db, Policy: rules.Default()}
		for _, d := range []voucherwatch.Detector{NewIdleConsumption(env), NewWashTrade(env)} {
			alerts, err := d.Run(context.Background(), p.Config.End)
			if err != nil {
				t.Fatal(err)
			}
			s := detectortest.Evaluate(d.Name(), alerts, p.Truth)
			if s.Cases == 0 {
				t.Errorf("%s: nothing planted", d.Name())
			}
			detectortest.Require(t, s, 0.9)
		}
	}
	for _, seed := range []int64{1, 2} {
		t.Run(fmt.Sprint("seed", seed), func(t *testing.T) {
			db, p := detectortest.Province(t, seed)
			score(t, db, p)
		})
	}
	t.Run("otherSize", func(t *testing.T) {
		p := synth.Generate(synth.Config{Seed: 41, Enterprises: 220, Suppliers: 18, DuplicateRate: 0.05, Plant: true})
		db := detectortest.NewDB(t)
		detectortest.Load(t, db, p.Messages)
		score(t, db, p)
	})
}

// TestRealUseCheckMatchesRun: a changed contract or claim of an idle contract, and a changed
// deal or claim on a cycle of trade, yield the alert about it exactly as the full run has it.
func TestRealUseCheckMatchesRun(t *testing.T) {
	db, p := detectortest.Province(t, 1)
	ctx := context.Background()
	env := Env{DB: db, Policy: rules.Default()}
	claims, err := db.LatestClaims(ctx, voucherwatch.ClaimQuery{All: true})
	if err != nil {
		t.Fatal(err)
	}
	claimOf := map[[2]string]string{} // (applicant, contract) → a claim citing it
	for _, c := range claims {
		for _, no := range c.Contracts {
			claimOf[[2]string{c.ApplicantUSCC, no}] = c.ClaimID
		}
	}
	for _, d := range []voucherwatch.IncrementalDetector{NewIdleConsumption(env), NewWashTrade(env)} {
		full, err := d.Run(ctx, p.Config.End)
		if err != nil {
			t.Fatal(err)
		}
		if len(full) < 3 {
			t.Fatalf("%s: got %d alerts in the province, want some to compare", d.Name(), len(full))
		}
		var changes []voucherwatch.Changes
		for _, a := range full {
			s := a.Subjects
			changes = append(changes,
				voucherwatch.Changes{Contracts: map[[2]string]bool{{s.SupplierUSCC, s.ContractNo}: true},
					Pairs: map[[2]string]bool{{s.ApplicantUSCC, s.SupplierUSCC}: true}},
				claimChange(claimOf[[2]string{s.ApplicantUSCC, s.ContractNo}]))
		}
		checkAgainstRun(t, d, full, changes, func(ch voucherwatch.Changes, a voucherwatch.Alert) bool {
			s := a.Subjects
			return ch.Contracts[[2]string{s.SupplierUSCC, s.ContractNo}] || ch.Claims[claimOf[[2]string{s.ApplicantUSCC, s.ContractNo}]]
		})
	}
}
