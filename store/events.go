package store

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/shopspring/decimal"

	"github.com/voucherwatch/voucherwatch"
)

var _ voucherwatch.EventStore = (*DB)(nil)

// The workflow log
//
// alert_events is a plain MergeTree, so no merge ever drops or replaces a row, and nothing in
// this package updates or deletes one: every action, correction included, is a new row. An
// alert's status is the to_status of its latest event by seq; every event carries the status
// after it, also those that do not change it (assignments, proposals), so that one rule holds.
//
// Two reviewers acting on one alert at once: ClickHouse has no transactions, so AppendEvents
// checks optimistically. It reads each alert's current status and refuses (ECONFLICT) an event
// whose from_status differs, and only then inserts. Within one process the read and the insert
// happen under appendMu, so the second of two concurrent requests is checked against the state
// after the first. Across engine instances the read and the insert are two statements: two
// instances can both read "reviewing" within the few milliseconds before either inserts, and
// both events are then recorded. Nothing is lost (the log shows both, who and when), and the
// later seq decides the status; but the second reviewer was not refused. Closing that window
// needs a single writer per alert (route workflow writes to one instance, or through a Kafka
// topic keyed by alert id) or a lock service; neither is done here.

// appendMu serialises the check-then-insert of AppendEvents within the process.
var appendMu sync.Mutex

// eventColumns are alert_events' columns in the order reads scan and writes append them.
const eventColumns = `event_id, alert_id, seq, at, kind, actor_id, actor_name, actor_role, from_status,
	to_status, comment, deadline, amount, assignee_id, assignee_name, proposed_to`

// eventHead is the latest state of an alert's history.
type eventHead struct {
	status voucherwatch.Status
	seq    uint64
	at     time.Time
}

// AppendEvents records events whose From is still their alert's status, in one insert. See
// the package notes above for what the check does and does not guarantee across instances.
func (db *DB) AppendEvents(ctx context.Context, events []voucherwatch.Event) ([]voucherwatch.EventResult, error) {
	results := make([]voucherwatch.EventResult, len(events))
	if len(events) == 0 {
		return results, nil
	}
	ids := make([]string, 0, len(events))
	for _, e := range events {
		ids = append(ids, e.AlertID)
	}
	appendMu.Lock()
	defer appendMu.Unlock()
	heads, err := db.eventHeads(ctx, ids)
	if err != nil {
		return nil, err
	}
	evidence, err := db.currentEvidence(ctx, ids)
	if err != nil {
		return nil, err
	}
	batch, err := db.conn.PrepareBatch(ctx, "INSERT INTO alert_events ("+eventColumns+", evidence)")
	if err != nil {
		return nil, fmt.Errorf("store: insert events: %w", err)
	}
	defer db.alertsWritten() // after Abort: once the INSERT has ended
	defer batch.Abort()
	appended := 0
	for i, e := range events {
		ev, ok := evidence[e.AlertID]
		if !ok {
			results[i].Err = voucherwatch.Errorf(voucherwatch.ENOTFOUND, "alert %s not found", e.AlertID)
			continue
		}
		h := heads[e.AlertID]
		current := h.status
		if current == "" {
			current = voucherwatch.StatusNew
		}
		if e.From != current {
			results[i].Err = voucherwatch.Errorf(voucherwatch.ECONFLICT, "alert %s is %s now, not %s: someone acted on it meanwhile; reload and try again", e.AlertID, current, e.From)
			continue
		}
		if e.ID == "" {
			e.ID = newEventID()
		}
		// seq keeps the time to the nanosecond; at, whole seconds, is moved a second past
		// the alert's previous event when they would tie, so that ordering by at, as the
		// alert list does (argMax(to_status, at)), agrees with ordering by seq.
		seq := max(uint64(max(e.At.UnixNano(), 0)), h.seq+1)
		e.At = e.At.Truncate(time.Second).In(voucherwatch.CST)
		if !h.at.IsZero() && !e.At.After(h.at) {
			e.At = h.at.Add(time.Second).In(voucherwatch.CST)
		}
		e.Seq = seq
		var deadline *time.Time
		if !e.Deadline.IsZero() {
			d := voucherwatch.Day(e.Deadline)
			e.Deadline, deadline = d, &d
		}
		if err := batch.Append(e.ID, e.AlertID, e.Seq, e.At, string(e.Kind), e.ActorID, e.ActorName, string(e.ActorRole),
			string(e.From), string(e.To), e.Comment, deadline, yuan(e.Amount), e.AssigneeID, e.AssigneeName,
			string(e.ProposedTo), ev); err != nil {
			return nil, fmt.Errorf("store: append event for %s: %w", e.AlertID, err)
		}
		heads[e.AlertID] = eventHead{status: e.To, seq: e.Seq, at: e.At}
		results[i].Event = e
		appended++
	}
	if appended == 0 {
		return results, nil
	}
	if err := batch.Send(); err != nil {
		return nil, fmt.Errorf("store: insert events: %w", err)
	}
	return results, nil
}

func newEventID() string {
	b := make([]byte, 12)
	_, _ = rand.Read(b)
	return "ev_" + hex.EncodeToString(b)
}

// eventHeads returns the status and last seq of each alert that has events.
func (db *DB) eventHeads(ctx context.Context, ids []string) (map[string]eventHead, error) {
	heads := make(map[string]eventHead, len(ids))
	err := db.chunked(ctx, ids, `SELECT alert_id, argMax(to_status, seq), max(seq), max(at)
		FROM alert_events WHERE has(?, alert_id) GROUP BY alert_id`, func(scan func(...any) error) error {
		var id, status string
		var seq uint64
		var at time.Time
		if err := scan(&id, &status, &seq, &at); err != nil {
			return err
		}
		heads[id] = eventHead{status: voucherwatch.Status(status), seq: seq, at: at}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("store: read alert status: %w", err)
	}
	return heads, nil
}

// Statuses returns the current status of each alert that has events, derived from the log.
func (db *DB) Statuses(ctx context.Context, alertIDs []string) (map[string]voucherwatch.Status, error) {
	heads, err := db.eventHeads(ctx, alertIDs)
	if err != nil {
		return nil, err
	}
	out := make(map[string]voucherwatch.Status, len(heads))
	for id, h := range heads {
		out[id] = h.status
	}
	return out, nil
}

// currentEvidence returns the evidence (JSON) of the newest version of each alert that exists.
func (db *DB) currentEvidence(ctx context.Context, ids []string) (map[string]string, error) {
	out := make(map[string]string, len(ids))
	err := db.chunked(ctx, ids, `SELECT id, argMax(evidence, version) FROM alerts WHERE has(?, id) GROUP BY id`,
		func(scan func(...any) error) error {
			var id, ev string
			if err := scan(&id, &ev); err != nil {
				return err
			}
			out[id] = ev
			return nil
		})
	if err != nil {
		return nil, fmt.Errorf("store: read alert evidence: %w", err)
	}
	return out, nil
}

// chunked runs q, whose one parameter is a list of ids, over ids in chunks, calling row for
// every row.
func (db *DB) chunked(ctx context.Context, ids []string, q string, row func(scan func(...any) error) error) error {
	ids = uniqueStrings(ids)
	for lo := 0; lo < len(ids); lo += 5000 {
		rows, err := db.conn.Query(ctx, q, ids[lo:min(lo+5000, len(ids))])
		if err != nil {
			return err
		}
		for rows.Next() {
			if err := row(rows.Scan); err != nil {
				rows.Close()
				return err
			}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
	}
	return nil
}

// uniqueStrings returns the distinct strings of ss, sorted, in a new slice: ss is the caller's.
func uniqueStrings(ss []string) []string {
	out := slices.Clone(ss)
	slices.Sort(out)
	return slices.Compact(out)
}

// History returns an alert's events, oldest first.
func (db *DB) History(ctx context.Context, alertID string) ([]voucherwatch.Event, error) {
	var out []voucherwatch.Event
	err := db.scanEvents(ctx, func(e voucherwatch.Event) error {
		out = append(out, e)
		return nil
	}, "SELECT "+eventColumns+" FROM alert_events WHERE alert_id = ? ORDER BY seq, event_id", alertID)
	if err != nil {
		return nil, fmt.Errorf("store: history of %s: %w", alertID, err)
	}
	return out, nil
}

// ExportEvents streams the whole log, oldest first, as the rows arrive from ClickHouse.
func (db *DB) ExportEvents(ctx context.Context, fn func(voucherwatch.Event) error) error {
	return db.scanEvents(ctx, fn, "SELECT "+eventColumns+" FROM alert_events ORDER BY seq, event_id")
}

func (db *DB) scanEvents(ctx context.Context, fn func(voucherwatch.Event) error, q string, args ...any) error {
	rows, err := db.conn.Query(ctx, q, args...)
	if err != nil {
		return fmt.Errorf("store: query events: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var e voucherwatch.Event
		var kind, role, from, to, proposed string
		var deadline *time.Time
		var amount decimal.Decimal
		if err := rows.Scan(&e.ID, &e.AlertID, &e.Seq, &e.At, &kind, &e.ActorID, &e.ActorName, &role, &from, &to,
			&e.Comment, &deadline, &amount, &e.AssigneeID, &e.AssigneeName, &proposed); err != nil {
			return fmt.Errorf("store: scan event: %w", err)
		}
		e.Kind, e.ActorRole = voucherwatch.EventKind(kind), voucherwatch.Role(role)
		e.From, e.To, e.ProposedTo = voucherwatch.Status(from), voucherwatch.Status(to), voucherwatch.Status(proposed)
		if e.Kind == "" {
			e.Kind = voucherwatch.EventTransition // rows written before migration 6
		}
		e.At = e.At.In(voucherwatch.CST)
		if deadline != nil {
			e.Deadline = voucherwatch.Day(time.Date(deadline.Year(), deadline.Month(), deadline.Day(), 0, 0, 0, 0, voucherwatch.CST))
		}
		e.Amount = voucherwatch.Money(amount.Shift(2).Round(0).IntPart())
		if err := fn(e); err != nil {
			return err
		}
	}
	return rows.Err()
}

// overdueQuery lists the alerts whose latest event leaves them waiting for an explanation and
// whose deadline, set by the latest explanation request, is before the given day.
const overdueQuery = `SELECT alert_id, city, title, due, requested_at, requested_by
FROM (
	SELECT alert_id,
		argMax(to_status, seq) AS status,
		argMaxIf(assumeNotNull(deadline), seq, ` + intoExplanation + ` AND deadline IS NOT NULL) AS due,
		argMaxIf(at, seq, ` + intoExplanation + `) AS requested_at,
		argMaxIf(actor_name, seq, ` + intoExplanation + `) AS requested_by
	FROM alert_events
	GROUP BY alert_id
	HAVING status = 'explanation_requested' AND due < toDate(?)
) ANY LEFT JOIN (
	SELECT id AS alert_id, argMax(city, version) AS city, argMax(title, version) AS title FROM alerts GROUP BY id
) USING alert_id
WHERE ? = '' OR city = ?
ORDER BY due, alert_id`

// intoExplanation selects the events that moved an alert into explanation_requested: only
// transitions change the status, assignments and proposals keep it.
const intoExplanation = `(to_status = 'explanation_requested' AND from_status != 'explanation_requested')`

// OverdueExplanations lists the explanations past their deadline: the alert is still waiting
// (explanation_requested) and its deadline is before today.
func (db *DB) OverdueExplanations(ctx context.Context, city string, today time.Time) ([]voucherwatch.OverdueExplanation, error) {
	day := voucherwatch.Day(today)
	rows, err := db.conn.Query(ctx, overdueQuery, day.Format(time.DateOnly), city, city)
	if err != nil {
		return nil, fmt.Errorf("store: overdue explanations: %w", err)
	}
	defer rows.Close()
	out := []voucherwatch.OverdueExplanation{}
	for rows.Next() {
		var o voucherwatch.OverdueExplanation
		var deadline time.Time
		if err := rows.Scan(&o.AlertID, &o.City, &o.Title, &deadline, &o.RequestedAt, &o.RequestedBy); err != nil {
			return nil, fmt.Errorf("store: scan overdue explanation: %w", err)
		}
		o.Deadline = time.Date(deadline.Year(), deadline.Month(), deadline.Day(), 0, 0, 0, 0, voucherwatch.CST)
		o.RequestedAt = o.RequestedAt.In(voucherwatch.CST)
		o.DaysOverdue = int(day.Sub(o.Deadline).Hours() / 24)
		out = append(out, o)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: overdue explanations: %w", err)
	}
	return out, nil
}
