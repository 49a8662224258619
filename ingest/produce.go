package ingest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/segmentio/kafka-go"
)

// Producer publishes to one topic through kafka-go and outlasts a broker that answers late.
//
// kafka-go's Writer gives up for good on the first failure of a new connection: dialling and
// the ApiVersions handshake share the Transport's DialTimeout (5 s by default; the Writer's
// ReadTimeout and WriteTimeout do not apply), and a failed first metadata request is returned
// by WriteMessages at once, without the Writer's own retries. On a loaded machine the embedded
// broker has answered later than that (`read tcp …: i/o timeout`, issue 10). Write retries
// such failures with back-off until ctx ends.
//
// A retried message is sent again only when kafka-go reports it failed; one whose
// acknowledgement was lost may then be in the log twice, which the store's idempotence on
// (source, id) absorbs, as for any redelivery. No message is dropped: Write returns nil only
// when every message was acknowledged.
type Producer struct {
	W        *kafka.Writer
	RetryMin time.Duration // first back-off (default 200 ms)
	RetryMax time.Duration // longest back-off (default 15 s)
	Log      *slog.Logger  // retries are logged at Warn; nil: slog.Default()
	// Retries counts the attempts that failed and were retried.
	Retries int
}

// NewProducer is a Producer on w, whose Transport, when unset, dials with a 30 s timeout
// instead of kafka-go's 5 s. Close closes w.
func NewProducer(w *kafka.Writer) *Producer {
	if w.Transport == nil {
		w.Transport = &kafka.Transport{DialTimeout: 30 * time.Second}
	}
	return &Producer{W: w}
}

// Close closes the writer and the connections of its transport.
func (p *Producer) Close() error {
	err := p.W.Close()
	if t, ok := p.W.Transport.(*kafka.Transport); ok && t != nil {
		t.CloseIdleConnections()
	}
	return err
}

// Write publishes msgs, retrying what failed transiently until every message is acknowledged,
// a failure is permanent, or ctx ends.
func (p *Producer) Write(ctx context.Context, msgs ...kafka.Message) error {
	backoff, most := p.RetryMin, p.RetryMax
	if backoff <= 0 {
		backoff = 200 * time.Millisecond
	}
	if most <= 0 {
		most = 15 * time.Second
	}
	log := p.Log
	if log == nil {
		log = slog.Default()
	}
	pending := msgs
	for {
		err := p.W.WriteMessages(ctx, pending...)
		if err == nil {
			return nil
		}
		var werrs kafka.WriteErrors
		if errors.As(err, &werrs) && len(werrs) == len(pending) {
			// Only the messages that failed are sent again.
			var again []kafka.Message
			var first error
			for i, e := range werrs {
				if e == nil {
					continue
				}
				if !transient(e) {
					return fmt.Errorf("ingest: produce to %s: %w", p.W.Topic, e)
				}
				if first == nil {
					first = e
				}
				again = append(again, pending[i])
			}
			if len(again) == 0 {
				return nil
			}
			pending, err = again, first
		} else if !transient(err) {
			return fmt.Errorf("ingest: produce to %s: %w", p.W.Topic, err)
		}
		if ctx.Err() != nil {
			return fmt.Errorf("ingest: produce to %s: %w (gave up: %v)", p.W.Topic, err, ctx.Err())
		}
		p.Retries++
		log.Warn("ingest: produce failed, retrying", "topic", p.W.Topic, "messages", len(pending), "err", err, "backoff", backoff)
		if !sleep(ctx, backoff) {
			return fmt.Errorf("ingest: produce to %s: %w (gave up: %v)", p.W.Topic, err, ctx.Err())
		}
		backoff = min(backoff*2, most)
	}
}

// transient says whether a produce error may pass by itself: network failures and timeouts,
// kafka-go's own request deadlines, and the broker errors Kafka marks retriable. A message too
// large or a closed writer are not; the caller's context ending is checked by Write.
func transient(err error) bool {
	switch {
	case errors.Is(err, io.ErrClosedPipe), errors.Is(err, kafka.MessageSizeTooLarge):
		return false
	}
	var tooLarge kafka.MessageTooLargeError
	if errors.As(err, &tooLarge) {
		return false
	}
	var kerr kafka.Error
	if errors.As(err, &kerr) {
		return kerr.Temporary() || kerr.Timeout()
	}
	return true
}
