package main

import (
	"strings"
	"testing"
	"time"
)

// halfLoaded is a load half done after 10 s: 5,000 of 10,000 messages, so 500/s and 10 s to go.
var halfLoaded = loadProgress{
	Topics: []topicProgress{
		{Topic: "vw.registry", Produced: 400, Messages: 400, Stored: 390, Unique: 390},
		{Topic: "vw.usage", Produced: 9600, Messages: 9600, Stored: 4500, Unique: 9400},
	},
	Processed: 5000,
	Total:     10000,
	Elapsed:   10 * time.Second,
}

func TestProgressFormat(t *testing.T) {
	f := func(name string, p loadProgress, tty bool, width int, want []string, check func(string) string) {
		t.Helper()
		got := p.format(tty, width)
		for _, w := range want {
			if !strings.Contains(got, w) {
				t.Errorf("%s: got %q, want it to contain %q", name, got, w)
			}
		}
		if msg := check(got); msg != "" {
			t.Errorf("%s: got %q: %s", name, got, msg)
		}
	}
	redrawn := func(s string) string {
		switch {
		case !strings.HasPrefix(s, "\r"):
			return "want a carriage return first, to redraw the line"
		case !strings.HasSuffix(s, "\x1b[K"):
			return "want an erase to the end of the line last"
		case strings.Contains(s, "\n"):
			return "want no newline on a terminal"
		}
		return ""
	}
	plain := func(s string) string {
		switch {
		case strings.ContainsAny(s, "\r\x1b"):
			return "want no control characters in a log"
		case strings.Count(s, "\n") != 1 || !strings.HasSuffix(s, "\n"):
			return "want exactly one line ending in a newline"
		}
		return ""
	}
	f("terminal", halfLoaded, true, 0,
		[]string{"loading  50%", "5000/10.0k msgs", "500/s", "ETA 10s", "registry 390/390", "usage 4500/9400"}, redrawn)
	f("terminal, 60 columns", halfLoaded, true, 60, []string{"loading  50%"}, func(s string) string {
		if n := len(s) - len("\r\x1b[K"); n > 59 {
			return "want at most 59 columns, so the line never wraps"
		}
		return redrawn(s)
	})
	f("log", halfLoaded, false, 0,
		[]string{"demo: loading 50%", "5000/10000 messages processed in 10s", "500/s", "ETA 10s",
			"registry produced 400/400 stored 390/390", "usage produced 9600/9600 stored 4500/9400"}, plain)
	f("nothing processed yet", loadProgress{Total: 10000, Elapsed: time.Second}, false, 0, []string{"loading 0%", "0/s", "ETA ?"}, plain)
	f("done", loadProgress{Processed: 10000, Total: 10000, Elapsed: 4 * time.Second}, true, 0, []string{"loading 100%", "ETA 0s"}, redrawn)
}

func TestProgressDisplay(t *testing.T) {
	at := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
	f := func(name string, tty bool, wantLines int, wantNewlines int) {
		t.Helper()
		var b strings.Builder
		d := progressDisplay{W: &b, TTY: tty, Every: 5 * time.Second}
		for i := range 10 { // ten polls, one a second
			d.Show(halfLoaded, at.Add(time.Duration(i)*time.Second))
		}
		d.Done(halfLoaded)
		out := b.String()
		lines := strings.Count(out, "demo: loading") + strings.Count(out, "\rloading")
		if lines != wantLines || strings.Count(out, "\n") != wantNewlines {
			t.Errorf("%s: got %d updates and %d newlines, want %d and %d:\n%s", name, lines, strings.Count(out, "\n"), wantLines, wantNewlines, out)
		}
	}
	f("terminal: every poll redraws, the last line ends", true, 11, 1)
	f("log: a line every 5 s and the last", false, 3, 3)
}
