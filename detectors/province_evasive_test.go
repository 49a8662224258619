package detectors

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/voucherwatch/voucherwatch"
	"github.com/voucherwatch/voucherwatch/detectors/detectortest"
	"github.com/voucherwatch/voucherwatch/rules"
	"github.com/voucherwatch/voucherwatch/synth"
)

// evasiveSeeds are the seeds TestProvinceEvasive scores: not the seed the evasive plants were
// developed on (11). VW_EVASIVE_SEEDS replaces them ("3,5").
func evasiveSeeds(t *testing.T) []int64 {
	spec := os.Getenv("VW_EVASIVE_SEEDS")
	if spec == "" {
		return []int64{23, 37}
	}
	var out []int64
	for _, part := range strings.Split(spec, ",") {
		s, err := strconv.ParseInt(strings.TrimSpace(part), 10, 64)
		if err != nil {
			t.Fatalf("VW_EVASIVE_SEEDS=%q: want seeds like 3,5", spec)
		}
		out = append(out, s)
	}
	return out
}

// TestProvinceEvasive scores the four core detectors on provinces whose cheats hide
// (synth.Config.Evasive: identifiers in other forms, acts through a company under the same
// control, thin markets, copies across rounds, with their look-alikes): recall and precision at
// least 0.95 each, and no look-alike flagged high or medium.
func TestProvinceEvasive(t *testing.T) {
	for _, seed := range evasiveSeeds(t) {
		t.Run(fmt.Sprint("seed", seed), func(t *testing.T) {
			p := synth.Generate(synth.EvasiveConfig(seed))
			db := detectortest.NewDB(t)
			detectortest.Load(t, db, p.Messages)
			env := Env{DB: db, Policy: rules.Default()}
			ctx := context.Background()
			for _, d := range []voucherwatch.Detector{NewDuplicateClaim(env), NewResale(env), NewRelatedParty(env), NewPrice(env)} {
				alerts, err := d.Run(ctx, p.Config.End)
				if err != nil {
					t.Fatalf("%s: %v", d.Name(), err)
				}
				detectortest.Require(t, detectortest.Evaluate(d.Name(), alerts, p.Truth), 0.95)
			}
		})
	}
}
