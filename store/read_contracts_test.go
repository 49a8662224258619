package store

import (
	"fmt"
	"testing"
	"time"

	"github.com/voucherwatch/voucherwatch"
)

// TestLatestContractsByNumber: a claim cites contract numbers without the supplier, so Numbers
// selects every supplier's contract of a number, at its latest version (a new buyer), beside
// the (supplier, number) keys; a number that only starts like a wanted one is not taken.
func TestLatestContractsByNumber(t *testing.T) {
	db := newTestDB(t)
	ctx := testContext(t)
	const other = "91430100MA4L0YYYY2"
	a := contractBetween(1, supplierUSCC, buyerUSCC)
	b := contractBetween(1, other, "91430100MA4L0ZZZZ3")
	b.Contract.ContractNo = a.Contract.ContractNo // the same number at another supplier
	moved := b
	c := *b.Contract
	c.BuyerUSCC = buyerUSCC
	moved.ID, moved.Time, moved.Contract = "contract-moved", b.Time.Add(time.Hour), &c
	longer := contractBetween(1, other, buyerUSCC)
	longer.ID, longer.Contract.ContractNo = "contract-longer", a.Contract.ContractNo+"-2"
	keyed := contractBetween(2, supplierUSCC, buyerUSCC)
	for _, r := range []voucherwatch.Record{a, b, moved, longer, keyed} {
		if _, err := db.StoreRecords(ctx, voucherwatch.TypeContract, []voucherwatch.Record{r}); err != nil {
			t.Fatal(err)
		}
	}
	got := func(q voucherwatch.ContractQuery) string {
		t.Helper()
		cs, err := db.LatestContracts(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, c := range cs {
			out = append(out, c.SupplierUSCC+"/"+c.ContractNo+"→"+c.BuyerUSCC)
		}
		return fmt.Sprint(out)
	}
	no := a.Contract.ContractNo
	want := fmt.Sprint([]string{supplierUSCC + "/" + no + "→" + buyerUSCC, other + "/" + no + "→" + buyerUSCC})
	if g := got(voucherwatch.ContractQuery{Numbers: []string{no}}); g != want {
		t.Errorf("by number: got %s, want %s", g, want)
	}
	k := keyed.Contract
	want = fmt.Sprint([]string{supplierUSCC + "/" + no + "→" + buyerUSCC, supplierUSCC + "/" + k.ContractNo + "→" + buyerUSCC,
		other + "/" + no + "→" + buyerUSCC})
	if g := got(voucherwatch.ContractQuery{Numbers: []string{no}, Contracts: [][2]string{{k.SupplierUSCC, k.ContractNo}}}); g != want {
		t.Errorf("by number and key: got %s, want %s", g, want)
	}
	if g := got(voucherwatch.ContractQuery{Numbers: []string{"HT-none"}}); g != "[]" {
		t.Errorf("by an unknown number: got %s, want none", g)
	}
}
