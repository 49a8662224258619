package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/voucherwatch/voucherwatch/store/storetest"
)

// The documentation is checked against the code where it states what the code holds: the
// flags (docs/config.md), the routes (docs/api.md, docs/ui.md), the detectors
// (docs/detectors.md); on every page, the flags, routes and tests it names and its links; and
// the README's size, index and layout. The metrics (docs/metrics.md) are checked in
// dashboards/, the contract's examples (docs/contract.md) in ingest/. A failure says which
// flag, route or detector is missing from which file, so that whoever adds one knows the line
// to write.

// repoRoot is the module's root, from this package's directory.
const repoRoot = "../.."

func readDoc(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(repoRoot, name))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// commandFlag is one flag as a command's -h lists it.
type commandFlag struct {
	Name, Default string // Default is "" when -h shows none (the zero value)
}

// usageCommands lists the commands of the usage text ("serve", "bench", ...; a nested one as
// "bench scale"), so that a command added there is checked without changing this test.
func usageCommands(t *testing.T) []string {
	t.Helper()
	_, list, ok := strings.Cut(usage, "commands:\n")
	if !ok {
		t.Fatal("the usage text has no commands: section")
	}
	var out []string
	for _, line := range strings.Split(list, "\n") {
		if !strings.HasPrefix(line, "  ") {
			break
		}
		name, _, _ := strings.Cut(strings.TrimSpace(line), "  ")
		out = append(out, name)
	}
	if len(out) < 5 {
		t.Fatalf("found commands %q in the usage text, want serve, migrate, broker, bench, demo and more", out)
	}
	return out
}

// helpFlags runs "voucherwatch <command> -h" in process and reads the flags from what the flag
// package prints: "  -name type" then the usage, ending with "(default X)" unless the default
// is the zero value.
func helpFlags(t *testing.T, command string) []commandFlag {
	t.Helper()
	f, err := os.CreateTemp(t.TempDir(), "help")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	stdout, stderr := os.Stdout, os.Stderr
	os.Stdout, os.Stderr = f, f
	err = run(context.Background(), append(strings.Fields(command), "-h"))
	os.Stdout, os.Stderr = stdout, stderr
	if !errors.Is(err, flag.ErrHelp) {
		t.Fatalf("voucherwatch %s -h: got %v, want flag.ErrHelp", command, err)
	}
	b, err := os.ReadFile(f.Name())
	if err != nil {
		t.Fatal(err)
	}
	start := regexp.MustCompile(`^  -(\S+)`)
	def := regexp.MustCompile(`\(default (.*)\)$`)
	var out []commandFlag
	for _, line := range strings.Split(string(b), "\n") {
		if m := start.FindStringSubmatch(line); m != nil {
			out = append(out, commandFlag{Name: m[1]})
			if rest := strings.TrimPrefix(line, "  -"+m[1]); strings.HasPrefix(rest, "\t") {
				line = rest // a one-letter bool flag has its usage on the same line
			} else {
				continue
			}
		}
		if len(out) > 0 && (strings.HasPrefix(line, "\t") || strings.HasPrefix(line, "    \t")) {
			if m := def.FindStringSubmatch(line); m != nil {
				v := m[1]
				if u, err := strconv.Unquote(v); err == nil {
					v = u
				}
				out[len(out)-1].Default = v
			}
		}
	}
	if len(out) == 0 {
		t.Fatalf("voucherwatch %s -h lists no flags:\n%s", command, b)
	}
	return out
}

// docSections splits a Markdown page at its "## " headings: heading → body.
func docSections(doc string) map[string]string {
	out := map[string]string{}
	heading := ""
	for _, part := range strings.SplitAfter(doc, "\n") {
		if h, ok := strings.CutPrefix(part, "## "); ok {
			heading = strings.TrimSpace(h)
			continue
		}
		out[heading] += part
	}
	return out
}

// flagRow is a table row of docs/config.md: the flags its first cell names, its default cell.
type flagRow struct {
	Flags   []string
	Default string
}

func flagRows(section string) []flagRow {
	cell := regexp.MustCompile("`--([a-z0-9-]+)`")
	var out []flagRow
	for _, line := range strings.Split(section, "\n") {
		cells := strings.Split(line, "|")
		if len(cells) < 4 || !strings.HasPrefix(line, "| `--") {
			continue
		}
		var names []string
		for _, m := range cell.FindAllStringSubmatch(cells[1], -1) {
			names = append(names, m[1])
		}
		out = append(out, flagRow{Flags: names, Default: strings.TrimSpace(cells[2])})
	}
	return out
}

// TestConfigDocumented checks docs/config.md against every command's flags: each flag has a
// table row in a section whose heading names the command in backquotes (## Engine flags
// (`serve`, ...)), each flag a row names is one of the command's, a row of one flag gives the
// default -h shows (`value`, or "empty"/`0`/`false` for a zero one), and each command has a row
// in the Commands table.
func TestConfigDocumented(t *testing.T) {
	const page = "docs/config.md"
	doc := readDoc(t, page)
	sections := docSections(doc)
	// The commands share most flags: each problem is reported once, with the commands it hits.
	var problems []string
	hit := map[string][]string{}
	report := func(command, problem string) {
		if hit[problem] == nil {
			problems = append(problems, problem)
		}
		hit[problem] = append(hit[problem], command)
	}
	for _, command := range usageCommands(t) {
		if !strings.Contains(doc, "| `voucherwatch "+command+"` |") {
			t.Errorf("%s: command %q has no row | `voucherwatch %s` | ... | in the Commands table", page, command, command)
		}
		flags := helpFlags(t, command)
		byName := map[string]commandFlag{}
		for _, f := range flags {
			byName[f.Name] = f
		}
		var rows []flagRow
		for heading, body := range sections {
			if strings.Contains(heading, "`"+command+"`") {
				rows = append(rows, flagRows(body)...)
			}
		}
		documented := map[string]bool{}
		for _, row := range rows {
			for _, name := range row.Flags {
				documented[name] = true
				f, ok := byName[name]
				if !ok {
					report(command, fmt.Sprintf("--%s is documented in a section for %%s, which has no such flag: remove it there", name))
					continue
				}
				if len(row.Flags) != 1 {
					continue
				}
				want := "`" + f.Default + "`"
				zero := f.Default == "" && (strings.HasPrefix(row.Default, "empty") || row.Default == "`0`" || row.Default == "`false`" || row.Default == "`0s`")
				if row.Default != want && !zero {
					report(command, fmt.Sprintf("--%s (%%s): default %s, but the binary's is %q: write %s (\"empty\" for an empty one)", name, row.Default, f.Default, want))
				}
			}
		}
		for _, f := range flags {
			if !documented[f.Name] {
				report(command, fmt.Sprintf("flag --%s of %%s is not documented: add a row | `--%s` | default | meaning | to a section whose heading names each of these commands in backquotes", f.Name, f.Name))
			}
		}
	}
	for _, p := range problems {
		t.Errorf("%s: "+p, page, "voucherwatch "+strings.Join(hit[p], ", "))
	}
}

// TestDocsNameRealFlags checks every `--flag` the pages name, in a table or in the prose, is a
// flag of some command (`--topic-` stands for the flags it begins).
func TestDocsNameRealFlags(t *testing.T) {
	var all []string
	for _, command := range usageCommands(t) {
		for _, f := range helpFlags(t, command) {
			all = append(all, f.Name)
		}
	}
	mention := regexp.MustCompile("`--([a-z][a-z0-9-]*)")
	for _, page := range markdownPages(t) {
		for _, m := range mention.FindAllStringSubmatch(readDoc(t, page), -1) {
			name := m[1]
			ok := slices.Contains(all, name)
			if prefix, isPrefix := strings.CutSuffix(name, "-"); isPrefix {
				ok = slices.ContainsFunc(all, func(f string) bool { return strings.HasPrefix(f, prefix+"-") })
			}
			if !ok {
				t.Errorf("%s names --%s, which no command has (voucherwatch <command> -h lists them)", page, name)
			}
		}
	}
}

// TestDocsNameRealTests checks every test a page cites as proof (`TestName`) is a test of the
// module, so that a renamed or deleted test does not leave a page pointing at nothing.
func TestDocsNameRealTests(t *testing.T) {
	var src strings.Builder
	err := filepath.WalkDir(repoRoot, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && path != repoRoot && strings.HasPrefix(d.Name(), ".") {
			return filepath.SkipDir
		}
		if strings.HasSuffix(path, "_test.go") {
			b, err := os.ReadFile(path)
			src.Write(b)
			return err
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	tests := src.String()
	mention := regexp.MustCompile("`(Test[A-Z][A-Za-z0-9_]*)`")
	cited := 0
	for _, page := range markdownPages(t) {
		for _, m := range mention.FindAllStringSubmatch(readDoc(t, page), -1) {
			cited++
			if !strings.Contains(tests, "func "+m[1]+"(t *testing.T)") {
				t.Errorf("%s cites %s, which is no test of the module: rename or remove the citation", page, m[1])
			}
		}
	}
	if cited < 10 {
		t.Errorf("the pages cite %d tests, want the 10 or more they do", cited)
	}
}

// isAPIRoute tells the routes documented in docs/api.md: the API and the machine endpoints
// outside /api/; every other route is a page of docs/ui.md.
func isAPIRoute(path string) bool {
	return strings.HasPrefix(path, "/api/") || path == "/metrics" || path == "/healthz"
}

// registeredRoute is a pattern the source registers on a ServeMux, with where.
type registeredRoute struct {
	Pattern, Where string
}

// sourceRoutes reads every pattern registered with Handle or HandleFunc in the module's
// non-test Go files. Method-less prefix patterns ("/", "/api/") are catch-alls answering 404,
// not routes.
func sourceRoutes(t *testing.T) []registeredRoute {
	t.Helper()
	handle := regexp.MustCompile(`\.Handle(?:Func)?\(\s*"([^"]+)"`)
	var out []registeredRoute
	err := filepath.WalkDir(repoRoot, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if name := d.Name(); path != repoRoot && (strings.HasPrefix(name, ".") || name == "bin" || name == "var" || name == "testdata") {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		src, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		for _, m := range handle.FindAllStringSubmatchIndex(string(src), -1) {
			pattern := string(src[m[2]:m[3]])
			if !strings.Contains(pattern, " ") && strings.HasSuffix(pattern, "/") {
				continue
			}
			rel, _ := filepath.Rel(repoRoot, path)
			line := 1 + strings.Count(string(src[:m[0]]), "\n")
			out = append(out, registeredRoute{Pattern: pattern, Where: rel + ":" + strconv.Itoa(line)})
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// docRoutes reads the routes a page's table rows name: | `METHOD /path` | ... |.
func docRoutes(doc string) []string {
	row := regexp.MustCompile("(?m)^\\| `((?:GET|HEAD|POST|PUT|PATCH|DELETE) /[^`]*)` \\|")
	var out []string
	for _, m := range row.FindAllStringSubmatch(doc, -1) {
		out = append(out, m[1])
	}
	return out
}

// TestAPIDocumented checks docs/api.md and docs/ui.md against the routes: every route the
// source registers has a row in one of them (an /api/ route, /metrics or /healthz in
// docs/api.md), and every route any page names (`GET /path`, in a row or the prose) is one the
// running engine routes to that very pattern (the ServeMux records the pattern it matched on
// the request).
func TestAPIDocumented(t *testing.T) {
	pages := map[string][]string{}
	for _, page := range []string{"docs/api.md", "docs/ui.md"} {
		pages[page] = docRoutes(readDoc(t, page))
	}
	documentedIn := func(pattern string) []string {
		var in []string
		for page, routes := range pages {
			for _, r := range routes {
				_, path, _ := strings.Cut(r, " ")
				if r == pattern || (!strings.Contains(pattern, " ") && path == pattern) {
					in = append(in, page)
				}
			}
		}
		return in
	}

	registered := sourceRoutes(t)
	if len(registered) < 60 {
		t.Errorf("found %d routes in the source, want the 60 or more the engine has: has the registration changed shape (this test reads .Handle(\"...\") and .HandleFunc(\"...\"))?", len(registered))
	}
	for _, r := range registered {
		path := r.Pattern
		if _, p, ok := strings.Cut(r.Pattern, " "); ok {
			path = p
		}
		in := documentedIn(r.Pattern)
		switch {
		case isAPIRoute(path) && !slices.Contains(in, "docs/api.md"):
			t.Errorf("docs/api.md: route %s (registered at %s) is not documented: add a row | `%s` | what it answers |", r.Pattern, r.Where, r.Pattern)
		case !isAPIRoute(path) && len(in) == 0:
			t.Errorf("docs/ui.md: route %s (registered at %s) is not documented: add a row | `%s` | the page | (or to docs/api.md if it is not a page)", r.Pattern, r.Where, r.Pattern)
		}
	}

	for page, routes := range pages {
		for _, route := range routes {
			_, path, _ := strings.Cut(route, " ")
			if isAPIRoute(path) != (page == "docs/api.md") {
				t.Errorf("%s: %s belongs in %s", page, route, map[bool]string{true: "docs/api.md", false: "docs/ui.md"}[isAPIRoute(path)])
			}
		}
	}

	// Every route a page names, in a row or in the prose (`GET /path`), is one the engine
	// serves: the pattern the mux matched is the one named.
	m := startMain(t, testConfig(t, storetest.Database(t)))
	mention := regexp.MustCompile("`((?:GET|HEAD|POST|PUT|PATCH|DELETE) /[^`?\\s]*)")
	for _, page := range markdownPages(t) {
		for _, mm := range mention.FindAllStringSubmatch(readDoc(t, page), -1) {
			route := mm[1]
			method, path, _ := strings.Cut(route, " ")
			url := regexp.MustCompile(`\{[a-z_]+\}`).ReplaceAllString(strings.ReplaceAll(path, "{$}", ""), "x1")
			if strings.HasSuffix(url, "/") && url != "/" {
				url += "x1" // a prefix pattern such as GET /static/
			}
			req := httptest.NewRequest(method, url, strings.NewReader(""))
			pattern := m.Server.Pattern(req)
			methodless := !strings.Contains(pattern, " ") && pattern == path // e.g. HandleFunc("/healthz")
			if pattern != route && !methodless {
				t.Errorf("%s: names %s, but the engine routes %s %s to %q: no such route (stale, or a typo)", page, route, method, url, pattern)
			}
		}
	}
}

// TestDetectorsDocumented checks the table of docs/detectors.md against the detectors the
// engine runs: a row | `name` | ... | for each, and no row for a detector the engine lacks.
func TestDetectorsDocumented(t *testing.T) {
	const page = "docs/detectors.md"
	doc := readDoc(t, page)
	m := startMain(t, testConfig(t, storetest.Database(t)))
	names := m.Runner.Detectors()
	if len(names) < 14 {
		t.Errorf("the engine runs %d detectors, want the 14 or more it has", len(names))
	}
	row := regexp.MustCompile("(?m)^\\| `([a-z0-9_:]+)` \\|")
	var rows []string
	for _, m := range row.FindAllStringSubmatch(doc, -1) {
		rows = append(rows, m[1])
	}
	for _, name := range names {
		if !slices.Contains(rows, name) {
			t.Errorf("%s: detector %s is not documented: add a row | `%s` | policy | what it finds |", page, name, name)
		}
	}
	for _, name := range rows {
		if !slices.Contains(names, name) {
			t.Errorf("%s: a row names detector %s, which the engine does not run: remove or rename it", page, name)
		}
	}
}

// markdownPages are the pages whose links TestDocLinks checks.
func markdownPages(t *testing.T) []string {
	t.Helper()
	docs, err := filepath.Glob(filepath.Join(repoRoot, "docs", "*.md"))
	if err != nil {
		t.Fatal(err)
	}
	pages := []string{"README.md", "dashboards/README.md"}
	for _, d := range docs {
		rel, _ := filepath.Rel(repoRoot, d)
		pages = append(pages, filepath.ToSlash(rel))
	}
	return pages
}

// anchors are the fragment ids GitHub gives a page's headings: lower case, punctuation but
// hyphens and underscores dropped, spaces as hyphens.
func anchors(doc string) map[string]bool {
	out := map[string]bool{}
	inFence := false
	for _, line := range strings.Split(doc, "\n") {
		if strings.HasPrefix(line, "```") {
			inFence = !inFence
		}
		if inFence || !strings.HasPrefix(line, "#") {
			continue
		}
		h := strings.ToLower(strings.TrimSpace(strings.TrimLeft(line, "#")))
		var b strings.Builder
		for _, r := range h {
			switch {
			case r == ' ':
				b.WriteRune('-')
			case r == '-' || r == '_' || r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r > 0x7f:
				b.WriteRune(r)
			}
		}
		out[b.String()] = true
	}
	return out
}

// TestDocLinks checks every relative link and image of README.md, dashboards/README.md and
// docs/*.md: the file exists, and a #fragment names a heading of the Markdown page it points to.
func TestDocLinks(t *testing.T) {
	link := regexp.MustCompile(`\]\(([^)\s]+)\)`)
	checked := 0
	for _, page := range markdownPages(t) {
		doc := readDoc(t, page)
		for _, m := range link.FindAllStringSubmatch(doc, -1) {
			target := m[1]
			if strings.Contains(target, "://") || strings.HasPrefix(target, "mailto:") {
				continue
			}
			file, fragment, _ := strings.Cut(target, "#")
			path := page // a bare #fragment is on the page itself
			if file != "" {
				path = filepath.ToSlash(filepath.Join(filepath.Dir(page), file))
			}
			checked++
			if _, err := os.Stat(filepath.Join(repoRoot, path)); err != nil {
				t.Errorf("%s: link %s points to %s, which does not exist", page, target, path)
				continue
			}
			if fragment != "" && strings.HasSuffix(path, ".md") && !anchors(readDoc(t, path))[fragment] {
				t.Errorf("%s: link %s: %s has no heading with the id #%s", page, target, path, fragment)
			}
		}
	}
	if checked < 20 {
		t.Errorf("checked %d links, want the 20 or more the pages have", checked)
	}
}

// TestReadme checks the newcomer's page: under 10 KB, the two commands as the Makefile has
// them, a link to every page of docs/, and every top-level folder in the layout table.
func TestReadme(t *testing.T) {
	readme := readDoc(t, "README.md")
	if len(readme) >= 10<<10 {
		t.Errorf("README.md is %d bytes, want under 10 KB: move the detail to a page of docs/ and link it", len(readme))
	}
	makefile := readDoc(t, "Makefile")
	for _, target := range []string{"demo", "test"} {
		if !strings.Contains(readme, "make "+target+"    #") {
			t.Errorf("README.md: the command `make %s` is not shown in the Two commands block", target)
		}
		if !regexp.MustCompile(`(?m)^` + target + `:`).MatchString(makefile) {
			t.Errorf("Makefile has no target %s, which README.md tells newcomers to run", target)
		}
	}
	for _, page := range markdownPages(t) {
		if strings.HasPrefix(page, "docs/") && !strings.Contains(readme, "]("+page+")") {
			t.Errorf("README.md does not link %s: add it to the Documentation list", page)
		}
	}
	// The folders of the checkout; those .gitignore names (bin/, /var/) are not the project's.
	ignored := map[string]bool{".git": true}
	for _, line := range strings.Split(readDoc(t, ".gitignore"), "\n") {
		if name, ok := strings.CutSuffix(strings.TrimPrefix(strings.TrimSpace(line), "/"), "/"); ok && !strings.ContainsAny(name, "/*") {
			ignored[name] = true
		}
	}
	entries, err := os.ReadDir(repoRoot)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if !e.IsDir() || ignored[e.Name()] {
			continue
		}
		if !strings.Contains(readme, "| `"+e.Name()+"/") {
			t.Errorf("README.md: folder %s/ is missing from the Layout table: add a row | `%s/` | what it holds |", e.Name(), e.Name())
		}
	}
}
