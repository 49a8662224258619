package store

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"time"

	"github.com/voucherwatch/voucherwatch"
)

var _ voucherwatch.RegisterStore = (*DB)(nil)

// RegisterSuppliers gathers one period's register inputs for every supplier in the registry
// (is_supplier or supplier_registered in its latest record). Each figure reads only the
// period: usage by window_start (the table is partitioned by its month and keyed by
// supplier), the daily rollups by day, dead letters by time, and alerts through their
// workflow events; registry records and contracts through their latest versions. Small
// queries joined here by USCC, as SpotCheckClaimants does.
func (db *DB) RegisterSuppliers(ctx context.Context, q voucherwatch.RegisterQuery) ([]voucherwatch.RegisterSupplierInput, error) {
	rows, err := db.conn.Query(ctx, `SELECT uscc, name, city, supplier_registered, supplier_registered_on,
			capacity_chip_model, capacity_chip_origin, capacity_cards
		FROM registry_latest WHERE is_supplier = 1 OR supplier_registered = 1 ORDER BY uscc`)
	if err != nil {
		return nil, fmt.Errorf("store: register suppliers: %w", err)
	}
	out := []voucherwatch.RegisterSupplierInput{}
	index := map[string]int{}
	for rows.Next() {
		var s voucherwatch.RegisterSupplierInput
		var registered uint8
		var on time.Time
		var models, origins []string
		var cards []uint32
		if err := rows.Scan(&s.USCC, &s.Name, &s.City, &registered, &on, &models, &origins, &cards); err != nil {
			rows.Close()
			return nil, fmt.Errorf("store: scan register supplier: %w", err)
		}
		s.Registered = registered == 1
		if s.Registered && on.Year() > 1970 {
			s.RegisteredOn = on.Format(time.DateOnly)
		}
		s.Capacity = []voucherwatch.ChipCards{}
		for i := range models {
			s.Capacity = append(s.Capacity, voucherwatch.ChipCards{ChipModel: models[i], ChipOrigin: origins[i], Cards: int(cards[i])})
		}
		s.Resources, s.Prices = []voucherwatch.ResourceReporting{}, []voucherwatch.PriceSample{}
		index[s.USCC] = len(out)
		out = append(out, s)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: register suppliers: %w", err)
	}
	if len(out) == 0 {
		return out, nil
	}
	usccs := make([]string, len(out))
	for i, s := range out {
		usccs[i] = s.USCC
	}
	from, to := q.From.Unix(), q.To.Unix()
	fromDay, toDay := q.From.In(voucherwatch.CST).Format(time.DateOnly), q.To.In(voucherwatch.CST).Format(time.DateOnly)
	// each runs a query whose rows start with a supplier's USCC and hands every row to row,
	// whose scan reads the other columns and answers the supplier the row is about.
	type scanFunc func(dst ...any) (*voucherwatch.RegisterSupplierInput, error)
	each := func(what, query string, row func(scan scanFunc) error, args ...any) error {
		rows, err := db.conn.Query(ctx, query, args...)
		if err != nil {
			return fmt.Errorf("store: register %s: %w", what, err)
		}
		defer rows.Close()
		scan := func(dst ...any) (*voucherwatch.RegisterSupplierInput, error) {
			var uscc string
			if err := rows.Scan(append([]any{&uscc}, dst...)...); err != nil {
				return nil, err
			}
			return &out[index[uscc]], nil // the queries filter on usccs
		}
		for rows.Next() {
			if err := row(scan); err != nil {
				return fmt.Errorf("store: scan register %s: %w", what, err)
			}
		}
		if err := rows.Err(); err != nil {
			return fmt.Errorf("store: register %s: %w", what, err)
		}
		return nil
	}

	// Reporting per resource. A window counts where it starts; the hours it covers are
	// clipped to the period's end. Copies of one record (not merged yet) count once: hours
	// and windows are distinct values.
	if err := each("reporting", `SELECT supplier_uscc, resource_id,
			intDiv(max(toUInt32(least(window_end, toDateTime(?)))) - min(toUInt32(toStartOfHour(window_start))) + 3599, 3600),
			uniqExactArray(hours), uniqExact(window_start),
			uniqExactIf(window_start, toUInt32(ingested_at) <= toUInt32(window_end) + ?), uniqExact(source, id)
		FROM (
			SELECT supplier_uscc, resource_id, window_start, window_end, ingested_at, source, id,
				arrayMap(i -> toUInt32(toStartOfHour(window_start)) + i * 3600,
					range(toUInt32(intDiv(toUInt32(least(window_end, toDateTime(?))) - toUInt32(toStartOfHour(window_start)) + 3599, 3600)))) AS hours
			FROM usage
			WHERE has(?, supplier_uscc) AND window_start >= toDateTime(?) AND window_start < toDateTime(?)
		)
		GROUP BY supplier_uscc, resource_id ORDER BY supplier_uscc, resource_id`,
		func(scan scanFunc) error {
			var res voucherwatch.ResourceReporting
			var expected int64
			var received, windows, onTime, records uint64
			s, err := scan(&res.ResourceID, &expected, &received, &windows, &onTime, &records)
			if err != nil {
				return err
			}
			res.ExpectedHours, res.ReceivedHours, res.Windows, res.OnTime = int(expected), int(received), int(windows), int(onTime)
			s.Resources = append(s.Resources, res)
			s.StoredRecords += int(records)
			return nil
		}, to, q.OnTimeHours*3600, to, usccs, from, to); err != nil {
		return nil, err
	}

	// Metered card-hours and buyers from the daily rollup.
	if err := each("metering", `SELECT supplier_uscc, sum(ch), countIf(ch > 0) FROM (
			SELECT supplier_uscc, buyer_uscc, sum(day_card_hours) AS ch FROM (`+usageDaysSQL(
		"day >= toDate(?) AND day < toDate(?) AND has(?, supplier_uscc)",
		"span_start < toDateTime(toDate(?), 'Asia/Shanghai') AND span_end > toDateTime(toDate(?), 'Asia/Shanghai') AND has(?, supplier_uscc)")+`)
			WHERE day >= toDate(?) AND day < toDate(?)
			GROUP BY supplier_uscc, buyer_uscc
		) GROUP BY supplier_uscc`,
		func(scan scanFunc) error {
			var metered float64
			var buyers uint64
			s, err := scan(&metered, &buyers)
			if err == nil {
				s.MeteredCardHours, s.Buyers = metered, int(buyers)
			}
			return err
		}, append(usageDaysArgs([]any{fromDay, toDay, usccs}, []any{toDay, fromDay, usccs}), fromDay, toDay)...); err != nil {
		return nil, err
	}

	// Settled amounts from the daily rollup of settlement items, by invoice date.
	if err := each("settlements", `SELECT supplier_uscc, toInt64(sum(item_amount) * 100) FROM settlements_daily
		WHERE day >= toDate(?) AND day < toDate(?) AND has(?, supplier_uscc)
		GROUP BY supplier_uscc`,
		func(scan scanFunc) error {
			var fen int64
			s, err := scan(&fen)
			if err == nil {
				s.Settled = voucherwatch.Money(fen)
			}
			return err
		}, fromDay, toDay, usccs); err != nil {
		return nil, err
	}

	// Telemetry the ingest rejected in the period (each Kafka message once).
	if err := each("dead letters", `SELECT supplier, uniqExact(kafka_partition, kafka_offset) FROM dead_letters
		WHERE kafka_topic = ? AND at >= toDateTime(?) AND at < toDateTime(?) AND has(?, supplier)
		GROUP BY supplier`,
		func(scan scanFunc) error {
			var n uint64
			s, err := scan(&n)
			if err == nil {
				s.DeadLetters = int(n)
			}
			return err
		}, q.UsageTopic, from, to, usccs); err != nil {
		return nil, err
	}

	// Alerts on the supplier confirmed in the period and still confirmed (or ordered
	// recovered, which follows a confirmation): never open or dismissed ones.
	if err := each("violations", `SELECT supplier_uscc, count() FROM (
			SELECT id, supplier_uscc FROM alerts WHERE has(?, supplier_uscc) ORDER BY id, version DESC LIMIT 1 BY id
		) ANY INNER JOIN (
			SELECT alert_id AS id, argMax(to_status, seq) AS status, minIf(at, to_status = 'confirmed') AS confirmed_at
			FROM alert_events GROUP BY alert_id
			HAVING status IN ('confirmed', 'recovery_ordered') AND confirmed_at >= toDateTime(?) AND confirmed_at < toDateTime(?)
		) USING id
		GROUP BY supplier_uscc`,
		func(scan scanFunc) error {
			var n uint64
			s, err := scan(&n)
			if err == nil {
				s.ConfirmedViolations = int(n)
			}
			return err
		}, usccs, from, to); err != nil {
		return nil, err
	}

	// Contracts: signed in the period (amounts), in service during it (sold card-hours and
	// prices). A contract without a service period sells no hours here.
	if err := each("contracts", `SELECT supplier_uscc, signed_on, service_start, service_end, toInt64(amount * 100),
			item_service_type, item_chip_model, item_unit, item_cards, arrayMap(p -> toInt64(p * 100), item_unit_price)
		FROM contracts_latest
		WHERE has(?, supplier_uscc) AND ((signed_on >= toDate(?) AND signed_on < toDate(?))
			OR (service_start < toDate(?) AND service_end >= toDate(?)))`,
		func(scan scanFunc) error {
			var signed, start, end time.Time
			var amount int64
			var types, models, units []string
			var cards []uint32
			var prices []int64
			s, err := scan(&signed, &start, &end, &amount, &types, &models, &units, &cards, &prices)
			if err != nil {
				return err
			}
			if d := signed.Format(time.DateOnly); d >= fromDay && d < toDay {
				s.ContractAmount += voucherwatch.Money(amount)
			}
			hours := serviceHoursIn(start, end, q.From, q.To)
			if hours <= 0 {
				return nil
			}
			for i := range types {
				if types[i] != voucherwatch.ServiceComputeResource {
					continue
				}
				s.SoldCardHours += float64(cards[i]) * hours
				if prices[i] > 0 && models[i] != "" && (units[i] == voucherwatch.UnitCardHour || units[i] == voucherwatch.UnitCardMonth) {
					s.Prices = append(s.Prices, voucherwatch.PriceSample{ChipModel: models[i], Unit: units[i], Price: voucherwatch.Money(prices[i])})
				}
			}
			return nil
		}, usccs, fromDay, toDay, toDay, fromDay); err != nil {
		return nil, err
	}
	return out, nil
}

// serviceHoursIn is how many hours of the service period [start day, end day] (whole days,
// CST) fall in [from, to); 0 when the contract states no service period.
func serviceHoursIn(start, end, from, to time.Time) float64 {
	if start.Year() <= 1970 || end.Year() <= 1970 { // Date columns hold 1970-01-01 for none
		return 0
	}
	s, _ := time.ParseInLocation(time.DateOnly, start.Format(time.DateOnly), voucherwatch.CST)
	e, _ := time.ParseInLocation(time.DateOnly, end.Format(time.DateOnly), voucherwatch.CST)
	e = e.AddDate(0, 0, 1)
	if s.Before(from) {
		s = from
	}
	if e.After(to) {
		e = to
	}
	return max(e.Sub(s).Hours(), 0)
}

// editionFingerprint identifies an edition by what decides its rows.
func editionFingerprint(e voucherwatch.RegisterEdition) string {
	h := sha256.New()
	for _, part := range []string{e.ID, string(e.Period), e.Method, e.InputsDigest} {
		h.Write([]byte(part))
		h.Write([]byte{0})
	}
	return hex.EncodeToString(h.Sum(nil)[:16])
}

// CreateRegisterEdition records an edition: its rows first, then its header, so that a
// header that can be read always has its rows. A known id is refused (ECONFLICT); the check
// and the insert are not atomic, and two instances racing for one scheduled slot are resolved
// as CreateSpotCheck resolves them: equal editions collapse, and of unequal ones every reader
// takes the first by (created_at, draw).
func (db *DB) CreateRegisterEdition(ctx context.Context, e voucherwatch.RegisterEdition) error {
	var n uint64
	if err := db.conn.QueryRow(ctx, "SELECT count() FROM register_editions WHERE id = ?", e.ID).Scan(&n); err != nil {
		return fmt.Errorf("store: look up register edition %s: %w", e.ID, err)
	}
	if n > 0 {
		return voucherwatch.Errorf(voucherwatch.ECONFLICT, "register edition %s exists already", e.ID)
	}
	inputs := []byte("{}")
	if e.Inputs != nil {
		var err error
		if inputs, err = json.Marshal(e.Inputs); err != nil {
			return fmt.Errorf("store: register edition %s inputs: %w", e.ID, err)
		}
	}
	draw := editionFingerprint(e)
	if len(e.Suppliers) > 0 {
		b, err := db.conn.PrepareBatch(ctx, "INSERT INTO register_rows (edition_id, draw, period, uscc, row)")
		if err != nil {
			return fmt.Errorf("store: insert register edition %s rows: %w", e.ID, err)
		}
		defer b.Abort()
		for _, r := range e.Suppliers {
			row, err := json.Marshal(r)
			if err != nil {
				return fmt.Errorf("store: register edition %s row %s: %w", e.ID, r.USCC, err)
			}
			if err := b.Append(e.ID, draw, string(e.Period), r.USCC, string(row)); err != nil {
				return fmt.Errorf("store: append register edition %s row %s: %w", e.ID, r.USCC, err)
			}
		}
		if err := b.Send(); err != nil {
			return fmt.Errorf("store: insert register edition %s rows: %w", e.ID, err)
		}
	}
	b, err := db.conn.PrepareBatch(ctx, `INSERT INTO register_editions (id, draw, period, method, inputs_digest, inputs,
		trigger, supplier_count, created_at, created_by)`)
	if err != nil {
		return fmt.Errorf("store: insert register edition %s: %w", e.ID, err)
	}
	defer b.Abort()
	if err := b.Append(e.ID, draw, string(e.Period), e.Method, e.InputsDigest, string(inputs), e.Trigger,
		uint32(len(e.Suppliers)), e.CreatedAt, e.CreatedBy); err != nil {
		return fmt.Errorf("store: append register edition %s: %w", e.ID, err)
	}
	if err := b.Send(); err != nil {
		return fmt.Errorf("store: insert register edition %s: %w", e.ID, err)
	}
	return nil
}

// shownEditions is the edition shown for each id: the first recorded, by (created_at, draw).
const shownEditions = `SELECT id, draw, period, method, inputs_digest, trigger, supplier_count, created_at, created_by
FROM register_editions ORDER BY id, created_at, draw LIMIT 1 BY id`

func (db *DB) queryEditions(ctx context.Context, q string, args ...any) ([]voucherwatch.RegisterEdition, []string, error) {
	rows, err := db.conn.Query(ctx, q, args...)
	if err != nil {
		return nil, nil, fmt.Errorf("store: query register editions: %w", err)
	}
	defer rows.Close()
	out, draws := []voucherwatch.RegisterEdition{}, []string{}
	for rows.Next() {
		var e voucherwatch.RegisterEdition
		var draw, period string
		var count uint32
		if err := rows.Scan(&e.ID, &draw, &period, &e.Method, &e.InputsDigest, &e.Trigger, &count, &e.CreatedAt, &e.CreatedBy); err != nil {
			return nil, nil, fmt.Errorf("store: scan register edition: %w", err)
		}
		e.Period, e.SupplierCount, e.CreatedAt = voucherwatch.RegisterPeriod(period), int(count), e.CreatedAt.In(voucherwatch.CST)
		out, draws = append(out, e), append(draws, draw)
	}
	if err := rows.Err(); err != nil {
		return nil, nil, fmt.Errorf("store: query register editions: %w", err)
	}
	return out, draws, nil
}

// RegisterEditions lists the editions, newest first, without rows or inputs.
func (db *DB) RegisterEditions(ctx context.Context) ([]voucherwatch.RegisterEdition, error) {
	out, _, err := db.queryEditions(ctx, "SELECT * FROM ("+shownEditions+") ORDER BY created_at DESC, id DESC")
	return out, err
}

// RegisterEdition returns one edition with its rows (by USCC) and inputs.
func (db *DB) RegisterEdition(ctx context.Context, id string) (voucherwatch.RegisterEdition, error) {
	es, draws, err := db.queryEditions(ctx, "SELECT * FROM ("+shownEditions+") WHERE id = ?", id)
	if err != nil {
		return voucherwatch.RegisterEdition{}, err
	}
	if len(es) == 0 {
		return voucherwatch.RegisterEdition{}, voucherwatch.Errorf(voucherwatch.ENOTFOUND, "register edition %s not found", id)
	}
	e, draw := es[0], draws[0]
	var inputs string
	if err := db.conn.QueryRow(ctx, "SELECT inputs FROM register_editions WHERE id = ? AND draw = ? LIMIT 1", id, draw).Scan(&inputs); err != nil {
		return e, fmt.Errorf("store: register edition %s inputs: %w", id, err)
	}
	e.Inputs = &voucherwatch.RegisterInputs{}
	if err := json.Unmarshal([]byte(inputs), e.Inputs); err != nil {
		return e, fmt.Errorf("store: register edition %s inputs: %w", id, err)
	}
	rows, err := db.conn.Query(ctx, `SELECT row FROM register_rows WHERE edition_id = ? AND draw = ?
		ORDER BY uscc LIMIT 1 BY uscc`, id, draw)
	if err != nil {
		return e, fmt.Errorf("store: register edition %s rows: %w", id, err)
	}
	defer rows.Close()
	e.Suppliers = []voucherwatch.RegisterRow{}
	for rows.Next() {
		var raw string
		if err := rows.Scan(&raw); err != nil {
			return e, fmt.Errorf("store: scan register row: %w", err)
		}
		var r voucherwatch.RegisterRow
		if err := json.Unmarshal([]byte(raw), &r); err != nil {
			return e, fmt.Errorf("store: register edition %s row: %w", id, err)
		}
		e.Suppliers = append(e.Suppliers, r)
	}
	if err := rows.Err(); err != nil {
		return e, fmt.Errorf("store: register edition %s rows: %w", id, err)
	}
	return e, nil
}

// SupplierRegisterHistory lists one supplier's rows across the shown editions, newest first:
// a keyed read of register_rows (ordered by supplier).
func (db *DB) SupplierRegisterHistory(ctx context.Context, uscc string) ([]voucherwatch.RegisterHistoryEntry, error) {
	rows, err := db.conn.Query(ctx, `SELECT edition_id, period, created_at, row FROM (
			SELECT edition_id, draw, period, row FROM register_rows WHERE uscc = ? LIMIT 1 BY edition_id, draw
		) ANY INNER JOIN (
			SELECT id AS edition_id, draw, created_at FROM (`+shownEditions+`)
		) USING (edition_id, draw)
		ORDER BY created_at DESC, edition_id DESC`, uscc)
	if err != nil {
		return nil, fmt.Errorf("store: register history of %s: %w", uscc, err)
	}
	defer rows.Close()
	out := []voucherwatch.RegisterHistoryEntry{}
	for rows.Next() {
		var h voucherwatch.RegisterHistoryEntry
		var period, raw string
		if err := rows.Scan(&h.EditionID, &period, &h.CreatedAt, &raw); err != nil {
			return nil, fmt.Errorf("store: scan register history: %w", err)
		}
		if err := json.Unmarshal([]byte(raw), &h.Row); err != nil {
			return nil, fmt.Errorf("store: register history of %s: %w", uscc, err)
		}
		h.Period, h.CreatedAt = voucherwatch.RegisterPeriod(period), h.CreatedAt.In(voucherwatch.CST)
		out = append(out, h)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: register history of %s: %w", uscc, err)
	}
	return out, nil
}
