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

// getDeadLetters answers GET /api/v1/deadletters: each supplier's rejected messages per topic,
// with the last reason, so supervisors can see who sends bad data.
func (s *Server) getDeadLetters(w http.ResponseWriter, r *http.Request, _ voucherwatch.User) {
	if s.DeadLettersFn == nil {
		writeError(w, voucherwatch.Errorf(voucherwatch.ENOTFOUND, "ingest is not running on this instance"))
		return
	}
	v, err := s.DeadLettersFn(r.Context())
	if err != nil {
		s.fail(w, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"suppliers": v})
}
