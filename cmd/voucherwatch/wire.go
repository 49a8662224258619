package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"github.com/voucherwatch/voucherwatch/supervision/ui"
	"github.com/voucherwatch/voucherwatch/supervision/workflow"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/voucherwatch/voucherwatch"
	"github.com/voucherwatch/voucherwatch/detectors"
	"github.com/voucherwatch/voucherwatch/ingest"
	"github.com/voucherwatch/voucherwatch/rules"
	"github.com/voucherwatch/voucherwatch/spotcheck"
	"github.com/voucherwatch/voucherwatch/store"
	"github.com/voucherwatch/voucherwatch/supervision"
)

// Main is the engine wired together. Tests start it end to end with NewMain and Start.
type Main struct {
	Config Config
	Log    *slog.Logger
	// Terminal is where a secret may be shown to the operator, once, never through the log:
	// the bootstrap administrator token generated for a run. Nil (not a terminal): nowhere.
	Terminal io.Writer
	Registry *prometheus.Registry

	Embedded *ingest.Embedded // nil when --kafka names a cluster
	Brokers  []string
	DB       *store.DB
	// APIDB is the same database over a pool of its own, bounded by --api-connections, for
	// the HTTP side: requests wait for one of its connections, never for ingest's.
	APIDB    *store.DB
	Consumer *ingest.Consumer
	Policy   rules.Policy
	Runner   *detectors.Runner
	Server   *supervision.Server
	HTTPAddr string // the address the HTTP server listens on

	// SpotChecks makes the scheduled spot-check draws; SpotCheckDeps are the spot-check
	// operations the API (and the web UI) call.
	SpotChecks    *spotcheck.Scheduler
	SpotCheckDeps workflow.SpotChecks
	// Register makes the supplier register's scheduled editions; RegisterDeps are its
	// operations.
	Register     *supervision.RegisterScheduler
	RegisterDeps workflow.Register

	httpSrv *http.Server
	cancel  context.CancelFunc
	wg      sync.WaitGroup

	// holdDetectors, while set, keeps stored batches from triggering detector runs: the demo
	// loads a whole province and runs the detectors once it is in, not on half of it.
	holdDetectors atomic.Bool
}

// NewMain prepares a Main from its configuration; Start brings it up.
func NewMain(cfg Config) *Main {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return &Main{Config: cfg, Log: newLogger(cfg.LogLevel), Registry: reg}
}

func (m *Main) topicNames() []string {
	names := []string{m.Config.DeadLetterTopic}
	for _, t := range m.Config.Topics {
		names = append(names, t)
	}
	return names
}

func (m *Main) startBroker() error {
	if b := m.Config.brokers(); len(b) > 0 {
		m.Brokers = b
		return nil
	}
	e, err := ingest.StartEmbedded(ingest.EmbeddedConfig{
		Addr:       m.Config.EmbeddedKafka,
		Topics:     m.topicNames(),
		Partitions: m.Config.Partitions,
		DataDir:    m.Config.embeddedKafkaDir(),

		RetentionTime:  m.Config.EmbeddedKafkaRetention,
		RetentionBytes: m.Config.EmbeddedKafkaRetentionBytes,
	})
	if err != nil {
		return err
	}
	m.Embedded = e
	m.Brokers = []string{e.Addr()}
	if dir := m.Config.embeddedKafkaDir(); dir != "" {
		m.Log.Info("embedded broker keeps its log on disk", "dir", dir, "retention", m.Config.EmbeddedKafkaRetention, "retention_bytes_per_partition", m.Config.EmbeddedKafkaRetentionBytes)
	} else {
		m.Log.Warn("embedded broker keeps its log in memory: acknowledged records are lost when the engine stops")
	}
	return nil
}

func (m *Main) openStore(ctx context.Context) error {
	db, err := store.Open(ctx, m.Config.ClickHouse, m.Config.storeOptions()...)
	if err != nil {
		return err
	}
	m.DB = db
	return db.Migrate(ctx)
}

// openAPIStore opens the HTTP side's pool (see APIDB).
func (m *Main) openAPIStore(ctx context.Context) error {
	dsn, err := withPool(m.Config.ClickHouse, m.Config.APIConnections)
	if err != nil {
		return err
	}
	db, err := store.Open(ctx, dsn, m.Config.storeOptions()...)
	if err != nil {
		return err
	}
	m.APIDB = db
	return nil
}

// Start brings up the broker (if embedded), ClickHouse, the consumers and the HTTP server.
func (m *Main) Start(ctx context.Context) error {
	keys, err := m.Config.keys()
	if err != nil {
		return err
	}
	if m.Config.DevInsecureKeys && (m.Config.PIIKey == "" || m.Config.SessionKey == "" || m.Config.ComplaintKey == "") {
		m.Log.Warn("--dev-insecure-keys: development keys in use, never load real records")
		if m.Terminal != nil {
			fmt.Fprint(m.Terminal, devKeysBanner)
		}
	}
	if m.Config.MemoryLimitMiB > 0 {
		debug.SetMemoryLimit(int64(m.Config.MemoryLimitMiB) << 20)
		// Under a limit the heap may grow to three times what the last collection kept before
		// the next: the GC marked the fetched batches about once a second at the default
		// (100), 11 % of the engine's CPU on hourly telemetry. 1 M records, four runs each:
		// engine CPU 461-490 -> 427-461 ticks (-7 %), peak RSS 703-738 -> 784-785 MiB, the
		// limit bounding it. GOGC set by the operator wins. The limit itself is 900 MiB: with
		// two batches in hand (about 380 MB live) a 768 MiB limit left the GC 340 MB to collect
		// in, and it ran every 0.3 s; at 900, bench live's engine CPU per record fell from
		// 6.1-7.1 to 5.2-5.7 us (GC and the page faults of returned memory), peak RSS 792 -> 921
		// MiB, within issue 10's 1 GiB.
		if os.Getenv("GOGC") == "" {
			debug.SetGCPercent(300)
		}
	}
	policy, err := rules.Load(m.Config.Rules)
	if err != nil {
		return err
	}
	m.Policy = policy
	if err := m.startBroker(); err != nil {
		return err
	}
	if err := m.openStore(ctx); err != nil {
		return err
	}
	if err := m.openAPIStore(ctx); err != nil {
		return err
	}
	// The checks of one change read its records once for all their lanes, until records
	// are stored (detectors.CheckReads).
	reads := detectors.NewCheckReads(m.DB)
	env := detectors.Env{DB: m.DB, Read: reads, Policy: m.Policy, Log: m.Log}
	// Money at stake reads the claims and settlements; what it read serves until records
	// are stored (docs/priorities.md).
	staker := detectors.NewStaker(env)
	dec := &ingest.Decoder{PIIKey: keys.PII, MaxBytes: m.Config.MaxMessageBytes}
	metrics := ingest.NewMetrics(m.Registry)
	m.Consumer = ingest.NewConsumer(ingest.Config{
		Brokers:         m.Brokers,
		Group:           m.Config.Group,
		Topics:          m.Config.Topics,
		DeadLetterTopic: m.Config.DeadLetterTopic,
		BatchSize:       m.Config.BatchSize,
		FlushInterval:   m.Config.FlushInterval,
		ReadersPerTopic: m.Config.ReadersPerTopic,
	}, dec, detectors.NotifyingStore{RecordStore: m.DB, Storing: func(_ voucherwatch.RecordType, n int) {
		// A batch of half the batch size or more is ingest catching up on a backlog:
		// triggered full runs wait until it is gone, and one under way stops
		// (Runner.TriggerBusy). Told before the batch is stored, seconds before OnStored.
		if !m.holdDetectors.Load() && 2*n >= m.Config.BatchSize {
			m.Runner.TriggerBusy(true)
		}
	}, Changed: func(recs []voucherwatch.Record) {
		// Money at stake reads no usage: a batch of usage alone leaves its facts current, so
		// that streamed telemetry does not make every check's alerts re-read every claim.
		var ch voucherwatch.Changes
		ch.Add(recs)
		if ch.Subjects() > 0 {
			staker.Invalidate()
			reads.Invalidate(recs)
		}
		// New claims, contracts, settlements and registry records are checked at once by
		// keyed look-ups of what they touch; the debounced full run below follows.
		if !m.holdDetectors.Load() {
			m.Runner.Changed(recs)
		}
	}}, metrics, m.Log)

	// A dismissed alert whose evidence changes reopens after the run that changed it.
	m.Runner = detectors.NewRunner(store.ReopeningAlerts{DB: m.DB}, m.Registry, m.Log)
	m.Runner.Debounce = m.Config.DetectDebounce
	m.Runner.CheckWorkers = m.Config.CheckWorkers
	m.Runner.LanePace = m.Config.CheckPace
	// Every alert is stored with the subsidy it puts at stake (docs/priorities.md).
	m.Runner.Stake = staker.Annotate
	m.Runner.Prioritise = prioritise
	m.Runner.Register(detectors.All(env)...)
	m.Consumer.OnStored = func(voucherwatch.RecordType, int) {
		if !m.holdDetectors.Load() {
			m.Runner.Trigger()
		}
	}

	alertDeps := supervision.AlertDeps{
		Alerts:       m.APIDB,
		RunDetectors: func(ctx context.Context) []voucherwatch.DetectorRun { return m.Runner.RunAll(ctx, time.Now()) },
		DetectorHealth: func() voucherwatch.DetectorHealthReport {
			h, missed := m.Runner.Health()
			return voucherwatch.DetectorHealthReport{Detectors: h, MissedSlots: missed}
		},
		Policy: m.Policy,
		Assess: func(ctx context.Context, id string) (voucherwatch.ClaimAssessment, error) {
			return detectors.Assess(ctx, env, id)
		},
	}
	// The scheduled draw's seed is keyed with the PII key, a secret every instance shares,
	// so that instances agree on it and outsiders cannot work it out before the slot.
	spotParams := voucherwatch.DefaultSpotCheckParams()
	spotParams.Share, spotParams.Min = m.Config.SpotCheckShare, m.Config.SpotCheckMin
	if err := spotParams.Check(); err != nil {
		return fmt.Errorf("--spotcheck-share/--spotcheck-min: %w", err)
	}
	if m.Config.SpotCheckSchedule != "" {
		if _, err := spotcheck.Parse(m.Config.SpotCheckSchedule); err != nil {
			return fmt.Errorf("--spotcheck-schedule: %w", err)
		}
	}
	m.SpotChecks = &spotcheck.Scheduler{Store: m.DB, Params: spotParams, Secret: keys.PII, Log: m.Log, Draws: spotcheck.NewDrawsMetric(m.Registry)}
	m.SpotCheckDeps = workflow.SpotChecks{Store: m.APIDB, Defaults: spotParams, Schedule: m.SpotChecks.Status}
	if err := m.wireRegister(); err != nil {
		return err
	}
	uiSettings := ui.Settings{SessionKey: keys.Session, Revocations: m.APIDB, SecureCookies: m.Config.SecureCookies, Counts: m.APIDB, Names: m.APIDB, Search: m.APIDB}
	uiSettings.Enterprises = m.APIDB
	box, err := voucherwatch.NewContactBox(keys.Complaint)
	if err != nil {
		return err
	}
	supervision.NewComplaintMetrics(m.Registry, func(ctx context.Context) ([]voucherwatch.ComplaintCount, error) {
		return m.APIDB.ComplaintCounts(ctx, time.Now())
	}, m.Log)
	m.Server, err = supervision.New(supervision.Deps{
		Alerts: alertDeps,
		Workflow: supervision.WorkflowDeps{
			Alerts:          m.APIDB,
			Events:          m.APIDB,
			Users:           m.APIDB,
			ExplanationDays: m.Policy.ExplanationDays,
		},
		SpotChecks: &m.SpotCheckDeps,
		Register:   &m.RegisterDeps,
		UI:         &uiSettings,
		Complaints: &workflow.Complaints{Store: m.APIDB, Registry: m.APIDB, Box: box},
		Rounds:     m.roundDeps(env, box),
		// Backtests re-run the detectors with a changed policy in memory; they never write
		// alerts (docs/priorities.md).
		Backtests: &workflow.Backtests{
			Run: func(ctx context.Context, changed rules.Policy) (voucherwatch.BacktestDiff, error) {
				return detectors.Backtest(ctx, env, changed, time.Now())
			},
			Log:    m.DB,
			Policy: m.Policy,
		},
		Health:      m.health,
		DeadLetters: func(ctx context.Context) (any, error) { return m.APIDB.DeadLettersBySupplier(ctx) },
		IngestStatus: func(ctx context.Context) (voucherwatch.IngestStatus, error) {
			st, err := m.Consumer.Status(ctx, m.DB)
			if err == nil && m.DB.Cluster() != "" {
				var cs voucherwatch.ClusterStatus
				if cs, err = m.DB.ClusterStatus(ctx); err == nil {
					st.Cluster = &cs
				}
			}
			return st, err
		},
		Gatherer:       m.Registry,
		Log:            m.Log,
		RequestTimeout: m.Config.HTTPTimeouts.Request,
		ExportTimeout:  m.Config.HTTPTimeouts.Export,
	})
	if err != nil {
		return err
	}
	if m.DB.Cluster() != "" {
		store.NewClusterMetrics(m.Registry, m.DB.ClusterStatus)
	}
	if token := m.bootstrapToken(); token != "" {
		m.Server.AddToken(token, voucherwatch.User{ID: "bootstrap", Name: "bootstrap", Role: voucherwatch.RoleProvinceAdmin})
	}

	ln, err := net.Listen("tcp", m.Config.HTTP)
	if err != nil {
		return fmt.Errorf("http: listen on %s: %w", m.Config.HTTP, err)
	}
	m.HTTPAddr = ln.Addr().String()
	m.httpSrv = newHTTPServer(m.Server, m.Config.HTTPTimeouts)

	runCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	m.cancel = cancel
	if err := m.Runner.Start(runCtx, m.Config.DetectSchedule); err != nil {
		return err
	}
	if m.Config.SpotCheckSchedule != "" {
		if err := m.SpotChecks.Start(runCtx, m.Config.SpotCheckSchedule); err != nil {
			return err
		}
	}
	if m.Config.RegisterSchedule != "" {
		if err := m.Register.Start(runCtx, m.Config.RegisterSchedule); err != nil {
			return err
		}
	}
	m.wg.Add(2)
	go func() {
		defer m.wg.Done()
		if err := m.httpSrv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			m.Log.Error("http server stopped", "err", err)
		}
	}()
	go m.refreshLag(runCtx)
	go m.DB.KeepDeadLetters(runCtx, m.Config.DeadLetterRetention, time.Hour, m.Log)
	go func() {
		defer m.wg.Done()
		if err := m.Consumer.Run(runCtx); err != nil {
			m.Log.Error("consumer stopped", "err", err)
		}
	}()
	m.Log.Info("voucherwatch serving", "http", m.HTTPAddr, "kafka", m.Brokers, "clickhouse", redactDSN(m.Config.ClickHouse))
	return nil
}

// Close stops consuming (finishing and committing the batches in hand), then the HTTP server,
// the broker and the store.
func (m *Main) Close() error {
	if m.cancel != nil {
		m.cancel()
	}
	if m.httpSrv != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		_ = m.httpSrv.Shutdown(ctx)
		cancel()
	}
	m.wg.Wait()
	if m.Embedded != nil {
		m.Embedded.Close()
	}
	if m.APIDB != nil {
		m.APIDB.Close()
	}
	if m.DB != nil {
		return m.DB.Close()
	}
	return nil
}

// bootstrapToken is the token of the bootstrap province administrator: VW_BOOTSTRAP_TOKEN, or
// else one generated for this run and shown once on the terminal, never logged (logs are
// shipped and kept; a token in them is a key to the engine). Without a terminal to show it on,
// there is no bootstrap administrator.
func (m *Main) bootstrapToken() string {
	if t := m.Config.BootstrapToken; t != "" {
		return t
	}
	if m.Terminal == nil {
		m.Log.Warn("VW_BOOTSTRAP_TOKEN is not set and there is no terminal to show a generated one on: no bootstrap administrator")
		return ""
	}
	token := randomToken()
	fmt.Fprintf(m.Terminal, "voucherwatch: VW_BOOTSTRAP_TOKEN is not set; this run's province-administrator API token (shown once, not logged):\n  %s\n", token)
	m.Log.Warn("VW_BOOTSTRAP_TOKEN is not set: generated a province-administrator token for this run and showed it on the terminal")
	return token
}

func randomToken() string {
	b := make([]byte, 24)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// redactDSN hides a password in a DSN for logs.
func redactDSN(dsn string) string {
	u, err := url.Parse(dsn)
	if err != nil {
		return "(unparsable DSN)"
	}
	return u.Redacted()
}

// health is GET /healthz: ClickHouse answers and no topic has stayed stalled beyond
// --health-stall-bound.
func (m *Main) health(ctx context.Context) error {
	if err := m.DB.Conn().Ping(ctx); err != nil {
		return errors.New("clickhouse unreachable")
	}
	return m.Consumer.CheckStalls(m.Config.HealthStallBound, time.Now())
}

// refreshLag keeps the vw_ingest_lag gauge current for scrapers: it is computed from the
// group's committed offsets, which no request may ask for between scrapes. Only the lag: the
// status's stored counts read every record of a type (ingest.Consumer.RefreshLag).
func (m *Main) refreshLag(ctx context.Context) {
	t := time.NewTicker(15 * time.Second)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			qctx, cancel := context.WithTimeout(ctx, 10*time.Second)
			if err := m.Consumer.RefreshLag(qctx); err != nil {
				m.Log.Debug("lag refresh failed", "err", err)
			}
			cancel()
		}
	}
}

// prioritise is the runner's Prioritise: ClickHouse runs a check's queries before a full
// run's (store.PriorityCheck), and a full run is one sweep, for which the kept units are
// refreshed once, not once per detector that reads them (store.WithSweepStart).
func prioritise(ctx context.Context, check bool) context.Context {
	if check {
		return store.WithQueryPriority(ctx, store.PriorityCheck)
	}
	return store.WithSweepStart(store.WithQueryPriority(ctx, store.PrioritySweep), time.Now())
}
