package ingest_test

import (
	"context"
	"fmt"
	"io"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/voucherwatch/voucherwatch/ingest"
)

// slowProxy forwards TCP to a broker; connections accepted before slowUntil get the broker's
// first answer delay late, as from a broker on a machine under heavy load.
type slowProxy struct {
	ln        net.Listener
	delay     time.Duration
	slowUntil atomic.Int64
	wg        sync.WaitGroup
}

func startSlowProxy(t *testing.T, target string, delay time.Duration) *slowProxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &slowProxy{ln: ln, delay: delay}
	t.Cleanup(func() { ln.Close(); p.wg.Wait() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			slow := time.Now().UnixNano() < p.slowUntil.Load()
			p.wg.Add(1)
			go func() {
				defer p.wg.Done()
				defer c.Close()
				b, err := net.Dial("tcp", target)
				if err != nil {
					return
				}
				defer b.Close()
				go func() { io.Copy(b, c); b.Close() }()
				if slow {
					time.Sleep(p.delay)
				}
				io.Copy(c, b)
			}()
		}
	}()
	return p
}

func (p *slowProxy) slowFor(d time.Duration) { p.slowUntil.Store(time.Now().Add(d).UnixNano()) }

// TestProducerOutlastsLateBroker: a kafka-go Writer whose first connection meets a broker that
// answers after the dial timeout stops with `read tcp …: i/o timeout` (the bench's failure in
// issue 10, which longer Read/WriteTimeouts do not reach); the Producer retries with back-off
// and every message is in the log exactly once.
func TestProducerOutlastsLateBroker(t *testing.T) {
	const topic, partitions, n = "slow.produce", 3, 200
	b, err := ingest.StartEmbedded(ingest.EmbeddedConfig{Addr: "127.0.0.1:0", Topics: []string{topic}, Partitions: partitions})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	proxy := startSlowProxy(t, b.Addr(), time.Second)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	msgs := make([]kafka.Message, n)
	for i := range msgs {
		msgs[i] = kafka.Message{Key: fmt.Appendf(nil, "k%d", i), Value: fmt.Appendf(nil, `{"n":%d}`, i)}
	}
	writer := func() *kafka.Writer {
		// The dial timeout is short so that the test is quick; the bench met kafka-go's 5 s.
		return &kafka.Writer{Addr: kafka.TCP(proxy.ln.Addr().String()), Topic: topic, Balancer: &kafka.Hash{},
			BatchTimeout: time.Millisecond, RequiredAcks: kafka.RequireOne,
			Transport: &kafka.Transport{DialTimeout: 300 * time.Millisecond, MetadataTTL: 300 * time.Millisecond}}
	}

	// The failure, as kafka-go alone meets it.
	proxy.slowFor(1500 * time.Millisecond)
	plain := writer()
	err = plain.WriteMessages(ctx, msgs...)
	plain.Close()
	if err == nil || !strings.Contains(err.Error(), "i/o timeout") {
		t.Fatalf("plain kafka-go writer against a late broker: got %v, want an i/o timeout", err)
	}
	if first, last := offsets(t, b.Addr(), topic, partitions); last-first != 0 {
		t.Fatalf("plain writer stored %d messages, want 0", last-first)
	}

	proxy.slowFor(1500 * time.Millisecond)
	p := ingest.NewProducer(writer())
	p.RetryMin = 50 * time.Millisecond
	if err := p.Write(ctx, msgs...); err != nil {
		t.Fatalf("producer against a late broker: %v", err)
	}
	p.Close()
	if p.Retries == 0 {
		t.Errorf("producer retried 0 times, want at least 1: the broker was not late")
	}
	if first, last := offsets(t, b.Addr(), topic, partitions); last-first != n {
		t.Errorf("messages in the log: got %d, want %d", last-first, n)
	}
}
