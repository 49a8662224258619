package store

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/voucherwatch/voucherwatch"
)

// versioned is a record of typ with its own envelope time, so that tests can store an older
// version after a newer one.
func versioned(typ voucherwatch.RecordType, id string, at time.Time) voucherwatch.Record {
	r := envelope(typ, "supplier-a", id)
	r.Time = at
	return r
}

func readClaim(id string, at time.Time, claimID, applicant string, invoices ...voucherwatch.InvoiceKey) voucherwatch.Record {
	r := versioned(voucherwatch.TypeClaim, id, at)
	r.Claim = &voucherwatch.Claim{ClaimID: claimID, ApplicantUSCC: applicant, Round: 1, SubmittedOn: date(2026, 4, 1),
		City: "430100", Contracts: []string{"HT-1"}, UsageAmount: 100_00, Requested: 30_00}
	for _, k := range invoices {
		r.Claim.Invoices = append(r.Claim.Invoices, voucherwatch.ClaimInvoice{InvoiceCode: k.Code, InvoiceNo: k.No, Amount: 50_00})
	}
	return r
}

func readSettlement(id string, at time.Time, k voucherwatch.InvoiceKey, buyer, contract, ref string, amount voucherwatch.Money) voucherwatch.Record {
	r := versioned(voucherwatch.TypeSettlement, id, at)
	r.Settlement = &voucherwatch.Settlement{SettlementID: "S-" + k.No, ContractNo: contract, SupplierUSCC: supplierUSCC,
		BuyerUSCC: buyer, InvoiceCode: k.Code, InvoiceNo: k.No, InvoiceDate: date(2026, 3, 5), Amount: amount,
		PaymentRef: ref, PaidOn: date(2026, 3, 6), PayerAccount: "6222-1", PayeeAccount: "6222-9",
		Items: []voucherwatch.Item{{ServiceType: "compute", ChipModel: "Ascend 910B", ChipOrigin: voucherwatch.OriginDomestic,
			Cards: 8, UnitPrice: 10_00, Unit: "card_hour", Quantity: 10, Amount: amount}}}
	return r
}

// TestReadModelLatestVersions checks that keyed look-ups select on each record's latest
// version: a claim whose newest version dropped an invoice is not among the claims citing it,
// an older version stored after a newer one does not win, and an invoice moved to another
// contract leaves the old contract.
func TestReadModelLatestVersions(t *testing.T) {
	db := newTestDB(t)
	ctx := testContext(t)
	t0 := time.Date(2026, 4, 1, 9, 0, 0, 0, voucherwatch.CST)
	inv1, inv2, inv3 := voucherwatch.InvoiceKey{Code: "4300", No: "001"}, voucherwatch.InvoiceKey{Code: "4300", No: "002"}, voucherwatch.InvoiceKey{No: "003"}
	// The newest version is stored first: arrival order must not decide.
	store := func(typ voucherwatch.RecordType, recs ...voucherwatch.Record) {
		t.Helper()
		for _, r := range recs {
			if _, err := db.StoreRecords(ctx, typ, []voucherwatch.Record{r}); err != nil {
				t.Fatal(err)
			}
		}
	}
	store(voucherwatch.TypeClaim,
		readClaim("c1-v2", t0.Add(time.Hour), "CL-1", buyerUSCC, inv2), // dropped inv1
		readClaim("c1-v1", t0, "CL-1", buyerUSCC, inv1, inv2),
		readClaim("c2-v1", t0, "CL-2", "91430100MA4L0ZZZZ3", inv1),
	)
	store(voucherwatch.TypeSettlement,
		readSettlement("s1-v2", t0.Add(time.Hour), inv1, buyerUSCC, "HT-2", "PAY-9", 120_00), // moved to HT-2
		readSettlement("s1-v1", t0, inv1, buyerUSCC, "HT-1", "PAY-1", 100_00),
		readSettlement("s2-v1", t0, inv2, buyerUSCC, "HT-1", "PAY-1", 80_00),
		readSettlement("s3-v1", t0, inv3, "91430100MA4L0ZZZZ3", "HT-3", "PAY-9", 70_00),
	)

	claimIDs := func(q voucherwatch.ClaimQuery) []string {
		t.Helper()
		cs, err := db.LatestClaims(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		var ids []string
		for _, c := range cs {
			ids = append(ids, c.ClaimID+"@"+c.ID)
		}
		slices.Sort(ids)
		return ids
	}
	f := func(name string, got, want []string) {
		t.Helper()
		if !slices.Equal(got, want) {
			t.Errorf("%s: got %v, want %v", name, got, want)
		}
	}
	f("every claim", claimIDs(voucherwatch.ClaimQuery{All: true}), []string{"CL-1@c1-v2", "CL-2@c2-v1"})
	f("claims citing inv1", claimIDs(voucherwatch.ClaimQuery{Invoices: []voucherwatch.InvoiceKey{inv1}}), []string{"CL-2@c2-v1"})
	f("claims citing inv2", claimIDs(voucherwatch.ClaimQuery{Invoices: []voucherwatch.InvoiceKey{inv2}}), []string{"CL-1@c1-v2"})
	f("claims of an applicant or by id", claimIDs(voucherwatch.ClaimQuery{Applicants: []string{buyerUSCC}, IDs: []string{"CL-2"}}),
		[]string{"CL-1@c1-v2", "CL-2@c2-v1"})
	f("a zero query", claimIDs(voucherwatch.ClaimQuery{}), nil)
	f("an unknown invoice", claimIDs(voucherwatch.ClaimQuery{Invoices: []voucherwatch.InvoiceKey{{Code: "4300", No: "003"}}}), nil)

	settlements := func(q voucherwatch.SettlementQuery) []string {
		t.Helper()
		ss, err := db.LatestSettlements(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		var ids []string
		for _, s := range ss {
			ids = append(ids, s.InvoiceNo+"@"+s.ID)
		}
		slices.Sort(ids)
		return ids
	}
	f("every settlement", settlements(voucherwatch.SettlementQuery{All: true}), []string{"001@s1-v2", "002@s2-v1", "003@s3-v1"})
	f("a zero settlement query", settlements(voucherwatch.SettlementQuery{}), nil)
	f("settlements of inv1", settlements(voucherwatch.SettlementQuery{Invoices: []voucherwatch.InvoiceKey{inv1}}), []string{"001@s1-v2"})
	f("settlements of HT-1", settlements(voucherwatch.SettlementQuery{BuyerContracts: [][2]string{{buyerUSCC, "HT-1"}}}), []string{"002@s2-v1"})
	f("settlements cited by claims", settlements(voucherwatch.SettlementQuery{CitedByClaims: true}), []string{"001@s1-v2", "002@s2-v1"})

	ss, err := db.LatestSettlements(ctx, voucherwatch.SettlementQuery{Invoices: []voucherwatch.InvoiceKey{inv1}})
	if err != nil || len(ss) != 1 {
		t.Fatalf("got %v, %v; want one settlement", ss, err)
	}
	if s := ss[0]; s.Amount != 120_00 || s.ContractNo != "HT-2" || !s.PaidOn.Equal(date(2026, 3, 6)) || len(s.Items) != 1 || s.Items[0].Amount != 120_00 {
		t.Errorf("got settlement %+v, want the newest version's amount, contract, date and items", s)
	}

	settled, err := db.SettledByContract(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var deals []string
	for _, d := range settled {
		deals = append(deals, fmt.Sprintf("%s %d %s", d.ContractNo, d.Invoices, d.Settled))
	}
	slices.Sort(deals)
	f("settled by contract", deals, []string{"HT-1 1 80.00", "HT-2 1 120.00", "HT-3 1 70.00"})

	shared := func(refs []string) []string {
		t.Helper()
		ss, err := db.SettlementsSharingPaymentRef(ctx, refs)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, s := range ss {
			out = append(out, s.PaymentRef+":"+s.InvoiceNo)
		}
		return out
	}
	// PAY-1 is on one latest settlement only (inv1 moved to PAY-9); PAY-9 is on two, the older
	// envelope first on the same payment date.
	f("shared references", shared(nil), []string{"PAY-9:003", "PAY-9:001"})
	f("shared references, PAY-9", shared([]string{"PAY-9"}), []string{"PAY-9:003", "PAY-9:001"})
	f("shared references, PAY-1", shared([]string{"PAY-1"}), nil)
	f("shared references, none asked", shared([]string{}), nil)
}
