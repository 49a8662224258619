package ingest

import (
	"fmt"
	"math/bits"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

// maxDepth bounds the nesting of objects and arrays. The deepest record nests five levels
// (data.shareholders[i].person); the bound only keeps a hostile message from recursing deep.
const maxDepth = 64

// scanner reads one JSON text (RFC 8259) held in a string, without reflection: the decoders
// pull typed values from it field by field, which is what makes usage.v1 cheap to decode and
// lets every error name its field. It accepts exactly what encoding/json.Valid accepts (up to
// maxDepth), and unescapes strings exactly as encoding/json does; FuzzScanner checks both.
//
// Strings without escapes are returned as substrings of the message, so the kept strings of a
// record share one allocation, the message copy. With clone set, kept strings are copied
// instead, so that the message — which may carry identity numbers — is not pinned in memory by
// the record.
type scanner struct {
	s     string
	i     int
	depth int
	clone bool
}

// syntaxError is a message that is not JSON. It is reported without a field: the position is
// all that can be said.
type syntaxError struct {
	at  int
	msg string
}

func (e *syntaxError) Error() string {
	return fmt.Sprintf("not valid JSON: %s at byte %d", e.msg, e.at)
}

func (s *scanner) ws() {
	if s.i < len(s.s) && s.s[s.i] > ' ' {
		return // compact JSON, as producers send it
	}
	for s.i < len(s.s) {
		switch s.s[s.i] {
		case ' ', '\t', '\n', '\r':
			s.i++
		default:
			return
		}
	}
}

// peek returns the first byte of the next token, 0 at the end of input.
func (s *scanner) peek() byte {
	s.ws()
	if s.i < len(s.s) {
		return s.s[s.i]
	}
	return 0
}

// unexpected reports the byte at the current position. It never quotes more than one
// character, so a syntax error cannot leak a field's content.
func (s *scanner) unexpected() error {
	if s.i >= len(s.s) {
		return &syntaxError{s.i, "unexpected end of input"}
	}
	r, _ := utf8.DecodeRuneInString(s.s[s.i:])
	return &syntaxError{s.i, fmt.Sprintf("unexpected character %q", r)}
}

// enter consumes the opening bracket of an object or array.
func (s *scanner) enter() error {
	if s.depth >= maxDepth {
		return &syntaxError{s.i, fmt.Sprintf("nested deeper than %d levels", maxDepth)}
	}
	s.depth++
	s.i++
	return nil
}

// member advances to the next member of the object being read, past its colon. It reports
// false after consuming the closing brace. Members whose value is null are skipped: the engine
// reads null as absent (see docs/contract.md).
func (s *scanner) member(first bool) (key string, ok bool, err error) {
	for {
		s.ws()
		if s.i >= len(s.s) {
			return "", false, s.unexpected()
		}
		c := s.s[s.i]
		if c == '}' {
			s.i++
			s.depth--
			return "", false, nil
		}
		if !first {
			if c != ',' {
				return "", false, s.unexpected()
			}
			s.i++
			s.ws()
			if s.i >= len(s.s) {
				return "", false, s.unexpected()
			}
			c = s.s[s.i]
		}
		if c != '"' {
			return "", false, s.unexpected()
		}
		if key, err = s.readString(false); err != nil {
			return "", false, err
		}
		s.ws()
		if s.i >= len(s.s) || s.s[s.i] != ':' {
			return "", false, s.unexpected()
		}
		s.i++
		if s.peek() == 'n' {
			if err := s.literal("null"); err != nil {
				return "", false, err
			}
			first = false
			continue
		}
		return key, true, nil
	}
}

// element advances to the next element of the array being read. It reports false after
// consuming the closing bracket.
func (s *scanner) element(first bool) (bool, error) {
	s.ws()
	if s.i >= len(s.s) {
		return false, s.unexpected()
	}
	c := s.s[s.i]
	if c == ']' {
		s.i++
		s.depth--
		return false, nil
	}
	if !first {
		if c != ',' {
			return false, s.unexpected()
		}
		s.i++
	}
	return true, nil
}

// array reads an array, calling fn once per element with the scanner at the element; fn must
// consume it. Errors from fn are placed at "[i]".
func (s *scanner) array(fn func(i int) error) error {
	if c := s.peek(); c != '[' {
		return s.wrongType(c, "an array")
	}
	if err := s.enter(); err != nil {
		return err
	}
	for i := 0; ; i++ {
		ok, err := s.element(i == 0)
		if err != nil {
			return err
		}
		if !ok {
			return nil
		}
		if err := fn(i); err != nil {
			return atIndex(i, err)
		}
	}
}

// literal consumes true, false or null.
func (s *scanner) literal(word string) error {
	for j := 0; j < len(word); j++ {
		if s.i >= len(s.s) || s.s[s.i] != word[j] {
			return s.unexpected()
		}
		s.i++
	}
	return nil
}

// readString reads the string starting at the current quote. Kept strings are cloned when the
// scanner is in clone mode; keys and transient values are not.
func (s *scanner) readString(keep bool) (string, error) {
	start := s.i + 1
	i := start
	// Eight bytes at a time up to the first that needs a look: the strings of a usage record
	// (identifiers, timestamps) were a quarter of its decoding, byte by byte.
	for ; i+8 <= len(s.s); i += 8 {
		if m := special(load64(s.s, i)); m != 0 {
			i += bits.TrailingZeros64(m) >> 3
			break
		}
	}
	for ; i < len(s.s); i++ {
		switch c := s.s[i]; {
		case c == '"':
			s.i = i + 1
			v := s.s[start:i]
			if keep && s.clone {
				v = strings.Clone(v)
			}
			return v, nil
		case c == '\\':
			return s.readEscaped(start, i)
		case c < 0x20:
			s.i = i
			return "", &syntaxError{i, "control character in string"}
		}
	}
	s.i = len(s.s)
	return "", s.unexpected()
}

// load64 reads the eight bytes of s from i as a little-endian word (one load).
func load64(s string, i int) uint64 {
	s = s[i : i+8]
	return uint64(s[0]) | uint64(s[1])<<8 | uint64(s[2])<<16 | uint64(s[3])<<24 |
		uint64(s[4])<<32 | uint64(s[5])<<40 | uint64(s[6])<<48 | uint64(s[7])<<56
}

const (
	lsbs = 0x0101010101010101
	msbs = 0x8080808080808080
)

// special marks the bytes of x that end a plain run of string: a quote, a backslash or a
// control character. The lowest marked byte is always one of them; bytes above it may be
// marked falsely (a borrow), which is why only the lowest is used. Bytes of 0x80 and above
// (UTF-8) are never marked.
func special(x uint64) uint64 {
	q := x ^ (lsbs * '"')
	b := x ^ (lsbs * '\\')
	return ((q-lsbs)&^q | (b-lsbs)&^b | (x-lsbs*0x20)&^x) & msbs
}

// readEscaped finishes a string that contains escapes, from the first backslash at i. Lone
// surrogates become U+FFFD, as in encoding/json.
func (s *scanner) readEscaped(start, i int) (string, error) {
	buf := make([]byte, 0, i-start+16)
	buf = append(buf, s.s[start:i]...)
	for i < len(s.s) {
		c := s.s[i]
		switch {
		case c == '"':
			s.i = i + 1
			return string(buf), nil
		case c < 0x20:
			s.i = i
			return "", &syntaxError{i, "control character in string"}
		case c != '\\':
			buf = append(buf, c)
			i++
			continue
		}
		if i+1 >= len(s.s) {
			s.i = len(s.s)
			return "", s.unexpected()
		}
		switch e := s.s[i+1]; e {
		case '"', '\\', '/':
			buf = append(buf, e)
		case 'b':
			buf = append(buf, '\b')
		case 'f':
			buf = append(buf, '\f')
		case 'n':
			buf = append(buf, '\n')
		case 'r':
			buf = append(buf, '\r')
		case 't':
			buf = append(buf, '\t')
		case 'u':
			r, ok := hex4(s.s, i+2)
			if !ok {
				if i+6 > len(s.s) {
					s.i = len(s.s)
					return "", s.unexpected()
				}
				s.i = i
				return "", &syntaxError{i, `invalid \u escape`}
			}
			i += 6
			if utf16.IsSurrogate(r) {
				r2, ok := rune(0), false
				if i+1 < len(s.s) && s.s[i] == '\\' && s.s[i+1] == 'u' {
					r2, ok = hex4(s.s, i+2)
				}
				if d := utf16.DecodeRune(r, r2); ok && d != utf8.RuneError {
					r = d
					i += 6
				} else {
					r = utf8.RuneError
				}
			}
			buf = utf8.AppendRune(buf, r)
			continue
		default:
			s.i = i
			return "", &syntaxError{i, "invalid escape in string"}
		}
		i += 2
	}
	s.i = len(s.s)
	return "", s.unexpected()
}

// hex4 decodes the four hex digits of a \u escape at s[i:].
func hex4(s string, i int) (rune, bool) {
	if i+4 > len(s) {
		return 0, false
	}
	var r rune
	for _, c := range []byte(s[i : i+4]) {
		switch {
		case '0' <= c && c <= '9':
			c -= '0'
		case 'a' <= c && c <= 'f':
			c = c - 'a' + 10
		case 'A' <= c && c <= 'F':
			c = c - 'A' + 10
		default:
			return 0, false
		}
		r = r*16 + rune(c)
	}
	return r, true
}

// skipString consumes a string without building it.
func (s *scanner) skipString() error {
	for i := s.i + 1; i < len(s.s); i++ {
		switch c := s.s[i]; {
		case c == '"':
			s.i = i + 1
			return nil
		case c == '\\':
			_, err := s.readEscaped(i, i)
			return err
		case c < 0x20:
			s.i = i
			return &syntaxError{i, "control character in string"}
		}
	}
	s.i = len(s.s)
	return s.unexpected()
}

// readNumber consumes a number and returns its literal, checked against the JSON grammar.
func (s *scanner) readNumber() (string, error) {
	start, i := s.i, s.i
	n := len(s.s)
	if i < n && s.s[i] == '-' {
		i++
	}
	switch {
	case i < n && s.s[i] == '0':
		i++
	case i < n && '1' <= s.s[i] && s.s[i] <= '9':
		for i++; i < n && isDigit(s.s[i]); i++ {
		}
	default:
		s.i = i
		return "", s.unexpected()
	}
	if i < n && s.s[i] == '.' {
		i++
		if i >= n || !isDigit(s.s[i]) {
			s.i = i
			return "", s.unexpected()
		}
		for ; i < n && isDigit(s.s[i]); i++ {
		}
	}
	if i < n && (s.s[i] == 'e' || s.s[i] == 'E') {
		i++
		if i < n && (s.s[i] == '+' || s.s[i] == '-') {
			i++
		}
		if i >= n || !isDigit(s.s[i]) {
			s.i = i
			return "", s.unexpected()
		}
		for ; i < n && isDigit(s.s[i]); i++ {
		}
	}
	s.i = i
	return s.s[start:i], nil
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

// skip consumes one value of any kind: unknown fields are read for syntax and dropped.
func (s *scanner) skip() error {
	switch c := s.peek(); {
	case c == '"':
		return s.skipString()
	case c == '{':
		if err := s.enter(); err != nil {
			return err
		}
		for first := true; ; first = false {
			_, ok, err := s.member(first)
			if err != nil || !ok {
				return err
			}
			if err := s.skip(); err != nil {
				return err
			}
		}
	case c == '[':
		if err := s.enter(); err != nil {
			return err
		}
		for first := true; ; first = false {
			ok, err := s.element(first)
			if err != nil || !ok {
				return err
			}
			if err := s.skip(); err != nil {
				return err
			}
		}
	case c == 't':
		return s.literal("true")
	case c == 'f':
		return s.literal("false")
	case c == 'n':
		return s.literal("null")
	case c == '-' || isDigit(c):
		_, err := s.readNumber()
		return err
	}
	return s.unexpected()
}

// end checks that nothing but whitespace follows the top-level value.
func (s *scanner) end() error {
	s.ws()
	if s.i < len(s.s) {
		r, _ := utf8.DecodeRuneInString(s.s[s.i:])
		return &syntaxError{s.i, fmt.Sprintf("unexpected character %q after the object", r)}
	}
	return nil
}

// validJSON checks the syntax of a whole message, for explaining a rejection: a message that
// is not JSON is reported as such rather than by the first field that failed before the
// scanner reached the broken part.
func validJSON(msg string) error {
	s := scanner{s: msg}
	if err := s.skip(); err != nil {
		return err
	}
	return s.end()
}

// kindOf names the JSON type of a value by its first byte, "" when no value starts so.
func kindOf(c byte) string {
	switch {
	case c == '"':
		return "string"
	case c == '{':
		return "object"
	case c == '[':
		return "array"
	case c == 't' || c == 'f':
		return "boolean"
	case c == 'n':
		return "null"
	case c == '-' || isDigit(c):
		return "number"
	}
	return ""
}

// wrongType reports a value of the wrong JSON type, or a syntax error when no value starts at
// the current position.
func (s *scanner) wrongType(c byte, want string) error {
	k := kindOf(c)
	if k == "" {
		return s.unexpected()
	}
	return invalid("must be %s, got %s", want, k)
}
