package store

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"sort"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"
	"github.com/ClickHouse/clickhouse-go/v2/ext"
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
var resaleBoughtSQL = resaleBoughtOf("")

// resaleBoughtOf is resaleBoughtSQL with and, a condition that begins with AND, added.
func resaleBoughtOf(and string) string {
	return `SELECT supplier_uscc, buyer_uscc, contract_no, signed_on, service_start, service_end, chip, svc,
	sumIf(qty, unit = 'card_hour') AS ch, sumIf(qty, unit = 'card_month') AS cm,
	sumIf(qty, unit = 'token_million') AS tok, sum(amt) AS amount
FROM contracts_latest
` + resaleItemColumns + and + `
GROUP BY supplier_uscc, buyer_uscc, contract_no, signed_on, service_start, service_end, chip, svc`
}

// resaleSoldSQL sums what every seller that also buys sold under contract, per contract and
// kind.
var resaleSoldSQL = resaleSoldOf("")

// resaleSoldOf is resaleSoldSQL with and added.
func resaleSoldOf(and string) string {
	return `SELECT supplier_uscc, buyer_uscc, contract_no, signed_on, service_start, service_end, chip, svc,
	sumIf(qty, unit = 'card_hour') AS ch, sumIf(qty, unit = 'card_month') AS cm,
	sumIf(qty, unit = 'token_million') AS tok, sum(amt) AS amount
FROM contracts_latest
` + resaleItemColumns + `
	AND ` + resaleSellersSQL + and + `
GROUP BY supplier_uscc, buyer_uscc, contract_no, signed_on, service_start, service_end, chip, svc`
}

// resaleSettledSQL sums the invoices of the same sellers, each invoice once, in its latest
// version (the same order as latestSettlementsSQL: a later event, then source and id, so that
// two versions stamped alike pick the same one on every read).
var resaleSettledSQL = resaleSettledOf("")

// resaleSettledOf is resaleSettledSQL with and added to the choice of settlements.
func resaleSettledOf(and string) string {
	return `SELECT supplier_uscc, buyer_uscc, contract_no, min(period_start) AS ps, max(period_end) AS pe, chip, svc,
	sumIf(qty, unit = 'card_hour') AS ch, sumIf(qty, unit = 'card_month') AS cm,
	sumIf(qty, unit = 'token_million') AS tok, sum(amt) AS amount, uniqExact(invoice_code, invoice_no) AS invoices
FROM (
	SELECT * FROM settlements
	WHERE ` + resaleSellersSQL + and + `
	ORDER BY invoice_code, invoice_no, event_time DESC, source DESC, id DESC
	LIMIT 1 BY invoice_code, invoice_no
)
` + resaleItemColumns + `
GROUP BY supplier_uscc, buyer_uscc, contract_no, chip, svc`
}

// resaleUsageSQL sums every buyer's metered use per bought contract from the kept units
// (usage_units, refreshed first): each window once per usage_runs group, that is per
// (resource, buyer, contract, chip, cards) and window. Raw usage, which this read scanned
// whole on every full run before (100 M rows at 100 M), is not read. A window re-sent under
// another contract number counts for both contracts (each contract's own metering), where the
// scan of raw usage kept whichever copy it met first. Every buyer's, not only the sellers': a
// buyer whose sister company sells is no seller itself (see resaleClaimsSQL).
const resaleUsageSQL = `SELECT buyer_uscc, supplier_uscc, contract_no, sum(arraySum(unit_windows)) AS windows, sum(arraySum(unit_ch)) AS ch
FROM usage_units FINAL
GROUP BY buyer_uscc, supplier_uscc, contract_no`

// resaleOtherUseSQL sums, per bought contract, the windows in which another organisation
// logged in and their card-hours, each window once (usage_foreign_logins holds a row per
// window and organisation, and only those windows: every buyer in it is a candidate).
var resaleOtherUseSQL = resaleOtherUseOf("1")

// resaleOtherUseOf is resaleOtherUseSQL of the buyers where selects.
func resaleOtherUseOf(where string) string {
	return `SELECT buyer_uscc, supplier_uscc, contract_no, count() AS windows, sum(card_hours) AS ch
FROM (
	SELECT buyer_uscc, supplier_uscc, contract_no, resource_id, tenant, window_start, card_hours
	FROM usage_foreign_logins
	WHERE ` + where + `
	LIMIT 1 BY supplier_uscc, resource_id, tenant, window_start
)
GROUP BY buyer_uscc, supplier_uscc, contract_no`
}

// resaleLoginsSQL counts, per bought contract, the windows each other organisation logged in
// (usage_foreign_logins, migration 19: the usage records with such logins only).
var resaleLoginsSQL = resaleLoginsOf("1")

// resaleLoginsOf is resaleLoginsSQL of the buyers where selects.
func resaleLoginsOf(where string) string {
	return `SELECT buyer_uscc, supplier_uscc, contract_no, org, count() AS windows
FROM (
	SELECT buyer_uscc, supplier_uscc, contract_no, org
	FROM usage_foreign_logins
	WHERE ` + where + `
	LIMIT 1 BY supplier_uscc, resource_id, tenant, window_start, org
)
GROUP BY buyer_uscc, supplier_uscc, contract_no, org`
}

// resaleClaimsSQL lists the claims whose latest version cites each contract. Every
// applicant's: one that resells through a company under the same control sells nothing
// itself, so a list of sellers (resaleCandidatesSQL) left its claim and its metered use out of
// the alert (found by TestResaleCheckMatchesRun, whose keyed reads had them).
const resaleClaimsSQL = `SELECT applicant_uscc, cno, groupUniqArray(claim_id)
FROM (` + latestClaimsOnlySQL + `) ARRAY JOIN contract_no AS cno
GROUP BY applicant_uscc, cno`

// resaleScopedClaimsSQL is resaleClaimsSQL of the applicants in resale_scope: their claims
// through the applicant prefix of the claims' sorting key.
const resaleScopedClaimsSQL = `SELECT applicant_uscc, cno, groupUniqArray(claim_id)
FROM (SELECT claim_id, applicant_uscc, contract_no
	FROM claims
	WHERE applicant_uscc IN (SELECT uscc FROM resale_scope)
	ORDER BY claim_id, event_time DESC, source DESC, id DESC
	LIMIT 1 BY claim_id) ARRAY JOIN contract_no AS cno
GROUP BY applicant_uscc, cno`

// resalePartiesSQL reads the registry facts of the candidates, their customers and the
// organisations that logged in to them.
const resalePartiesSQL = `SELECT uscc, name, supplier_registered, capacity_chip_model, capacity_cards
FROM registry_latest
WHERE uscc IN (` + resaleCandidatesSQL + `)
	OR uscc IN (SELECT buyer_uscc FROM contracts)
	OR uscc IN (SELECT supplier_uscc FROM contracts)
	OR uscc IN (SELECT org FROM usage_foreign_logins)`

// resaleScopedPartiesSQL reads the registry facts of the enterprises in resale_scope, their
// counterparties and the organisations that logged in to them.
const resaleScopedPartiesSQL = `SELECT uscc, name, supplier_registered, capacity_chip_model, capacity_cards
FROM registry_latest
WHERE uscc IN (SELECT uscc FROM resale_scope)
	OR uscc IN (SELECT buyer_uscc FROM contracts WHERE supplier_uscc IN (SELECT uscc FROM resale_scope))
	OR uscc IN (SELECT supplier_uscc FROM contracts WHERE buyer_uscc IN (SELECT uscc FROM resale_scope))
	OR uscc IN (SELECT buyer_uscc FROM settlements WHERE supplier_uscc IN (SELECT uscc FROM resale_scope))
	OR uscc IN (SELECT org FROM usage_foreign_logins WHERE buyer_uscc IN (SELECT uscc FROM resale_scope))`

// purchaseUseSQL sums the metered use per contract of units (usageUnits of some purchases),
// as resaleUsageSQL sums the kept units.
func purchaseUseSQL(units string) string {
	return `SELECT buyer_uscc, supplier_uscc, contract_no, sum(windows), sum(ch)
FROM (` + units + `)
WHERE (buyer_uscc, supplier_uscc, contract_no) IN (SELECT k[1], k[2], k[3] FROM (SELECT arrayJoin(?) AS k))
GROUP BY buyer_uscc, supplier_uscc, contract_no`
}

// PurchaseUse returns the metered use of purchases, each a (buyer, supplier, contract_no), as
// ResaleFacts has it: the windows (each once per usage_runs group) and card-hours. It reads
// usage_runs by the purchases' suppliers, which lead its sorting key, exact without the kept
// units' refresh. Purchases with no use are left out.
func (db *DB) PurchaseUse(ctx context.Context, purchases [][3]string) ([]voucherwatch.ContractUsage, error) {
	if len(purchases) == 0 {
		return nil, nil
	}
	suppliers, buyers := map[string]bool{}, map[string]bool{}
	keys := make([][]string, len(purchases))
	for i, p := range purchases {
		buyers[p[0]], suppliers[p[1]] = true, true
		keys[i] = []string{p[0], p[1], p[2]}
	}
	ctx, units, args, err := db.usageUnits(ctx, "supplier_uscc IN (SELECT arrayJoin(?)) AND buyer_uscc IN (SELECT arrayJoin(?))",
		slices.Sorted(maps.Keys(suppliers)), slices.Sorted(maps.Keys(buyers)))
	if err != nil {
		return nil, fmt.Errorf("store: purchase use: %w", err)
	}
	var out []voucherwatch.ContractUsage
	err = db.scanRows(ctx, purchaseUseSQL(units), append(args, keys), func(scan func(...any) error) error {
		u := voucherwatch.ContractUsage{Logins: map[string]int{}}
		var windows uint64
		if err := scan(&u.BuyerUSCC, &u.SupplierUSCC, &u.ContractNo, &windows, &u.CardHours); err != nil {
			return err
		}
		u.Windows = int(windows)
		out = append(out, u)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("store: purchase use: %w", err)
	}
	return out, nil
}

// ResaleFacts reads what the resale detector weighs.
func (db *DB) ResaleFacts(ctx context.Context) (voucherwatch.ResaleFacts, error) {
	return db.resaleFacts(ctx, nil)
}

// ResaleFactsOf is ResaleFacts of the purchases of the enterprises given: their contracts as
// buyers, their sales and invoices as sellers, the other organisations' logins on what they
// bought, their claims and the registry facts of them and their counterparties, each read by
// the enterprise (the sorting keys of settlements, claims and usage_foreign_logins), not the
// whole history. The metered use of the purchases (Windows, CardHours) is not read: it is
// evidence only, read for the purchases alerted with PurchaseUse. The detector passes a control group's members together,
// since their sales count as each other's.
func (db *DB) ResaleFactsOf(ctx context.Context, enterprises []string) (voucherwatch.ResaleFacts, error) {
	if len(enterprises) == 0 {
		return voucherwatch.ResaleFacts{Claims: map[[2]string][]string{}, Parties: map[string]voucherwatch.PartyCapacity{}}, nil
	}
	return db.resaleFacts(ctx, enterprises)
}

// resaleFacts reads the facts of every enterprise (scope nil) or of those in scope.
func (db *DB) resaleFacts(ctx context.Context, scope []string) (voucherwatch.ResaleFacts, error) {
	scoped := scope != nil
	boughtSQL, soldSQL, settledSQL := resaleBoughtSQL, resaleSoldSQL, resaleSettledSQL
	otherSQL, loginsSQL, claimsSQL, partiesSQL := resaleOtherUseSQL, resaleLoginsSQL, resaleClaimsSQL, resalePartiesSQL
	if scoped {
		t, err := ext.NewTable("resale_scope", ext.Column("uscc", "String"))
		if err == nil {
			for _, e := range scope {
				if err = t.Block().Columns[0].AppendRow(e); err != nil {
					break
				}
			}
		}
		if err != nil {
			return voucherwatch.ResaleFacts{}, fmt.Errorf("store: resale facts: %w", err)
		}
		ctx = clickhouse.Context(ctx, clickhouse.WithExternalTable(t))
		const buyerIn, supplierIn = " AND buyer_uscc IN (SELECT uscc FROM resale_scope)", " AND supplier_uscc IN (SELECT uscc FROM resale_scope)"
		boughtSQL, soldSQL, settledSQL = resaleBoughtOf(buyerIn), resaleSoldOf(supplierIn), resaleSettledOf(supplierIn)
		otherSQL, loginsSQL = resaleOtherUseOf(buyerIn[5:]), resaleLoginsOf(buyerIn[5:])
		claimsSQL, partiesSQL = resaleScopedClaimsSQL, resaleScopedPartiesSQL
	}
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
	if f.Bought, err = lines(boughtSQL, false); err != nil {
		return fail("bought", err)
	}
	if f.Sold, err = lines(soldSQL, false); err != nil {
		return fail("sold", err)
	}
	if f.Settled, err = lines(settledSQL, true); err != nil {
		return fail("settled", err)
	}

	// The metered use of the purchases, every buyer's, from the kept units; a scoped read
	// leaves it to PurchaseUse, for the purchases that raise an alert (it is evidence only).
	usageSQL := resaleUsageSQL
	if scoped {
		usageSQL = ""
	} else if err := db.RefreshUsageUnits(ctx); err != nil {
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
	// use reads a query of (buyer, supplier, contract, windows, card-hours) into f.Usage.
	use := func(q string, set func(u *voucherwatch.ContractUsage, windows int, ch float64)) error {
		return db.scanRows(ctx, q, nil, func(scan func(...any) error) error {
			var (
				buyer, supplier, contract string
				windows                   uint64
				ch                        float64
			)
			if err := scan(&buyer, &supplier, &contract, &windows, &ch); err != nil {
				return err
			}
			set(contractUsage(buyer, supplier, contract), int(windows), ch)
			return nil
		})
	}
	if usageSQL != "" {
		if err := use(usageSQL, func(u *voucherwatch.ContractUsage, windows int, ch float64) { u.Windows, u.CardHours = windows, ch }); err != nil {
			return fail("usage", err)
		}
	}
	if err := use(otherSQL, func(u *voucherwatch.ContractUsage, windows int, ch float64) {
		u.OtherWindows, u.OtherCardHours = windows, ch
	}); err != nil {
		return fail("other organisations' use", err)
	}
	err = db.scanRows(ctx, loginsSQL, nil, func(scan func(...any) error) error {
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
	err = db.scanRows(ctx, claimsSQL, nil, func(scan func(...any) error) error {
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
	err = db.scanRows(ctx, partiesSQL, nil, func(scan func(...any) error) error {
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
