package workflow

import "github.com/voucherwatch/voucherwatch"

// AlertSorts are the orders the inbox and GET /api/v1/alerts offer, the default first.
var AlertSorts = []string{voucherwatch.SortRisk, voucherwatch.SortAtStake, voucherwatch.SortNewest}

// AlertSort is the order a sort parameter asks for: the risk score when it names none, and
// EINVALID for an order there is not.
func AlertSort(v string) (string, error) {
	switch v {
	case "":
		return voucherwatch.SortRisk, nil
	case voucherwatch.SortRisk, voucherwatch.SortAtStake, voucherwatch.SortNewest:
		return v, nil
	}
	return "", voucherwatch.FieldErrorf("sort", "want risk, at_stake or created, got %q", v)
}
