package workflow

import (
	"context"

	"github.com/voucherwatch/voucherwatch"
)

// ClaimAlerts are the alerts a reviewer weighs with a claim: those on the claim itself, and
// those on the applicant that name no other claim (related parties, late filings of its
// contracts...).
func ClaimAlerts(ctx context.Context, store voucherwatch.AlertStore, applicant, claimID string) ([]voucherwatch.Alert, error) {
	all, _, err := store.Alerts(ctx, voucherwatch.AlertFilter{ApplicantUSCC: applicant, Limit: 1000})
	if err != nil {
		return nil, err
	}
	onClaim := []voucherwatch.Alert{}
	for _, al := range all {
		if al.Subjects.ClaimID == "" || al.Subjects.ClaimID == claimID {
			onClaim = append(onClaim, al)
		}
	}
	return onClaim, nil
}
