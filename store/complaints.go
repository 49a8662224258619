package store

import (
	"context"
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
	if _, err := db.UpsertAlerts(ctx, []voucherwatch.Alert{caseAlert}, c.CreatedAt); err != nil {
		return fmt.Errorf("store: open complaint case: %w", err)
	}
	return nil
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

// ComplaintCounts counts the complaints' cases by city and category: received, open (not in
// a final status) and overdue (waiting for an explanation past its deadline). Complaints are
// few beside alerts, so the cases are read and counted here.
func (db *DB) ComplaintCounts(ctx context.Context, now time.Time) ([]voucherwatch.ComplaintCount, error) {
	cases, err := db.queryAlerts(ctx, "SELECT * FROM ("+latestAlerts+") WHERE detector = ?", voucherwatch.DetectorComplaint)
	if err != nil {
		return nil, fmt.Errorf("store: count complaints: %w", err)
	}
	overdue, err := db.OverdueExplanations(ctx, "", now)
	if err != nil {
		return nil, fmt.Errorf("store: count complaints: %w", err)
	}
	late := map[string]bool{}
	for _, o := range overdue {
		late[o.AlertID] = true
	}
	type key struct{ city, category string }
	counts := map[key]*voucherwatch.ComplaintCount{}
	for _, a := range cases {
		k := key{a.City, a.Kind}
		c := counts[k]
		if c == nil {
			c = &voucherwatch.ComplaintCount{City: a.City, Category: voucherwatch.ComplaintCategory(a.Kind)}
			counts[k] = c
		}
		c.Received++
		if voucherwatch.StageOf(a.Status).Open() {
			c.Open++
		}
		if late[a.ID] {
			c.Overdue++
		}
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
