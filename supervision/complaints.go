package supervision

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
	if d.Now == nil {
		d.Now = s.workflow.Now
	}
	if d.Log == nil {
		d.Log = s.Log
	}
	s.complaints = &complaintState{deps: d}
	s.api.Complaints = &s.complaints.deps
	s.complaints.posts.limit = MaxComplaintPostsPerAddress
	s.complaints.lookups.limit = MaxStatusLookupFailuresPerAddress
	s.mux.Handle("POST /api/v1/complaints", s.authed(s.api.PostComplaint))
	if s.ui != nil {
		s.registerComplaintPages()
	}
}
