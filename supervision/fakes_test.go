package supervision

import (
	"context"
	"fmt"
	"sort"
	"sync"
	"time"

	"github.com/voucherwatch/voucherwatch"
	"github.com/voucherwatch/voucherwatch/supervision/workflow"
)

// fakeWorkflow is a hand-written AlertStore and EventStore in memory. An alert's status is
// derived from its events as the real store does (the To of the latest event, else its seed
// status, else new), and AppendEvents makes the same optimistic check.
type fakeWorkflow struct {
	mu     sync.Mutex
	alerts []voucherwatch.Alert // Status is the seed status, before any event
	events []voucherwatch.Event
	seq    uint64

	// StatusesFn, when set, answers Statuses instead of the fake's own log.
	StatusesFn func(ctx context.Context, ids []string) (map[string]voucherwatch.Status, error)
	// AppendEventsFn, when set, answers AppendEvents instead of the fake's own log.
	AppendEventsFn func(ctx context.Context, events []voucherwatch.Event) ([]voucherwatch.EventResult, error)
	// ExportErr, when set, fails ExportEvents after ExportErrAfter events.
	ExportErr      error
	ExportErrAfter int
	// Overdue is what OverdueExplanations answers, filtered by city.
	Overdue []voucherwatch.OverdueExplanation
}

func (f *fakeWorkflow) status(a voucherwatch.Alert) voucherwatch.Status {
	st := a.Status
	if st == "" {
		st = voucherwatch.StatusNew
	}
	for _, e := range f.events {
		if e.AlertID == a.ID {
			st = e.To
		}
	}
	return st
}

func (f *fakeWorkflow) UpsertAlerts(context.Context, []voucherwatch.Alert, time.Time) (voucherwatch.UpsertResult, error) {
	return voucherwatch.UpsertResult{}, nil
}

func (f *fakeWorkflow) Alerts(_ context.Context, flt voucherwatch.AlertFilter) ([]voucherwatch.Alert, string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []voucherwatch.Alert
	for _, a := range f.alerts {
		a.Status = f.status(a)
		if workflow.Matches(a, flt) && (flt.AssigneeID == "" || f.assignee(a.ID) == flt.AssigneeID) {
			out = append(out, a)
		}
	}
	return out, "", nil
}

func (f *fakeWorkflow) Alert(_ context.Context, id string) (voucherwatch.Alert, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, a := range f.alerts {
		if a.ID == id {
			a.Status = f.status(a)
			return a, nil
		}
	}
	return voucherwatch.Alert{}, voucherwatch.Errorf(voucherwatch.ENOTFOUND, "alert %s not found", id)
}

func (f *fakeWorkflow) AppendEvents(ctx context.Context, events []voucherwatch.Event) ([]voucherwatch.EventResult, error) {
	if f.AppendEventsFn != nil {
		return f.AppendEventsFn(ctx, events)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	res := make([]voucherwatch.EventResult, len(events))
	for i, e := range events {
		var cur voucherwatch.Status
		for _, a := range f.alerts {
			if a.ID == e.AlertID {
				cur = f.status(a)
			}
		}
		switch {
		case cur == "":
			res[i].Err = voucherwatch.Errorf(voucherwatch.ENOTFOUND, "alert %s not found", e.AlertID)
		case cur != e.From:
			res[i].Err = voucherwatch.Errorf(voucherwatch.ECONFLICT, "alert %s is %s now, not %s", e.AlertID, cur, e.From)
		default:
			f.seq++
			e.ID, e.Seq = fmt.Sprintf("ev_%d", f.seq), f.seq
			f.events = append(f.events, e)
			res[i].Event = e
		}
	}
	return res, nil
}

func (f *fakeWorkflow) Statuses(ctx context.Context, ids []string) (map[string]voucherwatch.Status, error) {
	if f.StatusesFn != nil {
		return f.StatusesFn(ctx, ids)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	out := map[string]voucherwatch.Status{}
	for _, a := range f.alerts {
		for _, id := range ids {
			if a.ID == id {
				out[id] = f.status(a)
			}
		}
	}
	return out, nil
}

func (f *fakeWorkflow) History(_ context.Context, id string) ([]voucherwatch.Event, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []voucherwatch.Event
	for _, e := range f.events {
		if e.AlertID == id {
			out = append(out, e)
		}
	}
	return out, nil
}

func (f *fakeWorkflow) ExportEvents(_ context.Context, fn func(voucherwatch.Event) error) error {
	f.mu.Lock()
	events := append([]voucherwatch.Event(nil), f.events...)
	f.mu.Unlock()
	for i, e := range events {
		if f.ExportErr != nil && i == f.ExportErrAfter {
			return f.ExportErr
		}
		if err := fn(e); err != nil {
			return err
		}
	}
	if f.ExportErr != nil && len(events) <= f.ExportErrAfter {
		return f.ExportErr
	}
	return nil
}

func (f *fakeWorkflow) OverdueExplanations(_ context.Context, city string, _ time.Time) ([]voucherwatch.OverdueExplanation, error) {
	var out []voucherwatch.OverdueExplanation
	for _, o := range f.Overdue {
		if city == "" || o.City == city {
			out = append(out, o)
		}
	}
	return out, nil
}

// fakeUsers is a hand-written UserStore in memory that counts token look-ups.
type fakeUsers struct {
	mu       sync.Mutex
	users    map[string]voucherwatch.User
	hashes   map[string]string // token hash → user id
	disabled map[string]bool
	password map[string]string // user id → password hash
	lookups  int
	// LookupErr, when set, fails UserByTokenHash, as an unreachable ClickHouse would.
	LookupErr error
}

func newFakeUsers(us ...voucherwatch.User) *fakeUsers {
	f := &fakeUsers{users: map[string]voucherwatch.User{}, hashes: map[string]string{}, disabled: map[string]bool{}, password: map[string]string{}}
	for _, u := range us {
		f.users[u.ID] = u
	}
	return f
}

func (f *fakeUsers) CreateUser(_ context.Context, u voucherwatch.User, tokenHash string, _ time.Time) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.users[u.ID] = u
	f.hashes[tokenHash] = u.ID
	return nil
}

func (f *fakeUsers) UserByTokenHash(_ context.Context, h string) (voucherwatch.User, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.lookups++
	if f.LookupErr != nil {
		return voucherwatch.User{}, f.LookupErr
	}
	id, ok := f.hashes[h]
	if !ok || f.disabled[id] {
		return voucherwatch.User{}, voucherwatch.Errorf(voucherwatch.ENOTFOUND, "no user with this token")
	}
	return f.users[id], nil
}

func (f *fakeUsers) User(_ context.Context, id string) (voucherwatch.User, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	u, ok := f.users[id]
	if !ok || f.disabled[id] {
		return voucherwatch.User{}, voucherwatch.Errorf(voucherwatch.ENOTFOUND, "user %s not found", id)
	}
	return u, nil
}

func (f *fakeUsers) Users(context.Context) ([]voucherwatch.User, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []voucherwatch.User
	for id, u := range f.users {
		if !f.disabled[id] {
			out = append(out, u)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out, nil
}

func (f *fakeUsers) DisableUser(_ context.Context, id string, _ time.Time) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if _, ok := f.users[id]; !ok || f.disabled[id] {
		return voucherwatch.Errorf(voucherwatch.ENOTFOUND, "user %s not found", id)
	}
	f.disabled[id] = true
	return nil
}

func (f *fakeUsers) SetPassword(_ context.Context, id, hash string, _ time.Time) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if _, ok := f.users[id]; !ok || f.disabled[id] {
		return voucherwatch.Errorf(voucherwatch.ENOTFOUND, "user %s not found", id)
	}
	f.password[id] = hash
	return nil
}

func (f *fakeUsers) UserByLogin(_ context.Context, login string) (voucherwatch.User, string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for id, u := range f.users {
		if u.Login != "" && u.Login == login && !f.disabled[id] {
			return u, f.password[id], nil
		}
	}
	return voucherwatch.User{}, "", voucherwatch.Errorf(voucherwatch.ENOTFOUND, "no user signs in as %q", login)
}

// assignee is whom the latest assignment event of the alert names; f.mu is held.
func (f *fakeWorkflow) assignee(id string) string {
	who := ""
	for _, e := range f.events {
		if e.AlertID == id && e.Kind == voucherwatch.EventAssignment {
			who = e.AssigneeID
		}
	}
	return who
}
