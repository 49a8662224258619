package voucherwatch

import (
	"bytes"
	"encoding/json"
	"strings"
)

// RedactMessage returns a copy of a message, as a sender sent it, that is fit to keep where
// people read it (the dead letters' table): identity numbers, mobile numbers, e-mail addresses
// and account numbers are masked. A JSON message is masked member by member, so that a number
// is masked by the member that holds it (id_number, phone, email, account_no) whatever its
// shape, and every other string by MaskText; a message that is not JSON is masked as text.
// The original bytes stay only on the dead-letter topic, for replay.
func RedactMessage(value []byte) []byte {
	dec := json.NewDecoder(bytes.NewReader(value))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil || dec.More() {
		return []byte(MaskText(string(value)))
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(redactValue("", v)); err != nil {
		return []byte(MaskText(string(value)))
	}
	return bytes.TrimSuffix(b.Bytes(), []byte("\n"))
}

// redactValue masks v, found under the member key.
func redactValue(key string, v any) any {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			x[k] = redactValue(k, e)
		}
		return x
	case []any:
		for i, e := range x {
			x[i] = redactValue(key, e)
		}
		return x
	case string:
		return redactString(key, x)
	case json.Number:
		if m := redactString(key, string(x)); m != string(x) {
			return m
		}
		return x
	}
	return v
}

func redactString(key, s string) string {
	k := strings.ToLower(key)
	switch {
	case k == "id_number" || strings.HasSuffix(k, "_id_number"):
		return MaskIDNumber(strings.TrimSpace(s))
	case k == "phone" || k == "mobile" || strings.HasSuffix(k, "_phone"):
		return MaskPhone(s)
	case k == "email" || strings.HasSuffix(k, "_email"):
		return MaskEmail(s)
	case k == "account_no" || strings.HasSuffix(k, "_account_no"):
		return MaskAccount(s)
	}
	return MaskText(s)
}
