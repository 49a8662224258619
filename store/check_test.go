package store

import (
	"testing"

	"github.com/voucherwatch/voucherwatch"
)

// TestCheckFindsDrift: records stored through StoreRecords leave no drift; a record stored
// while its key view is missing, and a rollup row that no record stands for, are reported,
// also with the key comparisons split into buckets.
func TestCheckFindsDrift(t *testing.T) {
	// Buckets of 64 records: the 302 usage records' anti-joins run in five.
	defer func(n uint64) { checkBucketRows = n }(checkBucketRows)
	checkBucketRows = 64
	db := newTestDB(t)
	ctx := testContext(t)
	store(t, db, voucherwatch.TypeUsage, meteredCardHours(0, 300)...)
	store(t, db, voucherwatch.TypeContract, unfiledDirectPurchase(), filedContract())
	store(t, db, voucherwatch.TypeSettlement, fullyDigitalInvoice())
	store(t, db, voucherwatch.TypeClaim, claimWithTwoInvoices())
	checkNoDrift(t, db)

	// A key view lost (a node that died between the record's part and its view's): the
	// record is stored without its key.
	if err := db.conn.Exec(ctx, "DROP TABLE usage_record_keys"); err != nil {
		t.Fatal(err)
	}
	store(t, db, voucherwatch.TypeUsage, meteredCardHours(300, 302)...)
	// A rollup row counted twice.
	if err := db.conn.Exec(ctx, "INSERT INTO settlements_daily (day, supplier_uscc, buyer_uscc, service_type, chip_origin, item_amount, items) SELECT day, supplier_uscc, buyer_uscc, service_type, chip_origin, item_amount, items FROM settlements_daily LIMIT 1"); err != nil {
		t.Fatal(err)
	}
	cs, err := db.Check(ctx)
	if err != nil {
		t.Fatal(err)
	}
	drift := map[string]Consistency{}
	for _, c := range cs {
		if c.Drift() {
			drift[c.Table+" "+c.Measure] = c
		}
	}
	want := map[string][2]float64{
		"record_keys usage: distinct records":      {302, 300},
		"record_keys usage: records without a key": {0, 2},
		"settlements_daily items":                  {1, 2},
		"settlements_daily item amount":            {-1, -1}, // any drift
	}
	for k, w := range want {
		c, ok := drift[k]
		if !ok {
			t.Errorf("Check: no drift in %s, want some", k)
			continue
		}
		if w[0] >= 0 && (c.Want != w[0] || c.Got != w[1]) {
			t.Errorf("Check %s: want %v got %v, expected %v and %v", k, c.Want, c.Got, w[0], w[1])
		}
	}
	if len(drift) != len(want) {
		t.Errorf("Check: drift in %v, want only %v", drift, want)
	}
}
