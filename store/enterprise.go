package store

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
	"github.com/shopspring/decimal"

	"github.com/voucherwatch/voucherwatch"
)

var _ voucherwatch.EnterpriseStore = (*DB)(nil)

// EnterpriseFile returns what the database holds about the enterprise with this USCC: its
// newest registry record, the contracts and settlements where it is buyer or supplier, its
// monthly usage on either side and the claims it filed, newest first and at most
// voucherwatch.MaxFileRows of each. It returns ENOTFOUND when none of these holds anything.
func (db *DB) EnterpriseFile(ctx context.Context, uscc string) (voucherwatch.EnterpriseFile, error) {
	return db.enterpriseFile(ctx, uscc, voucherwatch.MaxFileRows)
}

// enterpriseFile is EnterpriseFile with the cap on each list as a parameter, so tests can cut
// lists of a few rows.
func (db *DB) enterpriseFile(ctx context.Context, uscc string, maxRows int) (voucherwatch.EnterpriseFile, error) {
	f := voucherwatch.EnterpriseFile{USCC: uscc}
	if uscc == "" {
		return f, voucherwatch.Errorf(voucherwatch.ENOTFOUND, "store: enterprise file: no USCC given")
	}
	var err error
	if f.Entity, err = db.latestEntity(ctx, uscc); err != nil {
		return f, err
	}
	// Each list is read with one row more than the cap: its presence says the list was cut.
	cut := func(name string, n int) bool {
		if n > maxRows {
			f.Truncated = append(f.Truncated, name)
			return true
		}
		return false
	}
	if f.Contracts, err = db.fileContracts(ctx, uscc, maxRows+1); err != nil {
		return f, err
	}
	if cut("contracts", len(f.Contracts)) {
		f.Contracts = f.Contracts[:maxRows]
	}
	if f.Settlements, err = db.fileSettlements(ctx, uscc, maxRows+1); err != nil {
		return f, err
	}
	if cut("settlements", len(f.Settlements)) {
		f.Settlements = f.Settlements[:maxRows]
	}
	if f.Usage, err = db.fileUsage(ctx, uscc, maxRows+1); err != nil {
		return f, err
	}
	if cut("usage", len(f.Usage)) {
		f.Usage = f.Usage[:maxRows]
	}
	if f.Claims, err = db.fileClaims(ctx, uscc, maxRows+1); err != nil {
		return f, err
	}
	if cut("claims", len(f.Claims)) {
		f.Claims = f.Claims[:maxRows]
	}
	if f.Entity == nil && len(f.Contracts) == 0 && len(f.Settlements) == 0 && len(f.Usage) == 0 && len(f.Claims) == 0 {
		return f, voucherwatch.Errorf(voucherwatch.ENOTFOUND, "enterprise %s not found", uscc)
	}
	return f, nil
}

// registryColumns are read in the order scanEntity scans them.
const registryColumns = `uscc, name, city, registered_address, office_address, registered_on, is_sme,
	legal_rep_name, legal_rep_person_key, legal_rep_masked, legal_rep_phone, legal_rep_email,
	contact_name, contact_person_key, contact_masked, contact_phone, contact_email,
	holder_kind, holder_uscc, holder_person_key, holder_masked, holder_name, holder_pct,
	officer_role, officer_person_key, officer_name, officer_masked, officer_phone, officer_email,
	bank_name, bank_account_no, seriously_dishonest, major_violation_within_3y,
	is_supplier, supplier_registered, supplier_registered_on, idc_license,
	capacity_chip_model, capacity_chip_origin, capacity_cards, capacity_datacenter,
	name_key, legal_rep_phone_key, legal_rep_email_key, contact_phone_key, contact_email_key, holder_name_key,
	officer_phone_key, officer_email_key, bank_account_key`

// latestEntity reads the newest registry record of uscc, as registry_latest chooses it (the
// newest event_time, then the greatest source and id); nil when there is none. The query reads
// the table, whose sorting key starts with uscc, rather than the view, which sorts every
// entity before the filter applies.
func (db *DB) latestEntity(ctx context.Context, uscc string) (*voucherwatch.Entity, error) {
	rows, err := db.conn.Query(ctx, `SELECT `+registryColumns+` FROM registry WHERE uscc = ?
		ORDER BY event_time DESC, source DESC, id DESC LIMIT 1`, uscc)
	if err != nil {
		return nil, fmt.Errorf("store: enterprise file: query registry: %w", err)
	}
	defer rows.Close()
	if !rows.Next() {
		if err := rows.Err(); err != nil {
			return nil, fmt.Errorf("store: enterprise file: query registry: %w", err)
		}
		return nil, nil
	}
	e, err := scanEntity(rows)
	if err != nil {
		return nil, fmt.Errorf("store: enterprise file: scan registry: %w", err)
	}
	return e, rows.Err()
}

// scanEntity rebuilds an Entity from its row. What the table does not keep stays empty:
// Person.IDType (the type is folded into Key), and of a person holder everything but the
// holder's name, Key and Masked. extra receives the columns after the entity's.
func scanEntity(rows driver.Rows, extra ...any) (*voucherwatch.Entity, error) {
	var (
		e                                                 voucherwatch.Entity
		registeredOn, supplierOn                          time.Time
		isSME, dishonest, violation, isSupplier, reg, idc uint8
		legal                                             voucherwatch.Person
		cName, cKey, cMasked, cPhone, cEmail              []string
		hKind, hUSCC, hKey, hMasked, hName                []string
		hPct                                              []float64
		oRole, oKey, oName, oMasked, oPhone, oEmail       []string
		bank, accountNo                                   []string
		capModel, capOrigin, capDatacenter                []string
		capCards                                          []uint32
		cPhoneKey, cEmailKey, hNameKey                    []string
		oPhoneKey, oEmailKey, accountKey                  []string
	)
	dest := []any{&e.USCC, &e.Name, &e.City, &e.RegisteredAddress, &e.OfficeAddress, &registeredOn, &isSME,
		&legal.Name, &legal.Key, &legal.Masked, &legal.Phone, &legal.Email,
		&cName, &cKey, &cMasked, &cPhone, &cEmail,
		&hKind, &hUSCC, &hKey, &hMasked, &hName, &hPct,
		&oRole, &oKey, &oName, &oMasked, &oPhone, &oEmail,
		&bank, &accountNo, &dishonest, &violation,
		&isSupplier, &reg, &supplierOn, &idc,
		&capModel, &capOrigin, &capCards, &capDatacenter,
		&e.NameKey, &legal.PhoneKey, &legal.EmailKey, &cPhoneKey, &cEmailKey, &hNameKey,
		&oPhoneKey, &oEmailKey, &accountKey}
	if err := rows.Scan(append(dest, extra...)...); err != nil {
		return nil, err
	}
	e.RegisteredOn, e.IsSME = dateOf(registeredOn), isSME == 1
	if legal != (voucherwatch.Person{}) {
		e.LegalRep = &legal
	}
	for i := range cName {
		e.Contacts = append(e.Contacts, voucherwatch.Person{Name: cName[i], Key: at(cKey, i), Masked: at(cMasked, i), Phone: at(cPhone, i), Email: at(cEmail, i),
			PhoneKey: at(cPhoneKey, i), EmailKey: at(cEmailKey, i)})
	}
	for i := range hKind {
		h := voucherwatch.Holder{Kind: hKind[i], USCC: at(hUSCC, i), Name: at(hName, i), SharePct: at(hPct, i), NameKey: at(hNameKey, i)}
		if h.Kind == "person" {
			h.Person = &voucherwatch.Person{Name: h.Name, Key: at(hKey, i), Masked: at(hMasked, i)}
		}
		e.Shareholders = append(e.Shareholders, h)
	}
	for i := range oRole {
		e.Officers = append(e.Officers, voucherwatch.Officer{Role: oRole[i], Person: voucherwatch.Person{
			Name: at(oName, i), Key: at(oKey, i), Masked: at(oMasked, i), Phone: at(oPhone, i), Email: at(oEmail, i),
			PhoneKey: at(oPhoneKey, i), EmailKey: at(oEmailKey, i)}})
	}
	for i := range bank {
		e.BankAccounts = append(e.BankAccounts, voucherwatch.BankAccount{Bank: bank[i], AccountNo: at(accountNo, i), AccountKey: at(accountKey, i)})
	}
	e.Credit = voucherwatch.Credit{SeriouslyDishonest: dishonest == 1, MajorViolationWithin3Y: violation == 1}
	if isSupplier == 1 {
		s := &voucherwatch.SupplierProfile{Registered: reg == 1, RegisteredOn: dateOf(supplierOn), IDCLicense: idc == 1}
		for i := range capModel {
			s.Capacity = append(s.Capacity, voucherwatch.Capacity{ChipModel: capModel[i], ChipOrigin: at(capOrigin, i),
				Cards: int(at(capCards, i)), Datacenter: at(capDatacenter, i)})
		}
		e.Supplier = s
	}
	return &e, nil
}

// at is element i of one of a nested list's parallel arrays, the zero value should the arrays
// of a row differ in length (the writer never writes such a row).
func at[V any](s []V, i int) V {
	if i < len(s) {
		return s[i]
	}
	var zero V
	return zero
}

// dateOf turns a Date as the driver returns it into midnight CST of that day, as the decoder
// builds dates; ClickHouse's zero date, which stands for a missing one, becomes the zero time.
func dateOf(d time.Time) time.Time {
	if d.IsZero() || d.Unix() == 0 {
		return time.Time{}
	}
	return time.Date(d.Year(), d.Month(), d.Day(), 0, 0, 0, 0, voucherwatch.CST)
}

// fen converts a Decimal(18, 2) amount of yuan to Money.
func fen(d decimal.Decimal) voucherwatch.Money {
	return voucherwatch.Money(d.Shift(2).Round(0).IntPart())
}

// itemColumns are the parallel item arrays of contracts and settlements, in the order
// scanItems takes them.
const itemColumns = `item_service_type, item_chip_model, item_chip_origin, item_cards, item_unit_price,
	item_unit, item_quantity, item_amount`

// itemArrays receives the item columns of one row.
type itemArrays struct {
	service, model, origin []string
	cards                  []uint32
	price                  []decimal.Decimal
	unit                   []string
	quantity               []float64
	amount                 []decimal.Decimal
}

func (a *itemArrays) dest() []any {
	return []any{&a.service, &a.model, &a.origin, &a.cards, &a.price, &a.unit, &a.quantity, &a.amount}
}

func (a *itemArrays) items() []voucherwatch.Item {
	var items []voucherwatch.Item
	for i := range a.service {
		items = append(items, voucherwatch.Item{ServiceType: a.service[i], ChipModel: at(a.model, i), ChipOrigin: at(a.origin, i),
			Cards: int(at(a.cards, i)), UnitPrice: fen(at(a.price, i)), Unit: at(a.unit, i), Quantity: at(a.quantity, i),
			Amount: fen(at(a.amount, i))})
	}
	return items
}

// fileContractsSQL reads the latest version of every contract the enterprise is a party to.
// The versions are chosen among all versions of the contracts that ever named it, and the
// enterprise is checked again on the version chosen, so that a contract amended to another
// buyer leaves the file.
const fileContractsSQL = `SELECT contract_no, name, supplier_uscc, buyer_uscc, signed_on, service_start, service_end,
	amount, ` + itemColumns + `, datacenter, via_platform, filed_on, domains, purposes
FROM (
	SELECT contract_no, name, supplier_uscc, buyer_uscc, signed_on, service_start, service_end,
		amount, ` + itemColumns + `, datacenter, via_platform, filed_on, domains, purposes, event_time
	FROM contracts
	WHERE (supplier_uscc, contract_no) IN (
		SELECT supplier_uscc, contract_no FROM contracts WHERE supplier_uscc = ? OR buyer_uscc = ?)
	ORDER BY supplier_uscc, contract_no, event_time DESC, source DESC, id DESC
	LIMIT 1 BY supplier_uscc, contract_no
)
WHERE supplier_uscc = ? OR buyer_uscc = ?
ORDER BY signed_on DESC, event_time DESC, supplier_uscc, contract_no
LIMIT %d`

func (db *DB) fileContracts(ctx context.Context, uscc string, limit int) ([]voucherwatch.Contract, error) {
	rows, err := db.conn.Query(ctx, fmt.Sprintf(fileContractsSQL, limit), uscc, uscc, uscc, uscc)
	if err != nil {
		return nil, fmt.Errorf("store: enterprise file: query contracts: %w", err)
	}
	defer rows.Close()
	var out []voucherwatch.Contract
	for rows.Next() {
		var (
			c                  voucherwatch.Contract
			signed, start, end time.Time
			amount             decimal.Decimal
			items              itemArrays
			viaPlatform        uint8
			filed              *time.Time
		)
		dest := append([]any{&c.ContractNo, &c.Name, &c.SupplierUSCC, &c.BuyerUSCC, &signed, &start, &end, &amount}, items.dest()...)
		dest = append(dest, &c.Datacenter, &viaPlatform, &filed, &c.Domains, &c.Purposes)
		if err := rows.Scan(dest...); err != nil {
			return nil, fmt.Errorf("store: enterprise file: scan contract: %w", err)
		}
		c.SignedOn, c.ServiceStart, c.ServiceEnd = dateOf(signed), dateOf(start), dateOf(end)
		c.Amount, c.Items, c.ViaPlatform = fen(amount), items.items(), viaPlatform == 1
		if filed != nil {
			c.FiledOn = dateOf(*filed)
		}
		c.Domains, c.Purposes = nilIfEmpty(c.Domains), nilIfEmpty(c.Purposes)
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: enterprise file: query contracts: %w", err)
	}
	return out, nil
}

// fileSettlementsSQL reads the settlements where the enterprise is buyer or supplier, the
// latest version of each settlement id of a supplier: copies of a record, and a settlement
// re-sent under a new envelope id, appear once.
const fileSettlementsSQL = `SELECT settlement_id, contract_no, supplier_uscc, buyer_uscc, invoice_code, invoice_no,
	invoice_date, amount, tax, payment_ref, paid_on, payer_account, payee_account, period_start, period_end,
	` + itemColumns + `
FROM (
	SELECT settlement_id, contract_no, supplier_uscc, buyer_uscc, invoice_code, invoice_no,
		invoice_date, amount, tax, payment_ref, paid_on, payer_account, payee_account, period_start, period_end,
		` + itemColumns + `, event_time
	FROM settlements
	WHERE supplier_uscc = ? OR buyer_uscc = ?
	ORDER BY supplier_uscc, settlement_id, event_time DESC, source DESC, id DESC
	LIMIT 1 BY supplier_uscc, settlement_id
)
ORDER BY invoice_date DESC, event_time DESC, supplier_uscc, settlement_id
LIMIT %d`

func (db *DB) fileSettlements(ctx context.Context, uscc string, limit int) ([]voucherwatch.Settlement, error) {
	rows, err := db.conn.Query(ctx, fmt.Sprintf(fileSettlementsSQL, limit), uscc, uscc)
	if err != nil {
		return nil, fmt.Errorf("store: enterprise file: query settlements: %w", err)
	}
	defer rows.Close()
	var out []voucherwatch.Settlement
	for rows.Next() {
		var (
			s                                      voucherwatch.Settlement
			invoiced, paid, periodStart, periodEnd time.Time
			amount, tax                            decimal.Decimal
			items                                  itemArrays
		)
		dest := append([]any{&s.SettlementID, &s.ContractNo, &s.SupplierUSCC, &s.BuyerUSCC, &s.InvoiceCode, &s.InvoiceNo,
			&invoiced, &amount, &tax, &s.PaymentRef, &paid, &s.PayerAccount, &s.PayeeAccount, &periodStart, &periodEnd},
			items.dest()...)
		if err := rows.Scan(dest...); err != nil {
			return nil, fmt.Errorf("store: enterprise file: scan settlement: %w", err)
		}
		s.InvoiceDate, s.PaidOn, s.PeriodStart, s.PeriodEnd = dateOf(invoiced), dateOf(paid), dateOf(periodStart), dateOf(periodEnd)
		s.Amount, s.Tax, s.Items = fen(amount), fen(tax), items.items()
		out = append(out, s)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: enterprise file: query settlements: %w", err)
	}
	return out, nil
}

// fileClaimsSQL reads the enterprise's claims, the latest version of each claim id, as the
// detectors read them.
const fileClaimsSQL = `SELECT claim_id, applicant_uscc, round, submitted_on, city, via_platform, contract_no,
	invoice_code, invoice_no, invoice_amount, usage_amount, requested, chip_origin, bank_account
FROM (
	SELECT claim_id, applicant_uscc, round, submitted_on, city, via_platform, contract_no,
		invoice_code, invoice_no, invoice_amount, usage_amount, requested, chip_origin, bank_account, event_time
	FROM claims
	WHERE applicant_uscc = ?
	ORDER BY claim_id, event_time DESC, source DESC, id DESC
	LIMIT 1 BY claim_id
)
ORDER BY submitted_on DESC, event_time DESC, claim_id DESC
LIMIT %d`

func (db *DB) fileClaims(ctx context.Context, uscc string, limit int) ([]voucherwatch.Claim, error) {
	rows, err := db.conn.Query(ctx, fmt.Sprintf(fileClaimsSQL, limit), uscc)
	if err != nil {
		return nil, fmt.Errorf("store: enterprise file: query claims: %w", err)
	}
	defer rows.Close()
	var out []voucherwatch.Claim
	for rows.Next() {
		var (
			c                      voucherwatch.Claim
			round                  uint16
			submitted              time.Time
			viaPlatform            uint8
			codes, numbers         []string
			amounts                []decimal.Decimal
			usageAmount, requested decimal.Decimal
		)
		if err := rows.Scan(&c.ClaimID, &c.ApplicantUSCC, &round, &submitted, &c.City, &viaPlatform, &c.Contracts,
			&codes, &numbers, &amounts, &usageAmount, &requested, &c.ChipOrigin, &c.BankAccount); err != nil {
			return nil, fmt.Errorf("store: enterprise file: scan claim: %w", err)
		}
		c.Round, c.SubmittedOn, c.ViaPlatform = int(round), dateOf(submitted), viaPlatform == 1
		c.UsageAmount, c.Requested = fen(usageAmount), fen(requested)
		c.Contracts = nilIfEmpty(c.Contracts)
		for i := range numbers {
			c.Invoices = append(c.Invoices, voucherwatch.ClaimInvoice{InvoiceCode: at(codes, i), InvoiceNo: numbers[i], Amount: fen(at(amounts, i))})
		}
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: enterprise file: query claims: %w", err)
	}
	return out, nil
}

// fileUsageSQL sums the daily usage aggregate (migration 7) by month. usage_days (migration 16) spreads
// each window's card-hours over the days it covers, so a window across a month's end counts in
// both months in proportion; windows counts each window in the month it starts. Rows of one
// key not merged yet are summed here like merged ones.
var fileUsageSQL = `SELECT toStartOfMonth(day) AS month, supplier_uscc, buyer_uscc, chip_model, chip_origin,
	sum(day_card_hours) AS month_card_hours, sum(util_card_hours) AS month_util_card_hours, sum(windows) AS month_windows
FROM (` + usageDaysSQL("supplier_uscc = ? OR buyer_uscc = ?", "supplier_uscc = ? OR buyer_uscc = ?") + `)
GROUP BY month, supplier_uscc, buyer_uscc, chip_model, chip_origin
ORDER BY month DESC, month_card_hours DESC, supplier_uscc, buyer_uscc, chip_model, chip_origin
LIMIT %d`

func (db *DB) fileUsage(ctx context.Context, uscc string, limit int) ([]voucherwatch.UsageMonth, error) {
	rows, err := db.conn.Query(ctx, fmt.Sprintf(fileUsageSQL, limit), usageDaysArgs([]any{uscc, uscc}, []any{uscc, uscc})...)
	if err != nil {
		return nil, fmt.Errorf("store: enterprise file: query usage: %w", err)
	}
	defer rows.Close()
	var out []voucherwatch.UsageMonth
	for rows.Next() {
		var (
			u       voucherwatch.UsageMonth
			month   time.Time
			util    float64
			windows uint64
		)
		if err := rows.Scan(&month, &u.SupplierUSCC, &u.BuyerUSCC, &u.ChipModel, &u.ChipOrigin, &u.CardHours, &util, &windows); err != nil {
			return nil, fmt.Errorf("store: enterprise file: scan usage: %w", err)
		}
		u.Month, u.Windows = dateOf(month), int(windows)
		if u.CardHours > 0 {
			u.UtilAvg = util / u.CardHours
		}
		out = append(out, u)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: enterprise file: query usage: %w", err)
	}
	return out, nil
}

// nilIfEmpty makes an empty Array read back as the nil slice a record without the list has.
func nilIfEmpty(s []string) []string {
	if len(s) == 0 {
		return nil
	}
	return s
}

var _ voucherwatch.EnterpriseNamer = (*DB)(nil)

// EnterpriseNames returns the name in the newest registry record of each USCC that has one.
func (db *DB) EnterpriseNames(ctx context.Context, usccs []string) (map[string]string, error) {
	names := make(map[string]string, len(usccs))
	if len(usccs) == 0 {
		return names, nil
	}
	// The filter comes before LIMIT 1 BY so that only the asked enterprises are sorted;
	// registry's sorting key starts with uscc.
	rows, err := db.conn.Query(ctx, `SELECT uscc, name FROM registry
WHERE has(?, uscc)
ORDER BY uscc, event_time DESC, source DESC, id DESC
LIMIT 1 BY uscc`, usccs)
	if err != nil {
		return nil, fmt.Errorf("store: enterprise names: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var uscc, name string
		if err := rows.Scan(&uscc, &name); err != nil {
			return nil, fmt.Errorf("store: enterprise names: %w", err)
		}
		if name != "" {
			names[uscc] = name
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: enterprise names: %w", err)
	}
	return names, nil
}

var _ voucherwatch.EnterpriseSearcher = (*DB)(nil)

// SearchEnterprises finds enterprises in the newest registry record of each: by a part of the
// name or the beginning of the USCC. The registry is small (one row per enterprise and
// version), so the search scans it.
func (db *DB) SearchEnterprises(ctx context.Context, q, city string) ([]voucherwatch.EnterpriseHit, bool, error) {
	q = strings.TrimSpace(q)
	if q == "" {
		return nil, false, nil
	}
	rows, err := db.conn.Query(ctx, `SELECT uscc, name, city FROM registry_latest
WHERE (position(name, ?) > 0 OR startsWith(uscc, ?)) AND (? = '' OR city = ?)
ORDER BY name, uscc
LIMIT ?`, q, strings.ToUpper(q), city, city, voucherwatch.MaxEnterpriseHits+1)
	if err != nil {
		return nil, false, fmt.Errorf("store: search enterprises: %w", err)
	}
	defer rows.Close()
	var hits []voucherwatch.EnterpriseHit
	for rows.Next() {
		var h voucherwatch.EnterpriseHit
		if err := rows.Scan(&h.USCC, &h.Name, &h.City); err != nil {
			return nil, false, fmt.Errorf("store: search enterprises: %w", err)
		}
		hits = append(hits, h)
	}
	if err := rows.Err(); err != nil {
		return nil, false, fmt.Errorf("store: search enterprises: %w", err)
	}
	if len(hits) > voucherwatch.MaxEnterpriseHits {
		return hits[:voucherwatch.MaxEnterpriseHits], true, nil
	}
	return hits, false, nil
}
