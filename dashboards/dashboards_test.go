package dashboards

import (
	"context"
	"fmt"
	"io/fs"
	"math"
	"reflect"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
	"github.com/shopspring/decimal"

	"github.com/voucherwatch/voucherwatch"
	"github.com/voucherwatch/voucherwatch/detectors"
	"github.com/voucherwatch/voucherwatch/detectors/detectortest"
	"github.com/voucherwatch/voucherwatch/ingest"
	"github.com/voucherwatch/voucherwatch/rules"
	"github.com/voucherwatch/voucherwatch/store"
	"github.com/voucherwatch/voucherwatch/synth"
)

// provinceRange is the synthetic province's period of trade (synth.DefaultConfig), the time
// range every dashboard query runs over.
var provinceRange = timeRange{
	from:     time.Date(2025, 11, 1, 0, 0, 0, 0, voucherwatch.CST),
	to:       time.Date(2026, 11, 30, 23, 59, 59, 0, voucherwatch.CST),
	interval: 12 * time.Hour, // about what Grafana picks for 13 months on a panel 1,000 pixels wide
}

// unportableSQL lists what ClickHouse 18.16 or current ClickHouse lacks, so that a dashboard
// query that happens to pass on one server is caught before it fails on the other.
var unportableSQL = []*regexp.Regexp{
	regexp.MustCompile(`(?i)\bLowCardinality\b`),
	regexp.MustCompile(`(?i)\bDateTime64\b`),
	regexp.MustCompile(`(?i)\bDate32\b`),
	regexp.MustCompile(`(?i)\bMap\s*\(`),
	regexp.MustCompile(`(?i)\bOVER\s*\(`),                             // window functions
	regexp.MustCompile(`(?i)\bWITH\s+\w+\s+AS\s*\(`),                  // CTE subqueries
	regexp.MustCompile(`(?i)\btoStartOf(Interval|Week)\b`),            // missing on 18.16
	regexp.MustCompile(`(?i)\bJSONExtract\w*`),                        // missing on 18.16
	regexp.MustCompile(`(?i)\bASOF\b`),                                // missing on 18.16
	regexp.MustCompile(`(?i)\bWITH\s+FILL\b`),                         // missing on 18.16
	regexp.MustCompile(`(?i)\bneighbor\s*\(`),                         // missing on 18.16
	regexp.MustCompile(`(?i)\bvoucherwatch\.`),                        // the data source names the database
	regexp.MustCompile(`(?i)^\s*(INSERT|ALTER|DROP|CREATE|OPTIMIZE)`), // dashboards only read
}

// TestDashboardDefinitions checks what needs no server: every dashboard parses, reads the
// provisioned data source, writes its queries in SQL with portable macros and variables, and
// spells the policy's numbers and the engine's names as the code does.
func TestDashboardDefinitions(t *testing.T) {
	ds := loadDashboards(t)
	uids := map[string]string{}
	for _, d := range ds {
		t.Run(d.file, func(t *testing.T) {
			if d.UID == "" || d.Title == "" || !hasHan(d.Title) {
				t.Errorf("uid %q, title %q: want both, the title in Chinese", d.UID, d.Title)
			}
			if other, ok := uids[d.UID]; ok {
				t.Errorf("uid %s also used by %s", d.UID, other)
			}
			uids[d.UID] = d.file
			if d.Timezone != "Asia/Shanghai" {
				t.Errorf("timezone: got %q, want Asia/Shanghai", d.Timezone)
			}
			names := map[string]bool{}
			for _, v := range d.Templating.List {
				if names[v.Name] {
					t.Errorf("variable %s defined twice", v.Name)
				}
				names[v.Name] = true
				sql, err := v.sql()
				if err != nil {
					t.Error(err)
					continue
				}
				switch v.Type {
				case "query":
					if v.Datasource == nil || v.Datasource.UID != datasourceUID {
						t.Errorf("variable %s: data source %+v, want uid %s", v.Name, v.Datasource, datasourceUID)
					}
					// A single-value variable would reach the SQL unquoted; every selectable
					// variable is multi-value with the All value the queries test for.
					if !v.Multi || !v.IncludeAll || v.AllValue != allValue {
						t.Errorf("variable %s: multi %v, includeAll %v, allValue %q; want true, true, %s", v.Name, v.Multi, v.IncludeAll, v.AllValue, allValue)
					}
					if !hasHan(v.Label) {
						t.Errorf("variable %s: label %q, want Chinese", v.Name, v.Label)
					}
					checkPortable(t, "variable "+v.Name, sql)
				case "constant":
				default:
					t.Errorf("variable %s: type %s, want query or constant", v.Name, v.Type)
				}
			}
			ps := d.allPanels()
			if len(ps) == 0 {
				t.Error("no panels")
			}
			titles, ids := map[string]bool{}, map[int]bool{}
			for _, p := range ps {
				if !hasHan(p.Title) {
					t.Errorf("panel %d: title %q, want Chinese", p.ID, p.Title)
				}
				if titles[p.Title] || ids[p.ID] {
					t.Errorf("panel %d %q: title or id used twice", p.ID, p.Title)
				}
				titles[p.Title], ids[p.ID] = true, true
				if p.Datasource == nil || p.Datasource.UID != datasourceUID || p.Datasource.Type != "grafana-clickhouse-datasource" {
					t.Errorf("panel %q: data source %+v, want the provisioned %s", p.Title, p.Datasource, datasourceUID)
				}
				if len(p.Targets) == 0 {
					t.Errorf("panel %q: no queries", p.Title)
				}
				for _, tg := range p.Targets {
					queryType := map[int]string{formatTimeSeries: "timeSeries", formatTable: "table"}
					if tg.EditorType != "sql" || tg.Format == nil || queryType[*tg.Format] == "" || tg.QueryType != queryType[*tg.Format] {
						t.Errorf("panel %q %s: editorType %q, format %v, queryType %q; want sql with format 0 and queryType timeSeries, or 1 and table", p.Title, tg.RefID, tg.EditorType, tg.Format, tg.QueryType)
					}
					if tg.Datasource == nil || tg.Datasource.UID != datasourceUID {
						t.Errorf("panel %q %s: data source %+v, want uid %s", p.Title, tg.RefID, tg.Datasource, datasourceUID)
					}
					checkPortable(t, "panel "+p.Title, tg.RawSQL)
					for _, m := range variableRef.FindAllStringSubmatch(tg.RawSQL, -1) {
						if name := m[1] + m[2] + m[4]; !strings.HasPrefix(name, "__") && !names[name] {
							t.Errorf("panel %q uses $%s, which the dashboard does not define", p.Title, name)
						}
					}
				}
			}
		})
	}
	checkConstants(t, ds)
}

func checkPortable(t *testing.T, what, sql string) {
	t.Helper()
	for _, re := range unportableSQL {
		if m := re.FindString(sql); m != "" {
			t.Errorf("%s: %q does not run on both ClickHouse 18.16 and current ClickHouse (or is not a read)", what, m)
		}
	}
	if _, err := expandMacros(sql, provinceRange); err != nil {
		t.Errorf("%s: %v", what, err)
	}
}

var han = regexp.MustCompile(`\p{Han}`)

func hasHan(s string) bool { return han.MatchString(s) }

// checkConstants compares the dashboards' constants with the code they restate: the policy's
// numbers, the 14 cities, the detectors' and the service types' names.
func checkConstants(t *testing.T, ds []dashboard) {
	pol := rules.Default()
	codes, names := sortedCities()
	want := map[string]string{
		"rate_percent":     fmt.Sprint(pol.SubsidyRatePercent),
		"cap":              strings.TrimSuffix(pol.CapPerEnterprise.String(), ".00"),
		"budget":           strings.TrimSuffix(pol.AnnualBudget.String(), ".00"),
		"window_start":     pol.WindowStart.Format(time.DateOnly),
		"window_end":       pol.WindowEnd.Format(time.DateOnly),
		"subsidisable":     multiValue(pol.SubsidisableServices...),
		"card_month_hours": fmt.Sprint(pol.CardMonthHours),
		"high_factor":      fmt.Sprint(pol.Price.HighFactor),
		"low_factor":       fmt.Sprint(pol.Price.LowFactor),
		"city_codes":       multiValue(codes...),
		"city_names":       multiValue(names...),
	}
	seen := map[string]bool{}
	for _, d := range ds {
		for _, v := range d.Templating.List {
			if v.Type != "constant" {
				continue
			}
			got, _ := v.sql()
			if w, ok := want[v.Name]; ok {
				seen[v.Name] = true
				if got != w {
					t.Errorf("%s: constant %s = %s, want %s (as the code has it)", d.file, v.Name, got, w)
				}
			}
			if v.Name == "detector_ids" {
				seen[v.Name] = true
				ids := strings.Split(strings.Trim(got, "'"), "','")
				for _, det := range detectors.All(detectors.Env{}) {
					if !slices.Contains(ids, det.Name()) {
						t.Errorf("%s: detector %s has no Chinese name in detector_ids/detector_names", d.file, det.Name())
					}
				}
			}
		}
	}
	for name := range want {
		if !seen[name] {
			t.Errorf("no dashboard defines the constant %s", name)
		}
	}
	// Every service type has a Chinese name on the subsidy dashboard.
	for _, d := range ds {
		if d.UID != "vw-subsidy" {
			continue
		}
		all := ""
		for _, p := range d.allPanels() {
			for _, tg := range p.Targets {
				all += tg.RawSQL
			}
		}
		for _, s := range append(slices.Clone(pol.SubsidisableServices), pol.NonSubsidisableServices...) {
			if !strings.Contains(all, "'"+s+"'") {
				t.Errorf("subsidy dashboard: service type %s has no Chinese name", s)
			}
		}
	}
}

func sortedCities() (codes, names []string) {
	for c := range voucherwatch.Cities {
		codes = append(codes, c)
	}
	sort.Strings(codes)
	for _, c := range codes {
		names = append(names, voucherwatch.Cities[c])
	}
	return codes, names
}

// TestDashboardQueries runs every variable query and every panel query, expanded as Grafana
// and the plugin would, against a database holding a synthetic province, a few alerts with
// their workflow events, and dead letters. Each must run; with every variable at All each must
// return something that is not all zeros; with each variable at one value it must still run.
func TestDashboardQueries(t *testing.T) {
	ds := loadDashboards(t)
	db := detectortest.NewDB(t)
	start := time.Now()
	p := synth.Generate(synth.DefaultConfig(synth.DemoSeed)) // the demo's province: the panels must show it
	detectortest.Load(t, db, p.Messages)
	alerts := storeAlerts(t, db)
	storeEvents(t, db, alerts)
	dead := storeDeadLetters(t, db, p)
	t.Logf("loaded %d messages, %d alerts, %d dead letters in %v", len(p.Messages), len(alerts), dead, time.Since(start).Round(time.Millisecond))

	conn := db.Conn()
	queries, panels := 0, 0
	for _, d := range ds {
		t.Run(d.file, func(t *testing.T) {
			all := map[string]string{}  // every variable at All
			some := map[string]string{} // every variable at one value
			for _, v := range d.Templating.List {
				sql, err := v.sql()
				if err != nil {
					t.Fatal(err)
				}
				switch v.Type {
				case "constant":
					all[v.Name], some[v.Name] = sql, sql
				case "query":
					q, err := expand(sql, all, provinceRange)
					if err != nil {
						t.Fatalf("variable %s: %v", v.Name, err)
					}
					res, err := run(conn, q)
					queries++
					if err != nil {
						t.Fatalf("variable %s: %v\n%s", v.Name, err, q)
					}
					if len(res.rows) == 0 {
						t.Fatalf("variable %s: no options\n%s", v.Name, q)
					}
					// metricFindQuery: the first column is the value, the second (if any) the text.
					all[v.Name], some[v.Name] = allValue, multiValue(fmt.Sprint(res.rows[0][0]))
				}
			}
			for _, pn := range d.allPanels() {
				panels++
				for _, tg := range pn.Targets {
					q, err := expand(tg.RawSQL, all, provinceRange)
					if err != nil {
						t.Errorf("panel %q: %v", pn.Title, err)
						continue
					}
					res, err := run(conn, q)
					queries++
					if err != nil {
						t.Errorf("panel %q: %v\n%s", pn.Title, err, q)
						continue
					}
					if pn.Title == stakePanelTitle {
						checkStakePanel(t, res)
					}
					if res.blank() {
						t.Errorf("panel %q: no data with every variable at All (%d rows)\n%s", pn.Title, len(res.rows), q)
					}
					checkShape(t, pn, tg, res)

					q, err = expand(tg.RawSQL, some, provinceRange)
					if err != nil {
						t.Errorf("panel %q: %v", pn.Title, err)
						continue
					}
					if _, err := run(conn, q); err != nil {
						t.Errorf("panel %q with one value per variable: %v\n%s", pn.Title, err, q)
					}
					queries++
				}
			}
		})
	}
	t.Logf("%d dashboards, %d panels, %d queries run in %v", len(ds), panels, queries, time.Since(start).Round(time.Millisecond))

	t.Run("rebuild", func(t *testing.T) { checkRebuild(t, conn) })
}

// stakePanelTitle is the subsidy dashboard's panel of money at stake.
const stakePanelTitle = "涉及补贴与已追回（按市州、检测器、状态）"

// checkStakePanel checks the money-at-stake panel against storeAlerts' and storeEvents'
// fixtures: 1,200 and 800 yuan on one claim capped at its ceiling of 1,500, potential 300 and
// 2,000, and 1,750 recovered.
func checkStakePanel(t *testing.T, res result) {
	t.Helper()
	var stake, recovered float64
	for _, row := range res.rows {
		stake += toFloat(row[4])
		recovered += toFloat(row[5])
	}
	if math.Abs(stake-3_800) > 0.005 || math.Abs(recovered-1_750) > 0.005 {
		t.Errorf("panel %q: got %.2f at stake and %.2f recovered, want 3800.00 and 1750.00", stakePanelTitle, stake, recovered)
	}
}

func toFloat(v any) float64 {
	f, _ := strconv.ParseFloat(fmt.Sprint(v), 64)
	return f
}

// checkRebuild runs the rebuild scripts on the loaded database and checks that they give the
// aggregates the materialized views built during the load: the scripts restate the views'
// SELECTs, and must not drift from them.
func checkRebuild(t *testing.T, conn driver.Conn) {
	for _, c := range []struct {
		table, key string
		sums       []string // summed columns, rounded where they are floats
		script     string   // rebuild/<script>.sql
		truncate   []string // the tables the script refills
	}{
		{"usage_days", "day, supplier_uscc, buyer_uscc, contract_no, chip_model, chip_origin",
			[]string{"round(sum(day_card_hours), 3)", "round(sum(util_card_hours), 3)", "sum(windows)"},
			"usage_daily", []string{"usage_daily", "usage_spans"}},
		{"usage_long_windows", "supplier_uscc, resource_id, run_day, buyer_uscc, contract_no, chip_model, cards, run_span, run_phase, window_start",
			[]string{"round(sum(card_hours), 3)", "round(sum(util_card_hours), 3)", "count()"},
			"usage_long_windows", []string{"usage_long_windows"}},
		{"settlements_daily", "day, supplier_uscc, buyer_uscc, service_type, chip_origin",
			[]string{"toString(sum(item_amount))", "sum(items)"},
			"settlements_daily", []string{"settlements_daily"}},
	} {
		// The view adds up per inserted block and the script at once, so rows are compared
		// per key, as SummingMergeTree will eventually merge them.
		q := fmt.Sprintf("SELECT %s, %s FROM %s GROUP BY %s ORDER BY %s", c.key, strings.Join(c.sums, ", "), c.table, c.key, c.key)
		table := func() []string {
			t.Helper()
			res, err := run(conn, q)
			if err != nil {
				t.Fatalf("%v\n%s", err, q)
			}
			rows := make([]string, len(res.rows))
			for i, r := range res.rows {
				rows[i] = fmt.Sprint(r...)
			}
			return rows
		}
		before := table()
		script, err := fs.ReadFile(Files, "rebuild/"+c.script+".sql")
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		for _, tbl := range c.truncate {
			if err := conn.Exec(ctx, "TRUNCATE TABLE "+tbl); err != nil {
				t.Fatal(err)
			}
		}
		if err := conn.Exec(ctx, string(script)); err != nil {
			t.Fatalf("rebuild/%s.sql: %v", c.script, err)
		}
		cancel()
		after := table()
		if len(after) != len(before) {
			t.Errorf("%s rebuilt by rebuild/%s.sql: got %d keys, the view built %d", c.table, c.script, len(after), len(before))
			continue
		}
		for i := range after {
			if after[i] != before[i] {
				t.Errorf("%s rebuilt by rebuild/%s.sql: got row %s, the view built %s", c.table, c.script, after[i], before[i])
				break
			}
		}
		t.Logf("%s: %d keys rebuilt alike", c.table, len(after))
	}
}

// checkShape checks a result against what its panel needs: a time series starts with a time
// column in ascending order (the plugin converts long to wide only then); a bar chart has its
// x field; a display name taken from a label names a string column.
func checkShape(t *testing.T, p panel, tg target, res result) {
	t.Helper()
	if tg.Format != nil && *tg.Format == formatTimeSeries {
		if len(res.types) == 0 || res.types[0] != reflect.TypeOf(time.Time{}) {
			t.Errorf("panel %q: time series whose first column is %v, want DateTime", p.Title, res.types)
		} else {
			for i := 1; i < len(res.rows); i++ {
				if res.rows[i][0].(time.Time).Before(res.rows[i-1][0].(time.Time)) {
					t.Errorf("panel %q: time series not ordered by time at row %d", p.Title, i)
					break
				}
			}
		}
	}
	if x, ok := p.Options["xField"].(string); ok && !slices.Contains(res.columns, x) {
		t.Errorf("panel %q: xField %q not among the columns %v", p.Title, x, res.columns)
	}
	if m := labelDisplayName.FindStringSubmatch(p.FieldConfig.Defaults.DisplayName); m != nil {
		i := slices.Index(res.columns, m[1])
		if i < 0 || res.types[i].Kind() != reflect.String {
			t.Errorf("panel %q: display name from label %s, want a String column of that name among %v", p.Title, m[1], res.columns)
		}
	}
}

var labelDisplayName = regexp.MustCompile(`^\$\{__field\.labels\.(\w+)\}$`)

type result struct {
	columns []string
	types   []reflect.Type
	rows    [][]any
}

// blank reports whether a result shows nothing: no rows, or only NULLs, zeros, NaNs and empty
// strings (an aggregate over no rows).
func (r result) blank() bool {
	for _, row := range r.rows {
		for _, v := range row {
			if !blankValue(v) {
				return false
			}
		}
	}
	return true
}

func blankValue(v any) bool {
	switch x := v.(type) {
	case nil:
		return true
	case float64:
		return x == 0 || math.IsNaN(x)
	case float32:
		return x == 0 || math.IsNaN(float64(x))
	case decimal.Decimal:
		return x.IsZero()
	}
	rv := reflect.ValueOf(v)
	if rv.Kind() == reflect.Pointer {
		if rv.IsNil() {
			return true
		}
		return blankValue(rv.Elem().Interface())
	}
	return rv.IsZero()
}

func run(conn driver.Conn, sql string) (result, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	rows, err := conn.Query(ctx, sql)
	if err != nil {
		return result{}, err
	}
	defer rows.Close()
	var res result
	for _, ct := range rows.ColumnTypes() {
		res.columns = append(res.columns, ct.Name())
		res.types = append(res.types, ct.ScanType())
	}
	for rows.Next() {
		dest := make([]any, len(res.types))
		for i, typ := range res.types {
			dest[i] = reflect.New(typ).Interface()
		}
		if err := rows.Scan(dest...); err != nil {
			return res, err
		}
		row := make([]any, len(dest))
		for i, d := range dest {
			row[i] = reflect.ValueOf(d).Elem().Interface()
		}
		res.rows = append(res.rows, row)
	}
	return res, rows.Err()
}

// storeAlerts stores one alert of each of several detectors and severities about enterprises
// of the province, as a detector run would.
func storeAlerts(t *testing.T, db *store.DB) []voucherwatch.Alert {
	t.Helper()
	ctx := context.Background()
	rows, err := db.Conn().Query(ctx, `SELECT applicant_uscc, any(city), any(contract_no[1]) FROM claims
		GROUP BY applicant_uscc ORDER BY applicant_uscc LIMIT 6`)
	if err != nil {
		t.Fatal(err)
	}
	type claimant struct{ uscc, city, contract string }
	var cs []claimant
	for rows.Next() {
		var c claimant
		if err := rows.Scan(&c.uscc, &c.city, &c.contract); err != nil {
			t.Fatal(err)
		}
		cs = append(cs, c)
	}
	rows.Close()
	if len(cs) < 6 {
		t.Fatalf("got %d claimants, want 6", len(cs))
	}
	var supplier string
	if err := db.Conn().QueryRow(ctx, "SELECT uscc FROM registry_latest WHERE is_supplier = 1 ORDER BY uscc LIMIT 1").Scan(&supplier); err != nil {
		t.Fatal(err)
	}
	fixtures := []struct {
		detector, kind string
		severity       voucherwatch.Severity
	}{
		{voucherwatch.DetectorDuplicateClaim, "invoice_in_two_claims", voucherwatch.SeverityHigh},
		{voucherwatch.DetectorPrice, "price_above_band", voucherwatch.SeverityMedium},
		{voucherwatch.DetectorRelatedParty, "integrated_ownership", voucherwatch.SeverityHigh},
		{voucherwatch.DetectorResale, "resold_compute", voucherwatch.SeverityMedium},
		{"late_filing", "filed_late", voucherwatch.SeverityLow},
		{"requested_over_limit", "over_cap", voucherwatch.SeverityLow},
	}
	var alerts []voucherwatch.Alert
	for i, f := range fixtures {
		c := cs[i]
		s := voucherwatch.Subjects{ApplicantUSCC: c.uscc, SupplierUSCC: supplier, ContractNo: c.contract}
		alerts = append(alerts, voucherwatch.Alert{
			ID: voucherwatch.AlertID(f.detector, s), Detector: f.detector, Kind: f.kind, Severity: f.severity,
			Score: 0.9, Subjects: s, City: c.city, PolicyClause: "五.1",
			Title: "测试预警：" + f.kind, Reason: "看板测试的预警", Evidence: voucherwatch.EvidenceOf(map[string]any{"fixture": i}),
		})
	}
	// Money at stake for the panel of it: two alerts on one claim whose shares add up above the
	// claim's ceiling (capped there), one potential, one that is recovered (storeEvents).
	onClaim := func(i int, fen voucherwatch.Money) {
		alerts[i].AtStake = fen
		alerts[i].StakeClaims = []voucherwatch.ClaimStake{{ClaimID: "CL-DASHBOARDS", AtStake: fen, Ceiling: 1_500_00}}
	}
	onClaim(0, 1_200_00)
	onClaim(2, 800_00)
	alerts[3].AtStake, alerts[3].AtStakePotential = 300_00, true
	alerts[4].AtStake, alerts[4].AtStakePotential = 2_000_00, true
	created := time.Date(2026, 6, 1, 10, 0, 0, 0, voucherwatch.CST)
	if _, err := db.UpsertAlerts(ctx, alerts, created); err != nil {
		t.Fatal(err)
	}
	// A complaint about the first claimant, for the complaints panel.
	c := voucherwatch.Complaint{ID: "cp_dashboards", Receipt: "TS20260601-DASHBRDS", USCC: cs[0].uscc, City: cs[0].city,
		Category: voucherwatch.ComplaintResale, Text: "看板测试的投诉", Channel: voucherwatch.ChannelPhone, CreatedAt: created}
	if err := db.AddComplaint(ctx, voucherwatch.ComplaintRecord{Complaint: c}, voucherwatch.ComplaintAlert(c, "投诉举报：转租转售", "看板测试的投诉")); err != nil {
		t.Fatal(err)
	}
	return alerts
}

// storeEvents moves the alerts through the workflow, through the store's event log: one under
// review, one waiting for an explanation that is overdue, one waiting within its deadline, one
// dismissed; the rest stay new. Deadlines are relative to today, which the overdue panels
// compare with.
func storeEvents(t *testing.T, db *store.DB, alerts []voucherwatch.Alert) {
	t.Helper()
	today := voucherwatch.Day(time.Now())
	var events []voucherwatch.Event
	add := func(a voucherwatch.Alert, daysAgo int, from, to voucherwatch.Status, deadline time.Time) {
		events = append(events, voucherwatch.Event{
			AlertID: a.ID, At: today.AddDate(0, 0, -daysAgo).Add(10 * time.Hour), Kind: voucherwatch.EventTransition,
			ActorID: "reviewer-1", ActorName: "张审核", ActorRole: voucherwatch.RoleProvinceReviewer,
			From: from, To: to, Comment: "看板测试", Deadline: deadline,
		})
	}
	overdue, pending := today.AddDate(0, 0, -10), today.AddDate(0, 0, 10)
	add(alerts[0], 40, voucherwatch.StatusNew, voucherwatch.StatusReviewing, time.Time{})
	add(alerts[1], 40, voucherwatch.StatusNew, voucherwatch.StatusReviewing, time.Time{})
	add(alerts[1], 25, voucherwatch.StatusReviewing, voucherwatch.StatusExplanationRequested, overdue)
	add(alerts[2], 30, voucherwatch.StatusNew, voucherwatch.StatusReviewing, time.Time{})
	add(alerts[2], 5, voucherwatch.StatusReviewing, voucherwatch.StatusExplanationRequested, pending)
	add(alerts[3], 30, voucherwatch.StatusNew, voucherwatch.StatusReviewing, time.Time{})
	add(alerts[3], 20, voucherwatch.StatusReviewing, voucherwatch.StatusDismissed, time.Time{})
	add(alerts[4], 30, voucherwatch.StatusNew, voucherwatch.StatusReviewing, time.Time{})
	add(alerts[4], 29, voucherwatch.StatusReviewing, voucherwatch.StatusConfirmed, time.Time{})
	add(alerts[4], 28, voucherwatch.StatusConfirmed, voucherwatch.StatusRecoveryOrdered, time.Time{})
	events[len(events)-1].Amount = 1_750_00
	add(alerts[4], 20, voucherwatch.StatusRecoveryOrdered, voucherwatch.StatusRecovered, time.Time{})
	res, err := db.AppendEvents(context.Background(), events)
	if err != nil {
		t.Fatal(err)
	}
	for i, r := range res {
		if r.Err != nil {
			t.Fatalf("event %d: %v", i, r.Err)
		}
	}
}

// storeDeadLetters rejects malformed messages as ingest does (the decoder's reason, the
// sender sniffed from the bytes) and stores them: synth's bad usage messages, and a contract
// cut short. They are spread over the province's period.
func storeDeadLetters(t *testing.T, db *store.DB, p *synth.Province) int {
	t.Helper()
	dec := &ingest.Decoder{PIIKey: []byte(detectortest.PIIKey)}
	typeOf := map[string]voucherwatch.RecordType{}
	for typ, topic := range voucherwatch.DefaultTopics {
		typeOf[topic] = typ
	}
	var msgs []synth.Message
	for _, m := range synth.BadUsage(3) {
		if m.Kind != "" {
			msgs = append(msgs, m.Message)
		}
	}
	contracts := p.Topic(synth.TopicContracts)
	if len(contracts) == 0 {
		t.Fatal("no contracts in the province")
	}
	c := contracts[0]
	msgs = append(msgs, synth.Message{Topic: c.Topic, Key: c.Key, Value: c.Value[:len(c.Value)/2]})

	var dls []voucherwatch.DeadLetter
	for i, m := range msgs {
		_, err := dec.Decode(typeOf[m.Topic], m.Value)
		if err == nil {
			t.Fatalf("bad message %d on %s was accepted", i, m.Topic)
		}
		source, id, supplier := ingest.Sniff(m.Value)
		dls = append(dls, voucherwatch.DeadLetter{
			Origin: voucherwatch.Origin{Topic: m.Topic, Partition: i % 3, Offset: int64(1000 + i)},
			Key:    m.Key, Value: m.Value, Source: source, ID: id, Supplier: supplier, Reason: err.Error(),
			At: provinceRange.from.Add(time.Duration(i) * 11 * 24 * time.Hour),
		})
	}
	if err := db.StoreDeadLetters(context.Background(), dls); err != nil {
		t.Fatal(err)
	}
	return len(dls)
}

// TestProvisioning checks the provisioning files for what the dashboards rely on: the data
// source's uid and protocol, and a provider for json/.
func TestProvisioning(t *testing.T) {
	read := func(name string) string {
		b, err := fs.ReadFile(Files, name)
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	f := func(file, s string, wants ...string) {
		t.Helper()
		for _, w := range wants {
			if !regexp.MustCompile(`(?m)^\s*` + w + `\s*$`).MatchString(s) {
				t.Errorf("%s: no line matching %q", file, w)
			}
		}
	}
	f("datasources/clickhouse.yaml", read("provisioning/datasources/clickhouse.yaml"),
		`apiVersion: 1`, `(- )?uid: `+datasourceUID, `type: grafana-clickhouse-datasource`,
		`protocol: native`, `port: 9000`, `defaultDatabase: voucherwatch`)
	f("dashboards/voucherwatch.yaml", read("provisioning/dashboards/voucherwatch.yaml"),
		`apiVersion: 1`, `type: file`, `path: /\S+`)
}
