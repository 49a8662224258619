package store

import (
	"bytes"
	"context"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cespare/xxhash/v2"
	"github.com/shopspring/decimal"

	"github.com/voucherwatch/voucherwatch"
	"github.com/voucherwatch/voucherwatch/store/storetest"
)

func store(t *testing.T, db *DB, typ voucherwatch.RecordType, recs ...voucherwatch.Record) voucherwatch.WriteResult {
	t.Helper()
	res, err := db.StoreRecords(testContext(t), typ, recs)
	if err != nil {
		t.Fatalf("StoreRecords(%s): %v", typ, err)
	}
	res.Stages = voucherwatch.WriteStages{} // times, which the tests compare no result by
	return res
}

// queryRow scans the one row of q into dest.
func queryRow(t *testing.T, db *DB, q string, dest ...any) {
	t.Helper()
	if err := db.conn.QueryRow(testContext(t), q).Scan(dest...); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
}

func check(t *testing.T, what string, got, want any) {
	t.Helper()
	if !reflect.DeepEqual(got, want) {
		t.Errorf("%s: got %v, want %v", what, got, want)
	}
}

func money(s string) decimal.Decimal { return decimal.RequireFromString(s) }

func moneys(ss ...string) []decimal.Decimal {
	var ds []decimal.Decimal
	for _, s := range ss {
		ds = append(ds, money(s))
	}
	return ds
}

// checkMoney compares decimals by value: the driver may return another exponent.
func checkMoney(t *testing.T, what string, got, want []decimal.Decimal) {
	t.Helper()
	if len(got) != len(want) {
		t.Errorf("%s: got %v, want %v", what, got, want)
		return
	}
	for i := range got {
		if !got[i].Equal(want[i]) || got[i].StringFixed(2) != want[i].StringFixed(2) {
			t.Errorf("%s: got %v, want %v", what, got, want)
			return
		}
	}
}

func TestStoreUsageRoundTrip(t *testing.T) {
	db := newTestDB(t)
	rec := meteredCardHour(42)
	check(t, "result", store(t, db, voucherwatch.TypeUsage, rec), voucherwatch.WriteResult{Stored: 1})

	var (
		source, id, supplier, resource, chip string
		hash, offset                         uint64
		partition, cards                     uint32
		eventTime, start, end                time.Time
		cardHours                            float64
		orgs                                 []string
	)
	queryRow(t, db, `SELECT source, id, rec_hash, kafka_partition, kafka_offset, event_time,
		supplier_uscc, resource_id, chip_model, cards, window_start, window_end, card_hours, login_orgs FROM usage`,
		&source, &id, &hash, &partition, &offset, &eventTime, &supplier, &resource, &chip, &cards, &start, &end, &cardHours, &orgs)
	u := rec.Usage
	check(t, "source, id", []string{source, id}, []string{rec.Source, rec.ID})
	check(t, "rec_hash", hash, RecordHash(rec.Source, rec.ID))
	check(t, "kafka partition, offset", []uint64{uint64(partition), offset}, []uint64{2, 42})
	check(t, "event_time", eventTime.Unix(), rec.Time.Unix())
	check(t, "supplier, resource, chip", []string{supplier, resource, chip}, []string{u.SupplierUSCC, u.ResourceID, u.ChipModel})
	check(t, "cards", cards, uint32(8))
	check(t, "window", []int64{start.Unix(), end.Unix()}, []int64{u.WindowStart.Unix(), u.WindowEnd.Unix()})
	check(t, "card_hours", cardHours, 7.5)
	check(t, "login_orgs", orgs, u.LoginOrgs)

	var tbl string
	queryRow(t, db, "SELECT tbl, rec_hash, source, id FROM record_keys", &tbl, &hash, &source, &id)
	check(t, "record_keys", []any{tbl, hash, source, id}, []any{"usage", RecordHash(rec.Source, rec.ID), rec.Source, rec.ID})
}

func TestStoreContractRoundTrip(t *testing.T) {
	db := newTestDB(t)
	check(t, "result", store(t, db, voucherwatch.TypeContract, unfiledDirectPurchase(), filedContract()), voucherwatch.WriteResult{Stored: 2})

	var (
		no                string
		amount            decimal.Decimal
		signed, start     time.Time
		filed             *time.Time
		types, units      []string
		cards             []uint32
		prices, amounts   []decimal.Decimal
		quantities        []float64
		viaPlatform       uint8
		domains, purposes []string
	)
	queryRow(t, db, `SELECT contract_no, amount, signed_on, service_start, filed_on, item_service_type, item_unit,
		item_cards, item_unit_price, item_amount, item_quantity, via_platform, domains, purposes
		FROM contracts WHERE id = 'contract-1'`,
		&no, &amount, &signed, &start, &filed, &types, &units, &cards, &prices, &amounts, &quantities, &viaPlatform, &domains, &purposes)
	check(t, "contract_no", no, "HT-2026-001")
	checkMoney(t, "amount", []decimal.Decimal{amount}, moneys("128000.01"))
	check(t, "signed_on", signed.Format(time.DateOnly), "2026-01-05")
	check(t, "service_start", start.Format(time.DateOnly), "2026-01-10")
	check(t, "filed_on of an unfiled contract", filed, (*time.Time)(nil))
	check(t, "item_service_type", types, []string{"compute_resource", "bandwidth"})
	check(t, "item_unit", units, []string{"card_hour", ""})
	check(t, "item_cards", cards, []uint32{8, 0})
	checkMoney(t, "item_unit_price", prices, moneys("12.99", "0"))
	checkMoney(t, "item_amount", amounts, moneys("116916.50", "11083.51"))
	check(t, "item_quantity", quantities, []float64{9000.5, 0})
	check(t, "via_platform", viaPlatform, uint8(0))
	check(t, "domains", domains, []string{"智能制造"})
	check(t, "purposes", purposes, []string{})

	queryRow(t, db, "SELECT filed_on FROM contracts WHERE id = 'contract-2'", &filed)
	if filed == nil || filed.Format(time.DateOnly) != "2026-01-20" {
		t.Errorf("filed_on: got %v, want 2026-01-20", filed)
	}

	// The parallel arrays unfold together.
	var n uint64
	var total decimal.Decimal
	queryRow(t, db, `SELECT count(), sum(item_amount) FROM contracts
		ARRAY JOIN item_service_type, item_amount WHERE item_service_type = 'compute_resource'`, &n, &total)
	check(t, "compute_resource items", n, uint64(2))
	checkMoney(t, "their amount", []decimal.Decimal{total}, moneys("233833.00"))
}

func TestStoreSettlementRoundTrip(t *testing.T) {
	db := newTestDB(t)
	rec := fullyDigitalInvoice()
	store(t, db, voucherwatch.TypeSettlement, rec)

	var (
		code, no, payer  string
		amount, tax      decimal.Decimal
		invoiced, paidOn time.Time
		prices           []decimal.Decimal
		quantities       []float64
	)
	queryRow(t, db, `SELECT invoice_code, invoice_no, payer_account, amount, tax, invoice_date, paid_on, item_unit_price, item_quantity FROM settlements`,
		&code, &no, &payer, &amount, &tax, &invoiced, &paidOn, &prices, &quantities)
	check(t, "invoice", []string{code, no}, []string{"", "26432000000012345678"})
	check(t, "payer_account", payer, "6222000011112222")
	checkMoney(t, "amount, tax", []decimal.Decimal{amount, tax}, moneys("5000.00", "300.00"))
	check(t, "dates", []string{invoiced.Format(time.DateOnly), paidOn.Format(time.DateOnly)}, []string{"2026-02-01", "2026-02-03"})
	checkMoney(t, "item_unit_price", prices, moneys("12.50"))
	check(t, "item_quantity", quantities, []float64{400})
}

func TestStoreClaimRoundTrip(t *testing.T) {
	db := newTestDB(t)
	store(t, db, voucherwatch.TypeClaim, claimWithTwoInvoices())

	var (
		round                  uint16
		submitted              time.Time
		contracts, codes, nos  []string
		amounts                []decimal.Decimal
		usageAmount, requested decimal.Decimal
	)
	queryRow(t, db, `SELECT round, submitted_on, contract_no, invoice_code, invoice_no, invoice_amount, usage_amount, requested FROM claims`,
		&round, &submitted, &contracts, &codes, &nos, &amounts, &usageAmount, &requested)
	check(t, "round", round, uint16(2026))
	check(t, "submitted_on", submitted.Format(time.DateOnly), "2026-04-01")
	check(t, "contract_no", contracts, []string{"HT-2026-001"})
	check(t, "invoice_code", codes, []string{"", "043002100111"})
	check(t, "invoice_no", nos, []string{"26432000000012345678", "00012345"})
	checkMoney(t, "invoice_amount", amounts, moneys("5000.00", "0.99"))
	checkMoney(t, "usage_amount, requested", []decimal.Decimal{usageAmount, requested}, moneys("5000.99", "1500.29"))
}

func TestStoreRegistryRoundTrip(t *testing.T) {
	db := newTestDB(t)
	store(t, db, voucherwatch.TypeRegistry, supplierOwnedByBuyerOfficer(), buyerWithoutPeople())

	var (
		legalKey, legalMasked                  string
		holderKinds, holderUSCCs, holderKeys   []string
		holderPct                              []float64
		officerRoles, officerKeys, officerName []string
		contactPhones, accounts                []string
		dishonest, violation, isSupplier, idc  uint8
		supplierOn                             time.Time
		capModels                              []string
		capCards                               []uint32
	)
	queryRow(t, db, `SELECT legal_rep_person_key, legal_rep_masked, holder_kind, holder_uscc, holder_person_key, holder_pct,
		officer_role, officer_person_key, officer_name, contact_phone, bank_account_no,
		seriously_dishonest, major_violation_within_3y, is_supplier, idc_license, supplier_registered_on,
		capacity_chip_model, capacity_cards
		FROM registry WHERE uscc = '`+supplierUSCC+`'`,
		&legalKey, &legalMasked, &holderKinds, &holderUSCCs, &holderKeys, &holderPct,
		&officerRoles, &officerKeys, &officerName, &contactPhones, &accounts,
		&dishonest, &violation, &isSupplier, &idc, &supplierOn, &capModels, &capCards)
	check(t, "legal rep", []string{legalKey, legalMasked}, []string{"pk-zhangsan", "430***********1234"})
	check(t, "holder_kind", holderKinds, []string{"enterprise", "person"})
	check(t, "holder_uscc", holderUSCCs, []string{buyerUSCC, ""})
	check(t, "holder_person_key", holderKeys, []string{"", "pk-zhangsan"})
	check(t, "holder_pct", holderPct, []float64{60, 40})
	check(t, "officer_role", officerRoles, []string{"director", "supervisor"})
	check(t, "officer_person_key", officerKeys, []string{"pk-zhangsan", ""})
	check(t, "officer_name", officerName, []string{"张三", "王五"})
	check(t, "contact_phone", contactPhones, []string{"13900000000"})
	check(t, "bank_account_no", accounts, []string{"6222000033334444"})
	check(t, "credit", []uint8{dishonest, violation}, []uint8{0, 1})
	check(t, "supplier", []uint8{isSupplier, idc}, []uint8{1, 1})
	check(t, "supplier_registered_on", supplierOn.Format(time.DateOnly), "2025-09-01")
	check(t, "capacity", []any{capModels, capCards}, []any{[]string{"Ascend 910B"}, []uint32{512}})

	queryRow(t, db, `SELECT legal_rep_person_key, holder_kind, is_supplier, registered_on FROM registry WHERE uscc = '`+buyerUSCC+`'`,
		&legalKey, &holderKinds, &isSupplier, &supplierOn)
	check(t, "buyer without people", []any{legalKey, holderKinds, isSupplier, supplierOn.Unix()}, []any{"", []string{}, uint8(0), int64(0)})
}

// TestLatestViews stores two versions of an entity and of a contract; the newer event_time
// wins, whatever the order of arrival.
func TestLatestViews(t *testing.T) {
	db := newTestDB(t)
	newer := supplierOwnedByBuyerOfficer()
	newer.ID = "entity-1-v2"
	newer.Time = newer.Time.Add(time.Hour)
	e := *newer.Entity
	e.Name = "湖南算力科技股份有限公司"
	newer.Entity = &e
	store(t, db, voucherwatch.TypeRegistry, newer)
	store(t, db, voucherwatch.TypeRegistry, supplierOwnedByBuyerOfficer())

	var name, id string
	queryRow(t, db, "SELECT name, id FROM registry_latest WHERE uscc = '"+supplierUSCC+"'", &name, &id)
	check(t, "latest entity", []string{name, id}, []string{"湖南算力科技股份有限公司", "entity-1-v2"})

	amended := unfiledDirectPurchase()
	amended.ID = "contract-1-v2"
	amended.Time = amended.Time.Add(time.Hour)
	c := *amended.Contract
	c.FiledOn = date(2026, 1, 30)
	amended.Contract = &c
	store(t, db, voucherwatch.TypeContract, amended, unfiledDirectPurchase())
	var filed *time.Time
	queryRow(t, db, "SELECT id, filed_on FROM contracts_latest WHERE contract_no = 'HT-2026-001'", &id, &filed)
	if id != "contract-1-v2" || filed == nil {
		t.Errorf("latest contract: got %s filed %v, want contract-1-v2 filed 2026-01-30", id, filed)
	}
}

func TestStoreRecordsTwice(t *testing.T) {
	db := newTestDB(t)
	recs := meteredCardHours(0, 100)
	check(t, "first write", store(t, db, voucherwatch.TypeUsage, recs...), voucherwatch.WriteResult{Stored: 100})
	check(t, "second write", store(t, db, voucherwatch.TypeUsage, recs...), voucherwatch.WriteResult{Duplicates: 100})
	// Half old, half new.
	check(t, "overlapping write", store(t, db, voucherwatch.TypeUsage, meteredCardHours(50, 150)...), voucherwatch.WriteResult{Stored: 50, Duplicates: 50})
	var rows uint64
	queryRow(t, db, "SELECT count() FROM usage", &rows)
	check(t, "rows", rows, uint64(150))
}

func TestStoreRecordsDuplicateWithinBatch(t *testing.T) {
	db := newTestDB(t)
	redelivered := meteredCardHour(1)
	redelivered.Origin.Offset = 9999 // the same record, read again further on
	recs := []voucherwatch.Record{meteredCardHour(1), meteredCardHour(2), redelivered, meteredCardHour(1)}
	check(t, "result", store(t, db, voucherwatch.TypeUsage, recs...), voucherwatch.WriteResult{Stored: 2, Duplicates: 2})
	var offset uint64
	queryRow(t, db, "SELECT kafka_offset FROM usage WHERE id = 'usage-00000001'", &offset)
	check(t, "stored copy's offset", offset, uint64(1))
}

// TestStoreRecordsSameIDOtherSource: the id alone does not identify a record.
func TestStoreRecordsSameIDOtherSource(t *testing.T) {
	db := newTestDB(t)
	other := meteredCardHour(1)
	other.Source = "platform:other"
	check(t, "result", store(t, db, voucherwatch.TypeUsage, meteredCardHour(1), other), voucherwatch.WriteResult{Stored: 2})
	// Nor does the table: a claim may share source and id with a usage record.
	c := claimWithTwoInvoices()
	c.Source, c.ID = other.Source, other.ID
	check(t, "claim", store(t, db, voucherwatch.TypeClaim, c), voucherwatch.WriteResult{Stored: 1})
}

// TestStoreRecordsChunkedLookup looks keys up a few at a time, as a very large batch does.
func TestStoreRecordsChunkedLookup(t *testing.T) {
	db := newTestDB(t)
	db.lookupChunk = 7
	store(t, db, voucherwatch.TypeUsage, meteredCardHours(0, 50)...)
	check(t, "result", store(t, db, voucherwatch.TypeUsage, meteredCardHours(25, 100)...), voucherwatch.WriteResult{Stored: 50, Duplicates: 25})
}

// TestStoreRecordsSendsBlocks sends batches in blocks of 7 records. A batch is still written
// as one part (a level-0 part holds all its rows), also when the user's profile has the server
// write every block it gets (min_insert_block_size_rows=1), and one that holds stored records,
// in its first blocks or in its last, stores only the others: nothing of it is sent before the
// look-up has answered.
func TestStoreRecordsSendsBlocks(t *testing.T) {
	db := openTestDB(t, storetest.Database(t)+"?min_insert_block_size_rows=1")
	if err := db.Migrate(testContext(t)); err != nil {
		t.Fatal(err)
	}
	db.flushRows, db.fillChunk = 7, 3
	// A merge would put the batches' rows in one part whatever the INSERTs did.
	if err := db.conn.Exec(testContext(t), "SYSTEM STOP MERGES "+db.database+".usage"); err != nil {
		t.Fatal(err)
	}
	onePart := func(name string, from, to int) {
		t.Helper()
		var parts uint64
		var part string
		queryRow(t, db, fmt.Sprintf("SELECT uniqExact(_part), any(_part) FROM usage WHERE kafka_offset BETWEEN %d AND %d", from, to-1), &parts, &part)
		if parts != 1 || !strings.HasSuffix(part, "_0") {
			t.Errorf("%s: the batch's rows are in %d parts (one of them %s), want one written by its INSERT", name, parts, part)
		}
	}
	// Records 0-96 are one per resource, in the batch's order; 97-199 the next hours.
	check(t, "last records first", store(t, db, voucherwatch.TypeUsage, meteredCardHours(90, 97)...), voucherwatch.WriteResult{Stored: 7})
	check(t, "stored in the last blocks", store(t, db, voucherwatch.TypeUsage, meteredCardHours(0, 97)...), voucherwatch.WriteResult{Stored: 90, Duplicates: 7})
	onePart("0-89", 0, 90)
	check(t, "first records first", store(t, db, voucherwatch.TypeUsage, meteredCardHours(97, 104)...), voucherwatch.WriteResult{Stored: 7})
	check(t, "stored in the first blocks", store(t, db, voucherwatch.TypeUsage, meteredCardHours(97, 200)...), voucherwatch.WriteResult{Stored: 96, Duplicates: 7})
	onePart("104-199", 104, 200)
	var rows, distinct uint64
	queryRow(t, db, "SELECT count(), uniqExact(source, id) FROM usage", &rows, &distinct)
	check(t, "usage rows", rows, uint64(200))
	check(t, "distinct records", distinct, uint64(200))
}

// TestStoreRecordsFillsInChunks fills the INSERTs 7 records at a time (defaultFillChunk in a
// batch of 20,000), the last chunk short: every row must carry its own record's values, its
// hash and array columns included, and storing the batches again must find every record.
func TestStoreRecordsFillsInChunks(t *testing.T) {
	db := newTestDB(t)
	db.fillChunk = 7
	db.parallelFill = 10 // and half the columns filled by a second goroutine
	usage := meteredCardHours(0, 50)
	var claims []voucherwatch.Record
	for n := range 20 {
		c := claimWithTwoInvoices()
		c.ID = fmt.Sprintf("claim-%02d", n)
		c.Claim.ClaimID = fmt.Sprintf("SB-2026-%02d", n)
		c.Claim.Invoices = c.Claim.Invoices[:1+n%2]
		claims = append(claims, c)
	}
	check(t, "usage", store(t, db, voucherwatch.TypeUsage, usage...), voucherwatch.WriteResult{Stored: 50})
	check(t, "claims", store(t, db, voucherwatch.TypeClaim, claims...), voucherwatch.WriteResult{Stored: 20})

	stored := func(q string) map[string]string {
		rows, err := db.conn.Query(testContext(t), q)
		if err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		defer rows.Close()
		got := map[string]string{}
		for rows.Next() {
			var id, row string
			if err := rows.Scan(&id, &row); err != nil {
				t.Fatal(err)
			}
			got[id] = row
		}
		return got
	}
	got := stored(`SELECT id, concat(toString(rec_hash), ' ', toString(kafka_offset), ' ', resource_id, ' ', toString(toUInt32(window_start))) FROM usage`)
	check(t, "usage rows", len(got), len(usage))
	for _, r := range usage {
		check(t, "usage row "+r.ID, got[r.ID], fmt.Sprintf("%d %d %s %d", RecordHash(r.Source, r.ID), r.Origin.Offset, r.Usage.ResourceID, r.Usage.WindowStart.Unix()))
	}
	got = stored(`SELECT id, concat(toString(rec_hash), ' ', claim_id, ' ', arrayStringConcat(invoice_no, ',')) FROM claims`)
	check(t, "claim rows", len(got), len(claims))
	for _, r := range claims {
		var nos []string
		for _, inv := range r.Claim.Invoices {
			nos = append(nos, inv.InvoiceNo)
		}
		check(t, "claim row "+r.ID, got[r.ID], fmt.Sprintf("%d %s %s", RecordHash(r.Source, r.ID), r.Claim.ClaimID, strings.Join(nos, ",")))
	}

	check(t, "usage again", store(t, db, voucherwatch.TypeUsage, usage...), voucherwatch.WriteResult{Duplicates: 50})
	check(t, "claims again", store(t, db, voucherwatch.TypeClaim, claims...), voucherwatch.WriteResult{Duplicates: 20})
}

// TestStoreRecordsConcurrently stores overlapping batches from two goroutines sharing a DB,
// and from two DBs, as two engine instances would.
func TestStoreRecordsConcurrently(t *testing.T) {
	dsn := storetest.Database(t)
	one := openTestDB(t, dsn)
	if err := one.Migrate(testContext(t)); err != nil {
		t.Fatal(err)
	}
	other := openTestDB(t, dsn)

	race := func(a, b *DB, from int) (stored int) {
		var wg sync.WaitGroup
		results := make([]voucherwatch.WriteResult, 2)
		errs := make([]error, 2)
		for i, db := range []*DB{a, b} {
			wg.Go(func() {
				// Overlapping by half, in batches of 500.
				start := from + i*1000
				for n := start; n < start+2000; n += 500 {
					res, err := db.StoreRecords(testContext(t), voucherwatch.TypeUsage, meteredCardHours(n, n+500))
					if err != nil {
						errs[i] = err
						return
					}
					results[i].Stored += res.Stored
					results[i].Duplicates += res.Duplicates
				}
			})
		}
		wg.Wait()
		for _, err := range errs {
			if err != nil {
				t.Fatal(err)
			}
		}
		return results[0].Stored + results[1].Stored
	}

	if stored := race(one, one, 0); stored != 3000 {
		t.Errorf("one DB: stored %d records in all, want 3000", stored)
	}
	n, err := one.StoredCount(testContext(t), voucherwatch.TypeUsage)
	check(t, "stored count after one DB", []any{n, err}, []any{uint64(3000), nil})

	race(one, other, 10000)
	n, err = other.StoredCount(testContext(t), voucherwatch.TypeUsage)
	check(t, "stored count after two DBs", []any{n, err}, []any{uint64(6000), nil})
	// Whatever both stored, a merge leaves once.
	if err := one.conn.Exec(testContext(t), "OPTIMIZE TABLE usage FINAL"); err != nil {
		t.Fatal(err)
	}
	var rows uint64
	queryRow(t, one, "SELECT count() FROM usage FINAL", &rows)
	check(t, "rows after merge", rows, uint64(6000))
}

func TestStoreRecordsRejectsOtherTypes(t *testing.T) {
	db := newTestDB(t)
	ctx := testContext(t)
	f := func(name string, typ voucherwatch.RecordType, recs []voucherwatch.Record) {
		t.Helper()
		res, err := db.StoreRecords(ctx, typ, recs)
		if voucherwatch.ErrorCode(err) != voucherwatch.EINVALID {
			t.Errorf("%s: got %v, %v, want an EINVALID error", name, res, err)
		}
	}
	f("claim among usage", voucherwatch.TypeUsage, []voucherwatch.Record{meteredCardHour(1), claimWithTwoInvoices()})
	noBody := meteredCardHour(1)
	noBody.Usage = nil
	f("usage without body", voucherwatch.TypeUsage, []voucherwatch.Record{noBody})
	f("unknown type", "alert.v1", nil)
	if n, _ := db.StoredCount(ctx, voucherwatch.TypeUsage); n != 0 {
		t.Errorf("stored %d records of rejected batches, want 0", n)
	}
}

func TestStoreRecordsEmpty(t *testing.T) {
	db := newTestDB(t)
	check(t, "result", store(t, db, voucherwatch.TypeUsage), voucherwatch.WriteResult{})
}

func TestStoreRecordsWithoutTables(t *testing.T) {
	db := openTestDB(t, storetest.Database(t)) // not migrated
	_, err := db.StoreRecords(testContext(t), voucherwatch.TypeUsage, meteredCardHours(0, 1))
	if err == nil || !strings.HasPrefix(err.Error(), "store: insert usage batch: ") {
		t.Errorf("got %v, want an error of the store layer", err)
	}
}

func TestStoreRecordsCancelled(t *testing.T) {
	db := newTestDB(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := db.StoreRecords(ctx, voucherwatch.TypeUsage, meteredCardHours(0, 10)); err == nil {
		t.Error("StoreRecords with a cancelled context: got nil error")
	}
}

func TestRecordHash(t *testing.T) {
	f := func(source, id string) {
		t.Helper()
		if got, want := RecordHash(source, id), xxhash.Sum64String(source+"\x00"+id); got != want {
			t.Errorf("RecordHash(%q, %q) = %d, want %d", source, id, got, want)
		}
	}
	f("platform:hunan-dispatch", "usage-1")
	f("", "")
	if RecordHash("a", "bc") == RecordHash("ab", "c") {
		t.Error("RecordHash does not separate source from id")
	}
	// Pin one value: it is stored, and a change would make every stored record look new.
	if got := RecordHash("platform:hunan-dispatch", "usage-1"); got != 0x4c45256fa4d7cda5 {
		t.Errorf("RecordHash(platform:hunan-dispatch, usage-1) = %#x, want 0x4c45256fa4d7cda5", got)
	}
}

// TestSortKeyIsTableOrder checks that StoreRecords hands the server its blocks in the order of
// the table's ORDER BY, with strings that are prefixes of others, empty and not ASCII.
func TestSortKeyIsTableOrder(t *testing.T) {
	db := newTestDB(t)
	var recs []voucherwatch.Record
	for i, v := range []struct{ supplier, resource string }{
		{supplierUSCC, "node-1"}, {supplierUSCC, "node-10"}, {supplierUSCC, "node-"}, {supplierUSCC, ""},
		{buyerUSCC, "节点-1"}, {buyerUSCC, "node-1"}, {"", "node-1"}, {supplierUSCC, "node-1"},
	} {
		r := meteredCardHour(i)
		r.Usage.SupplierUSCC, r.Usage.ResourceID = v.supplier, v.resource
		r.Usage.WindowStart = r.Usage.WindowStart.Add(time.Duration(i%3) * -24 * time.Hour)
		if i == 7 {
			r.Source = "a"
		}
		recs = append(recs, r)
	}
	var keys [][]byte
	for i := range recs {
		keys = append(keys, usageTable.appendSortKey(nil, &recs[i]))
	}
	byKey := make([]int, len(recs))
	for i := range byKey {
		byKey[i] = i
	}
	slices.SortFunc(byKey, func(a, b int) int { return bytes.Compare(keys[a], keys[b]) })
	var want []string
	for _, i := range byKey {
		want = append(want, recs[i].ID)
	}

	store(t, db, voucherwatch.TypeUsage, recs...)
	rows, err := db.conn.Query(testContext(t), "SELECT id FROM usage ORDER BY supplier_uscc, resource_id, window_start, source, id")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var got []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			t.Fatal(err)
		}
		got = append(got, id)
	}
	check(t, "order", got, want)
}

// A prepared batch stores what StoreRecords stores (its repeats dropped, records stored
// before found), once: a second StorePrepared, or one after Release, is refused and stores
// nothing. A batch with a record of another type is refused when prepared.
func TestStorePreparedStoresOnce(t *testing.T) {
	db := newTestDB(t)
	ctx := testContext(t)
	if _, err := db.StoreRecords(ctx, voucherwatch.TypeUsage, meteredCardHours(0, 10)); err != nil {
		t.Fatal(err)
	}
	// Records 5–29, record 20 twice.
	recs := append(meteredCardHours(5, 30), meteredCardHour(20))
	p, err := db.PrepareRecords(voucherwatch.TypeUsage, recs)
	if err != nil {
		t.Fatal(err)
	}
	if got := len(p.Records()); got != len(recs) {
		t.Fatalf("prepared batch holds %d records, want the %d given", got, len(recs))
	}
	res, err := db.StorePrepared(ctx, p)
	if err != nil {
		t.Fatal(err)
	}
	if res.Stored != 20 || res.Duplicates != 6 {
		t.Errorf("stored %d, duplicates %d; want 20 new (10–29) and 6 duplicates (5–9 stored before, 20 twice)", res.Stored, res.Duplicates)
	}
	if _, err := db.StorePrepared(ctx, p); voucherwatch.ErrorCode(err) != voucherwatch.EINVALID {
		t.Errorf("a second StorePrepared: %v, want EINVALID", err)
	}
	p.Release()
	q, err := db.PrepareRecords(voucherwatch.TypeUsage, meteredCardHours(30, 40))
	if err != nil {
		t.Fatal(err)
	}
	q.Release()
	if _, err := db.StorePrepared(ctx, q); voucherwatch.ErrorCode(err) != voucherwatch.EINVALID {
		t.Errorf("StorePrepared after Release: %v, want EINVALID", err)
	}
	if n, err := db.StoredCount(ctx, voucherwatch.TypeUsage); err != nil || n != 30 {
		t.Errorf("%d usage records stored (%v), want 30 (0–29)", n, err)
	}
	claim := meteredCardHour(50)
	claim.Type = voucherwatch.TypeClaim
	if _, err := db.PrepareRecords(voucherwatch.TypeUsage, []voucherwatch.Record{meteredCardHour(51), claim}); voucherwatch.ErrorCode(err) != voucherwatch.EINVALID {
		t.Errorf("a batch with a claim among usage: %v, want EINVALID", err)
	}
}
