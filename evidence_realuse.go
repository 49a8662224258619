package voucherwatch

// Evidence of the real-use detectors (真实使用).

// IdleEvidence is the evidence of an idle_consumption alert (layout EvidenceIdleTimeline): the
// paid period, what was settled, metered and used in it, and the day-by-day timeline.
type IdleEvidence struct {
	ActiveWindows    int       `json:"active_windows"` // metering windows with jobs or users
	BuyerUSCC        string    `json:"buyer_uscc"`
	Claims           []string  `json:"claims"`
	ContractNo       string    `json:"contract_no"`
	IdleDays         int       `json:"idle_days"`
	IdleShare        float64   `json:"idle_share"`
	IdleShareLimit   float64   `json:"idle_share_limit"`
	IdleUtilisation  float64   `json:"idle_utilisation"` // a day below it, without jobs or users, is idle
	Invoices         []string  `json:"invoices"`
	LongestIdleDays  int       `json:"longest_idle_days"`
	MeteredCardHours float64   `json:"metered_card_hours"`
	MeteredDays      int       `json:"metered_days"`
	MinPaidDays      int       `json:"min_paid_days"`
	PaidFrom         string    `json:"paid_from"` // YYYY-MM-DD
	PaidTo           string    `json:"paid_to"`
	Settled          string    `json:"settled"` // yuan, two decimals
	SettledCardHours float64   `json:"settled_card_hours"`
	SupplierUSCC     string    `json:"supplier_uscc"`
	Timeline         []IdleDay `json:"timeline"`
	UsedCardHours    float64   `json:"used_card_hours"`   // metered × utilisation
	UsedOverSettled  float64   `json:"used_over_settled"` // 0 when nothing was settled in card-hours
	Utilisation      float64   `json:"utilisation"`
}

// IdleDay is one metered day of the paid period.
type IdleDay struct {
	Active      bool    `json:"active"` // a window with jobs or users covered it
	CardHours   float64 `json:"card_hours"`
	Day         string  `json:"day"`
	Idle        bool    `json:"idle"`
	Utilisation float64 `json:"utilisation"`
	Windows     int     `json:"windows"`
}

// TradeCycleEvidence is the evidence of a wash_trade alert (layout EvidenceTradeCycle): the
// cycle of purchases as a graph, the claimed deal first, and what qualifies it.
type TradeCycleEvidence struct {
	AmountRatio     float64    `json:"amount_ratio"` // smallest settled over largest
	BuyerUSCC       string     `json:"buyer_uscc"`
	Claims          []string   `json:"claims"`
	ContractNo      string     `json:"contract_no"`
	CycleLength     int        `json:"cycle_length"`
	CycleSettled    string     `json:"cycle_settled"` // yuan, the deals together
	Graph           TradeGraph `json:"graph"`
	OverlapFrom     string     `json:"overlap_from"`
	OverlapTo       string     `json:"overlap_to"`
	PaybackDays     int        `json:"payback_days"` // first payments, first to last
	SupplierUSCC    string     `json:"supplier_uscc"`
	WashAmountRatio float64    `json:"wash_amount_ratio"`
	WashPaybackDays int        `json:"wash_payback_days"`
}

// TradeGraph is a cycle of purchases: the enterprises, and an edge from buyer to supplier per
// deal.
type TradeGraph struct {
	Nodes []TradeNode `json:"nodes"`
	Edges []TradeEdge `json:"edges"`
}

// TradeNode is an enterprise of a cycle; Role is "applicant" for the claimant, else "party".
type TradeNode struct {
	ID   string `json:"id"`
	USCC string `json:"uscc"`
	Role string `json:"role"`
}

// TradeEdge is one deal of a cycle, from its buyer (From) to its supplier (To).
type TradeEdge struct {
	From          string   `json:"from"`
	To            string   `json:"to"`
	Kind          string   `json:"kind"` // "buys"
	ContractNo    string   `json:"contract_no"`
	Settled       string   `json:"settled"`
	Invoices      int      `json:"invoices"`
	InvoiceKeys   []string `json:"invoice_keys"`
	SettlementIDs []string `json:"settlement_ids"`
	PeriodFrom    string   `json:"period_from"`
	PeriodTo      string   `json:"period_to"`
	FirstPaid     string   `json:"first_paid"`
	LastPaid      string   `json:"last_paid"`
	Claims        []string `json:"claims"`
}
