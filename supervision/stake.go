package supervision

import "github.com/voucherwatch/voucherwatch"

// stakeMessages are the catalogue's entries of money at stake, the inbox's orders and the
// backtests, kept apart from messages.go and merged into it when the package starts.
var stakeMessages = map[string]string{
	"inbox.col.at_stake":       "涉及补贴（元）",
	"inbox.at_stake.potential": "（潜在）",
	"inbox.sort":               "排序",
	"inbox.sort.risk":          "风险评分",
	"inbox.sort.at_stake":      "涉及补贴金额",
	"inbox.sort.created":       "最新",
	"alert.at_stake":           "涉及补贴",
	"alert.recovered":          "已追回",
}

func init() {
	for k, v := range stakeMessages {
		if _, dup := messages[k]; dup {
			panic("supervision: message " + k + " defined twice")
		}
		messages[k] = v
	}
}

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
