package ui

import (
	"net/http"

	"github.com/voucherwatch/voucherwatch"
	"github.com/voucherwatch/voucherwatch/supervision/locale"
	"github.com/voucherwatch/voucherwatch/supervision/workflow"
)

// usersPage is the data of the user management page.
type usersPage struct {
	Users  []voucherwatch.User
	Roles  []voucherwatch.Role
	Cities []cityOption
	Form   workflow.NewUserRequest // what was typed, after a failure; never the password
	Token  string                  // the new user's API token, shown once after creation
}

// ShowUsers answers GET /users (province administrators): the users, a form to create one and
// one to set a user's password.
func (h *Handler) ShowUsers(w http.ResponseWriter, r *http.Request, q Request) {
	h.renderUsers(w, r, q, http.StatusOK, "", workflow.NewUserRequest{}, "")
}

func (h *Handler) renderUsers(w http.ResponseWriter, r *http.Request, q Request, status int, errMsg string, form workflow.NewUserRequest, token string) {
	if !q.user.Role.MayManageUsers() {
		h.renderError(w, r, q, http.StatusForbidden, locale.T("error.forbidden"))
		return
	}
	users, err := h.Workflow.Users.Users(r.Context())
	if err != nil {
		h.failPage(w, r, q, err)
		return
	}
	p := usersPage{
		Users: users, Form: form, Token: token,
		Roles: []voucherwatch.Role{voucherwatch.RoleCityReviewer, voucherwatch.RoleProvinceReviewer, voucherwatch.RoleAuditor, voucherwatch.RoleProvinceAdmin},
	}
	p.Form.Password = ""
	for _, code := range sortedCityCodes() {
		p.Cities = append(p.Cities, cityOption{Code: code, Name: voucherwatch.CityName(code)})
	}
	d := h.data(r, q, locale.T("users.title"), "users")
	d.Error = errMsg
	if token != "" {
		d.Flash = locale.T("flash.user")
	}
	d.Page = p
	h.render(w, status, "users", d)
}

// PostUser answers POST /users (name, login, role, city, password): the user is created as
// through the API, and the page shows its API token once.
func (h *Handler) PostUser(w http.ResponseWriter, r *http.Request, q Request) {
	if !q.user.Role.MayManageUsers() {
		h.renderError(w, r, q, http.StatusForbidden, locale.T("error.forbidden"))
		return
	}
	form := workflow.NewUserRequest{
		Name: r.PostFormValue("name"), Login: r.PostFormValue("login"), Role: r.PostFormValue("role"),
		City: r.PostFormValue("city"), Password: r.PostFormValue("password"),
	}
	_, token, err := h.flow().CreateUser(r.Context(), q.user, form)
	if err != nil {
		if voucherwatch.ErrorCode(err) == voucherwatch.EINTERNAL {
			h.failPage(w, r, q, err)
			return
		}
		h.renderUsers(w, r, q, errStatus(err), uiErrorMessage(err), form, "")
		return
	}
	h.renderUsers(w, r, q, http.StatusCreated, "", workflow.NewUserRequest{}, token)
}

// PostUserPassword answers POST /users/{id}/password (password): an administrator sets a
// user's password.
func (h *Handler) PostUserPassword(w http.ResponseWriter, r *http.Request, q Request) {
	err := h.flow().SetPassword(r.Context(), q.user, r.PathValue("id"), r.PostFormValue("password"))
	switch voucherwatch.ErrorCode(err) {
	case "":
		http.Redirect(w, r, "/users?flash=password", http.StatusSeeOther)
	case voucherwatch.EINVALID:
		h.renderUsers(w, r, q, errStatus(err), uiErrorMessage(err), workflow.NewUserRequest{}, "")
	default:
		h.failPage(w, r, q, err)
	}
}

// ShowAccount answers GET /account: the signed-in user changes its own password.
func (h *Handler) ShowAccount(w http.ResponseWriter, r *http.Request, q Request) {
	d := h.data(r, q, locale.T("account.title"), "account")
	h.render(w, http.StatusOK, "account", d)
}

// PostAccountPassword answers POST /account/password (password). The session signed in with
// the old password ends with it, so the user signs in again.
func (h *Handler) PostAccountPassword(w http.ResponseWriter, r *http.Request, q Request) {
	// The current password is asked for, so that a session left open on a shared desk cannot
	// be used to take the account over. Wrong answers count towards the sign-in throttle.
	err := h.checkCurrentPassword(r, q.user)
	if err == nil {
		err = h.flow().SetOwnPassword(r.Context(), q.user, r.PostFormValue("password"))
	}
	switch voucherwatch.ErrorCode(err) {
	case "":
		http.Redirect(w, r, "/login", http.StatusSeeOther)
	case voucherwatch.EINVALID:
		d := h.data(r, q, locale.T("account.title"), "account")
		d.Error = uiErrorMessage(err)
		h.render(w, http.StatusBadRequest, "account", d)
	default:
		h.failPage(w, r, q, err)
	}
}

// checkCurrentPassword checks the form's current password of u: EINVALID on the field
// current when it is wrong or when the login is paused by the throttle.
func (h *Handler) checkCurrentPassword(r *http.Request, u voucherwatch.User) error {
	now := h.Workflow.Clock()
	wrong := voucherwatch.FieldErrorf("current", "the current password is wrong")
	if u.Login == "" || !h.throttle.lockedUntil(u.Login, now).IsZero() {
		return wrong
	}
	_, hash, err := h.Workflow.Users.UserByLogin(r.Context(), u.Login)
	if err != nil {
		return err
	}
	if !workflow.CheckPassword(hash, r.PostFormValue("current")) {
		h.throttle.failed(u.Login, now)
		return wrong
	}
	return nil
}
