package main

import (
	"context"
	"github.com/voucherwatch/voucherwatch/supervision/workflow"

	"github.com/voucherwatch/voucherwatch"
	"github.com/voucherwatch/voucherwatch/detectors"
)

// roundDeps are the annual round's: its lines are the claims as the assessment reads them
// (detectors.RoundClaims), its objectors' contacts sealed with the complaint key's box.
func (m *Main) roundDeps(env detectors.Env, box *voucherwatch.ContactBox) *workflow.Rounds {
	return &workflow.Rounds{
		Store: m.APIDB,
		Box:   box,
		Claims: func(ctx context.Context, year int) ([]voucherwatch.RoundClaim, error) {
			return detectors.RoundClaims(ctx, env, year)
		},
	}
}
