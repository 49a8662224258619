package store

import (
	"fmt"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"

	"github.com/voucherwatch/voucherwatch"
	"github.com/voucherwatch/voucherwatch/store/storetest"
	"github.com/voucherwatch/voucherwatch/synth"
)

// TestKeyedLookupsReadTheirKeysOnly: the look-ups of claims and settlements by invoice, claim
// id, (buyer, contract) and payment reference read a few granules through lookup_keys and the
// records' primary keys, not the history. 100,000 claims and settlements are stored before the
// migration "lookup keys of claims and settlements" (its back-fill must find them) and a few
// look-alikes after it (its views must); every look-up answers exactly and reads far fewer
// rows than a scan of either table (which the look-ups through has(…) on claims and
// settlements did). LatestDeals reads settlements by buyer, (buyer, contract) and supplier the
// same way.
func TestKeyedLookupsReadTheirKeysOnly(t *testing.T) {
	db := openTestDB(t, storetest.Database(t))
	ctx := testContext(t)
	i := slices.IndexFunc(migrations, func(m migration) bool { return m.name == "lookup keys of claims and settlements" })
	if err := db.migrate(ctx, migrations[:i]); err != nil {
		t.Fatal(err)
	}
	// The history: claim H-n of applicant A-(n%500) cites invoice 4300/n, which supplier
	// S-(n%97) settled to that applicant under contract HT-(n%500)-(n/500), paid with PAY-n.
	const history = 100_000
	for _, q := range []string{
		`INSERT INTO claims (source, id, rec_hash, event_time, claim_id, applicant_uscc, round, contract_no,
	invoice_code, invoice_no, invoice_amount)
SELECT 'hist', concat('c', toString(number)), number, toDateTime('2026-04-01 09:00:00', 'Asia/Shanghai'),
	concat('H-', toString(number)), concat('A-', toString(number % 500)), 1, [concat('HT-', toString(number % 500), '-', toString(intDiv(number, 500)))],
	['4300'], [toString(number)], [toDecimal64(50, 2)]
FROM system.numbers LIMIT 100000`,
		`INSERT INTO settlements (source, id, rec_hash, event_time, settlement_id, contract_no, supplier_uscc, buyer_uscc,
	invoice_code, invoice_no, amount, payment_ref)
SELECT 'hist', concat('s', toString(number)), number, toDateTime('2026-03-01 09:00:00', 'Asia/Shanghai'),
	concat('S-', toString(number)), concat('HT-', toString(number % 500), '-', toString(intDiv(number, 500))), concat('S-', toString(number % 97)),
	concat('A-', toString(number % 500)), '4300', toString(number), toDecimal64(50, 2), concat('PAY-', toString(number))
FROM system.numbers LIMIT 100000`,
	} {
		if err := db.conn.Exec(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	if err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	// After the migration: a second applicant's claim re-using the history's invoice 4300/77,
	// a new version of claim H-78 that no longer cites 4300/78, and an invoice paid with the
	// history's reference PAY-79 by another supplier.
	t0 := time.Date(2026, 4, 2, 9, 0, 0, 0, voucherwatch.CST)
	inv := func(n int) voucherwatch.InvoiceKey { return voucherwatch.InvoiceKey{Code: "4300", No: fmt.Sprint(n)} }
	store(t, db, voucherwatch.TypeClaim,
		readClaim("new-1", t0, "NEW-1", "A-OTHER", inv(77)),
		readClaim("new-2", t0, "H-78", "A-78", inv(100_078)))
	store(t, db, voucherwatch.TypeSettlement, readSettlement("new-3", t0, inv(100_079), "A-OTHER", "HT-X", "PAY-79", 60_00))

	var read atomic.Uint64
	ctx = clickhouse.Context(ctx, clickhouse.WithProgress(func(p *clickhouse.Progress) { read.Add(p.Rows) }))
	f := func(name string, got, want []string, err error) {
		t.Helper()
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		slices.Sort(got)
		if !slices.Equal(got, want) {
			t.Errorf("%s: got %v, want %v", name, got, want)
		}
		// A scan reads the 100,000 rows of a table; a keyed look-up a few granules of each.
		if r := read.Swap(0); r > 6*8192 {
			t.Errorf("%s: read %d rows, want a few granules (the tables hold %d rows each)", name, r, history)
		}
	}
	claims := func(q voucherwatch.ClaimQuery) ([]string, error) {
		read.Store(0)
		cs, err := db.LatestClaims(ctx, q)
		var out []string
		for _, c := range cs {
			out = append(out, c.ClaimID+"@"+c.ID)
		}
		return out, err
	}
	settlements := func(q voucherwatch.SettlementQuery) ([]string, error) {
		read.Store(0)
		ss, err := db.LatestSettlements(ctx, q)
		var out []string
		for _, s := range ss {
			out = append(out, s.InvoiceNo+"@"+s.ID)
		}
		return out, err
	}
	got, err := claims(voucherwatch.ClaimQuery{Invoices: []voucherwatch.InvoiceKey{inv(77), inv(78)}})
	f("claims citing 4300/77 and 4300/78", got, []string{"H-77@c77", "NEW-1@new-1"}, err)
	got, err = claims(voucherwatch.ClaimQuery{IDs: []string{"H-78", "H-5"}})
	f("claims by id", got, []string{"H-5@c5", "H-78@new-2"}, err)
	got, err = claims(voucherwatch.ClaimQuery{Applicants: []string{"A-OTHER"}, Invoices: []voucherwatch.InvoiceKey{inv(100_078)}})
	f("claims of an applicant or citing a new invoice", got, []string{"H-78@new-2", "NEW-1@new-1"}, err)
	got, err = settlements(voucherwatch.SettlementQuery{Invoices: []voucherwatch.InvoiceKey{inv(77), inv(100_079)}})
	f("settlements by invoice", got, []string{"100079@new-3", "77@s77"}, err)
	got, err = settlements(voucherwatch.SettlementQuery{BuyerContracts: [][2]string{{"A-3", "HT-3-0"}, {"A-OTHER", "HT-X"}}})
	f("settlements by (buyer, contract)", got, []string{"100079@new-3", "3@s3"}, err)
	got, err = settlements(voucherwatch.SettlementQuery{Contracts: [][2]string{{"S-5", "HT-5-0"}, {supplierUSCC, "HT-X"}}})
	f("settlements by (supplier, contract)", got, []string{"100079@new-3", "5@s5"}, err)
	read.Store(0)
	shared, err := db.SettlementsSharingPaymentRef(ctx, []string{"PAY-79", "PAY-80"})
	var refs []string
	for _, s := range shared {
		refs = append(refs, s.PaymentRef+" "+s.InvoiceNo)
	}
	f("settlements sharing PAY-79 or PAY-80", refs, []string{"PAY-79 100079", "PAY-79 79"}, err)
	deals := func(q voucherwatch.DealQuery) ([]string, error) {
		read.Store(0)
		ds, err := db.LatestDeals(ctx, q)
		var out []string
		for _, d := range ds {
			out = append(out, fmt.Sprintf("%s/%s/%s %d %d", d.SupplierUSCC, d.BuyerUSCC, d.ContractNo, d.Invoices, d.Settled))
		}
		return out, err
	}
	got, err = deals(voucherwatch.DealQuery{Buyers: []string{"A-OTHER"}, BuyerContracts: [][2]string{{"A-3", "HT-3-0"}},
		Contracts: [][2]string{{"S-5", "HT-5-0"}}})
	f("deals of a buyer, a (buyer, contract) and a (supplier, contract)", got,
		[]string{supplierUSCC + "/A-OTHER/HT-X 1 6000", "S-3/A-3/HT-3-0 1 5000", "S-5/A-5/HT-5-0 1 5000"}, err)
}

// TestLookupKeyViewsWriteWhatTheSevenDid: migration 33's one view per record table writes the
// look-up keys that the seven views before it wrote, row for row. The province's claims and
// settlements, with the edge cases added below, are stored in a database before the
// migration and in one after it, and the two lookup_keys must hold the same rows.
func TestLookupKeyViewsWriteWhatTheSevenDid(t *testing.T) {
	ctx := testContext(t)
	before := openTestDB(t, storetest.Database(t))
	i := slices.IndexFunc(migrations, func(m migration) bool { return m.version == 33 })
	if err := before.migrate(ctx, migrations[:i]); err != nil {
		t.Fatal(err)
	}
	after := newTestDB(t)

	p := synth.Generate(synth.DefaultConfig(1))
	byType := storetest.Decode(t, "lookup-views-test", p.Messages)
	// Edge cases: a claim citing three invoices (one paper, two digital), one citing none,
	// and a settlement paid without a reference.
	t0 := time.Date(2026, 4, 2, 9, 0, 0, 0, voucherwatch.CST)
	claims := append(slices.Clone(byType[voucherwatch.TypeClaim]),
		readClaim("edge-1", t0, "EDGE-3INV", "A-EDGE", voucherwatch.InvoiceKey{Code: "4300", No: "00000001"},
			voucherwatch.InvoiceKey{No: "24430000000000000001"}, voucherwatch.InvoiceKey{No: "24430000000000000002"}),
		readClaim("edge-2", t0, "EDGE-NOINV", "A-EDGE"))
	settlements := append(slices.Clone(byType[voucherwatch.TypeSettlement]),
		readSettlement("edge-3", t0, voucherwatch.InvoiceKey{Code: "4300", No: "00000009"}, "A-EDGE", "HT-EDGE", "", 60_00))
	for _, db := range []*DB{before, after} {
		store(t, db, voucherwatch.TypeClaim, claims...)
		store(t, db, voucherwatch.TypeSettlement, settlements...)
	}

	rows := func(db *DB) (out []string) {
		t.Helper()
		r, err := db.conn.Query(ctx, `SELECT kind, k, owner, claim_id, invoice_code, invoice_no FROM lookup_keys
ORDER BY kind, k, owner, claim_id, invoice_code, invoice_no`)
		if err != nil {
			t.Fatal(err)
		}
		defer r.Close()
		for r.Next() {
			var c [6]string
			if err := r.Scan(&c[0], &c[1], &c[2], &c[3], &c[4], &c[5]); err != nil {
				t.Fatal(err)
			}
			out = append(out, strings.Join(c[:], " | "))
		}
		return out
	}
	want, got := rows(before), rows(after)
	kinds := map[string]int{}
	for _, r := range want {
		kinds[strings.SplitN(r, " | ", 2)[0]]++
	}
	// Every kind of key is among them, so that a kind the new views dropped would show.
	for _, k := range []string{"claim", "claim_invoice", "claim_invoice_key", "settlement_invoice", "settlement_contract", "payment_ref", "settlement_invoice_key"} {
		if kinds[k] == 0 {
			t.Fatalf("the old views wrote no %s key: %v", k, kinds)
		}
	}
	if kinds["payment_ref"] >= len(settlements) {
		t.Fatalf("%d payment references of %d settlements: the fixture has no settlement without one", kinds["payment_ref"], len(settlements))
	}
	if !slices.Equal(got, want) {
		for _, r := range want {
			if !slices.Contains(got, r) {
				t.Errorf("missing after migration 33: %s", r)
			}
		}
		for _, r := range got {
			if !slices.Contains(want, r) {
				t.Errorf("extra after migration 33: %s", r)
			}
		}
		t.Fatalf("lookup_keys: %d rows after migration 33, %d before", len(got), len(want))
	}
	t.Logf("%d look-up keys alike: %v", len(got), kinds)
}
