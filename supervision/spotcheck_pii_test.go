package supervision

import (
	"strings"
	"testing"
)

// TestInspectionCommentsMasked: an inspection result's comment is masked as it is recorded:
// the store, the results JSON and the export never hold the identity or mobile number.
func TestInspectionCommentsMasked(t *testing.T) {
	s, st := newSpotCheckServer(t)
	_, drawn := do(t, s, "POST", "/api/v1/spotchecks", "admin", map[string]any{"seed": 3, "share": 1})
	id := drawn["id"].(string)
	comment := "法人 430104-19900307-1234 未到场，联系电话 138 1234 5678，责令补交材料"
	if code, body := do(t, s, "POST", "/api/v1/spotchecks/"+id+"/results", "admin", map[string]any{"uscc": st.claimants[1].USCC, "result": "责令整改", "comment": comment}); code != 201 {
		t.Fatalf("record: got %d %v", code, body)
	}
	if len(st.results) != 1 || st.results[0].Comment != "法人 430***********1234 未到场，联系电话 138****5678，责令补交材料" {
		t.Fatalf("stored: got %+v, want the comment masked", st.results)
	}
	_, _, csv := get(t, s, "/api/v1/spotchecks/"+id+"/export.csv", "admin")
	_, _, results := get(t, s, "/api/v1/spotchecks/"+id+"/results", "admin")
	for where, text := range map[string]string{"export": string(csv), "results JSON": string(results)} {
		for _, clear := range []string{"19900307", "1234 5678", "12345678"} {
			if strings.Contains(text, clear) {
				t.Errorf("%s holds %q in clear", where, clear)
			}
		}
	}
}
