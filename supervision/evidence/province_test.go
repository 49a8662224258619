package evidence

import (
	"context"
	"fmt"
	"os"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/voucherwatch/voucherwatch"
	"github.com/voucherwatch/voucherwatch/detectors"
	"github.com/voucherwatch/voucherwatch/detectors/detectortest"
	"github.com/voucherwatch/voucherwatch/rules"
	"github.com/voucherwatch/voucherwatch/supervision/locale"
)

// Unmasked personal numbers as mask would find them: a mobile number or an identity number
// standing alone.
var (
	clearMobile = regexp.MustCompile(`(^|[^0-9])1[3-9][0-9]{9}([^0-9]|$)`)
	clearID     = regexp.MustCompile(`(^|[^0-9A-Za-z])[1-9][0-9]{5}(19|20)[0-9]{2}(0[1-9]|1[0-2])(0[1-9]|[12][0-9]|3[01])[0-9]{3}[0-9Xx]([^0-9A-Za-z]|$)`)
)

// TestRenderProvinceAlerts runs every detector on a synthetic province with its planted cases
// and renders every alert, as the detector returns it and as the alert store reads it back:
// both forms give the same page, every SVG is well-formed, no number is shown in clear, and
// each detector's alerts get their own layout rather than the generic table. Every key of
// their evidence, and of a complaint's and an objection's case, has a Chinese label in the
// catalogue (fact.<key>): a detector that adds a key without one fails here.
func TestRenderProvinceAlerts(t *testing.T) {
	db, p := detectortest.Province(t, 1)
	env := detectors.Env{DB: db, Policy: rules.Default()}
	ctx := context.Background()
	var all []voucherwatch.Alert
	for _, d := range detectors.All(env) {
		as, err := d.Run(ctx, p.Config.End)
		if err != nil {
			t.Fatalf("%s: %v", d.Name(), err)
		}
		all = append(all, as...)
	}
	if len(all) == 0 {
		t.Fatal("the province raised no alerts")
	}
	layouts := map[string]string{
		voucherwatch.DetectorRelatedParty:   `class="ev-graph"`,
		voucherwatch.DetectorPrice:          `class="ev-price-plot"`,
		voucherwatch.DetectorDuplicateClaim: `class="ev-table ev-side"`,
		voucherwatch.DetectorResale:         `class="ev-table ev-side"`,
		"idle_consumption":                  `class="ev-timeline"`,
		"wash_trade":                        `class="ev-graph ev-cycle"`,
	}
	counts := map[string]int{}
	var took time.Duration
	var sample []voucherwatch.Alert
	for _, a := range all {
		key := a.Detector + "/" + a.Kind
		counts[key]++
		start := time.Now()
		out := string(Render(a))
		took += time.Since(start)
		back := string(Render(roundTrip(t, a)))
		if out != back {
			t.Errorf("%s %s: the in-memory and the JSON-decoded evidence render differently", key, a.ID)
		}
		commonChecks(t, out)
		if m := clearMobile.FindString(out); m != "" {
			t.Errorf("%s %s: a mobile number in clear: %q", key, a.ID, m)
		}
		if m := clearID.FindString(out); m != "" {
			t.Errorf("%s %s: an identity number in clear: %q", key, a.ID, m)
		}
		if want, ok := layouts[a.Detector]; ok && !strings.Contains(out, want) {
			t.Errorf("%s %s: rendered without its layout (%s)", key, a.ID, want)
		} else if !ok && !strings.Contains(out, `class="ev-table ev-facts"`) {
			t.Errorf("%s %s: no facts table", key, a.ID)
		}
		for _, s := range svgs(out) {
			wellFormed(t, key+" svg", s)
		}
		if counts[key] <= 2 {
			sample = append(sample, a)
		}
		if t.Failed() {
			t.Fatalf("first failure at %s %s", key, a.ID)
		}
	}
	// Complaints and objections open cases whose evidence the web UI shows as facts too.
	cases := []voucherwatch.Alert{
		voucherwatch.ComplaintAlert(voucherwatch.Complaint{ID: "al_complaint", Receipt: "TS-2026-0001", USCC: "91430100MA4L7H9R2B",
			Category: voucherwatch.ComplaintResale, Channel: voucherwatch.ChannelLetter, Text: "转售算力"}, "投诉", "投诉"),
		voucherwatch.ObjectionAlert(voucherwatch.Objection{ID: "al_objection", RoundID: "R-2026", ClaimID: "SB2026-00001",
			USCC: "91430100MA4L7H9R2B", Text: "异议", Channel: voucherwatch.ChannelLetter}, "异议", "异议"),
	}
	for _, p := range unlabelledKeys(append(slices.Clone(all), cases...)) {
		t.Errorf("evidence key without a Chinese label in the catalogue (fact.<key>, supervision/locale/facts.go): %s", p)
	}
	var keys []string
	for k, n := range counts {
		keys = append(keys, fmt.Sprintf("%s:%d", k, n))
	}
	sort.Strings(keys)
	t.Logf("rendered %d alerts in %v: %s", len(all), took, strings.Join(keys, " "))
	if os.Getenv("VW_EVIDENCE_PREVIEW") != "" {
		byDetector := map[string][]voucherwatch.Alert{}
		for _, a := range sample {
			byDetector[a.Detector] = append(byDetector[a.Detector], a)
		}
		for d, as := range byDetector {
			writePreview(t, "/tmp/evidence-province-"+classOf(d)+".html", as)
		}
	}
}

// unlabelledKeys lists, once each, the evidence keys of the alerts, at any depth, that the
// catalogue has no label for (fact.<key>), each with the first alert that carries it.
func unlabelledKeys(alerts []voucherwatch.Alert) []string {
	seen := map[string]bool{}
	var out []string
	var walk func(a voucherwatch.Alert, v any)
	walk = func(a voucherwatch.Alert, v any) {
		switch x := v.(type) {
		case map[string]any:
			for k, e := range x {
				if _, ok := locale.Lookup("fact." + k); !ok && !seen[k] {
					seen[k] = true
					out = append(out, k+" ("+a.Detector+"/"+a.Kind+")")
				}
				walk(a, e)
			}
		case []any:
			for _, e := range x {
				walk(a, e)
			}
		}
	}
	for _, a := range alerts {
		var ev any
		if err := a.Evidence.Decode(&ev); err != nil {
			out = append(out, a.Detector+"/"+a.Kind+": evidence does not decode: "+err.Error())
			continue
		}
		walk(a, ev)
	}
	sort.Strings(out)
	return out
}

// TestUnlabelledKeys: a key the catalogue names passes at any depth; a new one fails, once.
func TestUnlabelledKeys(t *testing.T) {
	ev := func(m map[string]any) voucherwatch.Alert {
		return voucherwatch.Alert{Detector: "late_filing", Kind: "filed_late", Evidence: voucherwatch.EvidenceOf(m)}
	}
	labelled := ev(map[string]any{"contract_no": "HT-1", "claim": map[string]any{"claim_id": "SB-1"}, "items": []any{map[string]any{"unit": "card_hour"}}})
	if got := unlabelledKeys([]voucherwatch.Alert{labelled}); len(got) != 0 {
		t.Errorf("got unlabelled %v, want none", got)
	}
	newKey := ev(map[string]any{"contract_no": "HT-1", "items": []any{map[string]any{"carbon_grams": 12}}})
	if got := unlabelledKeys([]voucherwatch.Alert{newKey, newKey}); len(got) != 1 || !strings.HasPrefix(got[0], "carbon_grams ") {
		t.Errorf("got unlabelled %v, want carbon_grams once", got)
	}
}
