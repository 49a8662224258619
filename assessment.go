package voucherwatch

// ClaimAssessment is one claim as the annual review (综合评审) reads it: every invoice the claim cites
// with what the settlements say about it and how much of it may be subsidised, and the subsidy
// arithmetic of 三 (C1, C2, W) over the total. Amounts are in fen. The API serves it as it is
// (GET /api/v1/claims/{id}/assessment); detectors build it
// (detectors.Assess), the web UI renders it.
type ClaimAssessment struct {
	ClaimID       string              `json:"claim_id"`
	ApplicantUSCC string              `json:"applicant_uscc"`
	ApplicantName string              `json:"applicant_name"`
	City          string              `json:"city"` // the applicant's 市州 (division code) per the registry
	Round         int                 `json:"round"`
	SubmittedOn   string              `json:"submitted_on"`
	PolicyVersion string              `json:"policy_version"`
	WindowStart   string              `json:"window_start"`
	WindowEnd     string              `json:"window_end"`
	Invoices      []InvoiceAssessment `json:"invoices"`
	Totals        AssessmentTotals    `json:"totals"`
}

// InvoiceAssessment is one invoice a claim cites: found in the suppliers' settlements or not,
// its supplier's registration, its items, its service period against the policy window, and the
// part of it that is eligible, with the reasons (Chinese) wherever that part is less than the
// amount claimed.
type InvoiceAssessment struct {
	InvoiceCode  string `json:"invoice_code"`
	InvoiceNo    string `json:"invoice_no"`
	ClaimedFen   Money  `json:"claimed_fen"`
	Settled      bool   `json:"settled"` // a settlement carries this (invoice_code, invoice_no)
	SettledFen   Money  `json:"settled_fen"`
	TaxFen       Money  `json:"tax_fen"`
	AmountsMatch bool   `json:"amounts_match"` // claimed equals settled
	SettlementID string `json:"settlement_id,omitempty"`
	ContractNo   string `json:"contract_no,omitempty"`
	InvoiceDate  string `json:"invoice_date,omitempty"`
	BuyerUSCC    string `json:"buyer_uscc,omitempty"`
	// BuyerIsApplicant is false when the invoice was issued to another enterprise.
	BuyerIsApplicant   bool   `json:"buyer_is_applicant"`
	SupplierUSCC       string `json:"supplier_uscc,omitempty"`
	SupplierName       string `json:"supplier_name,omitempty"`
	SupplierRegistered bool   `json:"supplier_registered"`
	// SupplierStatus is registered, not_registered, not_a_supplier or not_in_registry.
	SupplierStatus string           `json:"supplier_status,omitempty"`
	Items          []ItemAssessment `json:"items"`
	// SubsidisableFen is the settled amount of the subsidisable items (C1).
	SubsidisableFen Money  `json:"subsidisable_fen"`
	PeriodStart     string `json:"period_start,omitempty"`
	PeriodEnd       string `json:"period_end,omitempty"`
	PeriodDays      int    `json:"period_days"`    // 0 when the settlement gives no period
	DaysInWindow    int    `json:"days_in_window"` // of PeriodDays, inside the policy window (W)
	InWindowFen     Money  `json:"in_window_fen"`  // SubsidisableFen pro rata by days in the window
	// Repeated marks a second citation of an invoice within the claim: it counts once.
	Repeated    bool     `json:"repeated"`
	EligibleFen Money    `json:"eligible_fen"`
	Reasons     []string `json:"reasons"` // why EligibleFen is below ClaimedFen, Chinese, naming the clause
}

// ItemAssessment is one line of a settled invoice.
type ItemAssessment struct {
	ServiceType     string  `json:"service_type"`
	ServiceTypeName string  `json:"service_type_name"` // Chinese
	Subsidisable    bool    `json:"subsidisable"`
	ChipModel       string  `json:"chip_model,omitempty"`
	Unit            string  `json:"unit,omitempty"`
	Quantity        float64 `json:"quantity"`
	AmountFen       Money   `json:"amount_fen"`
}

// AssessmentTotals is the subsidy arithmetic of the claim (三 C2): the most it may receive is
// the subsidy rate of the eligible amount, rounded down to the fen, and at most the cap.
type AssessmentTotals struct {
	ClaimedFen     Money `json:"claimed_fen"`          // the cited invoices as the claim states them
	UsageAmountFen Money `json:"usage_amount_fen"`     // 算力实际使用金额 as declared
	SettledFen     Money `json:"settled_fen"`          // the cited invoices found in settlements, each once
	EligibleFen    Money `json:"eligible_fen"`         // the part that may be subsidised
	RatePercent    int64 `json:"rate_percent"`         // 30
	RateOfEligible Money `json:"rate_of_eligible_fen"` // 30 % of eligible, rounded down
	CapFen         Money `json:"cap_fen"`              // 10,000,000.00 yuan per enterprise and round
	MaxSubsidyFen  Money `json:"max_subsidy_fen"`      // min(30 % of eligible, cap)
	RequestedFen   Money `json:"requested_fen"`
	OverByFen      Money `json:"over_by_fen"` // requested above the maximum; 0 when within
	// ToleranceFen is the rounding tolerance of the request (the policy's
	// rounding_tolerance_per_invoice × the invoices counted): the maximum stays the truncated
	// figure, but an OverByFen within it is a rounding difference, not an excess.
	ToleranceFen     Money `json:"rounding_tolerance_fen"`
	InvoicesCited    int   `json:"invoices_cited"`
	InvoicesSettled  int   `json:"invoices_settled"`
	InvoicesEligible int   `json:"invoices_eligible"` // with a positive eligible part
}
