package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"sort"
	"time"

	"github.com/voucherwatch/voucherwatch"
	"github.com/voucherwatch/voucherwatch/ingest"
)

const deadLettersUsage = `usage: voucherwatch deadletters replay --supplier USCC --since TIME [--topic TOPIC] [--dry-run] [flags]

Reads the dead-letter topic, selects the supplier's messages rejected since TIME (RFC 3339, or a
date YYYY-MM-DD in China Standard Time), decodes each with this build's decoder and
--max-message-bytes, and sends those that now pass back to the topic they were rejected from.
Those that still fail are counted by reason and not sent. Run it after the supplier fixed its
feed or the engine's reading changed (a raised limit, a new build). Without --kafka it reads
the embedded broker of a running engine at --embedded-kafka.`

// runDeadLetters is "voucherwatch deadletters replay".
func runDeadLetters(ctx context.Context, args []string, stdout io.Writer) error {
	if len(args) == 0 || args[0] != "replay" {
		fmt.Fprintln(os.Stderr, deadLettersUsage)
		return flag.ErrHelp
	}
	fs := flag.NewFlagSet("voucherwatch deadletters replay", flag.ContinueOnError)
	fs.Usage = func() { fmt.Fprintln(fs.Output(), deadLettersUsage); fs.PrintDefaults() }
	var (
		cfg                   Config
		supplier, since, only string
		dryRun, asJSON        bool
	)
	fs.StringVar(&supplier, "supplier", "", "the supplier's USCC (required)")
	fs.StringVar(&since, "since", "", "replay messages rejected at or after this time: RFC 3339 or YYYY-MM-DD (required)")
	fs.StringVar(&only, "topic", "", "only messages rejected from this topic")
	fs.BoolVar(&dryRun, "dry-run", false, "count what would pass, send nothing")
	fs.BoolVar(&asJSON, "json", false, "print the counts as JSON")
	if err := cfg.parse(fs, args[1:]); err != nil {
		return err
	}
	if supplier == "" || since == "" {
		fs.Usage()
		return errors.New("deadletters replay: --supplier and --since are required")
	}
	from, err := parseSince(since)
	if err != nil {
		return fmt.Errorf("deadletters replay: --since: %w", err)
	}
	brokers := cfg.brokers()
	if len(brokers) == 0 {
		brokers = []string{cfg.EmbeddedKafka} // a running engine's embedded broker
	}
	// The key only shapes the identity hashes of the records decoded here, which replay does
	// not keep: the engine that reads the replayed messages hashes them with its own key.
	key := cfg.PIIKey
	if key == "" {
		key = devPIIKey
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Minute)
	defer cancel()
	res, err := ingest.Replay(ctx, ingest.ReplayConfig{
		Brokers: brokers, DeadLetterTopic: cfg.DeadLetterTopic, Topics: cfg.Topics,
		Supplier: supplier, Since: from, Topic: only, DryRun: dryRun,
	}, &ingest.Decoder{PIIKey: []byte(key), MaxBytes: cfg.MaxMessageBytes})
	if err != nil {
		return err
	}
	if asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(res)
	}
	verb := "replayed"
	if dryRun {
		verb = "replayed (dry run)"
	}
	fmt.Fprintf(stdout, "selected      %d dead letters of %s since %s\n", res.Selected, supplier, from.Format(time.RFC3339))
	fmt.Fprintf(stdout, "would pass    %d\n", res.WouldPass)
	fmt.Fprintf(stdout, "%-13s %d\n", verb, res.Replayed)
	if res.Skipped > 0 {
		fmt.Fprintf(stdout, "skipped       %d (from topics this engine does not read)\n", res.Skipped)
	}
	reasons := make([]string, 0, len(res.StillFailing))
	for r := range res.StillFailing {
		reasons = append(reasons, r)
	}
	sort.Slice(reasons, func(i, j int) bool {
		if a, b := res.StillFailing[reasons[i]], res.StillFailing[reasons[j]]; a != b {
			return a > b
		}
		return reasons[i] < reasons[j]
	})
	n := 0
	for _, r := range reasons {
		n += res.StillFailing[r]
	}
	fmt.Fprintf(stdout, "still failing %d\n", n)
	for _, r := range reasons {
		fmt.Fprintf(stdout, "  %6d  %s\n", res.StillFailing[r], r)
	}
	return nil
}

// parseSince reads an RFC 3339 time or a date in China Standard Time.
func parseSince(s string) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	t, err := time.ParseInLocation(time.DateOnly, s, voucherwatch.CST)
	if err != nil {
		return time.Time{}, fmt.Errorf("want RFC 3339 or YYYY-MM-DD, got %q", s)
	}
	return t, nil
}
