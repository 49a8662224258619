package supervision

import (
	"net/http"

	"github.com/voucherwatch/voucherwatch"
)

// getStatus answers GET /api/v1/status: {"ingest": {"topics": {...}}}.
func (s *Server) getStatus(w http.ResponseWriter, r *http.Request, _ voucherwatch.User) {
	if s.IngestStatusFn == nil {
		writeError(w, voucherwatch.Errorf(voucherwatch.ENOTFOUND, "ingest is not running on this instance"))
		return
	}
	st, err := s.IngestStatusFn(r.Context())
	if err != nil {
		s.Log.Error("supervision: status", "err", err)
		writeError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"ingest": st})
}
