package detectors

import (
	"context"
	"fmt"
	"sort"
	"time"

	"github.com/voucherwatch/voucherwatch"
	"github.com/voucherwatch/voucherwatch/rules"
)

// A backtest answers what would change if the policy's numbers changed (docs/priorities.md):
// it runs every detector and the claim assessment over the stored records twice, with the
// policy in force and with the changed one, and compares. Its alerts stay in memory: it never
// writes the live alerts (or anything else), so the supervisors' workflow cannot see it.

// MaxBacktestEnterprises bounds voucherwatch.BacktestDiff.Enterprises.
const MaxBacktestEnterprises = 50

// Backtest runs the detectors and the assessment over env's records as of at with env.Policy
// (before) and with changed (after), and compares. Bound its time with ctx.
func Backtest(ctx context.Context, env Env, changed rules.Policy, at time.Time) (voucherwatch.BacktestDiff, error) {
	diff := voucherwatch.BacktestDiff{At: at}
	after := env
	after.Policy = changed
	b, bFailed, err := backtestRun(ctx, env, at)
	if err != nil {
		return diff, err
	}
	a, aFailed, err := backtestRun(ctx, after, at)
	if err != nil {
		return diff, err
	}
	failed := map[string]bool{}
	for _, n := range append(bFailed, aFailed...) {
		failed[n] = true
	}
	diff.Failed = ruleSortedKeys(failed)

	before := map[string]voucherwatch.Alert{}
	for _, x := range b.alerts {
		if !failed[x.Detector] {
			before[x.ID] = x
		}
	}
	afterByID := map[string]voucherwatch.Alert{}
	for _, x := range a.alerts {
		if !failed[x.Detector] {
			afterByID[x.ID] = x
		}
	}
	counts := map[[2]string]*voucherwatch.BacktestCount{}
	count := func(x voucherwatch.Alert) *voucherwatch.BacktestCount {
		k := [2]string{x.Detector, x.City}
		if counts[k] == nil {
			counts[k] = &voucherwatch.BacktestCount{Detector: x.Detector, City: x.City}
		}
		return counts[k]
	}
	ents := map[string]*voucherwatch.BacktestEnterprise{}
	ent := func(uscc, city string) *voucherwatch.BacktestEnterprise {
		if ents[uscc] == nil {
			ents[uscc] = &voucherwatch.BacktestEnterprise{USCC: uscc, City: city, Name: b.names[uscc]}
		}
		return ents[uscc]
	}
	for id, x := range afterByID {
		if _, ok := before[id]; !ok {
			diff.Appeared = append(diff.Appeared, backtestAlert(x))
			count(x).Appeared++
			ent(alertEnterprise(x), x.City).Appeared++
		}
	}
	for id, x := range before {
		if _, ok := afterByID[id]; !ok {
			diff.Disappeared = append(diff.Disappeared, backtestAlert(x))
			count(x).Disappeared++
			ent(alertEnterprise(x), x.City).Disappeared++
		}
	}
	sortBacktestAlerts(diff.Appeared)
	sortBacktestAlerts(diff.Disappeared)
	for _, c := range counts {
		diff.Counts = append(diff.Counts, *c)
	}
	sort.Slice(diff.Counts, func(i, j int) bool {
		x, y := diff.Counts[i], diff.Counts[j]
		if x.Detector != y.Detector {
			return x.Detector < y.Detector
		}
		return x.City < y.City
	})

	// Subsidy payable, per claim, before and after.
	subsidy := map[string]*voucherwatch.BacktestSubsidy{"": {}}
	add := func(city string, claims int, before, after backtestPayable) {
		for _, c := range []string{"", city} {
			if subsidy[c] == nil {
				subsidy[c] = &voucherwatch.BacktestSubsidy{City: c}
			}
			subsidy[c].Claims += claims
			subsidy[c].Before += voucherwatch.Yuan(before.fen)
			subsidy[c].After += voucherwatch.Yuan(after.fen)
			subsidy[c].AssessedBefore += voucherwatch.Yuan(before.assessed)
			subsidy[c].AssessedAfter += voucherwatch.Yuan(after.assessed)
			if c == city {
				break // a claim without a city counts once, in the province
			}
		}
	}
	for id, x := range b.payable {
		y := a.payable[id]
		add(x.city, 1, x, y)
		if x.fen != y.fen {
			e := ent(x.applicant, x.city)
			e.Before += voucherwatch.Yuan(x.fen)
			e.After += voucherwatch.Yuan(y.fen)
		}
	}
	for _, s := range subsidy {
		diff.Subsidy = append(diff.Subsidy, *s)
	}
	sort.Slice(diff.Subsidy, func(i, j int) bool { return diff.Subsidy[i].City < diff.Subsidy[j].City })

	for _, e := range ents {
		diff.Enterprises = append(diff.Enterprises, *e)
	}
	impact := func(e voucherwatch.BacktestEnterprise) voucherwatch.Yuan {
		d := e.After - e.Before
		if d < 0 {
			d = -d
		}
		return d
	}
	sort.Slice(diff.Enterprises, func(i, j int) bool {
		x, y := diff.Enterprises[i], diff.Enterprises[j]
		if impact(x) != impact(y) {
			return impact(x) > impact(y)
		}
		if x.Appeared+x.Disappeared != y.Appeared+y.Disappeared {
			return x.Appeared+x.Disappeared > y.Appeared+y.Disappeared
		}
		return x.USCC < y.USCC
	})
	if len(diff.Enterprises) > MaxBacktestEnterprises {
		diff.Enterprises = diff.Enterprises[:MaxBacktestEnterprises]
	}
	if diff.Appeared == nil {
		diff.Appeared = []voucherwatch.BacktestAlert{}
	}
	if diff.Disappeared == nil {
		diff.Disappeared = []voucherwatch.BacktestAlert{}
	}
	return diff, nil
}

// backtestSide is one run of a backtest.
type backtestSide struct {
	alerts  []voucherwatch.Alert
	payable map[string]backtestPayable // by claim id
	names   map[string]string
}

type backtestPayable struct {
	applicant, city string
	assessed        voucherwatch.Money // Payable
	fen             voucherwatch.Money // less what the alerts put at stake of it
}

// backtestRun runs every detector with env's policy, keeping the alerts in memory, and
// assesses every claim. A detector's failure is reported by name, not as the run's error,
// unless ctx is done.
func backtestRun(ctx context.Context, env Env, at time.Time) (backtestSide, []string, error) {
	side := backtestSide{payable: map[string]backtestPayable{}, names: map[string]string{}}
	var failed []string
	for _, d := range All(env) {
		alerts, err := d.Run(ctx, at)
		if ctx.Err() != nil {
			return side, nil, fmt.Errorf("detectors: backtest: %w", ctx.Err())
		}
		if err != nil {
			failed = append(failed, d.Name())
			continue
		}
		for i := range alerts {
			if alerts[i].Detector == "" {
				alerts[i].Detector = d.Name()
			}
		}
		side.alerts = append(side.alerts, alerts...)
	}
	facts, err := loadStakeFacts(ctx, env)
	if err != nil {
		return side, nil, fmt.Errorf("detectors: backtest: %w", err)
	}
	removed := map[string]voucherwatch.Money{}
	for i := range side.alerts {
		a := &side.alerts[i]
		stakeAlert(env, facts, a)
		if withheldByAssessment[a.Detector] || a.Detector == "unregistered_supplier" && a.Subjects.ClaimID != "" {
			continue // above the assessed subsidy, not part of it
		}
		for _, cs := range a.StakeClaims {
			removed[cs.ClaimID] += cs.AtStake
		}
	}
	for _, as := range facts.assessments {
		p := Payable(as)
		side.payable[as.ClaimID] = backtestPayable{applicant: as.ApplicantUSCC, city: as.City, assessed: p, fen: p - min(p, removed[as.ClaimID])}
		side.names[as.ApplicantUSCC] = as.ApplicantName
	}
	return side, failed, nil
}

func alertEnterprise(a voucherwatch.Alert) string {
	if a.Subjects.ApplicantUSCC != "" {
		return a.Subjects.ApplicantUSCC
	}
	return a.Subjects.SupplierUSCC
}

func backtestAlert(a voucherwatch.Alert) voucherwatch.BacktestAlert {
	return voucherwatch.BacktestAlert{ID: a.ID, Detector: a.Detector, Kind: a.Kind, Severity: a.Severity, City: a.City,
		ApplicantUSCC: a.Subjects.ApplicantUSCC, SupplierUSCC: a.Subjects.SupplierUSCC, ClaimID: a.Subjects.ClaimID,
		Title: a.Title, AtStake: voucherwatch.Yuan(a.AtStake)}
}

func sortBacktestAlerts(xs []voucherwatch.BacktestAlert) {
	sort.Slice(xs, func(i, j int) bool {
		if xs[i].Detector != xs[j].Detector {
			return xs[i].Detector < xs[j].Detector
		}
		return xs[i].ID < xs[j].ID
	})
}
