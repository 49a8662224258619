package api

import (
	"net/http"

	"github.com/voucherwatch/voucherwatch"
)

// complaintRequest is the body of POST /api/v1/complaints.
type complaintRequest struct {
	USCC     string `json:"uscc"`
	Category string `json:"category"`
	Text     string `json:"text"`
	Contact  string `json:"contact"`
	// Channel is how the official received it: phone (the default) or letter.
	Channel string `json:"channel"`
}

// PostComplaint answers POST /api/v1/complaints: an official registers a complaint received
// by phone or letter. 201 {"id", "receipt", "secret"}: the receipt and the secret are for the
// complainant, to follow the case at /complaints/status. Auditors may not; a city reviewer
// only about an enterprise of its city.
func (h *Handler) PostComplaint(w http.ResponseWriter, r *http.Request, u voucherwatch.User) {
	if !u.Role.MayAct() {
		WriteError(w, voucherwatch.Errorf(voucherwatch.EFORBIDDEN, "role %s may not register complaints", u.Role))
		return
	}
	var q complaintRequest
	if err := DecodeJSON(w, r, &q); err != nil {
		WriteError(w, err)
		return
	}
	ch := voucherwatch.ComplaintChannel(q.Channel)
	if ch == "" {
		ch = voucherwatch.ChannelPhone
	}
	if ch == voucherwatch.ChannelPublic {
		WriteError(w, voucherwatch.FieldErrorf("channel", "officials register phone or letter complaints; the public form is /complaints/new"))
		return
	}
	c, secret, err := h.Complaints.File(r.Context(), voucherwatch.ComplaintInput{
		USCC: q.USCC, Category: q.Category, Text: q.Text, Contact: q.Contact, Channel: ch,
	}, u)
	if err != nil {
		h.Fail(w, err)
		return
	}
	WriteJSON(w, http.StatusCreated, map[string]string{"id": c.ID, "receipt": c.Receipt, "secret": secret})
}
