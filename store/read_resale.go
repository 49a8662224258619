package store

import (
	"context"
	"fmt"
	"sort"
	"time"

	"github.com/shopspring/decimal"

	"github.com/voucherwatch/voucherwatch"
)

// resaleCandidatesSQL lists the enterprises worth a look: every seller (a buyer among them
// is what the detector is after) and every buyer whose tenant carried another organisation's
// logins.
const resaleCandidatesSQL = `SELECT supplier_uscc FROM contracts
	UNION ALL SELECT supplier_uscc FROM settlements
	UNION ALL SELECT buyer_uscc FROM usage_foreign_logins`

// resaleBuyersSQL lists every enterprise that buys.
const resaleBuyersSQL = `SELECT buyer_uscc FROM contracts UNION ALL SELECT buyer_uscc FROM settlements`

// resaleSellersSQL is the condition on supplier_uscc of the sales worth a look: those of an
// enterprise that buys, and those of an enterprise that is no registered supplier, which may
// sell what a company of its control group bought (the detector attributes sales across a
// control group).
//
// GLOBAL: on a cluster this condition runs on every shard of settlements, where the view
// registry_latest is not in the database a remote query starts in; the initiator reads it once.
const resaleSellersSQL = `(supplier_uscc IN (` + resaleBuyersSQL + `)
		OR supplier_uscc GLOBAL NOT IN (SELECT uscc FROM registry_latest WHERE supplier_registered = 1))`

const resaleItemColumns = `ARRAY JOIN item_chip_model AS chip, item_service_type AS svc, item_unit AS unit,
	item_quantity AS qty, item_amount AS amt
WHERE unit IN ('card_hour', 'card_month', 'token_million')`

// resaleBoughtSQL sums what every buyer bought, per contract and kind: any buyer may be the
// applicant whose control group resells.
const resaleBoughtSQL = `SELECT supplier_uscc, buyer_uscc, contract_no, signed_on, service_start, service_end, chip, svc,
	sumIf(qty, unit = 'card_hour') AS ch, sumIf(qty, unit = 'card_month') AS cm,
	sumIf(qty, unit = 'token_million') AS tok, sum(amt) AS amount
FROM contracts_latest
` + resaleItemColumns + `
GROUP BY supplier_uscc, buyer_uscc, contract_no, signed_on, service_start, service_end, chip, svc`

// resaleSoldSQL sums what every seller that also buys sold under contract, per contract and
// kind.
const resaleSoldSQL = `SELECT supplier_uscc, buyer_uscc, contract_no, signed_on, service_start, service_end, chip, svc,
	sumIf(qty, unit = 'card_hour') AS ch, sumIf(qty, unit = 'card_month') AS cm,
	sumIf(qty, unit = 'token_million') AS tok, sum(amt) AS amount
FROM contracts_latest
` + resaleItemColumns + `
	AND ` + resaleSellersSQL + `
GROUP BY supplier_uscc, buyer_uscc, contract_no, signed_on, service_start, service_end, chip, svc`

// resaleSettledSQL sums the invoices of the same sellers, each invoice once, in its latest
// version (the same order as latestSettlementsSQL: a later event, then source and id, so that
// two versions stamped alike pick the same one on every read).
const resaleSettledSQL = `SELECT supplier_uscc, buyer_uscc, contract_no, min(period_start) AS ps, max(period_end) AS pe, chip, svc,
	sumIf(qty, unit = 'card_hour') AS ch, sumIf(qty, unit = 'card_month') AS cm,
	sumIf(qty, unit = 'token_million') AS tok, sum(amt) AS amount, uniqExact(invoice_code, invoice_no) AS invoices
FROM (
	SELECT * FROM settlements
	WHERE ` + resaleSellersSQL + `
	ORDER BY invoice_code, invoice_no, event_time DESC, source DESC, id DESC
	LIMIT 1 BY invoice_code, invoice_no
)
` + resaleItemColumns + `
GROUP BY supplier_uscc, buyer_uscc, contract_no, chip, svc`

// resaleUsageSQL sums the candidates' metered use per bought contract from the kept units
// (usage_units, refreshed first): each window once per usage_runs group, that is per
// (resource, buyer, contract, chip, cards) and window. Raw usage, which this read scanned
// whole on every full run before (100 M rows at 100 M), is not read. A window re-sent under
// another contract number counts for both contracts (each contract's own metering), where the
// scan of raw usage kept whichever copy it met first. buyer_uscc is part of a group's key, so
// every version of a group has it and the filter may run before FINAL's merge.
const resaleUsageSQL = `SELECT buyer_uscc, supplier_uscc, contract_no, sum(arraySum(unit_windows)) AS windows, sum(arraySum(unit_ch)) AS ch
FROM usage_units FINAL
WHERE buyer_uscc IN (` + resaleCandidatesSQL + `)
GROUP BY buyer_uscc, supplier_uscc, contract_no`

// resaleOtherUseSQL sums, per bought contract, the windows in which another organisation
// logged in and their card-hours, each window once (usage_foreign_logins holds a row per
// window and organisation, and only those windows: every buyer in it is a candidate).
const resaleOtherUseSQL = `SELECT buyer_uscc, supplier_uscc, contract_no, count() AS windows, sum(card_hours) AS ch
FROM (
	SELECT buyer_uscc, supplier_uscc, contract_no, resource_id, tenant, window_start, card_hours
	FROM usage_foreign_logins
	LIMIT 1 BY supplier_uscc, resource_id, tenant, window_start
)
GROUP BY buyer_uscc, supplier_uscc, contract_no`

// resaleLoginsSQL counts, per bought contract, the windows each other organisation logged in
// (usage_foreign_logins, migration 19: the usage records with such logins only).
const resaleLoginsSQL = `SELECT buyer_uscc, supplier_uscc, contract_no, org, count() AS windows
FROM (
	SELECT buyer_uscc, supplier_uscc, contract_no, org
	FROM usage_foreign_logins
	LIMIT 1 BY supplier_uscc, resource_id, tenant, window_start, org
)
GROUP BY buyer_uscc, supplier_uscc, contract_no, org`

// resaleClaimsSQL lists the claims whose latest version cites each candidate's contracts.
const resaleClaimsSQL = `SELECT applicant_uscc, cno, groupUniqArray(claim_id)
FROM (` + latestClaimsOnlySQL + `) ARRAY JOIN contract_no AS cno
WHERE applicant_uscc IN (` + resaleCandidatesSQL + `)
GROUP BY applicant_uscc, cno`

// resalePartiesSQL reads the registry facts of the candidates, their customers and the
// organisations that logged in to them.
const resalePartiesSQL = `SELECT uscc, name, supplier_registered, capacity_chip_model, capacity_cards
FROM registry_latest
WHERE uscc IN (` + resaleCandidatesSQL + `)
	OR uscc IN (SELECT buyer_uscc FROM contracts)
	OR uscc IN (SELECT supplier_uscc FROM contracts)
	OR uscc IN (SELECT org FROM usage_foreign_logins)`

// ResaleFacts reads what the resale detector weighs.
func (db *DB) ResaleFacts(ctx context.Context) (voucherwatch.ResaleFacts, error) {
	f := voucherwatch.ResaleFacts{Claims: map[[2]string][]string{}, Parties: map[string]voucherwatch.PartyCapacity{}}
	fail := func(what string, err error) (voucherwatch.ResaleFacts, error) {
		return voucherwatch.ResaleFacts{}, fmt.Errorf("store: resale facts: %s: %w", what, err)
	}
	lines := func(q string, settled bool) ([]voucherwatch.TradeLine, error) {
		var out []voucherwatch.TradeLine
		err := db.scanRows(ctx, q, nil, func(scan func(...any) error) error {
			var (
				l                  voucherwatch.TradeLine
				signed, start, end time.Time
				amount             decimal.Decimal
				invoices           uint64
				dest               = []any{&l.Seller, &l.Buyer, &l.ContractNo}
			)
			if settled {
				dest = append(dest, &start, &end, &l.Chip, &l.Service, &l.CardHours, &l.CardMonths, &l.Tokens, &amount, &invoices)
			} else {
				dest = append(dest, &signed, &start, &end, &l.Chip, &l.Service, &l.CardHours, &l.CardMonths, &l.Tokens, &amount)
			}
			if err := scan(dest...); err != nil {
				return err
			}
			l.Signed, l.Start, l.End = dateOf(signed), dateOf(start), dateOf(end)
			l.Amount, l.Invoices = fen(amount), int(invoices)
			out = append(out, l)
			return nil
		})
		return out, err
	}
	var err error
	if f.Bought, err = lines(resaleBoughtSQL, false); err != nil {
		return fail("bought", err)
	}
	if f.Sold, err = lines(resaleSoldSQL, false); err != nil {
		return fail("sold", err)
	}
	if f.Settled, err = lines(resaleSettledSQL, true); err != nil {
		return fail("settled", err)
	}

	if err := db.RefreshUsageUnits(ctx); err != nil {
		return fail("usage", err)
	}
	usage := map[[3]string]int{}
	contractUsage := func(buyer, supplier, contract string) *voucherwatch.ContractUsage {
		k := [3]string{buyer, supplier, contract}
		i, ok := usage[k]
		if !ok {
			i = len(f.Usage)
			usage[k] = i
			f.Usage = append(f.Usage, voucherwatch.ContractUsage{BuyerUSCC: buyer, SupplierUSCC: supplier, ContractNo: contract, Logins: map[string]int{}})
		}
		return &f.Usage[i]
	}
	err = db.scanRows(ctx, resaleUsageSQL, nil, func(scan func(...any) error) error {
		var (
			buyer, supplier, contract string
			windows                   uint64
			ch                        float64
		)
		if err := scan(&buyer, &supplier, &contract, &windows, &ch); err != nil {
			return err
		}
		u := contractUsage(buyer, supplier, contract)
		u.Windows, u.CardHours = int(windows), ch
		return nil
	})
	if err != nil {
		return fail("usage", err)
	}
	err = db.scanRows(ctx, resaleOtherUseSQL, nil, func(scan func(...any) error) error {
		var (
			buyer, supplier, contract string
			windows                   uint64
			ch                        float64
		)
		if err := scan(&buyer, &supplier, &contract, &windows, &ch); err != nil {
			return err
		}
		u := contractUsage(buyer, supplier, contract)
		u.OtherWindows, u.OtherCardHours = int(windows), ch
		return nil
	})
	if err != nil {
		return fail("other organisations' use", err)
	}
	err = db.scanRows(ctx, resaleLoginsSQL, nil, func(scan func(...any) error) error {
		var buyer, supplier, contract, org string
		var windows uint64
		if err := scan(&buyer, &supplier, &contract, &org, &windows); err != nil {
			return err
		}
		if i, ok := usage[[3]string{buyer, supplier, contract}]; ok {
			f.Usage[i].Logins[org] = int(windows)
		}
		return nil
	})
	if err != nil {
		return fail("logins", err)
	}
	err = db.scanRows(ctx, resaleClaimsSQL, nil, func(scan func(...any) error) error {
		var applicant, contract string
		var ids []string
		if err := scan(&applicant, &contract, &ids); err != nil {
			return err
		}
		sort.Strings(ids)
		f.Claims[[2]string{applicant, contract}] = ids
		return nil
	})
	if err != nil {
		return fail("claims", err)
	}
	err = db.scanRows(ctx, resalePartiesSQL, nil, func(scan func(...any) error) error {
		var (
			uscc, name string
			registered uint8
			chips      []string
			cards      []uint32
		)
		if err := scan(&uscc, &name, &registered, &chips, &cards); err != nil {
			return err
		}
		p := voucherwatch.PartyCapacity{Name: name, RegisteredSupplier: registered == 1, ChipModels: chips}
		for _, c := range cards {
			p.Cards = append(p.Cards, int(c))
		}
		f.Parties[uscc] = p
		return nil
	})
	if err != nil {
		return fail("registry", err)
	}
	return f, nil
}
