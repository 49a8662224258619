package ingest_test

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/segmentio/kafka-go"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/voucherwatch/voucherwatch"
	"github.com/voucherwatch/voucherwatch/ingest"
	"github.com/voucherwatch/voucherwatch/store"
	"github.com/voucherwatch/voucherwatch/store/storetest"
	"github.com/voucherwatch/voucherwatch/synth"
)

// watchdogRig is a database, an embedded broker with vw.usage in 6 partitions, and the usage
// messages to produce.
type watchdogRig struct {
	db     *store.DB
	broker *ingest.Embedded
	msgs   []kafka.Message
}

func newWatchdogRig(t *testing.T, n int) *watchdogRig {
	t.Helper()
	ctx := context.Background()
	db, err := store.Open(ctx, storetest.Database(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	broker, err := ingest.StartEmbedded(ingest.EmbeddedConfig{Addr: "127.0.0.1:0", Topics: []string{"vw.usage", "vw.deadletter"}, Partitions: 6})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(broker.Close)
	rig := &watchdogRig{db: db, broker: broker}
	if err := synth.UsageStream(11, n, func(m synth.Message) error {
		rig.msgs = append(rig.msgs, kafka.Message{Key: bytes.Clone(m.Key), Value: bytes.Clone(m.Value)})
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return rig
}

func (rig *watchdogRig) produce(t *testing.T) {
	t.Helper()
	w := &kafka.Writer{Addr: kafka.TCP(rig.broker.Addr()), Topic: "vw.usage", Balancer: &kafka.Hash{}, BatchTimeout: time.Millisecond}
	defer w.Close()
	if err := w.WriteMessages(context.Background(), rig.msgs...); err != nil {
		t.Fatal(err)
	}
}

func (rig *watchdogRig) config(group string) ingest.Config {
	return ingest.Config{
		Brokers: []string{rig.broker.Addr()}, Group: group,
		Topics:    map[voucherwatch.RecordType]string{voucherwatch.TypeUsage: "vw.usage"},
		BatchSize: 500, FlushInterval: 100 * time.Millisecond,
		RetryMin: 100 * time.Millisecond, RetryMax: time.Second,
		// kfake's shortest session is 6 s; the rebalance after a rebuild takes at most 2 s.
		SessionTimeout: 6 * time.Second, RebalanceTimeout: 2 * time.Second, StallAfter: 4 * time.Second,
	}
}

// waitDone polls the status until every message is committed and the lag is 0.
func (rig *watchdogRig) waitDone(t *testing.T, c *ingest.Consumer, within time.Duration) voucherwatch.TopicStatus {
	t.Helper()
	deadline := time.Now().Add(within)
	var last voucherwatch.TopicStatus
	for time.Now().Before(deadline) {
		st, err := c.Status(context.Background(), rig.db)
		if err == nil {
			last = st.Topics["vw.usage"]
			if last.Consumed == int64(len(rig.msgs)) && last.Lag == 0 {
				return last
			}
		}
		time.Sleep(250 * time.Millisecond)
	}
	t.Fatalf("ingest did not complete in %v: last status %+v", within, last)
	return last
}

// joinDeadMember joins group as a second member that takes its share of topic's partitions and
// then never fetches, heartbeats nor leaves, with the longest session the broker allows: the
// state kfake leaves behind when a member dies while its JoinGroup is pending. It returns the
// partitions the dead member holds. It speaks the group protocol with franz-go's kmsg, which
// kfake itself is built on.
func joinDeadMember(t *testing.T, addr, group, topic string) []int32 {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cl, err := kgo.NewClient(kgo.SeedBrokers(addr))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	meta := kmsg.ConsumerMemberMetadata{Version: 0, Topics: []string{topic}}
	join := kmsg.NewPtrJoinGroupRequest()
	join.Group, join.ProtocolType = group, "consumer"
	join.SessionTimeoutMillis, join.RebalanceTimeoutMillis = 300000, 1000
	join.Protocols = []kmsg.JoinGroupRequestProtocol{{Name: "range", Metadata: meta.AppendTo(nil)}}
	var jr *kmsg.JoinGroupResponse
	for range 2 {
		jr, err = join.RequestWith(ctx, cl)
		if err != nil {
			t.Fatalf("dead member: join: %v", err)
		}
		if jr.ErrorCode != kerr.MemberIDRequired.Code {
			break
		}
		join.MemberID = jr.MemberID
	}
	if err := kerr.ErrorForCode(jr.ErrorCode); err != nil {
		t.Fatalf("dead member: join: %v", err)
	}
	sync := kmsg.NewPtrSyncGroupRequest()
	sync.Group, sync.Generation, sync.MemberID = group, jr.Generation, jr.MemberID
	sync.ProtocolType, sync.Protocol = kmsg.StringPtr("consumer"), jr.Protocol
	if jr.LeaderID == jr.MemberID {
		// The dead member leads: it gives itself partitions 0-2 and the live member 3-5.
		for _, m := range jr.Members {
			ps := []int32{3, 4, 5}
			if m.MemberID == jr.MemberID {
				ps = []int32{0, 1, 2}
			}
			a := kmsg.ConsumerMemberAssignment{Topics: []kmsg.ConsumerMemberAssignmentTopic{{Topic: topic, Partitions: ps}}}
			sync.GroupAssignment = append(sync.GroupAssignment, kmsg.SyncGroupRequestGroupAssignment{MemberID: m.MemberID, MemberAssignment: a.AppendTo(nil)})
		}
	}
	sr, err := sync.RequestWith(ctx, cl)
	if err == nil {
		err = kerr.ErrorForCode(sr.ErrorCode)
	}
	if err != nil {
		t.Fatalf("dead member: sync: %v", err)
	}
	var a kmsg.ConsumerMemberAssignment
	if err := a.ReadFrom(sr.MemberAssignment); err != nil {
		t.Fatalf("dead member: assignment: %v", err)
	}
	var held []int32
	for _, tp := range a.Topics {
		held = append(held, tp.Partitions...)
	}
	return held
}

// TestWatchdogRebuildsReaderBlockedByDeadMember: a member that holds half the partitions and
// never fetches (and whose session outlasts the test) blocks half the topic. The watchdog sees
// the lag not falling, rebuilds the reader, the rebalance drops the dead member, the metric
// counts the rebuild, the status shows it, and every record is stored once. Without the
// watchdog (StallAfter < 0) the lag stays for the dead member's 5-minute session.
func TestWatchdogRebuildsReaderBlockedByDeadMember(t *testing.T) {
	rig := newWatchdogRig(t, 3000)
	reg := prometheus.NewRegistry()
	metrics := ingest.NewMetrics(reg)
	c := ingest.NewConsumer(rig.config("blocked"), &ingest.Decoder{PIIKey: []byte("k")}, rig.db, metrics, nil)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- c.Run(ctx) }()
	defer func() { cancel(); <-done }()

	waitGroupMembers(t, rig.broker.Addr(), c.GroupID("vw.usage"), 1)
	held := joinDeadMember(t, rig.broker.Addr(), c.GroupID("vw.usage"), "vw.usage")
	if len(held) == 0 {
		t.Fatal("the dead member holds no partition: nothing is blocked")
	}
	waitGroupMembers(t, rig.broker.Addr(), c.GroupID("vw.usage"), 2)
	rig.produce(t)

	// The live reader drains its own partitions first: the topic is blocked, not idle.
	deadline := time.Now().Add(30 * time.Second)
	for {
		st, err := c.Status(context.Background(), rig.db)
		if err == nil && st.Topics["vw.usage"].Stored > 0 && st.Topics["vw.usage"].Lag > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the live reader stored nothing of its partitions: %+v %v", st, err)
		}
		time.Sleep(100 * time.Millisecond)
	}

	// The status says since when the topic is stalled, and /healthz's check names it once the
	// stall outlasts its bound.
	for {
		st, err := c.Status(context.Background(), rig.db)
		if ts := st.Topics["vw.usage"]; err == nil && ts.State == "stalled" && ts.StalledSince != nil {
			if err := c.CheckStalls(0, time.Now()); err == nil || !strings.Contains(err.Error(), "topic vw.usage stalled for") {
				t.Errorf("health while stalled: got %v, want topic vw.usage stalled for ...", err)
			}
			if err := c.CheckStalls(time.Hour, time.Now()); err != nil {
				t.Errorf("health while stalled within the bound: got %v, want nil", err)
			}
			break
		}
		if time.Now().After(deadline.Add(30 * time.Second)) {
			t.Fatalf("the status never showed the topic stalled: %+v %v", st, err)
		}
		time.Sleep(100 * time.Millisecond)
	}

	got := rig.waitDone(t, c, 90*time.Second)
	if got.Stored != int64(len(rig.msgs)) || got.Duplicates != 0 {
		t.Errorf("got stored %d duplicates %d, want %d and 0", got.Stored, got.Duplicates, len(rig.msgs))
	}
	if err := c.CheckStalls(0, time.Now()); err != nil {
		t.Errorf("health after recovery: got %v, want nil", err)
	}
	if n := testutil.ToFloat64(metrics.WatchdogRebuilds.WithLabelValues("vw.usage")); n < 1 {
		t.Errorf("got %v watchdog rebuilds counted, want at least 1", n)
	}
	if got.WatchdogRebuilds < 1 {
		t.Errorf("status: got %d watchdog rebuilds, want at least 1", got.WatchdogRebuilds)
	}
	// Once progressing again the topic is consuming and no longer stalled.
	if got.State == "stalled" || got.StalledSince != nil {
		st, _ := c.Status(context.Background(), rig.db)
		if ts := st.Topics["vw.usage"]; ts.State != "consuming" || ts.StalledSince != nil {
			t.Errorf("after recovery: got state %q stalled since %v, want consuming and not stalled", ts.State, ts.StalledSince)
		}
	}
	if n := testutil.ToFloat64(metrics.Stalled.WithLabelValues("vw.usage")); n != 0 {
		t.Errorf("after recovery: got vw_ingest_stalled_seconds %v, want 0", n)
	}
}

// failingStore fails every usage insert while failing is set: ClickHouse is away.
type failingStore struct {
	*store.DB
	failing atomic.Bool
}

func (f *failingStore) StoreRecords(ctx context.Context, typ voucherwatch.RecordType, recs []voucherwatch.Record) (voucherwatch.WriteResult, error) {
	if f.failing.Load() {
		return voucherwatch.WriteResult{}, errors.New("clickhouse: connection refused")
	}
	return f.DB.StoreRecords(ctx, typ, recs)
}

func (f *failingStore) StorePrepared(ctx context.Context, p voucherwatch.PreparedRecords) (voucherwatch.WriteResult, error) {
	if f.failing.Load() {
		return voucherwatch.WriteResult{}, errors.New("clickhouse: connection refused")
	}
	return f.DB.StorePrepared(ctx, p)
}

// TestWatchdogQuietWhileHoldingBack is the look-alike: ClickHouse refuses inserts for three
// times the watchdog's patience, so nothing is committed and the lag does not fall. The
// instance is holding back on purpose (retrying the batch in hand): the watchdog must not
// rebuild the reader, the status says retrying, and once ClickHouse is back every record is
// stored once. Caught up and idle for twice the patience, it stays quiet too.
func TestWatchdogQuietWhileHoldingBack(t *testing.T) {
	rig := newWatchdogRig(t, 3000)
	reg := prometheus.NewRegistry()
	metrics := ingest.NewMetrics(reg)
	cfg := rig.config("holding")
	fs := &failingStore{DB: rig.db}
	fs.failing.Store(true)
	c := ingest.NewConsumer(cfg, &ingest.Decoder{PIIKey: []byte("k")}, fs, metrics, nil)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- c.Run(ctx) }()
	defer func() { cancel(); <-done }()
	rig.produce(t)

	time.Sleep(3 * cfg.StallAfter)
	st, err := c.Status(context.Background(), rig.db)
	if err != nil {
		t.Fatal(err)
	}
	if ts := st.Topics["vw.usage"]; ts.Lag != int64(len(rig.msgs)) || ts.State != "retrying" {
		t.Errorf("while ClickHouse is away: got lag %d state %q, want %d and retrying", ts.Lag, ts.State, len(rig.msgs))
	}
	fs.failing.Store(false)
	got := rig.waitDone(t, c, 60*time.Second)
	if got.Stored != int64(len(rig.msgs)) || got.Duplicates != 0 {
		t.Errorf("got stored %d duplicates %d, want %d and 0", got.Stored, got.Duplicates, len(rig.msgs))
	}
	time.Sleep(2 * cfg.StallAfter)
	if n := testutil.ToFloat64(metrics.WatchdogRebuilds.WithLabelValues("vw.usage")); n != 0 {
		t.Errorf("got %v watchdog rebuilds, want 0: holding back and idling are not stalls", n)
	}
	if n := testutil.ToFloat64(metrics.Retries.WithLabelValues("vw.usage", "store")); n == 0 {
		t.Error("got no store retries counted, want some: the look-alike did not hold back")
	}
	st, _ = c.Status(context.Background(), rig.db)
	if ts := st.Topics["vw.usage"]; ts.State != "consuming" {
		t.Errorf("caught up: got state %q, want consuming", ts.State)
	}
}

// waitGroupMembers waits until group is Stable with n members.
func waitGroupMembers(t *testing.T, addr, group string, n int) {
	t.Helper()
	client := &kafka.Client{Addr: kafka.TCP(addr)}
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		resp, err := client.DescribeGroups(context.Background(), &kafka.DescribeGroupsRequest{GroupIDs: []string{group}})
		if err == nil && len(resp.Groups) == 1 && resp.Groups[0].GroupState == "Stable" && len(resp.Groups[0].Members) == n {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("group %s did not reach %d stable members", group, n)
}
