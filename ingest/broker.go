package ingest

import (
	"fmt"
	"net"
	"strconv"

	"github.com/twmb/franz-go/pkg/kfake"
)

// Embedded is a Kafka-protocol broker inside the engine's process, so that one command runs
// everything on one machine. The engine still talks to it only through kafka-go, over TCP,
// exactly as it talks to a real cluster.
type Embedded struct {
	cluster *kfake.Cluster
	addr    string
}

// EmbeddedConfig says where the embedded broker listens and what it holds.
type EmbeddedConfig struct {
	Addr       string   // host:port to listen on
	Topics     []string // created at start
	Partitions int      // per topic
	DataDir    string   // where the log is kept across restarts; empty keeps it in memory
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
	opts := []kfake.Opt{
		kfake.NumBrokers(1),
		kfake.Ports(port),
		kfake.DefaultNumPartitions(cfg.Partitions),
		kfake.AllowAutoTopicCreation(),
		kfake.BrokerConfigs(map[string]string{"message.max.bytes": strconv.Itoa(cfg.MaxMessageBytes)}),
		// kfake binds 127.0.0.1; honour the host the operator asked for.
		kfake.ListenFn(func(network, _ string) (net.Listener, error) {
			return net.Listen(network, net.JoinHostPort(host, strconv.Itoa(port)))
		}),
	}
	if len(cfg.Topics) > 0 {
		opts = append(opts, kfake.SeedTopics(int32(cfg.Partitions), cfg.Topics...))
	}
	if cfg.DataDir != "" {
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
	return &Embedded{cluster: c, addr: addr}, nil
}

// Addr is the address clients dial.
func (e *Embedded) Addr() string { return e.addr }

// Close stops the broker (and flushes its log when it has a data directory).
func (e *Embedded) Close() { e.cluster.Close() }
