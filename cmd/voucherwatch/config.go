package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/voucherwatch/voucherwatch"
	"github.com/voucherwatch/voucherwatch/detectors"
	"github.com/voucherwatch/voucherwatch/ingest"
	"github.com/voucherwatch/voucherwatch/store"
)

// Config is everything an operator sets. Every flag also reads VW_<FLAG> from the environment
// (--embedded-kafka ↔ VW_EMBEDDED_KAFKA); a flag on the command line wins.
type Config struct {
	Kafka            string // brokers host:port,...; empty starts the embedded broker
	EmbeddedKafka    string
	EmbeddedKafkaDir string
	DataDir          string
	// Retention of the embedded broker's log: age, and size per partition.
	EmbeddedKafkaRetention      time.Duration
	EmbeddedKafkaRetentionBytes int64
	// HealthStallBound is how long a topic may stay stalled before /healthz says unhealthy.
	HealthStallBound time.Duration
	Partitions       int
	ClickHouse       string
	// ClickHouseCluster names the ClickHouse cluster of cluster mode, empty on one server;
	// ClickHouseDDLTimeout bounds an ON CLUSTER statement's wait for the nodes.
	ClickHouseCluster    string
	ClickHouseDDLTimeout time.Duration
	HTTP                 string
	HTTPTimeouts         HTTPTimeouts
	APIConnections       int
	Group                string
	Topics               map[voucherwatch.RecordType]string
	DeadLetterTopic      string
	BatchSize            int
	FlushInterval        time.Duration
	ReadersPerTopic      int
	MaxMessageBytes      int
	PIIKey               string
	SessionKey           string
	ComplaintKey         string
	DevInsecureKeys      bool
	SecureCookies        bool
	BootstrapToken       string
	LogLevel             string
	Rules                string
	MemoryLimitMiB       int
	DetectSchedule       string
	DetectDebounce       time.Duration
	CheckWorkers         int
	CheckPace            time.Duration

	// Spot checks (专项抽查): when the scheduled draw runs, and its share and minimum.
	SpotCheckSchedule string
	SpotCheckShare    float64
	SpotCheckMin      int

	// DeadLetterRetention is how long rejected messages stay in the dead letters' table (the
	// dead-letter topic keeps its own retention).
	DeadLetterRetention time.Duration

	// The supplier register (信息登记发布): when the scheduled edition is made, and how late a
	// telemetry window may arrive and still count as on time.
	RegisterSchedule    string
	RegisterOnTimeHours int
}

// devPIIKey keys identity hashes under --dev-insecure-keys when the operator set none. It is
// public, so such hashes are not secret: fine on a laptop, never in production (serve refuses
// to start without a key of its own unless told it is a development machine).
const devPIIKey = "voucherwatch-development-key-not-secret"

func (c *Config) flags(fs *flag.FlagSet) {
	fs.StringVar(&c.Kafka, "kafka", "", "Kafka brokers host:port,...; empty starts the embedded broker")
	fs.StringVar(&c.EmbeddedKafka, "embedded-kafka", "127.0.0.1:9092", "address of the embedded broker")
	fs.StringVar(&c.DataDir, "data-dir", "data", "directory of the engine's local state (the embedded broker's log), created if missing; relative to the working directory")
	fs.StringVar(&c.EmbeddedKafkaDir, "embedded-kafka-dir", "", `directory keeping the embedded broker's log across restarts (default <data-dir>/kafka); "memory" keeps it in memory and loses it on exit`)
	fs.DurationVar(&c.EmbeddedKafkaRetention, "embedded-kafka-retention", 7*24*time.Hour, "the embedded broker deletes records older than this, consumed or not")
	fs.Int64Var(&c.EmbeddedKafkaRetentionBytes, "embedded-kafka-retention-bytes", 1<<30, "and a partition's oldest records beyond this size in bytes, consumed or not (0: no size limit)")
	fs.DurationVar(&c.HealthStallBound, "health-stall-bound", 5*time.Minute, "GET /healthz answers 503 once a topic has been stalled (lag not falling, nothing consumed) this long")
	fs.IntVar(&c.Partitions, "partitions", 6, "partitions per topic created by the embedded broker")
	fs.StringVar(&c.ClickHouse, "clickhouse", "clickhouse://127.0.0.1:9000/voucherwatch", "ClickHouse DSN (native protocol); several servers: clickhouse://host1:9000,host2:9000/voucherwatch")
	fs.StringVar(&c.ClickHouseCluster, "clickhouse-cluster", "", "ClickHouse cluster name (remote_servers): replicated and Distributed tables, migrations ON CLUSTER (docs/cluster.md); empty: one server")
	fs.DurationVar(&c.ClickHouseDDLTimeout, "clickhouse-ddl-timeout", store.DefaultDDLTimeout, "in cluster mode, how long a migration statement waits for every node before it fails naming the node")
	fs.StringVar(&c.HTTP, "http", "127.0.0.1:8080", "HTTP listen address for the API, UI and /metrics")
	fs.IntVar(&c.APIConnections, "api-connections", 4, "ClickHouse connections the API and web UI may use at once, apart from ingest's and the detectors' (the driver's default pool of 10)")
	fs.DurationVar(&c.HTTPTimeouts.Read, "http-read-timeout", 30*time.Second, "longest a client may take to send a request, headers and body")
	fs.DurationVar(&c.HTTPTimeouts.Write, "http-write-timeout", 60*time.Second, "longest an answer may take to write (the event export extends its own to --export-timeout)")
	fs.DurationVar(&c.HTTPTimeouts.Idle, "http-idle-timeout", 2*time.Minute, "longest a keep-alive connection waits for its next request")
	fs.DurationVar(&c.HTTPTimeouts.Request, "request-timeout", 30*time.Second, "deadline of a request's work, its ClickHouse queries included")
	fs.DurationVar(&c.HTTPTimeouts.Export, "export-timeout", 10*time.Minute, "deadline of the streaming event-log export and of a detector run on demand")
	fs.StringVar(&c.Group, "group", "voucherwatch", "consumer-group prefix shared by all engine instances; each topic has the group <prefix>.<topic>")
	c.Topics = map[voucherwatch.RecordType]string{}
	for _, typ := range voucherwatch.RecordTypes {
		def := voucherwatch.DefaultTopics[typ]
		name := "topic-" + strings.TrimPrefix(def, "vw.")
		c.Topics[typ] = def
		fs.Func(name, fmt.Sprintf("topic carrying %s records (default %q)", typ, def), func(v string) error {
			c.Topics[typ] = v
			return nil
		})
	}
	fs.StringVar(&c.DeadLetterTopic, "topic-deadletter", voucherwatch.DefaultDeadLetterTopic, "topic receiving rejected messages")
	fs.DurationVar(&c.DeadLetterRetention, "deadletter-retention", store.DefaultDeadLetterRetention, "how long rejected messages (redacted) stay in the dead letters' table; 0 keeps them")
	fs.IntVar(&c.BatchSize, "batch-size", ingest.DefaultBatchSize, "flush an ingest batch at this many messages")
	fs.DurationVar(&c.FlushInterval, "flush-interval", 500*time.Millisecond, "or this long after its first message")
	fs.IntVar(&c.ReadersPerTopic, "readers-per-topic", 1, "consumer-group members per topic in this instance")
	fs.IntVar(&c.MaxMessageBytes, "max-message-bytes", 256<<10, "larger messages are dead-lettered")
	fs.StringVar(&c.PIIKey, "pii-key", "", "secret key for hashing identity numbers (set VW_PII_KEY)")
	fs.StringVar(&c.SessionKey, "session-key", "", "secret key signing web UI sessions, at least 16 bytes, the same on every instance (set VW_SESSION_KEY); required")
	fs.StringVar(&c.ComplaintKey, "complaint-key", "", "secret key encrypting complainants' contact details, at least 16 bytes, the same on every instance (set VW_COMPLAINT_KEY); required")
	fs.BoolVar(&c.DevInsecureKeys, "dev-insecure-keys", false, "development only: start without VW_PII_KEY, VW_SESSION_KEY or VW_COMPLAINT_KEY, hashing identity numbers with a public key, and signing sessions and sealing complainants' contacts with keys that die with the process")
	fs.BoolVar(&c.SecureCookies, "secure-cookies", false, "mark the web UI's cookies Secure: set when the UI is served over HTTPS")
	fs.StringVar(&c.BootstrapToken, "bootstrap-token", "", "API token of a province administrator (set VW_BOOTSTRAP_TOKEN)")
	fs.StringVar(&c.LogLevel, "log-level", "info", "debug, info, warn or error")
	fs.IntVar(&c.MemoryLimitMiB, "memory-limit", 900, "soft memory limit of the Go heap in MiB (0: none); the GC works harder near it")
	fs.StringVar(&c.Rules, "rules", "", "policy configuration file (JSON, like rules/policy.json); empty: the built-in defaults")
	fs.StringVar(&c.DetectSchedule, "detect-schedule", "@every 15m", "when the detectors run (robfig/cron spec, seconds optional)")
	fs.DurationVar(&c.DetectDebounce, "detect-debounce", 2*time.Second, "quiet time after an ingest batch before the detectors run")
	fs.IntVar(&c.CheckWorkers, "check-workers", detectors.DefaultCheckWorkers, "incremental checks of new records run at once, each of another detector")
	fs.DurationVar(&c.CheckPace, "check-pace", detectors.DefaultLanePace, "least time between the starts of one detector's incremental checks; changes arriving meanwhile are checked together (0: none)")
	fs.StringVar(&c.SpotCheckSchedule, "spotcheck-schedule", "0 3 1 * *", "when the spot-check draw runs (robfig/cron spec, China Standard Time; empty: never)")
	fs.Float64Var(&c.SpotCheckShare, "spotcheck-share", voucherwatch.DefaultSpotCheckShare, "share of the claimants a spot-check draw inspects")
	fs.IntVar(&c.SpotCheckMin, "spotcheck-min", voucherwatch.DefaultSpotCheckMin, "fewest enterprises a spot-check draw inspects")
	fs.StringVar(&c.RegisterSchedule, "register-schedule", voucherwatch.DefaultRegisterSchedule, "when the supplier register's edition of the month before is made (robfig/cron spec, China Standard Time; empty: never)")
	fs.IntVar(&c.RegisterOnTimeHours, "register-on-time-hours", voucherwatch.DefaultRegisterOnTimeHours, "hours after its end a telemetry window may arrive and count as on time in the register")
}

// parse parses args, then fills every flag not given on the command line from VW_* variables.
func (c *Config) parse(fs *flag.FlagSet, args []string) error {
	c.flags(fs)
	if err := fs.Parse(args); err != nil {
		return err
	}
	given := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { given[f.Name] = true })
	var err error
	fs.VisitAll(func(f *flag.Flag) {
		env := "VW_" + strings.ToUpper(strings.ReplaceAll(f.Name, "-", "_"))
		if v, ok := os.LookupEnv(env); ok && !given[f.Name] && err == nil {
			if e := fs.Set(f.Name, v); e != nil {
				err = fmt.Errorf("%s: %w", env, e)
			}
		}
	})
	return err
}

// embeddedKafkaDir is where the embedded broker keeps its log; empty: in memory.
func (c *Config) embeddedKafkaDir() string {
	switch c.EmbeddedKafkaDir {
	case "memory":
		return ""
	case "":
		return filepath.Join(c.DataDir, "kafka")
	}
	return c.EmbeddedKafkaDir
}

// brokers splits --kafka.
func (c *Config) brokers() []string {
	var out []string
	for _, b := range strings.Split(c.Kafka, ",") {
		if b = strings.TrimSpace(b); b != "" {
			out = append(out, b)
		}
	}
	return out
}
