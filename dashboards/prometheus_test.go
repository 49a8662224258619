package dashboards

import (
	"context"
	"errors"
	"io/fs"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/voucherwatch/voucherwatch"
	"github.com/voucherwatch/voucherwatch/detectors"
	"github.com/voucherwatch/voucherwatch/ingest"
	"github.com/voucherwatch/voucherwatch/spotcheck"
	"github.com/voucherwatch/voucherwatch/store"
	"github.com/voucherwatch/voucherwatch/supervision"
)

// promtool returns the path of promtool (Debian's prometheus package, installed by
// .ci/clickhouse.sh). Without it the test is skipped, except in CI, where it fails: CI must not
// pass by skipping the rules' checks.
func promtool(t *testing.T) string {
	t.Helper()
	p, err := exec.LookPath("promtool")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("promtool not found (%v); CI installs it with .ci/clickhouse.sh (apt-get install prometheus)", err)
		}
		t.Skipf("promtool not found (%v); run `make clickhouse` (.ci/clickhouse.sh installs Debian's prometheus package, which has it)", err)
	}
	return p
}

// TestPrometheusRules checks the alerting rules and the scrape configuration with promtool,
// and runs the rules' unit tests (alerts_test.yml), which show every alert firing on what it
// names and staying quiet on its look-alike.
func TestPrometheusRules(t *testing.T) {
	tool := promtool(t)
	dir := t.TempDir()
	// promtool reads files: write out the embedded ones, so that what is tested is what ships.
	err := fs.WalkDir(Files, "prometheus", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(Files, path)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dir, filepath.Base(path)), b, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{
		{"check", "rules", "alerts.yml"},
		{"check", "config", "scrape.yml"},
		{"test", "rules", "alerts_test.yml"},
	} {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		cmd := exec.CommandContext(ctx, tool, args...)
		cmd.Dir = dir
		out, err := cmd.CombinedOutput()
		cancel()
		if err != nil {
			t.Errorf("promtool %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
}

// engineMetrics returns the types of the metrics the engine's /metrics serves (counter, gauge,
// histogram, summary, untyped), by name: the
// collectors cmd/voucherwatch registers (Go, process, ingest, detector runner), each vector with
// one child so that it shows.
func engineMetrics(t *testing.T) map[string]string {
	t.Helper()
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	m := ingest.NewMetrics(reg)
	m.Consumed.WithLabelValues("vw.usage").Inc()
	m.Stored.WithLabelValues("vw.usage").Inc()
	m.Duplicates.WithLabelValues("vw.usage").Inc()
	m.Rejected.WithLabelValues("vw.usage").Inc()
	m.Lag.WithLabelValues("vw.usage").Set(1)
	m.BatchSize.WithLabelValues("vw.usage").Observe(1)
	m.InsertTime.WithLabelValues("vw.usage").Observe(0.1)
	m.Stages.WithLabelValues("vw.usage", "lookup").Observe(0.1)
	m.Retries.WithLabelValues("vw.usage", "store").Inc()
	m.WatchdogRebuilds.WithLabelValues("vw.usage").Inc()
	m.Stalled.WithLabelValues("vw.usage").Set(1)
	r := detectors.NewRunner(nil, reg, slog.New(slog.DiscardHandler))
	r.Register(failingDetector{})
	r.RunAll(context.Background(), time.Now()) // a failing run stores nothing: no alert store needed
	r.CheckChanged(context.Background(), time.Now(), voucherwatch.Changes{Claims: map[string]bool{"c": true}})
	spotcheck.NewDrawsMetric(reg)
	supervision.NewRegisterSlotsMetric(reg)
	supervision.NewComplaintMetrics(reg, func(context.Context) ([]voucherwatch.ComplaintCount, error) {
		return []voucherwatch.ComplaintCount{{City: "430100", Category: voucherwatch.ComplaintResale, Received: 1, Open: 1}}, nil
	}, nil)
	queue := uint64(3)
	store.NewClusterMetrics(reg, func(context.Context) (voucherwatch.ClusterStatus, error) {
		return voucherwatch.ClusterStatus{Name: "vw", Nodes: []voucherwatch.ClusterNodeStatus{{Addr: "127.0.0.1:9101", Shard: 1, Replica: 1, Up: true, DistributedSendQueue: &queue}}}, nil
	})
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, mf := range mfs {
		out[mf.GetName()] = strings.ToLower(mf.GetType().String())
	}
	return out
}

type failingDetector struct{}

func (failingDetector) Name() string { return "dashboards_test" }
func (failingDetector) Run(context.Context, time.Time) ([]voucherwatch.Alert, error) {
	return nil, errors.New("fails on purpose")
}
func (failingDetector) Check(context.Context, time.Time, voucherwatch.Changes) ([]voucherwatch.Alert, error) {
	return nil, errors.New("fails on purpose")
}

// TestMetricsDocumented checks docs/metrics.md against the engine: every metric it serves is
// documented with its type, and every vw_ metric the documentation or the alerting rules name
// exists.
func TestMetricsDocumented(t *testing.T) {
	mfs := engineMetrics(t)
	docB, err := os.ReadFile("../docs/metrics.md")
	if err != nil {
		t.Fatal(err)
	}
	doc := string(docB)
	rulesB, err := fs.ReadFile(Files, "prometheus/alerts.yml")
	if err != nil {
		t.Fatal(err)
	}

	var names []string
	for name := range mfs {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		if !strings.Contains(doc, "`"+name+"`") {
			t.Errorf("docs/metrics.md: %s (%s) is not documented", name, mfs[name])
			continue
		}
		if !strings.HasPrefix(name, "vw_") {
			continue
		}
		// The engine's own metrics have a table row: | `name` | type | labels | meaning |.
		row := regexp.MustCompile("(?m)^\\| `" + regexp.QuoteMeta(name) + "` \\| (\\w+) \\|").FindStringSubmatch(doc)
		want := mfs[name]
		if row == nil || row[1] != want {
			t.Errorf("docs/metrics.md: want a table row for %s starting | `%s` | %s |", name, name, want)
		}
	}

	exists := func(name string) bool {
		if _, ok := mfs[name]; ok {
			return true
		}
		for _, suffix := range []string{"_bucket", "_sum", "_count"} {
			if base, ok := strings.CutSuffix(name, suffix); ok {
				if mfs[base] == "histogram" {
					return true
				}
			}
		}
		return false
	}
	vw := regexp.MustCompile(`\bvw_[a-z_]+\b`)
	for what, text := range map[string]string{"docs/metrics.md": doc, "prometheus/alerts.yml": string(rulesB)} {
		var missing []string
		for _, name := range vw.FindAllString(text, -1) {
			if !exists(name) && !slices.Contains(missing, name) {
				missing = append(missing, name)
			}
		}
		if len(missing) > 0 {
			t.Errorf("%s names metrics the engine does not serve: %v", what, missing)
		}
	}
}
