package main

import (
	"context"
	"fmt"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/voucherwatch/voucherwatch"
	"github.com/voucherwatch/voucherwatch/ingest"
	"github.com/voucherwatch/voucherwatch/synth"
)

// publishChunk is how many messages publishProvince hands kafka-go at a time, and so how
// often it reports progress.
const publishChunk = 2000

// newTopicWriter is a kafka-go producer to one topic as a supplier's platform would run it:
// messages keyed by the record's natural key and hashed to a partition, so that the versions
// of one entity stay in order, and acknowledged by every replica.
// It retries what a broker under load answers too late for (ingest.Producer).
func newTopicWriter(brokers []string, topic string) *ingest.Producer {
	return ingest.NewProducer(&kafka.Writer{Addr: kafka.TCP(brokers...), Topic: topic, Balancer: &kafka.Hash{},
		BatchSize: publishChunk, BatchBytes: 4 << 20, BatchTimeout: 5 * time.Millisecond, RequiredAcks: kafka.RequireAll})
}

// publishProvince produces a synthetic province's messages to the engine's topics through
// Kafka, topic by topic in the order records depend on each other (synth.Topics), each in
// delivery order. topics maps record types to the topic names in force; synth's messages name
// the contract's default topics. written, when set, is called after each chunk a topic's
// writer has acknowledged, with the synth topic and the messages in the chunk.
func publishProvince(ctx context.Context, brokers []string, topics map[voucherwatch.RecordType]string, msgs []synth.Message, written func(synthTopic string, n int)) error {
	typeOf := map[string]voucherwatch.RecordType{}
	for typ, t := range voucherwatch.DefaultTopics {
		typeOf[t] = typ
	}
	byTopic := map[string][]kafka.Message{}
	for _, m := range msgs {
		byTopic[m.Topic] = append(byTopic[m.Topic], kafka.Message{Key: m.Key, Value: m.Value})
	}
	for _, st := range synth.Topics {
		typ, ok := typeOf[st]
		if !ok {
			return fmt.Errorf("publish: synth topic %s carries no record type", st)
		}
		topic := topics[typ]
		if topic == "" {
			topic = st
		}
		w := newTopicWriter(brokers, topic)
		ms := byTopic[st]
		for lo := 0; lo < len(ms); lo += publishChunk {
			chunk := ms[lo:min(lo+publishChunk, len(ms))]
			if err := w.Write(ctx, chunk...); err != nil {
				w.Close()
				return fmt.Errorf("publish: produce to %s: %w", topic, err)
			}
			if written != nil {
				written(st, len(chunk))
			}
		}
		if err := w.Close(); err != nil {
			return fmt.Errorf("publish: close writer of %s: %w", topic, err)
		}
	}
	return nil
}
