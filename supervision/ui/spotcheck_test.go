package ui

import (
	"testing"

	"github.com/voucherwatch/voucherwatch"
	"github.com/voucherwatch/voucherwatch/supervision/export"
	"github.com/voucherwatch/voucherwatch/supervision/locale"
)

// TestSpotCheckLabels keeps the catalogue's outcome labels equal to the published ones, and
// offers every outcome in the form.
func TestSpotCheckLabels(t *testing.T) {
	if len(inspectionOutcomes) != len(voucherwatch.InspectionOutcomes) {
		t.Errorf("the form offers %v, the domain has %v", inspectionOutcomes, voucherwatch.InspectionOutcomes)
	}
	for o, label := range voucherwatch.InspectionOutcomes {
		if got := locale.T("spotcheck.outcome." + string(o)); got != label {
			t.Errorf("outcome %s: catalogue says %q, the published label is %q", o, got, label)
		}
	}
	for _, k := range []string{voucherwatch.SpotCheckScheduled, voucherwatch.SpotCheckOnDemand} {
		if _, ok := locale.Lookup("spotcheck.trigger." + k); !ok {
			t.Errorf("no label for trigger %s", k)
		}
	}
	for _, k := range []string{voucherwatch.DrawnByRisk, voucherwatch.DrawnAtRandom} {
		if got := locale.T("spotcheck.drawn_by." + k); got != export.DrawnByLabel[k] {
			t.Errorf("drawn by %s: catalogue says %q, the export %q", k, got, export.DrawnByLabel[k])
		}
	}
}
