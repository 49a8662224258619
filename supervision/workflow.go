package supervision

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/voucherwatch/voucherwatch"
	"github.com/voucherwatch/voucherwatch/supervision/api"
	"github.com/voucherwatch/voucherwatch/supervision/workflow"
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

// flow is the workflow service over the server's dependencies; the API's routes and the web
// UI's forms act through it.
func (s *Server) flow() *workflow.Service {
	return &workflow.Service{Alerts: s.workflow.Alerts, Events: s.workflow.Events, Users: s.workflow.Users,
		ExplanationDays: s.workflow.ExplanationDays, Now: s.workflow.Now, Log: s.Log, PasswordSet: s.sessions.forget}
}

// registerWorkflowRoutes adds the workflow and user routes, and makes the server accept the
// tokens of the users in d.Users besides those added with AddToken.
func (s *Server) registerWorkflowRoutes(d WorkflowDeps) {
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

// postTransition answers POST /api/v1/alerts/{id}/transitions {"to", "comment", "deadline"?,
// "amount"?, "from"?} with 201 and the recorded event; 400 naming the field for bad input, 403
// for a move the role may not make, 409 for one the workflow does not allow from the current
// status (or when the alert moved on meanwhile).
func (s *Server) postTransition(w http.ResponseWriter, r *http.Request, u voucherwatch.User) {
	actOnAlert(s, w, r, u, s.flow().Transition)
}

// actOnAlert is the shape of the API's routes that act on one alert: read the alert the user
// may change (workflow.Service.ActingOn), decode the body as Q, let act check and record the event, answer it.
func actOnAlert[Q any](s *Server, w http.ResponseWriter, r *http.Request, u voucherwatch.User,
	act func(context.Context, voucherwatch.User, voucherwatch.Alert, Q) (voucherwatch.Event, error)) {
	a, err := s.flow().ActingOn(r.Context(), u, r.PathValue("id"))
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

// postProposal answers POST /api/v1/alerts/{id}/proposals {"to", "comment", "amount"?}: a
// reviewer recommends a decision of the province (confirm, dismiss, order or record recovery,
// reopen a decided alert). The proposal is an event that keeps the status, with proposed_to
// set; the province decides with a transition. 201 with the event.
func (s *Server) postProposal(w http.ResponseWriter, r *http.Request, u voucherwatch.User) {
	actOnAlert(s, w, r, u, s.flow().Propose)
}

// postAssign answers POST /api/v1/alerts/{id}/assign {"user_id", "comment"?}: the alert is
// given to a person who can act on it, recorded as an event that keeps the status. 201 with
// the event.
func (s *Server) postAssign(w http.ResponseWriter, r *http.Request, u voucherwatch.User) {
	actOnAlert(s, w, r, u, s.flow().Assign)
}

// answerEvent answers 201 with a recorded event, or the error.
func (s *Server) answerEvent(w http.ResponseWriter, e voucherwatch.Event, err error) {
	if err != nil {
		s.fail(w, err)
		return
	}
	api.WriteJSON(w, http.StatusCreated, e)
}

// getHistory answers GET /api/v1/alerts/{id}/history with {"events": [...]}, oldest first.
func (s *Server) getHistory(w http.ResponseWriter, r *http.Request, u voucherwatch.User) {
	events, err := s.flow().History(r.Context(), u, r.PathValue("id"))
	if err != nil {
		s.fail(w, err)
		return
	}
	if events == nil {
		events = []voucherwatch.Event{}
	}
	workflow.MaskEventComments(events)
	api.WriteJSON(w, http.StatusOK, map[string]any{"events": events})
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
