package store

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/shopspring/decimal"

	"github.com/voucherwatch/voucherwatch"
)

// The read model: what detectors read of the stored records. Every record table keeps each
// version of a record (and, briefly, copies of one version); readers pick the latest version
// of each record here, in one place, by the newest event_time, then the greatest source and
// id, so that every detector agrees on it. LIMIT 1 BY takes whole rows, so every column of the
// answer comes from one version.
//
// A keyed look-up selects on the latest version, not on any version: a claim whose newest
// version no longer cites an invoice is not among the claims citing it. So the look-ups first
// narrow to the records that ever matched (a cheap pre-filter on one key), take the latest
// version of those, and filter that exactly.

var _ voucherwatch.ReadModel = (*DB)(nil)

// claimColumns are what scanClaim reads, in its order.
const claimColumns = `claim_id, applicant_uscc, round, submitted_on, city, via_platform, contract_no,
	invoice_code, invoice_no, invoice_key, invoice_amount, usage_amount, requested, chip_origin, bank_account,
	source, id, event_time`

// latestClaimsSQL is the latest version of each claim; %s is a WHERE clause narrowing the
// claim_ids (or "").
const latestClaimsSQL = `SELECT ` + claimColumns + `
FROM claims %s
ORDER BY claim_id, event_time DESC, source DESC, id DESC
LIMIT 1 BY claim_id`

// invoiceKeyString is how an invoice key is looked up in lookup_keys (kinds claim_invoice_key
// and settlement_invoice_key): its canonical key, so that a look-up of one form finds the
// records citing the invoice in any other.
func invoiceKeyString(k voucherwatch.InvoiceKey) string { return k.Canonical() }

// LatestClaims returns the latest version of each claim q selects.
func (db *DB) LatestClaims(ctx context.Context, q voucherwatch.ClaimQuery) ([]voucherwatch.StoredClaim, error) {
	if q.IsZero() {
		return nil, nil
	}
	where, args := "", []any(nil)
	if !q.All {
		// The claim ids that ever matched, through lookup_keys and the applicant prefix of
		// the sorting key, then every version of those ids through lookup_keys' (applicant,
		// claim_id) of each: only the granules of the records looked up are read.
		var ids []string
		if len(q.IDs) > 0 {
			ids, args = append(ids, "SELECT arrayJoin(?)"), append(args, q.IDs)
		}
		if len(q.Applicants) > 0 {
			ids, args = append(ids, "SELECT claim_id FROM claims WHERE applicant_uscc IN (SELECT arrayJoin(?))"), append(args, q.Applicants)
		}
		if len(q.Invoices) > 0 {
			ids = append(ids, "SELECT claim_id FROM lookup_keys WHERE kind = 'claim_invoice_key' AND k IN (SELECT arrayJoin(?))")
			args = append(args, invoiceKeyStrings(q.Invoices))
		}
		if len(q.ContractNumbers) > 0 {
			ids, args = append(ids, "SELECT claim_id FROM claims WHERE hasAny(contract_no, ?)"), append(args, q.ContractNumbers)
		}
		where = "WHERE (applicant_uscc, claim_id) IN (SELECT owner, claim_id FROM lookup_keys WHERE kind = 'claim' AND k IN (" +
			strings.Join(ids, " UNION ALL ") + "))"
	}
	rows, err := db.conn.Query(ctx, fmt.Sprintf(latestClaimsSQL, where), args...)
	if err != nil {
		return nil, fmt.Errorf("store: latest claims: %w", err)
	}
	defer rows.Close()
	var out []voucherwatch.StoredClaim
	for rows.Next() {
		c, err := scanClaim(rows)
		if err != nil {
			return nil, fmt.Errorf("store: latest claims: %w", err)
		}
		if q.All || claimMatches(&c, q) {
			out = append(out, c)
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: latest claims: %w", err)
	}
	return out, nil
}

// claimMatches applies q to a latest version exactly.
func claimMatches(c *voucherwatch.StoredClaim, q voucherwatch.ClaimQuery) bool {
	for _, id := range q.IDs {
		if c.ClaimID == id {
			return true
		}
	}
	for _, a := range q.Applicants {
		if c.ApplicantUSCC == a {
			return true
		}
	}
	for _, k := range q.Invoices {
		key := k.Canonical()
		for _, inv := range c.Invoices {
			if inv.CanonicalKey() == key {
				return true
			}
		}
	}
	for _, no := range c.Contracts {
		if slices.Contains(q.ContractNumbers, no) {
			return true
		}
	}
	return false
}

func scanClaim(rows interface{ Scan(...any) error }) (voucherwatch.StoredClaim, error) {
	var (
		c                      voucherwatch.StoredClaim
		round                  uint16
		submitted              time.Time
		viaPlatform            uint8
		codes, numbers, keys   []string
		amounts                []decimal.Decimal
		usageAmount, requested decimal.Decimal
	)
	if err := rows.Scan(&c.ClaimID, &c.ApplicantUSCC, &round, &submitted, &c.City, &viaPlatform, &c.Contracts,
		&codes, &numbers, &keys, &amounts, &usageAmount, &requested, &c.ChipOrigin, &c.BankAccount,
		&c.Source, &c.ID, &c.Time); err != nil {
		return c, err
	}
	c.Type = voucherwatch.TypeClaim
	c.Round, c.SubmittedOn, c.ViaPlatform = int(round), dateOf(submitted), viaPlatform == 1
	c.UsageAmount, c.Requested = fen(usageAmount), fen(requested)
	for i := range numbers {
		c.Invoices = append(c.Invoices, voucherwatch.ClaimInvoice{InvoiceCode: at(codes, i), InvoiceNo: numbers[i], Amount: fen(at(amounts, i)), Key: at(keys, i)})
	}
	return c, nil
}

// settlementColumns are what scanSettlement reads, in its order.
const settlementColumns = `settlement_id, contract_no, supplier_uscc, buyer_uscc, invoice_code, invoice_no,
	invoice_key, invoice_date, amount, tax, payment_ref, paid_on, payer_account, payee_account, period_start, period_end,
	` + itemColumns + `, source, id, event_time`

// latestSettlementsSQL is the latest settlement of each invoice; %s is a WHERE clause
// narrowing the invoices (or "").
const latestSettlementsSQL = `SELECT ` + settlementColumns + `
FROM settlements %s
ORDER BY invoice_code, invoice_no, event_time DESC, source DESC, id DESC
LIMIT 1 BY invoice_code, invoice_no`

// LatestSettlements returns the latest settlement of each invoice q selects.
func (db *DB) LatestSettlements(ctx context.Context, q voucherwatch.SettlementQuery) ([]voucherwatch.StoredSettlement, error) {
	if q.IsZero() {
		return nil, nil
	}
	where, args := "", []any(nil)
	if !q.All {
		var conds []string
		// Invoices go through lookup_keys by canonical key, the invoices of (buyer, contract)
		// pairs by pair: every version of each invoice, whichever supplier issued it, through
		// the settlements' sorting key (supplier_uscc, invoice_code, invoice_no).
		if len(q.Invoices) > 0 {
			conds, args = append(conds, settlementsKeyedSQL+" IN (SELECT arrayJoin(?)))"), append(args, invoiceKeyStrings(q.Invoices))
		}
		if len(q.BuyerContracts) > 0 {
			pairs := make([]string, len(q.BuyerContracts))
			for i, p := range q.BuyerContracts {
				pairs[i] = p[0] + "/" + p[1]
			}
			conds = append(conds, "(supplier_uscc, invoice_code, invoice_no) IN (SELECT owner, invoice_code, invoice_no FROM lookup_keys WHERE kind = 'settlement_contract' AND k IN (SELECT arrayJoin(?)))")
			args = append(args, pairs)
		}
		if q.CitedByClaims {
			// By canonical key: a claim may cite the invoice in another form. Rows stored before
			// keys were have none, and are matched on code and number.
			conds = append(conds, "(invoice_code, invoice_no) IN (SELECT invoice_code, invoice_no FROM claims ARRAY JOIN invoice_code, invoice_no)",
				"invoice_key != '' AND invoice_key IN (SELECT k FROM claims ARRAY JOIN invoice_key AS k WHERE k != '')")
		}
		if len(q.InvoiceNos) > 0 {
			conds, args = append(conds, "has(?, invoice_no)"), append(args, q.InvoiceNos)
		}
		if len(q.Contracts) > 0 {
			conds = append(conds, `(supplier_uscc, invoice_code, invoice_no) IN (SELECT supplier_uscc, invoice_code, invoice_no FROM settlements
	WHERE `+ofContractsSQL+`)`)
			args = append(args, ofContractsArgs(q.Contracts)...)
		}
		if q.NumbersCitedByClaims {
			conds = append(conds, "invoice_no IN (SELECT invoice_no FROM claims ARRAY JOIN invoice_no)")
		}
		if len(q.Suppliers) > 0 {
			conds, args = append(conds, "supplier_uscc IN (SELECT arrayJoin(?))"), append(args, q.Suppliers)
		}
		where = "WHERE " + strings.Join(conds, " OR ")
	}
	rows, err := db.conn.Query(ctx, fmt.Sprintf(latestSettlementsSQL, where), args...)
	if err != nil {
		return nil, fmt.Errorf("store: latest settlements: %w", err)
	}
	defer rows.Close()
	var out []voucherwatch.StoredSettlement
	for rows.Next() {
		s, err := scanSettlement(rows)
		if err != nil {
			return nil, fmt.Errorf("store: latest settlements: %w", err)
		}
		if settlementMatches(&s, q) {
			out = append(out, s)
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: latest settlements: %w", err)
	}
	return out, nil
}

// settlementsKeyedSQL selects every version of the invoices whose keys (code/no) follow, in
// parentheses, through lookup_keys and the settlements' primary key.
const settlementsKeyedSQL = `(supplier_uscc, invoice_code, invoice_no) IN (
	SELECT owner, invoice_code, invoice_no FROM lookup_keys WHERE kind = 'settlement_invoice_key' AND k`

// settlementMatches applies q to a latest version exactly. The invoice conditions held in
// SQL already; a contract's invoice may have moved to another contract in its latest version.
func settlementMatches(s *voucherwatch.StoredSettlement, q voucherwatch.SettlementQuery) bool {
	if q.All || q.CitedByClaims || q.NumbersCitedByClaims || len(q.Invoices) > 0 && containsInvoice(q.Invoices, s.CanonicalKey()) {
		return true
	}
	for _, no := range q.InvoiceNos {
		if s.InvoiceNo == no {
			return true
		}
	}
	for _, p := range q.BuyerContracts {
		if s.BuyerUSCC == p[0] && s.ContractNo == p[1] {
			return true
		}
	}
	return slices.Contains(q.Contracts, [2]string{s.SupplierUSCC, s.ContractNo}) || slices.Contains(q.Suppliers, s.SupplierUSCC)
}

func containsInvoice(keys []voucherwatch.InvoiceKey, k string) bool {
	for _, x := range keys {
		if x.Canonical() == k {
			return true
		}
	}
	return false
}

func scanSettlement(rows interface{ Scan(...any) error }) (voucherwatch.StoredSettlement, error) {
	var (
		s                     voucherwatch.StoredSettlement
		amount, tax           decimal.Decimal
		invoiced, paid        time.Time
		periodFrom, periodTo  time.Time
		items                 itemArrays
		source, id, eventTime = &s.Source, &s.ID, &s.Time
	)
	dest := []any{&s.SettlementID, &s.ContractNo, &s.SupplierUSCC, &s.BuyerUSCC, &s.InvoiceCode, &s.InvoiceNo,
		&s.InvoiceKey, &invoiced, &amount, &tax, &s.PaymentRef, &paid, &s.PayerAccount, &s.PayeeAccount, &periodFrom, &periodTo}
	dest = append(dest, items.dest()...)
	dest = append(dest, source, id, eventTime)
	if err := rows.Scan(dest...); err != nil {
		return s, err
	}
	s.Type = voucherwatch.TypeSettlement
	s.InvoiceDate, s.PaidOn = dateOf(invoiced), dateOf(paid)
	s.PeriodStart, s.PeriodEnd = dateOf(periodFrom), dateOf(periodTo)
	s.Amount, s.Tax = fen(amount), fen(tax)
	s.Items = items.items()
	return s, nil
}

// sharedPaymentRefSQL selects the latest settlements whose payment reference another
// invoice's latest settlement also carries; %s narrows the references (or "").
const sharedPaymentRefSQL = `SELECT ` + settlementColumns + `
FROM (` + latestSettlementsSQL + `)
WHERE payment_ref != '' AND payment_ref IN (
	SELECT payment_ref FROM (` + latestSettlementsSQL + `)
	WHERE payment_ref != ''
	GROUP BY payment_ref
	HAVING count() > 1)
ORDER BY payment_ref, paid_on, event_time, invoice_code, invoice_no`

// SettlementsSharingPaymentRef returns the latest settlements whose payment reference is on
// more than one invoice, restricted to refs when refs is not nil.
func (db *DB) SettlementsSharingPaymentRef(ctx context.Context, refs []string) ([]voucherwatch.StoredSettlement, error) {
	where, args := "", []any(nil)
	if refs != nil {
		if len(refs) == 0 {
			return nil, nil
		}
		// A reference's settlements are the latest versions of the invoices that ever
		// carried it; a corrected version may carry another reference, hence the outer
		// filter on payment_ref.
		where = `WHERE (supplier_uscc, invoice_code, invoice_no) IN (
	SELECT owner, invoice_code, invoice_no FROM lookup_keys WHERE kind = 'payment_ref' AND k IN (SELECT arrayJoin(?)))`
		args = []any{refs, refs}
	}
	rows, err := db.conn.Query(ctx, fmt.Sprintf(sharedPaymentRefSQL, where, where), args...)
	if err != nil {
		return nil, fmt.Errorf("store: settlements sharing a payment reference: %w", err)
	}
	defer rows.Close()
	var out []voucherwatch.StoredSettlement
	for rows.Next() {
		s, err := scanSettlement(rows)
		if err != nil {
			return nil, fmt.Errorf("store: settlements sharing a payment reference: %w", err)
		}
		out = append(out, s)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: settlements sharing a payment reference: %w", err)
	}
	return out, nil
}

// claimsCitingSQL maps each (applicant, contract number) to the latest claims citing the
// contract or an invoice the applicant was invoiced under it (any settlement version).
var claimsCitingSQL = claimsCitingOf(latestClaimsOnlySQL, "", "")

// claimsCitingOf is claimsCitingSQL on the claims of the query claims (the latest versions,
// the columns of latestClaimsOnlySQL), the settlements settlementsWhere selects (a WHERE
// clause, or "") and the results outerWhere keeps (a WHERE clause, or "").
func claimsCitingOf(claims, settlementsWhere, outerWhere string) string {
	return `SELECT applicant_uscc, contract, groupUniqArray(claim_id)
FROM (
	SELECT claim_id, applicant_uscc, arrayJoin(contract_no) AS contract
	FROM (` + claims + `)
	UNION ALL
	SELECT claim_id, applicant_uscc, contract
	FROM (
		SELECT claim_id, applicant_uscc, invoice_code, invoice_no
		FROM (` + claims + `)
		ARRAY JOIN invoice_code, invoice_no
	) ALL INNER JOIN (
		SELECT invoice_code, invoice_no, buyer_uscc AS applicant_uscc, contract_no AS contract
		FROM settlements
		` + settlementsWhere + `
		LIMIT 1 BY invoice_code, invoice_no, buyer_uscc, contract_no
	) USING invoice_code, invoice_no, applicant_uscc
)
` + outerWhere + `
GROUP BY applicant_uscc, contract`
}

// latestClaimsOnlySQL is the latest version of every claim, the columns claimsCitingSQL needs.
const latestClaimsOnlySQL = `SELECT claim_id, applicant_uscc, contract_no, invoice_code, invoice_no
FROM claims
ORDER BY claim_id, event_time DESC, source DESC, id DESC
LIMIT 1 BY claim_id`

// ClaimsCitingContracts returns, per (buyer, contract number), the latest claims citing it.
func (db *DB) ClaimsCitingContracts(ctx context.Context) ([]voucherwatch.ContractClaims, error) {
	out, err := db.scanContractClaims(ctx, claimsCitingSQL, nil)
	if err != nil {
		return nil, fmt.Errorf("store: claims citing contracts: %w", err)
	}
	return out, nil
}

// scanContractClaims reads rows of (buyer, contract number, claim ids), the ids sorted.
func (db *DB) scanContractClaims(ctx context.Context, q string, args []any) ([]voucherwatch.ContractClaims, error) {
	var out []voucherwatch.ContractClaims
	err := db.scanRows(ctx, q, args, func(scan func(...any) error) error {
		var c voucherwatch.ContractClaims
		if err := scan(&c.BuyerUSCC, &c.ContractNo, &c.ClaimIDs); err != nil {
			return err
		}
		sort.Strings(c.ClaimIDs)
		out = append(out, c)
		return nil
	})
	return out, err
}

// Cities maps every enterprise's USCC to the 市州 code of its latest registry version.
func (db *DB) Cities(ctx context.Context) (map[string]string, error) {
	rows, err := db.conn.Query(ctx, "SELECT uscc, city FROM registry_latest")
	if err != nil {
		return nil, fmt.Errorf("store: cities: %w", err)
	}
	defer rows.Close()
	out := map[string]string{}
	for rows.Next() {
		var uscc, city string
		if err := rows.Scan(&uscc, &city); err != nil {
			return nil, fmt.Errorf("store: cities: %w", err)
		}
		out[uscc] = city
	}
	return out, rows.Err()
}

func invoiceKeyStrings(keys []voucherwatch.InvoiceKey) []string {
	out := make([]string, 0, 2*len(keys))
	for _, k := range keys {
		out = append(out, invoiceKeyString(k))
		// The look-up key of a row stored before canonical keys (migration 22): code‖number.
		if legacy := k.Code + k.No; legacy != out[len(out)-1] {
			out = append(out, legacy)
		}
	}
	return out
}
