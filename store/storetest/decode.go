package storetest

import (
	"testing"

	"github.com/voucherwatch/voucherwatch"
	"github.com/voucherwatch/voucherwatch/ingest"
	"github.com/voucherwatch/voucherwatch/synth"
)

// Decode decodes a province's messages with the engine's decoder and the given PII key, by
// record type, as ingest would before storing them. A message on a topic that is no record
// type's, or one the decoder rejects, fails the test: generated provinces are valid.
func Decode(t testing.TB, piiKey string, msgs []synth.Message) map[voucherwatch.RecordType][]voucherwatch.Record {
	t.Helper()
	dec := &ingest.Decoder{PIIKey: []byte(piiKey)}
	typeOf := map[string]voucherwatch.RecordType{}
	for typ, topic := range voucherwatch.DefaultTopics {
		typeOf[topic] = typ
	}
	byType := map[voucherwatch.RecordType][]voucherwatch.Record{}
	for i, m := range msgs {
		typ, ok := typeOf[m.Topic]
		if !ok {
			t.Fatalf("message %d: unknown topic %s", i, m.Topic)
		}
		rec, err := dec.Decode(typ, m.Value)
		if err != nil {
			t.Fatalf("message %d on %s rejected: %v", i, m.Topic, err)
		}
		byType[typ] = append(byType[typ], rec)
	}
	return byType
}
