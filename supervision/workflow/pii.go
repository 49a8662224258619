package workflow

import "github.com/voucherwatch/voucherwatch"

// Comments are masked when they are written (voucherwatch.MaskText, in the workflow's event
// constructors and SpotChecks.RecordResult). Rows written before that are masked again
// wherever comments are read out, so that no page, answer or export shows a number in clear
// whatever the log holds.

// MaskEventComments masks the comments of events read from the log, in place.
func MaskEventComments(events []voucherwatch.Event) {
	for i := range events {
		events[i].Comment = voucherwatch.MaskText(events[i].Comment)
	}
}

// MaskResultComments masks the comments of inspection results read from the store, in place.
func MaskResultComments(results []voucherwatch.InspectionResult) {
	for i := range results {
		results[i].Comment = voucherwatch.MaskText(results[i].Comment)
	}
}
