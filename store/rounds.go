package store

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"sync/atomic"
	"time"

	"github.com/shopspring/decimal"

	"github.com/voucherwatch/voucherwatch"
)

var _ voucherwatch.RoundStore = (*DB)(nil)

// roundVersionClock makes the version of a written row: the wall clock in nanoseconds, and
// never the same twice from one process, so that two saves within a nanosecond still order.
var roundVersionClock atomic.Uint64

func nextRowVersion() uint64 {
	for {
		last, now := roundVersionClock.Load(), uint64(time.Now().UnixNano())
		if now <= last {
			now = last + 1
		}
		if roundVersionClock.CompareAndSwap(last, now) {
			return now
		}
	}
}

const roundColumns = `id, year, budget, notice_days, weights, mode, state, frozen_version, created_at, created_by,
	published_at, finalised_at, updated_at, version`

// SaveRound writes a new version of the round's row.
func (db *DB) SaveRound(ctx context.Context, r voucherwatch.SubsidyRound) error {
	w := r.Weights
	if w == nil {
		w = map[string]float64{}
	}
	weights, err := json.Marshal(w)
	if err != nil {
		return fmt.Errorf("store: round %s weights: %w", r.ID, err)
	}
	b, err := db.conn.PrepareBatch(ctx, "INSERT INTO rounds ("+roundColumns+")")
	if err != nil {
		return fmt.Errorf("store: save round %s: %w", r.ID, err)
	}
	defer b.Abort()
	if err := b.Append(r.ID, uint16(r.Year), yuan(r.Budget), uint8(r.NoticeDays), string(weights), r.Mode, string(r.State),
		uint32(r.FrozenVersion), r.CreatedAt, r.CreatedBy, orEpoch(r.PublishedAt), orEpoch(r.FinalisedAt), r.UpdatedAt,
		nextRowVersion()); err != nil {
		return fmt.Errorf("store: append round %s: %w", r.ID, err)
	}
	if err := b.Send(); err != nil {
		return fmt.Errorf("store: save round %s: %w", r.ID, err)
	}
	return nil
}

// orEpoch writes the zero time as the epoch, which DateTime holds.
func orEpoch(t time.Time) time.Time {
	if t.IsZero() {
		return time.Unix(0, 0)
	}
	return t
}

// fromEpoch reads the epoch back as the zero time.
func fromEpoch(t time.Time) time.Time {
	if t.Unix() <= 0 {
		return time.Time{}
	}
	return t.In(voucherwatch.CST)
}

// Round returns the newest version of the round's row.
func (db *DB) Round(ctx context.Context, id string) (voucherwatch.SubsidyRound, error) {
	rs, err := db.queryRounds(ctx, "SELECT "+roundColumns+" FROM rounds WHERE id = ? ORDER BY version DESC LIMIT 1", id)
	if err != nil {
		return voucherwatch.SubsidyRound{}, err
	}
	if len(rs) == 0 {
		return voucherwatch.SubsidyRound{}, voucherwatch.Errorf(voucherwatch.ENOTFOUND, "round %s not found", id)
	}
	return rs[0], nil
}

// Rounds lists the rounds, newest first.
func (db *DB) Rounds(ctx context.Context) ([]voucherwatch.SubsidyRound, error) {
	rs, err := db.queryRounds(ctx, "SELECT "+roundColumns+" FROM rounds ORDER BY id, version DESC LIMIT 1 BY id")
	if err != nil {
		return nil, err
	}
	sort.SliceStable(rs, func(i, j int) bool {
		if !rs[i].CreatedAt.Equal(rs[j].CreatedAt) {
			return rs[i].CreatedAt.After(rs[j].CreatedAt)
		}
		return rs[i].ID > rs[j].ID
	})
	return rs, nil
}

func (db *DB) queryRounds(ctx context.Context, q string, args ...any) ([]voucherwatch.SubsidyRound, error) {
	rows, err := db.conn.Query(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("store: read rounds: %w", err)
	}
	defer rows.Close()
	out := []voucherwatch.SubsidyRound{}
	for rows.Next() {
		var r voucherwatch.SubsidyRound
		var year uint16
		var notice uint8
		var frozen uint32
		var budget decimal.Decimal
		var weights, state string
		var version uint64
		if err := rows.Scan(&r.ID, &year, &budget, &notice, &weights, &r.Mode, &state, &frozen, &r.CreatedAt, &r.CreatedBy,
			&r.PublishedAt, &r.FinalisedAt, &r.UpdatedAt, &version); err != nil {
			return nil, fmt.Errorf("store: scan round: %w", err)
		}
		r.Year, r.NoticeDays, r.FrozenVersion, r.State = int(year), int(notice), int(frozen), voucherwatch.RoundState(state)
		r.Budget = fen(budget)
		if err := json.Unmarshal([]byte(weights), &r.Weights); err != nil {
			return nil, fmt.Errorf("store: round %s weights: %w", r.ID, err)
		}
		r.CreatedAt, r.UpdatedAt = r.CreatedAt.In(voucherwatch.CST), r.UpdatedAt.In(voucherwatch.CST)
		r.PublishedAt, r.FinalisedAt = fromEpoch(r.PublishedAt), fromEpoch(r.FinalisedAt)
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: read rounds: %w", err)
	}
	return out, nil
}

// AddRoundScores stores expert scores; the newest of a claim and criterion counts.
func (db *DB) AddRoundScores(ctx context.Context, roundID string, scores []voucherwatch.RoundScore, by string, at time.Time) error {
	if len(scores) == 0 {
		return nil
	}
	b, err := db.conn.PrepareBatch(ctx, "INSERT INTO round_scores (round_id, claim_id, criterion, score, comment, created_by, created_at, version)")
	if err != nil {
		return fmt.Errorf("store: insert round scores: %w", err)
	}
	defer b.Abort()
	v := nextRowVersion()
	for _, s := range scores {
		if err := b.Append(roundID, s.ClaimID, s.Criterion, s.Score, s.Comment, by, at, v); err != nil {
			return fmt.Errorf("store: append round score: %w", err)
		}
	}
	if err := b.Send(); err != nil {
		return fmt.Errorf("store: insert round scores: %w", err)
	}
	return nil
}

// RoundScores returns the round's current scores, by claim and criterion.
func (db *DB) RoundScores(ctx context.Context, roundID string) ([]voucherwatch.RoundScore, error) {
	rows, err := db.conn.Query(ctx, `SELECT claim_id, criterion, argMax(score, version), argMax(comment, version)
		FROM round_scores WHERE round_id = ? GROUP BY claim_id, criterion ORDER BY claim_id, criterion`, roundID)
	if err != nil {
		return nil, fmt.Errorf("store: read round scores: %w", err)
	}
	defer rows.Close()
	out := []voucherwatch.RoundScore{}
	for rows.Next() {
		var s voucherwatch.RoundScore
		if err := rows.Scan(&s.ClaimID, &s.Criterion, &s.Score, &s.Comment); err != nil {
			return nil, fmt.Errorf("store: scan round score: %w", err)
		}
		out = append(out, s)
	}
	return out, rows.Err()
}

// roundAlerts reads the newest version of every alert on the applicants, with the current
// status from the workflow's log ("new" without events) and the amount of its latest recovery
// order.
const roundAlerts = `SELECT id, a_detector, a_severity, a_applicant, a_claim, a_title,
	if(ev_status = '', 'new', ev_status) AS status, recovery
FROM (
	SELECT id, argMax(detector, version) AS a_detector, argMax(severity, version) AS a_severity,
		argMax(applicant_uscc, version) AS a_applicant, argMax(claim_id, version) AS a_claim,
		argMax(title, version) AS a_title
	FROM alerts WHERE has(?, applicant_uscc) GROUP BY id
) ANY LEFT JOIN (
	SELECT alert_id AS id, argMax(to_status, seq) AS ev_status,
		toInt64(argMaxIf(amount, seq, to_status = 'recovery_ordered') * 100) AS recovery
	FROM alert_events
	WHERE alert_id IN (SELECT id FROM alerts WHERE has(?, applicant_uscc))
	GROUP BY alert_id
) USING id
ORDER BY id`

// RoundAlerts returns, per claim, the alerts on it and those on its applicant that name no
// claim, as the claim page weighs them.
func (db *DB) RoundAlerts(ctx context.Context, claims map[string]string) (map[string][]voucherwatch.RoundAlert, error) {
	out := map[string][]voucherwatch.RoundAlert{}
	if len(claims) == 0 {
		return out, nil
	}
	byApplicant := map[string][]string{}
	for claim, applicant := range claims {
		byApplicant[applicant] = append(byApplicant[applicant], claim)
	}
	applicants := make([]string, 0, len(byApplicant))
	for a := range byApplicant {
		applicants = append(applicants, a)
	}
	sort.Strings(applicants)
	rows, err := db.conn.Query(ctx, roundAlerts, applicants, applicants)
	if err != nil {
		return nil, fmt.Errorf("store: read round alerts: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var a voucherwatch.RoundAlert
		var severity, status, applicant, claim string
		var recovery int64
		if err := rows.Scan(&a.ID, &a.Detector, &severity, &applicant, &claim, &a.Title, &status, &recovery); err != nil {
			return nil, fmt.Errorf("store: scan round alert: %w", err)
		}
		a.Severity, a.Status, a.Recovery = voucherwatch.Severity(severity), voucherwatch.Status(status), voucherwatch.Money(recovery)
		if claim != "" {
			if claims[claim] == applicant {
				out[claim] = append(out[claim], a)
			}
			continue
		}
		for _, c := range byApplicant[applicant] {
			out[c] = append(out[c], a)
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: read round alerts: %w", err)
	}
	return out, nil
}

// AddRoundVersion records a frozen version.
func (db *DB) AddRoundVersion(ctx context.Context, v voucherwatch.RoundVersion) error {
	var n uint64
	if err := db.conn.QueryRow(ctx, "SELECT count() FROM round_versions WHERE round_id = ? AND version = ?", v.RoundID, uint32(v.Version)).Scan(&n); err != nil {
		return fmt.Errorf("store: look up round version: %w", err)
	}
	if n > 0 {
		return voucherwatch.Errorf(voucherwatch.ECONFLICT, "round %s version %d exists already", v.RoundID, v.Version)
	}
	inputs, err := json.Marshal(v.Inputs.Canonical())
	if err != nil {
		return fmt.Errorf("store: round version inputs: %w", err)
	}
	lines, err := json.Marshal(v.Lines)
	if err != nil {
		return fmt.Errorf("store: round version lines: %w", err)
	}
	b, err := db.conn.PrepareBatch(ctx, `INSERT INTO round_versions (round_id, version, method, inputs_digest, inputs, lines,
		total, frozen_at, frozen_by)`)
	if err != nil {
		return fmt.Errorf("store: insert round version: %w", err)
	}
	defer b.Abort()
	if err := b.Append(v.RoundID, uint32(v.Version), v.Method, v.InputsDigest, string(inputs), string(lines), yuan(v.Total),
		v.FrozenAt, v.FrozenBy); err != nil {
		return fmt.Errorf("store: append round version: %w", err)
	}
	if err := b.Send(); err != nil {
		return fmt.Errorf("store: insert round version: %w", err)
	}
	return nil
}

// RoundVersion returns a frozen version with its inputs and lines.
func (db *DB) RoundVersion(ctx context.Context, roundID string, version int) (voucherwatch.RoundVersion, error) {
	rows, err := db.conn.Query(ctx, `SELECT version, method, inputs_digest, inputs, lines, frozen_at, frozen_by
		FROM round_versions WHERE round_id = ? AND version = ? LIMIT 1`, roundID, uint32(version))
	if err != nil {
		return voucherwatch.RoundVersion{}, fmt.Errorf("store: read round version: %w", err)
	}
	defer rows.Close()
	if !rows.Next() {
		if err := rows.Err(); err != nil {
			return voucherwatch.RoundVersion{}, fmt.Errorf("store: read round version: %w", err)
		}
		return voucherwatch.RoundVersion{}, voucherwatch.Errorf(voucherwatch.ENOTFOUND, "round %s has no version %d", roundID, version)
	}
	v := voucherwatch.RoundVersion{RoundID: roundID}
	var n uint32
	var inputs, lines string
	if err := rows.Scan(&n, &v.Method, &v.InputsDigest, &inputs, &lines, &v.FrozenAt, &v.FrozenBy); err != nil {
		return v, fmt.Errorf("store: scan round version: %w", err)
	}
	v.Version, v.FrozenAt = int(n), v.FrozenAt.In(voucherwatch.CST)
	if err := json.Unmarshal([]byte(inputs), &v.Inputs); err != nil {
		return v, fmt.Errorf("store: round version inputs: %w", err)
	}
	if err := json.Unmarshal([]byte(lines), &v.Lines); err != nil {
		return v, fmt.Errorf("store: round version lines: %w", err)
	}
	for _, l := range v.Lines {
		v.Total += l.Allocated
	}
	return v, nil
}

// AppendRoundEvents appends to the rounds' log; an event's seq is its time in nanoseconds,
// made unique within this process.
func (db *DB) AppendRoundEvents(ctx context.Context, events []voucherwatch.RoundEvent) error {
	if len(events) == 0 {
		return nil
	}
	b, err := db.conn.PrepareBatch(ctx, "INSERT INTO round_events (round_id, seq, at, actor_id, actor_role, action, claim_id, city, detail)")
	if err != nil {
		return fmt.Errorf("store: insert round events: %w", err)
	}
	defer b.Abort()
	for _, e := range events {
		seq := e.Seq
		if seq == 0 {
			seq = nextRowVersion()
		}
		if err := b.Append(e.RoundID, seq, e.At, e.ActorID, string(e.ActorRole), e.Action, e.ClaimID, e.City, e.Detail); err != nil {
			return fmt.Errorf("store: append round event: %w", err)
		}
	}
	if err := b.Send(); err != nil {
		return fmt.Errorf("store: insert round events: %w", err)
	}
	return nil
}

// RoundEvents returns the round's log, oldest first.
func (db *DB) RoundEvents(ctx context.Context, roundID string) ([]voucherwatch.RoundEvent, error) {
	rows, err := db.conn.Query(ctx, `SELECT seq, at, actor_id, actor_role, action, claim_id, city, detail
		FROM round_events WHERE round_id = ? ORDER BY seq`, roundID)
	if err != nil {
		return nil, fmt.Errorf("store: read round events: %w", err)
	}
	defer rows.Close()
	out := []voucherwatch.RoundEvent{}
	for rows.Next() {
		e := voucherwatch.RoundEvent{RoundID: roundID}
		var role string
		if err := rows.Scan(&e.Seq, &e.At, &e.ActorID, &role, &e.Action, &e.ClaimID, &e.City, &e.Detail); err != nil {
			return nil, fmt.Errorf("store: scan round event: %w", err)
		}
		e.ActorRole, e.At = voucherwatch.Role(role), e.At.In(voucherwatch.CST)
		out = append(out, e)
	}
	return out, rows.Err()
}

// AddObjection stores an objection, then opens its case, as AddComplaint does.
func (db *DB) AddObjection(ctx context.Context, o voucherwatch.ObjectionRecord, caseAlert voucherwatch.Alert) error {
	if o.ID == "" || o.ID != caseAlert.ID || caseAlert.Detector != voucherwatch.DetectorObjection {
		return voucherwatch.Errorf(voucherwatch.EINVALID, "store: objection %q and its case %q do not match", o.ID, caseAlert.ID)
	}
	b, err := db.conn.PrepareBatch(ctx, `INSERT INTO round_objections (id, round_id, claim_id, uscc, city, channel, registered_by,
		contact_sealed, created_at)`)
	if err != nil {
		return fmt.Errorf("store: insert objection: %w", err)
	}
	defer b.Abort()
	if err := b.Append(o.ID, o.RoundID, o.ClaimID, o.USCC, o.City, string(o.Channel), o.RegisteredBy, o.SealedContact, o.CreatedAt); err != nil {
		return fmt.Errorf("store: append objection: %w", err)
	}
	if err := b.Send(); err != nil {
		return fmt.Errorf("store: insert objection: %w", err)
	}
	if err := db.insertCase(ctx, caseAlert, o.CreatedAt); err != nil {
		return fmt.Errorf("store: open objection case: %w", err)
	}
	return nil
}

// RoundObjections returns the round's objections with their cases' status, oldest first.
func (db *DB) RoundObjections(ctx context.Context, roundID string) ([]voucherwatch.ObjectionStatus, error) {
	rows, err := db.conn.Query(ctx, `SELECT id, claim_id, uscc, city, channel, registered_by, created_at,
			if(ev_status = '', 'new', ev_status)
		FROM (
			SELECT id, claim_id, uscc, city, channel, registered_by, created_at FROM round_objections FINAL WHERE round_id = ?
		) ANY LEFT JOIN (
			SELECT alert_id AS id, argMax(to_status, seq) AS ev_status FROM alert_events
			WHERE alert_id IN (SELECT id FROM round_objections WHERE round_id = ?)
			GROUP BY alert_id
		) USING id
		ORDER BY created_at, id`, roundID, roundID)
	if err != nil {
		return nil, fmt.Errorf("store: read objections: %w", err)
	}
	defer rows.Close()
	out := []voucherwatch.ObjectionStatus{}
	for rows.Next() {
		o := voucherwatch.ObjectionStatus{Objection: voucherwatch.Objection{RoundID: roundID}}
		var channel, status string
		if err := rows.Scan(&o.ID, &o.ClaimID, &o.USCC, &o.City, &channel, &o.RegisteredBy, &o.CreatedAt, &status); err != nil {
			return nil, fmt.Errorf("store: scan objection: %w", err)
		}
		o.Channel, o.Status, o.CreatedAt = voucherwatch.ComplaintChannel(channel), voucherwatch.Status(status), o.CreatedAt.In(voucherwatch.CST)
		out = append(out, o)
	}
	return out, rows.Err()
}
