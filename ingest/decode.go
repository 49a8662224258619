package ingest

import (
	"fmt"
	"strings"
	"time"
	"unicode/utf8"
	"unsafe"

	"github.com/voucherwatch/voucherwatch"
)

// DefaultMaxMessageBytes is the largest message Decode accepts when Decoder.MaxBytes is zero.
// The largest real record, an enterprise with many holders and officers, is a few kilobytes.
const DefaultMaxMessageBytes = 256 << 10

// CardHoursTolerance is how far metered card_hours may exceed cards × window hours: meters
// sample and round, and a window's edges are seldom exact to the second. Beyond 1 % the
// supplier claims more card time than the cards had.
const CardHoursTolerance = 0.01

// MaxUsageWindow is the longest usage window accepted (voucherwatch.MaxUsageWindow).
const MaxUsageWindow = voucherwatch.MaxUsageWindow

// MaxFutureSkew is how far past Decoder.Now a timestamp may lie: senders' clocks drift, but a
// record sent from, or metering, the future is wrong.
const MaxFutureSkew = time.Hour

// Decoder turns one Kafka message value into a validated voucherwatch.Record. It holds no
// state between calls and is safe for concurrent use.
type Decoder struct {
	// PIIKey keys the hash of identity numbers (see PersonKey). It must be set, and secret,
	// to decode records that carry identity numbers.
	PIIKey []byte
	// MaxBytes is the message size limit; 0 means DefaultMaxMessageBytes.
	MaxBytes int
	// Now, when set, bounds timestamps from above (Now + MaxFutureSkew). It is optional so
	// that recorded or synthetic data from any period can be replayed.
	Now func() time.Time
}

// Decode decodes value, which arrived on a topic that carries records of type want, and
// validates it field by field against the wire contract (docs/contract.md).
//
// On bad input it returns a *voucherwatch.Error with Code EINVALID whose Field is the dotted
// JSON path of the offending field ("data.invoices[2].amount"), or empty for faults of the
// whole message (size, encoding, syntax). Its text is the reason supervisors see for the dead
// letter, e.g. "data.cards: must be an integer >= 1, got 0". It never contains an identity
// number. Decode returns EINTERNAL when the decoder is misconfigured: want is not a record
// type, or a record carries identity numbers and PIIKey is empty.
func (d *Decoder) Decode(want voucherwatch.RecordType, value []byte) (voucherwatch.Record, error) {
	return d.decodeValue(want, value, false)
}

// DecodeOwned is Decode for a value handed over to the record: its strings point into value
// itself, not into a copy, so value must never change afterwards. The consumer's messages are
// allocated one by one by kafka-go and not touched after decoding; the copy was a tenth of the
// engine's CPU on a usage batch (memmove), and as much memory as the message again.
func (d *Decoder) DecodeOwned(want voucherwatch.RecordType, value []byte) (voucherwatch.Record, error) {
	return d.decodeValue(want, value, true)
}

func (d *Decoder) decodeValue(want voucherwatch.RecordType, value []byte, owned bool) (voucherwatch.Record, error) {
	limit := d.MaxBytes
	if limit <= 0 {
		limit = DefaultMaxMessageBytes
	}
	if len(value) > limit {
		return voucherwatch.Record{}, messageError("message is %d bytes, over the limit of %d", len(value), limit)
	}
	if !knownType(want) {
		return voucherwatch.Record{}, voucherwatch.Errorf(voucherwatch.EINTERNAL, "ingest: decode: topic carries unknown record type %q", want)
	}
	// encoding/json would replace bad bytes with U+FFFD silently; the contract's text is UTF-8.
	if !utf8.Valid(value) {
		return voucherwatch.Record{}, messageError("message is not valid UTF-8 (first bad byte at %d)", firstInvalidUTF8(value))
	}
	// The decoded record's strings are substrings of msg (see scanner): one copy of the
	// message, so that the caller may reuse value, unless value is handed over.
	var msg string
	if owned && len(value) > 0 {
		msg = unsafe.String(&value[0], len(value))
	} else {
		msg = string(value)
	}
	var now time.Time
	if d.Now != nil {
		now = d.Now()
	}
	rec, err := d.decode(want, msg, now)
	if err != nil {
		return voucherwatch.Record{}, d.explain(want, msg, now, err)
	}
	return rec, nil
}

func knownType(t voucherwatch.RecordType) bool {
	for _, k := range voucherwatch.RecordTypes {
		if t == k {
			return true
		}
	}
	return false
}

// messageError is a fault of the whole message, not of one field.
func messageError(format string, args ...any) *voucherwatch.Error {
	return &voucherwatch.Error{Code: voucherwatch.EINVALID, Message: fmt.Sprintf(format, args...)}
}

func firstInvalidUTF8(b []byte) int {
	for i := 0; i < len(b); {
		r, n := utf8.DecodeRune(b[i:])
		if r == utf8.RuneError && n <= 1 {
			return i
		}
		i += n
	}
	return len(b)
}

// Envelope members, by bit.
const (
	eSpecversion = 1 << iota
	eID
	eSource
	eType
	eTime
	eData
)

var envelopeKeys = []string{"specversion", "id", "source", "type", "time", "data"}

const envelopeRequired = eSpecversion | eID | eSource | eType | eTime | eData

// decode reads the envelope and, in the same pass, the data as a record of type want. The
// envelope's members may come in any order; data is decoded as want even before type is
// seen, and a mismatch of the two is reported as such by explain.
func (d *Decoder) decode(want voucherwatch.RecordType, msg string, now time.Time) (voucherwatch.Record, error) {
	rec := voucherwatch.Record{}
	s := scanner{s: msg, clone: want == voucherwatch.TypeRegistry}
	err := d.envelope(&s, want, now, &rec.Envelope, func() error {
		var err error
		switch want {
		case voucherwatch.TypeUsage:
			rec.Usage, err = d.usage(&s, now)
		case voucherwatch.TypeClaim:
			rec.Claim, err = d.claim(&s)
		case voucherwatch.TypeContract:
			rec.Contract, err = d.contract(&s)
		case voucherwatch.TypeSettlement:
			rec.Settlement, err = d.settlement(&s)
		case voucherwatch.TypeRegistry:
			rec.Entity, err = d.entity(&s)
		}
		return err
	})
	if err != nil {
		return voucherwatch.Record{}, err
	}
	return rec, nil
}

// envelope reads the CloudEvents envelope, calling data with the scanner at the data object.
// Other CloudEvents attributes (datacontenttype, subject, extensions) are allowed and skipped.
func (d *Decoder) envelope(s *scanner, want voucherwatch.RecordType, now time.Time, env *voucherwatch.Envelope, data func() error) error {
	if c := s.peek(); c != '{' {
		if k := kindOf(c); k != "" {
			return messageError("message must be a JSON object, got %s", k)
		}
		return s.unexpected()
	}
	if err := s.enter(); err != nil {
		return err
	}
	var seen uint32
	for first := true; ; first = false {
		key, ok, err := s.member(first)
		if err != nil {
			return err
		}
		if !ok {
			break
		}
		switch key {
		case "specversion":
			err = once(&seen, eSpecversion)
			var v string
			if err == nil {
				v, err = s.str()
			}
			if err == nil && v != "1.0" {
				err = invalid(`must be "1.0", got %s`, quote(v))
			}
		case "id":
			if err = once(&seen, eID); err == nil {
				env.ID, err = s.str()
			}
			if n := utf8.RuneCountInString(env.ID); err == nil && (n < 1 || n > 128) {
				err = invalid("must be 1 to 128 characters, got %d", n)
			}
		case "source":
			if err = once(&seen, eSource); err == nil {
				env.Source, err = s.nonEmpty()
			}
		case "type":
			if err = once(&seen, eType); err == nil {
				env.Type, err = recordType(s, want)
			}
		case "time":
			if err = once(&seen, eTime); err == nil {
				env.Time, err = s.timestamp()
			}
			if err == nil {
				err = notFuture(env.Time, now)
			}
		case "data":
			if err = once(&seen, eData); err != nil {
				break
			}
			if c := s.peek(); c != '{' {
				err = s.wrongType(c, "an object")
			} else if data != nil {
				err = data()
			} else {
				err = s.skip()
			}
		default:
			err = s.skip()
		}
		if err != nil {
			return at(key, err)
		}
	}
	if err := s.end(); err != nil {
		return err
	}
	return missing(seen, envelopeRequired, envelopeKeys)
}

// recordType reads the envelope's type. A record of another type on this topic is rejected:
// the topic says what the consumer expects, and storing a claim among usage would hide it
// from everything that reads claims.
func recordType(s *scanner, want voucherwatch.RecordType) (voucherwatch.RecordType, error) {
	v, err := s.enum(string(voucherwatch.TypeRegistry), string(voucherwatch.TypeContract),
		string(voucherwatch.TypeSettlement), string(voucherwatch.TypeUsage), string(voucherwatch.TypeClaim))
	if err != nil {
		return "", err
	}
	if t := voucherwatch.RecordType(v); t != want {
		return "", invalid("%s is not accepted on this topic, which carries %s", t, want)
	}
	return want, nil
}

// notFuture applies the optional clock bound.
func notFuture(t, now time.Time) error {
	if !now.IsZero() && t.After(now.Add(MaxFutureSkew)) {
		return invalid("must not be in the future, got %s (now %s)", t.Format(time.RFC3339), now.In(voucherwatch.CST).Format(time.RFC3339))
	}
	return nil
}

// explain chooses the reason to report for a rejected message. The decoder stops at the
// first fault it meets, but the first fault met is not always the one to report: a truncated
// message may fail on a field before the scanner reaches the cut, and data may precede an
// envelope whose type says the record is on the wrong topic. So a rejection is re-examined,
// cheaply since rejections are rare: syntax first, then the envelope, then the data.
func (d *Decoder) explain(want voucherwatch.RecordType, msg string, now time.Time, err error) error {
	if _, ok := err.(*syntaxError); !ok {
		if serr := validJSON(msg); serr != nil {
			err = serr
		} else {
			s := scanner{s: msg}
			var env voucherwatch.Envelope
			if eerr := d.envelope(&s, want, now, &env, nil); eerr != nil {
				err = eerr
			}
		}
	}
	if se, ok := err.(*syntaxError); ok {
		return messageError("%s", se.Error())
	}
	return err
}

// Sniff reads what it can of a message's header — source, id and the supplier's USCC
// (data.supplier_uscc, else a source that is shaped like a USCC) — for the dead-letter table.
// It reads the message as far as it is JSON and never fails; what it cannot read is empty.
// Values are cut to 128 bytes and made valid UTF-8.
func Sniff(value []byte) (source, id, supplier string) {
	s := scanner{s: string(value)}
	func() {
		if s.peek() != '{' || s.enter() != nil {
			return
		}
		for first := true; ; first = false {
			key, ok, err := s.member(first)
			if err != nil || !ok {
				return
			}
			switch {
			case key == "source" && s.peek() == '"':
				source, err = s.readString(false)
			case key == "id" && s.peek() == '"':
				id, err = s.readString(false)
			case key == "data" && s.peek() == '{':
				err = sniffSupplier(&s, &supplier)
			default:
				err = s.skip()
			}
			if err != nil {
				return
			}
		}
	}()
	if supplier == "" {
		if voucherwatch.USCCShaped(source) {
			supplier = source
		}
	}
	return sniffClean(source), sniffClean(id), sniffClean(supplier)
}

func sniffSupplier(s *scanner, supplier *string) error {
	if err := s.enter(); err != nil {
		return err
	}
	for first := true; ; first = false {
		key, ok, err := s.member(first)
		if err != nil || !ok {
			return err
		}
		if key == "supplier_uscc" && s.peek() == '"' {
			*supplier, err = s.readString(false)
		} else {
			err = s.skip()
		}
		if err != nil {
			return err
		}
	}
}

func sniffClean(v string) string {
	const max = 128
	if len(v) > max {
		cut := max
		for cut > 0 && !utf8.RuneStart(v[cut]) {
			cut--
		}
		v = v[:cut]
	}
	return strings.ToValidUTF8(v, "\uFFFD")
}
