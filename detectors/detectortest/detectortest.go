// Package detectortest loads synthetic provinces into a real ClickHouse and scores detectors'
// alerts against the cases planted in them.
package detectortest

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"testing"

	"github.com/voucherwatch/voucherwatch"
	"github.com/voucherwatch/voucherwatch/store"
	"github.com/voucherwatch/voucherwatch/store/storetest"
	"github.com/voucherwatch/voucherwatch/synth"
)

// PIIKey is the identity-hash key the loaded records are decoded with.
const PIIKey = "detectortest-pii-key"

// NewDB opens a fresh, migrated database for one test.
func NewDB(t testing.TB) *store.DB {
	t.Helper()
	ctx := context.Background()
	db, err := store.Open(ctx, storetest.Database(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	return db
}

// Load decodes a province's messages with the engine's decoder and stores them, as ingest
// would (without Kafka). A message the decoder rejects fails the test: generated provinces are
// valid.
func Load(t testing.TB, db *store.DB, msgs []synth.Message) {
	t.Helper()
	byType := storetest.Decode(t, PIIKey, msgs)
	for _, typ := range voucherwatch.RecordTypes {
		if len(byType[typ]) == 0 {
			continue
		}
		if _, err := db.StoreRecords(context.Background(), typ, byType[typ]); err != nil {
			t.Fatalf("store %s: %v", typ, err)
		}
	}
}

// Store stores hand-built records, filling in envelope fields a fixture left empty.
func Store(t testing.TB, db *store.DB, recs ...voucherwatch.Record) {
	t.Helper()
	byType := map[voucherwatch.RecordType][]voucherwatch.Record{}
	for i, r := range recs {
		if r.Source == "" {
			r.Source = "fixture"
		}
		if r.ID == "" {
			r.ID = fmt.Sprintf("fixture-%s-%d", r.Type, i)
		}
		byType[r.Type] = append(byType[r.Type], r)
	}
	for typ, rs := range byType {
		if _, err := db.StoreRecords(context.Background(), typ, rs); err != nil {
			t.Fatalf("store %s fixtures: %v", typ, err)
		}
	}
}

// DetectorName is the alert detector name of a truth case's detector: "rule:late_filing"
// becomes "late_filing"; the four contract names stay as they are.
func DetectorName(caseDetector string) string { return synth.DetectorName(caseDetector) }

// Matches reports whether alert a reports case c: the same detector, and the case's own rule
// (synth.Case.Matches): the alert names the case's applicant (or, for a supplier-level case,
// its supplier), contradicts none of the case's subjects, and, for a duplicate, may name the
// other side instead (the first claim, the other applicant: the case's "other_<key>" context).
// Besides the anchor, it must name a second of the case's subjects when the case has two, so
// that an alert about the same applicant but nothing else of the case does not count. The rule
// lives in synth.Case.ReportedBy, which the demo's summary uses too.
//
// Kind is not compared here: detectors name their findings in their own words. Evaluate
// compares it where the detector's words and the truth's agree.
func Matches(a voucherwatch.Alert, c synth.Case) bool { return c.ReportedBy(a) }

// Score is a detector's result on a province.
type Score struct {
	Detector       string
	Cases          int      // planted findings
	Found          int      // of them, reported by some alert (any severity)
	Missed         []string // the findings not reported
	Flagged        int      // high and medium alerts
	TruePositives  int      // of them, matching a planted finding
	FalsePositives []string // high and medium alerts matching no finding
	LookAlikeHits  []string // look-alikes flagged high or medium
	// Weaker are findings reported only with a lower severity than planted: found for recall,
	// but a reviewer sorting by severity may not get to them. Require logs them.
	Weaker []string
}

// Recall is Found / Cases (1 when nothing was planted).
func (s Score) Recall() float64 {
	if s.Cases == 0 {
		return 1
	}
	return float64(s.Found) / float64(s.Cases)
}

// Precision is TruePositives / Flagged (1 when nothing was flagged).
func (s Score) Precision() float64 {
	if s.Flagged == 0 {
		return 1
	}
	return float64(s.TruePositives) / float64(s.Flagged)
}

func (s Score) String() string {
	return fmt.Sprintf("%s: recall %.2f (%d/%d), precision %.2f (%d/%d high+medium), look-alikes flagged %d",
		s.Detector, s.Recall(), s.Found, s.Cases, s.Precision(), s.TruePositives, s.Flagged, len(s.LookAlikeHits))
}

// Evaluate scores the alerts of one detector (alert detector name) against the truth. A finding
// is found when an alert Matches it, under the finding's kind if the detector reports that kind
// anywhere in alerts; a high or medium alert is a true positive when it reports a finding so.
func Evaluate(detector string, alerts []voucherwatch.Alert, truth synth.Truth) Score {
	s := Score{Detector: detector}
	var findings, lookAlikes []synth.Case
	for _, c := range truth.Cases {
		if DetectorName(c.Detector) != detector {
			continue
		}
		if c.LookAlike {
			lookAlikes = append(lookAlikes, c)
		} else {
			findings = append(findings, c)
		}
	}
	var mine []voucherwatch.Alert
	reported := map[string]bool{} // the kinds the detector reported in this run
	for _, a := range alerts {
		if a.Detector == detector {
			mine = append(mine, a)
			reported[a.Kind] = true
		}
	}
	// A finding counts only under its own kind when the detector reports that kind at all (its
	// kinds and the truth's are the same words); otherwise under any kind. Look-alikes count
	// under any kind: a look-alike flagged as anything is flagged.
	reports := func(a voucherwatch.Alert, c synth.Case) bool {
		return Matches(a, c) && (a.Kind == c.Kind || !reported[c.Kind])
	}
	s.Cases = len(findings)
	rank := map[string]int{"low": 1, "medium": 2, "high": 3}
	for _, c := range findings {
		found, strongest := false, ""
		for _, a := range mine {
			if reports(a, c) {
				found = true
				if rank[string(a.Severity)] > rank[strongest] {
					strongest = string(a.Severity)
				}
			}
		}
		switch {
		case !found:
			s.Missed = append(s.Missed, fmt.Sprintf("%s %v", c.Kind, c.Subjects))
		case rank[strongest] < rank[c.Severity]:
			s.Weaker = append(s.Weaker, fmt.Sprintf("%s planted %s, reported %s: %v", c.Kind, c.Severity, strongest, c.Subjects))
			fallthrough
		default:
			s.Found++
		}
	}
	for _, a := range mine {
		if a.Severity != voucherwatch.SeverityHigh && a.Severity != voucherwatch.SeverityMedium {
			continue
		}
		s.Flagged++
		tp := false
		for _, c := range findings {
			if reports(a, c) {
				tp = true
				break
			}
		}
		if tp {
			s.TruePositives++
		} else {
			s.FalsePositives = append(s.FalsePositives, fmt.Sprintf("%s/%s %+v", a.Kind, a.Severity, a.Subjects))
		}
		for _, c := range lookAlikes {
			if Matches(a, c) {
				s.LookAlikeHits = append(s.LookAlikeHits, fmt.Sprintf("%s flagged %s as %s", c.Kind, a.Severity, a.Kind))
			}
		}
	}
	sort.Strings(s.Missed)
	sort.Strings(s.FalsePositives)
	sort.Strings(s.Weaker)
	return s
}

// Require fails t unless recall and precision reach min and no look-alike is flagged, with
// the misses and false positives listed.
func Require(t testing.TB, s Score, minimum float64) {
	t.Helper()
	t.Log(s.String())
	if s.Recall() < minimum {
		t.Errorf("%s: got recall %.2f, want >= %.2f; missed: %s", s.Detector, s.Recall(), minimum, strings.Join(s.Missed, "; "))
	}
	if s.Precision() < minimum {
		t.Errorf("%s: got precision %.2f, want >= %.2f; false positives: %s", s.Detector, s.Precision(), minimum, strings.Join(s.FalsePositives, "; "))
	}
	if len(s.Weaker) > 0 {
		t.Logf("%s: found with a lower severity than planted: %s", s.Detector, strings.Join(s.Weaker, "; "))
	}
	if len(s.LookAlikeHits) > 0 {
		t.Errorf("%s: got look-alikes flagged high or medium, want none: %s", s.Detector, strings.Join(s.LookAlikeHits, "; "))
	}
}
