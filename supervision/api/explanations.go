package api

import (
	"net/http"

	"github.com/voucherwatch/voucherwatch"
)

// GetOverdue answers GET /api/v1/explanations/overdue[?city=]: the alerts whose requested
// explanation is past its deadline, the longest overdue first, counted in total and per city.
// A city reviewer sees its own city's only.
func (h *Handler) GetOverdue(w http.ResponseWriter, r *http.Request, u voucherwatch.User) {
	city := ""
	if c := r.URL.Query().Get("city"); c != "" {
		code, ok := voucherwatch.CityCode(c)
		if !ok {
			h.Fail(w, voucherwatch.FieldErrorf("city", "unknown 市州 %q", c))
			return
		}
		city = code
	}
	overdue, err := h.flow().Overdue(r.Context(), u, city)
	if err != nil {
		h.Fail(w, err)
		return
	}
	byCity := map[string]int{}
	for _, o := range overdue {
		byCity[o.City]++
	}
	WriteJSON(w, http.StatusOK, map[string]any{"count": len(overdue), "by_city": byCity, "overdue": overdue})
}
