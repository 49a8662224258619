package synth

import (
	"strings"

	"github.com/voucherwatch/voucherwatch"
)

// DetectorName is the alert detector name of a case's detector: "rule:late_filing" becomes
// "late_filing"; the four contract names stay as they are.
func DetectorName(caseDetector string) string { return strings.TrimPrefix(caseDetector, "rule:") }

// ReportedBy reports whether alert a is about case c: the same detector, and Matches on the
// alert's subjects (the case's applicant, or for a supplier-level case its supplier; no subject
// contradicted; for a duplicate, either side). Besides the anchor, the alert must name a second
// of the case's subjects when the case has two, so that an alert about the same applicant but
// nothing else of the case does not count. Kind and severity are not compared: detectors name
// their findings in their own words.
func (c Case) ReportedBy(a voucherwatch.Alert) bool {
	if a.Detector != DetectorName(c.Detector) {
		return false
	}
	as := alertSubjects(a.Subjects)
	if !c.Matches(as) {
		return false
	}
	agree := 0
	for k := range c.Subjects {
		if _, ok := as[k]; ok {
			agree++ // Matches has checked the value, either side
		}
	}
	return agree >= min(2, len(c.Subjects))
}

// alertSubjects flattens an alert's subjects to the keys the cases use.
func alertSubjects(s voucherwatch.Subjects) map[string]string {
	m := map[string]string{}
	add := func(k, v string) {
		if v != "" {
			m[k] = v
		}
	}
	add("applicant_uscc", s.ApplicantUSCC)
	add("supplier_uscc", s.SupplierUSCC)
	add("claim_id", s.ClaimID)
	add("contract_no", s.ContractNo)
	add("invoice_code", s.InvoiceCode)
	add("invoice_no", s.InvoiceNo)
	add("resource_id", s.ResourceID)
	return m
}
