package workflow

import (
	"context"
	"time"

	"github.com/voucherwatch/voucherwatch"
)

// TransitionRequest asks to move an alert (the body of POST /api/v1/alerts/{id}/transitions
// and, without from, of the proposals route; the web UI's action forms fill it too).
type TransitionRequest struct {
	To      string `json:"to"`
	Comment string `json:"comment"`
	// Deadline is a date, "2026-12-31"; explanation requests only.
	Deadline *string `json:"deadline"`
	// Amount is yuan as a string, "12345.67"; recovery orders only.
	Amount *string `json:"amount"`
	// From, when given, is the status the client saw: the move is refused (ECONFLICT) if the
	// alert has moved on since, as a form submitted from a stale page should be.
	From string `json:"from"`
}

// transition parses the request's fields; the domain checks their meaning.
func (q TransitionRequest) transition() (voucherwatch.Transition, error) {
	t := voucherwatch.Transition{To: voucherwatch.Status(q.To), Comment: q.Comment}
	if q.To == "" {
		return t, voucherwatch.FieldErrorf("to", "required: the status to move the alert to")
	}
	if q.Deadline != nil {
		if t.To != voucherwatch.StatusExplanationRequested {
			return t, voucherwatch.FieldErrorf("deadline", "only an explanation request (explanation_requested) has a deadline")
		}
		if *q.Deadline != "" {
			d, err := time.ParseInLocation(time.DateOnly, *q.Deadline, voucherwatch.CST)
			if err != nil {
				return t, voucherwatch.FieldErrorf("deadline", "want a date like 2026-12-31, got %q", *q.Deadline)
			}
			t.Deadline = d
		}
	}
	if q.Amount != nil {
		if t.To != voucherwatch.StatusRecoveryOrdered {
			return t, voucherwatch.FieldErrorf("amount", "only a recovery order (recovery_ordered) has an amount")
		}
		m, ok := voucherwatch.ParseMoney(*q.Amount)
		if !ok {
			return t, voucherwatch.FieldErrorf("amount", "want yuan as a string like \"12345.67\", got %q", *q.Amount)
		}
		t.Amount = m
	}
	if q.From != "" && !voucherwatch.Status(q.From).Valid() {
		return t, voucherwatch.FieldErrorf("from", "unknown status %q", q.From)
	}
	return t, nil
}

// checkFrom refuses a move whose client saw another status than the alert's current one.
func checkFrom(q TransitionRequest, a voucherwatch.Alert) error {
	if q.From != "" && voucherwatch.Status(q.From) != a.Status {
		return voucherwatch.Errorf(voucherwatch.ECONFLICT, "alert %s is %s now, not %s: someone acted on it meanwhile; reload and try again", a.ID, a.Status, q.From)
	}
	return nil
}

// Transition checks the move q asks of u on alert a (read with ActingOn) and records it:
// EINVALID naming the field for bad input, EFORBIDDEN for a move the role may not make,
// ECONFLICT for one the workflow does not allow from the current status (or when the alert
// moved on meanwhile). The API and the web UI make every transition here.
func (s *Service) Transition(ctx context.Context, u voucherwatch.User, a voucherwatch.Alert, q TransitionRequest) (voucherwatch.Event, error) {
	now := s.Clock()
	t, err := q.transition()
	if err == nil {
		t, err = t.Check(now, s.ExplanationDays)
	}
	var e voucherwatch.Event
	if err == nil {
		e, err = transitionEvent(u, a, q, t, now)
	}
	if err != nil {
		return voucherwatch.Event{}, err
	}
	return s.appendOne(ctx, e)
}

// transitionEvent is the event of u moving alert a as t says, when the workflow and u's role
// allow it from a's status (and from the status the client saw, q.From). The single move and
// the bulk action check each alert here.
func transitionEvent(u voucherwatch.User, a voucherwatch.Alert, q TransitionRequest, t voucherwatch.Transition, now time.Time) (voucherwatch.Event, error) {
	err := checkFrom(q, a)
	if err == nil {
		err = voucherwatch.CheckTransition(u.Role, a.Status, t.To)
	}
	if err != nil {
		return voucherwatch.Event{}, err
	}
	return voucherwatch.NewTransitionEvent(u, a.ID, a.Status, t, now), nil
}

// Propose checks the proposal q of u on alert a (read with ActingOn) and records it: a
// reviewer recommends a decision of the province (confirm, dismiss, order or record recovery,
// reopen a decided alert), an event that keeps the status with proposed_to set.
func (s *Service) Propose(ctx context.Context, u voucherwatch.User, a voucherwatch.Alert, q TransitionRequest) (voucherwatch.Event, error) {
	now := s.Clock()
	t, err := q.transition()
	if err == nil {
		err = checkFrom(q, a)
	}
	if err == nil {
		err = voucherwatch.CheckProposal(u.Role, a.Status, t.To)
	}
	var e voucherwatch.Event
	if err == nil {
		e, err = voucherwatch.NewProposalEvent(u, a.ID, a.Status, t, now)
	}
	if err != nil {
		return e, err
	}
	return s.appendOne(ctx, e)
}

// AssignRequest asks to give an alert to a person (the body of POST
// /api/v1/alerts/{id}/assign).
type AssignRequest struct {
	// UserID names the assignee; "" takes the alert back into its city's queue.
	UserID  *string `json:"user_id"`
	Comment string  `json:"comment"`
}

// Assign checks the assignment q of u on alert a (read with ActingOn) and records it, as an
// event that keeps the status.
func (s *Service) Assign(ctx context.Context, u voucherwatch.User, a voucherwatch.Alert, q AssignRequest) (voucherwatch.Event, error) {
	if q.UserID == nil {
		return voucherwatch.Event{}, voucherwatch.FieldErrorf("user_id", "required: the user to assign the alert to, or \"\" to put it back in the city's queue")
	}
	var assignee voucherwatch.User
	if *q.UserID != "" {
		var err error
		assignee, err = s.Users.User(ctx, *q.UserID)
		if voucherwatch.ErrorCode(err) == voucherwatch.ENOTFOUND {
			err = voucherwatch.FieldErrorf("user_id", "no such user: %s", *q.UserID)
		}
		if err == nil {
			err = voucherwatch.CheckAssignment(u, a.City, assignee)
		}
		if err != nil {
			return voucherwatch.Event{}, err
		}
	}
	e, err := voucherwatch.NewAssignmentEvent(u, a.ID, a.Status, assignee, q.Comment, s.Clock())
	if err != nil {
		return e, err
	}
	return s.appendOne(ctx, e)
}
