package detectors

import (
	"cmp"
	"context"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/voucherwatch/voucherwatch"
	"github.com/voucherwatch/voucherwatch/detectors/detectortest"
	"github.com/voucherwatch/voucherwatch/rules"
	"github.com/voucherwatch/voucherwatch/store"
	"github.com/voucherwatch/voucherwatch/synth"
)

// benchProvince is a province loaded for BenchmarkDetectorsProvince.
type benchProvince struct {
	name    string
	db      *store.DB
	at      time.Time
	records int // distinct records stored
}

// loadBenchProvince generates the default province scaled by k (400·k enterprises, 25·k
// suppliers) and stores it in a database of its own. Only the database outlives the call: synth
// holds a province's messages in memory, about 0.7 GB of heap at 10×.
func loadBenchProvince(b *testing.B, name string, k int) benchProvince {
	b.Helper()
	cfg := synth.DefaultConfig(1)
	cfg.Enterprises, cfg.Suppliers = 400*k, 25*k
	start := time.Now()
	p := synth.Generate(cfg)
	generated := time.Since(start)
	db := detectortest.NewDB(b)
	// In slices of the delivery order, as ingest stores batches: decoded records of a whole
	// 100× province would double its memory.
	for i := 0; i < len(p.Messages); i += 250_000 {
		detectortest.Load(b, db, p.Messages[i:min(i+250_000, len(p.Messages))])
	}
	bp := benchProvince{name: name, db: db, at: p.Config.End, records: p.Stats.Total.Unique}
	b.Logf("%s: %d enterprises, %d suppliers: %d messages, %d records; generated in %v, stored in %v",
		name, cfg.Enterprises, cfg.Suppliers, len(p.Messages), bp.records, generated.Round(time.Millisecond),
		(time.Since(start) - generated).Round(time.Millisecond))
	return bp
}

// BenchmarkDetectorsProvince runs every detector through the Runner, alerts stored with
// UpsertAlerts as the engine stores them, over the default province (1x: 400 enterprises, 25
// suppliers) and one ten times its size (10x), and logs how the time of a run grows with the
// province. VW_BENCH_100X=1 adds a province a hundred times the default (some 4 million
// records, several GB of memory while it is generated and stored).
//
// Each province is run once before timing: the timed runs are the scheduled re-runs of a
// steady engine, whose alerts are mostly known already.
func BenchmarkDetectorsProvince(b *testing.B) {
	type scale struct {
		name string
		k    int // times the default province
	}
	sizes := []scale{{"1x", 1}, {"10x", 10}}
	if os.Getenv("VW_BENCH_100X") == "1" {
		sizes = append(sizes, scale{"100x", 100})
	}
	perRun := map[string]float64{}
	for _, size := range sizes {
		bp := loadBenchProvince(b, size.name, size.k)
		env := Env{DB: bp.db, Policy: rules.Default()}
		r := NewRunner(bp.db, nil, nil)
		r.Register(All(env)...)
		ctx := context.Background()
		first := time.Now()
		alerts := 0
		sums := r.RunAll(ctx, bp.at)
		for _, s := range sums {
			if s.Error != "" {
				b.Fatalf("%s: %s: %s", size.name, s.Detector, s.Error)
			}
			alerts += s.Alerts
		}
		slices.SortFunc(sums, func(x, y Summary) int { return cmp.Compare(y.Seconds, x.Seconds) })
		var slowest []string
		for _, s := range sums[:min(3, len(sums))] {
			slowest = append(slowest, fmt.Sprintf("%s %.2f s", s.Detector, s.Seconds))
		}
		b.Logf("%s: first run %v, %d alerts; slowest: %s", size.name, time.Since(first).Round(time.Millisecond), alerts, strings.Join(slowest, ", "))

		b.Run(size.name, func(b *testing.B) {
			b.ReportAllocs()
			start := time.Now()
			for i := 0; i < b.N; i++ {
				for _, s := range r.RunAll(ctx, bp.at) {
					if s.Error != "" {
						b.Fatalf("%s: %s", s.Detector, s.Error)
					}
				}
			}
			sec := time.Since(start).Seconds() / float64(b.N)
			perRun[size.name] = sec
			b.ReportMetric(sec, "s/run")
			b.ReportMetric(float64(bp.records), "records")
		})
	}
	// Printed rather than logged: a parent benchmark's log shows only with -v.
	if one, ten := perRun["1x"], perRun["10x"]; one > 0 && ten > 0 {
		fmt.Printf("detectors on a province: a run takes %.3f s at 1x, %.3f s at 10x: 10x/1x = %.2f\n", one, ten, ten/one)
		if hundred := perRun["100x"]; hundred > 0 {
			fmt.Printf("detectors on a province: %.3f s at 100x: 100x/10x = %.2f, 100x/1x = %.2f\n", hundred, hundred/ten, hundred/one)
		}
	}
}

// benchSizes is the province multiples a benchmark runs: 1x and 10x, or those VW_BENCH_SIZES
// lists ("1", "1,10,30").
func benchSizes(b *testing.B) []int {
	env := os.Getenv("VW_BENCH_SIZES")
	if env == "" {
		return []int{1, 10}
	}
	var sizes []int
	for _, f := range strings.Split(env, ",") {
		k, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || k < 1 {
			b.Fatalf("VW_BENCH_SIZES=%q: want multiples such as 1,10,30", env)
		}
		sizes = append(sizes, k)
	}
	return sizes
}

// reusablePair finds in claims a claim citing an invoice (victim) and a claim of another
// applicant (other), for a benchmark's claim that re-uses the victim's invoice.
func reusablePair(claims []voucherwatch.StoredClaim) (victim, other *voucherwatch.StoredClaim) {
	for i := range claims {
		c := &claims[i]
		if victim == nil && len(c.Invoices) > 0 {
			victim = c
		} else if victim != nil && c.ApplicantUSCC != victim.ApplicantUSCC {
			return victim, c
		}
	}
	return victim, nil
}

// invoiceReuse is a claim of other's applicant citing victim's first invoice.
func invoiceReuse(victim, other *voucherwatch.StoredClaim, id, claimID string, at time.Time) voucherwatch.Record {
	return voucherwatch.Record{Envelope: voucherwatch.Envelope{Source: "bench", ID: id,
		Type: voucherwatch.TypeClaim, Time: at}, Claim: &voucherwatch.Claim{ClaimID: claimID,
		ApplicantUSCC: other.ApplicantUSCC, Round: other.Round, SubmittedOn: other.SubmittedOn, City: other.City,
		Contracts: other.Contracts, Invoices: victim.Invoices[:1], UsageAmount: victim.Invoices[0].Amount,
		Requested: victim.Invoices[0].Amount / 3}}
}
