package store

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"
	"github.com/cespare/xxhash/v2"
	"github.com/shopspring/decimal"

	"github.com/voucherwatch/voucherwatch"
)

var (
	_ voucherwatch.AlertStore   = (*DB)(nil)
	_ voucherwatch.AlertCounter = (*DB)(nil)
)

// alertColumns are the alerts table's columns in the order reads scan and writes append them.
const alertColumns = `id, detector, kind, severity, score, applicant_uscc, supplier_uscc, claim_id,
	contract_no, invoice_code, invoice_no, resource_id, city, policy_clause, title, reason,
	evidence, evidence_hash, at_stake, at_stake_potential, stake_claim_ids, stake_claim_fen,
	stake_claim_ceiling_fen, created_at, updated_at, version`

// alertRow is the values of an alert's row in alertColumns' order.
func alertRow(a voucherwatch.Alert, ev []byte, hash uint64, created, at time.Time, version uint64) []any {
	s := a.Subjects
	ids := make([]string, len(a.StakeClaims))
	fen := make([]int64, len(a.StakeClaims))
	ceiling := make([]int64, len(a.StakeClaims))
	for i, c := range a.StakeClaims {
		ids[i], fen[i], ceiling[i] = c.ClaimID, int64(c.AtStake), int64(c.Ceiling)
	}
	potential := uint8(0)
	if a.AtStakePotential {
		potential = 1
	}
	return []any{a.ID, a.Detector, a.Kind, string(a.Severity), a.Score, s.ApplicantUSCC, s.SupplierUSCC,
		s.ClaimID, s.ContractNo, s.InvoiceCode, s.InvoiceNo, s.ResourceID, a.City, a.PolicyClause, a.Title, a.Reason,
		string(ev), hash, yuan(a.AtStake), potential, ids, fen, ceiling, created, at, version}
}

// findingHash fingerprints what a reviewer sees of a finding. A re-run that finds the same
// thing changes nothing; one whose evidence moved writes a new version.
func findingHash(a voucherwatch.Alert, evidence []byte) uint64 {
	var d xxhash.Digest
	d.Reset()
	for _, s := range []string{string(a.Severity), a.Kind, a.City, a.PolicyClause, a.Title, a.Reason, strconv.FormatFloat(a.Score, 'f', 3, 64)} {
		d.WriteString(s)
		d.WriteString("\x00")
	}
	// The money at stake is part of what a reviewer sees; it moves with the claims.
	d.WriteString(a.AtStake.String())
	if a.AtStakePotential {
		d.WriteString("p")
	}
	for _, c := range a.StakeClaims {
		d.WriteString("\x00" + c.ClaimID + "\x00" + c.AtStake.String() + "\x00" + c.Ceiling.String())
	}
	d.Write(evidence)
	return d.Sum64()
}

// UpsertAlerts stores a detector run's findings. A new id is inserted; a known id whose
// finding changed gets a new version that keeps its CreatedAt; an unchanged one is left alone.
// Several instances upserting the same findings write equal rows that collapse on merge.
//
// A finding whose id is unknown but whose detector and subjects match an alert stored under a
// legacy id (ids used to include the kind, voucherwatch.LegacyAlertID) is stored under that
// alert's id, so that its workflow history stays with it after an upgrade: UpsertAlerts
// rewrites the ID of such elements of alerts in place.
func (db *DB) UpsertAlerts(ctx context.Context, alerts []voucherwatch.Alert, at time.Time) (voucherwatch.UpsertResult, error) {
	return db.upsertAlerts(ctx, alerts, at, true)
}

// upsertAlerts is UpsertAlerts; without adoptLegacy it writes as engines did before ids left
// out the kind, which tests use to build an old database.
func (db *DB) upsertAlerts(ctx context.Context, alerts []voucherwatch.Alert, at time.Time, adoptLegacy bool) (voucherwatch.UpsertResult, error) {
	var res voucherwatch.UpsertResult
	if len(alerts) == 0 {
		return res, nil
	}
	type known struct {
		hash    uint64
		created time.Time
	}
	existing := map[string]known{}
	ids := make([]string, 0, len(alerts))
	for i, a := range alerts {
		if legacy, ok := db.legacyIDs.Load(a.ID); ok && adoptLegacy {
			alerts[i].ID = legacy.(string)
		}
		ids = append(ids, alerts[i].ID)
	}
	// A few alerts (an incremental check's) look up the legacy ids of their subjects beside
	// their own ids, in one round trip rather than two: the look-up reads the alerts' subject
	// columns whole, which for a check's new alerts it did anyway. A full run's thousands of
	// alerts, mostly known, look up the unknown ones' after.
	var early chan legacyRead
	if adoptLegacy && len(alerts) <= concurrentLegacyMost {
		early = make(chan legacyRead, 1)
		keys := make([]string, 0, len(alerts))
		for _, a := range alerts {
			keys = append(keys, subjectsKey(a))
		}
		go func() {
			found, err := db.lookupLegacyIDs(ctx, keys)
			early <- legacyRead{found, err}
		}()
	}
	for lo := 0; lo < len(ids); lo += 5000 {
		chunk := ids[lo:min(lo+5000, len(ids))]
		rows, err := db.conn.Query(ctx, `SELECT id, argMax(evidence_hash, version), min(created_at)
			FROM alerts WHERE has(?, id) GROUP BY id`, chunk)
		if err != nil {
			if early != nil {
				<-early
			}
			return res, fmt.Errorf("store: look up alerts: %w", err)
		}
		for rows.Next() {
			var id string
			var k known
			if err := rows.Scan(&id, &k.hash, &k.created); err != nil {
				rows.Close()
				if early != nil {
					<-early
				}
				return res, fmt.Errorf("store: look up alerts: %w", err)
			}
			existing[id] = k
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			if early != nil {
				<-early
			}
			return res, fmt.Errorf("store: look up alerts: %w", err)
		}
	}

	if adoptLegacy {
		var found map[string]legacyAlert
		if early != nil {
			r := <-early
			if r.err != nil {
				return res, r.err
			}
			found = r.found
		}
		if err := db.adoptLegacyIDs(ctx, alerts, found, func(id string) bool { _, ok := existing[id]; return ok },
			func(id string, hash uint64, created time.Time) { existing[id] = known{hash, created} }); err != nil {
			return res, err
		}
	}

	batch, err := db.conn.PrepareBatch(ctx, "INSERT INTO alerts ("+alertColumns+")")
	if err != nil {
		return res, fmt.Errorf("store: insert alerts: %w", err)
	}
	defer db.alertsWritten() // after Abort: once the INSERT has ended
	defer batch.Abort()
	version := uint64(at.UnixNano())
	seen := map[string]bool{}
	for _, a := range alerts {
		if seen[a.ID] {
			continue // a detector reporting one finding twice
		}
		seen[a.ID] = true
		ev, err := json.Marshal(a.Evidence)
		if err != nil {
			return res, fmt.Errorf("store: alert %s evidence: %w", a.ID, err)
		}
		h := findingHash(a, ev)
		created := at
		if k, ok := existing[a.ID]; ok {
			if k.hash == h {
				res.Unchanged++
				continue
			}
			created = k.created
			res.Updated++
		} else {
			res.New++
		}
		if err := batch.Append(alertRow(a, ev, h, created, at, version)...); err != nil {
			return res, fmt.Errorf("store: append alert %s: %w", a.ID, err)
		}
	}
	if res.New+res.Updated == 0 {
		return res, nil
	}
	if err := batch.Send(); err != nil {
		return res, fmt.Errorf("store: insert alerts: %w", err)
	}
	return res, nil
}

// The alert list reads in two steps, so that its cost follows the page rather than every
// alert's full row. alertPage ranks and filters the newest version of every alert over the
// few narrow columns the filters, the orders and the risk score need (alertRankColumns) and
// returns the page's (id, version) pairs; alertVersions then reads the full rows, evidence
// and all, of those versions only. They are two round trips rather than one statement:
// 18.16 has no common table expressions, so one statement that both selects the full rows
// by the page's pairs (an IN subquery) and keeps the page's order and risk (a join) would
// rank every alert twice, where a second round trip costs a millisecond.

// alertRankColumns are the columns of alerts that the list filters, sorts and ranks on.
const alertRankColumns = `id, version, detector, severity, city, applicant_uscc, supplier_uscc, at_stake, created_at, updated_at`

// sqlWhere is WHERE conditions, joined by AND, and their arguments in the order of their ?s.
type sqlWhere struct {
	conds []string
	args  []any
}

func (w *sqlWhere) add(cond string, args ...any) {
	w.conds = append(w.conds, cond)
	w.args = append(w.args, args...)
}

// and adds o's conditions.
func (w *sqlWhere) and(o sqlWhere) {
	w.conds = append(w.conds, o.conds...)
	w.args = append(w.args, o.args...)
}

// sql is the WHERE clause, "" without conditions.
func (w sqlWhere) sql() string {
	if len(w.conds) == 0 {
		return ""
	}
	return " WHERE " + strings.Join(w.conds, " AND ")
}

// alertIdentity selects alerts by what no new version changes: their ids and their
// assignments (workflow events). Its conditions can therefore narrow a read before the
// newest version of each alert is picked.
type alertIdentity struct {
	ids      []string
	assignee string
}

func identityOf(f voucherwatch.AlertFilter) alertIdentity {
	return alertIdentity{ids: f.IDs, assignee: f.AssigneeID}
}

// where is the identity's conditions on col, the alert's id in the table read. As id IN
// (...) rather than has([...], id), the primary key of alerts (id) and of alert_events
// (alert_id, ...) skips the granules of other alerts.
func (s alertIdentity) where(col string) sqlWhere {
	var w sqlWhere
	if len(s.ids) > 0 {
		ids := make([]any, len(s.ids))
		for i, id := range s.ids {
			ids[i] = id
		}
		w.add(col+" IN ?", clickhouse.GroupSet{Value: ids})
	}
	if s.assignee != "" {
		// The latest assignment event of the alert decides; an alert is assigned rarely, so
		// the subquery reads few rows.
		w.add(col+` IN (SELECT alert_id FROM alert_events WHERE kind = 'assignment'
			GROUP BY alert_id HAVING argMax(assignee_id, seq) = ?)`, s.assignee)
	}
	return w
}

// alertEventsSQL is each alert's workflow state from its events, where selects them:
// ev_status, the last event's target, and with recovery ev_recovery, the amount of its latest
// recovery order.
func alertEventsSQL(where string, recovery bool) string {
	q := `SELECT alert_id AS id, argMax(to_status, seq) AS ev_status`
	if recovery {
		q += `, argMaxIf(amount, seq, to_status = 'recovery_ordered' AND kind != 'proposal') AS ev_recovery`
	}
	return q + ` FROM alert_events` + where + ` GROUP BY alert_id`
}

// latestAlertsSQL is the newest version of every alert that identity selects, with columns
// (of alerts, id and version among them) and, with status, its workflow status (the last
// event's target, or new when nobody has acted on it); and the query's arguments.
func latestAlertsSQL(columns string, identity alertIdentity, status bool) (string, []any) {
	alerts := identity.where("id")
	q := `SELECT ` + columns + ` FROM alerts` + alerts.sql() + ` ORDER BY id, version DESC LIMIT 1 BY id`
	if !status {
		return q, alerts.args
	}
	events := identity.where("alert_id")
	return `SELECT *, if(ev_status = '', 'new', ev_status) AS status FROM (` + q + `) ANY LEFT JOIN (` +
		alertEventsSQL(events.sql(), false) + `) USING id`, append(alerts.args, events.args...)
}

// alertEnterpriseSQL is the enterprise an alert points at: the applicant, or the supplier of
// a finding about a supplier alone.
const alertEnterpriseSQL = `if(applicant_uscc != '', applicant_uscc, supplier_uscc)`

// alertRiskSQL is voucherwatch.RiskScore over rankedAlertsSQL's columns.
const alertRiskSQL = `10 * multiIf(severity = 'high', 2, severity = 'medium', 1, 0)
	+ log10(1 + greatest(toFloat64(at_stake), 0))
	+ 0.5 * least(greatest(toInt64(ent_detectors) - 1, 0), 3)`

// rankedAlertsSQL is the newest version of every alert, over the columns the list filters on,
// with its risk score: the number of distinct detectors with alerts not dismissed on its
// enterprise counts in. The count is over every alert, whatever the list's filter, so no
// condition narrows this read. One pass groups the alerts by enterprise, counts, and unfolds
// the groups again (ARRAY JOIN), where joining a count per enterprise to the alerts would read
// and sort them twice.
func rankedAlertsSQL() string {
	latest, _ := latestAlertsSQL(alertRankColumns, alertIdentity{}, true)
	return `SELECT id, version, detector, severity, city, applicant_uscc, at_stake, updated_at, status,
	` + alertRiskSQL + ` AS risk
FROM (
	SELECT uniqExactIf(detector, status != 'dismissed') AS ent_detectors,
		groupArray(id) AS ids, groupArray(version) AS versions, groupArray(detector) AS detectors,
		groupArray(severity) AS severities, groupArray(city) AS cities, groupArray(applicant_uscc) AS applicants,
		groupArray(at_stake) AS stakes, groupArray(updated_at) AS updates, groupArray(status) AS statuses
	FROM (` + latest + `)
	GROUP BY ` + alertEnterpriseSQL + `
) ARRAY JOIN ids AS id, versions AS version, detectors AS detector, severities AS severity, cities AS city,
	applicants AS applicant_uscc, stakes AS at_stake, updates AS updated_at, statuses AS status`
}

// alertPageMaxTries is how many times Alerts ranks a page whose versions a merge replaced
// before it could read them.
const alertPageMaxTries = 3

// Alerts lists alerts, newest first, with cursor paging.
func (db *DB) Alerts(ctx context.Context, f voucherwatch.AlertFilter) ([]voucherwatch.Alert, string, error) {
	limit := f.Limit
	if limit <= 0 || limit > 1000 {
		limit = 100
	}
	if !f.Since.IsZero() && !inDateTimeRange(f.Since) {
		return nil, "", voucherwatch.FieldErrorf("since", "want a time between 1970 and 2105")
	}
	order := "created_at DESC, id DESC"
	switch f.Sort {
	case "", voucherwatch.SortNewest:
	case voucherwatch.SortAtStake:
		// The cursor's fen rather than the Decimal: the same order, but 18.16 sorts a
		// Decimal beside a String ten times slower than an Int64 (530 ms against 55 ms over
		// 122,000 alerts).
		order = "toInt64(at_stake * 100) DESC, id DESC"
	case voucherwatch.SortRisk:
		order = "risk DESC, id DESC"
	default:
		return nil, "", voucherwatch.FieldErrorf("sort", "want %s, %s or %s, got %q", voucherwatch.SortRisk,
			voucherwatch.SortAtStake, voucherwatch.SortNewest, f.Sort)
	}
	var q string
	var args []any
	var where sqlWhere
	if f.Sort == voucherwatch.SortRisk {
		// The identity's conditions come after the ranking: the score counts every alert.
		q = "SELECT id, version, risk FROM (" + rankedAlertsSQL() + ")"
		where = identityOf(f).where("id")
	} else {
		q, args = latestAlertsSQL(alertRankColumns, identityOf(f), f.Status != "")
		q = "SELECT id, version, toFloat64(0) FROM (" + q + ")"
	}
	where.and(alertConditions(f))
	if f.Cursor != "" {
		switch f.Sort {
		case voucherwatch.SortAtStake:
			fen, id, err := parseRankCursor(f.Cursor, "s")
			if err != nil {
				return nil, "", err
			}
			where.add("(toInt64(at_stake * 100) < ? OR (toInt64(at_stake * 100) = ? AND id < ?))", int64(fen), int64(fen), id)
		case voucherwatch.SortRisk:
			risk, id, err := parseRankCursor(f.Cursor, "r")
			if err != nil {
				return nil, "", err
			}
			where.add("(risk < ? OR (risk = ? AND id < ?))", risk, risk, id)
		default:
			created, id, err := parseCursor(f.Cursor)
			if err != nil {
				return nil, "", err
			}
			where.add("(created_at < ? OR (created_at = ? AND id < ?))", created, created, id)
		}
	}
	q += where.sql() + fmt.Sprintf(" ORDER BY %s LIMIT %d", order, limit+1)
	args = append(args, where.args...)

	var out []voucherwatch.Alert
	for try := 1; ; try++ {
		page, err := db.alertPage(ctx, q, args...)
		if err != nil {
			return nil, "", err
		}
		var complete bool
		if out, complete, err = db.alertVersions(ctx, page); err != nil {
			return nil, "", err
		}
		if complete {
			break
		}
		if try == alertPageMaxTries {
			return nil, "", fmt.Errorf("store: alerts: a page's versions were replaced before they could be read, %d times", try)
		}
	}
	next := ""
	if len(out) > limit {
		out = out[:limit]
		last := out[len(out)-1]
		switch f.Sort {
		case voucherwatch.SortAtStake:
			next = makeRankCursor("s", float64(last.AtStake), last.ID)
		case voucherwatch.SortRisk:
			next = makeRankCursor("r", last.Risk, last.ID)
		default:
			next = makeCursor(last.CreatedAt, last.ID)
		}
	}
	return out, next, nil
}

// rankedVersion is a version of an alert that a page lists, and the risk its rank gave it.
type rankedVersion struct {
	id      string
	version uint64
	risk    float64
}

// alertPage runs the list's first step, q, which selects id, version and risk.
func (db *DB) alertPage(ctx context.Context, q string, args ...any) ([]rankedVersion, error) {
	rows, err := db.conn.Query(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("store: rank alerts: %w", err)
	}
	defer rows.Close()
	var page []rankedVersion
	for rows.Next() {
		var v rankedVersion
		if err := rows.Scan(&v.id, &v.version, &v.risk); err != nil {
			return nil, fmt.Errorf("store: scan ranked alert: %w", err)
		}
		page = append(page, v)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: rank alerts: %w", err)
	}
	return page, nil
}

// alertVersions reads the full rows of the page's versions, in the page's order, each with
// the risk its rank gave it. complete is false when one of them is stored no more: a merge
// kept only a newer version, written after the page was ranked.
func (db *DB) alertVersions(ctx context.Context, page []rankedVersion) (out []voucherwatch.Alert, complete bool, err error) {
	if len(page) == 0 {
		return nil, true, nil
	}
	pairs := make([]clickhouse.GroupSet, len(page))
	ids := make([]any, len(page))
	for i, v := range page {
		pairs[i] = clickhouse.GroupSet{Value: []any{v.id, v.version}}
		ids[i] = v.id
	}
	// By (id, version), in the innermost read, so that the server reads the wide columns of
	// the page's rows only: the key of alerts (id) skips the granules of other alerts.
	rows, err := db.queryAlerts(ctx, fullAlertsSQL(`SELECT `+alertColumns+` FROM alerts WHERE (id, version) IN (?)`, ` WHERE alert_id IN ?`),
		pairs, clickhouse.GroupSet{Value: ids})
	if err != nil {
		return nil, false, err
	}
	// Two instances may have written a version twice, until a merge.
	byID := make(map[string]voucherwatch.Alert, len(rows))
	for _, a := range rows {
		byID[a.ID] = a
	}
	out = make([]voucherwatch.Alert, 0, len(page))
	for _, v := range page {
		a, ok := byID[v.id]
		if !ok {
			return nil, false, nil
		}
		a.Risk = v.risk
		out = append(out, a)
	}
	return out, true, nil
}

// fullAlertsSQL is the full rows that alerts (a query of alerts' alertColumns) reads, with
// their workflow status and recovery_ordered_amount (recovered once the status is recovered),
// in queryAlerts' columns. eventsWhere selects their events.
func fullAlertsSQL(alerts, eventsWhere string) string {
	return `SELECT ` + alertColumns + `, if(ev_status = '', 'new', ev_status) AS status,
	ev_recovery AS recovery_ordered_amount, toFloat64(0) AS risk
FROM (` + alerts + `) ANY LEFT JOIN (` + alertEventsSQL(eventsWhere, true) + `) USING id`
}

// alertConditions turns the filter's fields but for the cursor and the identity's (ids and
// assignee, identityOf) into WHERE conditions over the newest version of alerts with their
// status (latestAlertsSQL) and their arguments.
func alertConditions(f voucherwatch.AlertFilter) sqlWhere {
	var w sqlWhere
	if f.Detector != "" {
		w.add("detector = ?", f.Detector)
	}
	if f.Status != "" {
		w.add("status = ?", string(f.Status))
	}
	if f.Severity != "" {
		w.add("severity = ?", string(f.Severity))
	}
	if f.City != "" {
		w.add("city = ?", f.City)
	}
	if f.ApplicantUSCC != "" {
		w.add("applicant_uscc = ?", f.ApplicantUSCC)
	}
	if !f.Since.IsZero() {
		// In UTC: the driver sends a time under its zone's name, and the server knows no
		// zone named CST (voucherwatch.CST, in which Go callers hold times).
		w.add("updated_at >= ?", f.Since.UTC())
	}
	return w
}

// CountAlerts counts the alerts f selects by status and detector, with the statuses the
// workflow log gives them.
func (db *DB) CountAlerts(ctx context.Context, f voucherwatch.AlertFilter) (voucherwatch.AlertCounts, error) {
	out := voucherwatch.AlertCounts{ByStatus: map[voucherwatch.Status]int{}, ByDetector: map[string]int{}}
	latest, args := latestAlertsSQL(alertRankColumns, identityOf(f), true)
	where := alertConditions(f)
	q := "SELECT status, detector, count() FROM (" + latest + ")" + where.sql() + " GROUP BY status, detector"
	rows, err := db.conn.Query(ctx, q, append(args, where.args...)...)
	if err != nil {
		return out, fmt.Errorf("store: count alerts: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var status, detector string
		var n uint64
		if err := rows.Scan(&status, &detector, &n); err != nil {
			return out, fmt.Errorf("store: scan alert count: %w", err)
		}
		out.Total += int(n)
		out.ByStatus[voucherwatch.Status(status)] += int(n)
		out.ByDetector[detector] += int(n)
	}
	return out, rows.Err()
}

// Alert returns one alert by id.
func (db *DB) Alert(ctx context.Context, id string) (voucherwatch.Alert, error) {
	out, err := db.queryAlerts(ctx, fullAlertsSQL(`SELECT `+alertColumns+` FROM alerts WHERE id = ? ORDER BY version DESC LIMIT 1`,
		` WHERE alert_id = ?`), id, id)
	if err != nil {
		return voucherwatch.Alert{}, err
	}
	if len(out) == 0 {
		return voucherwatch.Alert{}, voucherwatch.Errorf(voucherwatch.ENOTFOUND, "alert %s not found", id)
	}
	return out[0], nil
}

func (db *DB) queryAlerts(ctx context.Context, q string, args ...any) ([]voucherwatch.Alert, error) {
	rows, err := db.conn.Query(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("store: query alerts: %w", err)
	}
	defer rows.Close()
	var out []voucherwatch.Alert
	for rows.Next() {
		var a voucherwatch.Alert
		var sev, status, ev string
		var hash, version uint64
		var atStake, recovery decimal.Decimal
		var potential uint8
		var ids []string
		var fen, ceiling []int64
		s := &a.Subjects
		if err := rows.Scan(&a.ID, &a.Detector, &a.Kind, &sev, &a.Score, &s.ApplicantUSCC, &s.SupplierUSCC, &s.ClaimID,
			&s.ContractNo, &s.InvoiceCode, &s.InvoiceNo, &s.ResourceID, &a.City, &a.PolicyClause, &a.Title, &a.Reason,
			&ev, &hash, &atStake, &potential, &ids, &fen, &ceiling, &a.CreatedAt, &a.UpdatedAt, &version,
			&status, &recovery, &a.Risk); err != nil {
			return nil, fmt.Errorf("store: scan alert: %w", err)
		}
		a.Severity, a.Status = voucherwatch.Severity(sev), voucherwatch.Status(status)
		a.AtStake, a.AtStakePotential = fen2(atStake), potential == 1
		for i := range ids {
			if i < len(fen) && i < len(ceiling) {
				a.StakeClaims = append(a.StakeClaims, voucherwatch.ClaimStake{ClaimID: ids[i],
					AtStake: voucherwatch.Money(fen[i]), Ceiling: voucherwatch.Money(ceiling[i])})
			}
		}
		if a.Status == voucherwatch.StatusRecovered {
			a.Recovered = fen2(recovery)
		}
		if err := json.Unmarshal([]byte(ev), &a.Evidence); err != nil {
			return nil, fmt.Errorf("store: alert %s evidence: %w", a.ID, err)
		}
		out = append(out, a)
	}
	return out, rows.Err()
}

// fen2 turns a Decimal(18, 2) into fen.
func fen2(d decimal.Decimal) voucherwatch.Money {
	return voucherwatch.Money(d.Shift(2).Round(0).IntPart())
}

// A ranked cursor is the (rank, id) of the last alert of a page in a ranked order: money at
// stake in fen ("s") or the risk score ("r"), opaque to clients.
func makeRankCursor(kind string, rank float64, id string) string {
	return base64.RawURLEncoding.EncodeToString([]byte(kind + "|" + strconv.FormatFloat(rank, 'g', -1, 64) + "|" + id))
}

func parseRankCursor(c, kind string) (float64, string, error) {
	b, err := base64.RawURLEncoding.DecodeString(c)
	if err == nil {
		parts := strings.SplitN(string(b), "|", 3)
		if len(parts) == 3 && parts[0] == kind && parts[2] != "" {
			if v, err := strconv.ParseFloat(parts[1], 64); err == nil && !math.IsNaN(v) && !math.IsInf(v, 0) {
				return v, parts[2], nil
			}
		}
	}
	return 0, "", &voucherwatch.Error{Code: voucherwatch.EINVALID, Field: "cursor", Message: "malformed cursor"}
}

// maxDateTime is the last second a DateTime column holds (2106-02-07 06:28:15 UTC); later
// times wrap around to 1970.
const maxDateTime = 1<<32 - 1

// inDateTimeRange reports whether t fits a DateTime column without wrapping.
func inDateTimeRange(t time.Time) bool { return t.Unix() >= 0 && t.Unix() <= maxDateTime }

// A cursor is the (created_at, id) of the last alert of a page, opaque to clients.
func makeCursor(created time.Time, id string) string {
	return base64.RawURLEncoding.EncodeToString([]byte(strconv.FormatInt(created.Unix(), 10) + "|" + id))
}

func parseCursor(c string) (time.Time, string, error) {
	b, err := base64.RawURLEncoding.DecodeString(c)
	if err == nil {
		if secs, id, ok := strings.Cut(string(b), "|"); ok {
			// Outside DateTime's range the server would wrap the time, or the driver refuse it.
			if n, err := strconv.ParseInt(secs, 10, 64); err == nil && id != "" && n >= 0 && n <= maxDateTime {
				return time.Unix(n, 0), id, nil
			}
		}
	}
	return time.Time{}, "", &voucherwatch.Error{Code: voucherwatch.EINVALID, Field: "cursor", Message: "malformed cursor"}
}

// subjectsKey is how adoptLegacyIDs matches a finding with stored alerts: the detector and
// every subject, in the order legacyAlertKeySQL computes it.
func subjectsKey(a voucherwatch.Alert) string {
	s := a.Subjects
	return strings.Join([]string{a.Detector, s.ApplicantUSCC, s.SupplierUSCC, s.ClaimID, s.ContractNo, s.InvoiceCode, s.InvoiceNo, s.ResourceID}, "\x1f")
}

const legacyAlertKeySQL = `concat(detector, '\x1f', applicant_uscc, '\x1f', supplier_uscc, '\x1f', claim_id, '\x1f',
	contract_no, '\x1f', invoice_code, '\x1f', invoice_no, '\x1f', resource_id)`

// concurrentLegacyMost is the most alerts an upsert looks up legacy ids for beside their own
// ids, whether or not their ids are stored.
const concurrentLegacyMost = 64

// legacyAlert is a stored alert whose detector and subjects match a finding's.
type legacyAlert struct {
	id      string
	hash    uint64
	created time.Time
	version uint64
}

type legacyRead struct {
	found map[string]legacyAlert
	err   error
}

// adoptLegacyIDs gives the findings whose id is not stored (known reports it) the id of a stored
// alert of the same detector and subjects, if there is one: an alert stored before ids left out
// the kind. When several match (a weaker and a stronger tie were both stored under their
// kinds' ids), the one updated last is the finding's; the others stay as they are. adopt
// records the adopted alert's hash and creation. It costs one query, and only when a run has
// findings with unknown ids; an id adopted once is remembered for the life of the process.
// found, when not nil, is the look-up made already for every finding's subjects
// (lookupLegacyIDs).
func (db *DB) adoptLegacyIDs(ctx context.Context, alerts []voucherwatch.Alert, found map[string]legacyAlert, known func(string) bool,
	adopt func(id string, hash uint64, created time.Time)) error {
	byKey := map[string][]int{}
	var keys []string
	for i, a := range alerts {
		if known(a.ID) {
			continue
		}
		k := subjectsKey(a)
		if _, ok := byKey[k]; !ok {
			keys = append(keys, k)
		}
		byKey[k] = append(byKey[k], i)
	}
	if len(keys) == 0 {
		return nil
	}
	if found == nil {
		var err error
		if found, err = db.lookupLegacyIDs(ctx, keys); err != nil {
			return err
		}
	}
	for _, k := range keys {
		l, ok := found[k]
		if !ok {
			continue
		}
		for _, i := range byKey[k] {
			db.legacyIDs.Store(alerts[i].ID, l.id)
			alerts[i].ID = l.id
		}
		adopt(l.id, l.hash, l.created)
	}
	return nil
}

// lookupLegacyIDs returns, per subjects key (subjectsKey), the stored alert of those subjects
// updated last.
func (db *DB) lookupLegacyIDs(ctx context.Context, keys []string) (map[string]legacyAlert, error) {
	found := map[string]legacyAlert{}
	// A key is up to a few hundred bytes, sent in the query's text: 1,000 of them stay well
	// under the server's max_query_size (256 KiB).
	for lo := 0; lo < len(keys); lo += 1000 {
		chunk := keys[lo:min(lo+1000, len(keys))]
		rows, err := db.conn.Query(ctx, `SELECT id, any(`+legacyAlertKeySQL+`) AS k, argMax(evidence_hash, version), min(created_at), max(version)
			FROM alerts WHERE has(?, `+legacyAlertKeySQL+`) GROUP BY id`, chunk)
		if err != nil {
			return nil, fmt.Errorf("store: look up legacy alert ids: %w", err)
		}
		for rows.Next() {
			var k string
			var l legacyAlert
			if err := rows.Scan(&l.id, &k, &l.hash, &l.created, &l.version); err != nil {
				rows.Close()
				return nil, fmt.Errorf("store: look up legacy alert ids: %w", err)
			}
			if prev, ok := found[k]; !ok || l.version > prev.version || l.version == prev.version && l.id < prev.id {
				found[k] = l
			}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, fmt.Errorf("store: look up legacy alert ids: %w", err)
		}
	}
	return found, nil
}
