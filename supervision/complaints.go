package supervision

import (
	"net/http"

	"github.com/voucherwatch/voucherwatch"
	"github.com/voucherwatch/voucherwatch/supervision/api"
)

// Complaints and tips (投诉举报受理, policy §五.1). A complaint becomes a case in the alerts'
// workflow: an alert of detector "complaint" about the enterprise, in its city, with the
// category as kind, so that statuses, deadlines, assignment, history and city scope are the
// alerts' own. What protects the complainant stays apart: the contact details, sealed with a
// key of their own and opened for province administrators only; the follow-up secret, kept as
// a hash. Neither is ever logged, exported or shown to a city.

// complaintState is what registerComplaintRoutes prepares.
type complaintState struct {
	deps ComplaintDeps
	// posts counts the public form's submissions per client address, on this instance;
	// lookups counts the status page's failed look-ups per address (guessing secrets).
	posts   signInThrottle
	lookups signInThrottle
}

// Per-address limits of the public pages, within SignInLockout (15 minutes), per instance:
// a person files a complaint in two posts (find the enterprise, then submit) and may correct
// a mistake; a flood from one address stops here. Behind a proxy, the proxy must limit (the
// connection's address is used, as for sign-in).
const (
	MaxComplaintPostsPerAddress       = 10
	MaxStatusLookupFailuresPerAddress = 20
)

// registerComplaintRoutes adds POST /api/v1/complaints and, when the web UI is registered
// (registerUI first), the public pages /complaints/new and /complaints/status. It panics
// without a store, a registry or a contact box, so a broken configuration fails at start.
func (s *Server) registerComplaintRoutes(d ComplaintDeps) {
	s.complaints = &complaintState{deps: d}
	s.complaints.posts.limit = MaxComplaintPostsPerAddress
	s.complaints.lookups.limit = MaxStatusLookupFailuresPerAddress
	s.mux.Handle("POST /api/v1/complaints", s.authed(s.postComplaint))
	if s.ui != nil {
		s.registerComplaintPages()
	}
}

// complaintRequest is the body of POST /api/v1/complaints.
type complaintRequest struct {
	USCC     string `json:"uscc"`
	Category string `json:"category"`
	Text     string `json:"text"`
	Contact  string `json:"contact"`
	// Channel is how the official received it: phone (the default) or letter.
	Channel string `json:"channel"`
}

// postComplaint answers POST /api/v1/complaints: an official registers a complaint received
// by phone or letter. 201 {"id", "receipt", "secret"}: the receipt and the secret are for the
// complainant, to follow the case at /complaints/status. Auditors may not; a city reviewer
// only about an enterprise of its city.
func (s *Server) postComplaint(w http.ResponseWriter, r *http.Request, u voucherwatch.User) {
	if !u.Role.MayAct() {
		api.WriteError(w, voucherwatch.Errorf(voucherwatch.EFORBIDDEN, "role %s may not register complaints", u.Role))
		return
	}
	var q complaintRequest
	if err := decodeJSON(w, r, &q); err != nil {
		api.WriteError(w, err)
		return
	}
	ch := voucherwatch.ComplaintChannel(q.Channel)
	if ch == "" {
		ch = voucherwatch.ChannelPhone
	}
	if ch == voucherwatch.ChannelPublic {
		api.WriteError(w, voucherwatch.FieldErrorf("channel", "officials register phone or letter complaints; the public form is /complaints/new"))
		return
	}
	c, secret, err := s.complaints.deps.File(r.Context(), voucherwatch.ComplaintInput{
		USCC: q.USCC, Category: q.Category, Text: q.Text, Contact: q.Contact, Channel: ch,
	}, u)
	if err != nil {
		s.fail(w, err)
		return
	}
	api.WriteJSON(w, http.StatusCreated, map[string]string{"id": c.ID, "receipt": c.Receipt, "secret": secret})
}
