package store

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"time"

	"github.com/voucherwatch/voucherwatch"
)

var _ voucherwatch.ComplaintStore = (*DB)(nil)

const complaintColumns = `id, receipt, uscc, city, category, channel, registered_by, secret_hash, contact_sealed, created_at`

// AddComplaint stores a complaint's protected part, then opens its case as an alert. The
// complaint row goes first: a case without its complaint would show a complainant nothing at
// /complaints/status, while a complaint row without a case (the alert insert failed) is
// retried by nobody but harms nobody either and is not counted (ComplaintCounts reads cases).
func (db *DB) AddComplaint(ctx context.Context, c voucherwatch.ComplaintRecord, caseAlert voucherwatch.Alert) error {
	if c.ID == "" || c.ID != caseAlert.ID || caseAlert.Detector != voucherwatch.DetectorComplaint {
		return voucherwatch.Errorf(voucherwatch.EINVALID, "store: complaint %q and its case %q do not match", c.ID, caseAlert.ID)
	}
	batch, err := db.conn.PrepareBatch(ctx, "INSERT INTO complaints ("+complaintColumns+")")
	if err != nil {
		return fmt.Errorf("store: insert complaint: %w", err)
	}
	defer batch.Abort()
	if err := batch.Append(c.ID, c.Receipt, c.USCC, c.City, string(c.Category), string(c.Channel), c.RegisteredBy,
		c.SecretHash, c.SealedContact, c.CreatedAt); err != nil {
		return fmt.Errorf("store: append complaint: %w", err)
	}
	if err := batch.Send(); err != nil {
		return fmt.Errorf("store: insert complaint: %w", err)
	}
	if err := db.insertCase(ctx, caseAlert, c.CreatedAt); err != nil {
		return fmt.Errorf("store: open complaint case: %w", err)
	}
	return nil
}

// insertCase writes a complaint's case as a new alert. Not through UpsertAlerts: a detector's
// finding is matched with stored alerts by its detector and subjects, and two complaints about
// one enterprise have the same ones, yet each is a case of its own.
func (db *DB) insertCase(ctx context.Context, a voucherwatch.Alert, at time.Time) error {
	ev, err := json.Marshal(a.Evidence)
	if err != nil {
		return err
	}
	batch, err := db.conn.PrepareBatch(ctx, "INSERT INTO alerts ("+alertColumns+")")
	if err != nil {
		return err
	}
	defer db.alertsWritten() // after Abort: once the INSERT has ended
	defer batch.Abort()
	if err := batch.Append(alertRow(a, ev, findingHash(a, ev), at, at, uint64(at.UnixNano()))...); err != nil {
		return err
	}
	return batch.Send()
}

// ComplaintByReceipt returns the complaint with this receipt number.
func (db *DB) ComplaintByReceipt(ctx context.Context, receipt string) (voucherwatch.ComplaintRecord, error) {
	return db.oneComplaint(ctx, "receipt", receipt)
}

// ComplaintByID returns the complaint of the case with this id.
func (db *DB) ComplaintByID(ctx context.Context, id string) (voucherwatch.ComplaintRecord, error) {
	return db.oneComplaint(ctx, "id", id)
}

func (db *DB) oneComplaint(ctx context.Context, col, v string) (voucherwatch.ComplaintRecord, error) {
	rows, err := db.conn.Query(ctx, "SELECT "+complaintColumns+" FROM complaints FINAL WHERE "+col+" = ? LIMIT 1", v)
	if err != nil {
		return voucherwatch.ComplaintRecord{}, fmt.Errorf("store: read complaint: %w", err)
	}
	defer rows.Close()
	if !rows.Next() {
		if err := rows.Err(); err != nil {
			return voucherwatch.ComplaintRecord{}, fmt.Errorf("store: read complaint: %w", err)
		}
		return voucherwatch.ComplaintRecord{}, voucherwatch.Errorf(voucherwatch.ENOTFOUND, "complaint not found")
	}
	var c voucherwatch.ComplaintRecord
	var category, channel string
	if err := rows.Scan(&c.ID, &c.Receipt, &c.USCC, &c.City, &category, &channel, &c.RegisteredBy,
		&c.SecretHash, &c.SealedContact, &c.CreatedAt); err != nil {
		return c, fmt.Errorf("store: scan complaint: %w", err)
	}
	c.Category, c.Channel = voucherwatch.ComplaintCategory(category), voucherwatch.ComplaintChannel(channel)
	c.CreatedAt = c.CreatedAt.In(voucherwatch.CST)
	return c, nil
}

// complaintCases reads the city, category and status of every complaint's case: the newest
// version of the alerts of detector complaint, and the last event of those alone, so that the
// figures cost what the complaints do, not what all alerts do.
const complaintCases = `SELECT id, city, kind, if(ev_status = '', 'new', ev_status) AS status
FROM (
	SELECT id, argMax(city, version) AS city, argMax(kind, version) AS kind
	FROM alerts WHERE detector = ? GROUP BY id
) ANY LEFT JOIN (
	SELECT alert_id AS id, argMax(to_status, seq) AS ev_status FROM alert_events
	WHERE alert_id IN (SELECT id FROM alerts WHERE detector = ?)
	GROUP BY alert_id
) USING id`

// ComplaintCounts counts the complaints' cases by city and category: received, open (not
// decided yet) and overdue (waiting for an explanation past its deadline).
func (db *DB) ComplaintCounts(ctx context.Context, now time.Time) ([]voucherwatch.ComplaintCount, error) {
	overdue, err := db.OverdueExplanations(ctx, "", now)
	if err != nil {
		return nil, fmt.Errorf("store: count complaints: %w", err)
	}
	late := map[string]bool{}
	for _, o := range overdue {
		late[o.AlertID] = true
	}
	rows, err := db.conn.Query(ctx, complaintCases, voucherwatch.DetectorComplaint, voucherwatch.DetectorComplaint)
	if err != nil {
		return nil, fmt.Errorf("store: count complaints: %w", err)
	}
	defer rows.Close()
	type key struct{ city, category string }
	counts := map[key]*voucherwatch.ComplaintCount{}
	for rows.Next() {
		var id, city, category, status string
		if err := rows.Scan(&id, &city, &category, &status); err != nil {
			return nil, fmt.Errorf("store: count complaints: %w", err)
		}
		k := key{city, category}
		c := counts[k]
		if c == nil {
			c = &voucherwatch.ComplaintCount{City: city, Category: voucherwatch.ComplaintCategory(category)}
			counts[k] = c
		}
		c.Received++
		if voucherwatch.StageOf(voucherwatch.Status(status)).Open() {
			c.Open++
		}
		if late[id] {
			c.Overdue++
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: count complaints: %w", err)
	}
	out := make([]voucherwatch.ComplaintCount, 0, len(counts))
	for _, c := range counts {
		out = append(out, *c)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].City != out[j].City {
			return out[i].City < out[j].City
		}
		return out[i].Category < out[j].Category
	})
	return out, nil
}
