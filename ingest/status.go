package ingest

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/voucherwatch/voucherwatch"
)

// Counts are the store's cluster-wide figures the status needs.
type Counts interface {
	StoredCount(ctx context.Context, typ voucherwatch.RecordType) (uint64, error)
	RejectedCount(ctx context.Context, topic string) (uint64, error)
}

// ReaderState is what one topic reader of this instance is doing.
type ReaderState int

// The states a reader goes through. A reader starts rebalancing (joining its group), consumes,
// retries while a dependency fails, and is stalled while it waits with the group's lag above
// zero and not falling (the watchdog then rebuilds it; it stays stalled until it progresses).
const (
	StateRebalancing ReaderState = iota
	StateConsuming
	StateRetrying
	StateStalled
)

// String is the state as the status endpoint shows it.
func (s ReaderState) String() string {
	switch s {
	case StateConsuming:
		return "consuming"
	case StateRetrying:
		return "retrying"
	case StateStalled:
		return "stalled"
	}
	return "rebalancing"
}

// readerState is one reader's state, written by its goroutine and read by the status.
type readerState struct {
	mu       sync.Mutex
	state    ReaderState
	since    time.Time // stalled since; zero when progressing
	inARow   int       // watchdog rebuilds since the last progress
	rebuilds int       // watchdog rebuilds in all

	// storing is set while the reader's store stage holds a batch: its messages are fetched
	// but not committed, so the group's lag does not fall meanwhile, and the watchdog waits.
	storing atomic.Bool
}

func (rs *readerState) set(s ReaderState) {
	rs.mu.Lock()
	defer rs.mu.Unlock()
	rs.state = s
}

// progress records a message received, or the group caught up. It reports whether the reader
// was stalled until then.
func (rs *readerState) progress() (wasStalled bool) {
	rs.mu.Lock()
	defer rs.mu.Unlock()
	wasStalled = !rs.since.IsZero()
	rs.state, rs.since, rs.inARow = StateConsuming, time.Time{}, 0
	return wasStalled
}

// stall records a watchdog rebuild after waiting since from; it returns when the stall began.
func (rs *readerState) stall(from time.Time) time.Time {
	rs.mu.Lock()
	defer rs.mu.Unlock()
	if rs.since.IsZero() {
		rs.since = from
	}
	rs.state = StateStalled
	rs.inARow++
	rs.rebuilds++
	return rs.since
}

func (rs *readerState) stalledSince() time.Time {
	rs.mu.Lock()
	defer rs.mu.Unlock()
	return rs.since
}

func (rs *readerState) rebuildsInARow() int {
	rs.mu.Lock()
	defer rs.mu.Unlock()
	return rs.inARow
}

// TopicState is this instance's view of one topic: the worst of its readers' states.
type TopicState struct {
	State        ReaderState
	StalledSince time.Time // zero unless stalled
	Rebuilds     int       // watchdog rebuilds since the instance started
}

// States reports each topic's state in this instance. A topic is retrying while one of its
// readers retries a dependency, stalled while one is stalled (since the earliest), rebalancing
// while one has not yet received a message or seen the group caught up.
func (c *Consumer) States() map[string]TopicState {
	out := map[string]TopicState{}
	for topic, rss := range c.readers {
		ts := TopicState{State: StateConsuming}
		for _, rs := range rss {
			rs.mu.Lock()
			st, since, n := rs.state, rs.since, rs.rebuilds
			rs.mu.Unlock()
			ts.Rebuilds += n
			if !since.IsZero() && (ts.StalledSince.IsZero() || since.Before(ts.StalledSince)) {
				ts.StalledSince = since
			}
			if st == StateRebalancing && ts.State == StateConsuming {
				ts.State = StateRebalancing
			}
		}
		if h := c.holdingBy[topic]; h != nil && h.Load() > 0 {
			ts.State = StateRetrying
		}
		if !ts.StalledSince.IsZero() {
			ts.State = StateStalled
		}
		out[topic] = ts
	}
	return out
}

// topicOffsets are a topic's consumer group's figures summed over its partitions.
type topicOffsets struct {
	Consumed int64 // committed offsets
	Lag      int64 // last offsets minus committed ones
}

// groupOffsets reads, for each topic, its group's committed offsets and the partitions' last
// offsets from Kafka. The status and the watchdog share it. A topic not created yet is absent.
func (c *Consumer) groupOffsets(ctx context.Context, topics []string) (map[string]topicOffsets, error) {
	meta, err := c.client.Metadata(ctx, &kafka.MetadataRequest{Topics: topics})
	if err != nil {
		return nil, fmt.Errorf("ingest: metadata: %w", err)
	}
	parts := map[string][]int{}
	offReq := map[string][]kafka.OffsetRequest{}
	for _, t := range meta.Topics {
		if t.Error != nil {
			continue // not created yet
		}
		for _, p := range t.Partitions {
			parts[t.Name] = append(parts[t.Name], p.ID)
			offReq[t.Name] = append(offReq[t.Name], kafka.LastOffsetOf(p.ID))
		}
	}
	out := map[string]topicOffsets{}
	if len(parts) == 0 {
		return out, nil
	}
	committed := map[string]map[int]int64{}
	for topic, ps := range parts {
		fetched, err := c.client.OffsetFetch(ctx, &kafka.OffsetFetchRequest{GroupID: c.GroupID(topic), Topics: map[string][]int{topic: ps}})
		if err != nil {
			return nil, fmt.Errorf("ingest: committed offsets of %s: %w", topic, err)
		}
		committed[topic] = map[int]int64{}
		for _, p := range fetched.Topics[topic] {
			committed[topic][p.Partition] = p.CommittedOffset
		}
	}
	lo, err := c.client.ListOffsets(ctx, &kafka.ListOffsetsRequest{Topics: offReq})
	if err != nil {
		return nil, fmt.Errorf("ingest: end offsets: %w", err)
	}
	for topic, ps := range lo.Topics {
		var to topicOffsets
		for _, p := range ps {
			cm := max(committed[topic][p.Partition], 0)
			to.Consumed += cm
			to.Lag += max(p.LastOffset-cm, 0)
		}
		out[topic] = to
	}
	return out, nil
}

// Status reports the ingest state of every topic, cluster-wide: consumed and lag from the
// group's committed offsets in Kafka, stored and rejected from ClickHouse. It does not depend
// on which instance answers, so any instance behind a load balancer gives the same figures.
// Duplicates are the committed messages that are neither a new record nor a dead letter. The
// state (consuming, rebalancing, retrying, stalled since ...) is this instance's own.
func (c *Consumer) Status(ctx context.Context, counts Counts) (voucherwatch.IngestStatus, error) {
	st := voucherwatch.IngestStatus{Topics: map[string]voucherwatch.TopicStatus{}}
	var topics []string
	for _, t := range c.cfg.Topics {
		topics = append(topics, t)
	}
	offs, err := c.groupOffsets(ctx, topics)
	if err != nil {
		return st, fmt.Errorf("ingest: status: %w", err)
	}
	states := c.States()
	for typ, topic := range c.cfg.Topics {
		ts := voucherwatch.TopicStatus{Consumed: offs[topic].Consumed, Lag: offs[topic].Lag}
		stored, err := counts.StoredCount(ctx, typ)
		if err != nil {
			return st, err
		}
		rejected, err := counts.RejectedCount(ctx, topic)
		if err != nil {
			return st, err
		}
		ts.Stored, ts.Rejected = int64(stored), int64(rejected)
		ts.Duplicates = max(ts.Consumed-ts.Stored-ts.Rejected, 0)
		state := states[topic]
		ts.State, ts.WatchdogRebuilds = state.State.String(), state.Rebuilds
		if !state.StalledSince.IsZero() {
			since := state.StalledSince.UTC()
			ts.StalledSince = &since
		}
		c.metrics.Lag.WithLabelValues(topic).Set(float64(ts.Lag))
		st.Topics[topic] = ts
	}
	return st, nil
}

// RefreshLag sets the vw_ingest_lag gauge of every topic from the group's committed offsets
// in Kafka, and nothing else: unlike Status it counts no stored records, whose exact count
// (StoredCount, a uniqExact over every record of a type) grows with the history — on a
// 10 M-record usage table it took seconds of a core, every 15 s, from ingest.
func (c *Consumer) RefreshLag(ctx context.Context) error {
	topics := make([]string, 0, len(c.cfg.Topics))
	for _, t := range c.cfg.Topics {
		topics = append(topics, t)
	}
	offs, err := c.groupOffsets(ctx, topics)
	if err != nil {
		return fmt.Errorf("ingest: lag: %w", err)
	}
	for _, topic := range topics {
		c.metrics.Lag.WithLabelValues(topic).Set(float64(offs[topic].Lag))
	}
	return nil
}

// CheckStalls returns an error naming the first topic (by name) stalled for longer than bound
// at now, or nil. /healthz uses it: the watchdog rebuilds a stalled reader within a minute or
// two, so a stall that outlasts bound is one the engine does not heal by itself.
func (c *Consumer) CheckStalls(bound time.Duration, now time.Time) error {
	states := c.States()
	topics := make([]string, 0, len(states))
	for t := range states {
		topics = append(topics, t)
	}
	slices.Sort(topics)
	for _, t := range topics {
		if since := states[t].StalledSince; !since.IsZero() && now.Sub(since) > bound {
			return fmt.Errorf("topic %s stalled for %v", t, now.Sub(since).Round(time.Second))
		}
	}
	return nil
}
