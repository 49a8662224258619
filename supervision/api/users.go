package api

import (
	"net/http"

	"github.com/voucherwatch/voucherwatch"
	"github.com/voucherwatch/voucherwatch/supervision/workflow"
)

// GetMe answers GET /api/v1/me with the user the token belongs to, for clients to show who is
// signed in and what they may do.
func (h *Handler) GetMe(w http.ResponseWriter, r *http.Request, u voucherwatch.User) {
	WriteJSON(w, http.StatusOK, u)
}

// CreateUser answers POST /api/v1/users {"name", "role", "city"?, "login"?, "password"?}
// (province administrators) with 201 {"id", "token", "name", "role", "city"?, "login"?}. The
// token is shown this once; the store keeps only its SHA-256, and of the password only its
// bcrypt hash. A login already used by an enabled user is refused with 409 (field login).
func (h *Handler) CreateUser(w http.ResponseWriter, r *http.Request, u voucherwatch.User) {
	if !u.Role.MayManageUsers() {
		h.Fail(w, voucherwatch.Errorf(voucherwatch.EFORBIDDEN, "only a province administrator manages users"))
		return
	}
	var q workflow.NewUserRequest
	if err := DecodeJSON(w, r, &q); err != nil {
		h.Fail(w, err)
		return
	}
	nu, token, err := h.flow().CreateUser(r.Context(), u, q)
	if err != nil {
		h.Fail(w, err)
		return
	}
	WriteJSON(w, http.StatusCreated, map[string]any{"id": nu.ID, "token": token, "name": nu.Name, "login": nu.Login, "role": nu.Role, "city": nu.City})
}

// passwordRequest is the body of POST /api/v1/users/{id}/password.
type passwordRequest struct {
	Password string `json:"password"`
}

// SetPassword answers POST /api/v1/users/{id}/password {"password"} with 204: a province
// administrator sets anyone's web UI password. Users change their own on the account page,
// which asks for the current one; a bearer token alone must not be enough to take over the
// account's sign-in. Sessions signed in with the old password end (see package ui, session.go).
func (h *Handler) SetPassword(w http.ResponseWriter, r *http.Request, u voucherwatch.User) {
	var q passwordRequest
	if err := DecodeJSON(w, r, &q); err != nil {
		h.Fail(w, err)
		return
	}
	if err := h.flow().SetPassword(r.Context(), u, r.PathValue("id"), q.Password); err != nil {
		h.Fail(w, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// ListUsers answers GET /api/v1/users with {"users": [...]}: everyone for the province and
// auditors; for a city reviewer, the users who can act on its city's alerts (its city's
// reviewers and the province's), whom it may assign alerts to. Only province administrators
// see the logins of others.
func (h *Handler) ListUsers(w http.ResponseWriter, r *http.Request, u voucherwatch.User) {
	all, err := h.Workflow.Users.Users(r.Context())
	if err != nil {
		h.Fail(w, err)
		return
	}
	out := []voucherwatch.User{}
	for _, x := range all {
		if workflow.CityScope(u) == "" || voucherwatch.CheckAssignment(u, u.City, x) == nil {
			// Logins are half of what signs in: only administrators, who manage them, see
			// other users' logins.
			if !u.Role.MayManageUsers() && x.ID != u.ID {
				x.Login = ""
			}
			out = append(out, x)
		}
	}
	WriteJSON(w, http.StatusOK, map[string]any{"users": out})
}

// DisableUser answers POST /api/v1/users/{id}/disable (province administrators) with 204: the
// user's token stops working at once on this instance and within the token cache's TTL on the
// others. Its events stay in the log.
func (h *Handler) DisableUser(w http.ResponseWriter, r *http.Request, u voucherwatch.User) {
	if !u.Role.MayManageUsers() {
		h.Fail(w, voucherwatch.Errorf(voucherwatch.EFORBIDDEN, "only a province administrator manages users"))
		return
	}
	id := r.PathValue("id")
	if err := h.Workflow.Users.DisableUser(r.Context(), id, h.Workflow.Clock()); err != nil {
		h.Fail(w, err)
		return
	}
	if h.UserDisabled != nil {
		h.UserDisabled(id)
	}
	h.Log.Info("supervision: user disabled", "id", id, "by", u.ID)
	w.WriteHeader(http.StatusNoContent)
}
