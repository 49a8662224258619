package main

import (
	"slices"
	"testing"
	"time"

	"github.com/voucherwatch/voucherwatch"
	"github.com/voucherwatch/voucherwatch/store/storetest"
	"github.com/voucherwatch/voucherwatch/synth"
)

// TestRealUseAlertsOverTheAPI: a province with idle contracts and wash trades planted, sent
// through Kafka, yields alerts that GET /api/v1/alerts?detector=idle_consumption and
// ?detector=wash_trade list, each naming its detector and carrying its evidence: the paid
// period's timeline, the cycle as a graph. Every planted finding is among them.
func TestRealUseAlertsOverTheAPI(t *testing.T) {
	m := startMain(t, testConfig(t, storetest.Database(t)))
	p := synth.Generate(synth.Config{Seed: 7, Enterprises: 160, Suppliers: 18, Plant: true})
	if err := publishProvince(t.Context(), m.Brokers, m.Config.Topics, p.Messages, nil); err != nil {
		t.Fatal(err)
	}
	waitFor(t, m, 3*time.Minute, "province consumed", func(st voucherwatch.IngestStatus) bool {
		for _, topic := range synth.Topics {
			if ts := st.Topics[topic]; ts.Lag != 0 || ts.Consumed != int64(p.Stats.Topics[topic].Messages) {
				return false
			}
		}
		return true
	})
	m.Runner.RunAll(t.Context(), p.Config.End)
	for _, c := range []struct{ detector, evidence string }{{synth.DetIdle, "timeline"}, {synth.DetWash, "graph"}} {
		alerts := listAlerts(t, m, "detector="+c.detector+"&limit=100")
		for _, a := range alerts {
			if keys := keysOf(a.Evidence); a.Detector != c.detector || !slices.Contains(keys, c.evidence) || a.City == "" {
				t.Errorf("%s: got alert %s of %q in city %q with evidence keys %v, want its detector, city and %s",
					c.detector, a.ID, a.Detector, a.City, keys, c.evidence)
			}
		}
		findings := p.Truth.Findings(c.detector)
		if len(findings) == 0 {
			t.Errorf("%s: nothing planted", c.detector)
		}
		for _, f := range findings {
			found := false
			for _, a := range alerts {
				found = found || f.ReportedBy(a)
			}
			if !found {
				t.Errorf("%s: planted %s %v, not listed", c.detector, f.Kind, f.Subjects)
			}
		}
	}
}

// keysOf lists the evidence's keys whose value is not null.
func keysOf(ev voucherwatch.Evidence) []string {
	facts, _ := ev.Facts()
	var out []string
	for _, f := range facts {
		if string(f.Value) != "null" {
			out = append(out, f.Key)
		}
	}
	return out
}
