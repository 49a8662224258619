package supervision

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/voucherwatch/voucherwatch"
)

// WorkflowDeps are the dependencies of the workflow routes: moving alerts through the
// workflow, their history, assignment, proposals, bulk actions, overdue explanations, the
// export of the log, and the users.
type WorkflowDeps struct {
	// Alerts reads alerts, with their current status, for the access checks.
	Alerts voucherwatch.AlertStore
	// Events keeps the append-only workflow log.
	Events voucherwatch.EventStore
	// Users keeps the users and their token hashes, shared by the engine's instances.
	Users voucherwatch.UserStore
	// ExplanationDays is the time to explain when a request names no deadline (the policy's
	// explanation_days); voucherwatch.DefaultExplanationDays when not positive.
	ExplanationDays int
	// Now is the clock; time.Now when nil.
	Now func() time.Time
	// TokenCacheTTL is how long a token looked up in Users is trusted without asking again,
	// so also how long a disabled user's token keeps working on other instances;
	// DefaultTokenCacheTTL when zero, no caching when negative.
	TokenCacheTTL time.Duration
}

func (d WorkflowDeps) now() time.Time {
	if d.Now == nil {
		return time.Now()
	}
	return d.Now()
}

// RegisterWorkflowRoutes adds the workflow and user routes, and makes the server accept the
// tokens of the users in d.Users besides those added with AddToken.
func (s *Server) RegisterWorkflowRoutes(d WorkflowDeps) {
	s.workflow = d
	s.mux.Handle("POST /api/v1/alerts/{id}/transitions", s.authed(s.postTransition))
	s.mux.Handle("POST /api/v1/alerts/{id}/proposals", s.authed(s.postProposal))
	s.mux.Handle("POST /api/v1/alerts/{id}/assign", s.authed(s.postAssign))
	s.mux.Handle("GET /api/v1/alerts/{id}/history", s.authed(s.getHistory))
	s.mux.Handle("POST /api/v1/alerts/bulk", s.authed(s.postBulk))
	s.mux.Handle("GET /api/v1/events/export", s.authed(s.exportEvents))
	s.mux.Handle("GET /api/v1/explanations/overdue", s.authed(s.getOverdue))
	s.mux.Handle("GET /api/v1/me", s.authed(s.getMe))
	s.mux.Handle("GET /api/v1/users", s.authed(s.listUsers))
	s.mux.Handle("POST /api/v1/users", s.authed(s.createUser))
	s.mux.Handle("POST /api/v1/users/{id}/disable", s.authed(s.disableUser))
	s.mux.Handle("POST /api/v1/users/{id}/password", s.authed(s.setPassword))
}

// scopedAlert reads an alert the user may see: another city's alert does not exist for a city
// reviewer (ENOTFOUND).
func (s *Server) scopedAlert(ctx context.Context, u voucherwatch.User, id string) (voucherwatch.Alert, error) {
	a, err := s.workflow.Alerts.Alert(ctx, id)
	if err != nil {
		return a, err
	}
	if scope := cityScope(u); scope != "" && a.City != scope {
		return voucherwatch.Alert{}, voucherwatch.Errorf(voucherwatch.ENOTFOUND, "alert %s not found", id)
	}
	return a, nil
}

// actingOn reads an alert the user may see and change, with its status as the event log
// has it: ENOTFOUND for an alert the user may not see, EFORBIDDEN for a role that changes
// nothing. The API and the web UI both start every change here.
func (s *Server) actingOn(ctx context.Context, u voucherwatch.User, id string) (voucherwatch.Alert, error) {
	a, err := s.scopedAlert(ctx, u, id)
	if err != nil {
		return a, err
	}
	if !u.Role.MayAct() {
		return a, voucherwatch.Errorf(voucherwatch.EFORBIDDEN, "role %s may not change alerts", u.Role)
	}
	one := []voucherwatch.Alert{a}
	if err := s.logStatuses(ctx, one); err != nil {
		return a, err
	}
	return one[0], nil
}

// logStatuses sets the alerts' statuses to what the event log says, the state AppendEvents
// checks a move against. The alert store derives the same status in the same way; asking the
// log keeps a move possible should the two ever disagree (see store/events.go).
func (s *Server) logStatuses(ctx context.Context, alerts []voucherwatch.Alert) error {
	if len(alerts) == 0 {
		return nil
	}
	ids := make([]string, len(alerts))
	for i, a := range alerts {
		ids[i] = a.ID
	}
	st, err := s.workflow.Events.Statuses(ctx, ids)
	if err != nil {
		return err
	}
	for i, a := range alerts {
		if v, ok := st[a.ID]; ok {
			alerts[i].Status = v
		}
	}
	return nil
}

// transitionRequest is the body of POST /api/v1/alerts/{id}/transitions and, without from,
// of the proposals route.
type transitionRequest struct {
	To      string `json:"to"`
	Comment string `json:"comment"`
	// Deadline is a date, "2026-12-31"; explanation requests only.
	Deadline *string `json:"deadline"`
	// Amount is yuan as a string, "12345.67"; recovery orders only.
	Amount *string `json:"amount"`
	// From, when given, is the status the client saw: the move is refused (409) if the alert
	// has moved on since, as a form submitted from a stale page should be.
	From string `json:"from"`
}

// transition parses the request's fields; the domain checks their meaning.
func (q transitionRequest) transition() (voucherwatch.Transition, error) {
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
func checkFrom(q transitionRequest, a voucherwatch.Alert) error {
	if q.From != "" && voucherwatch.Status(q.From) != a.Status {
		return voucherwatch.Errorf(voucherwatch.ECONFLICT, "alert %s is %s now, not %s: someone acted on it meanwhile; reload and try again", a.ID, a.Status, q.From)
	}
	return nil
}

// postTransition answers POST /api/v1/alerts/{id}/transitions {"to", "comment", "deadline"?,
// "amount"?, "from"?} with 201 and the recorded event; 400 naming the field for bad input, 403
// for a move the role may not make, 409 for one the workflow does not allow from the current
// status (or when the alert moved on meanwhile).
func (s *Server) postTransition(w http.ResponseWriter, r *http.Request, u voucherwatch.User) {
	actOnAlert(s, w, r, u, s.transitionAlert)
}

// actOnAlert is the shape of the API's routes that act on one alert: read the alert the user
// may change (actingOn), decode the body as Q, let act check and record the event, answer it.
func actOnAlert[Q any](s *Server, w http.ResponseWriter, r *http.Request, u voucherwatch.User,
	act func(context.Context, voucherwatch.User, voucherwatch.Alert, Q) (voucherwatch.Event, error)) {
	a, err := s.actingOn(r.Context(), u, r.PathValue("id"))
	if err != nil {
		s.fail(w, err)
		return
	}
	var q Q
	if err := decodeJSON(w, r, &q); err != nil {
		s.fail(w, err)
		return
	}
	e, err := act(r.Context(), u, a, q)
	s.answerEvent(w, e, err)
}

// transitionAlert checks the move q asks of u on alert a (read with actingOn) and records it.
// The API and the web UI make every transition here.
func (s *Server) transitionAlert(ctx context.Context, u voucherwatch.User, a voucherwatch.Alert, q transitionRequest) (voucherwatch.Event, error) {
	now := s.workflow.now()
	t, err := q.transition()
	if err == nil {
		t, err = t.Check(now, s.workflow.ExplanationDays)
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
// allow it from a's status (and from the status the client saw, q.From). The single route and
// the bulk route check each alert here.
func transitionEvent(u voucherwatch.User, a voucherwatch.Alert, q transitionRequest, t voucherwatch.Transition, now time.Time) (voucherwatch.Event, error) {
	err := checkFrom(q, a)
	if err == nil {
		err = voucherwatch.CheckTransition(u.Role, a.Status, t.To)
	}
	if err != nil {
		return voucherwatch.Event{}, err
	}
	return voucherwatch.NewTransitionEvent(u, a.ID, a.Status, t, now), nil
}

// postProposal answers POST /api/v1/alerts/{id}/proposals {"to", "comment", "amount"?}: a
// reviewer recommends a decision of the province (confirm, dismiss, order or record recovery,
// reopen a decided alert). The proposal is an event that keeps the status, with proposed_to
// set; the province decides with a transition. 201 with the event.
func (s *Server) postProposal(w http.ResponseWriter, r *http.Request, u voucherwatch.User) {
	actOnAlert(s, w, r, u, s.proposeOn)
}

// proposeOn checks the proposal q of u on alert a (read with actingOn) and records it.
func (s *Server) proposeOn(ctx context.Context, u voucherwatch.User, a voucherwatch.Alert, q transitionRequest) (voucherwatch.Event, error) {
	now := s.workflow.now()
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

// assignRequest is the body of POST /api/v1/alerts/{id}/assign.
type assignRequest struct {
	// UserID names the assignee; "" takes the alert back into its city's queue.
	UserID  *string `json:"user_id"`
	Comment string  `json:"comment"`
}

// postAssign answers POST /api/v1/alerts/{id}/assign {"user_id", "comment"?}: the alert is
// given to a person who can act on it, recorded as an event that keeps the status. 201 with
// the event.
func (s *Server) postAssign(w http.ResponseWriter, r *http.Request, u voucherwatch.User) {
	actOnAlert(s, w, r, u, s.assignAlert)
}

// assignAlert checks the assignment q of u on alert a (read with actingOn) and records it.
func (s *Server) assignAlert(ctx context.Context, u voucherwatch.User, a voucherwatch.Alert, q assignRequest) (voucherwatch.Event, error) {
	if q.UserID == nil {
		return voucherwatch.Event{}, voucherwatch.FieldErrorf("user_id", "required: the user to assign the alert to, or \"\" to put it back in the city's queue")
	}
	var assignee voucherwatch.User
	if *q.UserID != "" {
		var err error
		assignee, err = s.workflow.Users.User(ctx, *q.UserID)
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
	e, err := voucherwatch.NewAssignmentEvent(u, a.ID, a.Status, assignee, q.Comment, s.workflow.now())
	if err != nil {
		return e, err
	}
	return s.appendOne(ctx, e)
}

// appendOne records one event and returns it as stored.
func (s *Server) appendOne(ctx context.Context, e voucherwatch.Event) (voucherwatch.Event, error) {
	res, err := s.workflow.Events.AppendEvents(ctx, []voucherwatch.Event{e})
	if err == nil && len(res) != 1 {
		err = fmt.Errorf("supervision: append event: got %d results for 1 event", len(res))
	}
	if err == nil {
		err = res[0].Err
	}
	if err != nil {
		return voucherwatch.Event{}, err
	}
	return res[0].Event, nil
}

// answerEvent answers 201 with a recorded event, or the error.
func (s *Server) answerEvent(w http.ResponseWriter, e voucherwatch.Event, err error) {
	if err != nil {
		s.fail(w, err)
		return
	}
	writeJSON(w, http.StatusCreated, e)
}

// getHistory answers GET /api/v1/alerts/{id}/history with {"events": [...]}, oldest first.
func (s *Server) getHistory(w http.ResponseWriter, r *http.Request, u voucherwatch.User) {
	a, err := s.scopedAlert(r.Context(), u, r.PathValue("id"))
	if err != nil {
		s.fail(w, err)
		return
	}
	events, err := s.workflow.Events.History(r.Context(), a.ID)
	if err != nil {
		s.fail(w, err)
		return
	}
	if events == nil {
		events = []voucherwatch.Event{}
	}
	maskEventComments(events)
	writeJSON(w, http.StatusOK, map[string]any{"events": events})
}

// maxBodyBytes bounds a request body; the workflow's bodies are a few hundred bytes.
const maxBodyBytes = 1 << 20

// decodeJSON reads one JSON object from the body into v, refusing unknown fields, and turns
// decoding errors into EINVALID errors that name the field where there is one.
func decodeJSON(w http.ResponseWriter, r *http.Request, v any) error {
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxBodyBytes))
	dec.DisallowUnknownFields()
	err := dec.Decode(v)
	if err == nil {
		if _, extra := dec.Token(); extra != io.EOF {
			return voucherwatch.FieldErrorf("body", "want one JSON object, got more after it")
		}
		return nil
	}
	var typeErr *json.UnmarshalTypeError
	var syntaxErr *json.SyntaxError
	var sizeErr *http.MaxBytesError
	switch {
	case errors.Is(err, io.EOF):
		return voucherwatch.FieldErrorf("body", "want a JSON object, got nothing")
	case errors.As(err, &typeErr) && typeErr.Field != "":
		return voucherwatch.FieldErrorf(typeErr.Field, "want a JSON %s, got %s", jsonKind(typeErr.Type.Kind().String()), typeErr.Value)
	case errors.As(err, &typeErr):
		return voucherwatch.FieldErrorf("body", "want a JSON object, got %s", typeErr.Value)
	case errors.As(err, &syntaxErr):
		return voucherwatch.FieldErrorf("body", "malformed JSON at byte %d", syntaxErr.Offset)
	case errors.As(err, &sizeErr):
		return voucherwatch.FieldErrorf("body", "larger than %d bytes", maxBodyBytes)
	}
	if name, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok {
		name = strings.Trim(name, `"`)
		return voucherwatch.FieldErrorf(name, "unknown field")
	}
	return voucherwatch.FieldErrorf("body", "malformed JSON: %v", err)
}

func jsonKind(goKind string) string {
	switch goKind {
	case "string":
		return "string"
	case "slice", "array":
		return "array"
	case "struct", "map":
		return "object"
	case "bool":
		return "boolean"
	}
	return "number"
}
