package voucherwatch

import (
	"context"
	"strings"
	"time"
)

// SubsidyRound is one annual round (集中评审发放, policy §三(二)): the province opens it for a
// year's claims with a budget, the expert panel's scores and the weights rank the lines, the
// approved list is frozen, published for a notice period (公示) and then final. docs/rounds.md
// describes it.
type SubsidyRound struct {
	ID     string `json:"id"`
	Year   int    `json:"year"`   // the claims' round (the year they were submitted)
	Budget Money  `json:"budget"` // annual_budget, fen
	// NoticeDays is the notice period in working days (Monday to Friday).
	NoticeDays int                `json:"notice_days"`
	Weights    map[string]float64 `json:"weights"`
	Mode       string             `json:"mode"`
	State      RoundState         `json:"state"`
	// FrozenVersion is the number of the latest frozen version; 0 before the first freeze.
	FrozenVersion int       `json:"frozen_version"`
	CreatedAt     time.Time `json:"created_at"`
	CreatedBy     string    `json:"created_by"`
	PublishedAt   time.Time `json:"published_at"` // zero until published
	FinalisedAt   time.Time `json:"finalised_at"` // zero until final
	UpdatedAt     time.Time `json:"updated_at"`
}

// RoundState is where a round stands.
type RoundState string

// The states of a round, in order.
const (
	RoundOpen      RoundState = "open"      // scores and weights may change
	RoundFrozen    RoundState = "frozen"    // a version is frozen; it may be frozen again
	RoundPublished RoundState = "published" // the public notice runs
	RoundFinal     RoundState = "final"     // the list is final, for payment
)

// String returns the state as the wire carries it.
func (s RoundState) String() string { return string(s) }

// DefaultNoticeDays is the notice period when a round sets none.
const DefaultNoticeDays = 5

// RoundRequest opens a round.
type RoundRequest struct {
	Year       int    `json:"year"`
	Budget     string `json:"budget"` // yuan, two decimals at most
	NoticeDays *int   `json:"notice_days"`
}

// CheckRoundRequest checks a request and returns the round it opens (without id and times);
// EINVALID naming the field.
func CheckRoundRequest(q RoundRequest) (SubsidyRound, error) {
	r := SubsidyRound{Year: q.Year, NoticeDays: DefaultNoticeDays, Mode: ModeLastPartial, State: RoundOpen, Weights: map[string]float64{}}
	if q.Year < 2020 || q.Year > 2100 {
		return r, FieldErrorf("year", "want a year from 2020 to 2100, got %d", q.Year)
	}
	b, ok := ParseMoney(strings.TrimSpace(q.Budget))
	if !ok || b <= 0 {
		return r, FieldErrorf("budget", "want a positive amount in yuan with at most two decimals, got %q", q.Budget)
	}
	r.Budget = b
	if q.NoticeDays != nil {
		if *q.NoticeDays < 1 || *q.NoticeDays > 60 {
			return r, FieldErrorf("notice_days", "want 1 to 60 working days, got %d", *q.NoticeDays)
		}
		r.NoticeDays = *q.NoticeDays
	}
	return r, nil
}

// NoticeEnds is the instant the notice period of a round published at ends: the end of the
// NoticeDays-th working day (Monday to Friday, CST) after the day of publication. Public
// holidays are not known to the engine; the province extends the period by not finalising.
func NoticeEnds(published time.Time, days int) time.Time {
	d := published.In(CST)
	d = time.Date(d.Year(), d.Month(), d.Day(), 0, 0, 0, 0, CST)
	for n := 0; n < days; {
		d = d.AddDate(0, 0, 1)
		if wd := d.Weekday(); wd != time.Saturday && wd != time.Sunday {
			n++
		}
	}
	return d.AddDate(0, 0, 1)
}

// RoundVersion is a frozen list: the inputs, their digest, the lines and who froze it.
type RoundVersion struct {
	RoundID      string           `json:"round_id"`
	Version      int              `json:"version"`
	Method       string           `json:"method"`
	InputsDigest string           `json:"inputs_digest"`
	Inputs       AllocationInputs `json:"-"`
	Lines        []AllocationLine `json:"-"`
	Total        Money            `json:"-"`
	FrozenAt     time.Time        `json:"frozen_at"`
	FrozenBy     string           `json:"frozen_by"`
}

// The actions of the round's log.
const (
	RoundActionOpen      = "open"
	RoundActionScores    = "scores"
	RoundActionWeights   = "weights"
	RoundActionFreeze    = "freeze"
	RoundActionPublish   = "publish"
	RoundActionObjection = "objection"
	RoundActionComment   = "comment"
	RoundActionFinalise  = "finalise"
)

// RoundEvent is one entry of a round's append-only log: who did what, when.
type RoundEvent struct {
	RoundID   string    `json:"round_id"`
	Seq       uint64    `json:"seq"` // nanoseconds; orders events within a second
	At        time.Time `json:"at"`
	ActorID   string    `json:"actor_id"`
	ActorRole Role      `json:"actor_role"`
	Action    string    `json:"action"`
	ClaimID   string    `json:"claim_id,omitempty"`
	City      string    `json:"city,omitempty"` // the line's city, for a comment or objection
	// Detail is the action's summary: a digest, a count, a masked comment.
	Detail string `json:"detail"`
}

// DetectorObjection is the detector name an objection's case carries: an objection (异议)
// to a published line is moved through the workflow as an alert of this detector.
const DetectorObjection = "objection"

// ObjectionKind is the kind of an objection's case: an objection to a line of the list.
const ObjectionKind = "round_line"

// Objection is one objection to a line of a published round.
type Objection struct {
	ID           string // the case's alert id
	RoundID      string
	ClaimID      string
	USCC         string // the line's applicant
	City         string // the line's city: the case's city scope
	Text         string // masked
	Channel      ComplaintChannel
	RegisteredBy string
	CreatedAt    time.Time
}

// ObjectionRecord is an objection as stored, with its sealed contact.
type ObjectionRecord struct {
	Objection
	SealedContact string
}

// NewObjectionID draws an objection's case id.
func NewObjectionID() string { return "oj_" + randomToken(10) }

// CheckObjectionText trims and checks an objection's text and contact as a complaint's are:
// plain text within MaxComplaintText, one line of contact within MaxComplaintContact.
func CheckObjectionText(text, contact string) (string, string, error) {
	text = strings.TrimSpace(strings.ReplaceAll(text, "\r\n", "\n"))
	contact = strings.TrimSpace(contact)
	switch {
	case text == "":
		return text, contact, FieldErrorf("text", "the objection is empty")
	case !plainText(text, MaxComplaintText):
		return text, contact, FieldErrorf("text", "want plain text of at most %d characters", MaxComplaintText)
	case !plainText(contact, MaxComplaintContact) || strings.Contains(contact, "\n"):
		return text, contact, FieldErrorf("contact", "want one line of at most %d characters", MaxComplaintContact)
	}
	return text, contact, nil
}

// ObjectionAlert is the case of an objection: detector DetectorObjection, the line's applicant
// and claim as subjects, its city. The evidence carries the round, the claim and the masked
// text, never the contact.
func ObjectionAlert(o Objection, title, reason string) Alert {
	return Alert{
		ID:           o.ID,
		Detector:     DetectorObjection,
		Kind:         ObjectionKind,
		Severity:     SeverityMedium,
		Subjects:     Subjects{ApplicantUSCC: o.USCC, ClaimID: o.ClaimID},
		City:         o.City,
		PolicyClause: "§四.5",
		Title:        title,
		Reason:       reason,
		Evidence:     EvidenceOf(ObjectionEvidence{Channel: string(o.Channel), ClaimID: o.ClaimID, RoundID: o.RoundID, Text: o.Text}),
		CreatedAt:    o.CreatedAt,
		UpdatedAt:    o.CreatedAt,
	}
}

// RoundStore keeps rounds, their scores, frozen versions, log and objections, and gathers the
// alerts their lines are weighed with.
type RoundStore interface {
	// SaveRound writes a round's current settings and state (a new version of its row).
	SaveRound(ctx context.Context, r SubsidyRound) error
	// Round returns a round; ENOTFOUND when none.
	Round(ctx context.Context, id string) (SubsidyRound, error)
	// Rounds lists the rounds, newest first.
	Rounds(ctx context.Context) ([]SubsidyRound, error)
	// AddRoundScores stores expert scores; a later score of the same claim and criterion
	// replaces the earlier.
	AddRoundScores(ctx context.Context, roundID string, scores []RoundScore, by string, at time.Time) error
	// RoundScores returns a round's current scores.
	RoundScores(ctx context.Context, roundID string) ([]RoundScore, error)
	// RoundAlerts returns, per claim id, the alerts on the claims or on their applicants that
	// name no claim, with their current status and any recovery ordered. claims maps claim
	// ids to their applicants.
	RoundAlerts(ctx context.Context, claims map[string]string) (map[string][]RoundAlert, error)
	// AddRoundVersion records a frozen version; ECONFLICT when its number is taken.
	AddRoundVersion(ctx context.Context, v RoundVersion) error
	// RoundVersion returns a frozen version with its inputs and lines; ENOTFOUND when none.
	RoundVersion(ctx context.Context, roundID string, version int) (RoundVersion, error)
	// AppendRoundEvents appends to a round's log.
	AppendRoundEvents(ctx context.Context, events []RoundEvent) error
	// RoundEvents returns a round's log, oldest first.
	RoundEvents(ctx context.Context, roundID string) ([]RoundEvent, error)
	// AddObjection stores an objection and opens its case.
	AddObjection(ctx context.Context, o ObjectionRecord, caseAlert Alert) error
	// RoundObjections returns a round's objections with their cases' current status.
	RoundObjections(ctx context.Context, roundID string) ([]ObjectionStatus, error)
}

// ObjectionStatus is an objection and where its case stands.
type ObjectionStatus struct {
	Objection
	Status Status `json:"status"`
}

// Open reports whether the objection's case waits for a decision.
func (o ObjectionStatus) Open() bool { return openStatus(o.Status) }
