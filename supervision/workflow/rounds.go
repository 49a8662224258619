package workflow

import (
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/voucherwatch/voucherwatch"
	"github.com/voucherwatch/voucherwatch/supervision/locale"
)

// The annual round (集中评审发放, policy §三(二), §四.5); docs/rounds.md. Rounds are its
// operations with their access rules, so that the web UI calls the same ones as the API.
//
// Who may do what: the province (administrator and reviewer) opens rounds, imports scores,
// sets weights, runs the what-if, freezes, publishes and finalises; city reviewers see and
// comment on their city's lines and register objections about them; auditors read. Every
// step is in the round's append-only log. The public notice needs no sign-in.
type Rounds struct {
	Store voucherwatch.RoundStore
	// Claims reads every claim of a round year with its assessment and computed factors
	// (detectors.RoundClaims); the alerts are the store's.
	Claims func(ctx context.Context, year int) ([]voucherwatch.RoundClaim, error)
	// Box seals objectors' contact details: the complaint key's box.
	Box *voucherwatch.ContactBox
	// Now is the clock; time.Now when nil.
	Now func() time.Time
}

// Clock is the rounds' time now.
func (d Rounds) Clock() time.Time {
	if d.Now == nil {
		return time.Now()
	}
	return d.Now()
}

// Limits of a round's imports.
const (
	MaxRoundScoreRows  = 100_000
	MaxRoundScoreBytes = 8 << 20
	MaxCriterionRunes  = 40
	MaxScoreComment    = 1000
	MaxRoundCommentRun = 2000
)

// log appends a step to the round's log; the public's steps are the actor "public".
func (d Rounds) log(ctx context.Context, roundID string, u voucherwatch.User, action, claimID, city, detail string) error {
	if u.ID == "" {
		u = voucherwatch.User{ID: "public", Role: "public"}
	}
	return d.Store.AppendRoundEvents(ctx, []voucherwatch.RoundEvent{{RoundID: roundID, At: d.Clock().Truncate(time.Second),
		ActorID: u.ID, ActorRole: u.Role, Action: action, ClaimID: claimID, City: city, Detail: detail}})
}

// ProvinceOnly refuses (EFORBIDDEN) a step that is the province's to a user of another role.
func ProvinceOnly(u voucherwatch.User, what string) error {
	if !MayDraw(u.Role) {
		return voucherwatch.Errorf(voucherwatch.EFORBIDDEN, "only the province %s", what)
	}
	return nil
}

// Open opens a round.
func (d Rounds) Open(ctx context.Context, u voucherwatch.User, q voucherwatch.RoundRequest) (voucherwatch.SubsidyRound, error) {
	if err := ProvinceOnly(u, "opens rounds"); err != nil {
		return voucherwatch.SubsidyRound{}, err
	}
	r, err := voucherwatch.CheckRoundRequest(q)
	if err != nil {
		return r, err
	}
	now := d.Clock().Truncate(time.Second)
	r.ID = fmt.Sprintf("rd-%d-%s", r.Year, RandomHex(4))
	r.CreatedAt, r.CreatedBy, r.UpdatedAt = now, u.ID, now
	if err := d.Store.SaveRound(ctx, r); err != nil {
		return r, err
	}
	return r, d.log(ctx, r.ID, u, voucherwatch.RoundActionOpen, "", "",
		fmt.Sprintf("year=%d budget=%s notice_days=%d", r.Year, r.Budget, r.NoticeDays))
}

// ParseRoundScores reads the panel's scores: CSV with the header claim_id,criterion,score,
// comment (comment optional), scores from 0 to 100. It returns EINVALID naming the line.
func ParseRoundScores(r io.Reader) ([]voucherwatch.RoundScore, error) {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1
	cr.TrimLeadingSpace = true
	var out []voucherwatch.RoundScore
	for line := 1; ; line++ {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, voucherwatch.FieldErrorf("scores", "line %d: %v", line, err)
		}
		if line == 1 {
			if len(rec) > 0 {
				rec[0] = strings.TrimPrefix(rec[0], "\uFEFF")
			}
			if len(rec) < 3 || strings.TrimSpace(rec[0]) != "claim_id" || strings.TrimSpace(rec[1]) != "criterion" || strings.TrimSpace(rec[2]) != "score" {
				return nil, voucherwatch.FieldErrorf("scores", "line 1: want the header claim_id,criterion,score,comment")
			}
			continue
		}
		if len(rec) == 1 && strings.TrimSpace(rec[0]) == "" {
			continue
		}
		s, err := scoreRow(rec)
		if err != nil {
			return nil, voucherwatch.FieldErrorf("scores", "line %d: %v", line, err)
		}
		out = append(out, s)
		if len(out) > MaxRoundScoreRows {
			return nil, voucherwatch.FieldErrorf("scores", "more than %d rows", MaxRoundScoreRows)
		}
	}
	if len(out) == 0 {
		return nil, voucherwatch.FieldErrorf("scores", "no score rows")
	}
	return out, nil
}

func scoreRow(rec []string) (voucherwatch.RoundScore, error) {
	if len(rec) < 3 || len(rec) > 4 {
		return voucherwatch.RoundScore{}, fmt.Errorf("want 3 or 4 fields, got %d", len(rec))
	}
	s := voucherwatch.RoundScore{ClaimID: strings.TrimSpace(rec[0]), Criterion: strings.TrimSpace(rec[1])}
	if len(rec) == 4 {
		s.Comment = voucherwatch.MaskText(strings.TrimSpace(rec[3]))
	}
	v, err := strconv.ParseFloat(strings.TrimSpace(rec[2]), 64)
	switch {
	case s.ClaimID == "" || len(s.ClaimID) > 64:
		return s, fmt.Errorf("claim_id is empty or too long")
	case s.Criterion == "" || len([]rune(s.Criterion)) > MaxCriterionRunes:
		return s, fmt.Errorf("criterion is empty or longer than %d characters", MaxCriterionRunes)
	case s.Criterion == voucherwatch.FactorRealUse || s.Criterion == voucherwatch.FactorDomesticChip || s.Criterion == voucherwatch.FactorSME:
		return s, fmt.Errorf("criterion %q is a computed factor, not the panel's", s.Criterion)
	case err != nil || v < 0 || v > 100:
		return s, fmt.Errorf("score: want a number from 0 to 100, got %q", rec[2])
	case len([]rune(s.Comment)) > MaxScoreComment:
		return s, fmt.Errorf("comment longer than %d characters", MaxScoreComment)
	}
	s.Score = v
	return s, nil
}

// editable refuses changes to a published or final round.
func editable(r voucherwatch.SubsidyRound) error {
	if r.State == voucherwatch.RoundPublished || r.State == voucherwatch.RoundFinal {
		return voucherwatch.Errorf(voucherwatch.ECONFLICT, "round %s is %s: its list no longer changes", r.ID, r.State)
	}
	return nil
}

// ImportScores stores the panel's scores of a round that is not published yet.
func (d Rounds) ImportScores(ctx context.Context, u voucherwatch.User, roundID string, scores []voucherwatch.RoundScore) (int, error) {
	if err := ProvinceOnly(u, "imports expert scores"); err != nil {
		return 0, err
	}
	r, err := d.Store.Round(ctx, roundID)
	if err != nil {
		return 0, err
	}
	if err := editable(r); err != nil {
		return 0, err
	}
	if err := d.Store.AddRoundScores(ctx, roundID, scores, u.ID, d.Clock().Truncate(time.Second)); err != nil {
		return 0, err
	}
	return len(scores), d.log(ctx, roundID, u, voucherwatch.RoundActionScores, "", "", fmt.Sprintf("%d scores", len(scores)))
}

// inputs gathers what the round's list is computed from now: its claims with their alerts,
// the scores, and its settings (weights and mode, or those given).
func (d Rounds) inputs(ctx context.Context, r voucherwatch.SubsidyRound) (voucherwatch.AllocationInputs, error) {
	claims, err := d.Claims(ctx, r.Year)
	if err != nil {
		return voucherwatch.AllocationInputs{}, err
	}
	applicants := make(map[string]string, len(claims))
	for _, c := range claims {
		applicants[c.ClaimID] = c.ApplicantUSCC
	}
	alerts, err := d.Store.RoundAlerts(ctx, applicants)
	if err != nil {
		return voucherwatch.AllocationInputs{}, err
	}
	for i := range claims {
		claims[i].Alerts = alerts[claims[i].ClaimID]
	}
	scores, err := d.Store.RoundScores(ctx, r.ID)
	if err != nil {
		return voucherwatch.AllocationInputs{}, err
	}
	return voucherwatch.AllocationInputs{RoundID: r.ID, Year: r.Year, Budget: r.Budget, Mode: r.Mode, Weights: r.Weights,
		Claims: claims, Scores: scores}.Canonical(), nil
}

// AllocateRequest is the body of POST /api/v1/rounds/{id}/allocate.
type AllocateRequest struct {
	Weights map[string]float64 `json:"weights"`
	Mode    string             `json:"mode"`
	// Budget replaces the round's budget for a what-if (dry_run only).
	Budget string `json:"budget"`
	DryRun bool   `json:"dry_run"`
}

// AllocationResult is a computed list, with what moved against the round's saved settings
// when it is a what-if.
type AllocationResult struct {
	RoundID      string                  `json:"round_id"`
	InputsDigest string                  `json:"inputs_digest"`
	Budget       string                  `json:"budget"`
	Mode         string                  `json:"mode"`
	Weights      map[string]float64      `json:"weights"`
	DryRun       bool                    `json:"dry_run"`
	Lines        []voucherwatch.LineJSON `json:"lines"`
	Total        string                  `json:"total"`
	// Moves are the lines whose rank or amount differ from the saved settings' (what-if).
	Moves []LineMove `json:"moves,omitempty"`
}

// LineMove is a line that a what-if moves.
type LineMove struct {
	ClaimID         string `json:"claim_id"`
	RankBefore      int    `json:"rank_before"`
	Rank            int    `json:"rank"`
	AllocatedBefore string `json:"allocated_before"`
	Allocated       string `json:"allocated"`
}

func resultOf(in voucherwatch.AllocationInputs, a voucherwatch.Allocation, dry bool) AllocationResult {
	res := AllocationResult{RoundID: in.RoundID, InputsDigest: in.Digest(), Budget: in.Budget.String(), Mode: in.Mode,
		Weights: in.Weights, DryRun: dry, Lines: make([]voucherwatch.LineJSON, len(a.Lines)), Total: a.Total.String()}
	for i, l := range a.Lines {
		res.Lines[i] = l.JSON()
	}
	return res
}

// Allocate computes the round's list with the given weights and mode (the saved ones where
// absent). A dry run saves nothing and says which lines move; otherwise the weights and mode
// are saved on the round.
func (d Rounds) Allocate(ctx context.Context, u voucherwatch.User, roundID string, q AllocateRequest) (AllocationResult, error) {
	if err := ProvinceOnly(u, "sets weights and allocates"); err != nil {
		return AllocationResult{}, err
	}
	if !voucherwatch.ValidMode(q.Mode) {
		return AllocationResult{}, voucherwatch.FieldErrorf("mode", "want last_partial or pro_rata, got %q", q.Mode)
	}
	if err := voucherwatch.CheckWeights(q.Weights); err != nil {
		return AllocationResult{}, err
	}
	r, err := d.Store.Round(ctx, roundID)
	if err != nil {
		return AllocationResult{}, err
	}
	base, err := d.inputs(ctx, r)
	if err != nil {
		return AllocationResult{}, err
	}
	in := base
	if q.Weights != nil {
		in.Weights = q.Weights
	}
	if q.Mode != "" {
		in.Mode = q.Mode
	}
	if q.Budget != "" {
		if !q.DryRun {
			return AllocationResult{}, voucherwatch.FieldErrorf("budget", "the budget changes only in a what-if (dry_run); the round's is %s", r.Budget)
		}
		b, ok := voucherwatch.ParseMoney(strings.TrimSpace(q.Budget))
		if !ok || b <= 0 {
			return AllocationResult{}, voucherwatch.FieldErrorf("budget", "want a positive amount in yuan, got %q", q.Budget)
		}
		in.Budget = b
	}
	in = in.Canonical()
	a := voucherwatch.Allocate(in)
	res := resultOf(in, a, q.DryRun)
	if q.DryRun {
		before := map[string]voucherwatch.AllocationLine{}
		for _, l := range voucherwatch.Allocate(base).Lines {
			before[l.ClaimID] = l
		}
		for _, l := range a.Lines {
			b := before[l.ClaimID]
			if b.Rank != l.Rank || b.Allocated != l.Allocated {
				res.Moves = append(res.Moves, LineMove{ClaimID: l.ClaimID, RankBefore: b.Rank, Rank: l.Rank,
					AllocatedBefore: b.Allocated.String(), Allocated: l.Allocated.String()})
			}
		}
		return res, nil
	}
	if err := editable(r); err != nil {
		return AllocationResult{}, err
	}
	r.Weights, r.Mode, r.UpdatedAt = in.Weights, in.Mode, d.Clock().Truncate(time.Second)
	if err := d.Store.SaveRound(ctx, r); err != nil {
		return AllocationResult{}, err
	}
	return res, d.log(ctx, r.ID, u, voucherwatch.RoundActionWeights, "", "",
		fmt.Sprintf("mode=%s weights=%v digest=%s total=%s", in.Mode, in.Weights, res.InputsDigest, res.Total))
}

// Freeze computes the list with the round's saved settings and records it as the next
// version, with its inputs and their digest.
func (d Rounds) Freeze(ctx context.Context, u voucherwatch.User, roundID string) (voucherwatch.RoundVersion, error) {
	if err := ProvinceOnly(u, "freezes the list"); err != nil {
		return voucherwatch.RoundVersion{}, err
	}
	r, err := d.Store.Round(ctx, roundID)
	if err != nil {
		return voucherwatch.RoundVersion{}, err
	}
	if err := editable(r); err != nil {
		return voucherwatch.RoundVersion{}, err
	}
	in, err := d.inputs(ctx, r)
	if err != nil {
		return voucherwatch.RoundVersion{}, err
	}
	a := voucherwatch.Allocate(in)
	now := d.Clock().Truncate(time.Second)
	v := voucherwatch.RoundVersion{RoundID: r.ID, Version: r.FrozenVersion + 1, Method: voucherwatch.AllocationMethod,
		InputsDigest: in.Digest(), Inputs: in, Lines: a.Lines, Total: a.Total, FrozenAt: now, FrozenBy: u.ID}
	if err := d.Store.AddRoundVersion(ctx, v); err != nil {
		return v, err
	}
	r.FrozenVersion, r.State, r.UpdatedAt = v.Version, voucherwatch.RoundFrozen, now
	if err := d.Store.SaveRound(ctx, r); err != nil {
		return v, err
	}
	return v, d.log(ctx, r.ID, u, voucherwatch.RoundActionFreeze, "", "",
		fmt.Sprintf("version=%d digest=%s total=%s", v.Version, v.InputsDigest, v.Total))
}

// Publish starts the public notice of the frozen list.
func (d Rounds) Publish(ctx context.Context, u voucherwatch.User, roundID string) (voucherwatch.SubsidyRound, error) {
	if err := ProvinceOnly(u, "publishes the list"); err != nil {
		return voucherwatch.SubsidyRound{}, err
	}
	r, err := d.Store.Round(ctx, roundID)
	if err != nil {
		return r, err
	}
	if r.State != voucherwatch.RoundFrozen {
		return r, voucherwatch.Errorf(voucherwatch.ECONFLICT, "round %s is %s: freeze the list before publishing it", r.ID, r.State)
	}
	now := d.Clock().Truncate(time.Second)
	r.State, r.PublishedAt, r.UpdatedAt = voucherwatch.RoundPublished, now, now
	if err := d.Store.SaveRound(ctx, r); err != nil {
		return r, err
	}
	return r, d.log(ctx, r.ID, u, voucherwatch.RoundActionPublish, "", "",
		fmt.Sprintf("version=%d notice_ends=%s", r.FrozenVersion, voucherwatch.NoticeEnds(now, r.NoticeDays).Format(time.DateOnly)))
}

// Finalise makes the published list final: only after the notice period, with no objection
// still open.
func (d Rounds) Finalise(ctx context.Context, u voucherwatch.User, roundID string) (voucherwatch.SubsidyRound, error) {
	if err := ProvinceOnly(u, "finalises the list"); err != nil {
		return voucherwatch.SubsidyRound{}, err
	}
	r, err := d.Store.Round(ctx, roundID)
	if err != nil {
		return r, err
	}
	if r.State != voucherwatch.RoundPublished {
		return r, voucherwatch.Errorf(voucherwatch.ECONFLICT, "round %s is %s: only a published list becomes final", r.ID, r.State)
	}
	now := d.Clock()
	if ends := voucherwatch.NoticeEnds(r.PublishedAt, r.NoticeDays); now.Before(ends) {
		return r, voucherwatch.Errorf(voucherwatch.ECONFLICT, "the notice period runs until %s", ends.Format("2006-01-02 15:04"))
	}
	objections, err := d.Store.RoundObjections(ctx, r.ID)
	if err != nil {
		return r, err
	}
	open := 0
	for _, o := range objections {
		if o.Open() {
			open++
		}
	}
	if open > 0 {
		return r, voucherwatch.Errorf(voucherwatch.ECONFLICT, "%d objections are still open", open)
	}
	r.State, r.FinalisedAt, r.UpdatedAt = voucherwatch.RoundFinal, now.Truncate(time.Second), now.Truncate(time.Second)
	if err := d.Store.SaveRound(ctx, r); err != nil {
		return r, err
	}
	return r, d.log(ctx, r.ID, u, voucherwatch.RoundActionFinalise, "", "", fmt.Sprintf("version=%d objections=%d", r.FrozenVersion, len(objections)))
}

// Frozen returns the round's latest frozen version; ENOTFOUND before the first freeze.
func (d Rounds) Frozen(ctx context.Context, r voucherwatch.SubsidyRound) (voucherwatch.RoundVersion, error) {
	if r.FrozenVersion == 0 {
		return voucherwatch.RoundVersion{}, voucherwatch.Errorf(voucherwatch.ENOTFOUND, "round %s has no frozen list yet", r.ID)
	}
	return d.Store.RoundVersion(ctx, r.ID, r.FrozenVersion)
}

// RoundView is a round as an official reads it: its settings, its list (the latest frozen
// version, or the list as it would be computed now) with the recovery ordered since, its
// objections and its log. A city reviewer's view holds its city's lines, objections and
// log entries only.
type RoundView struct {
	voucherwatch.SubsidyRound
	BudgetYuan   string                         `json:"budget_yuan"`
	NoticeEnds   *time.Time                     `json:"notice_ends,omitempty"`
	InputsDigest string                         `json:"inputs_digest"`
	Computed     bool                           `json:"computed"` // the list is computed now, not frozen
	Lines        []voucherwatch.LineJSON        `json:"lines"`
	Total        string                         `json:"total"`
	Objections   []voucherwatch.ObjectionStatus `json:"objections"`
	Events       []voucherwatch.RoundEvent      `json:"events"`
}

// View reads a round for u.
func (d Rounds) View(ctx context.Context, u voucherwatch.User, roundID string) (RoundView, error) {
	r, err := d.Store.Round(ctx, roundID)
	if err != nil {
		return RoundView{}, err
	}
	v := RoundView{SubsidyRound: r, BudgetYuan: r.Budget.String()}
	if !r.PublishedAt.IsZero() {
		ends := voucherwatch.NoticeEnds(r.PublishedAt, r.NoticeDays)
		v.NoticeEnds = &ends
	}
	var lines []voucherwatch.AllocationLine
	if r.FrozenVersion > 0 {
		fv, err := d.Frozen(ctx, r)
		if err != nil {
			return v, err
		}
		lines, v.InputsDigest = fv.Lines, fv.InputsDigest
		// Recovery ordered since the freeze is shown against the line it came from.
		applicants := map[string]string{}
		for _, l := range lines {
			applicants[l.ClaimID] = l.ApplicantUSCC
		}
		alerts, err := d.Store.RoundAlerts(ctx, applicants)
		if err != nil {
			return v, err
		}
		for i := range lines {
			lines[i].Recovery = 0
			for _, a := range alerts[lines[i].ClaimID] {
				lines[i].Recovery += a.Recovery
			}
		}
	} else {
		in, err := d.inputs(ctx, r)
		if err != nil {
			return v, err
		}
		lines, v.InputsDigest, v.Computed = voucherwatch.Allocate(in).Lines, in.Digest(), true
	}
	scope := CityScope(u)
	var total voucherwatch.Money
	v.Lines = []voucherwatch.LineJSON{}
	for _, l := range lines {
		total += l.Allocated
		if scope == "" || l.City == scope {
			v.Lines = append(v.Lines, l.JSON())
		}
	}
	v.Total = total.String()
	objections, err := d.Store.RoundObjections(ctx, r.ID)
	if err != nil {
		return v, err
	}
	events, err := d.Store.RoundEvents(ctx, r.ID)
	if err != nil {
		return v, err
	}
	v.Objections, v.Events = []voucherwatch.ObjectionStatus{}, []voucherwatch.RoundEvent{}
	for _, o := range objections {
		if scope == "" || o.City == scope {
			v.Objections = append(v.Objections, o)
		}
	}
	for _, e := range events {
		if scope == "" || e.City == "" || e.City == scope {
			v.Events = append(v.Events, e)
		}
	}
	return v, nil
}

// lineOf finds a claim's line in the round's frozen list.
func (d Rounds) lineOf(ctx context.Context, r voucherwatch.SubsidyRound, claimID string) (voucherwatch.AllocationLine, error) {
	fv, err := d.Frozen(ctx, r)
	if err != nil {
		return voucherwatch.AllocationLine{}, err
	}
	for _, l := range fv.Lines {
		if l.ClaimID == claimID {
			return l, nil
		}
	}
	return voucherwatch.AllocationLine{}, voucherwatch.FieldErrorf("claim_id", "no line %q in the list", claimID)
}

// Comment records a reviewer's comment on a line of its city (the province: any line).
func (d Rounds) Comment(ctx context.Context, u voucherwatch.User, roundID, claimID, text string) error {
	if !u.Role.MayAct() {
		return voucherwatch.Errorf(voucherwatch.EFORBIDDEN, "role %s may not comment", u.Role)
	}
	text = strings.TrimSpace(text)
	if text == "" || len([]rune(text)) > MaxRoundCommentRun {
		return voucherwatch.FieldErrorf("text", "want 1 to %d characters", MaxRoundCommentRun)
	}
	r, err := d.Store.Round(ctx, roundID)
	if err != nil {
		return err
	}
	city, err := d.lineCity(ctx, r, claimID)
	if err != nil {
		return err
	}
	if scope := CityScope(u); scope != "" && city != scope {
		return voucherwatch.Errorf(voucherwatch.ENOTFOUND, "no line %s in your city", claimID)
	}
	return d.log(ctx, r.ID, u, voucherwatch.RoundActionComment, claimID, city, voucherwatch.MaskText(text))
}

// lineCity is the city of a claim's line: from the frozen list, or computed now before one.
func (d Rounds) lineCity(ctx context.Context, r voucherwatch.SubsidyRound, claimID string) (string, error) {
	if r.FrozenVersion > 0 {
		l, err := d.lineOf(ctx, r, claimID)
		return l.City, err
	}
	claims, err := d.Claims(ctx, r.Year)
	if err != nil {
		return "", err
	}
	for _, c := range claims {
		if c.ClaimID == claimID {
			return c.City, nil
		}
	}
	return "", voucherwatch.FieldErrorf("claim_id", "no claim %q in the round", claimID)
}

// ObjectionInput is an objection as filed.
type ObjectionInput struct {
	ClaimID string `json:"claim_id"`
	Text    string `json:"text"`
	Contact string `json:"contact"`
	// Channel is how an official received it (phone, the default, or letter); the public
	// form's is public.
	Channel string `json:"channel"`
}

// FileObjection files an objection to a line of a published round during its notice period:
// by the public (u is the zero User) or an official (a city reviewer about its city's lines).
// Its case is an alert of detector objection in the line's city, linked to the line.
func (d Rounds) FileObjection(ctx context.Context, u voucherwatch.User, roundID string, in ObjectionInput) (voucherwatch.Objection, error) {
	official := u.ID != ""
	if official && !u.Role.MayAct() {
		return voucherwatch.Objection{}, voucherwatch.Errorf(voucherwatch.EFORBIDDEN, "role %s may not register objections", u.Role)
	}
	text, contact, err := voucherwatch.CheckObjectionText(in.Text, in.Contact)
	if err != nil {
		return voucherwatch.Objection{}, err
	}
	ch := voucherwatch.ChannelPublic
	if official {
		ch = voucherwatch.ComplaintChannel(in.Channel)
		if ch == "" {
			ch = voucherwatch.ChannelPhone
		}
		if ch != voucherwatch.ChannelPhone && ch != voucherwatch.ChannelLetter {
			return voucherwatch.Objection{}, voucherwatch.FieldErrorf("channel", "officials register phone or letter objections")
		}
	}
	r, err := d.Store.Round(ctx, roundID)
	if err != nil {
		return voucherwatch.Objection{}, err
	}
	now := d.Clock()
	if r.State != voucherwatch.RoundPublished || !now.Before(voucherwatch.NoticeEnds(r.PublishedAt, r.NoticeDays)) {
		return voucherwatch.Objection{}, voucherwatch.Errorf(voucherwatch.ECONFLICT, "round %s is not in its notice period", r.ID)
	}
	l, err := d.lineOf(ctx, r, strings.TrimSpace(in.ClaimID))
	if err != nil {
		return voucherwatch.Objection{}, err
	}
	if scope := CityScope(u); official && scope != "" && l.City != scope {
		return voucherwatch.Objection{}, voucherwatch.FieldErrorf("claim_id", "the line is not of your city")
	}
	o := voucherwatch.Objection{ID: voucherwatch.NewObjectionID(), RoundID: r.ID, ClaimID: l.ClaimID, USCC: l.ApplicantUSCC, City: l.City,
		Text: voucherwatch.MaskText(text), Channel: ch, RegisteredBy: u.ID, CreatedAt: now.Truncate(time.Second)}
	sealed := ""
	if d.Box != nil {
		sealed = d.Box.Seal(o.ID, contact)
	}
	title := fmt.Sprintf(locale.T("round.objection.title"), l.ApplicantName)
	reason := fmt.Sprintf(locale.T("round.objection.reason"), r.Year, l.ClaimID, l.Allocated, locale.ComplaintChannelLabel(ch))
	if err := d.Store.AddObjection(ctx, voucherwatch.ObjectionRecord{Objection: o, SealedContact: sealed}, voucherwatch.ObjectionAlert(o, title, reason)); err != nil {
		return o, err
	}
	return o, d.log(ctx, r.ID, u, voucherwatch.RoundActionObjection, o.ClaimID, o.City, o.ID)
}
