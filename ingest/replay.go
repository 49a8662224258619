package ingest

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/voucherwatch/voucherwatch"
)

// ReplayConfig selects the dead letters to send back to the topics they were rejected from.
type ReplayConfig struct {
	Brokers         []string
	DeadLetterTopic string                             // default voucherwatch.DefaultDeadLetterTopic
	Topics          map[voucherwatch.RecordType]string // record type → topic; default voucherwatch.DefaultTopics
	Supplier        string                             // the supplier's USCC; required
	Since           time.Time                          // rejected at or after
	Topic           string                             // only those rejected from this topic; "" any
	DryRun          bool                               // count, send nothing
}

// ReplayResult counts a replay. Every selected dead letter is decoded again with the engine's
// decoder first: those that now pass are sent back (unless DryRun); those that still fail are
// counted by reason and stay where they are, since sending them would only reject them again.
type ReplayResult struct {
	Selected     int            `json:"selected"`      // dead letters of the supplier since the time (and topic), each message once
	WouldPass    int            `json:"would_pass"`    // of those, decode and validate now
	Replayed     int            `json:"replayed"`      // sent back to their topics (0 on a dry run)
	StillFailing map[string]int `json:"still_failing"` // reason (field and rule, no value) → count
	Skipped      int            `json:"skipped"`       // selected, but from a topic the engine does not read
}

// HeaderReplayedFrom marks a replayed message with the dead letter it came from
// (topic/partition/offset), so that a replay can be traced in the topic.
const HeaderReplayedFrom = "vw.replayed_from"

// Replay reads the dead-letter topic from its start to its current end, selects the supplier's
// dead letters rejected since cfg.Since, decodes each again with dec, and sends those that now
// pass back to their original topic, key, value and all, where the consumers store them like
// any record (a record stored already is recognised by its source and id). It does not use a
// consumer group: nothing is committed, and it can run while the engine runs.
func Replay(ctx context.Context, cfg ReplayConfig, dec *Decoder) (ReplayResult, error) {
	res := ReplayResult{StillFailing: map[string]int{}}
	if cfg.Supplier == "" {
		return res, errors.New("ingest: replay: a supplier is required")
	}
	if cfg.DeadLetterTopic == "" {
		cfg.DeadLetterTopic = voucherwatch.DefaultDeadLetterTopic
	}
	if cfg.Topics == nil {
		cfg.Topics = voucherwatch.DefaultTopics
	}
	typeOf := map[string]voucherwatch.RecordType{}
	for typ, topic := range cfg.Topics {
		typeOf[topic] = typ
	}
	letters, err := readDeadLetters(ctx, cfg.Brokers, cfg.DeadLetterTopic)
	if err != nil {
		return res, err
	}
	seen := map[string]bool{}
	var out []kafka.Message
	for _, m := range letters {
		h := headers(m)
		topic := h["vw.topic"]
		if cfg.Topic != "" && topic != cfg.Topic {
			continue
		}
		supplier := h[HeaderSupplier]
		if supplier == "" { // dead-lettered before the header existed
			_, _, supplier = Sniff(m.Value)
		}
		if supplier != cfg.Supplier {
			continue
		}
		at := m.Time
		if t, err := time.Parse(time.RFC3339Nano, h[HeaderRejectedAt]); err == nil {
			at = t
		}
		if at.Before(cfg.Since) {
			continue
		}
		// A message rejected twice (delivered again before its batch was committed) is one.
		origin := topic + "/" + h["vw.partition"] + "/" + h["vw.offset"]
		if seen[origin] {
			continue
		}
		seen[origin] = true
		res.Selected++
		typ, ok := typeOf[topic]
		if !ok {
			res.Skipped++
			continue
		}
		if _, err := dec.Decode(typ, m.Value); err != nil {
			if voucherwatch.ErrorCode(err) != voucherwatch.EINVALID {
				return res, fmt.Errorf("ingest: replay: decoder misconfigured: %w", err)
			}
			res.StillFailing[reasonRule(err)]++
			continue
		}
		res.WouldPass++
		out = append(out, kafka.Message{Topic: topic, Key: m.Key, Value: m.Value, Headers: []kafka.Header{
			{Key: HeaderReplayedFrom, Value: []byte(m.Topic + "/" + strconv.Itoa(m.Partition) + "/" + strconv.FormatInt(m.Offset, 10))},
		}})
	}
	if cfg.DryRun || len(out) == 0 {
		return res, nil
	}
	w := &kafka.Writer{Addr: kafka.TCP(cfg.Brokers...), Balancer: &kafka.Hash{}, RequiredAcks: kafka.RequireAll, BatchTimeout: 5 * time.Millisecond}
	defer w.Close()
	if err := w.WriteMessages(ctx, out...); err != nil {
		return res, fmt.Errorf("ingest: replay: send: %w", err)
	}
	res.Replayed = len(out)
	return res, nil
}

// reasonRule is a rejection's reason without the value it quotes, so that rejections for one
// rule count together: "data.cards: must be an integer >= 1".
func reasonRule(err error) string {
	r := err.Error()
	if i := strings.Index(r, ", got "); i > 0 {
		r = r[:i]
	}
	return voucherwatch.MaskText(r)
}

func headers(m kafka.Message) map[string]string {
	h := make(map[string]string, len(m.Headers))
	for _, x := range m.Headers {
		h[x.Key] = string(x.Value)
	}
	return h
}

// readDeadLetters reads every partition of topic from its first offset to its end as of now.
func readDeadLetters(ctx context.Context, brokers []string, topic string) ([]kafka.Message, error) {
	client := &kafka.Client{Addr: kafka.TCP(brokers...), Timeout: 10 * time.Second}
	meta, err := client.Metadata(ctx, &kafka.MetadataRequest{Topics: []string{topic}})
	if err != nil {
		return nil, fmt.Errorf("ingest: replay: metadata of %s: %w", topic, err)
	}
	var req []kafka.OffsetRequest
	for _, t := range meta.Topics {
		if t.Error != nil {
			return nil, fmt.Errorf("ingest: replay: topic %s: %w", topic, t.Error)
		}
		for _, p := range t.Partitions {
			req = append(req, kafka.FirstOffsetOf(p.ID), kafka.LastOffsetOf(p.ID))
		}
	}
	offs, err := client.ListOffsets(ctx, &kafka.ListOffsetsRequest{Topics: map[string][]kafka.OffsetRequest{topic: req}})
	if err != nil {
		return nil, fmt.Errorf("ingest: replay: offsets of %s: %w", topic, err)
	}
	var out []kafka.Message
	for _, p := range offs.Topics[topic] {
		if p.Error != nil {
			return nil, fmt.Errorf("ingest: replay: offsets of %s/%d: %w", topic, p.Partition, p.Error)
		}
		if p.LastOffset <= p.FirstOffset {
			continue
		}
		msgs, err := readPartition(ctx, brokers, topic, p.Partition, p.FirstOffset, p.LastOffset)
		if err != nil {
			return nil, err
		}
		out = append(out, msgs...)
	}
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].Partition != out[j].Partition {
			return out[i].Partition < out[j].Partition
		}
		return out[i].Offset < out[j].Offset
	})
	return out, nil
}

func readPartition(ctx context.Context, brokers []string, topic string, partition int, first, end int64) ([]kafka.Message, error) {
	r := kafka.NewReader(kafka.ReaderConfig{Brokers: brokers, Topic: topic, Partition: partition, MinBytes: 1, MaxBytes: 8 << 20, MaxWait: 250 * time.Millisecond})
	defer r.Close()
	if err := r.SetOffset(first); err != nil {
		return nil, fmt.Errorf("ingest: replay: %s/%d: %w", topic, partition, err)
	}
	var out []kafka.Message
	for {
		// The end offset may lie past the last message (a control record, a compacted
		// tail): a partition that stays quiet this long is read to its end.
		rctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		m, err := r.ReadMessage(rctx)
		cancel()
		if err != nil && ctx.Err() == nil && errors.Is(err, context.DeadlineExceeded) {
			return out, nil
		}
		if err != nil {
			return nil, fmt.Errorf("ingest: replay: read %s/%d: %w", topic, partition, err)
		}
		out = append(out, m)
		if m.Offset+1 >= end {
			return out, nil
		}
	}
}
