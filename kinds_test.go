package voucherwatch

import "testing"

// TestAlertKindsTable: each detector's kinds are together in the table (AlertDetectors lists
// each detector once), no kind is declared twice, and each has a label and a layout.
func TestAlertKindsTable(t *testing.T) {
	seen := map[string]bool{}
	done := map[string]bool{}
	prev := ""
	for _, k := range alertKinds {
		if k.Detector != prev {
			if done[k.Detector] {
				t.Errorf("kinds of %s are apart in the table: keep them together", k.Detector)
			}
			done[prev] = true
			prev = k.Detector
		}
		if seen[k.Detector+"/"+k.Kind] {
			t.Errorf("kind %s/%s declared twice", k.Detector, k.Kind)
		}
		seen[k.Detector+"/"+k.Kind] = true
		if k.Label == "" || k.Evidence == "" {
			t.Errorf("kind %s/%s: got label %q and layout %q, want both", k.Detector, k.Kind, k.Label, k.Evidence)
		}
	}
	done[prev] = true
	delete(done, "")
	if got := len(AlertDetectors()); got != len(done) {
		t.Errorf("got %d detectors, want %d", got, len(done))
	}
}
