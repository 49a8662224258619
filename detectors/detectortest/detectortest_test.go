package detectortest

import (
	"testing"

	"github.com/voucherwatch/voucherwatch"
	"github.com/voucherwatch/voucherwatch/synth"
)

// paymentRefShared is a two-payer duplicate: B reuses A's payment reference.
var paymentRefShared = synth.Case{Detector: synth.DetDuplicate, Kind: "payment_ref_shared", Severity: "high",
	Subjects: map[string]string{"applicant_uscc": "B", "supplier_uscc": "S", "contract_no": "KB", "claim_id": "CB", "invoice_no": "IB"},
	Context:  map[string]string{"other_applicant_uscc": "A", "other_contract_no": "KA", "other_claim_id": "CA", "other_invoice_no": "IA"}}

func dupAlert(kind string, sev voucherwatch.Severity, s voucherwatch.Subjects) voucherwatch.Alert {
	return voucherwatch.Alert{Detector: voucherwatch.DetectorDuplicateClaim, Kind: kind, Severity: sev, Subjects: s}
}

func TestMatches(t *testing.T) {
	f := func(name string, a voucherwatch.Alert, want bool) {
		t.Helper()
		if got := Matches(a, paymentRefShared); got != want {
			t.Errorf("%s: got %v, want %v", name, got, want)
		}
	}
	f("the reuser", dupAlert("payment_ref_shared", "high", voucherwatch.Subjects{ApplicantUSCC: "B", SupplierUSCC: "S", ContractNo: "KB", InvoiceNo: "IB"}), true)
	f("the other side", dupAlert("payment_ref_shared", "low", voucherwatch.Subjects{ApplicantUSCC: "A", SupplierUSCC: "S", ContractNo: "KA", InvoiceNo: "IA"}), true)
	f("a contradicted contract", dupAlert("payment_ref_shared", "high", voucherwatch.Subjects{ApplicantUSCC: "B", ContractNo: "KX"}), false)
	f("the applicant alone", dupAlert("payment_ref_shared", "high", voucherwatch.Subjects{ApplicantUSCC: "B"}), false)
	f("no applicant", dupAlert("payment_ref_shared", "high", voucherwatch.Subjects{SupplierUSCC: "S", InvoiceNo: "IB"}), false)
	f("another detector", voucherwatch.Alert{Detector: "resale", Subjects: voucherwatch.Subjects{ApplicantUSCC: "B", ContractNo: "KB"}}, false)
}

func TestEvaluateKinds(t *testing.T) {
	truth := synth.Truth{Cases: []synth.Case{paymentRefShared}}
	reuser := voucherwatch.Subjects{ApplicantUSCC: "B", SupplierUSCC: "S", ContractNo: "KB", InvoiceNo: "IB"}
	f := func(name string, alerts []voucherwatch.Alert, found, tp int) {
		t.Helper()
		s := Evaluate(voucherwatch.DetectorDuplicateClaim, alerts, truth)
		if s.Found != found || s.TruePositives != tp {
			t.Errorf("%s: got found %d, true positives %d, want %d and %d", name, s.Found, s.TruePositives, found, tp)
		}
	}
	// The detector says "payment_ref_shared" elsewhere: the case counts under that kind only.
	f("its own kind", []voucherwatch.Alert{dupAlert("payment_ref_shared", "high", reuser)}, 1, 1)
	f("another kind while the detector has the case's", []voucherwatch.Alert{
		dupAlert("invoice_in_two_claims", "high", reuser),
		dupAlert("payment_ref_shared", "high", voucherwatch.Subjects{ApplicantUSCC: "X", ContractNo: "KX"}),
	}, 0, 0)
	// The detector never says "payment_ref_shared": its own word for it counts.
	f("the detector's own word", []voucherwatch.Alert{dupAlert("shared_payment", "high", reuser)}, 1, 1)
	if s := Evaluate(voucherwatch.DetectorDuplicateClaim, []voucherwatch.Alert{dupAlert("payment_ref_shared", "low", reuser)}, truth); s.Found != 1 || len(s.Weaker) != 1 {
		t.Errorf("found only at low severity: got found %d, weaker %v, want 1 and one entry", s.Found, s.Weaker)
	}
}
