package voucherwatch_test

import (
	"slices"
	"testing"

	"github.com/voucherwatch/voucherwatch"
)

// TestCheckNewInspectorConflicts: the declared conflicts become a sorted set of upper-case
// codes, whatever their order, case, spaces and repeats; a code of another shape is refused.
func TestCheckNewInspectorConflicts(t *testing.T) {
	changsha, zhuzhou := "91430100MA4L00001X", "91430200MA4L00002Y"
	in := voucherwatch.Inspector{Name: "王芳", City: "长沙市", Conflicts: []string{zhuzhou, " " + changsha, "91430200ma4l00002y", changsha}}
	got, err := voucherwatch.CheckNewInspector(in)
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{changsha, zhuzhou}; !slices.Equal(got.Conflicts, want) {
		t.Errorf("conflicts %q, want %q", got.Conflicts, want)
	}
	if got.City != "430100" {
		t.Errorf("city %q, want 430100", got.City)
	}
	in.Conflicts = []string{changsha, "91430100MA4L0001"}
	if _, err := voucherwatch.CheckNewInspector(in); voucherwatch.ErrorCode(err) != voucherwatch.EINVALID {
		t.Errorf("a 16-character conflict: got %v, want EINVALID", err)
	}
	in.Conflicts = nil
	got, err = voucherwatch.CheckNewInspector(in)
	if err != nil || got.Conflicts == nil || len(got.Conflicts) != 0 {
		t.Errorf("no conflicts: got %#v, %v; want an empty, non-nil list (JSON [])", got.Conflicts, err)
	}
}
