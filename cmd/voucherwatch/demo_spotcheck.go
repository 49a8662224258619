package main

import (
	"context"
	"fmt"
	"github.com/voucherwatch/voucherwatch/supervision/workflow"
	"sort"

	"github.com/voucherwatch/voucherwatch"
)

// demoInspectorNames name the demo's inspector pool: two per 市州, so that every enterprise
// can be given two inspectors from other cities.
var demoInspectorNames = []string{
	"周建华", "吴晓燕", "郑国强", "王丽娟", "冯志刚", "陈秀英", "褚伟东", "卫红梅", "蒋文斌", "沈雅琴",
	"韩立新", "杨晓峰", "朱海燕", "秦建军", "尤美玲", "许振华", "何春生", "吕淑华", "施国庆", "张玉兰",
	"孔德明", "曹丽萍", "严志勇", "华素芬", "金永平", "魏桂香", "陶建新", "姜晓红",
}

// ensureDemoSpotCheck registers the demo's inspector pool when the pool is empty and draws a
// spot check on demand, as the demo administrator, unless the demo drew one already: the
// 抽查 page then has a list to show. The seed is the province's, so a re-run over the same
// province would draw the same list.
func ensureDemoSpotCheck(ctx context.Context, m *Main, users []demoUser, seed uint64) (voucherwatch.SpotCheck, bool, error) {
	var admin voucherwatch.User
	for _, u := range users {
		if u.Role == voucherwatch.RoleProvinceAdmin {
			admin = u.User
		}
	}
	if admin.ID == "" {
		return voucherwatch.SpotCheck{}, false, fmt.Errorf("demo: no administrator to draw the spot check")
	}
	deps := m.SpotCheckDeps
	pool, err := deps.Store.Inspectors(ctx)
	if err != nil {
		return voucherwatch.SpotCheck{}, false, err
	}
	if len(pool) == 0 {
		codes := make([]string, 0, len(voucherwatch.Cities))
		for code := range voucherwatch.Cities {
			codes = append(codes, code)
		}
		sort.Strings(codes)
		for i, name := range demoInspectorNames {
			q := workflow.InspectorRequest{Name: name + "（演示）", City: codes[i%len(codes)]}
			if _, err := deps.CreateInspector(ctx, admin, q); err != nil {
				return voucherwatch.SpotCheck{}, false, fmt.Errorf("demo: register inspector: %w", err)
			}
		}
	}
	draws, err := deps.Store.SpotChecks(ctx)
	if err != nil {
		return voucherwatch.SpotCheck{}, false, err
	}
	for _, sc := range draws {
		if sc.CreatedBy == admin.ID && sc.Trigger == voucherwatch.SpotCheckOnDemand {
			return sc, false, nil
		}
	}
	sc, err := deps.Draw(ctx, admin, workflow.DrawRequest{Seed: &seed})
	if err != nil {
		return sc, false, fmt.Errorf("demo: draw a spot check: %w", err)
	}
	return sc, true, nil
}
