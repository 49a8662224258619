package supervision

import "github.com/voucherwatch/voucherwatch"

// alertSorts are the orders the inbox and GET /api/v1/alerts offer, the default first.
var alertSorts = []string{voucherwatch.SortRisk, voucherwatch.SortAtStake, voucherwatch.SortNewest}

// alertSort is the order a sort parameter asks for: the risk score when it names none, and
// EINVALID for an order there is not.
func alertSort(v string) (string, error) {
	switch v {
	case "":
		return voucherwatch.SortRisk, nil
	case voucherwatch.SortRisk, voucherwatch.SortAtStake, voucherwatch.SortNewest:
		return v, nil
	}
	return "", voucherwatch.FieldErrorf("sort", "want risk, at_stake or created, got %q", v)
}
