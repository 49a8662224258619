package supervision

import "github.com/voucherwatch/voucherwatch"

// Comments are masked when they are written (voucherwatch.MaskText, in the workflow's event
// constructors and SpotCheckDeps.RecordResult). Rows written before that are masked again
// wherever comments are read out, so that no page, answer or export shows a number in clear
// whatever the log holds.

// maskEventComments masks the comments of events read from the log, in place.
func maskEventComments(events []voucherwatch.Event) {
	for i := range events {
		events[i].Comment = voucherwatch.MaskText(events[i].Comment)
	}
}

// maskResultComments masks the comments of inspection results read from the store, in place.
func maskResultComments(results []voucherwatch.InspectionResult) {
	for i := range results {
		results[i].Comment = voucherwatch.MaskText(results[i].Comment)
	}
}
