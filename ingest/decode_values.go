package ingest

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/voucherwatch/voucherwatch"
)

// Typed readers: each reads the value at the scanner's position and checks its JSON type and
// its contract rule. Their errors carry no field; the caller places them with at.

// maxStringBytes bounds every string the engine keeps. Nothing in the contract comes near it;
// a longer value is a broken sender, and would bloat keys and indexes in the store.
const maxStringBytes = 4096

// Absurdity bounds: values no real record carries. They keep a broken or hostile sender from
// feeding the detectors numbers that overflow their arithmetic.
const (
	maxCards    = 1_000_000     // cards of one resource, item or capacity line
	maxCount    = 1_000_000_000 // jobs, users
	maxQuantity = 1e12          // an item's quantity in its unit
	minYear     = 1900          // dates (enterprises registered long ago keep their date)
	minTimeYear = 2000          // timestamps: metering and sending happen now
	maxYear     = 2099
)

// invalid builds a field error whose field the caller fills in.
func invalid(format string, args ...any) *voucherwatch.Error {
	return &voucherwatch.Error{Code: voucherwatch.EINVALID, Message: fmt.Sprintf(format, args...)}
}

// required is the error for a missing member.
func required(field string) *voucherwatch.Error {
	return &voucherwatch.Error{Code: voucherwatch.EINVALID, Field: field, Message: "required"}
}

// at places a field error under the member name: "" → "amount", "amount" →
// "invoices.amount", "[2].amount" → "invoices[2].amount". Errors are built fresh for each
// failure, so they are amended in place. Other errors (syntax, internal) pass unchanged.
func at(name string, err error) error {
	if e, ok := err.(*voucherwatch.Error); ok && e.Code == voucherwatch.EINVALID {
		switch {
		case e.Field == "":
			e.Field = name
		case e.Field[0] == '[':
			e.Field = name + e.Field
		default:
			e.Field = name + "." + e.Field
		}
	}
	return err
}

// atIndex places a field error under an array index.
func atIndex(i int, err error) error {
	if e, ok := err.(*voucherwatch.Error); ok && e.Code == voucherwatch.EINVALID {
		idx := "[" + strconv.Itoa(i) + "]"
		switch {
		case e.Field == "":
			e.Field = idx
		case e.Field[0] == '[':
			e.Field = idx + e.Field
		default:
			e.Field = idx + "." + e.Field
		}
	}
	return err
}

// once records that the member with the given bit was read, and rejects a second one: with
// duplicate keys, a schema validator and the engine could each believe a different value.
func once(seen *uint32, bit uint32) error {
	if *seen&bit != 0 {
		return invalid("duplicate key")
	}
	*seen |= bit
	return nil
}

// missing reports the first required member not seen; names[i] is the member of bit 1<<i.
func missing(seen, req uint32, names []string) error {
	for i, name := range names {
		if req&(1<<i) != 0 && seen&(1<<i) == 0 {
			return required(name)
		}
	}
	return nil
}

// quote quotes a value for an error message, cut short: reasons are read in a table, and
// they travel into logs, the dead letters' table and the data-quality views. A bad value may
// be someone's identity or mobile number in the wrong member, so personal numbers are masked
// (voucherwatch.MaskText), and so is the middle of any other run of 11 or more digits, before
// the cut, so that a cut never leaves most of a number in clear.
func quote(v string) string {
	const max = 40
	v = maskDigitRuns(voucherwatch.MaskText(v))
	if utf8.RuneCountInString(v) > max {
		r := []rune(v)
		v = string(r[:max]) + "…"
	}
	return strconv.Quote(v)
}

// str reads a string the record keeps.
func (s *scanner) str() (string, error) {
	if c := s.peek(); c != '"' {
		return "", s.wrongType(c, "a string")
	}
	v, err := s.readString(true)
	if err != nil {
		return "", err
	}
	if len(v) > maxStringBytes {
		return "", invalid("must be at most %d bytes long, got %d", maxStringBytes, len(v))
	}
	return v, nil
}

// nonEmpty reads a string that must not be empty (minLength 1 in the schemas).
func (s *scanner) nonEmpty() (string, error) {
	v, err := s.str()
	if err == nil && v == "" {
		return "", invalid("must not be empty")
	}
	return v, err
}

// strList reads an array of strings.
func (s *scanner) strList() ([]string, error) {
	var out []string
	err := s.array(func(int) error {
		v, err := s.str()
		out = append(out, v)
		return err
	})
	return out, err
}

func (s *scanner) boolean() (bool, error) {
	switch c := s.peek(); c {
	case 't':
		return true, s.literal("true")
	case 'f':
		return false, s.literal("false")
	default:
		return false, s.wrongType(c, "a boolean")
	}
}

// integer reads an integer in [lo, hi]. Following JSON Schema, 8.0 is the integer 8; 8.5 is
// not an integer.
func (s *scanner) integer(lo, hi int64) (int, error) {
	c := s.peek()
	if c != '-' && !isDigit(c) {
		return 0, s.wrongType(c, "an integer")
	}
	raw, err := s.readNumber()
	if err != nil {
		return 0, err
	}
	v, ok := parseInt(raw)
	if !ok {
		f, err := strconv.ParseFloat(raw, 64)
		switch {
		case err == nil && f != math.Trunc(f):
			return 0, invalid("must be an integer, got %s", quote(raw))
		case err != nil || f < float64(lo) || f > float64(hi):
			return 0, outOfRange("an integer", float64(lo), float64(hi), f < float64(lo), raw)
		}
		v = int64(f)
	}
	if v < lo || v > hi {
		return 0, outOfRange("an integer", float64(lo), float64(hi), v < lo, raw)
	}
	return int(v), nil
}

// parseInt is the fast path for plain integer literals; it declines anything with a fraction,
// an exponent or too many digits to be exact.
func parseInt(raw string) (int64, bool) {
	i, neg := 0, false
	if raw[0] == '-' {
		i, neg = 1, true
	}
	if len(raw)-i > 18 {
		return 0, false
	}
	var v int64
	for ; i < len(raw); i++ {
		c := raw[i]
		if !isDigit(c) {
			return 0, false
		}
		v = v*10 + int64(c-'0')
	}
	if neg {
		v = -v
	}
	return v, true
}

// number reads a number in [lo, hi].
func (s *scanner) number(lo, hi float64) (float64, error) {
	c := s.peek()
	if c != '-' && !isDigit(c) {
		return 0, s.wrongType(c, "a number")
	}
	raw, err := s.readNumber()
	if err != nil {
		return 0, err
	}
	// A literal beyond float64 (1e400) parses as ±Inf with an error: out of range either way.
	f, err := strconv.ParseFloat(raw, 64)
	if err != nil {
		return 0, invalid("must be a finite number, got %s", quoteNum(raw))
	}
	if f < lo || f > hi {
		return 0, outOfRange("a number", lo, hi, f < lo, raw)
	}
	return f, nil
}

// outOfRange names the bound the value broke, not both: "must be an integer >= 1, got 0".
func outOfRange(what string, lo, hi float64, below bool, raw string) error {
	if below {
		return invalid("must be %s >= %s, got %s", what, fmtBound(lo), quoteNum(raw))
	}
	return invalid("must be %s <= %s, got %s", what, fmtBound(hi), quoteNum(raw))
}

func fmtBound(f float64) string {
	if math.Abs(f) < 1e15 {
		return strconv.FormatFloat(f, 'f', -1, 64)
	}
	return strconv.FormatFloat(f, 'g', -1, 64)
}

// quoteNum shows a number literal as sent, cut short and masked like quote.
func quoteNum(raw string) string {
	raw = maskDigitRuns(voucherwatch.MaskText(raw))
	if len(raw) > 40 {
		return raw[:40] + "…"
	}
	return raw
}

// money reads an amount in yuan. The contract sends money as a decimal string, never a JSON
// number, because a number passes through binary floating point in most senders' JSON
// libraries; a number here is bad input, however round it looks.
func (s *scanner) money(allowNegative bool) (voucherwatch.Money, error) {
	if c := s.peek(); c != '"' {
		return 0, s.wrongType(c, `a decimal string in yuan like "128000.00"`)
	}
	v, err := s.readString(false)
	if err != nil {
		return 0, err
	}
	m, ok := voucherwatch.ParseMoney(v)
	if !ok {
		return 0, invalid(`must be yuan with at most 2 decimals like "128000.00", got %s`, quote(v))
	}
	if m < 0 && !allowNegative {
		return 0, invalid("must not be negative, got %s", quote(v))
	}
	return m, nil
}

// date reads a YYYY-MM-DD date, which the contract defines in China Standard Time: the record
// holds midnight CST of that day.
func (s *scanner) date() (time.Time, error) {
	if c := s.peek(); c != '"' {
		return time.Time{}, s.wrongType(c, "a date YYYY-MM-DD")
	}
	v, err := s.readString(false)
	if err != nil {
		return time.Time{}, err
	}
	y, m, d, ok := parseDate(v)
	if !ok {
		return time.Time{}, invalid("must be a date YYYY-MM-DD, got %s", quote(v))
	}
	if y < minYear || y > maxYear {
		return time.Time{}, invalid("must be a date between %d and %d, got %s", minYear, maxYear, quote(v))
	}
	return time.Date(y, time.Month(m), d, 0, 0, 0, 0, voucherwatch.CST), nil
}

// timestamp reads an RFC 3339 timestamp, which must carry its offset: a local time without
// one could be any of 24 instants. The instant is kept and shown in CST.
func (s *scanner) timestamp() (time.Time, error) {
	if c := s.peek(); c != '"' {
		return time.Time{}, s.wrongType(c, "an RFC 3339 timestamp")
	}
	v, err := s.readString(false)
	if err != nil {
		return time.Time{}, err
	}
	t, ok := parseTimestamp(v)
	if !ok {
		return time.Time{}, invalid("must be an RFC 3339 timestamp with offset like %q, got %s", "2026-03-01T08:00:00+08:00", quote(v))
	}
	if y := t.Year(); y < minTimeYear || y > maxYear {
		return time.Time{}, invalid("must be a timestamp between %d and %d, got %s", minTimeYear, maxYear, quote(v))
	}
	return t, nil
}

// parseDate parses YYYY-MM-DD strictly: two-digit months and days, real calendar days.
func parseDate(v string) (y, m, d int, ok bool) {
	if len(v) != 10 || v[4] != '-' || v[7] != '-' {
		return 0, 0, 0, false
	}
	y, ok1 := atoi(v[0:4])
	m, ok2 := atoi(v[5:7])
	d, ok3 := atoi(v[8:10])
	if !ok1 || !ok2 || !ok3 || m < 1 || m > 12 || d < 1 || d > daysIn(y, m) {
		return 0, 0, 0, false
	}
	return y, m, d, true
}

// parseTimestamp parses RFC 3339 (date "T" time, optional fraction, "Z" or ±hh:mm) without
// time.Parse, which costs several hundred nanoseconds a call on the usage hot path.
func parseTimestamp(v string) (time.Time, bool) {
	if len(v) < 20 {
		return time.Time{}, false
	}
	y, mo, d, ok := parseDate(v[:10])
	if !ok || (v[10] != 'T' && v[10] != 't') || v[13] != ':' || v[16] != ':' {
		return time.Time{}, false
	}
	h, ok1 := atoi(v[11:13])
	mi, ok2 := atoi(v[14:16])
	sec, ok3 := atoi(v[17:19])
	if !ok1 || !ok2 || !ok3 || h > 23 || mi > 59 || sec > 59 {
		return time.Time{}, false
	}
	i, ns := 19, 0
	if v[i] == '.' {
		j := i + 1
		for i = j; i < len(v) && isDigit(v[i]); i++ {
		}
		if i == j || i-j > 9 {
			return time.Time{}, false
		}
		ns, _ = atoi(v[j:i])
		for k := i - j; k < 9; k++ {
			ns *= 10
		}
	}
	if i >= len(v) {
		return time.Time{}, false
	}
	off := 0
	switch v[i] {
	case 'Z', 'z':
		i++
	case '+', '-':
		if len(v)-i != 6 || v[i+3] != ':' {
			return time.Time{}, false
		}
		oh, ok1 := atoi(v[i+1 : i+3])
		om, ok2 := atoi(v[i+4 : i+6])
		if !ok1 || !ok2 || oh > 23 || om > 59 {
			return time.Time{}, false
		}
		off = oh*3600 + om*60
		if v[i] == '-' {
			off = -off
		}
		i += 6
	default:
		return time.Time{}, false
	}
	if i != len(v) {
		return time.Time{}, false
	}
	t := time.Date(y, time.Month(mo), d, h, mi, sec, ns, time.UTC).Add(-time.Duration(off) * time.Second)
	return t.In(voucherwatch.CST), true
}

// atoi parses a short run of ASCII digits.
func atoi(s string) (int, bool) {
	n := 0
	for i := 0; i < len(s); i++ {
		if !isDigit(s[i]) {
			return 0, false
		}
		n = n*10 + int(s[i]-'0')
	}
	return n, len(s) > 0
}

func daysIn(y, m int) int {
	switch m {
	case 2:
		if y%4 == 0 && (y%100 != 0 || y%400 == 0) {
			return 29
		}
		return 28
	case 4, 6, 9, 11:
		return 30
	}
	return 31
}

// uscc reads a unified social credit code and checks its check character.
func (s *scanner) uscc() (string, error) {
	v, err := s.str()
	if err != nil {
		return "", err
	}
	if !voucherwatch.ValidUSCC(v) {
		if voucherwatch.USCCShaped(v) {
			return "", invalid("bad check character in USCC %s", quote(v))
		}
		return "", invalid("must be an 18-character USCC (GB 32100-2015), got %s", quote(v))
	}
	return v, nil
}

// enum reads one of the allowed values and returns the allowed constant, not the message's
// copy, so that enum fields never pin a message in memory.
func (s *scanner) enum(allowed ...string) (string, error) {
	if c := s.peek(); c != '"' {
		return "", s.wrongType(c, "a string")
	}
	v, err := s.readString(false)
	if err != nil {
		return "", err
	}
	for _, a := range allowed {
		if v == a {
			return a, nil
		}
	}
	return "", invalid("must be one of %s; got %s", strings.Join(allowed, ", "), quote(v))
}

// city reads a 市州 as a name or division code and returns its division code. Where the
// city is optional, an empty string is read as absent.
func (s *scanner) city(optional bool) (string, error) {
	v, err := s.str()
	if err != nil || (optional && v == "") {
		return "", err
	}
	code, ok := voucherwatch.CityCode(strings.TrimSpace(v))
	if !ok {
		return "", invalid("must be a Hunan 市州 name or division code, got %s", quote(v))
	}
	return strings.Clone(code), nil
}

// invoiceNumber checks an invoice's (code, number) against the national format: digits, as
// people write them too (full-width, grouped by spaces, dashes or dots, after "No."), and a
// citation without a code must name one invoice by its number alone (a fully digital
// invoice's 20 digits, or a paper invoice's code and number joined). The pair is what duplicate
// detection matches on, by its canonical key (voucherwatch.CanonicalInvoice), so a malformed
// one must not slip in: letters are refused.
func invoiceNumber(code, no string) error {
	if !invoiceText(code) {
		return at("invoice_code", invalid("must be empty or digits, got %s", quote(code)))
	}
	if no == "" || !invoiceText(no) || !strings.ContainsFunc(no, isInvoiceDigit) {
		return at("invoice_no", invalid("must be digits, got %s", quote(no)))
	}
	if _, form := voucherwatch.CanonicalInvoice(code, no); code == "" && form == voucherwatch.InvoiceUnknown {
		n := 0
		for _, r := range no {
			if isInvoiceDigit(r) {
				n++
			}
		}
		return at("invoice_no", invalid("must be 20 digits when invoice_code is empty (fully digital invoice), got %d digits", n))
	}
	return nil
}

func isInvoiceDigit(r rune) bool { return r >= '0' && r <= '9' || r >= '０' && r <= '９' }

// invoiceText reports whether s is an invoice code or number as written: digits (ASCII or
// full-width) and separators, after an optional "No" or "No.".
func invoiceText(s string) bool {
	t := strings.TrimSpace(s)
	for _, p := range []string{"No.", "NO.", "no.", "No", "NO", "No：", "Ｎｏ．", "Ｎｏ"} {
		if rest, ok := strings.CutPrefix(t, p); ok {
			t = rest
			break
		}
	}
	for _, r := range t {
		switch {
		case isInvoiceDigit(r):
		case strings.ContainsRune(" -./:|#()（）－．：　\u00a0", r):
		default:
			return false
		}
	}
	return true
}

// maskDigitRuns stars all but the first 3 and last 4 digits of every run of 11 or more digits:
// in a reason, such a run is a number that went into the wrong member, and may be personal.
func maskDigitRuns(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); {
		j := i
		for j < len(s) && s[j] >= '0' && s[j] <= '9' {
			j++
		}
		if j == i {
			b.WriteByte(s[i])
			i++
			continue
		}
		if run := s[i:j]; len(run) >= 11 {
			b.WriteString(run[:3] + strings.Repeat("*", len(run)-7) + run[len(run)-4:])
		} else {
			b.WriteString(run)
		}
		i = j
	}
	return b.String()
}
