package main

import (
	"context"

	"github.com/voucherwatch/voucherwatch"
	"github.com/voucherwatch/voucherwatch/detectors"
	"github.com/voucherwatch/voucherwatch/supervision"
)

// wireRounds adds the annual round: its lines are the claims as the assessment reads them
// (detectors.RoundClaims), its objectors' contacts sealed with the complaint key's box.
func (m *Main) wireRounds(env detectors.Env, box *voucherwatch.ContactBox) {
	m.Server.RegisterRoundRoutes(supervision.RoundDeps{
		Store: m.APIDB,
		Box:   box,
		Claims: func(ctx context.Context, year int) ([]voucherwatch.RoundClaim, error) {
			return detectors.RoundClaims(ctx, env, year)
		},
	})
}
