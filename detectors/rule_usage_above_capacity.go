package detectors

import (
	"context"
	"fmt"
	"sort"
	"time"

	"github.com/voucherwatch/voucherwatch"
)

// UsageAboveCapacity checks 五.1 (M1d, qualification and service): a supplier cannot meter more
// cards of a chip at once than it registered (registry supplier.capacity, summed over its data
// centres by chip model, model names compared without case and spaces). ClickHouse sweeps the
// metered windows of each supplier and chip in time: every window adds its cards at its start
// and takes them off at its end (an end before a start at the same instant, so a node let to
// one tenant after another is not counted twice), and the running sum is the number of cards
// metered at once. A physical resource (resource_id) counts at most its own cards, also when two
// tenants are metered on it at once: that double letting is duplicate_claim's finding, not
// extra capacity.
//
// High when a registered supplier meters more cards of a chip at once than it registered;
// medium when it meters a chip it registered no capacity of at all (possibly a naming
// difference). Suppliers that are not registered are unregistered_supplier's finding.
type UsageAboveCapacity struct{ env Env }

var _ voucherwatch.Detector = (*UsageAboveCapacity)(nil)

// NewUsageAboveCapacity builds the usage_above_capacity rule.
func NewUsageAboveCapacity(env Env) *UsageAboveCapacity { return &UsageAboveCapacity{env: env} }

// Name is "usage_above_capacity".
func (d *UsageAboveCapacity) Name() string { return "usage_above_capacity" }

// ruleUsageDedup is each usage record once: a record re-sent under a new id is the same window
// of the same resource and tenant.
const ruleUsageDedup = `SELECT supplier_uscc, buyer_uscc, contract_no, chip_model, resource_id, cards, window_start, window_end
	FROM usage
	WHERE window_end > window_start
	LIMIT 1 BY supplier_uscc, resource_id, buyer_uscc, window_start, window_end`

// peakCardsSQL finds, per supplier and chip, the most cards metered at once, when, for how long
// above the registered capacity, and that capacity.
const peakCardsSQL = `SELECT supplier_uscc, chip, chip_model, capacity,
	arrayReduce('max', cum) AS peak,
	times[indexOf(cum, peak)] AS peak_at,
	times[arrayFirstIndex(c -> c > capacity, cum)] AS first_over,
	arraySum(arrayMap((c, span) -> if(c > capacity, span, 0), cum,
		arrayMap((a, b) -> b - a, times, arrayPushBack(arrayPopFront(times), arrayReduce('max', times))))) AS over_secs
FROM (
	SELECT supplier_uscc, chip, any(chip_model) AS chip_model,
		arraySort(groupArray((t, dl))) AS evs,
		arrayCumSum(arrayMap(x -> x.2, evs)) AS cum,
		arrayMap(x -> x.1, evs) AS times
	FROM (
		SELECT supplier_uscc, chip, chip_model, t, dl
		FROM (
			SELECT supplier_uscc, chip, any(chip_model) AS chip_model, resource_id,
				arraySort(groupArray(ev)) AS evs,
				arrayReduce('max', arrayMap(x -> x.2, evs)) AS resource_cards,
				arrayMap(c -> least(c, resource_cards), arrayCumSum(arrayMap(x -> x.2, evs))) AS clipped,
				arrayMap(x -> x.1, evs) AS ts,
				arrayPushFront(arrayPopFront(arrayDifference(clipped)), clipped[1]) AS dls
			FROM (
				SELECT supplier_uscc, replaceAll(lower(chip_model), ' ', '') AS chip, chip_model, resource_id,
					arrayJoin([(toInt64(window_start), toInt64(cards)), (toInt64(window_end), -toInt64(cards))]) AS ev
				FROM (` + ruleUsageDedup + `)
			)
			GROUP BY supplier_uscc, chip, resource_id
		)
		ARRAY JOIN ts AS t, dls AS dl
		WHERE dl != 0
	)
	GROUP BY supplier_uscc, chip
) ALL LEFT JOIN (
	SELECT uscc AS supplier_uscc, replaceAll(lower(capacity_chip_model), ' ', '') AS chip, toInt64(sum(capacity_cards)) AS capacity
	FROM registry_latest
	ARRAY JOIN capacity_chip_model, capacity_cards
	GROUP BY supplier_uscc, chip
) USING supplier_uscc, chip
WHERE peak > capacity`

// peakTenantsSQL lists who was metered on a supplier's chip at an instant.
const peakTenantsSQL = `SELECT buyer_uscc, contract_no, sum(cards), uniqExact(resource_id)
FROM (` + ruleUsageDedup + `)
WHERE supplier_uscc = ? AND replaceAll(lower(chip_model), ' ', '') = ? AND toInt64(window_start) <= ? AND toInt64(window_end) > ?
GROUP BY buyer_uscc, contract_no
ORDER BY buyer_uscc, contract_no`

// Run sweeps every supplier's metered cards.
func (d *UsageAboveCapacity) Run(ctx context.Context, at time.Time) ([]voucherwatch.Alert, error) {
	cities, err := Cities(ctx, d.env.reads())
	if err != nil {
		return nil, err
	}
	type over struct {
		supplier, chip, model          string
		capacity, peak                 int64
		peakAt, firstOver, overSeconds int64
	}
	rows, err := d.env.DB.Conn().Query(ctx, peakCardsSQL)
	if err != nil {
		return nil, fmt.Errorf("detectors: usage_above_capacity: %w", err)
	}
	var found []over
	for rows.Next() {
		var o over
		if err := rows.Scan(&o.supplier, &o.chip, &o.model, &o.capacity, &o.peak, &o.peakAt, &o.firstOver, &o.overSeconds); err != nil {
			rows.Close()
			return nil, fmt.Errorf("detectors: usage_above_capacity: %w", err)
		}
		found = append(found, o)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("detectors: usage_above_capacity: %w", err)
	}
	if len(found) == 0 {
		return nil, nil
	}
	reg, err := ruleLoadRegistry(ctx, d.env)
	if err != nil {
		return nil, err
	}
	sort.Slice(found, func(i, j int) bool {
		if found[i].supplier != found[j].supplier {
			return found[i].supplier < found[j].supplier
		}
		return found[i].chip < found[j].chip
	})
	var fs []finding
	for _, o := range found {
		if ruleRegistrationOf(reg, o.supplier) != regRegistered {
			continue
		}
		peakAt := time.Unix(o.peakAt, 0).In(voucherwatch.CST)
		var tenants []map[string]any
		trows, err := d.env.DB.Conn().Query(ctx, peakTenantsSQL, o.supplier, o.chip, o.peakAt, o.peakAt)
		if err != nil {
			return nil, fmt.Errorf("detectors: usage_above_capacity tenants: %w", err)
		}
		for trows.Next() {
			var (
				buyer, contract string
				cards, res      uint64
			)
			if err := trows.Scan(&buyer, &contract, &cards, &res); err != nil {
				trows.Close()
				return nil, fmt.Errorf("detectors: usage_above_capacity tenants: %w", err)
			}
			tenants = append(tenants, map[string]any{"buyer_uscc": buyer, "contract_no": contract, "cards": cards, "resources": res})
		}
		trows.Close()
		if err := trows.Err(); err != nil {
			return nil, fmt.Errorf("detectors: usage_above_capacity tenants: %w", err)
		}
		ev := map[string]any{
			"supplier_uscc": o.supplier, "supplier_name": ruleEntityName(reg, o.supplier), "supplier_registry_version": reg[o.supplier].Ref,
			"chip_model": o.model, "registered_cards": o.capacity, "peak_cards": o.peak,
			"peak_at": peakAt.Format(time.RFC3339), "tenants_at_peak": tenants,
			"hours_above_capacity": float64(o.overSeconds) / 3600,
		}
		fd := finding{Detector: d.Name(), Subjects: voucherwatch.Subjects{SupplierUSCC: o.supplier}, PolicyClause: clauseCapacity, Evidence: ev}
		if o.capacity == 0 {
			fd.Kind, fd.Severity, fd.Score = "metered_chip_not_registered", voucherwatch.SeverityMedium, 0.6
			fd.Title = "供给方计量的算力卡型号不在其登记的算力资源中（《实施细则》五.1 / M1d）"
			fd.Reason = fmt.Sprintf("供给方 %s 在调度平台计量了 %s 卡（同时最多 %d 张，%s），但其登记信息中没有该型号的算力资源；请核查其资质与登记信息是否相符（《实施细则》五.1 / M1d）。",
				ruleEntityName(reg, o.supplier), o.model, o.peak, peakAt.Format("2006-01-02 15:04"))
		} else {
			firstOver := time.Unix(o.firstOver, 0).In(voucherwatch.CST)
			ev["first_above_capacity"] = firstOver.Format(time.RFC3339)
			fd.Kind, fd.Severity = "metered_above_registered_capacity", voucherwatch.SeverityHigh
			fd.Score = min(1, 0.7+float64(o.peak-o.capacity)/float64(2*o.capacity))
			fd.Title = "供给方计量的同时在用算力卡数超过其登记的算力规模（《实施细则》五.1 / M1d）"
			fd.Reason = fmt.Sprintf("供给方 %s 登记 %s 卡 %d 张，调度平台计量显示 %s 起同时在用超过登记规模，%s 达到 %d 张（%d 个租户），累计超出 %.0f 小时；计量的使用不可能超过实际拥有的算力，登记信息、计量数据或结算的真实性存疑（《实施细则》五.1 / M1d）。",
				ruleEntityName(reg, o.supplier), o.model, o.capacity, firstOver.Format("2006-01-02 15:04"), peakAt.Format("2006-01-02 15:04"),
				o.peak, len(tenants), float64(o.overSeconds)/3600)
		}
		fs = append(fs, fd)
	}
	return ruleAlerts(fs, cities, at), nil
}
