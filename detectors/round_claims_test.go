package detectors

import (
	"context"
	"testing"

	"github.com/voucherwatch/voucherwatch/detectors/detectortest"
	"github.com/voucherwatch/voucherwatch/rules"
)

// TestRoundClaimsOnTheProvince: every claim of the year gets its assessment's maximum (the one
// formula: the same as Assess claim by claim), and the computed factors vary as the province
// does: SMEs and large enterprises, claims on domestic and on imported chips, claims whose
// metering falls short of their billing.
func TestRoundClaimsOnTheProvince(t *testing.T) {
	db, p := detectortest.Province(t, 1)
	env := Env{DB: db, Policy: rules.Default()}
	ctx := context.Background()
	year := p.Config.End.Year()
	claims, err := RoundClaims(ctx, env, year)
	if err != nil {
		t.Fatal(err)
	}
	if len(claims) < 20 {
		t.Fatalf("claims of %d: got %d, want the province's", year, len(claims))
	}
	if other, err := RoundClaims(ctx, env, year+5); err != nil || len(other) != 0 {
		t.Errorf("claims of %d: got %d (%v), want none", year+5, len(other), err)
	}
	var sme, large, domestic, imported, shortUse, withUse int
	for i, c := range claims {
		if i%7 == 0 { // a sample: Assess reads claim by claim
			a, err := Assess(ctx, env, c.ClaimID)
			if err != nil {
				t.Fatal(err)
			}
			if a.Totals.MaxSubsidyFen != c.Assessed || a.City != c.City || a.ApplicantUSCC != c.ApplicantUSCC {
				t.Errorf("%s: got assessed %s in %s, want %s in %s as Assess", c.ClaimID, c.Assessed, c.City, a.Totals.MaxSubsidyFen, a.City)
			}
		}
		if c.SME {
			sme++
		} else {
			large++
		}
		if c.DomesticShare != nil {
			if *c.DomesticShare > 0 {
				domestic++
			}
			if *c.DomesticShare < 1 {
				imported++
			}
		}
		if c.RealUse != nil {
			withUse++
			if *c.RealUse < 0.9 {
				shortUse++
			}
			if *c.RealUse > 1 || *c.RealUse < 0 {
				t.Errorf("%s: real use %v out of [0, 1]", c.ClaimID, *c.RealUse)
			}
		}
	}
	t.Logf("%d claims: %d SME, %d large; %d on domestic chips, %d on imported; %d with metering, %d short", len(claims), sme, large, domestic, imported, withUse, shortUse)
	if sme == 0 || large == 0 || domestic == 0 || imported == 0 || withUse < len(claims)/2 || shortUse == 0 {
		t.Errorf("factors do not vary: %d SME, %d large; %d domestic, %d imported; %d with metering, %d short", sme, large, domestic, imported, withUse, shortUse)
	}
}
