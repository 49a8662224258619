package synth

import (
	"bytes"
	"encoding/json"
	"strconv"
	"strings"
)

// BadMessage is a message for the usage topic with what is wrong with it. Kind is empty for the
// good messages BadUsage mixes in. Field is the dotted JSON path the engine's dead-letter reason
// should name ("data.window_end", "specversion"); it is empty when the message as a whole is bad
// (not JSON, not UTF-8, too large), where there is no field to name.
type BadMessage struct {
	Kind  string
	Field string
	Message
}

// OversizedBytes is the size of the oversized bad message: above what any sane engine accepts
// from one telemetry record, below Kafka's default 1 MB limit so that the broker still takes it.
const OversizedBytes = 600 << 10

// BadKinds lists the kinds of bad usage messages BadUsage returns, in order.
var BadKinds = []string{
	"not_json", "truncated_json", "wrong_specversion", "unknown_type", "missing_resource_id",
	"missing_window_end", "bad_uscc_check", "negative_cards", "card_hours_above_capacity",
	"reversed_window", "timestamp_no_offset", "timestamp_garbage", "cards_as_string",
	"card_hours_as_string", "oversized", "not_utf8", "util_above_one", "bad_chip_origin",
	"id_too_long", "empty_source", "data_not_object",
}

// BadUsage returns one message of each kind in BadKinds, each between two or three good usage
// messages (Kind ""), deterministic from seed. Every message has a distinct (source, id), so an
// engine cannot pass a test by taking a bad message for a redelivery of a good one.
func BadUsage(seed int64) []BadMessage {
	s := newUsageStream(seed, 64)
	s.seq = 9_000_000_000 // ids apart from UsageStream's under the same seed, which has the same senders
	k := 0
	good := func() Message {
		m := s.next(k % len(s.res))
		k++
		return Message{Topic: m.Topic, Key: append([]byte(nil), m.Key...), Value: append([]byte(nil), m.Value...)}
	}
	var out []BadMessage
	for i, kind := range BadKinds {
		for j := 0; j < 2+i%2; j++ {
			out = append(out, BadMessage{Message: good()})
		}
		base := good()
		field, value := breakUsage(kind, base.Value)
		key := base.Key
		if kind == "missing_resource_id" {
			key = nil // the sender had no resource id to key it by
		}
		out = append(out, BadMessage{Kind: kind, Field: field, Message: Message{Topic: TopicUsage, Key: key, Value: value}})
	}
	return append(out, BadMessage{Message: good()})
}

// breakUsage turns a good usage message into one of the bad kinds and names the field at fault.
func breakUsage(kind string, good []byte) (field string, value []byte) {
	var env map[string]any
	if err := json.Unmarshal(good, &env); err != nil {
		panic("synth: the usage stream wrote bad JSON: " + err.Error())
	}
	data := env["data"].(map[string]any)
	enc := func() []byte { return mustMarshal(env) }
	switch kind {
	case "not_json":
		return "", []byte("usage resource=" + data["resource_id"].(string) + " cards=8 window=2026-03-01T08:00")
	case "truncated_json":
		return "", good[:len(good)*2/3]
	case "wrong_specversion":
		env["specversion"] = "0.3"
		return "specversion", enc()
	case "unknown_type":
		env["type"] = "usage.v9"
		return "type", enc()
	case "missing_resource_id":
		delete(data, "resource_id")
		return "data.resource_id", enc()
	case "missing_window_end":
		delete(data, "window_end")
		return "data.window_end", enc()
	case "bad_uscc_check":
		data["supplier_uscc"] = breakUSCC(data["supplier_uscc"].(string))
		return "data.supplier_uscc", enc()
	case "negative_cards":
		data["cards"] = -8
		return "data.cards", enc()
	case "card_hours_above_capacity":
		// Eight cards for one hour cannot meter 100 card-hours.
		data["cards"] = 8
		data["card_hours"] = 100.0
		return "data.card_hours", enc()
	case "reversed_window":
		data["window_start"], data["window_end"] = data["window_end"], data["window_start"]
		return "data.window_end", enc()
	case "timestamp_no_offset":
		data["window_start"] = strings.TrimSuffix(data["window_start"].(string), "+08:00")
		return "data.window_start", enc()
	case "timestamp_garbage":
		env["time"] = "昨天下午三点"
		return "time", enc()
	case "cards_as_string":
		data["cards"] = strconv.Itoa(int(data["cards"].(float64)))
		return "data.cards", enc()
	case "card_hours_as_string":
		data["card_hours"] = strconv.FormatFloat(data["card_hours"].(float64), 'f', 3, 64)
		return "data.card_hours", enc()
	case "oversized":
		// Valid in every field, only far too large: thousands of login organisations.
		org := data["login_orgs"].([]any)[0]
		orgs := make([]any, OversizedBytes/21+1)
		for i := range orgs {
			orgs[i] = org
		}
		data["login_orgs"] = orgs
		return "", enc()
	case "not_utf8":
		v := enc()
		i := bytes.Index(v, []byte(`"tenant":"t-`)) + len(`"tenant":"t-`)
		return "", append(append(append([]byte(nil), v[:i]...), 0xff, 0xfe, 0xc3), v[i:]...)
	case "util_above_one":
		data["util_avg"] = 1.7
		return "data.util_avg", enc()
	case "bad_chip_origin":
		data["chip_origin"] = "imported"
		return "data.chip_origin", enc()
	case "id_too_long":
		env["id"] = "usage-" + strings.Repeat("9", 194)
		return "id", enc()
	case "empty_source":
		env["source"] = ""
		return "source", enc()
	case "data_not_object":
		env["data"] = []any{data}
		return "data", enc()
	}
	panic("synth: unknown bad kind " + kind)
}
