package detectors

import (
	"context"
	"fmt"
	"time"

	"github.com/voucherwatch/voucherwatch"
)

// ApplicantCredit checks 二(一)1 (D1): an applicant must not be on the seriously-dishonest list
// (严重违法失信名单) nor have a major violation within three years. It reads the applicant's
// latest registry version by envelope time, whatever order the versions arrived in: a listing
// cleared in a newer version is no longer held against the applicant, a listing in a newer
// version is. One alert per claim and finding, high. An applicant the registry does not know
// cannot be checked: that is reported low.
type ApplicantCredit struct{ env Env }

var _ voucherwatch.IncrementalDetector = (*ApplicantCredit)(nil)

// NewApplicantCredit builds the applicant_credit rule.
func NewApplicantCredit(env Env) *ApplicantCredit { return &ApplicantCredit{env: env} }

// Name is "applicant_credit".
func (d *ApplicantCredit) Name() string { return "applicant_credit" }

// Kinds are the kinds its alerts may carry (voucherwatch.AlertKinds has their labels).
func (d *ApplicantCredit) Kinds() []string {
	return []string{"applicant_not_in_registry", "seriously_dishonest", "major_violation"}
}

// Run checks the applicant of every claim.
func (d *ApplicantCredit) Run(ctx context.Context, at time.Time) ([]voucherwatch.Alert, error) {
	cities, err := Cities(ctx, d.env.reads())
	if err != nil {
		return nil, err
	}
	claims, err := ruleLoadClaims(ctx, d.env, "")
	if err != nil {
		return nil, err
	}
	reg, err := ruleLoadRegistry(ctx, d.env)
	if err != nil {
		return nil, err
	}
	return d.judge(claims, reg, cities, at), nil
}

// Check judges the changed claims and every claim of an enterprise whose registry row
// changed, against their applicants' registry rows (LatestClaims and LatestEntitiesOf, by
// key), as Run judges every claim.
func (d *ApplicantCredit) Check(ctx context.Context, at time.Time, changed voucherwatch.Changes) ([]voucherwatch.Alert, error) {
	q := voucherwatch.ClaimQuery{IDs: changed.ClaimIDs(), Applicants: changed.EnterpriseList()}
	if q.IsZero() {
		return nil, nil
	}
	rm := d.env.reads()
	stored, err := rm.LatestClaims(ctx, q)
	if err != nil || len(stored) == 0 {
		return nil, err
	}
	claims := make([]ruleClaim, len(stored))
	applicants := map[string]bool{}
	for i, c := range stored {
		claims[i] = ruleClaim{Claim: c.Claim, Ref: ruleRef{Source: c.Source, ID: c.ID, EventTime: c.Time}}
		applicants[c.ApplicantUSCC] = true
	}
	rows, err := rm.LatestEntitiesOf(ctx, ruleSortedKeys(applicants))
	if err != nil {
		return nil, fmt.Errorf("detectors: %w", err)
	}
	reg := ruleRegistryOf(rows)
	cities := make(map[string]string, len(reg))
	for uscc, e := range reg {
		cities[uscc] = e.City
	}
	return d.judge(claims, reg, cities, at), nil
}

// judge returns the alerts about the applicants of claims.
func (d *ApplicantCredit) judge(claims []ruleClaim, reg map[string]ruleEntity, cities map[string]string, at time.Time) []voucherwatch.Alert {
	var fs []finding
	for _, c := range claims {
		subj := voucherwatch.Subjects{ApplicantUSCC: c.ApplicantUSCC, ClaimID: c.ClaimID}
		e, ok := reg[c.ApplicantUSCC]
		ev := func() map[string]any {
			m := ruleClaimEvidence(c)
			m["applicant_name"] = e.Name
			m["registry_version"] = e.Ref
			m["seriously_dishonest"] = e.SeriouslyDishonest
			m["major_violation_within_3y"] = e.MajorViolation
			return m
		}
		if !ok {
			fs = append(fs, finding{
				Detector: d.Name(), Kind: "applicant_not_in_registry", Severity: voucherwatch.SeverityLow, Score: 0.3,
				Subjects: subj, PolicyClause: clauseCredit,
				Title:    "申请企业不在企业登记信息中，无法核验信用（《实施细则》二 / D1）",
				Reason:   "申请企业 " + c.ApplicantUSCC + " 没有企业登记记录，无法核验其是否被列入严重违法失信名单或近三年有重大违法违规记录（《实施细则》二（一）1 / D1）。",
				Evidence: ruleClaimEvidence(c),
			})
			continue
		}
		if e.SeriouslyDishonest {
			fs = append(fs, finding{
				Detector: d.Name(), Kind: "seriously_dishonest", Severity: voucherwatch.SeverityHigh, Score: 0.95,
				Subjects: subj, PolicyClause: clauseCredit,
				Title: "申请企业被列入严重违法失信名单（《实施细则》二 / D1）",
				Reason: "申请企业 " + e.Name + " 的最新登记信息（" + e.Ref.EventTime.In(voucherwatch.CST).Format(time.DateTime) +
					"）显示其被列入严重违法失信名单；按《实施细则》二（一）1 / D1，申报主体须未被列入严重违法失信名单。",
				Evidence: ev(),
			})
		}
		violation := "近三年内有重大违法违规经营记录"
		if e.SeriouslyDishonest && e.MajorViolation {
			// One alert per claim (its id follows the subjects): the stronger finding names both.
			fd := &fs[len(fs)-1]
			fd.Reason += "该信息同时显示其" + violation + "（二（一）1 / D1）。"
		} else if e.MajorViolation {
			fs = append(fs, finding{
				Detector: d.Name(), Kind: "major_violation", Severity: voucherwatch.SeverityHigh, Score: 0.9,
				Subjects: subj, PolicyClause: clauseCredit,
				Title: "申请企业近三年内有重大违法违规经营记录（《实施细则》二 / D1）",
				Reason: "申请企业 " + e.Name + " 的最新登记信息（" + e.Ref.EventTime.In(voucherwatch.CST).Format(time.DateTime) +
					"）显示其" + violation + "；按《实施细则》二（一）1 / D1，申报主体近三年内须无重大违法违规经营记录。",
				Evidence: ev(),
			})
		}
	}
	return ruleAlerts(fs, cities, at)
}
