package voucherwatch

import (
	"math/rand"
	"strings"
	"testing"
	"time"
)

func fptr(v float64) *float64 { return &v }

// roundFixture is a round of claims with odd fen amounts: two with alerts that must set them
// aside (a confirmed violation, an open high alert) and look-alikes that must not (a dismissed
// high alert, an open medium one).
func roundFixture() AllocationInputs {
	return AllocationInputs{
		RoundID: "rd-1", Year: 2026, Budget: 1_000_000_01, // 1,000,000.01 yuan
		Claims: []RoundClaim{
			{ClaimID: "SB2026-00103", ApplicantUSCC: "A3", City: "430100", Assessed: 400_000_03, RealUse: fptr(0.9)},
			{ClaimID: "SB2026-00101", ApplicantUSCC: "A1", City: "430100", Assessed: 500_000_07, RealUse: fptr(0.5), SME: true},
			{ClaimID: "SB2026-00102", ApplicantUSCC: "A2", City: "430200", Assessed: 300_000_11, RealUse: fptr(0.7),
				Alerts: []RoundAlert{{ID: "al-dismissed", Severity: SeverityHigh, Status: StatusDismissed, Title: "重复申领"},
					{ID: "al-medium", Severity: SeverityMedium, Status: StatusReviewing, Title: "迟报"}}},
			{ClaimID: "SB2026-00104", ApplicantUSCC: "A4", City: "430300", Assessed: 900_000_00, RealUse: fptr(1),
				Alerts: []RoundAlert{{ID: "al-confirmed", Severity: SeverityMedium, Status: StatusRecoveryOrdered, Title: "转售", Recovery: 12_345}}},
			{ClaimID: "SB2026-00105", ApplicantUSCC: "A5", City: "430400", Assessed: 900_000_00, RealUse: fptr(1),
				Alerts: []RoundAlert{{ID: "al-open-high", Severity: SeverityHigh, Status: StatusNew, Title: "发票不符"}}},
			{ClaimID: "SB2026-00106", ApplicantUSCC: "A6", City: "430500", Assessed: 0},
		},
		Scores: []RoundScore{
			{ClaimID: "SB2026-00101", Criterion: "innovation", Score: 90},
			{ClaimID: "SB2026-00102", Criterion: "innovation", Score: 80},
			{ClaimID: "SB2026-00103", Criterion: "innovation", Score: 60},
		},
	}
}

func lineOf(t *testing.T, a Allocation, id string) AllocationLine {
	t.Helper()
	for _, l := range a.Lines {
		if l.ClaimID == id {
			return l
		}
	}
	t.Fatalf("no line %s", id)
	return AllocationLine{}
}

func TestAllocateLastPartialSpendsTheBudgetToTheFen(t *testing.T) {
	a := Allocate(roundFixture())
	if a.Total != 1_000_000_01 {
		t.Errorf("total: got %s, want 1000000.01", a.Total)
	}
	want := map[string]struct {
		state     string
		allocated Money
	}{
		"SB2026-00101": {LineAllocated, 500_000_07},
		"SB2026-00102": {LineAllocated, 300_000_11},
		"SB2026-00103": {LineAllocated, 199_999_83},
		"SB2026-00104": {LineExcluded, 0},
		"SB2026-00105": {LineHeld, 0},
		"SB2026-00106": {LineExcluded, 0},
	}
	for id, w := range want {
		l := lineOf(t, a, id)
		if l.State != w.state || l.Allocated != w.allocated {
			t.Errorf("%s: got %s %s, want %s %s", id, l.State, l.Allocated, w.state, w.allocated)
		}
	}
	if l := lineOf(t, a, "SB2026-00104"); !strings.Contains(l.Reason, "已确认的违规") || !strings.Contains(l.Reason, "al-confirmed") || l.Recovery != 12_345 {
		t.Errorf("excluded line: got reason %q recovery %s", l.Reason, l.Recovery)
	}
	if l := lineOf(t, a, "SB2026-00105"); !strings.Contains(l.Reason, "高风险预警") || !strings.Contains(l.Reason, "al-open-high") {
		t.Errorf("held line: got reason %q", l.Reason)
	}
	if l := lineOf(t, a, "SB2026-00103"); !strings.Contains(l.Reason, "预算余额不足") {
		t.Errorf("partial line: got reason %q", l.Reason)
	}
	// Ranked first, in rank order, the lines set aside after them.
	var order []string
	for _, l := range a.Lines {
		order = append(order, l.ClaimID)
	}
	if got := strings.Join(order[:3], ","); got != "SB2026-00101,SB2026-00102,SB2026-00103" {
		t.Errorf("ranking: got %s", got)
	}
}

func TestAllocateProRataSpendsTheBudgetToTheFen(t *testing.T) {
	in := roundFixture()
	in.Mode = ModeProRata
	a := Allocate(in)
	if a.Total != in.Budget {
		t.Errorf("total: got %s, want %s", a.Total, in.Budget)
	}
	for _, l := range a.Lines {
		if l.Allocated > l.Assessed {
			t.Errorf("%s: allocated %s above assessed %s", l.ClaimID, l.Allocated, l.Assessed)
		}
		if l.Rank > 0 && l.Allocated == 0 {
			t.Errorf("%s: ranked but nothing allocated", l.ClaimID)
		}
	}
	// Random budgets and amounts: always exactly the budget, never above an assessment.
	r := rand.New(rand.NewSource(7))
	for n := 0; n < 200; n++ {
		in := AllocationInputs{Mode: ModeProRata, Budget: Money(1 + r.Int63n(5_000_000_000_00))}
		var payable Money
		for i := 0; i < 1+r.Intn(40); i++ {
			c := RoundClaim{ClaimID: string(rune('A'+i%26)) + strings.Repeat("x", i/26), Assessed: Money(1 + r.Int63n(10_000_000_00))}
			payable += c.Assessed
			in.Claims = append(in.Claims, c)
		}
		a := Allocate(in)
		if want := min(payable, in.Budget); a.Total != want {
			t.Fatalf("case %d: total %s, want %s", n, a.Total, want)
		}
	}
}

func TestAllocateIsDeterministic(t *testing.T) {
	in := roundFixture()
	a, d := Allocate(in), in.Digest()
	// The same facts in another order: the same list and digest.
	shuffled := in
	shuffled.Claims = append([]RoundClaim{}, in.Claims...)
	for i, j := 0, len(shuffled.Claims)-1; i < j; i, j = i+1, j-1 {
		shuffled.Claims[i], shuffled.Claims[j] = shuffled.Claims[j], shuffled.Claims[i]
	}
	shuffled.Scores = []RoundScore{in.Scores[2], in.Scores[0], in.Scores[1]}
	if got := shuffled.Digest(); got != d {
		t.Errorf("digest of shuffled inputs: got %s, want %s", got, d)
	}
	b := Allocate(shuffled)
	for i := range a.Lines {
		if a.Lines[i].ClaimID != b.Lines[i].ClaimID || a.Lines[i].Allocated != b.Lines[i].Allocated {
			t.Errorf("line %d: got %s %s, want %s %s", i, b.Lines[i].ClaimID, b.Lines[i].Allocated, a.Lines[i].ClaimID, a.Lines[i].Allocated)
		}
	}
	// A changed weight changes the digest.
	in.Weights = map[string]float64{FactorRealUse: 5}
	if in.Digest() == d {
		t.Error("a changed weight kept the digest")
	}
}

func TestAllocateBreaksTiesByClaimID(t *testing.T) {
	in := AllocationInputs{Budget: 150, Claims: []RoundClaim{
		{ClaimID: "SB2026-00200", Assessed: 100}, {ClaimID: "SB2026-00199", Assessed: 100},
	}}
	a := Allocate(in)
	if l := a.Lines[0]; l.ClaimID != "SB2026-00199" || l.Rank != 1 || l.Allocated != 100 {
		t.Errorf("first line: got %s rank %d %s", l.ClaimID, l.Rank, l.Allocated)
	}
	if l := a.Lines[1]; l.Allocated != 50 {
		t.Errorf("second line: got %s, want 0.50", l.Allocated)
	}
}

func TestAllocateWeightsMoveTheRanking(t *testing.T) {
	in := roundFixture()
	// By default the expert score (90 vs 60) keeps 00101 ahead of 00103.
	if l := lineOf(t, Allocate(in), "SB2026-00101"); l.Rank != 1 {
		t.Fatalf("00101: got rank %d, want 1", l.Rank)
	}
	in.Weights = map[string]float64{"innovation": 0, FactorRealUse: 1, FactorSME: 0, FactorDomesticChip: 0}
	a := Allocate(in)
	if l := lineOf(t, a, "SB2026-00103"); l.Rank != 1 {
		t.Errorf("00103 by real use alone: got rank %d, want 1", l.Rank)
	}
}

func TestNoticeEndsCountsWorkingDays(t *testing.T) {
	// Published Thursday 2026-12-03: five working days are Fri 4, Mon 7 .. Thu 10; the
	// notice ends at the start of Friday 11.
	pub := time.Date(2026, 12, 3, 15, 0, 0, 0, CST)
	if got, want := NoticeEnds(pub, 5), time.Date(2026, 12, 11, 0, 0, 0, 0, CST); !got.Equal(want) {
		t.Errorf("got %s, want %s", got, want)
	}
}

func TestCheckRoundRequest(t *testing.T) {
	three := 3
	r, err := CheckRoundRequest(RoundRequest{Year: 2026, Budget: "50000000.00", NoticeDays: &three})
	if err != nil || r.Budget != 50_000_000_00 || r.NoticeDays != 3 {
		t.Errorf("got %+v %v", r, err)
	}
	if r, _ := CheckRoundRequest(RoundRequest{Year: 2026, Budget: "1"}); r.NoticeDays != DefaultNoticeDays {
		t.Errorf("default notice: got %d", r.NoticeDays)
	}
	for _, q := range []RoundRequest{{Year: 2026, Budget: "1.001"}, {Year: 2026, Budget: "-5"}, {Year: 1999, Budget: "5"}} {
		if _, err := CheckRoundRequest(q); ErrorCode(err) != EINVALID {
			t.Errorf("%+v: got %v, want EINVALID", q, err)
		}
	}
}
