package store

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/voucherwatch/voucherwatch"
)

// LatestDeals returns the deals q selects, sorted by supplier, buyer and contract number:
// the latest version of each contract and the latest settlement of each invoice, grouped by
// (supplier, buyer, contract number) as SettledByContract groups them, filtered on those
// latest versions. The rows read are those of the keys asked: contracts and settlements by
// their supplier prefix, settlements by buyer or (buyer, contract) through lookup_keys; only a
// contract's buyer, which no key holds, is found by reading the contracts' buyer column (a
// province holds some tens of thousands of contracts, against hundreds of thousands of
// settlements).
func (db *DB) LatestDeals(ctx context.Context, q voucherwatch.DealQuery) ([]voucherwatch.Deal, error) {
	if q.IsZero() {
		return nil, nil
	}
	deals := map[[3]string]*voucherwatch.Deal{}
	deal := func(s, b, n string) *voucherwatch.Deal {
		k := [3]string{s, b, n}
		if deals[k] == nil {
			deals[k] = &voucherwatch.Deal{SupplierUSCC: s, BuyerUSCC: b, ContractNo: n}
		}
		return deals[k]
	}

	// Contracts: every version of the contracts that ever matched, then their latest.
	var conds []string
	var args []any
	if len(q.Suppliers) > 0 {
		conds, args = append(conds, "supplier_uscc IN (SELECT arrayJoin(?))"), append(args, q.Suppliers)
	}
	if len(q.Contracts) > 0 {
		conds, args = append(conds, "("+ofContractsSQL+")"), append(args, ofContractsArgs(q.Contracts)...)
	}
	if len(q.Buyers) > 0 {
		conds, args = append(conds, "has(?, buyer_uscc)"), append(args, q.Buyers)
	}
	if len(q.BuyerContracts) > 0 {
		conds, args = append(conds, "has(?, contract_no)"), append(args, dealNumbers(q.BuyerContracts))
	}
	contracts, err := db.latestContracts(ctx, `WHERE (supplier_uscc, contract_no) IN (
	SELECT supplier_uscc, contract_no FROM contracts WHERE `+strings.Join(conds, " OR ")+`)`, args)
	if err != nil {
		return nil, fmt.Errorf("store: latest deals: %w", err)
	}
	for i := range contracts {
		c := &contracts[i]
		if q.Matches(c.SupplierUSCC, c.BuyerUSCC, c.ContractNo) {
			deal(c.SupplierUSCC, c.BuyerUSCC, c.ContractNo).Contract = c
		}
	}

	// Settlements: every version of the invoices that ever matched, under their supplier
	// (the settlements' sorting key), then the latest of each invoice, grouped by deal.
	conds, args = nil, nil
	if sup := append(slices.Clone(q.Suppliers), dealSuppliers(q.Contracts)...); len(sup) > 0 {
		conds, args = append(conds, "supplier_uscc IN (SELECT arrayJoin(?))"), append(args, sup)
	}
	var keys []string
	var likes []string
	for _, p := range q.BuyerContracts {
		keys = append(keys, p[0]+"/"+p[1])
	}
	if len(q.Buyers) > 0 {
		l, p := buyerKeyPrefixes(q.Buyers)
		likes, args = append(likes, l...), append(args, p...)
	}
	if len(keys) > 0 {
		likes = append(likes, "k IN (SELECT arrayJoin(?))")
		args = append(args, keys)
	}
	if len(likes) > 0 {
		conds = append(conds, `(supplier_uscc, invoice_code, invoice_no) IN (
	SELECT owner, invoice_code, invoice_no FROM lookup_keys
	WHERE kind = 'settlement_contract' AND (`+strings.Join(likes, " OR ")+`))`)
	}
	err = db.scanRows(ctx, `SELECT supplier_uscc, buyer_uscc, contract_no, count(), sum(toInt64(amount * 100))
FROM (SELECT supplier_uscc, buyer_uscc, contract_no, amount FROM settlements
	WHERE `+strings.Join(conds, " OR ")+`
	ORDER BY invoice_code, invoice_no, event_time DESC, source DESC, id DESC
	LIMIT 1 BY invoice_code, invoice_no)
GROUP BY supplier_uscc, buyer_uscc, contract_no`, args, func(scan func(...any) error) error {
		var (
			s, b, no string
			n        uint64
			settled  int64
		)
		if err := scan(&s, &b, &no, &n, &settled); err != nil {
			return err
		}
		if q.Matches(s, b, no) {
			d := deal(s, b, no)
			d.Invoices, d.Settled = int(n), voucherwatch.Money(settled)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("store: latest deals: %w", err)
	}
	out := make([]voucherwatch.Deal, 0, len(deals))
	for _, d := range deals {
		out = append(out, *d)
	}
	slices.SortFunc(out, func(a, b voucherwatch.Deal) int {
		return cmp.Or(cmp.Compare(a.SupplierUSCC, b.SupplierUSCC), cmp.Compare(a.BuyerUSCC, b.BuyerUSCC), cmp.Compare(a.ContractNo, b.ContractNo))
	})
	return out, nil
}

func dealSuppliers(contracts [][2]string) []string {
	out := make([]string, 0, len(contracts))
	for _, c := range contracts {
		out = append(out, c[0])
	}
	return out
}

func dealNumbers(pairs [][2]string) []string {
	out := make([]string, 0, len(pairs))
	for _, p := range pairs {
		out = append(out, p[1])
	}
	return out
}

// ClaimsCitingContractsOf returns, per (buyer, contract number) of these buyers, the latest
// claims citing the contract, as ClaimsCitingContracts does for every buyer: the claims of
// the buyers by the claims' applicant prefix, the settlements they were invoiced under
// through lookup_keys' (buyer/contract) prefix.
func (db *DB) ClaimsCitingContractsOf(ctx context.Context, buyers []string) ([]voucherwatch.ContractClaims, error) {
	if len(buyers) == 0 {
		return nil, nil
	}
	likes, prefixes := buyerKeyPrefixes(buyers)
	claims := `SELECT claim_id, applicant_uscc, contract_no, invoice_code, invoice_no
FROM claims
WHERE claim_id IN (SELECT claim_id FROM claims WHERE applicant_uscc IN (SELECT arrayJoin(?)))
ORDER BY claim_id, event_time DESC, source DESC, id DESC
LIMIT 1 BY claim_id`
	q := claimsCitingOf(claims, `WHERE (supplier_uscc, invoice_code, invoice_no) IN (
			SELECT owner, invoice_code, invoice_no FROM lookup_keys
			WHERE kind = 'settlement_contract' AND (`+strings.Join(likes, " OR ")+`))`,
		"WHERE has(?, applicant_uscc)")
	// The arguments in the order of the placeholders: the two claims' sub-queries, the
	// settlements' prefixes, the outer filter.
	args := append(append([]any{buyers, buyers}, prefixes...), buyers)
	out, err := db.scanContractClaims(ctx, q, args)
	if err != nil {
		return nil, fmt.Errorf("store: claims citing contracts of buyers: %w", err)
	}
	return out, nil
}

// buyerKeyPrefixes are the conditions and arguments that select the settlement_contract keys
// (buyer/contract) of buyers in lookup_keys: a range of its primary key each.
func buyerKeyPrefixes(buyers []string) (likes []string, args []any) {
	esc := strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)
	for _, b := range buyers {
		likes, args = append(likes, "k LIKE ?"), append(args, esc.Replace(b)+"/%")
	}
	return likes, args
}
