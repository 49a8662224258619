package dashboards

import (
	"encoding/json"
	"fmt"
	"io/fs"
	"math"
	"path"
	"regexp"
	"strings"
	"testing"
	"time"
)

// This file reads the dashboards and expands their SQL as Grafana and the ClickHouse plugin
// (grafana-clickhouse-datasource) do before a query reaches the server: first the front end
// substitutes template variables (Grafana's template service, with the plugin's format for
// multi-value variables), then the plugin's back end expands its macros (pkg/macros in the
// plugin, matched by grafana/sqlds).

// datasourceUID is the uid of the provisioned ClickHouse data source every panel names.
const datasourceUID = "voucherwatch-clickhouse"

// allValue is what every selectable variable sends for "All". Grafana inserts a custom all
// value as it is, without the data source's formatting, so the quotes are part of it, and the
// queries test for it: ('__all__' IN (${city}) OR city IN (${city})).
const allValue = "'__all__'"

type datasourceRef struct {
	Type string `json:"type"`
	UID  string `json:"uid"`
}

type dashboard struct {
	file        string
	UID         string `json:"uid"`
	Title       string `json:"title"`
	Timezone    string `json:"timezone"`
	Description string `json:"description"`
	Templating  struct {
		List []variable `json:"list"`
	} `json:"templating"`
	Panels []panel `json:"panels"`
}

type variable struct {
	Name       string         `json:"name"`
	Type       string         `json:"type"`
	Label      string         `json:"label"`
	Query      any            `json:"query"` // a string for query and constant variables
	Datasource *datasourceRef `json:"datasource"`
	Multi      bool           `json:"multi"`
	IncludeAll bool           `json:"includeAll"`
	AllValue   string         `json:"allValue"`
	Refresh    int            `json:"refresh"`
}

// sql returns the variable's query (or a constant's value) as the dashboard stores it.
func (v variable) sql() (string, error) {
	s, ok := v.Query.(string)
	if !ok {
		return "", fmt.Errorf("variable %s: query is %T, want a string (the form every plugin version reads)", v.Name, v.Query)
	}
	return s, nil
}

type panel struct {
	ID          int            `json:"id"`
	Type        string         `json:"type"`
	Title       string         `json:"title"`
	Datasource  *datasourceRef `json:"datasource"`
	Targets     []target       `json:"targets"`
	Panels      []panel        `json:"panels"` // a row's panels
	Options     map[string]any `json:"options"`
	FieldConfig struct {
		Defaults struct {
			DisplayName string `json:"displayName"`
		} `json:"defaults"`
	} `json:"fieldConfig"`
}

type target struct {
	RefID      string         `json:"refId"`
	RawSQL     string         `json:"rawSql"`
	EditorType string         `json:"editorType"`
	Format     *int           `json:"format"`
	QueryType  string         `json:"queryType"`
	Datasource *datasourceRef `json:"datasource"`
}

// Plugin query formats (sqlutil.FormatQueryOption): a time series is converted from long to
// wide by the plugin, a table is shown as it comes.
const (
	formatTimeSeries = 0
	formatTable      = 1
)

// loadDashboards reads every dashboard in json/.
func loadDashboards(t *testing.T) []dashboard {
	t.Helper()
	names, err := fs.Glob(Files, "json/*.json")
	if err != nil {
		t.Fatal(err)
	}
	if len(names) == 0 {
		t.Fatal("no dashboards in json/")
	}
	var out []dashboard
	for _, name := range names {
		b, err := fs.ReadFile(Files, name)
		if err != nil {
			t.Fatal(err)
		}
		var d dashboard
		dec := json.NewDecoder(strings.NewReader(string(b)))
		if err := dec.Decode(&d); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		d.file = path.Base(name)
		out = append(out, d)
	}
	return out
}

// allPanels flattens rows.
func (d dashboard) allPanels() []panel {
	var out []panel
	var walk func([]panel)
	walk = func(ps []panel) {
		for _, p := range ps {
			if p.Type == "row" {
				walk(p.Panels)
				continue
			}
			out = append(out, p)
		}
	}
	walk(d.Panels)
	return out
}

// timeRange is what Grafana sends with a query: the picker's range and the interval it chose
// for the panel's width.
type timeRange struct {
	from, to time.Time
	interval time.Duration
}

// variableRef matches Grafana's variable syntaxes: $name, [[name]] and ${name} with an
// optional field path or format. A name that is no variable (such as __timeFilter) is left
// for the plugin's macros.
var variableRef = regexp.MustCompile(`\$(\w+)|\[\[(\w+?)(?::(\w+))?\]\]|\$\{(\w+)(?:\.([^:^}]+))?(?::([^}]+))?\}`)

// interpolate substitutes template variables as Grafana's template service does with the
// plugin's format function: values maps a variable to the text it becomes, already formatted
// (a constant as it is, a multi-value selection as 'a','b', All as the custom all value).
// A format or field path in the reference is an error: the dashboards use none, and their
// rules differ between Grafana versions.
func interpolate(sql string, values map[string]string) (string, error) {
	var err error
	out := variableRef.ReplaceAllStringFunc(sql, func(m string) string {
		sub := variableRef.FindStringSubmatch(m)
		name := sub[1] + sub[2] + sub[4]
		v, ok := values[name]
		if !ok {
			return m
		}
		if sub[3] != "" || sub[5] != "" || sub[6] != "" {
			err = fmt.Errorf("variable reference %s: formats and field paths are not used here", m)
		}
		return v
	})
	return out, err
}

// allowedMacros are the plugin macros whose expansion runs on ClickHouse 18.16 and current
// ClickHouse. $__timeInterval expands to toStartOfInterval, which 18.16 lacks; the _ms macros
// expand to DateTime64 functions, which 18.16 lacks too.
var allowedMacros = map[string]bool{"timeFilter": true, "dateFilter": true, "fromTime": true, "toTime": true, "interval_s": true}

var (
	macroName  = regexp.MustCompile(`^\$__(\w+)`)
	macroArgOK = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_.]*$`)
)

// expandMacros expands the plugin's macros as its back end does (pkg/macros/macros.go):
//
//	$__timeFilter(c)  c >= toDateTime(<from unix>) AND c <= toDateTime(<to unix>)
//	$__dateFilter(c)  c >= toDate('<from date>') AND c <= toDate('<to date>')
//	$__fromTime       toDateTime(<from unix>)
//	$__toTime         toDateTime(<to unix>)
//	$__interval_s     the panel's interval in whole seconds, at least 1
//
// Dates are formatted from the range as the plugin receives it, in UTC. The plugin finds a
// macro's arguments with a non-greedy match up to the first ")", so an argument must be a
// plain column name: anything with parentheses or commas is an error here.
func expandMacros(sql string, r timeRange) (string, error) {
	var b strings.Builder
	for {
		i := strings.Index(sql, "$__")
		if i < 0 {
			b.WriteString(sql)
			return b.String(), nil
		}
		b.WriteString(sql[:i])
		sql = sql[i:]
		m := macroName.FindStringSubmatch(sql)
		if m == nil {
			return "", fmt.Errorf("malformed macro at %.20q", sql)
		}
		name := m[1]
		if !allowedMacros[name] {
			return "", fmt.Errorf("macro $__%s: not one whose expansion runs on ClickHouse 18.16 and current ClickHouse", name)
		}
		sql = sql[len(m[0]):]
		var args []string
		if strings.HasPrefix(sql, "(") {
			end := strings.IndexByte(sql, ')')
			if end < 0 {
				return "", fmt.Errorf("macro $__%s: unclosed argument list", name)
			}
			for _, a := range strings.Split(sql[1:end], ",") {
				args = append(args, strings.TrimSpace(a))
			}
			sql = sql[end+1:]
		}
		from, to := r.from.UTC(), r.to.UTC()
		column := func() (string, error) {
			if len(args) != 1 || !macroArgOK.MatchString(args[0]) {
				return "", fmt.Errorf("macro $__%s(%s): want one plain column name", name, strings.Join(args, ","))
			}
			return args[0], nil
		}
		switch name {
		case "timeFilter":
			c, err := column()
			if err != nil {
				return "", err
			}
			fmt.Fprintf(&b, "%s >= toDateTime(%d) AND %s <= toDateTime(%d)", c, from.Unix(), c, to.Unix())
		case "dateFilter":
			c, err := column()
			if err != nil {
				return "", err
			}
			fmt.Fprintf(&b, "%s >= toDate('%s') AND %s <= toDate('%s')", c, from.Format(time.DateOnly), c, to.Format(time.DateOnly))
		default:
			if len(args) > 1 || len(args) == 1 && args[0] != "" {
				return "", fmt.Errorf("macro $__%s takes no arguments", name)
			}
			switch name {
			case "fromTime":
				fmt.Fprintf(&b, "toDateTime(%d)", from.Unix())
			case "toTime":
				fmt.Fprintf(&b, "toDateTime(%d)", to.Unix())
			case "interval_s":
				fmt.Fprintf(&b, "%d", int(math.Max(r.interval.Seconds(), 1)))
			}
		}
	}
}

// expand turns a dashboard query into what the server receives.
func expand(sql string, values map[string]string, r timeRange) (string, error) {
	s, err := interpolate(sql, values)
	if err != nil {
		return "", err
	}
	s, err = expandMacros(s, r)
	if err != nil {
		return "", err
	}
	if strings.Contains(s, "${") || strings.Contains(s, "[[") {
		return "", fmt.Errorf("unresolved variable left in %q", s)
	}
	return s, nil
}

// multiValue formats selected values as the plugin does for a multi-value variable: each
// quoted, joined by commas. (It escapes nothing: the values come from the variable's query.)
func multiValue(vs ...string) string {
	return "'" + strings.Join(vs, "','") + "'"
}

func TestExpand(t *testing.T) {
	r := timeRange{
		from:     time.Date(2025, 11, 1, 0, 0, 0, 0, time.FixedZone("CST", 8*3600)),
		to:       time.Date(2025, 11, 30, 23, 59, 59, 0, time.FixedZone("CST", 8*3600)),
		interval: 90 * time.Minute,
	}
	values := map[string]string{"city": allValue, "chip": multiValue("H100", "A800"), "rate": "30"}
	f := func(sql, want string) {
		t.Helper()
		got, err := expand(sql, values, r)
		if err != nil {
			t.Errorf("expand(%q): %v", sql, err)
		} else if got != want {
			t.Errorf("expand(%q):\ngot  %s\nwant %s", sql, got, want)
		}
	}
	f("WHERE $__timeFilter(at)", "WHERE at >= toDateTime(1761926400) AND at <= toDateTime(1764518399)")
	f("WHERE $__dateFilter(day)", "WHERE day >= toDate('2025-10-31') AND day <= toDate('2025-11-30')")
	f("toDate($__fromTime, 'Asia/Shanghai'), $__toTime", "toDate(toDateTime(1761926400), 'Asia/Shanghai'), toDateTime(1764518399)")
	f("intDiv(x, $__interval_s)", "intDiv(x, 5400)")
	f("('__all__' IN (${city}) OR city IN (${city}))", "('__all__' IN ('__all__') OR city IN ('__all__'))")
	f("chip_model IN ($chip) AND r = [[rate]]", "chip_model IN ('H100','A800') AND r = 30")
	f("'$unknown'", "'$unknown'")

	bad := func(sql string) {
		t.Helper()
		if got, err := expand(sql, values, r); err == nil {
			t.Errorf("expand(%q) = %q, want an error", sql, got)
		}
	}
	bad("toStartOfInterval(t, INTERVAL 1 day) = $__timeInterval(t)")
	bad("$__timeFilter_ms(t)")
	bad("$__timeFilter(toDateTime(t))")
	bad("$__dateFilter(a, b)")
	bad("${chip:csv}")
}
