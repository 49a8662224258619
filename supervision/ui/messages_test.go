package ui

import (
	"io/fs"
	"regexp"
	"testing"

	"github.com/voucherwatch/voucherwatch"
	"github.com/voucherwatch/voucherwatch/supervision/locale"
)

// TestTemplateKeysExist reads every template's source for {{t "key"}} and fails on a key the
// catalogue does not define.
func TestTemplateKeysExist(t *testing.T) {
	used := regexp.MustCompile(`\bt\s+"([^"]+)"`)
	n := 0
	err := fs.WalkDir(Templates(), ".", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		src, err := fs.ReadFile(Templates(), path)
		if err != nil {
			return err
		}
		for _, m := range used.FindAllStringSubmatch(string(src), -1) {
			n++
			if _, ok := locale.Lookup(m[1]); !ok {
				t.Errorf("%s uses %q, which the catalogue does not define", path, m[1])
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if n < 100 {
		t.Errorf("found %d uses of t in the templates; the pattern must have stopped matching", n)
	}
}

// TestEveryLabelExists checks the labels the templates build from values: statuses, roles,
// severities, detectors and their kinds (voucherwatch.AlertKinds), event kinds, actions.
func TestEveryLabelExists(t *testing.T) {
	need := []string{}
	for _, st := range voucherwatch.Statuses {
		need = append(need, "alert.status."+string(st))
		for _, to := range st.Next() {
			need = append(need, "alert.action."+string(to))
		}
	}
	for _, r := range []voucherwatch.Role{voucherwatch.RoleProvinceAdmin, voucherwatch.RoleProvinceReviewer, voucherwatch.RoleCityReviewer, voucherwatch.RoleAuditor, voucherwatch.RoleSystem} {
		need = append(need, "role."+string(r))
	}
	for _, s := range []voucherwatch.Severity{voucherwatch.SeverityHigh, voucherwatch.SeverityMedium, voucherwatch.SeverityLow} {
		need = append(need, "severity."+string(s))
	}
	for _, k := range []voucherwatch.EventKind{voucherwatch.EventTransition, voucherwatch.EventAssignment, voucherwatch.EventProposal} {
		need = append(need, "event."+string(k))
	}
	for _, o := range []string{voucherwatch.OriginDomestic, voucherwatch.OriginForeign, voucherwatch.OriginMixed} {
		need = append(need, "origin."+o)
	}
	for _, st := range []string{"registered", "not_registered", "not_a_supplier", "not_in_registry"} {
		need = append(need, "supplier_status."+st)
	}
	for _, d := range detectorNames {
		need = append(need, "detector."+d)
	}
	for _, k := range voucherwatch.AlertKinds() {
		need = append(need, "kind."+k.Detector+"."+k.Kind)
	}
	for _, r := range voucherwatch.OfficerRoles {
		need = append(need, "officer."+r)
	}
	for _, k := range need {
		if _, ok := locale.Lookup(k); !ok {
			t.Errorf("no label %q in the catalogue", k)
		}
	}
	for _, k := range locale.Keys() {
		v := locale.T(k)
		if v == "" || regexp.MustCompile(`^[A-Za-z_. ]+$`).MatchString(v) {
			t.Errorf("message %q is %q: want Chinese", k, v)
		}
	}
}

func TestUIErrorMessages(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want string
	}{
		{voucherwatch.Errorf(voucherwatch.ECONFLICT, "x"), "error.conflict"},
		{voucherwatch.Errorf(voucherwatch.EFORBIDDEN, "x"), "error.forbidden"},
		{voucherwatch.FieldErrorf("deadline", "x"), "error.field.deadline"},
		{voucherwatch.FieldErrorf("body", "x"), "error.invalid"},
		{voucherwatch.Errorf(voucherwatch.EUNAUTH, "x"), "error.internal"},
		{errInternal, "error.internal"},
	} {
		if got := uiErrorMessage(tc.err); got != locale.T(tc.want) {
			t.Errorf("%v: got %q, want %q", tc.err, got, locale.T(tc.want))
		}
	}
}

var errInternal = fs.ErrClosed
