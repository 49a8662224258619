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

var _ voucherwatch.IncrementalDetector = (*UsageAboveCapacity)(nil)

// NewUsageAboveCapacity builds the usage_above_capacity rule.
func NewUsageAboveCapacity(env Env) *UsageAboveCapacity { return &UsageAboveCapacity{env: env} }

// Name is "usage_above_capacity".
func (d *UsageAboveCapacity) Name() string { return "usage_above_capacity" }

// Kinds are the kinds its alerts may carry (voucherwatch.AlertKinds has their labels).
func (d *UsageAboveCapacity) Kinds() []string {
	return []string{"metered_chip_not_registered", "metered_above_registered_capacity"}
}

// Run sweeps every supplier's metered cards.
func (d *UsageAboveCapacity) Run(ctx context.Context, at time.Time) ([]voucherwatch.Alert, error) {
	cities, err := Cities(ctx, d.env.reads())
	if err != nil {
		return nil, err
	}
	rm := d.env.reads()
	found, err := rm.CapacityPeaks(ctx)
	if err != nil {
		return nil, fmt.Errorf("detectors: usage_above_capacity: %w", err)
	}
	if len(found) == 0 {
		return nil, nil
	}
	reg, err := ruleLoadRegistry(ctx, d.env)
	if err != nil {
		return nil, err
	}
	return d.judge(found, reg, cities, at, func(registered []voucherwatch.CapacityPeak) ([][]voucherwatch.TenantCards, error) {
		// Who was metered at each peak, in one read for all of them.
		return rm.TenantsAtPeaks(ctx, registered)
	})
}

// Check sweeps, by keyed look-ups, the suppliers whose registry row changed (their registered
// capacity and registration): their latest rows (LatestEntitiesOf), their peaks
// (CapacityPeaksOf: usage_runs by supplier, without the kept units' refresh) and who was metered
// at each (TenantsAt). Usage carries no keys: a peak that new metering makes comes with the
// next full run, and so does a supplier's alert that a registry row makes false.
func (d *UsageAboveCapacity) Check(ctx context.Context, at time.Time, changed voucherwatch.Changes) ([]voucherwatch.Alert, error) {
	usccs := changed.EnterpriseList()
	if len(usccs) == 0 {
		return nil, nil
	}
	rm := d.env.reads()
	ents, err := rm.LatestEntitiesOf(ctx, usccs)
	if err != nil {
		return nil, fmt.Errorf("detectors: usage_above_capacity: %w", err)
	}
	reg := ruleRegistryOf(ents)
	var suppliers []string
	for _, e := range ents {
		if ruleRegistrationOf(reg, e.USCC) == regRegistered {
			suppliers = append(suppliers, e.USCC)
		}
	}
	if len(suppliers) == 0 {
		return nil, nil
	}
	found, err := rm.CapacityPeaksOf(ctx, suppliers)
	if err != nil {
		return nil, fmt.Errorf("detectors: usage_above_capacity: %w", err)
	}
	if len(found) == 0 {
		return nil, nil
	}
	cities := make(map[string]string, len(ents))
	for _, e := range ents {
		cities[e.USCC] = e.City
	}
	return d.judge(found, reg, cities, at, func(registered []voucherwatch.CapacityPeak) ([][]voucherwatch.TenantCards, error) {
		out := make([][]voucherwatch.TenantCards, len(registered))
		for i, o := range registered {
			var err error
			if out[i], err = rm.TenantsAt(ctx, o.SupplierUSCC, o.ChipKey, o.PeakAt); err != nil {
				return nil, err
			}
		}
		return out, nil
	})
}

// judge returns the alerts about the peaks found of registered suppliers (reg holds their
// rows at least); tenants reads who was metered at each of them.
func (d *UsageAboveCapacity) judge(found []voucherwatch.CapacityPeak, reg map[string]ruleEntity, cities map[string]string, at time.Time,
	tenants func([]voucherwatch.CapacityPeak) ([][]voucherwatch.TenantCards, error)) ([]voucherwatch.Alert, error) {
	sort.Slice(found, func(i, j int) bool {
		if found[i].SupplierUSCC != found[j].SupplierUSCC {
			return found[i].SupplierUSCC < found[j].SupplierUSCC
		}
		return found[i].ChipKey < found[j].ChipKey
	})
	var registered []voucherwatch.CapacityPeak
	for _, o := range found {
		if ruleRegistrationOf(reg, o.SupplierUSCC) == regRegistered {
			registered = append(registered, o)
		}
	}
	atPeaks, err := tenants(registered)
	if err != nil {
		return nil, fmt.Errorf("detectors: usage_above_capacity tenants: %w", err)
	}
	var fs []finding
	for i, o := range registered {
		peakAt := o.PeakAt
		var tenants []map[string]any
		for _, t := range atPeaks[i] {
			tenants = append(tenants, map[string]any{"buyer_uscc": t.BuyerUSCC, "contract_no": t.ContractNo,
				"cards": uint64(t.Cards), "resources": uint64(t.Resources)})
		}
		ev := map[string]any{
			"supplier_uscc": o.SupplierUSCC, "supplier_name": ruleEntityName(reg, o.SupplierUSCC), "supplier_registry_version": reg[o.SupplierUSCC].Ref,
			"chip_model": o.ChipModel, "registered_cards": int64(o.Capacity), "peak_cards": int64(o.Peak),
			"peak_at": peakAt.Format(time.RFC3339), "tenants_at_peak": tenants,
			"hours_above_capacity": o.Over.Seconds() / 3600,
		}
		fd := finding{Detector: d.Name(), Subjects: voucherwatch.Subjects{SupplierUSCC: o.SupplierUSCC}, PolicyClause: clauseCapacity, Evidence: ev}
		if o.Capacity == 0 {
			fd.Kind, fd.Severity, fd.Score = "metered_chip_not_registered", voucherwatch.SeverityMedium, 0.6
			fd.Title = "供给方计量的算力卡型号不在其登记的算力资源中（《实施细则》五.1 / M1d）"
			fd.Reason = fmt.Sprintf("供给方 %s 在调度平台计量了 %s 卡（同时最多 %d 张，%s），但其登记信息中没有该型号的算力资源；请核查其资质与登记信息是否相符（《实施细则》五.1 / M1d）。",
				ruleEntityName(reg, o.SupplierUSCC), o.ChipModel, o.Peak, peakAt.Format("2006-01-02 15:04"))
		} else {
			firstOver := o.FirstOver
			ev["first_above_capacity"] = firstOver.Format(time.RFC3339)
			fd.Kind, fd.Severity = "metered_above_registered_capacity", voucherwatch.SeverityHigh
			fd.Score = min(1, 0.7+float64(o.Peak-o.Capacity)/float64(2*o.Capacity))
			fd.Title = "供给方计量的同时在用算力卡数超过其登记的算力规模（《实施细则》五.1 / M1d）"
			fd.Reason = fmt.Sprintf("供给方 %s 登记 %s 卡 %d 张，调度平台计量显示 %s 起同时在用超过登记规模，%s 达到 %d 张（%d 个租户），累计超出 %.0f 小时；计量的使用不可能超过实际拥有的算力，登记信息、计量数据或结算的真实性存疑（《实施细则》五.1 / M1d）。",
				ruleEntityName(reg, o.SupplierUSCC), o.ChipModel, o.Capacity, firstOver.Format("2006-01-02 15:04"), peakAt.Format("2006-01-02 15:04"),
				o.Peak, len(tenants), o.Over.Seconds()/3600)
		}
		fs = append(fs, fd)
	}
	return ruleAlerts(fs, cities, at), nil
}
