package ui

import (
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"time"

	"github.com/voucherwatch/voucherwatch"
	"github.com/voucherwatch/voucherwatch/supervision/locale"
	"github.com/voucherwatch/voucherwatch/supervision/workflow"
)

// inboxPageSize is how many alerts a page of the inbox lists.
const inboxPageSize = 50

// maxOverdueListed bounds the inbox's overdue view, which is not paged.
const maxOverdueListed = 200

// inboxPage is the data of the inbox.
type inboxPage struct {
	Filter    inboxFilter
	ScopeCity string // set for a city reviewer: the only city shown
	Alerts    []voucherwatch.Alert
	Names     map[string]string // registered names by USCC
	// Bulk is the inbox's bulk form, nil for a user who may not act on alerts.
	Bulk         *bulkForm
	NextURL      string
	FirstURL     string // set on pages after the first
	Capped       bool
	StatusChips  []chip
	DetectorChip []chip
	Total        int
	Detectors    []string
	Statuses     []voucherwatch.Status
	Severities   []voucherwatch.Severity
	Cities       []cityOption
	Sorts        []string
}

// bulkForm is what the inbox's bulk form offers: the moves the user's role may make from
// some status (recovery orders excepted: their amount differs per alert), and the default
// deadline of an explanation request.
type bulkForm struct {
	Actions         []voucherwatch.Status
	Return          string // the inbox URL to come back to
	DefaultDeadline string
	MinDeadline     string
	MaxDeadline     string
}

// newBulkForm is the bulk form for u, nil when u may not act.
func (h *Handler) newBulkForm(u voucherwatch.User, back string) *bulkForm {
	if !u.Role.MayAct() {
		return nil
	}
	f := &bulkForm{Return: back}
	for _, to := range voucherwatch.Statuses {
		if to == voucherwatch.StatusRecoveryOrdered {
			continue
		}
		for _, from := range voucherwatch.Statuses {
			if voucherwatch.CheckTransition(u.Role, from, to) == nil {
				f.Actions = append(f.Actions, to)
				break
			}
		}
	}
	days := h.Workflow.ExplanationDays
	if days <= 0 {
		days = voucherwatch.DefaultExplanationDays
	}
	today := voucherwatch.Day(h.Workflow.Clock())
	f.DefaultDeadline = today.AddDate(0, 0, days).Format(time.DateOnly)
	f.MinDeadline = today.AddDate(0, 0, 1).Format(time.DateOnly)
	f.MaxDeadline = today.AddDate(0, 0, voucherwatch.MaxDeadlineDays).Format(time.DateOnly)
	return f
}

// inboxFilter is the inbox's query.
type inboxFilter struct {
	Detector    string
	Status      string
	Severity    string
	City        string
	OnlyOverdue bool
	OnlyMine    bool   // the alerts assigned to the signed-in user
	Sort        string // "" (the risk score), at_stake or created
	Cursor      string
}

// query is the filter as a URL query, with one field changed (set to "" to drop it).
func (f inboxFilter) Query(change ...string) string {
	v := url.Values{}
	set := func(k, x string) {
		if x != "" {
			v.Set(k, x)
		}
	}
	set("detector", f.Detector)
	set("status", f.Status)
	set("severity", f.Severity)
	set("city", f.City)
	set("sort", f.Sort)
	if f.OnlyOverdue {
		v.Set("overdue", "1")
	}
	if f.OnlyMine {
		v.Set("mine", "1")
	}
	for i := 0; i+1 < len(change); i += 2 {
		v.Del(change[i])
		set(change[i], change[i+1])
	}
	if len(v) == 0 {
		return "/alerts"
	}
	return "/alerts?" + v.Encode()
}

// chip is one filter chip: a value, its label and count, and the inbox URL that selects it.
type chip struct {
	Label    string
	Count    int
	URL      string
	Selected bool
	Status   string // for colouring status chips
}

type cityOption struct {
	Code, Name string
}

// ShowInbox answers GET /alerts: the alerts the user may see, filtered, ranked by the risk
// score (or as sort asks: money at stake, newest), with counts by status and detector as
// chips. A city reviewer sees its own city only, whatever the query says.
func (h *Handler) ShowInbox(w http.ResponseWriter, r *http.Request, q Request) {
	ctx := r.Context()
	qs := r.URL.Query()
	f := inboxFilter{
		Detector: qs.Get("detector"), Status: qs.Get("status"), Severity: qs.Get("severity"),
		OnlyOverdue: qs.Get("overdue") == "1", OnlyMine: qs.Get("mine") == "1", Cursor: qs.Get("cursor"),
		Sort: qs.Get("sort"),
	}
	sortBy, err := workflow.AlertSort(f.Sort)
	if err != nil || sortBy == voucherwatch.SortRisk {
		f.Sort, sortBy = "", voucherwatch.SortRisk
	}
	if f.Status != "" && !voucherwatch.Status(f.Status).Valid() {
		f.Status = ""
	}
	if !validSeverity(voucherwatch.Severity(f.Severity)) {
		f.Severity = ""
	}
	if f.Detector != "" && !slices.Contains(voucherwatch.AlertDetectors(), f.Detector) {
		f.Detector = ""
	}
	if c := qs.Get("city"); c != "" {
		if code, ok := voucherwatch.CityCode(c); ok {
			f.City = code
		}
	}
	p := inboxPage{
		Filter: f, Detectors: voucherwatch.AlertDetectors(), Statuses: voucherwatch.Statuses, Sorts: workflow.AlertSorts,
		Severities: []voucherwatch.Severity{voucherwatch.SeverityHigh, voucherwatch.SeverityMedium, voucherwatch.SeverityLow},
	}
	af := voucherwatch.AlertFilter{
		Detector: f.Detector, Status: voucherwatch.Status(f.Status), Severity: voucherwatch.Severity(f.Severity),
		City: f.City, Cursor: f.Cursor, Limit: inboxPageSize, Sort: sortBy,
	}
	if f.OnlyMine {
		af.AssigneeID = q.user.ID
	}
	if scope := workflow.CityScope(q.user); scope != "" {
		p.ScopeCity, af.City, p.Filter.City = scope, scope, ""
	} else {
		for _, code := range sortedCityCodes() {
			p.Cities = append(p.Cities, cityOption{Code: code, Name: voucherwatch.CityName(code)})
		}
	}

	if f.OnlyOverdue {
		p.Alerts, p.Capped, err = h.overdueAlerts(r, af)
	} else {
		var next string
		p.Alerts, next, err = h.Alerts.Alerts(ctx, af)
		if next != "" {
			p.NextURL = p.Filter.Query("cursor", next)
		}
		if f.Cursor != "" {
			p.FirstURL = p.Filter.Query()
		}
	}
	d := h.data(r, q, locale.T("inbox.title"), "inbox")
	status := http.StatusOK
	if err != nil {
		if voucherwatch.ErrorCode(err) == voucherwatch.EINTERNAL {
			h.failPage(w, r, q, err)
			return
		}
		status, d.Error = errStatus(err), uiErrorMessage(err)
		p.FirstURL = p.Filter.Query()
	}
	usccs := make([]string, 0, len(p.Alerts))
	for _, a := range p.Alerts {
		if a.Subjects.ApplicantUSCC != "" {
			usccs = append(usccs, a.Subjects.ApplicantUSCC)
		}
	}
	p.Names = h.enterpriseNames(ctx, usccs...)
	p.Bulk = h.newBulkForm(q.user, r.URL.RequestURI())
	if err := h.inboxChips(r, af, &p); err != nil {
		h.failPage(w, r, q, err)
		return
	}
	d.Page = p
	h.render(w, status, "inbox", d)
}

// inboxChips counts the alerts in scope by status (whatever the status filter) and by
// detector (whatever the detector filter), so each chip says what choosing it would show.
func (h *Handler) inboxChips(r *http.Request, af voucherwatch.AlertFilter, p *inboxPage) error {
	counter := h.Counts
	if counter == nil {
		return nil
	}
	base := voucherwatch.AlertFilter{City: af.City, Severity: af.Severity}
	byStatus := base
	byStatus.Detector = af.Detector
	sc, err := counter.CountAlerts(r.Context(), byStatus)
	if err != nil {
		return err
	}
	byDetector := base
	byDetector.Status = af.Status
	dc, err := counter.CountAlerts(r.Context(), byDetector)
	if err != nil {
		return err
	}
	p.Total = sc.Total
	for _, st := range voucherwatch.Statuses {
		p.StatusChips = append(p.StatusChips, chip{
			Label: locale.StatusLabel(st), Count: sc.ByStatus[st], Status: string(st),
			URL: p.Filter.Query("status", string(st)), Selected: p.Filter.Status == string(st),
		})
	}
	names := slices.Clone(detectorNames)
	for name := range dc.ByDetector {
		if !slices.Contains(names, name) {
			names = append(names, name)
		}
	}
	for _, name := range names {
		if dc.ByDetector[name] == 0 && p.Filter.Detector != name {
			continue
		}
		p.DetectorChip = append(p.DetectorChip, chip{
			Label: locale.DetectorLabel(name), Count: dc.ByDetector[name],
			URL: p.Filter.Query("detector", name), Selected: p.Filter.Detector == name,
		})
	}
	return nil
}

// overdueAlerts lists the alerts in the filter whose explanation is overdue, the longest
// overdue first, at most maxOverdueListed; it reports whether there were more.
func (h *Handler) overdueAlerts(r *http.Request, af voucherwatch.AlertFilter) ([]voucherwatch.Alert, bool, error) {
	overdue, err := h.Workflow.Events.OverdueExplanations(r.Context(), af.City, h.Workflow.Clock())
	if err != nil {
		return nil, false, err
	}
	capped := len(overdue) > maxOverdueListed
	if capped {
		overdue = overdue[:maxOverdueListed]
	}
	// matches cannot see assignments (they are events): the user's queue is asked for.
	var mine map[string]bool
	if af.AssigneeID != "" {
		assigned, _, err := h.Alerts.Alerts(r.Context(), voucherwatch.AlertFilter{AssigneeID: af.AssigneeID, City: af.City, Limit: 1000})
		if err != nil {
			return nil, false, err
		}
		mine = map[string]bool{}
		for _, a := range assigned {
			mine[a.ID] = true
		}
	}
	var out []voucherwatch.Alert
	for _, o := range overdue {
		if mine != nil && !mine[o.AlertID] {
			continue
		}
		a, err := h.Alerts.Alert(r.Context(), o.AlertID)
		if voucherwatch.ErrorCode(err) == voucherwatch.ENOTFOUND {
			continue
		} else if err != nil {
			return nil, false, err
		}
		if workflow.Matches(a, af) {
			out = append(out, a)
		}
	}
	return out, capped, nil
}

func validSeverity(s voucherwatch.Severity) bool {
	switch s {
	case "", voucherwatch.SeverityHigh, voucherwatch.SeverityMedium, voucherwatch.SeverityLow:
		return true
	}
	return false
}

// detectorNames are the detectors whose alerts the inbox offers, in the order of
// voucherwatch.AlertKinds; complaints have their own page, objections their round's (both are
// still listed in the inbox and filtered by ?detector=). A test in cmd/voucherwatch checks
// that they are the detectors the engine runs.
var detectorNames = func() []string {
	var names []string
	for _, k := range voucherwatch.AlertKinds() {
		if k.Detector != voucherwatch.DetectorComplaint && k.Detector != voucherwatch.DetectorObjection && !slices.Contains(names, k.Detector) {
			names = append(names, k.Detector)
		}
	}
	return names
}()

// DetectorNames returns the detectors whose alerts the inbox offers.
func DetectorNames() []string { return slices.Clone(detectorNames) }

func sortedCityCodes() []string {
	codes := make([]string, 0, len(voucherwatch.Cities))
	for code := range voucherwatch.Cities {
		codes = append(codes, code)
	}
	slices.Sort(codes)
	return codes
}

func itoa(n int) string { return strconv.Itoa(n) }
