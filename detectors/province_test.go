package detectors

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode"

	"github.com/voucherwatch/voucherwatch"
	"github.com/voucherwatch/voucherwatch/detectors/detectortest"
	"github.com/voucherwatch/voucherwatch/rules"
	"github.com/voucherwatch/voucherwatch/synth"
)

// provinceSeeds are the seeds TestProvinceAllDetectors runs: seeds no detector was tuned on (the
// detectors' own province tests use 1 and 2). VW_PROVINCE_SEEDS replaces them for an ad hoc
// sweep: "1-10" or "3,5,8".
func provinceSeeds(t *testing.T) []int64 {
	spec := os.Getenv("VW_PROVINCE_SEEDS")
	if spec == "" {
		return []int64{3, 5, 8}
	}
	var seeds []int64
	for _, part := range strings.Split(spec, ",") {
		lo, hi, isRange := strings.Cut(strings.TrimSpace(part), "-")
		a, err := strconv.ParseInt(lo, 10, 64)
		b := a
		if err == nil && isRange {
			b, err = strconv.ParseInt(hi, 10, 64)
		}
		if err != nil || b < a {
			t.Fatalf("VW_PROVINCE_SEEDS=%q: want seeds like 1-10 or 3,5,8", spec)
		}
		for s := a; s <= b; s++ {
			seeds = append(seeds, s)
		}
	}
	return seeds
}

// TestProvinceAllDetectors runs every detector of All over whole provinces of seeds nobody tuned
// for, and scores each detector the truth names: recall and precision at least 0.9, no
// look-alike flagged high or medium. Every alert must be fit to show a reviewer: a Chinese
// title, a reason naming its clause, the clause, the applicant's city, an id that a second run
// repeats, evidence that marshals to JSON, and a kind its detector lists (so that the kinds
// test of cmd/voucherwatch, which checks every listed kind's label and evidence layout, sees
// every kind).
func TestProvinceAllDetectors(t *testing.T) {
	for _, seed := range provinceSeeds(t) {
		t.Run(fmt.Sprint("seed", seed), func(t *testing.T) {
			p := synth.Generate(synth.DefaultConfig(seed))
			db := detectortest.NewDB(t)
			detectortest.Load(t, db, p.Messages)
			env := Env{DB: db, Policy: rules.Default()}
			at := p.Config.End
			ctx := context.Background()

			inTruth := map[string]bool{}
			for _, c := range p.Truth.Cases {
				inTruth[detectortest.DetectorName(c.Detector)] = true
			}
			var table []string
			for _, d := range All(env) {
				name := d.Name()
				start := time.Now()
				alerts, err := d.Run(ctx, at)
				took := time.Since(start)
				if err != nil {
					t.Errorf("%s: %v", name, err)
					continue
				}
				again, err := d.Run(ctx, at)
				if err != nil {
					t.Errorf("%s again: %v", name, err)
					continue
				}
				if got, want := fxAlertIDs(again), fxAlertIDs(alerts); !slices.Equal(got, want) {
					t.Errorf("%s: got ids %v on a second run, want %v", name, got, want)
				}
				ids := map[string]string{}
				var kinds []string
				if k, ok := d.(voucherwatch.Kinds); ok {
					kinds = k.Kinds()
				}
				for _, a := range alerts {
					if !slices.Contains(kinds, a.Kind) {
						t.Errorf("%s: alert %s has kind %q, which its Kinds() %v does not list", name, a.ID, a.Kind, kinds)
					}
					if kind, twice := ids[a.ID]; twice {
						t.Errorf("%s: id %s given to %s and %s (subjects %+v): one finding per subjects", name, a.ID, kind, a.Kind, a.Subjects)
					}
					ids[a.ID] = a.Kind
					if problem := provinceAlertProblem(a); problem != "" {
						t.Errorf("%s: alert %s (%s %v): %s", name, a.ID, a.Kind, a.Subjects, problem)
					}
				}
				row := fmt.Sprintf("%-24s %7s %9s %6d %8v", name, "-", "-", len(alerts), took.Round(time.Millisecond))
				if inTruth[name] {
					s := detectortest.Evaluate(name, alerts, p.Truth)
					detectortest.Require(t, s, 0.9)
					row = fmt.Sprintf("%-24s %7.2f %9.2f %6d %8v", name, s.Recall(), s.Precision(), len(alerts), took.Round(time.Millisecond))
				}
				table = append(table, row)
			}
			t.Logf("seed %d, %d records:\n%-24s %7s %9s %6s %8s\n%s", seed, len(p.Messages),
				"detector", "recall", "precision", "alerts", "time", strings.Join(table, "\n"))
		})
	}
}

// provinceAlertProblem says what makes an alert unfit for a reviewer; "" when nothing does.
func provinceAlertProblem(a voucherwatch.Alert) string {
	switch {
	case !strings.ContainsFunc(a.Title, func(r rune) bool { return unicode.Is(unicode.Han, r) }):
		return fmt.Sprintf("got title %q, want a Chinese one", a.Title)
	case a.PolicyClause == "":
		return "got no policy clause"
	case a.Subjects.ApplicantUSCC != "" && a.City == "":
		return "got no city for an alert about an applicant"
	}
	// The clause is "五.1 / M1b" or "二 / D3、四.4 / P4": the reason names every clause code.
	for _, part := range strings.Split(a.PolicyClause, "、") {
		_, code, _ := strings.Cut(part, "/")
		if code = strings.TrimSpace(code); code == "" || !strings.Contains(a.Reason, code) {
			return fmt.Sprintf("got reason %q, want it to name clause %q", a.Reason, part)
		}
	}
	if _, err := json.Marshal(a.Evidence); err != nil {
		return fmt.Sprintf("evidence does not marshal to JSON: %v", err)
	}
	if a.Evidence.Empty() {
		return "got no evidence"
	}
	return ""
}

// evFacts is an alert's evidence as JSON values (numbers float64, lists []any, objects
// map[string]any), as the web UI's table of facts reads it; nil when it does not decode.
func evFacts(ev voucherwatch.Evidence) map[string]any {
	var m map[string]any
	if ev.Decode(&m) != nil {
		return nil
	}
	return m
}

// evList is a list of objects of evFacts as maps; elements that are no object are left out.
func evList(v any) []map[string]any {
	list, _ := v.([]any)
	var out []map[string]any
	for _, e := range list {
		if m, ok := e.(map[string]any); ok {
			out = append(out, m)
		}
	}
	return out
}
