package main

import (
	"bytes"
	"context"
	"fmt"
	"github.com/voucherwatch/voucherwatch/supervision/workflow"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/voucherwatch/voucherwatch"
	"github.com/voucherwatch/voucherwatch/store/storetest"
	"github.com/voucherwatch/voucherwatch/synth"
)

// demoOnce runs the demo flow in-process on database dsn, as "voucherwatch demo" does before
// it waits for a signal, and returns its result and its summary.
func demoOnce(t *testing.T, dsn string, scale float64) (demoResult, string) {
	t.Helper()
	m := NewMain(testConfig(t, dsn))
	m.holdDetectors.Store(true)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if err := m.Start(ctx); err != nil {
		m.Close()
		t.Fatalf("start: %v", err)
	}
	defer m.Close()
	var progress, out bytes.Buffer
	d := demo{Scale: scale, Seed: defaultDemoSeed, Out: &out, Progress: &progressDisplay{W: &progress}, Poll: 100 * time.Millisecond}
	res, err := d.run(ctx, m)
	if err != nil {
		t.Fatalf("demo: %v\nprogress:\n%s", err, progress.String())
	}
	res.summary(&out)

	// The admin token printed works on the API while the engine serves.
	token, err := res.adminToken()
	if err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest("GET", res.BaseURL+"/api/v1/alerts?limit=1", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("GET /api/v1/alerts with the demo admin token: got %d, want 200", resp.StatusCode)
	}
	if !strings.Contains(progress.String(), "demo: loading 100%") {
		t.Errorf("got progress\n%s\nwant a last line at 100%%", progress.String())
	}
	return res, out.String()
}

// TestDemo: the demo on a small province stores every record, alerts on every detector that
// has planted cases, creates sign-ins that work, prints where to look and what it found; run
// again on the same database it adds nothing.
func TestDemo(t *testing.T) {
	dsn := storetest.Database(t)
	start := time.Now()
	first, summary := demoOnce(t, dsn, 0.25)
	t.Logf("first run in %.1fs:\n%s", time.Since(start).Seconds(), summary)

	for _, topic := range synth.Topics {
		got, want := first.Ingest.Topics[first.Topics[topic]], first.Stats.Topics[topic]
		if got.Stored != int64(want.Unique) || got.Rejected != 0 || got.Lag != 0 {
			t.Errorf("%s: got stored %d rejected %d lag %d, want stored %d, rejected 0, lag 0", topic, got.Stored, got.Rejected, got.Lag, want.Unique)
		}
	}
	for _, f := range first.findings() {
		if f.Planted == 0 {
			continue
		}
		if f.Alerts() == 0 || f.Found == 0 {
			t.Errorf("%s: got %d alerts finding %d of %d planted cases, want alerts finding some", f.Detector, f.Alerts(), f.Found, f.Planted)
		}
	}
	if len(first.Truth.Detectors()) < 10 {
		t.Errorf("got planted cases for %d detectors, want every detector's", len(first.Truth.Detectors()))
	}

	m := NewMain(testConfig(t, dsn))
	if err := m.openStore(context.Background()); err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	ctx := context.Background()
	for _, u := range first.Users {
		if !u.Created {
			t.Errorf("%s: got kept on a fresh database, want created", u.Login)
		}
		got, hash, err := m.DB.UserByLogin(ctx, u.Login)
		if err != nil {
			t.Errorf("%s: %v", u.Login, err)
			continue
		}
		if got.Role != u.Role || got.City != u.City || !workflow.CheckPassword(hash, u.Password) {
			t.Errorf("%s: got %+v, password checks %v; want role %s city %q and the printed password to check",
				u.Login, got, workflow.CheckPassword(hash, u.Password), u.Role, u.City)
		}
		if byToken, err := m.DB.UserByTokenHash(ctx, voucherwatch.TokenHash(u.Token)); err != nil || byToken.ID != got.ID {
			t.Errorf("%s: the printed token finds %+v, %v; want the user %s", u.Login, byToken, err, got.ID)
		}
	}
	wantInSummary := []string{
		first.BaseURL + "/login",
		first.BaseURL + "/api/v1/alerts",
		first.BaseURL + "/metrics",
		"dashboards/provisioning",
		fmt.Sprintf("%d alerts", len(first.Alerts)),
		fmt.Sprintf("%d records", first.Stats.Total.Unique),
		"demo-admin-2026",
		"Ctrl-C",
		first.BaseURL + "/spotchecks/" + first.SpotCheck.ID,
	}
	// The spot check draws from every city with claimants, and no inspector of its own city.
	if !first.SpotCheckNew || len(first.SpotCheck.Items) == 0 {
		t.Errorf("spot check: got %d items (new %v), want a fresh draw", len(first.SpotCheck.Items), first.SpotCheckNew)
	}
	for _, it := range first.SpotCheck.Items {
		if len(it.Inspectors) != 2 {
			t.Errorf("spot check item %s: got %d inspectors, want 2", it.USCC, len(it.Inspectors))
		}
		for _, in := range it.Inspectors {
			if in.City == it.City {
				t.Errorf("spot check item %s in %s: inspector %s of the same city", it.USCC, it.City, in.Name)
			}
		}
	}
	for _, w := range wantInSummary {
		if !strings.Contains(summary, w) {
			t.Errorf("summary lacks %q", w)
		}
	}

	start = time.Now()
	second, _ := demoOnce(t, dsn, 0.25)
	t.Logf("second run in %.1fs", time.Since(start).Seconds())
	if len(second.Alerts) != len(first.Alerts) {
		t.Errorf("second run: got %d alerts, want %d as after the first", len(second.Alerts), len(first.Alerts))
	}
	for _, topic := range synth.Topics {
		a, b := first.Ingest.Topics[first.Topics[topic]], second.Ingest.Topics[second.Topics[topic]]
		if a.Stored != b.Stored {
			t.Errorf("%s: second run stored %d, want %d as after the first", topic, b.Stored, a.Stored)
		}
	}
	for i, u := range second.Users {
		if u.Created || u.ID != first.Users[i].ID || u.PasswordKept || u.Token != first.Users[i].Token {
			t.Errorf("second run: got user %+v (created %v), want %s kept with the demo password and token", u.User, u.Created, first.Users[i].ID)
		}
	}
	if second.SpotCheckNew || second.SpotCheck.ID != first.SpotCheck.ID {
		t.Errorf("second run: got spot check %s (new %v), want the first run's %s kept", second.SpotCheck.ID, second.SpotCheckNew, first.SpotCheck.ID)
	}
	if pool, err := m.DB.Inspectors(ctx); err != nil || len(pool) != len(demoInspectorNames) {
		t.Errorf("got %d inspectors after two runs (%v), want %d", len(pool), err, len(demoInspectorNames))
	}
	all, err := m.DB.Users(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != len(demoAccounts) {
		t.Errorf("got %d users after two runs, want %d", len(all), len(demoAccounts))
	}
}
