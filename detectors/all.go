package detectors

import "github.com/voucherwatch/voucherwatch"

// All returns every detector the engine runs. Adding a detector means writing its file and
// adding it here.
func All(env Env) []voucherwatch.Detector {
	ds := []voucherwatch.Detector{
		NewDuplicateClaim(env),
		NewPrice(env),
		NewRelatedParty(env),
		NewResale(env),
	}
	return append(ds, RuleDetectors(env)...)
}

// Every detector lists the kinds of its alerts.
var (
	_ voucherwatch.Kinds = (*DuplicateClaim)(nil)
	_ voucherwatch.Kinds = (*Price)(nil)
	_ voucherwatch.Kinds = (*RelatedParty)(nil)
	_ voucherwatch.Kinds = (*Resale)(nil)
)
