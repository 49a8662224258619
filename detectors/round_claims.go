package detectors

import (
	"context"
	"fmt"

	"github.com/voucherwatch/voucherwatch"
)

// RoundClaims reads every claim of the round year (the claims' round) as the annual round's
// allocation weighs it: the assessment's maximum subsidy (assessClaim, the one formula) and
// the computed factors. Alerts are the store's (RoundStore.RoundAlerts), not read here.
//
//   - Real use: the cited invoices' metered card-hours over their billed card-hours, each
//     invoice's metering counted up to its billing (InvoiceMeterings, as billed_above_metered
//     reads them); nil when none of the claim's settled invoices bills card-hours.
//   - Domestic-chip share: the settled amount of the cited invoices' items on domestic chips
//     over that of the items naming a chip; nil when no item names one.
//   - SME: the applicant's registry record.
func RoundClaims(ctx context.Context, env Env, year int) ([]voucherwatch.RoundClaim, error) {
	f, err := ruleLoadClaimFacts(ctx, env, "")
	if err != nil {
		return nil, err
	}
	out := []voucherwatch.RoundClaim{}
	var claims []ruleClaim
	for _, c := range f.claims {
		if c.Round == year {
			claims = append(claims, c)
		}
	}
	if len(claims) == 0 {
		return out, nil
	}
	meterings, err := env.reads().InvoiceMeterings(ctx, env.Policy.CardMonthHours)
	if err != nil {
		return nil, fmt.Errorf("detectors: round claims: %w", err)
	}
	type metered struct{ billed, metered float64 }
	byInvoice := map[string]metered{}
	for _, m := range meterings {
		byInvoice[m.Invoice.Canonical()] = metered{m.Billed, m.Metered}
	}
	ents, err := env.reads().LatestEntities(ctx)
	if err != nil {
		return nil, fmt.Errorf("detectors: round claims: %w", err)
	}
	sme := map[string]bool{}
	for _, e := range ents {
		sme[e.USCC] = e.IsSME
	}
	for _, c := range claims {
		a := assessClaim(env.Policy, c, f)
		rc := voucherwatch.RoundClaim{ClaimID: c.ClaimID, ApplicantUSCC: c.ApplicantUSCC, ApplicantName: a.ApplicantName,
			City: a.City, Assessed: a.Totals.MaxSubsidyFen, Alerts: []voucherwatch.RoundAlert{}, SME: sme[c.ApplicantUSCC]}
		var billed, used float64
		var chipFen, domesticFen voucherwatch.Money
		seen := map[string]bool{}
		for _, inv := range c.Invoices {
			k := inv.CanonicalKey()
			s := f.settlements[k]
			if seen[k] || s == nil {
				continue
			}
			seen[k] = true
			if m, ok := byInvoice[k]; ok && m.billed > 0 {
				billed, used = billed+m.billed, used+min(m.metered, m.billed)
			}
			for _, it := range s.Items {
				if it.ChipModel == "" {
					continue
				}
				chipFen += it.Amount
				if it.ChipOrigin == voucherwatch.OriginDomestic {
					domesticFen += it.Amount
				}
			}
		}
		if billed > 0 {
			r := voucherwatch.RoundTo(used/billed, 4)
			rc.RealUse = &r
		}
		if chipFen > 0 {
			r := voucherwatch.RoundTo(float64(domesticFen)/float64(chipFen), 4)
			rc.DomesticShare = &r
		}
		out = append(out, rc)
	}
	return out, nil
}
