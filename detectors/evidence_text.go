package detectors

import (
	"strconv"

	"github.com/voucherwatch/voucherwatch"
)

// The helpers below write the values of evidence and reasons the way supervisors read them;
// several detectors share them.

// yuan formats fen as the wire's yuan string, for evidence and reasons.
func yuan(m voucherwatch.Money) string { return m.String() }

// percentText writes a percentage as people write it: "60%", "2.5%", "27.03%".
func percentText(pct float64) string {
	return strconv.FormatFloat(voucherwatch.RoundTo(pct, 2), 'f', -1, 64) + "%"
}

// uniqueInOrder drops repeats from v in place, keeping the first of each where it stood: the
// order is the order a reason or an evidence list tells its story in, so it is not sorted.
func uniqueInOrder(v []string) []string {
	seen := map[string]bool{}
	out := v[:0]
	for _, s := range v {
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	return out
}
