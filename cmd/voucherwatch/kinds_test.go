package main

import (
	"context"
	"fmt"
	"github.com/voucherwatch/voucherwatch/supervision/ui"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode"

	"github.com/voucherwatch/voucherwatch"
	"github.com/voucherwatch/voucherwatch/detectors"
	"github.com/voucherwatch/voucherwatch/supervision/evidence"
	"github.com/voucherwatch/voucherwatch/supervision/locale"
)

// kindProblems says, for every kind the detectors list (voucherwatch.Kinds), what keeps the web
// UI from showing it: no line in voucherwatch.AlertKinds, no Chinese label in the catalogue, an
// evidence layout the UI does not render. It also checks that the inbox offers exactly these
// detectors.
func kindProblems(ds []voucherwatch.Detector) []string {
	var problems, names []string
	for _, d := range ds {
		names = append(names, d.Name())
		if label := locale.DetectorLabel(d.Name()); !isChinese(label) {
			problems = append(problems, d.Name()+": no Chinese name in the catalogue (detector."+d.Name()+")")
		}
		lister, ok := d.(voucherwatch.Kinds)
		if !ok || len(lister.Kinds()) == 0 {
			problems = append(problems, d.Name()+": lists no kinds (voucherwatch.Kinds)")
			continue
		}
		for _, kind := range lister.Kinds() {
			what := d.Name() + "/" + kind
			k, ok := voucherwatch.AlertKindOf(d.Name(), kind)
			if !ok {
				problems = append(problems, what+": no line in voucherwatch.AlertKinds (kinds.go)")
				continue
			}
			if label := locale.KindLabel(d.Name(), kind); !isChinese(label) {
				problems = append(problems, what+": label "+label+" is not Chinese")
			}
			problems = append(problems, layoutProblems(what, k.Evidence)...)
		}
	}
	offered := ui.DetectorNames()
	slices.Sort(offered)
	slices.Sort(names)
	if !slices.Equal(offered, names) {
		problems = append(problems, "the inbox offers "+strings.Join(offered, ",")+", the engine runs "+strings.Join(names, ","))
	}
	return problems
}

// layoutProblems says what keeps the web UI from drawing a kind's evidence: no layout for it,
// or a layout that does not decode one of the domain's evidence types (a struct of package
// voucherwatch: RelatedPartyEvidence, ..., or Evidence itself for the table of facts).
func layoutProblems(what string, l voucherwatch.EvidenceLayout) []string {
	if !evidence.Lays(l) {
		return []string{what + ": evidence layout " + string(l) + " is not rendered"}
	}
	typ := evidence.Decodes(l)
	if typ == nil || typ.Kind() != reflect.Struct || typ.PkgPath() != reflect.TypeFor[voucherwatch.Evidence]().PkgPath() {
		return []string{fmt.Sprintf("%s: evidence layout %s decodes %v, not an evidence type of package voucherwatch", what, l, typ)}
	}
	return nil
}

func isChinese(s string) bool {
	return strings.ContainsFunc(s, func(r rune) bool { return unicode.Is(unicode.Han, r) })
}

// TestEveryKindHasLabelAndEvidence: every kind a detector of the engine may emit has a Chinese
// label and an evidence layout the web UI renders. The detectors' province test checks that
// the alerts they emit carry only kinds they list.
func TestEveryKindHasLabelAndEvidence(t *testing.T) {
	for _, p := range kindProblems(detectors.All(detectors.Env{})) {
		t.Error(p)
	}
	// Complaints open cases of their own detector; each category is a kind.
	for _, c := range voucherwatch.ComplaintCategories {
		if _, ok := voucherwatch.AlertKindOf(voucherwatch.DetectorComplaint, string(c)); !ok || !isChinese(locale.ComplaintCategoryLabel(c)) {
			t.Errorf("complaint category %s: no kind with a Chinese label", c)
		}
	}
	// Objections to a round's line open cases of their own detector too.
	if k, ok := voucherwatch.AlertKindOf(voucherwatch.DetectorObjection, voucherwatch.ObjectionKind); !ok || !isChinese(locale.KindLabel(k.Detector, k.Kind)) || len(layoutProblems("objection", k.Evidence)) > 0 {
		t.Errorf("objection: no kind with a Chinese label and a rendered evidence layout")
	}
}

// newKindDetector stands for a detector added without its kinds' lines in kinds.go.
type newKindDetector struct{ name, kind string }

func (d newKindDetector) Name() string    { return d.name }
func (d newKindDetector) Kinds() []string { return []string{d.kind} }
func (d newKindDetector) Run(context.Context, time.Time) ([]voucherwatch.Alert, error) {
	return nil, nil
}

// TestKindWithoutLabelFails: a new kind of an existing detector, and a new detector, without
// their lines in kinds.go are each reported.
func TestKindWithoutLabelFails(t *testing.T) {
	ds := detectors.All(detectors.Env{})
	for _, tc := range []struct {
		d    voucherwatch.Detector
		want string
	}{
		{newKindDetector{voucherwatch.DetectorResale, "idle_consumption"}, "resale/idle_consumption: no line"},
		{newKindDetector{"carbon_offset", "carbon_offset"}, "carbon_offset: no Chinese name"},
	} {
		got := strings.Join(kindProblems(append(slices.Clone(ds), tc.d)), "\n")
		if !strings.Contains(got, tc.want) {
			t.Errorf("got problems %q, want one containing %q", got, tc.want)
		}
	}
}

// TestLayoutNotDrawnFails: a kind whose layout the web UI does not draw is reported, and every
// layout the UI draws decodes an evidence type of the domain.
func TestLayoutNotDrawnFails(t *testing.T) {
	if got := layoutProblems("carbon_offset/carbon_offset", voucherwatch.EvidenceLayout("carbon_chart")); len(got) != 1 || !strings.Contains(got[0], "is not rendered") {
		t.Errorf("got %q, want the layout reported as not rendered", got)
	}
	seen := map[reflect.Type]bool{}
	for _, k := range voucherwatch.AlertKinds() {
		if p := layoutProblems(k.Detector+"/"+k.Kind, k.Evidence); len(p) > 0 {
			t.Error(p)
		}
		seen[evidence.Decodes(k.Evidence)] = true
	}
	for _, want := range []any{voucherwatch.RelatedPartyEvidence{}, voucherwatch.DuplicateEvidence{}, voucherwatch.ResaleEvidence{},
		voucherwatch.PriceEvidence{}, voucherwatch.IdleEvidence{}, voucherwatch.TradeCycleEvidence{}, voucherwatch.Evidence{}} {
		if !seen[reflect.TypeOf(want)] {
			t.Errorf("no kind's layout decodes %T", want)
		}
	}
}
