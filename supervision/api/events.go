package api

import (
	"encoding/csv"
	"net/http"
	"strconv"
	"time"

	"github.com/voucherwatch/voucherwatch"
	"github.com/voucherwatch/voucherwatch/supervision/export"
)

// exportHeader names the columns of the event log export.
var exportHeader = []string{
	"event_id", "seq", "at", "alert_id", "kind", "actor_id", "actor_name", "actor_role", "from", "to",
	"comment", "deadline", "amount", "assignee_id", "assignee_name", "proposed_to",
}

// exportFlushRows is how many rows go out between flushes, so that a long export streams.
const exportFlushRows = 500

// ExportEvents answers GET /api/v1/events/export: the whole workflow log as CSV, oldest first,
// streamed as it is read. It is for the province and auditors. The file starts with a UTF-8
// byte-order mark so that Excel and WPS, what supervisors open it with, read the Chinese
// right; times are CST. Free text that a spreadsheet would run as a formula (starting with =,
// +, -, @) is prefixed with ' there; the JSON history has the text as written.
//
// When reading fails midway, the response is cut off (the connection aborted) rather than
// ended, so that a partial export cannot pass for a complete one.
func (h *Handler) ExportEvents(w http.ResponseWriter, r *http.Request, u voucherwatch.User) {
	if !u.Role.MayExport() {
		h.Fail(w, voucherwatch.Errorf(voucherwatch.EFORBIDDEN, "role %s may not export the event log", u.Role))
		return
	}
	cw := csv.NewWriter(w)
	flusher, _ := w.(http.Flusher)
	started, rows := false, 0
	start := func() {
		started = true
		name := "voucherwatch-events-" + h.Workflow.Clock().In(voucherwatch.CST).Format("20060102-150405") + ".csv"
		w.Header().Set("Content-Type", "text/csv; charset=utf-8")
		w.Header().Set("Content-Disposition", `attachment; filename="`+name+`"`)
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write([]byte("\uFEFF"))
		_ = cw.Write(exportHeader)
	}
	err := h.Workflow.Events.ExportEvents(r.Context(), func(e voucherwatch.Event) error {
		if !started {
			start()
		}
		deadline, amount := "", ""
		if !e.Deadline.IsZero() {
			deadline = e.Deadline.In(voucherwatch.CST).Format(time.DateOnly)
		}
		if e.Amount != 0 {
			amount = e.Amount.String()
		}
		if err := cw.Write([]string{
			e.ID, strconv.FormatUint(e.Seq, 10), e.At.In(voucherwatch.CST).Format(time.DateTime), e.AlertID, string(e.Kind),
			e.ActorID, export.SpreadsheetSafe(e.ActorName), string(e.ActorRole), string(e.From), string(e.To),
			export.SpreadsheetSafe(voucherwatch.MaskText(e.Comment)), deadline, amount, e.AssigneeID, export.SpreadsheetSafe(e.AssigneeName), string(e.ProposedTo),
		}); err != nil {
			return err
		}
		// The first row goes out at once, so that a client sees the export start.
		if rows++; rows == 1 || rows%exportFlushRows == 0 {
			cw.Flush()
			if flusher != nil {
				flusher.Flush()
			}
		}
		return cw.Error()
	})
	if err != nil {
		if !started {
			h.Fail(w, err)
			return
		}
		h.Log.Error("supervision: export cut off", "rows", rows, "err", err)
		panic(http.ErrAbortHandler)
	}
	if !started {
		start()
	}
	cw.Flush()
}
