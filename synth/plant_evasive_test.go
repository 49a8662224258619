package synth

import (
	"bytes"
	"math/rand/v2"
	"testing"

	"github.com/voucherwatch/voucherwatch"
)

// TestTraditionalNamesAreOneName: every traditional form the evasive plants write folds back to
// its simplified character under the domain's canonical name, or the plant would hide nothing
// a detector could find.
func TestTraditionalNamesAreOneName(t *testing.T) {
	for s, tr := range hansToHant {
		if got := voucherwatch.CanonicalName(string(tr)); got != string(s) {
			t.Errorf("CanonicalName(%c): got %q, want %c", tr, got, s)
		}
	}
	name := "湖南长沙华电数据(麓谷)有限公司"
	if got := voucherwatch.CanonicalName(traditionalName(name)); got != voucherwatch.CanonicalName(name) {
		t.Errorf("CanonicalName(%s): got %q, want %q", traditionalName(name), got, voucherwatch.CanonicalName(name))
	}
}

// TestReformsKeepTheIdentifier: each other form of an invoice, phone, e-mail, account or
// identity card the plants write has the original's canonical form, and the draws cover every
// form.
func TestReformsKeepTheIdentifier(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 7))
	for _, inv := range [][2]string{{"043002610007", "00000042"}, {"", "26432000123456789012"}} {
		want, _ := voucherwatch.CanonicalInvoice(inv[0], inv[1])
		forms := map[[2]string]bool{}
		for i := 0; i < 200; i++ {
			c, n := reformInvoice(r, inv[0], inv[1])
			forms[[2]string{c, n}] = true
			if got, _ := voucherwatch.CanonicalInvoice(c, n); got != want {
				t.Errorf("invoice %v cited %s/%s: got key %s, want %s", inv, c, n, got, want)
			}
		}
		if want := map[bool]int{true: 2, false: 3}[inv[0] == ""]; len(forms) != want {
			t.Errorf("invoice %v: got %d forms %v, want %d", inv, len(forms), forms, want)
		}
	}
	for i := 0; i < 50; i++ {
		if got := voucherwatch.CanonicalPhone(reformPhone(r, "13912345678")); got != "+8613912345678" {
			t.Errorf("phone: got %s, want +8613912345678", got)
		}
		if got := voucherwatch.CanonicalEmail(reformEmail(r, "123456@qq.com")); got != "123456@qq.com" {
			t.Errorf("e-mail: got %s, want 123456@qq.com", got)
		}
		if got := voucherwatch.CanonicalBankAccount(reformAccount(r, "6222024301001234567")); got != "6222024301001234567" {
			t.Errorf("account: got %s, want 6222024301001234567", got)
		}
	}
	legacy, ok := legacyID("11010519491231002X")
	if got, _ := voucherwatch.CanonicalIDNumber(legacy); !ok || got != "11010519491231002X" {
		t.Errorf("legacy id %s: got %s, want 11010519491231002X", legacy, got)
	}
}

// TestEvasiveProvince: the evasive plants come on top of the ordinary ones, deterministically,
// with every family and its look-alikes in the truth.
func TestEvasiveProvince(t *testing.T) {
	p := Generate(EvasiveConfig(5))
	q := Generate(EvasiveConfig(5))
	if len(p.Messages) != len(q.Messages) {
		t.Fatalf("got %d and %d messages from one seed, want the same", len(p.Messages), len(q.Messages))
	}
	for i := range p.Messages {
		if !bytes.Equal(p.Messages[i].Value, q.Messages[i].Value) {
			t.Fatalf("message %d differs between two generations of one seed", i)
		}
	}
	kinds := p.Truth.Kinds()
	for _, k := range []string{
		"duplicate_claim/invoice_in_two_claims", "duplicate_claim/claim_resubmitted",
		"duplicate_claim/invoice_of_another_buyer", "duplicate_claim/settlement_not_to_contract_buyer",
		"duplicate_claim/contract_of_another_buyer", "duplicate_claim/sister_companies_own_claims~",
		"resale/resale_to_other_orgs", "resale/resale_same_kind", "resale/group_company_logins~",
		"related_party/shared_phone", "related_party/shared_email", "related_party/shared_bank_account",
		"related_party/same_person", "related_party/direct_stake",
		"related_party/same_name_same_birth_date~", "related_party/same_bank_branch~",
		"related_party/same_building_other_floor~", "related_party/state_fund_small_stakes_both~",
		"price_out_of_range/new_chip_market_price~", "price_out_of_range/bulk_annual_discount~",
	} {
		if kinds[k] == 0 {
			t.Errorf("got no %s case in the evasive province", k)
		}
	}
	plain := Generate(DefaultConfig(5))
	if len(plain.Truth.Cases) >= len(p.Truth.Cases) {
		t.Errorf("got %d cases with Evasive, %d without: want more", len(p.Truth.Cases), len(plain.Truth.Cases))
	}
}
