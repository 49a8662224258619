package ingest

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/voucherwatch/voucherwatch"
)

// Config says where the consumers read and how they batch. Zero values take the defaults.
type Config struct {
	Brokers         []string
	Group           string
	Topics          map[voucherwatch.RecordType]string // record type → topic
	DeadLetterTopic string

	BatchSize     int           // flush a batch at this many messages (default 100,000)
	FlushInterval time.Duration // or this long after its first message (default 500 ms)
	// KeyedFlushInterval is FlushInterval for the record types other than usage (default
	// 50 ms, never above FlushInterval): a claim, contract, settlement or registry record is
	// checked as soon as it is stored, and these topics carry few records, so a batch of them
	// waits little for more.
	KeyedFlushInterval time.Duration
	ReadersPerTopic    int           // group members per topic in this instance (default 1)
	DecodeWorkers      int           // goroutines decoding one batch (default GOMAXPROCS)
	MaxFetchBytes      int           // kafka-go fetch size per partition (default 4 MiB)
	QueueCapacity      int           // messages a reader prefetches (default 2,000)
	RetryMin           time.Duration // first back-off after a failed dependency (default 200 ms)
	RetryMax           time.Duration // longest back-off (default 15 s)
	ShutdownGrace      time.Duration // how long shutdown waits for the batch in hand (default 30 s)

	// SessionTimeout is how long the group coordinator waits for a member's heartbeat before
	// it drops the member; RebalanceTimeout how long a rebalance waits for members to rejoin
	// (both default 10 s). Short, so that a killed instance's partitions move on soon.
	SessionTimeout   time.Duration
	RebalanceTimeout time.Duration
	// StallAfter is how long a reader may wait for messages while its topic's group lag is
	// above zero and does not fall before the watchdog closes the reader (leaving the group)
	// and opens a new one (default 2 × SessionTimeout; negative: no watchdog). See watch.
	StallAfter time.Duration
}

// DefaultBatchSize is how many messages a batch holds at most. Every INSERT of usage writes a
// part of usage and of each of its rollups, and every part is a directory of files: two per
// column. On 18.16 (no compact parts) the server's cost follows the files it creates, not the
// rows, so a batch of 100,000 costs the server little more than one of 20,000. Measured on
// 400,000 hourly records into an empty database, one reader: ClickHouse used 4.8 s of CPU in
// 20,000-record batches and 1.1 s in 100,000-record ones, most of the difference the kernel
// allocating inodes; the engine's rate went from 64,000 to 134,000 records/s
// (docs/ingest-dedup.md, "Batches of 100,000"). A usage batch in hand takes about 2 KB per
// record (the message bytes its strings point into, the record, the INSERT's columns).
const DefaultBatchSize = 100_000

func (c *Config) setDefaults() {
	if c.Group == "" {
		c.Group = "voucherwatch"
	}
	if c.Topics == nil {
		c.Topics = voucherwatch.DefaultTopics
	}
	if c.DeadLetterTopic == "" {
		c.DeadLetterTopic = voucherwatch.DefaultDeadLetterTopic
	}
	if c.BatchSize <= 0 {
		c.BatchSize = DefaultBatchSize
	}
	if c.FlushInterval <= 0 {
		c.FlushInterval = 500 * time.Millisecond
	}
	if c.KeyedFlushInterval <= 0 {
		c.KeyedFlushInterval = 50 * time.Millisecond
	}
	c.KeyedFlushInterval = min(c.KeyedFlushInterval, c.FlushInterval)
	if c.ReadersPerTopic <= 0 {
		c.ReadersPerTopic = 1
	}
	if c.DecodeWorkers <= 0 {
		c.DecodeWorkers = runtime.GOMAXPROCS(0)
	}
	if c.MaxFetchBytes <= 0 {
		c.MaxFetchBytes = 4 << 20
	}
	if c.QueueCapacity <= 0 {
		c.QueueCapacity = 2000
	}
	if c.RetryMin <= 0 {
		c.RetryMin = 200 * time.Millisecond
	}
	if c.RetryMax <= 0 {
		c.RetryMax = 15 * time.Second
	}
	if c.ShutdownGrace <= 0 {
		c.ShutdownGrace = 30 * time.Second
	}
	if c.SessionTimeout <= 0 {
		c.SessionTimeout = 10 * time.Second
	}
	if c.RebalanceTimeout <= 0 {
		c.RebalanceTimeout = 10 * time.Second
	}
	if c.StallAfter == 0 {
		c.StallAfter = 2 * c.SessionTimeout
	}
}

// Consumer moves records from Kafka into the record store: one kafka-go consumer-group reader
// per topic (or several), batches flushed by size or time, offsets committed only after the
// batch is stored and its rejects are dead-lettered. Delivery is at least once; the store's
// idempotence on (source, id) makes the effect exactly once.
type Consumer struct {
	cfg     Config
	dec     *Decoder
	store   voucherwatch.RecordStore
	metrics *Metrics
	log     *slog.Logger
	dlq     *kafka.Writer
	client  *kafka.Client // offsets for the status and the watchdog

	// readers are the topics' readers' states, for the status; holding counts the readers
	// waiting on a failed dependency, so that the watchdog leaves the group alone meanwhile.
	readers   map[string][]*readerState
	holding   atomic.Int32
	holdingBy map[string]*atomic.Int32

	// OnStored, when set, is called after a batch that stored new records, so that detectors
	// whose inputs changed can be scheduled.
	OnStored func(typ voucherwatch.RecordType, stored int)
}

// NewConsumer builds a consumer. metrics and log may be nil.
func NewConsumer(cfg Config, dec *Decoder, st voucherwatch.RecordStore, metrics *Metrics, log *slog.Logger) *Consumer {
	cfg.setDefaults()
	if metrics == nil {
		metrics = NewMetrics(nil)
	}
	if log == nil {
		log = slog.Default()
	}
	readers := map[string][]*readerState{}
	holdingBy := map[string]*atomic.Int32{}
	for _, topic := range cfg.Topics {
		holdingBy[topic] = new(atomic.Int32)
		// Present from the start, so that rules can take increase() of the first rebuild.
		metrics.WatchdogRebuilds.WithLabelValues(topic)
		metrics.Stalled.WithLabelValues(topic).Set(0)
		for i := 0; i < cfg.ReadersPerTopic; i++ {
			readers[topic] = append(readers[topic], &readerState{})
		}
	}
	return &Consumer{
		cfg: cfg, dec: dec, store: st, metrics: metrics, log: log, readers: readers, holdingBy: holdingBy,
		client: &kafka.Client{Addr: kafka.TCP(cfg.Brokers...), Timeout: 10 * time.Second},
		dlq: &kafka.Writer{
			Addr:         kafka.TCP(cfg.Brokers...),
			Topic:        cfg.DeadLetterTopic,
			Balancer:     &kafka.Hash{},
			RequiredAcks: kafka.RequireAll,
			BatchTimeout: 5 * time.Millisecond,
			// Dead letters may be as large as the largest message we accept from the broker.
			BatchBytes:             int64(cfg.MaxFetchBytes),
			AllowAutoTopicCreation: true,
		},
	}
}

// Run consumes until ctx is cancelled, then finishes the batches in hand, commits and returns.
func (c *Consumer) Run(ctx context.Context) error {
	var wg sync.WaitGroup
	for typ, topic := range c.cfg.Topics {
		for _, rs := range c.readers[topic] {
			wg.Add(1)
			go func() {
				defer wg.Done()
				c.runReader(ctx, typ, topic, rs)
			}()
		}
	}
	wg.Wait()
	return c.dlq.Close()
}

// GroupID is the consumer group of one topic. Each topic has its own group, so that an
// instance joining or leaving rebalances the topics one by one, not all of them at once.
func (c *Consumer) GroupID(topic string) string { return c.cfg.Group + "." + topic }

func (c *Consumer) newReader(topic string) *kafka.Reader {
	return kafka.NewReader(kafka.ReaderConfig{
		Brokers:  c.cfg.Brokers,
		GroupID:  c.GroupID(topic),
		Topic:    topic,
		MinBytes: 1,
		MaxBytes: c.cfg.MaxFetchBytes,
		// kafka-go asks the broker to wait a quarter of MaxWait less than its own read
		// deadline (MaxWait under its 1 s RTT allowance): at 250 ms that left 62 ms, and an
		// idle partition's long poll answered later than that (the broker's loop busy with a
		// stream's produce requests) timed out and redialled, 248 times in bench live's 15 s
		// with detectors live; at 500 ms, 27. New records end a long poll at once, so the
		// wait adds no latency; it bounds how long a stopping reader waits for its fetch.
		MaxWait:     500 * time.Millisecond,
		StartOffset: kafka.FirstOffset,
		// Commits are synchronous and explicit: only after the batch is stored.
		CommitInterval: 0,
		// Prefetch enough to keep decoding busy while a batch is stored, no more: memory
		// stays bounded by partitions × fetch size plus the batch in hand.
		QueueCapacity:         c.cfg.QueueCapacity,
		WatchPartitionChanges: true,
		SessionTimeout:        c.cfg.SessionTimeout,
		RebalanceTimeout:      c.cfg.RebalanceTimeout,
		HeartbeatInterval:     c.cfg.SessionTimeout / 10,
		// kafka-go retries fetches itself and reports every retry here, including idle
		// long-polls that time out; a broker that stays away shows as lag and retries.
		ErrorLogger: kafka.LoggerFunc(func(msg string, args ...any) {
			c.log.Debug("kafka reader: "+fmt.Sprintf(msg, args...), "topic", topic)
		}),
	})
}

// batch is a batch of messages on its way through a reader's two stages: fetched and
// decoded, then stored, dead-lettered and committed.
type batch struct {
	r       *kafka.Reader // the reader that fetched it, which commits it
	msgs    []kafka.Message
	recs    []voucherwatch.Record
	dead    []voucherwatch.DeadLetter
	fetched time.Time     // when its first message was fetched
	decode  time.Duration // how long decoding took
	// prepared is recs prepared for storage (voucherwatch.RecordPreparer) while the batch
	// before was stored; nil: the store stage stores recs with StoreRecords.
	prepared voucherwatch.PreparedRecords
}

// runReader consumes one reader's share of topic in two stages: this goroutine fetches and
// decodes a batch while another stores, dead-letters and commits the batch before it. One
// stage after the other, the engine's decoding and the server's INSERT each waited for the
// other: neither core was busy most of the time. Batches are stored and committed in order,
// one at a time, so at most two are in hand: the one being stored and the next.
func (c *Consumer) runReader(ctx context.Context, typ voucherwatch.RecordType, topic string, rs *readerState) {
	r := c.newReader(topic)
	rs.set(StateRebalancing)
	toStore := make(chan *batch)
	stored := make(chan struct{})
	go func() {
		defer close(stored)
		abandoned := false
		for b := range toStore {
			if abandoned {
				// Committing a later batch would commit the abandoned one's offsets with it
				// (a partition's offset covers everything before it): nothing more is stored.
				b.release()
				continue
			}
			rs.storing.Store(true)
			// The batch in hand is finished even when shutdown has begun, within a grace period.
			pctx, pcancel := graceContext(ctx, c.cfg.ShutdownGrace)
			if err := c.process(pctx, typ, topic, b); err != nil {
				abandoned = true
				c.log.Warn("ingest: batch abandoned uncommitted; it will be delivered again", "topic", topic, "messages", len(b.msgs), "err", err)
			}
			pcancel()
			rs.storing.Store(false)
		}
	}()
	defer func() {
		close(toStore)
		<-stored
		r.Close()
	}()
	// Two batches' buffers, used in turn: the store stage has finished with one before this
	// stage hands it the next (toStore is unbuffered).
	var bufs [2]batch
	backoff := c.cfg.RetryMin
	flushAfter := c.cfg.FlushInterval
	if typ != voucherwatch.TypeUsage {
		flushAfter = c.cfg.KeyedFlushInterval
	}
	for turn := 0; ctx.Err() == nil; {
		b := &bufs[turn]
		msgs := b.msgs[:0]
		m, err := c.fetchWatched(ctx, &r, topic, rs)
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			// The reader retries brokers itself; an error here means it gave up for now.
			c.log.Warn("ingest: fetch failed, retrying", "topic", topic, "err", err, "backoff", backoff)
			c.metrics.Retries.WithLabelValues(topic, "fetch").Inc()
			sleep(ctx, backoff)
			backoff = min(backoff*2, c.cfg.RetryMax)
			continue
		}
		backoff = c.cfg.RetryMin
		fetched := time.Now()
		msgs = append(msgs, m)
		fctx, cancel := context.WithTimeout(ctx, flushAfter)
		for len(msgs) < c.cfg.BatchSize {
			m, err := r.FetchMessage(fctx)
			if err != nil {
				break
			}
			msgs = append(msgs, m)
		}
		cancel()
		*b = batch{r: r, msgs: msgs, fetched: fetched}
		if err := c.decode(ctx, typ, topic, b); err != nil || ctx.Err() != nil {
			return // shutdown: the batch was not stored, so it is delivered again
		}
		c.prepare(typ, b)
		select {
		case toStore <- b:
			turn ^= 1
		case <-ctx.Done():
			b.release()
			return
		}
	}
}

// decode decodes a batch's messages into records and dead letters. It returns an error only
// when ctx ended first.
func (c *Consumer) decode(ctx context.Context, typ voucherwatch.RecordType, topic string, b *batch) error {
	start := time.Now()
	// Only bad input is dead-lettered. Any other decode error is the engine's own
	// misconfiguration (no PII key, say): the batch waits, uncommitted, rather than sending
	// good records to the dead-letter topic.
	err := c.retry(ctx, topic, "decode", func() error {
		var err error
		b.recs, b.dead, err = c.decodeAll(typ, b.msgs)
		return err
	})
	if err != nil {
		return err
	}
	// The records now own their messages' bytes (DecodeOwned), the dead letters theirs, and
	// committing needs only the offsets: the messages can let go of them (a registry record,
	// decoded into copies so as not to pin identity numbers, frees its message here).
	for i := range b.msgs {
		b.msgs[i].Key, b.msgs[i].Value, b.msgs[i].Headers = nil, nil, nil
	}
	b.decode = time.Since(start)
	return nil
}

// prepare does the batch's own storage work (voucherwatch.RecordPreparer) in the fetch stage,
// while the batch before is stored: checking, the batch's repeats, the table's order were 13 %
// of the engine's CPU on the store stage's path. A store that cannot prepare, or an error
// (StoreRecords reports it again in the store stage), leaves the batch to StoreRecords.
func (c *Consumer) prepare(typ voucherwatch.RecordType, b *batch) {
	p, ok := c.store.(voucherwatch.RecordPreparer)
	if !ok || len(b.recs) == 0 {
		return
	}
	if prepared, err := p.PrepareRecords(typ, b.recs); err == nil {
		b.prepared = prepared
	}
}

// release gives the batch's prepared storage back, once it is stored or given up.
func (b *batch) release() {
	if b.prepared != nil {
		b.prepared.Release()
		b.prepared = nil
	}
}

// process stores one decoded batch and commits it. It returns an error only when ctx ended
// first; then nothing of the batch is committed and Kafka delivers it again.
func (c *Consumer) process(ctx context.Context, typ voucherwatch.RecordType, topic string, b *batch) error {
	ctx = voucherwatch.WithQueryLabel(ctx, "ingest:"+topic)
	msgs, recs, dead := b.msgs, b.recs, b.dead
	defer func() { b.recs, b.dead = nil, nil }() // the batch's buffer is reused; its records are not
	defer b.release()
	start := time.Now()
	var res voucherwatch.WriteResult
	if len(recs) > 0 {
		prepared := b.prepared
		err := c.retry(ctx, topic, "store", func() error {
			var err error
			if prepared != nil {
				// A prepared batch is stored once; a retry stores the records afresh.
				p := prepared
				prepared = nil
				res, err = c.store.(voucherwatch.RecordPreparer).StorePrepared(ctx, p)
				return err
			}
			res, err = c.store.StoreRecords(ctx, typ, recs)
			return err
		})
		if err != nil {
			return err
		}
	}
	c.metrics.InsertTime.WithLabelValues(topic).Observe(time.Since(start).Seconds())
	c.logSmallBatch(typ, topic, msgs, recs, b.fetched)

	if len(dead) > 0 {
		if err := c.deadLetter(ctx, topic, dead); err != nil {
			return err
		}
	}

	// A commit can fail for good when the group rebalanced under us: the new owner of the
	// partition receives the batch again and recognises it as stored. So a commit is retried a
	// bounded number of times, never forever.
	attempt := 0
	commitStart := time.Now()
	err := c.retry(ctx, topic, "commit", func() error {
		attempt++
		err := b.r.CommitMessages(ctx, msgs...)
		if err != nil && attempt >= 8 {
			return permanent{err}
		}
		return err
	})
	if err != nil && ctx.Err() != nil {
		return err
	} else if err != nil {
		c.log.Warn("ingest: commit failed; the batch will be delivered again and recognised as stored", "topic", topic, "err", err)
	} else {
		c.metrics.Consumed.WithLabelValues(topic).Add(float64(len(msgs)))
	}
	c.observeStages(typ, topic, len(msgs), res, b.decode, time.Since(commitStart), time.Since(b.fetched))
	c.metrics.BatchSize.WithLabelValues(topic).Observe(float64(len(msgs)))
	c.metrics.Stored.WithLabelValues(topic).Add(float64(res.Stored))
	c.metrics.Duplicates.WithLabelValues(topic).Add(float64(res.Duplicates))
	c.metrics.Rejected.WithLabelValues(topic).Add(float64(len(dead)))
	if res.Stored > 0 && c.OnStored != nil {
		c.OnStored(typ, res.Stored)
	}
	return nil
}

// observeStages records where a batch's time went (Metrics.Stages) and, at debug level, logs
// it for usage batches: the operator's view of what a batch costs as the history grows
// (docs/ingest-dedup.md, "Where a batch's time goes").
func (c *Consumer) observeStages(typ voucherwatch.RecordType, topic string, msgs int, res voucherwatch.WriteResult, decode, commit, total time.Duration) {
	s := res.Stages
	for _, st := range []struct {
		name string
		d    time.Duration
	}{{"decode", decode}, {"turn", s.Turn}, {"prepare", s.Prepare}, {"lookup", s.LookUp}, {"wait", s.Wait}, {"fill", s.Fill}, {"send", s.Send}, {"commit", commit}} {
		c.metrics.Stages.WithLabelValues(topic, st.name).Observe(st.d.Seconds())
	}
	if typ != voucherwatch.TypeUsage || !c.log.Enabled(context.Background(), slog.LevelDebug) {
		return
	}
	ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
	c.log.Debug("ingest: batch stored", "topic", topic, "messages", msgs, "stored", res.Stored,
		"decode_ms", ms(decode), "turn_ms", ms(s.Turn), "prepare_ms", ms(s.Prepare), "lookup_ms", ms(s.LookUp),
		"wait_ms", ms(s.Wait), "fill_ms", ms(s.Fill), "send_ms", ms(s.Send), "refills", s.Retries,
		"commit_ms", ms(commit), "fetch_to_committed_ms", ms(total))
}

// logSmallBatch logs, at debug level, where the time of a small batch of a keyed record type
// went (produce to fetch, fetch to stored), naming its records' ids: the alert-latency probes
// of `voucherwatch bench live` follow their records through it. Usage is not logged.
func (c *Consumer) logSmallBatch(typ voucherwatch.RecordType, topic string, msgs []kafka.Message, recs []voucherwatch.Record, fetched time.Time) {
	const most = 20
	if typ == voucherwatch.TypeUsage || len(msgs) > most || !c.log.Enabled(context.Background(), slog.LevelDebug) {
		return
	}
	produced := msgs[0].Time
	for _, m := range msgs[1:] {
		if m.Time.Before(produced) {
			produced = m.Time
		}
	}
	ids := make([]string, 0, len(recs))
	for i := range recs {
		ids = append(ids, recs[i].ID)
	}
	c.log.Debug("ingest: small batch stored", "topic", topic, "messages", len(msgs), "ids", strings.Join(ids, ","),
		"produce_to_fetch", fetched.Sub(produced).Round(time.Millisecond), "fetch_to_stored", time.Since(fetched).Round(time.Millisecond))
}

// decodeAll decodes a batch on DecodeWorkers goroutines. Records keep the batch's order.
func (c *Consumer) decodeAll(typ voucherwatch.RecordType, msgs []kafka.Message) ([]voucherwatch.Record, []voucherwatch.DeadLetter, error) {
	recs := make([]voucherwatch.Record, len(msgs))
	errs := make([]error, len(msgs))
	workers := min(c.cfg.DecodeWorkers, (len(msgs)+255)/256)
	var wg sync.WaitGroup
	chunk := (len(msgs) + workers - 1) / workers
	for w := 0; w < workers; w++ {
		lo, hi := w*chunk, min((w+1)*chunk, len(msgs))
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := lo; i < hi; i++ {
				m := &msgs[i]
				recs[i], errs[i] = c.dec.DecodeOwned(typ, m.Value)
				recs[i].Origin = voucherwatch.Origin{Topic: m.Topic, Partition: m.Partition, Offset: m.Offset}
			}
		}()
	}
	wg.Wait()

	var dead []voucherwatch.DeadLetter
	good := recs[:0]
	for i, err := range errs {
		if err == nil {
			good = append(good, recs[i])
			continue
		}
		if code := voucherwatch.ErrorCode(err); code != voucherwatch.EINVALID {
			return nil, nil, fmt.Errorf("ingest: decoder misconfigured: %w", err)
		}
		m := &msgs[i]
		source, id, supplier := Sniff(m.Value)
		dead = append(dead, voucherwatch.DeadLetter{
			Origin: voucherwatch.Origin{Topic: m.Topic, Partition: m.Partition, Offset: m.Offset},
			Key:    m.Key, Value: m.Value,
			Source: source, ID: id, Supplier: supplier,
			Reason: voucherwatch.MaskText(err.Error()), // decode errors mask what they quote; this is the backstop
			At:     time.Now(),
		})
	}
	return good, dead, nil
}

// Headers of a dead letter besides vw.error (the reason), vw.topic, vw.partition and
// vw.offset (where it was read).
const (
	HeaderSupplier   = "vw.supplier"    // the supplier's USCC where it could be read
	HeaderRejectedAt = "vw.rejected_at" // RFC 3339, UTC
)

// deadLetter publishes rejected messages to the dead-letter topic, original bytes as the value,
// and keeps them in the store for the data-quality views.
func (c *Consumer) deadLetter(ctx context.Context, topic string, dead []voucherwatch.DeadLetter) error {
	out := make([]kafka.Message, len(dead))
	for i, d := range dead {
		c.log.Info("ingest: message rejected", "topic", d.Topic, "partition", d.Partition, "offset", d.Offset, "source", d.Source, "reason", d.Reason)
		out[i] = kafka.Message{
			Key:   d.Key,
			Value: d.Value,
			Headers: []kafka.Header{
				{Key: "vw.error", Value: []byte(d.Reason)},
				{Key: "vw.topic", Value: []byte(d.Topic)},
				{Key: "vw.partition", Value: []byte(strconv.Itoa(d.Partition))},
				{Key: "vw.offset", Value: []byte(strconv.FormatInt(d.Offset, 10))},
				// What replay (deadletters replay) selects and sends back by.
				{Key: HeaderSupplier, Value: []byte(d.Supplier)},
				{Key: HeaderRejectedAt, Value: []byte(d.At.UTC().Format(time.RFC3339Nano))},
			},
		}
	}
	if err := c.retry(ctx, topic, "deadletter_publish", func() error { return c.dlq.WriteMessages(ctx, out...) }); err != nil {
		return err
	}
	return c.retry(ctx, topic, "deadletter_store", func() error { return c.store.StoreDeadLetters(ctx, dead) })
}

// fetchWatched is FetchMessage under the progress watchdog. While the reader waits for a
// message it looks, every WatchInterval, at how long it has waited: once it has waited half of
// StallAfter it samples the topic's group lag; when it has waited StallAfter more and the lag is
// still above zero and has not fallen, some member holds partitions it does not consume (a dead
// member the coordinator never expired: kfake keeps one whose JoinGroup was pending when it
// died). The watchdog then closes the reader, which leaves the group, and opens a new one: the
// rebalance that follows completes only with the members that rejoin, so the dead one is
// dropped. On a healthy cluster the same step costs one rebalance.
//
// The watchdog looks only while this reader waits for messages and no reader of the instance
// is retrying a failed dependency: an instance that holds back on purpose (ClickHouse retries,
// back-pressure) does not fetch, and its lag is expected not to fall. From the third rebuild
// without progress on, each waits twice as long as the one before (up to 8 × StallAfter), so a
// cause the rebuild does not cure costs a rebalance every few minutes, not every cycle.
func (c *Consumer) fetchWatched(ctx context.Context, r **kafka.Reader, topic string, rs *readerState) (kafka.Message, error) {
	if c.cfg.StallAfter < 0 {
		m, err := (*r).FetchMessage(ctx)
		if err == nil {
			rs.progress()
		}
		return m, err
	}
	half := c.cfg.StallAfter / 2
	tick := min(half, time.Second)
	waitFrom := time.Now()
	var sampled time.Time // when baseline was sampled; zero: not yet
	var baseline int64
	for {
		wctx, cancel := context.WithTimeout(ctx, tick)
		m, err := (*r).FetchMessage(wctx)
		cancel()
		if err == nil {
			if rs.progress() {
				c.metrics.Stalled.WithLabelValues(topic).Set(0)
			}
			return m, nil
		}
		if ctx.Err() != nil || !errors.Is(err, context.DeadlineExceeded) {
			return m, err
		}
		now := time.Now()
		// The first rebuild after the first stall is retried as soon; from the third on, each
		// waits twice as long as the one before, up to 8 × StallAfter.
		patience := half << min(max(rs.rebuildsInARow()-1, 0), 3)
		if c.holding.Load() > 0 || rs.storing.Load() {
			// Another reader of this instance holds back, or this reader's batch before is
			// being stored, uncommitted: start the wait over once it is done.
			waitFrom, sampled = now, time.Time{}
			continue
		}
		if now.Sub(waitFrom) < patience || (!sampled.IsZero() && now.Sub(sampled) < patience) {
			if since := rs.stalledSince(); !since.IsZero() {
				c.metrics.Stalled.WithLabelValues(topic).Set(now.Sub(since).Seconds())
			}
			continue
		}
		lctx, lcancel := context.WithTimeout(ctx, 5*time.Second)
		offs, err := c.groupOffsets(lctx, []string{topic})
		lcancel()
		if err != nil {
			c.log.Debug("ingest: watchdog: group lag unavailable", "topic", topic, "err", err)
			continue
		}
		lag := offs[topic].Lag
		switch {
		case lag == 0:
			// Caught up: waiting is all there is to do.
			rs.progress()
			c.metrics.Stalled.WithLabelValues(topic).Set(0)
			waitFrom, sampled = now, time.Time{}
		case sampled.IsZero() || lag < baseline:
			// First sample, or others in the group are consuming: watch on from here.
			baseline, sampled = lag, now
		default:
			since := rs.stall(waitFrom)
			c.metrics.Stalled.WithLabelValues(topic).Set(now.Sub(since).Seconds())
			c.metrics.WatchdogRebuilds.WithLabelValues(topic).Inc()
			c.log.Warn("ingest: watchdog: no message while the group's lag does not fall; rebuilding the reader to force a rebalance",
				"topic", topic, "lag", lag, "waited", now.Sub(waitFrom).Round(time.Second), "stalled_since", since.UTC().Format(time.RFC3339))
			if err := (*r).Close(); err != nil {
				c.log.Debug("ingest: watchdog: close reader", "topic", topic, "err", err)
			}
			*r = c.newReader(topic)
			// Joining may take the rebalance timeout: the wait starts after it.
			waitFrom, sampled = time.Now().Add(c.cfg.RebalanceTimeout), time.Time{}
		}
	}
}

// permanent marks an error that retry must not retry.
type permanent struct{ error }

// retry runs fn until it succeeds, with exponential back-off, while ctx lives. Meanwhile this
// reader fetches nothing: a failing dependency stops consumption (back-pressure) instead of
// piling records up in memory.
func (c *Consumer) retry(ctx context.Context, topic, op string, fn func() error) error {
	backoff := c.cfg.RetryMin
	held := false
	for {
		err := fn()
		if err == nil {
			return nil
		}
		var p permanent
		if errors.As(err, &p) {
			return p.error
		}
		if ctx.Err() != nil {
			return fmt.Errorf("ingest: %s on %s: %w (gave up: %v)", op, topic, err, ctx.Err())
		}
		c.metrics.Retries.WithLabelValues(topic, op).Inc()
		c.log.Warn("ingest: dependency failed, retrying", "op", op, "topic", topic, "err", err, "backoff", backoff)
		if !held {
			held = true
			c.hold(topic, 1)
			defer c.hold(topic, -1)
		}
		if !sleep(ctx, backoff) {
			return fmt.Errorf("ingest: %s on %s: %w (gave up: %v)", op, topic, err, ctx.Err())
		}
		backoff = min(backoff*2, c.cfg.RetryMax)
	}
}

// hold counts a reader that starts (d 1) or stops (d -1) retrying a failed dependency.
func (c *Consumer) hold(topic string, d int32) {
	c.holding.Add(d)
	if h := c.holdingBy[topic]; h != nil {
		h.Add(d)
	}
}

// sleep waits d or until ctx ends; it reports whether the full wait passed.
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// graceContext is a context that outlives parent by grace: work started before shutdown may
// finish, but not hang shutdown forever.
func graceContext(parent context.Context, grace time.Duration) (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithCancel(context.WithoutCancel(parent))
	stop := context.AfterFunc(parent, func() { time.AfterFunc(grace, cancel) })
	return ctx, func() { stop(); cancel() }
}
