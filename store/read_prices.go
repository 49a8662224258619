package store

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/voucherwatch/voucherwatch"
)

// pricedUnits are the units a price can be compared in.
const pricedUnits = `unit_price > 0 AND unit IN ('card_hour', 'card_month', 'token_million')`

// contractPricedItemsSQL reads the priced items of the latest contract versions, one row per
// item; %s narrows the contracts before the latest version is taken (the contract's key is
// the version's key, so that is exact).
const contractPricedItemsSQL = `SELECT supplier_uscc, contract_no, buyer_uscc, signed_on,
	chip_model, chip_origin, service_type, unit, toInt64(unit_price * 100), toInt64(cards)
FROM (SELECT * FROM contracts %s
	ORDER BY supplier_uscc, contract_no, event_time DESC, source DESC, id DESC
	LIMIT 1 BY supplier_uscc, contract_no)
ARRAY JOIN item_chip_model AS chip_model, item_chip_origin AS chip_origin, item_service_type AS service_type,
	item_unit AS unit, item_unit_price AS unit_price, item_cards AS cards
WHERE ` + pricedUnits

// settledPricedItemsSQL reads the distinct priced items of the latest settlement versions per
// contract: one row per contract, chip, unit and price, with the invoices that carry it. The
// first %s narrows the invoices to those ever settled under the contracts, the second keeps
// the latest versions still naming them.
const settledPricedItemsSQL = `SELECT supplier_uscc, contract_no, any(buyer_uscc), min(period_start),
	chip_model, any(chip_origin), any(service_type), unit, toInt64(unit_price * 100), toInt64(max(cards)),
	arraySlice(arraySort(groupUniqArray(if(invoice_code = '', invoice_no, concat(invoice_code, '/', invoice_no)))), 1, 20)
FROM (SELECT * FROM settlements %s
	ORDER BY invoice_code, invoice_no, event_time DESC, source DESC, id DESC
	LIMIT 1 BY invoice_code, invoice_no)
ARRAY JOIN item_chip_model AS chip_model, item_chip_origin AS chip_origin, item_service_type AS service_type,
	item_unit AS unit, item_unit_price AS unit_price, item_cards AS cards
WHERE ` + pricedUnits + ` %s
GROUP BY supplier_uscc, contract_no, chip_model, unit, unit_price`

const contractKeySQL = `concat(supplier_uscc, '/', contract_no)`

// ofContractsSQL selects the rows of some contracts, given by (supplier, number): by supplier
// first, the sorting-key prefix of every table keyed by supplier, so that a look-up reads its
// suppliers' granules and not the whole table (a claim's real use read 6.1 M rows of a 100 M
// history by has() alone, 1.0 M with it), then by the pair exactly. Its arguments are
// ofContractsArgs'.
const ofContractsSQL = `supplier_uscc IN (SELECT arrayJoin(?)) AND has(?, ` + contractKeySQL + `)`

func ofContractsArgs(pairs [][2]string) []any {
	suppliers := dealSuppliers(pairs)
	slices.Sort(suppliers)
	return []any{slices.Compact(suppliers), contractKeys(voucherwatch.ContractQuery{Contracts: pairs})}
}

func contractKeys(q voucherwatch.ContractQuery) []string {
	out := make([]string, len(q.Contracts))
	for i, c := range q.Contracts {
		out[i] = c[0] + "/" + c[1]
	}
	return out
}

// ContractPricedItems returns the priced items of the latest version of the contracts q selects.
func (db *DB) ContractPricedItems(ctx context.Context, q voucherwatch.ContractQuery) ([]voucherwatch.PricedItem, error) {
	if q.IsZero() {
		return nil, nil
	}
	where, args := "", []any(nil)
	if !q.All {
		where, args = "WHERE "+ofContractsSQL, ofContractsArgs(q.Contracts)
	}
	var out []voucherwatch.PricedItem
	err := db.scanRows(ctx, fmt.Sprintf(contractPricedItemsSQL, where), args, func(scan func(...any) error) error {
		var (
			it           voucherwatch.PricedItem
			signed       time.Time
			price, cards int64
		)
		if err := scan(&it.SupplierUSCC, &it.ContractNo, &it.BuyerUSCC, &signed, &it.ChipModel, &it.ChipOrigin,
			&it.ServiceType, &it.Unit, &price, &cards); err != nil {
			return err
		}
		it.Signed, it.UnitPrice, it.Cards = dateOf(signed), voucherwatch.Money(price), int(cards)
		out = append(out, it)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("store: contract priced items: %w", err)
	}
	return out, nil
}

// SettledPricedItems returns, per contract q selects, the distinct priced items of the latest
// settlements naming it.
func (db *DB) SettledPricedItems(ctx context.Context, q voucherwatch.ContractQuery) ([]voucherwatch.PricedItem, error) {
	if q.IsZero() {
		return nil, nil
	}
	pre, post, args := "", "", []any(nil)
	if !q.All {
		pre = "WHERE (invoice_code, invoice_no) IN (SELECT invoice_code, invoice_no FROM settlements WHERE " + ofContractsSQL + ")"
		post = "AND " + ofContractsSQL
		args = append(ofContractsArgs(q.Contracts), ofContractsArgs(q.Contracts)...)
	}
	var out []voucherwatch.PricedItem
	err := db.scanRows(ctx, fmt.Sprintf(settledPricedItemsSQL, pre, post), args, func(scan func(...any) error) error {
		var (
			it           voucherwatch.PricedItem
			start        time.Time
			price, cards int64
		)
		if err := scan(&it.SupplierUSCC, &it.ContractNo, &it.BuyerUSCC, &start, &it.ChipModel, &it.ChipOrigin,
			&it.ServiceType, &it.Unit, &price, &cards, &it.Invoices); err != nil {
			return err
		}
		it.Signed, it.UnitPrice, it.Cards = dateOf(start), voucherwatch.Money(price), int(cards)
		out = append(out, it)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("store: settled priced items: %w", err)
	}
	return out, nil
}
