package workflow

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"time"

	"github.com/voucherwatch/voucherwatch"
)

// Service moves alerts through the workflow.
type Service struct {
	// Alerts reads alerts, with their current status, for the access checks.
	Alerts voucherwatch.AlertStore
	// Events keeps the append-only workflow log.
	Events voucherwatch.EventStore
	// Users finds the assignees.
	Users voucherwatch.UserStore
	// ExplanationDays is the time to explain when a request names no deadline (the policy's
	// explanation_days); voucherwatch.DefaultExplanationDays when not positive.
	ExplanationDays int
	// Now is the clock; time.Now when nil.
	Now func() time.Time
	// Log records who created users and set passwords; slog.Default() when nil.
	Log *slog.Logger
	// PasswordSet, when set, is told the id of a user whose password was set, so that the
	// sessions signed in with the old one end on this instance at once.
	PasswordSet func(userID string)
}

func (s *Service) log() *slog.Logger {
	if s.Log == nil {
		return slog.Default()
	}
	return s.Log
}

// Clock is the service's time now.
func (s *Service) Clock() time.Time {
	if s.Now == nil {
		return time.Now()
	}
	return s.Now()
}

// CityScope is the only city a user may see, "" for all: city reviewers see their own city.
func CityScope(u voucherwatch.User) string {
	if u.Role == voucherwatch.RoleCityReviewer {
		if u.City == "" {
			return "-" // a city reviewer without a city sees nothing
		}
		return u.City
	}
	return ""
}

// ScopedAlert reads an alert the user may see: another city's alert does not exist for a city
// reviewer (ENOTFOUND).
func (s *Service) ScopedAlert(ctx context.Context, u voucherwatch.User, id string) (voucherwatch.Alert, error) {
	a, err := s.Alerts.Alert(ctx, id)
	if err != nil {
		return a, err
	}
	if scope := CityScope(u); scope != "" && a.City != scope {
		return voucherwatch.Alert{}, voucherwatch.Errorf(voucherwatch.ENOTFOUND, "alert %s not found", id)
	}
	return a, nil
}

// ActingOn reads an alert the user may see and change, with its status as the event log
// has it: ENOTFOUND for an alert the user may not see, EFORBIDDEN for a role that changes
// nothing. The API and the web UI both start every change here.
func (s *Service) ActingOn(ctx context.Context, u voucherwatch.User, id string) (voucherwatch.Alert, error) {
	a, err := s.ScopedAlert(ctx, u, id)
	if err != nil {
		return a, err
	}
	if !u.Role.MayAct() {
		return a, voucherwatch.Errorf(voucherwatch.EFORBIDDEN, "role %s may not change alerts", u.Role)
	}
	one := []voucherwatch.Alert{a}
	if err := s.LogStatuses(ctx, one); err != nil {
		return a, err
	}
	return one[0], nil
}

// LogStatuses sets the alerts' statuses to what the event log says, the state AppendEvents
// checks a move against. The alert store derives the same status in the same way; asking the
// log keeps a move possible should the two ever disagree (see store/events.go).
func (s *Service) LogStatuses(ctx context.Context, alerts []voucherwatch.Alert) error {
	if len(alerts) == 0 {
		return nil
	}
	ids := make([]string, len(alerts))
	for i, a := range alerts {
		ids[i] = a.ID
	}
	st, err := s.Events.Statuses(ctx, ids)
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

// History is the workflow log of an alert the user may see, oldest first.
func (s *Service) History(ctx context.Context, u voucherwatch.User, id string) ([]voucherwatch.Event, error) {
	a, err := s.ScopedAlert(ctx, u, id)
	if err != nil {
		return nil, err
	}
	return s.Events.History(ctx, a.ID)
}

// Overdue lists the alerts whose requested explanation is past its deadline, the longest
// overdue first, in city ("" for all) as far as the user may see it: a city reviewer sees its
// own city's only, and nothing of another city it asks for.
func (s *Service) Overdue(ctx context.Context, u voucherwatch.User, city string) ([]voucherwatch.OverdueExplanation, error) {
	scope := CityScope(u)
	if scope != "" && city != "" && city != scope {
		return []voucherwatch.OverdueExplanation{}, nil
	}
	if scope != "" {
		city = scope
	}
	overdue, err := s.Events.OverdueExplanations(ctx, city, s.Clock())
	if overdue == nil && err == nil {
		overdue = []voucherwatch.OverdueExplanation{}
	}
	return overdue, err
}

// CheckAlertFilter refuses a status or detector the engine does not have; prefix goes before
// the field names ("filter." in a bulk request).
func CheckAlertFilter(f voucherwatch.AlertFilter, prefix string) error {
	if f.Status != "" && !f.Status.Valid() {
		return voucherwatch.FieldErrorf(prefix+"status", "unknown status %q", f.Status)
	}
	if f.Detector != "" && !slices.Contains(voucherwatch.AlertDetectors(), f.Detector) {
		return voucherwatch.FieldErrorf(prefix+"detector", "unknown detector %q", f.Detector)
	}
	return nil
}

// appendOne records one event and returns it as stored.
func (s *Service) appendOne(ctx context.Context, e voucherwatch.Event) (voucherwatch.Event, error) {
	res, err := s.Events.AppendEvents(ctx, []voucherwatch.Event{e})
	if err == nil && len(res) != 1 {
		err = fmt.Errorf("workflow: append event: got %d results for 1 event", len(res))
	}
	if err == nil {
		err = res[0].Err
	}
	if err != nil {
		return voucherwatch.Event{}, err
	}
	return res[0].Event, nil
}
