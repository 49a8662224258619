package main

import (
	"cmp"
	"context"
	"fmt"
	"log/slog"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/voucherwatch/voucherwatch"
	"github.com/voucherwatch/voucherwatch/detectors"
	"github.com/voucherwatch/voucherwatch/ingest"
	"github.com/voucherwatch/voucherwatch/rules"
	"github.com/voucherwatch/voucherwatch/store"
	"github.com/voucherwatch/voucherwatch/synth"
)

// The province of issue 10: 10,000 resources reporting hourly (about 90 M usage records a
// year), 5,000 enterprises. The other record types follow the enterprises in synth.
const (
	provinceUsagePerYear   = 90_000_000
	provinceEnterprises    = 5_000
	provinceSuppliers      = 250
	historyBatch           = 20_000
	historyFillerUsageSeed = 1001 // the hourly filler; the live shapes use other seeds
)

// scaleHistory is what buildHistory stored.
type scaleHistory struct {
	Province synth.Config
	Truth    synth.Truth
	Stats    synth.Stats
	// Messages is the province's messages, kept for the latency probes, which copy some.
	Messages []synth.Message
	Stored   map[voucherwatch.RecordType]int // records stored, per type
	Filler   int                             // usage records of the hourly filler among them
	Took     time.Duration
	// Reused says that the database already held the history, so nothing was stored.
	Reused bool
}

// historyProvince is the synthetic province whose enterprises stand in proportion to usage
// records: 5,000 per 90 M, at least the demo's 400 so that every planted case has room. Its
// planted cases are the demo's.
func historyProvince(usage int) synth.Config {
	c := synth.DefaultConfig(synth.DemoSeed)
	scale := float64(usage) / provinceUsagePerYear
	c.Enterprises = max(c.Enterprises, int(math.Round(provinceEnterprises*scale)))
	c.Suppliers = max(c.Suppliers, int(math.Round(provinceSuppliers*scale)))
	return c
}

// buildHistory stores a province's history: the synthetic province of historyProvince (every
// record type, its duplicates and planted cases), then hourly usage up to usage records in
// all. It writes through the engine's own writer (StoreRecords) the records the engine's
// decoder makes of the messages, so the tables, keys and rollups are what ingest stores; only
// the Kafka coordinates differ (partition 0, offsets counted per topic). Storing the same
// history again stores nothing. With reuse, a database already holding at least usage
// records (a kept run's history) is taken as it is: only the province is generated again,
// for its planted cases and the probes. With fast, the hourly filler is generated in
// ClickHouse (store.StoreGeneratedUsage: the same nodes, keys and rollups, figures made by
// hashes instead of the stream's generator), starting after the filler records the database
// holds already, so a history cut short is topped up.
func buildHistory(ctx context.Context, st *store.DB, usage int, o historyOptions, logf func(string, ...any)) (scaleHistory, error) {
	start := time.Now()
	h := scaleHistory{Province: historyProvince(usage), Stored: map[voucherwatch.RecordType]int{}}
	logf("history: generating the province (%d enterprises, %d suppliers, planted cases)...", h.Province.Enterprises, h.Province.Suppliers)
	p := synth.Generate(h.Province)
	h.Truth, h.Stats, h.Messages = p.Truth, p.Stats, p.Messages
	if o.reuse {
		var stored uint64
		if err := st.Conn().QueryRow(ctx, "SELECT count() FROM usage").Scan(&stored); err != nil {
			return h, fmt.Errorf("bench scale: history: %w", err)
		}
		if stored >= uint64(usage) || o.asIs && stored > 0 {
			h.Reused, h.Took = true, time.Since(start)
			h.Filler = max(0, int(stored)-p.Stats.Topics[synth.TopicUsage].Unique)
			logf("history: reusing the %d usage records stored", stored)
			return h, nil
		}
	}

	dec := &ingest.Decoder{PIIKey: []byte(devPIIKey)}
	typeOf := map[string]voucherwatch.RecordType{}
	for typ, topic := range voucherwatch.DefaultTopics {
		typeOf[topic] = typ
	}
	batches := map[voucherwatch.RecordType][]voucherwatch.Record{}
	offsets := map[voucherwatch.RecordType]int64{}
	flush := func(typ voucherwatch.RecordType) error {
		recs := batches[typ]
		if len(recs) == 0 {
			return nil
		}
		res, err := st.StoreRecords(ctx, typ, recs)
		if err != nil {
			return fmt.Errorf("bench scale: history: %w", err)
		}
		h.Stored[typ] += res.Stored
		batches[typ] = recs[:0]
		return nil
	}
	add := func(topic string, value []byte) error {
		typ, ok := typeOf[topic]
		if !ok {
			return fmt.Errorf("bench scale: history: unknown topic %q", topic)
		}
		rec, err := dec.Decode(typ, value)
		if err != nil {
			return fmt.Errorf("bench scale: history: generated %s record rejected: %w", typ, err)
		}
		rec.Origin = voucherwatch.Origin{Topic: topic, Partition: 0, Offset: offsets[typ]}
		offsets[typ]++
		batches[typ] = append(batches[typ], rec)
		if len(batches[typ]) == historyBatch {
			return flush(typ)
		}
		return nil
	}
	// Kafka delivers each topic in order; topics are independent of one another.
	for _, m := range p.Messages {
		if err := add(m.Topic, m.Value); err != nil {
			return h, err
		}
	}
	for _, typ := range voucherwatch.RecordTypes {
		if err := flush(typ); err != nil {
			return h, err
		}
	}
	logf("history: province stored: %v", h.Stored)

	// The filler tops the province's distinct usage records up to usage, also when the
	// province was stored before (then nothing of either is new).
	h.Filler = max(0, usage-p.Stats.Topics[synth.TopicUsage].Unique)
	if o.fast {
		return h, fastFiller(ctx, st, &h, p.Stats.Topics[synth.TopicUsage].Unique, offsets[voucherwatch.TypeUsage], start, logf)
	}
	logf("history: storing %d hourly usage records on top...", h.Filler)
	last := time.Now()
	err := synth.UsageStream(historyFillerUsageSeed, h.Filler, func(m synth.Message) error {
		if err := add(m.Topic, m.Value); err != nil {
			return err
		}
		if time.Since(last) > 10*time.Second {
			last = time.Now()
			logf("history: %d usage records stored", h.Stored[voucherwatch.TypeUsage])
		}
		return nil
	})
	if err == nil {
		err = flush(voucherwatch.TypeUsage)
	}
	h.Took = time.Since(start)
	return h, err
}

// historyOptions say how buildHistory stores: reuse a kept history, generate the filler in
// ClickHouse.
type historyOptions struct {
	reuse, fast bool
	// asIs takes a reused history also when it holds fewer records than asked (a build cut
	// short): the figures are then of the records it holds.
	asIs bool
}

// fastFiller stores the hourly filler of h in ClickHouse (store.StoreGeneratedUsage), after
// the filler records already stored: the database holds the province's provinceUsage usage
// records and a prefix of the filler (the writer and this path both store it in order).
func fastFiller(ctx context.Context, st *store.DB, h *scaleHistory, provinceUsage int, offset int64, start time.Time, logf func(string, ...any)) error {
	var stored uint64
	if err := st.Conn().QueryRow(ctx, "SELECT count() FROM usage").Scan(&stored); err != nil {
		return fmt.Errorf("bench scale: history: %w", err)
	}
	from := min(max(0, int(stored)-provinceUsage), h.Filler)
	var nodes []voucherwatch.Usage
	for _, n := range synth.UsageStreamNodes(historyFillerUsageSeed) {
		nodes = append(nodes, voucherwatch.Usage{SupplierUSCC: n.SupplierUSCC, BuyerUSCC: n.BuyerUSCC, ContractNo: n.ContractNo,
			Tenant: n.Tenant, ResourceID: n.ResourceID, ChipModel: n.ChipModel, ChipOrigin: n.ChipOrigin, Cards: n.Cards,
			LoginOrgs: n.LoginOrgs, Datacenter: n.Datacenter, WindowStart: n.FirstWindow})
	}
	logf("history: generating %d hourly usage records in ClickHouse on top (%d of the filler stored before)...", h.Filler-from, from)
	last, base := time.Now(), h.Stored[voucherwatch.TypeUsage]
	err := st.StoreGeneratedUsage(ctx, store.GeneratedUsage{Nodes: nodes, Seed: historyFillerUsageSeed, From: from, N: h.Filler - from,
		Topic: voucherwatch.DefaultTopics[voucherwatch.TypeUsage], OffsetBase: offset}, func(n int) {
		h.Stored[voucherwatch.TypeUsage] = base + n
		if time.Since(last) > 10*time.Second {
			last = time.Now()
			logf("history: %d usage records generated", n)
		}
	})
	h.Took = time.Since(start)
	return err
}

// detectorRun is one full run of every detector on the history, scored against its truth.
type detectorRun struct {
	Took      time.Duration
	Detectors []detectors.Summary
	Alerts    int
	Findings  []detectorFindings
	Planted   int // planted findings
	Found     int // of them, reported
	LookAlike int // planted look-alikes
	Flagged   int // of them, alerted high or medium
	Failed    []string
}

// byDetector lists each detector's seconds, the slowest first.
func (r detectorRun) byDetector() string {
	sums := slices.Clone(r.Detectors)
	slices.SortStableFunc(sums, func(a, b detectors.Summary) int { return cmp.Compare(b.Seconds, a.Seconds) })
	parts := make([]string, len(sums))
	for i, s := range sums {
		parts[i] = fmt.Sprintf("%s %.1fs", s.Detector, s.Seconds)
	}
	return strings.Join(parts, ", ")
}

// Recall is the share of planted findings reported.
func (r detectorRun) Recall() float64 { return ratio(r.Found, r.Planted) }

// Precision is, among the planted cases an alert names (findings and look-alikes), the share
// that are findings: look-alikes alerted high or medium count against it.
func (r detectorRun) Precision() float64 { return ratio(r.Found, r.Found+r.Flagged) }

func ratio(a, b int) float64 {
	if b == 0 {
		return math.NaN()
	}
	return float64(a) / float64(b)
}

// runDetectors runs every detector once on the store, as the engine's runner does, and scores
// the alerts against the truth.
func runDetectors(ctx context.Context, st *store.DB, truth synth.Truth, at time.Time) (detectorRun, error) {
	policy, err := rules.Load("")
	if err != nil {
		return detectorRun{}, err
	}
	log := slog.New(slog.DiscardHandler)
	runner := detectors.NewRunner(store.ReopeningAlerts{DB: st}, prometheus.NewRegistry(), log)
	runner.Prioritise = prioritise // as serve's runner
	runner.Register(detectors.All(detectors.Env{DB: st, Policy: policy, Log: log})...)
	var r detectorRun
	start := time.Now()
	sums := runner.RunAll(ctx, at)
	r.Took = time.Since(start)
	r.Detectors = sums
	for _, s := range sums {
		if s.Error != "" {
			r.Failed = append(r.Failed, s.Detector+": "+s.Error)
		}
	}
	// The alerts of a run cut short are read all the same.
	alerts, err := allAlerts(context.WithoutCancel(ctx), st)
	if err != nil {
		return r, err
	}
	r.Alerts = len(alerts)
	r.Findings = demoResult{Detectors: sums, Alerts: alerts, Truth: truth}.findings()
	for _, f := range r.Findings {
		r.Planted += f.Planted
		r.Found += f.Found
		r.LookAlike += f.LookAlikes
		r.Flagged += f.Flagged
	}
	return r, nil
}
