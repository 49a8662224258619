package store

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/voucherwatch/voucherwatch"
	"github.com/voucherwatch/voucherwatch/store/storetest"
)

// openTestDB opens a DB on dsn, closed when the test ends.
func openTestDB(t testing.TB, dsn string) *DB {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	db, err := Open(ctx, dsn)
	if err != nil {
		t.Fatalf("Open(%s): %v", dsn, err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// newTestDB returns a migrated DB in a database of its own.
func newTestDB(t testing.TB) *DB {
	t.Helper()
	db := openTestDB(t, storetest.Database(t))
	if err := db.Migrate(context.Background()); err != nil {
		t.Fatalf("Migrate: %v", err)
	}
	return db
}

func testContext(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	return ctx
}

func date(y int, m time.Month, d int) time.Time {
	return time.Date(y, m, d, 0, 0, 0, 0, voucherwatch.CST)
}

func envelope(typ voucherwatch.RecordType, source, id string) voucherwatch.Record {
	return voucherwatch.Record{
		Envelope: voucherwatch.Envelope{Source: source, ID: id, Type: typ, Time: time.Date(2026, 3, 1, 8, 0, 0, 0, voucherwatch.CST)},
		Origin:   voucherwatch.Origin{Topic: voucherwatch.DefaultTopics[typ], Partition: 2, Offset: 1000},
	}
}

const (
	supplierUSCC = "91430100MA4L0XXXX1"
	buyerUSCC    = "91430100MA4L0YYYY2"
)

// meteredCardHour is the usage record of one resource, tenant and hour; n varies the id,
// resource and window.
func meteredCardHour(n int) voucherwatch.Record {
	r := envelope(voucherwatch.TypeUsage, supplierUSCC, fmt.Sprintf("usage-%08d", n))
	r.Origin.Offset = int64(n)
	start := time.Date(2026, 3, 1, 0, 0, 0, 0, voucherwatch.CST).Add(time.Duration(n%1000) * time.Hour)
	r.Usage = &voucherwatch.Usage{
		SupplierUSCC: supplierUSCC,
		BuyerUSCC:    buyerUSCC,
		ContractNo:   "HT-2026-001",
		Tenant:       "tenant-7",
		ResourceID:   fmt.Sprintf("node-%03d", n%97),
		ChipModel:    "Ascend 910B",
		ChipOrigin:   voucherwatch.OriginDomestic,
		Cards:        8,
		WindowStart:  start,
		WindowEnd:    start.Add(time.Hour),
		CardHours:    7.5,
		UtilAvg:      0.82,
		Jobs:         3,
		Users:        2,
		LoginOrgs:    []string{buyerUSCC},
		Datacenter:   "长沙",
	}
	return r
}

func meteredCardHours(from, to int) []voucherwatch.Record {
	recs := make([]voucherwatch.Record, 0, to-from)
	for n := from; n < to; n++ {
		recs = append(recs, meteredCardHour(n))
	}
	return recs
}

// unfiledDirectPurchase is a contract bought outside the platform, not filed, with two
// priced items.
func unfiledDirectPurchase() voucherwatch.Record {
	r := envelope(voucherwatch.TypeContract, supplierUSCC, "contract-1")
	r.Contract = &voucherwatch.Contract{
		ContractNo:   "HT-2026-001",
		Name:         "算力租赁合同",
		SupplierUSCC: supplierUSCC,
		BuyerUSCC:    buyerUSCC,
		SignedOn:     date(2026, 1, 5),
		ServiceStart: date(2026, 1, 10),
		ServiceEnd:   date(2026, 12, 31),
		Amount:       12800001,
		Items: []voucherwatch.Item{
			{ServiceType: voucherwatch.ServiceComputeResource, ChipModel: "Ascend 910B", ChipOrigin: voucherwatch.OriginDomestic,
				Cards: 8, UnitPrice: 1299, Unit: voucherwatch.UnitCardHour, Quantity: 9000.5, Amount: 11691650},
			{ServiceType: voucherwatch.ServiceBandwidth, Amount: 1108351},
		},
		Datacenter: "长沙",
		Domains:    []string{"智能制造"},
	}
	return r
}

// filedContract is a contract with a filing date.
func filedContract() voucherwatch.Record {
	r := unfiledDirectPurchase()
	r.ID = "contract-2"
	c := *r.Contract
	c.ContractNo = "HT-2026-002"
	c.FiledOn = date(2026, 1, 20)
	r.Contract = &c
	return r
}

// fullyDigitalInvoice settles a contract with a 20-digit invoice number and no code.
func fullyDigitalInvoice() voucherwatch.Record {
	r := envelope(voucherwatch.TypeSettlement, supplierUSCC, "settlement-1")
	r.Settlement = &voucherwatch.Settlement{
		SettlementID: "JS-1",
		ContractNo:   "HT-2026-001",
		SupplierUSCC: supplierUSCC,
		BuyerUSCC:    buyerUSCC,
		InvoiceNo:    "26432000000012345678",
		InvoiceDate:  date(2026, 2, 1),
		Amount:       500000,
		Tax:          30000,
		PaymentRef:   "PAY-1",
		PaidOn:       date(2026, 2, 3),
		PayerAccount: "6222000011112222",
		PayeeAccount: "6222000033334444",
		PeriodStart:  date(2026, 1, 10),
		PeriodEnd:    date(2026, 1, 31),
		Items: []voucherwatch.Item{
			{ServiceType: voucherwatch.ServiceComputeResource, ChipModel: "Ascend 910B", ChipOrigin: voucherwatch.OriginDomestic,
				Cards: 8, UnitPrice: 1250, Unit: voucherwatch.UnitCardHour, Quantity: 400, Amount: 500000},
		},
	}
	return r
}

// claimWithTwoInvoices claims two invoices and one contract.
func claimWithTwoInvoices() voucherwatch.Record {
	r := envelope(voucherwatch.TypeClaim, buyerUSCC, "claim-1")
	r.Claim = &voucherwatch.Claim{
		ClaimID:       "SB-2026-1",
		ApplicantUSCC: buyerUSCC,
		Round:         2026,
		SubmittedOn:   date(2026, 4, 1),
		City:          "430100",
		ViaPlatform:   true,
		Contracts:     []string{"HT-2026-001"},
		Invoices: []voucherwatch.ClaimInvoice{
			{InvoiceCode: "", InvoiceNo: "26432000000012345678", Amount: 500000},
			{InvoiceCode: "043002100111", InvoiceNo: "00012345", Amount: 99},
		},
		UsageAmount: 500099,
		Requested:   150029,
		ChipOrigin:  voucherwatch.OriginDomestic,
		BankAccount: "6222000011112222",
	}
	return r
}

// supplierOwnedByBuyerOfficer is a registered supplier with holders of both kinds, officers,
// contacts, accounts and capacity.
func supplierOwnedByBuyerOfficer() voucherwatch.Record {
	r := envelope(voucherwatch.TypeRegistry, "platform:hunan-registry", "entity-1")
	officer := voucherwatch.Person{Name: "张三", IDType: "id_card", Key: "pk-zhangsan", Masked: "430***********1234", Phone: "13800000000"}
	r.Entity = &voucherwatch.Entity{
		USCC:              supplierUSCC,
		Name:              "湖南算力科技有限公司",
		City:              "430100",
		RegisteredAddress: "长沙市岳麓区",
		OfficeAddress:     "长沙市岳麓区",
		RegisteredOn:      date(2019, 6, 1),
		IsSME:             true,
		LegalRep:          &officer,
		Contacts:          []voucherwatch.Person{{Name: "李四", Phone: "13900000000", Email: "li@example.com"}},
		Shareholders: []voucherwatch.Holder{
			{Kind: "enterprise", USCC: buyerUSCC, Name: "需方公司", SharePct: 60},
			{Kind: "person", Person: &officer, Name: "张三", SharePct: 40},
		},
		Officers:     []voucherwatch.Officer{{Role: "director", Person: officer}, {Role: "supervisor", Person: voucherwatch.Person{Name: "王五"}}},
		BankAccounts: []voucherwatch.BankAccount{{Bank: "长沙银行", AccountNo: "6222000033334444"}},
		Credit:       voucherwatch.Credit{MajorViolationWithin3Y: true},
		Supplier: &voucherwatch.SupplierProfile{
			Registered:   true,
			RegisteredOn: date(2025, 9, 1),
			IDCLicense:   true,
			Capacity:     []voucherwatch.Capacity{{ChipModel: "Ascend 910B", ChipOrigin: voucherwatch.OriginDomestic, Cards: 512, Datacenter: "长沙"}},
		},
	}
	return r
}

// buyerWithoutPeople is an entity with no people, accounts or supplier profile.
func buyerWithoutPeople() voucherwatch.Record {
	r := envelope(voucherwatch.TypeRegistry, "platform:hunan-registry", "entity-2")
	r.Entity = &voucherwatch.Entity{USCC: buyerUSCC, Name: "需方公司", City: "430100"}
	r.Entity.SetCanonicalKeys() // as the decoder does
	return r
}

// prepare starts an INSERT of w.recs as StoreRecords writes them, without its look-up: tests
// store copies past it.
func (db *DB) prepare(ctx context.Context, typ voucherwatch.RecordType, t recordTable, w *writeState) (driver.Batch, error) {
	b, err := db.conn.PrepareBatch(ctx, insertSQLs[typ])
	if err != nil {
		return nil, err
	}
	if err := db.fill(b, t, w, 0, nil); err != nil {
		b.Abort()
		return nil, err
	}
	return b, nil
}

// pendingFor is r as writeState.add queues it, for tests that build a batch by hand (without
// add's dropping of repeated records or its sorting key).
func pendingFor(t recordTable, r *voucherwatch.Record) pending {
	return pending{rec: r, hash: RecordHash(r.Source, r.ID), at: t.keyTime(r).Unix()}
}
