package ingest

import (
	"encoding/json"
	"strings"
	"testing"
	"unicode/utf8"
)

var scannerSeeds = []string{
	`{}`, `[]`, `""`, `0`, `-0`, `1.5e-3`, `true`, `false`, `null`, ` {"a" : [1, 2, {"b": null}] } `,
	`01`, `1.`, `.5`, `-`, `1e`, `1e+`, `+1`, `NaN`, `Infinity`, `[1,]`, `{"a":1,}`, `{,}`, `[,1]`,
	`{"a"}`, `{"a":}`, `{1:2}`, `"\u12"`, `"\uD83D\uDE00"`, `"\uD800"`, `"\uDC00\uD800"`, `"\x"`,
	"\"\t\"", `"\/\b\f\n\r\t\\\""`, `tru`, `nul`, `[1 2]`, `{"a":1 "b":2}`, `"abc`, `{"a":"b"}x`,
	strings.Repeat("[", 70) + strings.Repeat("]", 70),
}

// FuzzScanner checks the scanner's syntax against encoding/json.Valid: it accepts exactly
// the JSON texts encoding/json accepts, but for nesting beyond maxDepth, which it refuses.
func FuzzScanner(f *testing.F) {
	for _, s := range scannerSeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		if !utf8.ValidString(in) { // Decode checks UTF-8 before it scans
			return
		}
		err := validJSON(in)
		want := json.Valid([]byte(in))
		if se, ok := err.(*syntaxError); ok && strings.HasPrefix(se.msg, "nested deeper") {
			return
		}
		if (err == nil) != want {
			t.Fatalf("validJSON(%q) = %v, json.Valid = %v", in, err, want)
		}
		if err != nil {
			if se, ok := err.(*syntaxError); !ok || se.at < 0 || se.at > len(in) {
				t.Fatalf("validJSON(%q): error %#v, want a syntax error within the input", in, err)
			}
		}
	})
}

// FuzzScannerString checks that strings are unescaped exactly as encoding/json does.
func FuzzScannerString(f *testing.F) {
	for _, s := range []string{`"plain"`, `"\u00e9\n"`, `"\uD83D\uDE00"`, `"\uD800x"`, `"\uD800\u0041"`,
		`"\uDBFF\uDFFF"`, `"\uD800\uD800\uDC00"`, `"a\"b\\c\/d"`, `"中文"`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		if !utf8.ValidString(in) || len(in) == 0 || in[0] != '"' {
			return
		}
		s := scanner{s: in}
		got, err := s.readString(true)
		if err == nil && s.end() != nil {
			return // a string followed by more: not one JSON text
		}
		var want string
		werr := json.Unmarshal([]byte(in), &want)
		if (err == nil) != (werr == nil) {
			t.Fatalf("readString(%q): err %v, encoding/json err %v", in, err, werr)
		}
		if err == nil && got != want {
			t.Fatalf("readString(%q) = %q, encoding/json %q", in, got, want)
		}
	})
}

// TestScannerStringEveryPosition: a quote, an escape or a control character, or a byte that
// is none (a space, DEL, the bytes of 中), at every position of strings up to 40 bytes long,
// read as encoding/json reads them. readString skips eight plain bytes at a time: it must
// stop at whichever byte ends the plain run, also when a later byte of the word would end it
// too (`\\`, two quotes).
func TestScannerStringEveryPosition(t *testing.T) {
	specials := []string{`\"`, `\n`, `\\\\`, `\u00e9`, "\x00", "\x01", "\x1f", " ", "!", "\x7f", "中", `"`, `""`, "\x01\""}
	for n := 0; n <= 40; n++ {
		for p := 0; p <= n; p++ {
			for _, sp := range specials {
				in := `"` + strings.Repeat("a", p) + sp + strings.Repeat("b", n-p) + `"`
				s := scanner{s: in}
				got, err := s.readString(true)
				if err == nil && s.end() != nil {
					err = s.end()
				}
				var want string
				werr := json.Unmarshal([]byte(in), &want)
				if (err == nil) != (werr == nil) || err == nil && got != want {
					t.Fatalf("readString(%q) = %q, %v; encoding/json %q, %v", in, got, err, want, werr)
				}
			}
		}
	}
}

func TestScannerSeeds(t *testing.T) {
	for _, in := range scannerSeeds {
		err := validJSON(in)
		if se, ok := err.(*syntaxError); ok && strings.HasPrefix(se.msg, "nested deeper") {
			continue
		}
		if (err == nil) != json.Valid([]byte(in)) {
			t.Errorf("validJSON(%q) = %v, json.Valid = %v", in, err, json.Valid([]byte(in)))
		}
	}
}
