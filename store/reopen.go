package store

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/voucherwatch/voucherwatch"
)

// ReopeningAlerts is the alert store for the detector runner: it stores a run's findings like
// DB.UpsertAlerts, then sends back to review the dismissed alerts among them whose evidence
// changed (ReopenChanged). A dismissed alert whose finding comes back unchanged stays
// dismissed.
type ReopeningAlerts struct {
	*DB
}

var _ voucherwatch.AlertStore = ReopeningAlerts{}

// UpsertAlerts stores the findings and reopens the dismissed ones whose evidence changed. Only
// an updated finding can have changed, so a run that updated none checks nothing.
func (r ReopeningAlerts) UpsertAlerts(ctx context.Context, alerts []voucherwatch.Alert, at time.Time) (voucherwatch.UpsertResult, error) {
	res, err := r.DB.UpsertAlerts(ctx, alerts, at)
	if err != nil || res.Updated == 0 {
		return res, err
	}
	ids := make([]string, len(alerts))
	for i, a := range alerts {
		ids[i] = a.ID
	}
	if _, err := r.DB.ReopenChanged(ctx, ids, at); err != nil {
		return res, err
	}
	return res, nil
}

// ReopenChanged sends back to review the dismissed alerts whose evidence changed since they
// were dismissed, with an event of the engine (SystemUser) whose comment shows the change. Call
// it after UpsertAlerts with the ids the run updated, or nil to check every dismissed alert
// (it reads only the log's dismissed alerts and their newest versions, so that is cheap too).
// An alert dismissed again after reopening stays dismissed until its evidence changes anew,
// since the comparison is with the evidence seen at the latest dismissal.
func (db *DB) ReopenChanged(ctx context.Context, ids []string, at time.Time) ([]voucherwatch.Event, error) {
	if ids != nil && len(ids) == 0 {
		return nil, nil
	}
	q := `SELECT alert_id, status, seen, last_seq FROM (
		SELECT alert_id, argMax(to_status, seq) AS status,
			argMaxIf(evidence, seq, to_status = 'dismissed' AND from_status != 'dismissed') AS seen,
			max(seq) AS last_seq
		FROM alert_events %s GROUP BY alert_id
	) WHERE status = 'dismissed'`
	var args []any
	if ids != nil {
		q = fmt.Sprintf(q, "WHERE has(?, alert_id)")
		args = append(args, uniqueStrings(ids))
	} else {
		q = fmt.Sprintf(q, "")
	}
	type dismissal struct {
		seen string
		seq  uint64
	}
	dismissed := map[string]dismissal{}
	rows, err := db.conn.Query(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("store: reopen: read dismissed alerts: %w", err)
	}
	for rows.Next() {
		var id, status, seen string
		var seq uint64
		if err := rows.Scan(&id, &status, &seen, &seq); err != nil {
			rows.Close()
			return nil, fmt.Errorf("store: reopen: %w", err)
		}
		dismissed[id] = dismissal{seen: seen, seq: seq}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: reopen: read dismissed alerts: %w", err)
	}
	if len(dismissed) == 0 {
		return nil, nil
	}
	dids := make([]string, 0, len(dismissed))
	for id := range dismissed {
		dids = append(dids, id)
	}
	sort.Strings(dids)
	current, err := db.currentEvidence(ctx, dids)
	if err != nil {
		return nil, err
	}
	var events []voucherwatch.Event
	for _, id := range dids {
		d, now := dismissed[id], current[id]
		// An empty snapshot means the dismissal predates evidence snapshots: nothing to
		// compare with, so the alert stays dismissed rather than reopening on a guess.
		if d.seen == "" || now == "" || sameEvidence(d.seen, now) {
			continue
		}
		e := voucherwatch.NewTransitionEvent(voucherwatch.SystemUser, id, voucherwatch.StatusDismissed, voucherwatch.Transition{
			To:      voucherwatch.StatusReviewing,
			Comment: EvidenceChange(d.seen, now),
		}, at)
		events = append(events, e)
	}
	if len(events) == 0 {
		return nil, nil
	}
	results, err := db.AppendEvents(ctx, events)
	if err != nil {
		return nil, fmt.Errorf("store: reopen: %w", err)
	}
	var out []voucherwatch.Event
	for _, r := range results {
		// A conflict means a reviewer acted on the alert since the read: theirs stands.
		if r.Err == nil {
			out = append(out, r.Event)
		}
	}
	return out, nil
}

// sameEvidence compares two evidence documents by value, so that a re-encoding that changes
// nothing a reviewer sees (key order, spacing) does not reopen an alert.
func sameEvidence(a, b string) bool {
	if a == b {
		return true
	}
	var va, vb any
	if json.Unmarshal([]byte(a), &va) != nil || json.Unmarshal([]byte(b), &vb) != nil {
		return false
	}
	ca, _ := json.Marshal(va)
	cb, _ := json.Marshal(vb)
	return string(ca) == string(cb)
}

// maxChangeValue bounds how much of one evidence value a reopening comment quotes.
const maxChangeValue = 300

// EvidenceChange describes, in Chinese for the reviewers who read the history, how the
// evidence of an alert changed: each top-level item added, removed or changed, with its values.
func EvidenceChange(before, after string) string {
	var b, a map[string]any
	if json.Unmarshal([]byte(before), &b) != nil || json.Unmarshal([]byte(after), &a) != nil {
		return "检测结果的证据已变化，系统自动重新打开复核。原证据：" + clip(before, maxChangeValue) + "；新证据：" + clip(after, maxChangeValue)
	}
	keys := map[string]bool{}
	for k := range b {
		keys[k] = true
	}
	for k := range a {
		keys[k] = true
	}
	sorted := make([]string, 0, len(keys))
	for k := range keys {
		sorted = append(sorted, k)
	}
	sort.Strings(sorted)
	var parts []string
	for _, k := range sorted {
		vb, inB := b[k]
		va, inA := a[k]
		switch {
		case !inB:
			parts = append(parts, fmt.Sprintf("新增 %s：%s", k, encode(va)))
		case !inA:
			parts = append(parts, fmt.Sprintf("删除 %s（原为 %s）", k, encode(vb)))
		case encode(vb) != encode(va):
			parts = append(parts, fmt.Sprintf("%s：%s → %s", k, encode(vb), encode(va)))
		}
	}
	if len(parts) == 0 {
		parts = append(parts, "证据内容等价，仅表示形式不同")
	}
	return clip("驳回后检测结果的证据发生变化，系统自动重新打开复核。变化："+strings.Join(parts, "；"), voucherwatch.MaxCommentRunes)
}

// encode writes v as compact JSON with Chinese and <>& as they are, for people to read.
func encode(v any) string {
	var b strings.Builder
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v)
	return clip(strings.TrimSuffix(b.String(), "\n"), maxChangeValue)
}

// clip cuts s to at most n runes, marking the cut.
func clip(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n-1]) + "…"
}
