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

// latestAlerts is the newest version of every alert with its workflow status (the last
// event's target, or new when nobody has acted on it) and the amount of its latest recovery
// order (recovery_ordered_amount; recovered once the status is recovered).
const latestAlerts = `SELECT ` + alertColumns + `, if(ev_status = '', 'new', ev_status) AS status,
	ev_recovery AS recovery_ordered_amount
FROM (
	SELECT * FROM alerts ORDER BY id, version DESC LIMIT 1 BY id
) ANY LEFT JOIN (
	SELECT alert_id AS id, argMax(to_status, seq) AS ev_status,
		argMaxIf(amount, seq, to_status = 'recovery_ordered' AND kind != 'proposal') AS ev_recovery
	FROM alert_events GROUP BY alert_id
) USING id`

// alertEnterpriseSQL is the enterprise an alert points at: the applicant, or the supplier of
// a finding about a supplier alone.
const alertEnterpriseSQL = `if(applicant_uscc != '', applicant_uscc, supplier_uscc)`

// alertRiskSQL is voucherwatch.RiskScore over rankedAlerts' columns.
const alertRiskSQL = `10 * multiIf(severity = 'high', 2, severity = 'medium', 1, 0)
	+ log10(1 + greatest(toFloat64(at_stake), 0))
	+ 0.5 * least(greatest(toInt64(ent_detectors) - 1, 0), 3)`

// rankedAlerts is latestAlerts with each alert's risk score: the number of distinct detectors
// with open alerts (not dismissed) on its enterprise joined in.
const rankedAlerts = `SELECT *, ` + alertRiskSQL + ` AS risk FROM (
	SELECT *, ` + alertEnterpriseSQL + ` AS ent FROM (` + latestAlerts + `)
) ANY LEFT JOIN (
	SELECT ent, uniqExact(detector) AS ent_detectors FROM (
		SELECT ` + alertEnterpriseSQL + ` AS ent, detector, status FROM (` + latestAlerts + `)
	) WHERE status != 'dismissed' GROUP BY ent
) USING ent`

// alertReadColumns are the columns queryAlerts scans, over latestAlerts (risk reads 0) or
// rankedAlerts.
func alertReadColumns(risk bool) string {
	r := "toFloat64(0)"
	if risk {
		r = "risk"
	}
	return alertColumns + ", status, recovery_ordered_amount, " + r
}

// Alerts lists alerts, newest first, with cursor paging.
func (db *DB) Alerts(ctx context.Context, f voucherwatch.AlertFilter) ([]voucherwatch.Alert, string, error) {
	limit := f.Limit
	if limit <= 0 || limit > 1000 {
		limit = 100
	}
	where, args := alertConditions(f)
	add := func(cond string, v ...any) {
		where = append(where, cond)
		args = append(args, v...)
	}
	if !f.Since.IsZero() && !inDateTimeRange(f.Since) {
		return nil, "", voucherwatch.FieldErrorf("since", "want a time between 1970 and 2105")
	}
	from, order := latestAlerts, "created_at DESC, id DESC"
	switch f.Sort {
	case "", voucherwatch.SortNewest:
	case voucherwatch.SortAtStake:
		order = "at_stake DESC, id DESC"
	case voucherwatch.SortRisk:
		from, order = rankedAlerts, "risk DESC, id DESC"
	default:
		return nil, "", voucherwatch.FieldErrorf("sort", "want %s, %s or %s, got %q", voucherwatch.SortRisk,
			voucherwatch.SortAtStake, voucherwatch.SortNewest, f.Sort)
	}
	if f.Cursor != "" {
		switch f.Sort {
		case voucherwatch.SortAtStake:
			fen, id, err := parseRankCursor(f.Cursor, "s")
			if err != nil {
				return nil, "", err
			}
			add("(toInt64(at_stake * 100) < ? OR (toInt64(at_stake * 100) = ? AND id < ?))", int64(fen), int64(fen), id)
		case voucherwatch.SortRisk:
			risk, id, err := parseRankCursor(f.Cursor, "r")
			if err != nil {
				return nil, "", err
			}
			add("(risk < ? OR (risk = ? AND id < ?))", risk, risk, id)
		default:
			created, id, err := parseCursor(f.Cursor)
			if err != nil {
				return nil, "", err
			}
			add("(created_at < ? OR (created_at = ? AND id < ?))", created, created, id)
		}
	}
	q := "SELECT " + alertReadColumns(f.Sort == voucherwatch.SortRisk) + " FROM (" + from + ")"
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	q += fmt.Sprintf(" ORDER BY %s LIMIT %d", order, limit+1)
	out, err := db.queryAlerts(ctx, q, args...)
	if err != nil {
		return nil, "", err
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

// alertConditions turns the filter's fields, but for the cursor, into WHERE conditions over
// latestAlerts and their arguments.
func alertConditions(f voucherwatch.AlertFilter) ([]string, []any) {
	var where []string
	var args []any
	add := func(cond string, v ...any) {
		where = append(where, cond)
		args = append(args, v...)
	}
	if f.Detector != "" {
		add("detector = ?", f.Detector)
	}
	if f.Status != "" {
		add("status = ?", string(f.Status))
	}
	if f.Severity != "" {
		add("severity = ?", string(f.Severity))
	}
	if f.City != "" {
		add("city = ?", f.City)
	}
	if f.ApplicantUSCC != "" {
		add("applicant_uscc = ?", f.ApplicantUSCC)
	}
	if len(f.IDs) > 0 {
		add("has(?, id)", f.IDs)
	}
	if f.AssigneeID != "" {
		// The latest assignment event of the alert decides; an alert is assigned rarely, so
		// the subquery reads few rows.
		add(`id IN (SELECT alert_id FROM alert_events WHERE kind = 'assignment'
			GROUP BY alert_id HAVING argMax(assignee_id, seq) = ?)`, f.AssigneeID)
	}
	if !f.Since.IsZero() {
		add("updated_at >= ?", f.Since)
	}
	return where, args
}

// CountAlerts counts the alerts f selects by status and detector, with the statuses the
// workflow log gives them.
func (db *DB) CountAlerts(ctx context.Context, f voucherwatch.AlertFilter) (voucherwatch.AlertCounts, error) {
	out := voucherwatch.AlertCounts{ByStatus: map[voucherwatch.Status]int{}, ByDetector: map[string]int{}}
	where, args := alertConditions(f)
	q := "SELECT status, detector, count() FROM (" + latestAlerts + ")"
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	q += " GROUP BY status, detector"
	rows, err := db.conn.Query(ctx, q, args...)
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
	out, err := db.queryAlerts(ctx, "SELECT "+alertReadColumns(false)+" FROM ("+latestAlerts+") WHERE id = ?", id)
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
