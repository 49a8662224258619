package store

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/shopspring/decimal"

	"github.com/voucherwatch/voucherwatch"
)

// contractColumns are what scanContract reads, in its order.
const contractColumns = `contract_no, name, supplier_uscc, buyer_uscc, signed_on, service_start, service_end, amount,
	` + itemColumns + `, datacenter, via_platform, filed_on, domains, purposes, source, id, event_time`

// LatestContracts returns the latest version of each contract q selects, sorted by supplier
// and contract number. The contract's key is its versions' key, so narrowing before the latest
// version is taken is exact. Numbers without a supplier read the contract_no column (the table
// is sorted by supplier first), not the whole records.
func (db *DB) LatestContracts(ctx context.Context, q voucherwatch.ContractQuery) ([]voucherwatch.StoredContract, error) {
	if q.IsZero() {
		return nil, nil
	}
	where, args := "", []any(nil)
	if !q.All {
		var conds []string
		if len(q.Contracts) > 0 {
			conds, args = append(conds, "("+ofContractsSQL+")"), append(args, ofContractsArgs(q.Contracts)...)
		}
		if len(q.Numbers) > 0 {
			conds, args = append(conds, "has(?, contract_no)"), append(args, q.Numbers)
		}
		where = "WHERE " + strings.Join(conds, " OR ")
	}
	out, err := db.latestContracts(ctx, where, args)
	if err != nil {
		return nil, fmt.Errorf("store: latest contracts: %w", err)
	}
	return out, nil
}

// latestContracts returns the latest version of each contract among the rows where selects
// (a WHERE clause, or ""), sorted by supplier and contract number.
func (db *DB) latestContracts(ctx context.Context, where string, args []any) ([]voucherwatch.StoredContract, error) {
	var out []voucherwatch.StoredContract
	err := db.scanRows(ctx, `SELECT `+contractColumns+` FROM contracts `+where+`
ORDER BY supplier_uscc, contract_no, event_time DESC, source DESC, id DESC
LIMIT 1 BY supplier_uscc, contract_no`, args, func(scan func(...any) error) error {
		var (
			c                  voucherwatch.StoredContract
			signed, start, end time.Time
			amount             decimal.Decimal
			items              itemArrays
			via                uint8
			filed              *time.Time
		)
		dest := []any{&c.ContractNo, &c.Name, &c.SupplierUSCC, &c.BuyerUSCC, &signed, &start, &end, &amount}
		dest = append(dest, items.dest()...)
		dest = append(dest, &c.Datacenter, &via, &filed, &c.Domains, &c.Purposes, &c.Source, &c.ID, &c.Time)
		if err := scan(dest...); err != nil {
			return err
		}
		c.Type = voucherwatch.TypeContract
		c.SignedOn, c.ServiceStart, c.ServiceEnd = dateOf(signed), dateOf(start), dateOf(end)
		c.Amount, c.Items, c.ViaPlatform = fen(amount), items.items(), via == 1
		if filed != nil {
			c.FiledOn = dateOf(*filed)
		}
		out = append(out, c)
		return nil
	})
	return out, err
}

// SettledByContract adds up the latest settlement of every invoice by (supplier, buyer,
// contract number).
func (db *DB) SettledByContract(ctx context.Context) ([]voucherwatch.ContractSettled, error) {
	var out []voucherwatch.ContractSettled
	err := db.scanRows(ctx, `SELECT supplier_uscc, buyer_uscc, contract_no, count(), sum(toInt64(amount * 100))
FROM (SELECT supplier_uscc, buyer_uscc, contract_no, amount FROM settlements
	ORDER BY invoice_code, invoice_no, event_time DESC, source DESC, id DESC
	LIMIT 1 BY invoice_code, invoice_no)
GROUP BY supplier_uscc, buyer_uscc, contract_no`, nil, func(scan func(...any) error) error {
		var (
			s       voucherwatch.ContractSettled
			n       uint64
			settled int64
		)
		if err := scan(&s.SupplierUSCC, &s.BuyerUSCC, &s.ContractNo, &n, &settled); err != nil {
			return err
		}
		s.Invoices, s.Settled = int(n), voucherwatch.Money(settled)
		out = append(out, s)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("store: settled by contract: %w", err)
	}
	return out, nil
}
