package voucherwatch

import (
	"cmp"
	"fmt"
	"math/bits"
	"slices"
	"sort"
	"strings"
)

// The annual round's allocation (集中评审发放, policy §三(二), §四.5): every claim of the round
// gets a line; the lines that may be paid are ranked by a weighted score and funded down the
// ranking until the budget is spent. Allocate is a pure function of AllocationInputs, which a
// frozen version records with their digest, so that the same inputs give the same list and
// digest. Money is integer fen throughout: no float ever holds an amount.

// AllocationMethod names the computation and its version; a frozen version records it.
const AllocationMethod = "allocation-v1"

// How the last of the budget is spent.
const (
	// ModeLastPartial funds the ranked lines in full, in order, and the first line the budget
	// no longer covers with what is left.
	ModeLastPartial = "last_partial"
	// ModeProRata gives every payable line the same share of its assessed subsidy, down to
	// the fen, the remaining fen going one each by largest remainder, then rank.
	ModeProRata = "pro_rata"
)

// The computed factors' criterion names; a round's weights may name them besides the expert
// panel's criteria.
const (
	FactorRealUse      = "real_use"      // metered ÷ billed card-hours of the cited invoices
	FactorDomesticChip = "domestic_chip" // share of the compute amount on domestic chips
	FactorSME          = "sme"           // 100 for a small or medium enterprise, else 0
)

// DefaultRoundWeights are the weights of the computed factors when the round sets none;
// an expert criterion without a weight weighs 1.
var DefaultRoundWeights = map[string]float64{FactorRealUse: 1, FactorDomesticChip: 0.5, FactorSME: 0.5}

// The states of a line.
const (
	LineAllocated = "allocated" // receives a positive amount
	LineHeld      = "held"      // an open high-severity alert waits for a decision
	LineExcluded  = "excluded"  // a confirmed violation, or nothing assessed
	LineUnfunded  = "unfunded"  // payable, but the budget ran out above it
)

// RoundAlert is an alert a line is weighed with: on the claim, or on its applicant naming no
// claim, as the claim page lists them.
type RoundAlert struct {
	ID       string   `json:"id"`
	Detector string   `json:"detector"`
	Severity Severity `json:"severity"`
	Status   Status   `json:"status"`
	Title    string   `json:"title"`
	// Recovery is the amount ordered recovered (recovery_ordered), fen; 0 when none.
	Recovery Money `json:"recovery"`
}

// RoundClaim is one claim of the round as the allocation reads it: the assessment's maximum
// subsidy, the alerts, and the computed factors. A factor is nil when it has no denominator
// (no card-hour billed, no compute amount): it then counts 0, and the line says so.
type RoundClaim struct {
	ClaimID       string       `json:"claim_id"`
	ApplicantUSCC string       `json:"applicant_uscc"`
	ApplicantName string       `json:"applicant_name"`
	City          string       `json:"city"`
	Assessed      Money        `json:"assessed"` // the assessment's max_subsidy_fen
	Alerts        []RoundAlert `json:"alerts"`
	RealUse       *float64     `json:"real_use"`
	DomesticShare *float64     `json:"domestic_share"`
	SME           bool         `json:"sme"`
}

// RoundScore is one expert score: a claim, a criterion, a score from 0 to 100, the panel's
// comment.
type RoundScore struct {
	ClaimID   string  `json:"claim_id"`
	Criterion string  `json:"criterion"`
	Score     float64 `json:"score"`
	Comment   string  `json:"comment"`
}

// AllocationInputs are everything a round's list is computed from.
type AllocationInputs struct {
	RoundID string             `json:"round_id"`
	Year    int                `json:"year"`
	Budget  Money              `json:"budget"`
	Mode    string             `json:"mode"`
	Weights map[string]float64 `json:"weights"`
	Claims  []RoundClaim       `json:"claims"`
	Scores  []RoundScore       `json:"scores"`
}

// Canonical sorts the inputs' lists (claims by id, alerts by id, scores by claim and
// criterion) so that equal facts give equal JSON and digest, and makes nil lists empty.
func (in AllocationInputs) Canonical() AllocationInputs {
	out := in
	if out.Mode == "" {
		out.Mode = ModeLastPartial
	}
	out.Weights = map[string]float64{}
	for k, v := range in.Weights {
		out.Weights[k] = v
	}
	out.Claims = slices.Clone(in.Claims)
	if out.Claims == nil {
		out.Claims = []RoundClaim{}
	}
	for i := range out.Claims {
		c := &out.Claims[i]
		c.Alerts = slices.Clone(c.Alerts)
		if c.Alerts == nil {
			c.Alerts = []RoundAlert{}
		}
		slices.SortFunc(c.Alerts, func(a, b RoundAlert) int { return cmp.Compare(a.ID, b.ID) })
	}
	slices.SortFunc(out.Claims, func(a, b RoundClaim) int { return cmp.Compare(a.ClaimID, b.ClaimID) })
	out.Scores = slices.Clone(in.Scores)
	if out.Scores == nil {
		out.Scores = []RoundScore{}
	}
	slices.SortFunc(out.Scores, func(a, b RoundScore) int {
		return cmp.Or(cmp.Compare(a.ClaimID, b.ClaimID), cmp.Compare(a.Criterion, b.Criterion))
	})
	return out
}

// Digest is the hex SHA-256 of the canonical inputs' JSON (map keys marshal sorted).
func (in AllocationInputs) Digest() string { return InputsDigest(in.Canonical()) }

// AllocationLine is one claim's line of the list. Amounts are fen here; the wire carries them
// as yuan strings (LineJSON).
type AllocationLine struct {
	ClaimID       string
	ApplicantUSCC string
	ApplicantName string
	City          string
	Assessed      Money
	// Score is the weighted score, 0..100, four decimals; Rank its place among the payable
	// lines (1 first), 0 for held and excluded lines.
	Score     float64
	Rank      int
	Allocated Money
	State     string
	Reason    string // Chinese; why the line is not funded in full
	// Recovery is what has been ordered recovered on the claim's alerts since.
	Recovery Money
	// AlertIDs are the alerts that hold or exclude the line.
	AlertIDs []string
}

// Allocation is a computed list.
type Allocation struct {
	Lines []AllocationLine
	Total Money // the sum of Allocated: at most the budget, exactly it when claims exceed it
	// Payable sums the assessed subsidy of the ranked (allocated and unfunded) lines.
	Payable Money
}

// ValidMode reports whether m is an allocation mode ("" is last_partial).
func ValidMode(m string) bool { return m == "" || m == ModeLastPartial || m == ModeProRata }

// CheckWeights refuses a negative, NaN or infinite weight; EINVALID naming weights.
func CheckWeights(w map[string]float64) error {
	for k, v := range w {
		if !(v >= 0 && v < 1e6) || strings.TrimSpace(k) == "" {
			return FieldErrorf("weights", "weight of %q: want a number from 0 to 1e6, got %v", k, v)
		}
	}
	return nil
}

// openStatus reports whether an alert with status s still waits for a decision.
func openStatus(s Status) bool {
	return s == StatusNew || s == StatusReviewing || s == StatusExplanationRequested
}

// violationStatus reports whether an alert with status s is a confirmed violation.
func violationStatus(s Status) bool {
	return s == StatusConfirmed || s == StatusRecoveryOrdered || s == StatusRecovered
}

// Allocate computes the list from its inputs and reads nothing else. A line is excluded when
// an alert on it is a confirmed violation (or nothing is assessed), held when an open alert
// of high severity waits for a decision; the others are ranked by their weighted score,
// highest first, ties broken by claim id, and funded down the ranking by the inputs' mode.
// The total is exactly the budget when the payable lines' assessed subsidy exceeds it.
func Allocate(in AllocationInputs) Allocation {
	in = in.Canonical()
	weights := map[string]float64{}
	for k, v := range DefaultRoundWeights {
		weights[k] = v
	}
	for _, s := range in.Scores {
		weights[s.Criterion] = 1
	}
	for k, v := range in.Weights {
		weights[k] = v
	}
	// The mean score per claim and criterion (a panel may score a criterion more than once).
	expert := map[string]map[string]*scoreSum{}
	criteria := []string{}
	seen := map[string]bool{}
	for _, s := range in.Scores {
		if expert[s.ClaimID] == nil {
			expert[s.ClaimID] = map[string]*scoreSum{}
		}
		e := expert[s.ClaimID][s.Criterion]
		if e == nil {
			e = &scoreSum{}
			expert[s.ClaimID][s.Criterion] = e
		}
		e.total += s.Score
		e.n++
		if !seen[s.Criterion] {
			seen[s.Criterion] = true
			criteria = append(criteria, s.Criterion)
		}
	}
	sort.Strings(criteria)

	out := Allocation{Lines: make([]AllocationLine, 0, len(in.Claims))}
	var ranked []int // indices into out.Lines
	for _, c := range in.Claims {
		l := AllocationLine{ClaimID: c.ClaimID, ApplicantUSCC: c.ApplicantUSCC, ApplicantName: c.ApplicantName,
			City: c.City, Assessed: c.Assessed, AlertIDs: []string{}}
		var confirmed, held []string
		for _, a := range c.Alerts {
			l.Recovery += a.Recovery
			switch {
			case violationStatus(a.Status):
				confirmed = append(confirmed, a.Title+"（"+a.ID+"）")
				l.AlertIDs = append(l.AlertIDs, a.ID)
			case openStatus(a.Status) && a.Severity == SeverityHigh:
				held = append(held, a.Title+"（"+a.ID+"）")
				l.AlertIDs = append(l.AlertIDs, a.ID)
			}
		}
		switch {
		case len(confirmed) > 0:
			l.State, l.Reason = LineExcluded, "存在已确认的违规："+strings.Join(confirmed, "；")+"，不予安排"
		case len(held) > 0:
			l.State, l.Reason = LineHeld, "存在待处理的高风险预警："+strings.Join(held, "；")+"，暂缓安排，待核查结论"
		case c.Assessed <= 0:
			l.State, l.Reason = LineExcluded, "核定可补贴金额为 0 元，不予安排"
		default:
			l.Score = weightedScore(c, expert[c.ClaimID], criteria, weights)
			ranked = append(ranked, len(out.Lines))
		}
		out.Lines = append(out.Lines, l)
	}
	sort.SliceStable(ranked, func(i, j int) bool {
		a, b := out.Lines[ranked[i]], out.Lines[ranked[j]]
		if a.Score != b.Score {
			return a.Score > b.Score
		}
		return a.ClaimID < b.ClaimID
	})
	for r, i := range ranked {
		out.Lines[i].Rank = r + 1
		out.Payable += out.Lines[i].Assessed
	}
	if in.Mode == ModeProRata && out.Payable > in.Budget {
		allocateProRata(out.Lines, ranked, in.Budget, out.Payable)
	} else {
		allocateInOrder(out.Lines, ranked, in.Budget)
	}
	for _, i := range ranked {
		out.Total += out.Lines[i].Allocated
	}
	// The list reads in rank order, then the lines set aside, by claim id.
	slices.SortStableFunc(out.Lines, func(a, b AllocationLine) int {
		ra, rb := a.Rank, b.Rank
		if ra == 0 {
			ra = 1 << 30
		}
		if rb == 0 {
			rb = 1 << 30
		}
		return cmp.Or(cmp.Compare(ra, rb), cmp.Compare(a.ClaimID, b.ClaimID))
	})
	return out
}

// scoreSum adds up a claim's scores of one criterion.
type scoreSum struct {
	total float64
	n     int
}

// weightedScore is Σ w·x ÷ Σ w over the expert criteria (mean score, 0 when the claim has
// none) and the computed factors (as percentages), rounded to four decimals so that equal
// scores compare equal whatever the float arithmetic did.
func weightedScore(c RoundClaim, expert map[string]*scoreSum, criteria []string, weights map[string]float64) float64 {
	var num, den float64
	for _, k := range criteria {
		w := weights[k]
		var x float64
		if e := expert[k]; e != nil && e.n > 0 {
			x = e.total / float64(e.n)
		}
		num, den = num+w*x, den+w
	}
	factor := func(k string, x float64) {
		w := weights[k]
		num, den = num+w*x, den+w
	}
	pct := func(p *float64) float64 {
		if p == nil {
			return 0
		}
		return min(max(*p, 0), 1) * 100
	}
	factor(FactorRealUse, pct(c.RealUse))
	factor(FactorDomesticChip, pct(c.DomesticShare))
	sme := 0.0
	if c.SME {
		sme = 100
	}
	factor(FactorSME, sme)
	if den == 0 {
		return 0
	}
	return RoundTo(num/den, 4)
}

// allocateInOrder funds the ranked lines in full while the budget lasts, the first it does not
// cover with what is left.
func allocateInOrder(lines []AllocationLine, ranked []int, budget Money) {
	left := budget
	for _, i := range ranked {
		l := &lines[i]
		l.Allocated = min(l.Assessed, left)
		left -= l.Allocated
		switch {
		case l.Allocated == l.Assessed:
			l.State = LineAllocated
		case l.Allocated > 0:
			l.State = LineAllocated
			l.Reason = fmt.Sprintf("预算余额不足，按排名第 %d 位安排剩余预算 %s 元（核定 %s 元）", l.Rank, l.Allocated, l.Assessed)
		default:
			l.State = LineUnfunded
			l.Reason = fmt.Sprintf("排名第 %d 位，年度预算已安排完毕", l.Rank)
		}
	}
}

// allocateProRata gives each ranked line ⌊assessed × budget ÷ payable⌋ fen, then the fen left
// (fewer than the lines) one each by largest remainder, ties by rank. The products are 128-bit:
// a large budget times a capped claim overflows 63 bits.
func allocateProRata(lines []AllocationLine, ranked []int, budget, payable Money) {
	type rem struct {
		i   int
		r   uint64
		pos int
	}
	rems := make([]rem, 0, len(ranked))
	var given Money
	for pos, i := range ranked {
		l := &lines[i]
		hi, lo := bits.Mul64(uint64(l.Assessed), uint64(budget))
		q, r := bits.Div64(hi, lo, uint64(payable)) // q ≤ assessed: hi < payable
		l.Allocated = Money(q)
		given += l.Allocated
		rems = append(rems, rem{i, r, pos})
	}
	slices.SortFunc(rems, func(a, b rem) int { return cmp.Or(cmp.Compare(b.r, a.r), cmp.Compare(a.pos, b.pos)) })
	for k := 0; given < budget && k < len(rems); k++ {
		lines[rems[k].i].Allocated++
		given++
	}
	for _, i := range ranked {
		l := &lines[i]
		l.State = LineAllocated
		if l.Allocated == 0 {
			l.State = LineUnfunded
		}
		l.Reason = fmt.Sprintf("申请总额超出预算，按 %s ÷ %s 的比例安排", budget, payable)
	}
}

// LineJSON is a line on the wire: money as yuan strings, as the contract writes it.
type LineJSON struct {
	ClaimID       string   `json:"claim_id"`
	ApplicantUSCC string   `json:"applicant_uscc"`
	ApplicantName string   `json:"applicant_name"`
	City          string   `json:"city"`
	Assessed      string   `json:"assessed"`
	Score         float64  `json:"score"`
	Rank          int      `json:"rank"`
	Allocated     string   `json:"allocated"`
	State         string   `json:"state"`
	Reason        string   `json:"reason"`
	Recovery      string   `json:"recovery_ordered"`
	AlertIDs      []string `json:"alert_ids"`
}

// JSON is the line as the API answers it.
func (l AllocationLine) JSON() LineJSON {
	ids := l.AlertIDs
	if ids == nil {
		ids = []string{}
	}
	return LineJSON{ClaimID: l.ClaimID, ApplicantUSCC: l.ApplicantUSCC, ApplicantName: l.ApplicantName, City: l.City,
		Assessed: l.Assessed.String(), Score: l.Score, Rank: l.Rank, Allocated: l.Allocated.String(), State: l.State,
		Reason: l.Reason, Recovery: l.Recovery.String(), AlertIDs: ids}
}
