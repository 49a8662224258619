package main

import (
	"bytes"
	"context"
	"fmt"
	"regexp"
	"slices"
	"testing"
	"time"

	"github.com/voucherwatch/voucherwatch"
	"github.com/voucherwatch/voucherwatch/detectors"
	"github.com/voucherwatch/voucherwatch/rules"
	"github.com/voucherwatch/voucherwatch/store"
	"github.com/voucherwatch/voucherwatch/store/storetest"
	"github.com/voucherwatch/voucherwatch/synth"
)

// startHeld starts an engine whose detectors run only when the test says (RunAll), so that
// the single-node and cluster runs judge the same whole province at the same time.
func startHeld(t *testing.T, c Config) *Main {
	t.Helper()
	m := NewMain(c)
	m.holdDetectors.Store(true)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if err := m.Start(ctx); err != nil {
		m.Close()
		t.Fatalf("start: %v", err)
	}
	t.Cleanup(func() { m.Close() })
	return m
}

// alertsOf lists the alerts of a database as id, detector, kind, severity and evidence hash.
func alertsOf(t *testing.T, m *Main) []string {
	t.Helper()
	rows, err := m.DB.Conn().Query(context.Background(), "SELECT id, detector, kind, severity, evidence_hash FROM alerts FINAL ORDER BY id")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var id, det, kind, sev string
		var h uint64
		if err := rows.Scan(&id, &det, &kind, &sev, &h); err != nil {
			t.Fatal(err)
		}
		out = append(out, fmt.Sprintf("%s %s/%s %s %x", id, det, kind, sev, h))
	}
	return out
}

// waitIngested waits until m's status shows the province consumed, then checks that every
// topic stored its unique records, counted the redeliveries as duplicates and rejected none.
func waitIngested(t *testing.T, m *Main, p *synth.Province, within time.Duration) {
	t.Helper()
	st := waitFor(t, m, within, "all consumed", func(st voucherwatch.IngestStatus) bool {
		for _, topic := range synth.Topics {
			if ts := st.Topics[topic]; ts.Lag != 0 || ts.Consumed != int64(p.Stats.Topics[topic].Messages) {
				return false
			}
		}
		return true
	})
	for _, topic := range synth.Topics {
		want, got := p.Stats.Topics[topic], st.Topics[topic]
		if got.Stored != int64(want.Unique) || got.Duplicates != int64(want.Redeliveries) || got.Rejected != 0 {
			t.Errorf("%s: got stored %d duplicates %d rejected %d, want %d, %d, 0", topic, got.Stored, got.Duplicates, got.Rejected, want.Unique, want.Redeliveries)
		}
	}
}

// TestClusterProvince runs the planted province through the test cluster (whichever layout
// it has) with two engine instances in one consumer group, and through a single server. On
// 1x2 replica B is killed (SIGKILL) halfway through ingest and restarted 10 s later; on 2x1
// shard 2 is stopped for 20 s. Then every record is stored once across both instances
// (stored = unique, duplicates = redeliveries, nothing rejected), each instance did part of
// the work, voucherwatch check finds no drift, migrate --cluster lists both nodes at the
// newest version, and the detectors raise the same alerts as on one node.
func TestClusterProvince(t *testing.T) {
	c := storetest.RequireCluster(t)
	p := synth.Generate(synth.Config{Seed: 99, Enterprises: 120, Suppliers: 10, DuplicateRate: 0.05, Plant: true})
	half := len(p.Messages) / 2

	single := startHeld(t, testConfig(t, storetest.Database(t)))
	if err := publishProvince(t.Context(), single.Brokers, single.Config.Topics, p.Messages, nil); err != nil {
		t.Fatal(err)
	}

	dsn := c.Database(t)
	ca := testConfig(t, dsn)
	ca.ClickHouseCluster = c.Name
	a := startHeld(t, ca)
	cb := testConfig(t, dsn)
	cb.ClickHouseCluster = c.Name
	cb.Kafka = a.Brokers[0]
	b := startHeld(t, cb)
	for _, topic := range synth.Topics {
		waitMembers(t, a, topic, 2)
	}
	if err := publishProvince(t.Context(), a.Brokers, a.Config.Topics, p.Messages[:half], nil); err != nil {
		t.Fatal(err)
	}
	// Halfway: wait until some of the first half is stored, then take a node away.
	waitFor(t, a, time.Minute, "ingest under way", func(st voucherwatch.IngestStatus) bool {
		return st.Topics[synth.Topics[0]].Stored > 0
	})
	restarted := make(chan struct{})
	down := 10 * time.Second
	if c.Layout == "1x2" {
		c.Kill(t, 1)
	} else {
		down = 20 * time.Second
		c.Stop(t, 1)
	}
	go func() {
		defer close(restarted)
		time.Sleep(down)
		c.Start(t)
	}()
	// /metrics shows node B down while it is (the collector asks the nodes at each scrape).
	if up := nodeUp(t, a, c.Addrs[1]); up != 0 {
		t.Errorf("vw_clickhouse_node_up{node=%q} = %v while it is down, want 0", c.Addrs[1], up)
	}
	if err := publishProvince(t.Context(), a.Brokers, a.Config.Topics, p.Messages[half:], nil); err != nil {
		t.Fatal(err)
	}
	<-restarted

	waitIngested(t, single, p, 3*time.Minute)
	for _, m := range []*Main{a, b} {
		waitIngested(t, m, p, 3*time.Minute)
	}
	if ca, cb := counterValue(t, a, "vw_ingest_consumed_total"), counterValue(t, b, "vw_ingest_consumed_total"); ca == 0 || cb == 0 {
		t.Errorf("consumed %v by the first instance and %v by the second, want both to share the work", ca, cb)
	}
	for _, n := range c.Addrs {
		if up := nodeUp(t, a, n); up != 1 {
			t.Errorf("vw_clickhouse_node_up{node=%q} = %v after the restart, want 1", n, up)
		}
	}
	st, err := status(t, a)
	if err != nil {
		t.Fatal(err)
	}
	if st.Cluster == nil || st.Cluster.Name != c.Name || len(st.Cluster.Nodes) != 2 || !st.Cluster.Nodes[0].Up || !st.Cluster.Nodes[1].Up {
		t.Errorf("status: cluster %+v, want %s with both nodes up", st.Cluster, c.Name)
	}
	// voucherwatch check and migrate --cluster, as an operator runs them.
	var out bytes.Buffer
	cm := NewMain(ca)
	if err := runCheck(context.Background(), cm, &out); err != nil {
		t.Errorf("voucherwatch check: %v\n%s", err, out.String())
	}
	cm.Close()
	out.Reset()
	cm = NewMain(ca)
	if err := runMigrateCluster(context.Background(), cm, &out); err != nil {
		t.Errorf("voucherwatch migrate --cluster: %v\n%s", err, out.String())
	}
	cm.Close()
	for _, n := range c.Addrs {
		if !regexp.MustCompile(regexp.QuoteMeta(n) + `\s+\d+\s+\d+\s+` + fmt.Sprint(store.LatestMigration()) + `\s`).MatchString(out.String()) {
			t.Errorf("migrate --cluster: no line for %s at version %d:\n%s", n, store.LatestMigration(), out.String())
		}
	}

	at := time.Now()
	var runs [2]detectorRun
	for i, m := range []*Main{single, a} {
		r, err := runDetectors(context.Background(), m.DB, p.Truth, at)
		if err != nil {
			t.Fatal(err)
		}
		if len(r.Failed) > 0 {
			t.Errorf("detectors failed (%d of 2: single node, cluster): %v", i+1, r.Failed)
		}
		runs[i] = r
	}
	if runs[1].Recall() != runs[0].Recall() || runs[1].Precision() != runs[0].Precision() || runs[0].Recall() == 0 {
		t.Errorf("cluster recall %.3f precision %.3f, single node %.3f and %.3f: want equal, and some recall", runs[1].Recall(), runs[1].Precision(), runs[0].Recall(), runs[0].Precision())
	}
	// The keyed reads of the checks work across shards too (external tables in IN on
	// Distributed tables): resale's check of every trading pair returns on the cluster what it
	// returns on one node, and something.
	var checked [2][]string
	for i, m := range []*Main{single, a} {
		contracts, err := m.DB.LatestContracts(t.Context(), voucherwatch.ContractQuery{All: true})
		if err != nil {
			t.Fatal(err)
		}
		var ch voucherwatch.Changes
		for _, c := range contracts {
			ch.Merge(voucherwatch.Changes{Pairs: map[[2]string]bool{{c.BuyerUSCC, c.SupplierUSCC}: true}})
		}
		alerts, err := detectors.NewResale(detectors.Env{DB: m.DB, Policy: rules.Default()}).Check(t.Context(), at, ch)
		if err != nil {
			t.Fatalf("resale check (%d of 2: single node, cluster): %v", i+1, err)
		}
		for _, al := range alerts {
			checked[i] = append(checked[i], al.ID+" "+al.Kind+" "+string(al.Severity))
		}
		slices.Sort(checked[i])
	}
	if len(checked[0]) == 0 || !slices.Equal(checked[0], checked[1]) {
		t.Errorf("resale's check of every pair: single node %v, cluster %v; want the same, not nothing", checked[0], checked[1])
	}
	want, got := alertsOf(t, single), alertsOf(t, a)
	if len(want) == 0 {
		t.Fatal("no alerts on the single node: the planted province raises some")
	}
	if !slices.Equal(got, want) {
		t.Errorf("cluster (%s) alerts differ from the single node's:\nonly on one node: %v\nonly on the cluster: %v", c.Layout, minus(want, got), minus(got, want))
	}
	t.Logf("layout %s: %d alerts on both; recall %.3f, precision %.3f", c.Layout, len(want), runs[1].Recall(), runs[1].Precision())
}

// minus returns the elements of a not in b.
func minus(a, b []string) []string {
	var out []string
	for _, x := range a {
		if !slices.Contains(b, x) {
			out = append(out, x)
		}
	}
	return out
}

// nodeUp reads vw_clickhouse_node_up of one node from m's metrics, -1 when it is missing.
func nodeUp(t *testing.T, m *Main, node string) float64 {
	t.Helper()
	mfs, err := m.Registry.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != "vw_clickhouse_node_up" {
			continue
		}
		for _, x := range mf.GetMetric() {
			for _, l := range x.GetLabel() {
				if l.GetName() == "node" && l.GetValue() == node {
					return x.GetGauge().GetValue()
				}
			}
		}
	}
	return -1
}
