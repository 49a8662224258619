package store

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/voucherwatch/voucherwatch"
)

var _ voucherwatch.SpotCheckStore = (*DB)(nil)

// SpotCheckClaimants gathers the draw's claimants: each applicant of a claim submitted in
// [from, to), with its city (the registry's, else its newest claim's), the subsidy it
// requested (each claim counted once, in its newest version), and its open alerts: those whose
// status, derived from the workflow's events as Alerts derives it, is neither dismissed nor
// recovered. Three small queries joined here: 18.16's joins want equality keys and the
// sides are small (one row per applicant).
func (db *DB) SpotCheckClaimants(ctx context.Context, from, to time.Time) ([]voucherwatch.SpotCheckClaimant, error) {
	var where sqlWhere
	if !from.IsZero() {
		where.add("submitted_on >= toDate(?)", from.In(voucherwatch.CST).Format(time.DateOnly))
	}
	if !to.IsZero() {
		where.add("submitted_on < toDate(?)", to.In(voucherwatch.CST).Format(time.DateOnly))
	}
	rows, err := db.conn.Query(ctx, `SELECT applicant_uscc, argMax(city, submitted_on), toInt64(sum(requested) * 100)
		FROM (
			SELECT applicant_uscc, claim_id, city, requested, submitted_on FROM claims`+where.sql()+`
			ORDER BY applicant_uscc, claim_id, event_time DESC, source DESC, id DESC
			LIMIT 1 BY applicant_uscc, claim_id
		)
		WHERE applicant_uscc != ''
		GROUP BY applicant_uscc ORDER BY applicant_uscc`, where.args...)
	if err != nil {
		return nil, fmt.Errorf("store: spot-check claimants: %w", err)
	}
	var out []voucherwatch.SpotCheckClaimant
	index := map[string]int{}
	for rows.Next() {
		var c voucherwatch.SpotCheckClaimant
		var fen int64 // Money is in fen
		if err := rows.Scan(&c.USCC, &c.City, &fen); err != nil {
			rows.Close()
			return nil, fmt.Errorf("store: scan spot-check claimant: %w", err)
		}
		c.Requested = voucherwatch.Money(fen)
		index[c.USCC] = len(out)
		out = append(out, c)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: spot-check claimants: %w", err)
	}
	if len(out) == 0 {
		return []voucherwatch.SpotCheckClaimant{}, nil
	}
	usccs := make([]string, len(out))
	for i, c := range out {
		usccs[i] = c.USCC
	}

	rows, err = db.conn.Query(ctx, `SELECT uscc, name, city FROM registry_latest WHERE has(?, uscc)`, usccs)
	if err != nil {
		return nil, fmt.Errorf("store: spot-check claimants' registry: %w", err)
	}
	for rows.Next() {
		var uscc, name, city string
		if err := rows.Scan(&uscc, &name, &city); err != nil {
			rows.Close()
			return nil, fmt.Errorf("store: scan spot-check registry: %w", err)
		}
		c := &out[index[uscc]]
		c.Name = name
		if city != "" {
			c.City = city
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: spot-check claimants' registry: %w", err)
	}

	latest, _ := latestAlertsSQL("id, version, applicant_uscc, severity, score", alertIdentity{}, true)
	rows, err = db.conn.Query(ctx, `SELECT applicant_uscc, countIf(severity = 'high'), countIf(severity = 'medium'),
			countIf(severity = 'low'), sum(score)
		FROM (`+latest+`)
		WHERE has(?, applicant_uscc) AND NOT has(['dismissed', 'recovered'], status)
		GROUP BY applicant_uscc`, usccs)
	if err != nil {
		return nil, fmt.Errorf("store: spot-check claimants' alerts: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var uscc string
		var high, medium, low uint64
		var score float64
		if err := rows.Scan(&uscc, &high, &medium, &low, &score); err != nil {
			return nil, fmt.Errorf("store: scan spot-check alerts: %w", err)
		}
		c := &out[index[uscc]]
		c.OpenHigh, c.OpenMedium, c.OpenLow, c.AlertScore = int(high), int(medium), int(low), score
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: spot-check claimants' alerts: %w", err)
	}
	return out, nil
}

// CreateInspector registers an inspector.
func (db *DB) CreateInspector(ctx context.Context, in voucherwatch.Inspector) error {
	b, err := db.conn.PrepareBatch(ctx, "INSERT INTO inspectors (id, name, city, conflicts, disabled, created_at, created_by, version)")
	if err != nil {
		return fmt.Errorf("store: create inspector %s: %w", in.ID, err)
	}
	defer b.Abort()
	conflicts := in.Conflicts
	if conflicts == nil {
		conflicts = []string{}
	}
	if err := b.Append(in.ID, in.Name, in.City, conflicts, uint8(0), in.CreatedAt, in.CreatedBy, uint64(in.CreatedAt.UnixNano())); err != nil {
		return fmt.Errorf("store: create inspector %s: %w", in.ID, err)
	}
	if err := b.Send(); err != nil {
		return fmt.Errorf("store: create inspector %s: %w", in.ID, err)
	}
	return nil
}

// DisableInspector writes a disabled version of the inspector, newer than every version
// before it whatever the clock says.
func (db *DB) DisableInspector(ctx context.Context, id string, at time.Time) error {
	var name, city, createdBy string
	var conflicts []string
	var created time.Time
	var version uint64
	err := db.conn.QueryRow(ctx, `SELECT name, city, conflicts, created_at, created_by, version FROM (
		SELECT * FROM inspectors WHERE id = ? ORDER BY version DESC LIMIT 1
	) WHERE disabled = 0`, id).Scan(&name, &city, &conflicts, &created, &createdBy, &version)
	if errors.Is(err, sql.ErrNoRows) {
		return voucherwatch.Errorf(voucherwatch.ENOTFOUND, "inspector %s not found", id)
	}
	if err != nil {
		return fmt.Errorf("store: disable inspector %s: %w", id, err)
	}
	b, err := db.conn.PrepareBatch(ctx, "INSERT INTO inspectors (id, name, city, conflicts, disabled, created_at, created_by, version)")
	if err != nil {
		return fmt.Errorf("store: disable inspector %s: %w", id, err)
	}
	defer b.Abort()
	if err := b.Append(id, name, city, conflicts, uint8(1), created, createdBy, max(uint64(at.UnixNano()), version+1)); err != nil {
		return fmt.Errorf("store: disable inspector %s: %w", id, err)
	}
	if err := b.Send(); err != nil {
		return fmt.Errorf("store: disable inspector %s: %w", id, err)
	}
	return nil
}

// Inspectors lists the enabled inspectors, newest version of each, by id.
func (db *DB) Inspectors(ctx context.Context) ([]voucherwatch.Inspector, error) {
	rows, err := db.conn.Query(ctx, `SELECT id, name, city, conflicts, created_at, created_by FROM (
		SELECT * FROM inspectors ORDER BY id, version DESC LIMIT 1 BY id
	) WHERE disabled = 0 ORDER BY id`)
	if err != nil {
		return nil, fmt.Errorf("store: query inspectors: %w", err)
	}
	defer rows.Close()
	out := []voucherwatch.Inspector{}
	for rows.Next() {
		var in voucherwatch.Inspector
		if err := rows.Scan(&in.ID, &in.Name, &in.City, &in.Conflicts, &in.CreatedAt, &in.CreatedBy); err != nil {
			return nil, fmt.Errorf("store: scan inspector: %w", err)
		}
		in.CreatedAt = in.CreatedAt.In(voucherwatch.CST)
		out = append(out, in)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: query inspectors: %w", err)
	}
	return out, nil
}

// drawFingerprint identifies a draw by what decides its list; equal fingerprints mean equal
// items.
func drawFingerprint(sc voucherwatch.SpotCheck, params []byte) string {
	h := sha256.New()
	var seed [8]byte
	binary.BigEndian.PutUint64(seed[:], sc.Seed)
	for _, part := range [][]byte{[]byte(sc.ID), seed[:], []byte(sc.Method), params, []byte(sc.InputsDigest)} {
		h.Write(part)
		h.Write([]byte{0})
	}
	return hex.EncodeToString(h.Sum(nil)[:16])
}

// CreateSpotCheck records a draw: its items first, then its header, so that a header that can
// be read always has its items. An id already recorded is refused (ECONFLICT). The check
// and the insert are not atomic: two instances drawing the same scheduled slot at the same
// moment can both pass the check. Then both rows stay (the fingerprint differs only if their
// inputs did, e.g. a claim stored between their reads), and every reader takes the same one,
// the first by (created_at, fingerprint), with its own items; the other is kept but not
// shown. Equal draws collapse into one.
func (db *DB) CreateSpotCheck(ctx context.Context, sc voucherwatch.SpotCheck) error {
	var n uint64
	if err := db.conn.QueryRow(ctx, "SELECT count() FROM spotchecks WHERE id = ?", sc.ID).Scan(&n); err != nil {
		return fmt.Errorf("store: look up spot check %s: %w", sc.ID, err)
	}
	if n > 0 {
		return voucherwatch.Errorf(voucherwatch.ECONFLICT, "spot check %s exists already", sc.ID)
	}
	return db.writeSpotCheck(ctx, sc)
}

// writeSpotCheck writes a draw's items, then its header, without checking its id.
func (db *DB) writeSpotCheck(ctx context.Context, sc voucherwatch.SpotCheck) error {
	params, err := json.Marshal(sc.Params)
	if err != nil {
		return fmt.Errorf("store: spot check %s params: %w", sc.ID, err)
	}
	inputs := []byte("{}")
	if sc.Inputs != nil {
		if inputs, err = json.Marshal(sc.Inputs); err != nil {
			return fmt.Errorf("store: spot check %s inputs: %w", sc.ID, err)
		}
	}
	draw := drawFingerprint(sc, params)
	if len(sc.Items) > 0 {
		b, err := db.conn.PrepareBatch(ctx, `INSERT INTO spotcheck_items (spotcheck_id, draw, uscc, name, city, risk, drawn_by,
			inspector_ids, inspector_names, inspector_cities, note)`)
		if err != nil {
			return fmt.Errorf("store: insert spot check %s items: %w", sc.ID, err)
		}
		defer b.Abort()
		for _, it := range sc.Items {
			ids, names, cities := []string{}, []string{}, []string{}
			for _, in := range it.Inspectors {
				ids, names, cities = append(ids, in.ID), append(names, in.Name), append(cities, in.City)
			}
			if err := b.Append(sc.ID, draw, it.USCC, it.Name, it.City, it.Risk, it.DrawnBy, ids, names, cities, it.Note); err != nil {
				return fmt.Errorf("store: append spot check %s item %s: %w", sc.ID, it.USCC, err)
			}
		}
		if err := b.Send(); err != nil {
			return fmt.Errorf("store: insert spot check %s items: %w", sc.ID, err)
		}
	}
	b, err := db.conn.PrepareBatch(ctx, `INSERT INTO spotchecks (id, draw, seed, method, params, inputs_digest, inputs,
		trigger, item_count, created_at, created_by)`)
	if err != nil {
		return fmt.Errorf("store: insert spot check %s: %w", sc.ID, err)
	}
	defer b.Abort()
	if err := b.Append(sc.ID, draw, sc.Seed, sc.Method, string(params), sc.InputsDigest, string(inputs), sc.Trigger,
		uint32(len(sc.Items)), sc.CreatedAt, sc.CreatedBy); err != nil {
		return fmt.Errorf("store: append spot check %s: %w", sc.ID, err)
	}
	if err := b.Send(); err != nil {
		return fmt.Errorf("store: insert spot check %s: %w", sc.ID, err)
	}
	return nil
}

// shownSpotChecks is the draw shown for each id: the first recorded, by (created_at, draw).
const shownSpotChecks = `SELECT id, draw, seed, method, params, inputs_digest, trigger, item_count, created_at, created_by
FROM spotchecks ORDER BY id, created_at, draw LIMIT 1 BY id`

func (db *DB) querySpotChecks(ctx context.Context, q string, args ...any) ([]voucherwatch.SpotCheck, []string, error) {
	rows, err := db.conn.Query(ctx, q, args...)
	if err != nil {
		return nil, nil, fmt.Errorf("store: query spot checks: %w", err)
	}
	defer rows.Close()
	out, draws := []voucherwatch.SpotCheck{}, []string{}
	for rows.Next() {
		var sc voucherwatch.SpotCheck
		var draw, params string
		var count uint32
		if err := rows.Scan(&sc.ID, &draw, &sc.Seed, &sc.Method, &params, &sc.InputsDigest, &sc.Trigger, &count,
			&sc.CreatedAt, &sc.CreatedBy); err != nil {
			return nil, nil, fmt.Errorf("store: scan spot check: %w", err)
		}
		if err := json.Unmarshal([]byte(params), &sc.Params); err != nil {
			return nil, nil, fmt.Errorf("store: spot check %s params: %w", sc.ID, err)
		}
		sc.ItemCount, sc.CreatedAt = int(count), sc.CreatedAt.In(voucherwatch.CST)
		out, draws = append(out, sc), append(draws, draw)
	}
	if err := rows.Err(); err != nil {
		return nil, nil, fmt.Errorf("store: query spot checks: %w", err)
	}
	return out, draws, nil
}

// SpotChecks lists the draws, newest first, without items or inputs.
func (db *DB) SpotChecks(ctx context.Context) ([]voucherwatch.SpotCheck, error) {
	out, _, err := db.querySpotChecks(ctx, "SELECT * FROM ("+shownSpotChecks+") ORDER BY created_at DESC, id DESC")
	return out, err
}

// SpotCheck returns one draw with its items (by city and USCC) and inputs.
func (db *DB) SpotCheck(ctx context.Context, id string) (voucherwatch.SpotCheck, error) {
	scs, draws, err := db.querySpotChecks(ctx, "SELECT * FROM ("+shownSpotChecks+") WHERE id = ?", id)
	if err != nil {
		return voucherwatch.SpotCheck{}, err
	}
	if len(scs) == 0 {
		return voucherwatch.SpotCheck{}, voucherwatch.Errorf(voucherwatch.ENOTFOUND, "spot check %s not found", id)
	}
	sc, draw := scs[0], draws[0]
	var inputs string
	if err := db.conn.QueryRow(ctx, "SELECT inputs FROM spotchecks WHERE id = ? AND draw = ? LIMIT 1", id, draw).Scan(&inputs); err != nil {
		return sc, fmt.Errorf("store: spot check %s inputs: %w", id, err)
	}
	sc.Inputs = &voucherwatch.SpotCheckInputs{}
	if err := json.Unmarshal([]byte(inputs), sc.Inputs); err != nil {
		return sc, fmt.Errorf("store: spot check %s inputs: %w", id, err)
	}
	rows, err := db.conn.Query(ctx, `SELECT uscc, name, city, risk, drawn_by, inspector_ids, inspector_names, inspector_cities, note
		FROM spotcheck_items WHERE spotcheck_id = ? AND draw = ?
		ORDER BY city, uscc LIMIT 1 BY uscc`, id, draw)
	if err != nil {
		return sc, fmt.Errorf("store: spot check %s items: %w", id, err)
	}
	defer rows.Close()
	sc.Items = []voucherwatch.SpotCheckItem{}
	for rows.Next() {
		var it voucherwatch.SpotCheckItem
		var ids, names, cities []string
		if err := rows.Scan(&it.USCC, &it.Name, &it.City, &it.Risk, &it.DrawnBy, &ids, &names, &cities, &it.Note); err != nil {
			return sc, fmt.Errorf("store: scan spot check item: %w", err)
		}
		it.Inspectors = make([]voucherwatch.InspectorRef, len(ids))
		for i := range ids {
			it.Inspectors[i] = voucherwatch.InspectorRef{ID: ids[i], Name: names[i], City: cities[i]}
		}
		sc.Items = append(sc.Items, it)
	}
	if err := rows.Err(); err != nil {
		return sc, fmt.Errorf("store: spot check %s items: %w", id, err)
	}
	return sc, nil
}

// RecordInspectionResult appends a result. seq (nanoseconds) orders two results of one
// enterprise recorded within a second.
func (db *DB) RecordInspectionResult(ctx context.Context, r voucherwatch.InspectionResult) error {
	b, err := db.conn.PrepareBatch(ctx, `INSERT INTO inspection_results (spotcheck_id, uscc, result, comment, recorded_at, seq,
		by_id, by_name, by_role)`)
	if err != nil {
		return fmt.Errorf("store: record inspection result: %w", err)
	}
	defer b.Abort()
	if err := b.Append(r.SpotCheckID, r.USCC, string(r.Result), r.Comment, r.RecordedAt, uint64(r.RecordedAt.UnixNano()),
		r.ByID, r.ByName, string(r.ByRole)); err != nil {
		return fmt.Errorf("store: record inspection result: %w", err)
	}
	if err := b.Send(); err != nil {
		return fmt.Errorf("store: record inspection result: %w", err)
	}
	return nil
}

// InspectionResults lists a draw's results, oldest first.
func (db *DB) InspectionResults(ctx context.Context, spotCheckID string) ([]voucherwatch.InspectionResult, error) {
	rows, err := db.conn.Query(ctx, `SELECT spotcheck_id, uscc, result, comment, recorded_at, by_id, by_name, by_role
		FROM inspection_results WHERE spotcheck_id = ? ORDER BY seq, uscc`, spotCheckID)
	if err != nil {
		return nil, fmt.Errorf("store: query inspection results: %w", err)
	}
	defer rows.Close()
	out := []voucherwatch.InspectionResult{}
	for rows.Next() {
		var r voucherwatch.InspectionResult
		var result, role string
		if err := rows.Scan(&r.SpotCheckID, &r.USCC, &result, &r.Comment, &r.RecordedAt, &r.ByID, &r.ByName, &role); err != nil {
			return nil, fmt.Errorf("store: scan inspection result: %w", err)
		}
		r.Result, r.ByRole, r.RecordedAt = voucherwatch.InspectionOutcome(result), voucherwatch.Role(role), r.RecordedAt.In(voucherwatch.CST)
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: query inspection results: %w", err)
	}
	return out, nil
}

// SpotCheckProgress counts, for every draw, its enterprises in city (of the draw every reader
// is shown) and those with a result.
func (db *DB) SpotCheckProgress(ctx context.Context, city string) (map[string]voucherwatch.SpotCheckProgress, error) {
	rows, err := db.conn.Query(ctx, `SELECT spotcheck_id, uniqExact(uscc), uniqExactIf(uscc, has_result = 1)
FROM (
	SELECT spotcheck_id, uscc FROM spotcheck_items
	WHERE city = ? AND (spotcheck_id, draw) IN (SELECT id, draw FROM (`+shownSpotChecks+`))
) ANY LEFT JOIN (
	SELECT DISTINCT spotcheck_id, uscc, toUInt8(1) AS has_result FROM inspection_results
) USING (spotcheck_id, uscc)
GROUP BY spotcheck_id`, city)
	if err != nil {
		return nil, fmt.Errorf("store: spot-check progress: %w", err)
	}
	defer rows.Close()
	out := map[string]voucherwatch.SpotCheckProgress{}
	for rows.Next() {
		var id string
		var items, recorded uint64
		if err := rows.Scan(&id, &items, &recorded); err != nil {
			return nil, fmt.Errorf("store: spot-check progress: %w", err)
		}
		out[id] = voucherwatch.SpotCheckProgress{Items: int(items), Recorded: int(recorded)}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: spot-check progress: %w", err)
	}
	return out, nil
}
