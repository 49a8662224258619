package supervision

import (
	"context"
	"fmt"
	"net/http"

	"github.com/voucherwatch/voucherwatch"
	"github.com/voucherwatch/voucherwatch/supervision/api"
	"github.com/voucherwatch/voucherwatch/supervision/locale"
	"github.com/voucherwatch/voucherwatch/supervision/workflow"
)

// Complaints and tips (投诉举报受理, policy §五.1). A complaint becomes a case in the alerts'
// workflow: an alert of detector "complaint" about the enterprise, in its city, with the
// category as kind, so that statuses, deadlines, assignment, history and city scope are the
// alerts' own. What protects the complainant stays apart: the contact details, sealed with a
// key of their own and opened for province administrators only; the follow-up secret, kept as
// a hash. Neither is ever logged, exported or shown to a city.

// ComplaintDeps are the dependencies of the complaint routes and pages.
type ComplaintDeps struct {
	// Store keeps complaints and opens their cases.
	Store voucherwatch.ComplaintStore
	// Registry finds the enterprise complained about, by name or code, and its city.
	Registry voucherwatch.EnterpriseSearcher
	// Box seals contact details (the complaint key).
	Box *voucherwatch.ContactBox
}

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
	c, secret, err := s.fileComplaint(r.Context(), voucherwatch.ComplaintInput{
		USCC: q.USCC, Category: q.Category, Text: q.Text, Contact: q.Contact, Channel: ch,
	}, u)
	if err != nil {
		s.fail(w, err)
		return
	}
	api.WriteJSON(w, http.StatusCreated, map[string]string{"id": c.ID, "receipt": c.Receipt, "secret": secret})
}

// fileComplaint checks a complaint, finds its enterprise's city in the registry, masks the
// text, seals the contact and stores the complaint with its case. by is the official who
// registers it; the zero User for the public form. It returns the follow-up secret, which is
// not kept.
func (s *Server) fileComplaint(ctx context.Context, in voucherwatch.ComplaintInput, by voucherwatch.User) (voucherwatch.Complaint, string, error) {
	in, err := voucherwatch.CheckComplaintInput(in)
	if err != nil {
		return voucherwatch.Complaint{}, "", err
	}
	hit, err := s.registryMatch(ctx, in.USCC)
	if err != nil {
		return voucherwatch.Complaint{}, "", err
	}
	if scope := workflow.CityScope(by); by.ID != "" && scope != "" && hit.City != scope {
		return voucherwatch.Complaint{}, "", voucherwatch.FieldErrorf("uscc", "the enterprise is not of your city")
	}
	now := s.workflow.now()
	c := voucherwatch.Complaint{
		ID: voucherwatch.NewComplaintID(), Receipt: voucherwatch.NewReceipt(now), USCC: in.USCC, City: hit.City,
		Category: voucherwatch.ComplaintCategory(in.Category), Text: voucherwatch.MaskText(in.Text),
		Channel: in.Channel, RegisteredBy: by.ID, CreatedAt: now,
	}
	secret := voucherwatch.NewComplaintSecret()
	rec := voucherwatch.ComplaintRecord{Complaint: c, SecretHash: voucherwatch.ComplaintSecretHash(secret),
		SealedContact: s.complaints.deps.Box.Seal(c.ID, in.Contact)}
	title := fmt.Sprintf(locale.T("complaint.case.title"), locale.ComplaintCategoryLabel(c.Category))
	reason := fmt.Sprintf(locale.T("complaint.case.reason"), locale.ComplaintChannelLabel(c.Channel), locale.ComplaintCategoryLabel(c.Category))
	if err := s.complaints.deps.Store.AddComplaint(ctx, rec, voucherwatch.ComplaintAlert(c, title, reason)); err != nil {
		return voucherwatch.Complaint{}, "", err
	}
	// Never the text, the contact or the secret.
	s.Log.Info("supervision: complaint received", "id", c.ID, "city", c.City, "category", c.Category, "channel", c.Channel, "by", by.ID)
	return c, secret, nil
}

// registryMatch is the registry's record of the enterprise with this USCC; EINVALID on uscc
// when the registry does not know it, since a case needs the enterprise's city.
func (s *Server) registryMatch(ctx context.Context, uscc string) (voucherwatch.EnterpriseHit, error) {
	hits, _, err := s.complaints.deps.Registry.SearchEnterprises(ctx, uscc, "")
	if err != nil {
		return voucherwatch.EnterpriseHit{}, err
	}
	for _, h := range hits {
		if h.USCC == uscc && h.City != "" {
			return h, nil
		}
	}
	return voucherwatch.EnterpriseHit{}, voucherwatch.FieldErrorf("uscc", "no enterprise with this code in the registry")
}
