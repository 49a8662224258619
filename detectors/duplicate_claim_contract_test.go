package detectors

import (
	"context"
	"slices"
	"testing"

	"github.com/voucherwatch/voucherwatch"
	"github.com/voucherwatch/voucherwatch/detectors/detectortest"
	"github.com/voucherwatch/voucherwatch/rules"
)

// TestDuplicateClaimCheckContractBuyerChanged: a contract re-sent with another buyer is checked
// by itself (no claim or settlement changed): the old buyer's claim citing its number and the
// old buyer's claimed invoice under it now cite another buyer's purchase, and a third company
// citing the number is still alerted but with the new buyer in the evidence; each alert as the
// full run has it. A contract re-sent with the same buyer raises nothing.
func TestDuplicateClaimCheckContractBuyerChanged(t *testing.T) {
	f := newDupFixture()
	S, A, B, C := dupSupplierS, dupBuyerA, dupBuyerB, dupBuyerC
	f.contract(S, B, "HT-MOVED", "A800", "12")
	f.contract(S, B, "HT-KEPT", "A800", "12")
	f.settlement(dupSettle{supplier: S, buyer: B, contract: "HT-MOVED", code: "4300261130", no: "20001001", amount: "10000", paid: "2026-03-20"})
	f.settlement(dupSettle{supplier: S, buyer: B, contract: "HT-KEPT", code: "4300261130", no: "20002001", amount: "10000", paid: "2026-03-21"})
	f.claim("CL-NUMBER", B, "2026-04-01", []string{"HT-MOVED"})
	f.claim("CL-INVOICE", B, "2026-04-02", nil, "4300261130/20001001=10000")
	f.claim("CL-THIRD", C, "2026-04-03", []string{"HT-MOVED"})
	f.claim("CL-KEPT", B, "2026-04-04", []string{"HT-KEPT"}, "4300261130/20002001=10000")
	f.contract(S, A, "HT-MOVED", "A800", "12") // reContractAnotherBuyer
	f.contract(S, B, "HT-KEPT", "A800", "13")  // reContractSameBuyer

	db := detectortest.NewDB(t)
	detectortest.Store(t, db, f.recs...)
	d := NewDuplicateClaim(Env{DB: db, Policy: rules.Default()})
	ctx := context.Background()
	full, err := d.Run(ctx, dupAt)
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name   string
		change voucherwatch.Changes
		want   []string // kind/claim
	}{
		{"reContractAnotherBuyer", contractChange(S, A, "HT-MOVED"), []string{
			"contract_of_another_buyer/CL-NUMBER", "contract_of_another_buyer/CL-THIRD", "settlement_not_to_contract_buyer/CL-INVOICE"}},
		{"reContractSameBuyer", contractChange(S, B, "HT-KEPT"), nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := d.Check(ctx, dupAt, tc.change)
			if err != nil {
				t.Fatal(err)
			}
			var kinds []string
			for _, a := range got {
				kinds = append(kinds, a.Kind+"/"+a.Subjects.ClaimID)
			}
			slices.Sort(kinds)
			if !slices.Equal(kinds, tc.want) {
				t.Errorf("got %v, want %v", kinds, tc.want)
			}
			checkAgainstRun(t, d, full, []voucherwatch.Changes{tc.change}, func(voucherwatch.Changes, voucherwatch.Alert) bool { return false })
		})
	}
	for _, a := range full {
		if a.Subjects.ClaimID == "CL-THIRD" {
			if ct, _ := evFacts(a.Evidence)["contract"].(map[string]any); ct["buyer_uscc"] != A {
				t.Errorf("CL-THIRD: got the contract %v in the evidence, want the new buyer %s", ct, A)
			}
		}
	}
}
