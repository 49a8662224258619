package voucherwatch

import (
	"context"
	"time"
)

// Real use (真实使用): what idle_consumption and wash_trade read. Usage comes from the daily
// rollup (usage_days), except the jobs and users of the few contracts a detector already
// suspects, which only the metering windows carry.

// PaidPeriodUsage is one contract's metering within its paid period: from the earliest
// period start to the latest period end of its latest settlements. A day is metered when some
// card-hours fell in it, idle when its card-hour-weighted utilisation is below the threshold
// the query was given.
type PaidPeriodUsage struct {
	SupplierUSCC, BuyerUSCC, ContractNo string
	PaidFrom, PaidTo                    time.Time // dates
	MeteredDays, IdleDays               int
	CardHours, UtilCardHours            float64 // metered, and metered × utilisation
}

// ContractUsageDay is one day of one contract's metering, from the daily rollup.
type ContractUsageDay struct {
	SupplierUSCC, BuyerUSCC, ContractNo string
	Day                                 time.Time // midnight CST
	CardHours, UtilCardHours            float64
	Windows                             int // windows that started that day
}

// UsageActivity is one metering window of a contract that saw work: jobs run or users logged
// in. A window is counted once however often it was stored.
type UsageActivity struct {
	SupplierUSCC, ContractNo string
	Start, End               time.Time
	Jobs, Users              int
}

// ContractTrade is what the latest settlements of one deal (supplier, buyer, contract number)
// add up to, with their dates: a directed edge of the trade graph, buyer to supplier.
type ContractTrade struct {
	SupplierUSCC, BuyerUSCC, ContractNo string
	Invoices                            int
	Settled                             Money
	PeriodFrom, PeriodTo                time.Time // earliest start, latest end of the service periods
	FirstPaid, LastPaid                 time.Time // payment dates
	InvoiceKeys                         []string  // "code/no" (or "no"), sorted, at most 20
	SettlementIDs                       []string  // sorted, at most 20
}

// TradeQuery selects deals; the fields combine with OR and a zero query selects none.
type TradeQuery struct {
	// Circular selects every deal whose buyer also sells and whose supplier also buys: the
	// only deals a cycle of trade can run through.
	Circular bool
	Buyers   []string // deals with one of these as the buyer
}

// IsZero reports whether q selects nothing.
func (q TradeQuery) IsZero() bool { return !q.Circular && len(q.Buyers) == 0 }

// RealUseReader is the part of the read model that idle_consumption and wash_trade read.
type RealUseReader interface {
	// PaidPeriodUsages returns the metering of every contract within its paid period, days
	// below idleUtil counted idle, for the contracts with at least minIdleDays idle days, in
	// no given order.
	PaidPeriodUsages(ctx context.Context, idleUtil float64, minIdleDays int) ([]PaidPeriodUsage, error)
	// ContractUsageDays returns the daily metering of the contracts q selects, sorted by
	// supplier, contract and day.
	ContractUsageDays(ctx context.Context, q ContractQuery) ([]ContractUsageDay, error)
	// UsageActivities returns the windows with jobs or users of the contracts q selects,
	// sorted by supplier, contract and start.
	UsageActivities(ctx context.Context, q ContractQuery) ([]UsageActivity, error)
	// ContractTrades returns the deals q selects, sorted by buyer, supplier and contract.
	ContractTrades(ctx context.Context, q TradeQuery) ([]ContractTrade, error)
}
