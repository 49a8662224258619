package voucherwatch

import (
	"context"
	"encoding/json"
	"strings"
	"time"
	"unicode/utf8"
)

// Statuses lists the workflow's statuses in the order a case usually moves through them.
var Statuses = []Status{
	StatusNew, StatusReviewing, StatusExplanationRequested, StatusConfirmed, StatusDismissed,
	StatusRecoveryOrdered, StatusRecovered,
}

// transitions is the workflow: the statuses an alert may move to from each status.
//
// Besides the policy's chain (review → explanation requested with a deadline, M1e → confirmed
// or dismissed → recovery ordered → recovered, M2), a reviewer may dismiss an alert under review
// without asking the enterprise: a plain false positive raises no suspicion that the enterprise
// should have to answer. Confirming needs the explanation step, so that the enterprise is heard
// before a violation is established. An alert goes back to review from an explanation request,
// a confirmation or a dismissal when new evidence arrives or a reviewer reopens it; recovery,
// once ordered, is not undone here.
var transitions = map[Status][]Status{
	StatusNew:                  {StatusReviewing},
	StatusReviewing:            {StatusExplanationRequested, StatusDismissed},
	StatusExplanationRequested: {StatusConfirmed, StatusDismissed, StatusReviewing},
	StatusConfirmed:            {StatusRecoveryOrdered, StatusReviewing},
	StatusDismissed:            {StatusReviewing},
	StatusRecoveryOrdered:      {StatusRecovered},
	StatusRecovered:            nil,
}

// String returns the status as the wire carries it.
func (s Status) String() string { return string(s) }

// Valid reports whether s is one of the workflow's statuses.
func (s Status) Valid() bool {
	_, ok := transitions[s]
	return ok
}

// Next returns the statuses the workflow allows after s.
func (s Status) Next() []Status { return transitions[s] }

// Allowed reports whether the workflow lets an alert move from one status to another.
func Allowed(from, to Status) bool {
	for _, s := range transitions[from] {
		if s == to {
			return true
		}
	}
	return false
}

// RoleSystem is the actor of the events the engine records itself, such as reopening a
// dismissed alert whose evidence changed. No user has it.
const RoleSystem Role = "system"

// SystemUser is the actor of the engine's own events.
var SystemUser = User{ID: "system", Name: "系统", Role: RoleSystem}

// String returns the role as the wire carries it.
func (r Role) String() string { return string(r) }

// IsUserRole reports whether r is a role a user may be given.
func (r Role) IsUserRole() bool {
	switch r {
	case RoleProvinceAdmin, RoleProvinceReviewer, RoleCityReviewer, RoleAuditor:
		return true
	}
	return false
}

// MayAct reports whether r may change anything about an alert (move it, assign it, propose).
func (r Role) MayAct() bool {
	switch r {
	case RoleProvinceAdmin, RoleProvinceReviewer, RoleCityReviewer:
		return true
	}
	return false
}

// MayExport reports whether r may download the whole event log: the province and auditors.
func (r Role) MayExport() bool {
	switch r {
	case RoleProvinceAdmin, RoleProvinceReviewer, RoleAuditor:
		return true
	}
	return false
}

// MayManageUsers reports whether r may create and disable users.
func (r Role) MayManageUsers() bool { return r == RoleProvinceAdmin }

// mayMove is the role half of the rules: whether r may make the move from → to, were the
// workflow to allow it. The province makes every move; a city reviewer starts reviews, asks for
// explanations and withdraws its requests, but the final decisions (confirm, dismiss, order and
// record recovery, and reopening a confirmed or dismissed alert) are the province's. The
// engine itself only sends alerts back to review.
func (r Role) mayMove(from, to Status) bool {
	switch r {
	case RoleProvinceAdmin, RoleProvinceReviewer:
		return true
	case RoleCityReviewer:
		switch to {
		case StatusReviewing:
			return from == StatusNew || from == StatusExplanationRequested
		case StatusExplanationRequested:
			return true
		}
	case RoleSystem:
		return to == StatusReviewing && from != StatusNew // reopening, never starting a review
	}
	return false
}

// mayReach reports whether r may ever move an alert to status to, from some status.
func (r Role) mayReach(to Status) bool {
	for _, from := range Statuses {
		if r.mayMove(from, to) {
			return true
		}
	}
	return false
}

// IsProvinceDecision reports whether the move from → to is one only the province makes, which
// is what a city reviewer may propose.
func IsProvinceDecision(from, to Status) bool {
	return Allowed(from, to) && !RoleCityReviewer.mayMove(from, to)
}

// CheckTransition reports whether a user of role r may move an alert from → to. It returns
// EINVALID (field "to") for an unknown status; EFORBIDDEN when r may change nothing or may
// never move an alert to that status; ECONFLICT when the workflow does not allow the move from
// the alert's current status; and EFORBIDDEN when the workflow allows it but not for r (a
// city reviewer reopening a dismissed alert). The order makes the answer say the most useful
// thing: that the role can never do this before that it cannot be done now.
func CheckTransition(r Role, from, to Status) error {
	switch {
	case !to.Valid():
		return FieldErrorf("to", "unknown status %q; want one of %s", to, statusList(Statuses))
	case !r.MayAct() && r != RoleSystem:
		return Errorf(EFORBIDDEN, "role %s may not change alerts", r)
	case !r.mayReach(to):
		return Errorf(EFORBIDDEN, "role %s may not move an alert to %s", r, to)
	case !Allowed(from, to):
		return Errorf(ECONFLICT, "the workflow does not allow %s → %s; from %s an alert may go to %s", from, to, from, statusList(from.Next()))
	case !r.mayMove(from, to):
		return Errorf(EFORBIDDEN, "role %s may not move an alert from %s to %s", r, from, to)
	}
	return nil
}

// CheckProposal reports whether a user of role r may propose moving an alert from → to. A
// proposal records a recommendation, in the log, for the province to decide on: it changes
// nothing. It returns EINVALID (field "to") for an unknown status or a move that is not the
// province's decision (a city reviewer makes those itself), EFORBIDDEN when r may change
// nothing, and ECONFLICT when the workflow does not allow the move from the current status.
func CheckProposal(r Role, from, to Status) error {
	switch {
	case !to.Valid():
		return FieldErrorf("to", "unknown status %q; want one of %s", to, statusList(Statuses))
	case !r.MayAct():
		return Errorf(EFORBIDDEN, "role %s may not change alerts", r)
	case !Allowed(from, to):
		return Errorf(ECONFLICT, "the workflow does not allow %s → %s; from %s an alert may go to %s", from, to, from, statusList(from.Next()))
	case !IsProvinceDecision(from, to):
		return FieldErrorf("to", "%s → %s is not a decision of the province; a city reviewer makes this move itself", from, to)
	}
	return nil
}

// CheckAssignment reports whether actor may assign an alert of city alertCity to assignee. The
// assignee must be able to act on the alert: the province's reviewers and administrators, or a
// reviewer of the alert's city. It returns EFORBIDDEN when actor may change nothing and
// EINVALID (field "user_id") for an assignee who could not act on the alert.
func CheckAssignment(actor User, alertCity string, assignee User) error {
	if !actor.Role.MayAct() {
		return Errorf(EFORBIDDEN, "role %s may not assign alerts", actor.Role)
	}
	switch assignee.Role {
	case RoleProvinceAdmin, RoleProvinceReviewer:
		return nil
	case RoleCityReviewer:
		if assignee.City == alertCity {
			return nil
		}
		return FieldErrorf("user_id", "user %s reviews city %s, the alert is of %s", assignee.ID, assignee.City, alertCity)
	}
	return FieldErrorf("user_id", "user %s (%s) cannot act on alerts", assignee.ID, assignee.Role)
}

func statusList(ss []Status) string {
	if len(ss) == 0 {
		return "nothing (final)"
	}
	names := make([]string, len(ss))
	for i, s := range ss {
		names[i] = string(s)
	}
	return strings.Join(names, ", ")
}

// Limits on what a user writes into the log.
const (
	// MaxCommentRunes bounds a comment; the log keeps what reviewers write, not attachments.
	MaxCommentRunes = 4000
	// MaxDeadlineDays bounds how far ahead an explanation may be due, to catch mistyped years.
	MaxDeadlineDays = 366
	// DefaultExplanationDays is the time to explain when the policy sets none.
	DefaultExplanationDays = 15
)

// Transition is what a user asks to do to an alert: the status to move it to and why, with a
// deadline for an explanation request and an amount for a recovery order.
type Transition struct {
	To      Status
	Comment string
	// Deadline is the last day (CST) to explain; only for explanation_requested. Zero takes
	// the default.
	Deadline time.Time
	// Amount is the subsidy to recover; only for recovery_ordered, where it is required.
	Amount Money
}

// Check validates the fields of t against today (CST) and fills a missing deadline with today
// + explanationDays (DefaultExplanationDays when not positive). It returns EINVALID errors
// naming the field: to, comment, deadline or amount. It does not check who may make the move.
func (t Transition) Check(today time.Time, explanationDays int) (Transition, error) {
	if !t.To.Valid() {
		return t, FieldErrorf("to", "unknown status %q; want one of %s", t.To, statusList(Statuses))
	}
	comment, err := checkComment(t.Comment, true)
	if err != nil {
		return t, err
	}
	t.Comment = comment
	today = Day(today)
	if t.To == StatusExplanationRequested {
		if explanationDays <= 0 {
			explanationDays = DefaultExplanationDays
		}
		if t.Deadline.IsZero() {
			t.Deadline = today.AddDate(0, 0, explanationDays)
		}
		t.Deadline = Day(t.Deadline)
		switch {
		case !t.Deadline.After(today):
			return t, FieldErrorf("deadline", "an explanation must be due after today (%s), got %s", today.Format(time.DateOnly), t.Deadline.Format(time.DateOnly))
		case t.Deadline.After(today.AddDate(0, 0, MaxDeadlineDays)):
			return t, FieldErrorf("deadline", "an explanation may be due at most %d days ahead, got %s", MaxDeadlineDays, t.Deadline.Format(time.DateOnly))
		}
	} else if !t.Deadline.IsZero() {
		return t, FieldErrorf("deadline", "only an explanation request (explanation_requested) has a deadline")
	}
	if err := checkAmount(t.To, t.Amount); err != nil {
		return t, err
	}
	return t, nil
}

func checkAmount(to Status, amount Money) error {
	if to == StatusRecoveryOrdered {
		if amount <= 0 {
			return FieldErrorf("amount", "a recovery order needs the amount to recover, more than 0, as a string like \"12345.67\"")
		}
	} else if amount != 0 {
		return FieldErrorf("amount", "only a recovery order (recovery_ordered) has an amount")
	}
	return nil
}

// checkComment trims a comment, masks the identity and mobile numbers in it (the log keeps
// what reviewers write for years, and is exported), and checks its length; required says
// whether it may be empty.
func checkComment(c string, required bool) (string, error) {
	c = MaskText(strings.TrimSpace(c))
	switch {
	case !utf8.ValidString(c):
		return c, FieldErrorf("comment", "not valid UTF-8")
	case required && c == "":
		return c, FieldErrorf("comment", "required: say why")
	case utf8.RuneCountInString(c) > MaxCommentRunes:
		return c, FieldErrorf("comment", "at most %d characters", MaxCommentRunes)
	}
	return c, nil
}

// Day is the calendar day (CST) of t, at midnight CST.
func Day(t time.Time) time.Time {
	y, m, d := t.In(CST).Date()
	return time.Date(y, m, d, 0, 0, 0, 0, CST)
}

// EventKind says what an event records.
type EventKind string

// The kinds of events. Every event carries the alert's status before (From) and after (To) it;
// only transitions change it, the others have From == To, so that the current status is always
// the To of the latest event.
const (
	EventTransition EventKind = "transition" // the status changed
	EventAssignment EventKind = "assignment" // the alert was given to a person (or taken back)
	EventProposal   EventKind = "proposal"   // a city reviewer proposed a decision of the province
)

// Event is one entry of the append-only workflow log: who did what to an alert, when and why.
// Events are never changed or deleted; an alert's state is derived from them.
type Event struct {
	ID      string
	AlertID string
	// Seq orders the events: it increases along each alert's history and across the log. It
	// is the event's time in nanoseconds, bumped past the alert's previous event if needed.
	Seq uint64
	// At is the event's time to the second, as stored. When an alert's events come within
	// one second, each is stamped a second after the one before, so that at orders them too.
	At        time.Time
	Kind      EventKind
	ActorID   string
	ActorName string
	ActorRole Role
	From      Status
	To        Status
	Comment   string    // the user's own words
	Deadline  time.Time // explanation requests: the last day to explain (CST); zero otherwise
	Amount    Money     // recovery orders: the amount to recover; zero otherwise
	// AssigneeID and AssigneeName name the person an assignment gives the alert to; both are
	// empty when it takes the alert back into the city's queue.
	AssigneeID   string
	AssigneeName string
	// ProposedTo is the status a proposal recommends.
	ProposedTo Status
}

type eventJSON struct {
	ID           string    `json:"id"`
	AlertID      string    `json:"alert_id"`
	Seq          uint64    `json:"seq,string"` // a string: JavaScript numbers cannot hold it exactly
	At           time.Time `json:"at"`
	Kind         EventKind `json:"kind"`
	ActorID      string    `json:"actor_id"`
	ActorName    string    `json:"actor_name"`
	ActorRole    Role      `json:"actor_role"`
	From         Status    `json:"from"`
	To           Status    `json:"to"`
	Comment      string    `json:"comment"`
	Deadline     string    `json:"deadline,omitempty"`
	Amount       string    `json:"amount,omitempty"`
	AssigneeID   string    `json:"assignee_id,omitempty"`
	AssigneeName string    `json:"assignee_name,omitempty"`
	ProposedTo   Status    `json:"proposed_to,omitempty"`
}

// MarshalJSON writes the deadline as a date ("2026-12-01") and the amount as yuan ("12345.67"),
// leaving out both when unset.
func (e Event) MarshalJSON() ([]byte, error) {
	j := eventJSON{
		ID: e.ID, AlertID: e.AlertID, Seq: e.Seq, At: e.At, Kind: e.Kind, ActorID: e.ActorID,
		ActorName: e.ActorName, ActorRole: e.ActorRole, From: e.From, To: e.To, Comment: e.Comment,
		AssigneeID: e.AssigneeID, AssigneeName: e.AssigneeName, ProposedTo: e.ProposedTo,
	}
	if !e.Deadline.IsZero() {
		j.Deadline = e.Deadline.In(CST).Format(time.DateOnly)
	}
	if e.Amount != 0 {
		j.Amount = e.Amount.String()
	}
	return json.Marshal(j)
}

// NewTransitionEvent is the event of u moving an alert from → t.To at the given time. t must
// have passed Check and the move CheckTransition.
func NewTransitionEvent(u User, alertID string, from Status, t Transition, at time.Time) Event {
	e := newEvent(u, alertID, EventTransition, from, at)
	// Check masked the comment already; masking again changes nothing but covers a caller
	// that skipped it.
	e.To, e.Comment, e.Deadline, e.Amount = t.To, MaskText(t.Comment), t.Deadline, t.Amount
	return e
}

// NewAssignmentEvent is the event of u giving an alert in status current to assignee; a zero
// assignee takes it back into the city's queue. The comment is optional.
func NewAssignmentEvent(u User, alertID string, current Status, assignee User, comment string, at time.Time) (Event, error) {
	comment, err := checkComment(comment, false)
	if err != nil {
		return Event{}, err
	}
	e := newEvent(u, alertID, EventAssignment, current, at)
	e.Comment, e.AssigneeID, e.AssigneeName = comment, assignee.ID, assignee.Name
	return e, nil
}

// NewProposalEvent is the event of u proposing that an alert in status current move to
// t.To. The comment is required; an amount may accompany a proposed recovery order and is then
// checked like one; a deadline is refused. CheckProposal must have passed.
func NewProposalEvent(u User, alertID string, current Status, t Transition, at time.Time) (Event, error) {
	comment, err := checkComment(t.Comment, true)
	if err != nil {
		return Event{}, err
	}
	if !t.Deadline.IsZero() {
		return Event{}, FieldErrorf("deadline", "a proposal has no deadline; propose a decision of the province")
	}
	if t.Amount != 0 || t.To == StatusRecoveryOrdered {
		if err := checkAmount(t.To, t.Amount); err != nil {
			return Event{}, err
		}
	}
	e := newEvent(u, alertID, EventProposal, current, at)
	e.Comment, e.ProposedTo, e.Amount = comment, t.To, t.Amount
	return e, nil
}

func newEvent(u User, alertID string, kind EventKind, from Status, at time.Time) Event {
	return Event{
		AlertID: alertID, At: at, Kind: kind, ActorID: u.ID, ActorName: u.Name, ActorRole: u.Role,
		From: from, To: from,
	}
}

// EventResult is what became of one event given to EventStore.AppendEvents: the event as
// stored, or why it was not.
type EventResult struct {
	Event Event
	Err   error
}

// OverdueExplanation is an alert whose explanation is past its deadline.
type OverdueExplanation struct {
	AlertID     string    `json:"alert_id"`
	City        string    `json:"city"`
	Title       string    `json:"title"`
	Deadline    time.Time `json:"-"`
	RequestedAt time.Time `json:"requested_at"`
	RequestedBy string    `json:"requested_by"` // the name of who asked
	DaysOverdue int       `json:"days_overdue"`
}

// MarshalJSON writes the deadline as a date.
func (o OverdueExplanation) MarshalJSON() ([]byte, error) {
	type plain OverdueExplanation
	return json.Marshal(struct {
		plain
		Deadline string `json:"deadline"`
	}{plain(o), o.Deadline.In(CST).Format(time.DateOnly)})
}

// EventStore keeps the workflow's append-only log of events. Nothing in it is updated or
// deleted: a correction is a new event.
type EventStore interface {
	// AppendEvents records events in one write, in order. An event is recorded only when its
	// alert exists (else ENOTFOUND) and the alert's current status, after the events before it
	// in the call, is still the event's From (else ECONFLICT): two reviewers acting on one
	// alert at once do not both succeed from the same state. The stored event has its ID and
	// Seq set. The error is for the call as a whole, and then nothing may be assumed stored.
	AppendEvents(ctx context.Context, events []Event) ([]EventResult, error)
	// Statuses returns the current status of each alert, derived from the log: the To of its
	// latest event. Alerts nobody acted on are new and left out.
	Statuses(ctx context.Context, alertIDs []string) (map[string]Status, error)
	// History returns the events of one alert, oldest first; none when nobody acted on it.
	History(ctx context.Context, alertID string) ([]Event, error)
	// ExportEvents calls fn with every event in the log, oldest first, stopping at fn's
	// first error, which it returns.
	ExportEvents(ctx context.Context, fn func(Event) error) error
	// OverdueExplanations lists the alerts waiting for an explanation whose deadline is
	// before today, of city ("" for all), the longest overdue first.
	OverdueExplanations(ctx context.Context, city string, today time.Time) ([]OverdueExplanation, error)
}
