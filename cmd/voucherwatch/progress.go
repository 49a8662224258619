package main

import (
	"fmt"
	"io"
	"math"
	"os"
	"strconv"
	"strings"
	"time"
)

// topicProgress is one topic's part of a load: messages produced to it so far out of the
// province's, and distinct records stored out of the province's.
type topicProgress struct {
	Topic    string // the synth topic, e.g. vw.usage
	Produced int64
	Messages int64
	Stored   int64
	Unique   int64
}

// loadProgress is the state of loading a province, as the demo shows it while it waits.
// Processed counts the messages the engine's consumer groups committed since the load began
// (stored, recognised as duplicates or dead-lettered), out of Total, the province's messages:
// unlike stored records it also advances when a re-run's records are all stored already.
type loadProgress struct {
	Topics    []topicProgress
	Processed int64
	Total     int64
	Elapsed   time.Duration
}

// Rate is the messages processed per second since the load began; 0 before anything was.
func (p loadProgress) Rate() float64 {
	if p.Elapsed <= 0 || p.Processed <= 0 {
		return 0
	}
	return float64(p.Processed) / p.Elapsed.Seconds()
}

// ETA is how long the rest should take at the rate so far; negative when unknown.
func (p loadProgress) ETA() time.Duration {
	r := p.Rate()
	if r <= 0 {
		return -1
	}
	left := max(p.Total-p.Processed, 0)
	return time.Duration(float64(left) / r * float64(time.Second))
}

// shortTopic names a topic in the progress line: vw.settlements → settlements.
func shortTopic(t string) string { return strings.TrimPrefix(t, "vw.") }

// format renders the progress. On a terminal it is one line that redraws itself: a carriage
// return first and an erase-to-end-of-line last, no newline, cut to width columns (0: not cut)
// so that it never wraps; it is plain ASCII, one column a byte. Elsewhere (a log file, CI) it is
// a full line ending in a newline, with no control characters, so that logs stay readable.
func (p loadProgress) format(tty bool, width int) string {
	pct := 0.0
	if p.Total > 0 {
		pct = 100 * float64(min(p.Processed, p.Total)) / float64(p.Total)
	}
	eta := "?"
	if d := p.ETA(); d >= 0 {
		eta = d.Round(time.Second).String()
	}
	var b strings.Builder
	if tty {
		fmt.Fprintf(&b, "loading %3.0f%% %s/%s msgs %s/s ETA %s | stored", pct,
			compact(p.Processed), compact(p.Total), compact(int64(math.Round(p.Rate()))), eta)
		for _, t := range p.Topics {
			fmt.Fprintf(&b, " %s %s/%s", shortTopic(t.Topic), compact(t.Stored), compact(t.Unique))
		}
		line := b.String()
		if width > 1 && len(line) > width-1 {
			line = line[:width-1]
		}
		return "\r" + line + "\x1b[K"
	}
	fmt.Fprintf(&b, "demo: loading %.0f%%: %d/%d messages processed in %s, %.0f/s, ETA %s;",
		pct, p.Processed, p.Total, p.Elapsed.Round(time.Second), p.Rate(), eta)
	for i, t := range p.Topics {
		sep := ","
		if i == 0 {
			sep = ""
		}
		fmt.Fprintf(&b, "%s %s produced %d/%d stored %d/%d", sep, shortTopic(t.Topic), t.Produced, t.Messages, t.Stored, t.Unique)
	}
	b.WriteString("\n")
	return b.String()
}

// compact writes a count briefly: 950, 12.3k, 1.25M.
func compact(n int64) string {
	switch {
	case n < 10_000 && n > -10_000:
		return strconv.FormatInt(n, 10)
	case n < 1_000_000 && n > -1_000_000:
		return strconv.FormatFloat(float64(n)/1e3, 'f', 1, 64) + "k"
	default:
		return strconv.FormatFloat(float64(n)/1e6, 'f', 2, 64) + "M"
	}
}

// progressDisplay writes loadProgress to a terminal or a log. On a terminal it redraws one
// line at every update; elsewhere it writes a line only every Every, so that a log holds a few
// lines a minute, not one per poll.
type progressDisplay struct {
	W     io.Writer
	TTY   bool
	Width int           // the terminal's columns; 0: unknown
	Every time.Duration // between plain lines; default 5 s

	last    time.Time
	written bool
}

// Show displays p, or on a log skips it when the last line is recent.
func (d *progressDisplay) Show(p loadProgress, now time.Time) {
	every := d.Every
	if every <= 0 {
		every = 5 * time.Second
	}
	if !d.TTY && d.written && now.Sub(d.last) < every {
		return
	}
	d.last, d.written = now, true
	io.WriteString(d.W, p.format(d.TTY, d.Width))
}

// Done shows the final state and, on a terminal, ends the redrawn line.
func (d *progressDisplay) Done(p loadProgress) {
	io.WriteString(d.W, p.format(d.TTY, d.Width))
	if d.TTY {
		io.WriteString(d.W, "\n")
	}
}

// isTerminal reports whether f is a terminal (a character device).
func isTerminal(f *os.File) bool {
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}
