package ingest

import (
	"fmt"
	"net"
	"os"
	"strconv"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
)

// Embedded is a Kafka-protocol broker inside the engine's process, so that one command runs
// everything on one machine. The engine still talks to it only through kafka-go, over TCP,
// exactly as it talks to a real cluster. It is kfake (franz-go's test cluster): one broker, no
// replication. docs/kafka.md says what it is for and what production uses instead.
//
// With a data directory kfake writes every acknowledged batch to segment files there (through
// the page cache: a killed process loses nothing, a machine that loses power may lose the last
// batches) and reloads them at start; in memory it keeps only a small index per batch and reads
// fetched batches back from the files. Without one the whole log lives in memory. Retention,
// by age and by size per partition, bounds the disk; it deletes records whether or not they
// were consumed, like Kafka's.
type Embedded struct {
	cluster *kfake.Cluster
	addr    string
	stop    chan struct{}
	done    chan struct{}
}

// EmbeddedConfig says where the embedded broker listens and what it holds.
type EmbeddedConfig struct {
	Addr       string   // host:port to listen on
	Topics     []string // created at start
	Partitions int      // per topic
	DataDir    string   // where the log is kept across restarts; empty keeps it in memory
	// RetentionTime and RetentionBytes delete a partition's oldest records once they are older
	// or the partition is larger (Kafka's retention.ms and retention.bytes; zero: 7 days and
	// no size limit). RetentionCheck is how often they are applied (default 1 minute).
	RetentionTime  time.Duration
	RetentionBytes int64
	RetentionCheck time.Duration
	// MaxMessageBytes is the broker's per-batch limit. It must exceed the engine's own
	// per-message limit so that an oversized message reaches the engine and is dead-lettered
	// with a reason instead of being refused at produce time without a trace.
	MaxMessageBytes int
}

// StartEmbedded starts the embedded broker and creates the topics.
func StartEmbedded(cfg EmbeddedConfig) (*Embedded, error) {
	host, portStr, err := net.SplitHostPort(cfg.Addr)
	if err != nil {
		return nil, fmt.Errorf("ingest: embedded broker address %q: %w", cfg.Addr, err)
	}
	port, err := strconv.Atoi(portStr)
	if err != nil {
		return nil, fmt.Errorf("ingest: embedded broker port %q: %w", portStr, err)
	}
	if cfg.Partitions <= 0 {
		cfg.Partitions = 6
	}
	if cfg.MaxMessageBytes <= 0 {
		cfg.MaxMessageBytes = 8 << 20
	}
	if cfg.RetentionTime <= 0 {
		cfg.RetentionTime = 7 * 24 * time.Hour
	}
	if cfg.RetentionBytes <= 0 {
		cfg.RetentionBytes = -1
	}
	if cfg.RetentionCheck <= 0 {
		cfg.RetentionCheck = time.Minute
	}
	opts := []kfake.Opt{
		kfake.NumBrokers(1),
		kfake.Ports(port),
		kfake.DefaultNumPartitions(cfg.Partitions),
		kfake.AllowAutoTopicCreation(),
		kfake.BrokerConfigs(map[string]string{
			"message.max.bytes":   strconv.Itoa(cfg.MaxMessageBytes),
			"log.retention.ms":    strconv.FormatInt(cfg.RetentionTime.Milliseconds(), 10),
			"log.retention.bytes": strconv.FormatInt(cfg.RetentionBytes, 10),
			// Retention deletes whole segments from disk: smaller ones than Kafka's 1 GiB keep
			// the disk closer to the limit.
			"log.segment.bytes": strconv.Itoa(64 << 20),
		}),
		// kfake binds 127.0.0.1; honour the host the operator asked for.
		kfake.ListenFn(func(network, _ string) (net.Listener, error) {
			return net.Listen(network, net.JoinHostPort(host, strconv.Itoa(port)))
		}),
	}
	if len(cfg.Topics) > 0 {
		opts = append(opts, kfake.SeedTopics(int32(cfg.Partitions), cfg.Topics...))
	}
	if cfg.DataDir != "" {
		if err := os.MkdirAll(cfg.DataDir, 0o750); err != nil {
			return nil, fmt.Errorf("ingest: embedded broker data directory: %w", err)
		}
		opts = append(opts, kfake.DataDir(cfg.DataDir))
	}
	c, err := kfake.NewCluster(opts...)
	if err != nil {
		return nil, fmt.Errorf("ingest: start embedded broker on %s: %w", cfg.Addr, err)
	}
	// With port 0 the system picked a port: report the one actually bound.
	addr := cfg.Addr
	if la := c.ListenAddrs(); len(la) > 0 {
		_, p, _ := net.SplitHostPort(la[0])
		addr = net.JoinHostPort(host, p)
	}
	e := &Embedded{cluster: c, addr: addr, stop: make(chan struct{}), done: make(chan struct{})}
	// kfake applies broker-wide retention only when a topic sets its own: apply it here.
	go e.applyRetention(cfg.RetentionCheck)
	return e, nil
}

func (e *Embedded) applyRetention(every time.Duration) {
	defer close(e.done)
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-e.stop:
			return
		case <-t.C:
			e.cluster.ApplyRetention()
		}
	}
}

// Addr is the address clients dial.
func (e *Embedded) Addr() string { return e.addr }

// Close stops the broker (and flushes its log when it has a data directory).
func (e *Embedded) Close() {
	close(e.stop)
	<-e.done
	e.cluster.Close()
}
